"""The efficient-LLM exponent γ of N ∝ D^γ, as reconstructed from a fit's data exponent β.

Reconstruction (not the paper's text; see the chapter): with KL_emp ≈ B·D^(−β) equated to the
realizable (fast, d/D) and agnostic (slow, √(d/D)) learning rates and N ∝ d,
γ_high = 1 − β (fast rate) and γ_low = 1 − 2β (slow rate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paperlib.stats import percentile_interval


@dataclass(frozen=True)
class GammaInterval:
    beta: float
    low: float
    high: float

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2

    @property
    def doubling_multiples(self) -> tuple[float, float]:
        """Corpus multiple that doubles N (or the skills): 2^(1/γ_high) to 2^(1/γ_low)."""
        return doubling_multiple(self.high), doubling_multiple(self.low)


def gamma_interval(beta: float) -> GammaInterval:
    """γ ∈ [1 − 2β, 1 − β] for a data exponent β in (0, 0.5)."""
    if not 0 < beta < 0.5:
        raise ValueError(f"beta must lie in (0, 0.5) for a positive γ_low; got {beta}")
    return GammaInterval(beta=beta, low=1 - 2 * beta, high=1 - beta)


def doubling_multiple(gamma: float) -> float:
    """How many times more data doubles N when N ∝ D^γ: 2^(1/γ)."""
    if gamma <= 0:
        raise ValueError(f"gamma must be positive; got {gamma}")
    return 2 ** (1 / gamma)


def gamma_ci(beta_samples: np.ndarray, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile intervals of β, γ_low = 1 − 2β and γ_high = 1 − β from bootstrap β samples."""
    beta_samples = np.asarray(beta_samples, dtype=float)
    return {
        "beta": percentile_interval(beta_samples, level),
        "gamma_low": percentile_interval(1 - 2 * beta_samples, level),
        "gamma_high": percentile_interval(1 - beta_samples, level),
    }
