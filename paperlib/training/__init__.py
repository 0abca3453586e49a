"""Training: the loop and its state, the optimizer, device set-up, batches, losses, evaluation,
callbacks, the copy curriculum, checkpoints and named resumable runs."""
