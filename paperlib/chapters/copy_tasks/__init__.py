"""Chapter 'Copy and selective copy': the paper's model over seeds and its baselines over the same seeds, trained on
fresh batches under the author's length curriculum, every model of a task compared by one scoring rule.

Every model sees fresh batches from `paperlib.data.synthetic` at the length a `Curriculum` sets (methods
page, copy data and curriculum), is validated on fresh batches seeded by its seed and the step (so every model of
a seed meets the same ones) and can be checkpointed and resumed. Models by role:

    recurrent  the paper's model: alpha learnable (copy) or fixed at 0.5 (selective copy)
    forget     the same with alpha = 0, the ablation
    regular    a one-layer full-attention transformer of the same width
    rnn_total  a GRU or LSTM with the paper model's parameters (508,705)
    rnn_dense  one with its parameters outside the position table (112,417)

One scoring rule compares them (`train.ScoreAtStep`): every model of a task, each seed, is scored on the final
evaluation's fresh batches at the first length right after the task's `compare_steps`, and a comparison reads
the models' intervals over seeds. The paper's model ends at its limit by the end rules of `plan.Rules`;
regular and the RNNs train exactly the comparison's steps; forget trains as many steps as its seed's paper model
took to reach its final length (at least the comparison's).

The parts, each with one job: `metrics` (names, thresholds, the declared metrics), `models` (the models by role
and how one is scored), `plan` (the run plan, the `Rules` every run's spec is built from, and its expected
schedule, which `--plan` and the page's forecast read), `train` (training every run through `fit` in dependency
order), `steps` (what a step costs), `start_pilot` (the pilot that chose the start), `record` (the metrics from the
trained runs), `tables` (tables and figures) and `words` (the prose decided from the record).
"""

from paperlib.chapters.copy_tasks.metrics import CLAIM_TASKS, MEASURED, METRICS, PILOT_FILE, key
from paperlib.chapters.copy_tasks.models import make_model, model_config
from paperlib.chapters.copy_tasks.plan import doublings, expected_schedule, load_pilot, run_plan, runs
from paperlib.chapters.copy_tasks.record import claims_not_run, not_comparable_reasons, results
from paperlib.chapters.copy_tasks.start_pilot import pilot
from paperlib.chapters.copy_tasks.steps import (measured_once, read_measured, step_benchmark, step_breakdown,
                                                step_clock, step_seconds, step_variants)
from paperlib.chapters.copy_tasks.tables import (comparison_table, deviations, ending, length_log, pass_table,
                                                 plot_alpha, plot_by_length, plot_comparison, plot_curves,
                                                 seed_table, size_table)
from paperlib.chapters.copy_tasks.train import settings_from, train_all
from paperlib.chapters.copy_tasks.words import (accounting_words, comparison_words, own_length_words,
                                                results_words, scaled_down_words, speed_words, this_run_words,
                                                validation_words)

__all__ = ["CLAIM_TASKS", "MEASURED", "METRICS", "PILOT_FILE", "accounting_words", "claims_not_run", "comparison_table",
           "comparison_words", "deviations", "doublings", "ending", "expected_schedule", "key", "length_log",
           "load_pilot", "make_model", "measured_once", "model_config", "not_comparable_reasons", "own_length_words",
           "pass_table", "pilot", "plot_alpha", "plot_by_length", "plot_comparison", "plot_curves", "read_measured",
           "results", "results_words", "run_plan", "runs", "scaled_down_words", "seed_table", "settings_from",
           "size_table", "speed_words", "step_benchmark", "step_breakdown", "step_clock", "step_seconds", "step_variants",
           "this_run_words", "train_all", "validation_words"]
