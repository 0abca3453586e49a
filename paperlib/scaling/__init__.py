"""Scaling laws: the Chinchilla form and its fits, published constants, and Kausik's γ interval."""
