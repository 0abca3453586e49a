"""Published scaling-law constants, each with its source. Nothing here is measured by us."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedFit:
    """L(N, D) = E + A/N^α + B/D^β (E may be absent for Kaplan's form)."""

    name: str
    source: str
    beta: float
    E: float | None = None
    A: float | None = None
    B: float | None = None
    alpha: float | None = None
    beta_ci: tuple[float, float] | None = None  # published 95 % CI
    note: str = ""


HOFFMANN_ROUNDED = PublishedFit(
    "Hoffmann 2022, rounded", "Hoffmann et al. 2022 (arXiv 2203.15556), Approach 3, as printed",
    beta=0.28, E=1.69, A=406.4, B=410.7, alpha=0.34, note="the values Kausik's interval uses")
HOFFMANN_UNROUNDED = PublishedFit(
    "Hoffmann 2022, unrounded", "Chinchilla TeX source, as used in Epoch's notebook",
    beta=0.2849083, E=1.69337, A=406.401, B=410.723, alpha=0.33917084)
EPOCH_REFIT = PublishedFit(
    "Besiroglu 2024 (Epoch refit)", "Besiroglu et al. 2024 (arXiv 2404.10102), Huber likelihood",
    beta=0.36585, E=1.81686, A=482.006, B=2085.434, alpha=0.34781, beta_ci=(0.331, 0.415))
MUENNIGHOFF = PublishedFit(
    "Muennighoff 2023", "Muennighoff et al. 2023 (arXiv 2305.16264), data-constrained fit",
    beta=0.3526596, E=1.869, A=520.8, B=1487.7, alpha=0.3526596)
KAPLAN_LD = PublishedFit(
    "Kaplan 2020, L(D)", "Kaplan et al. 2020 (arXiv 2001.08361), L(D) = (D_c/D)^0.095",
    beta=0.095, note="no irreducible term E; not strictly comparable")
KAPLAN_JOINT = PublishedFit(
    "Kaplan 2020, joint L(N, D)", "Kaplan et al. 2020, joint fit, α_D = 0.103",
    beta=0.103, note="constants seen in one secondary copy only; no E term")

PUBLISHED_FITS = (HOFFMANN_ROUNDED, HOFFMANN_UNROUNDED, EPOCH_REFIT, MUENNIGHOFF, KAPLAN_LD, KAPLAN_JOINT)


@dataclass(frozen=True)
class ComputeOptimal:
    """N_opt ∝ D_opt^x with x = a/b (N_opt ∝ C^a, D_opt ∝ C^b): a different quantity from γ."""

    source: str
    x: float
    how: str


COMPUTE_OPTIMAL = (
    ComputeOptimal("Kaplan 2020, single-variable laws", 2.70, "a = 0.73, b = 0.27"),
    ComputeOptimal("Kaplan 2020, joint fit", 1.35, "from D ∝ N^0.74"),
    ComputeOptimal("Chinchilla, Approach 1", 1.00, "a = 0.50, b = 0.50"),
    ComputeOptimal("Chinchilla, Approach 2", 0.96, "a = 0.49, b = 0.51"),
    ComputeOptimal("Chinchilla, Approach 3", 0.82, "β/α with the rounded constants (0.84 unrounded)"),
    ComputeOptimal("Besiroglu 2024 (Epoch)", 1.05, "a = 0.513, b = 0.487"),
    ComputeOptimal("Muennighoff 2023", 1.00, "α = β"),
    ComputeOptimal("DeepSeek LLM 2024", 1.10, "a = 0.5243, b = 0.4757"),
    ComputeOptimal("Porian et al. 2024", 1.00, "Kaplan's law with three causes removed (≈)"),
)
