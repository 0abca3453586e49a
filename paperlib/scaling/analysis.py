"""Tables behind the scaling-law chapter: γ per fit, with bootstrap intervals where we have samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from paperlib.scaling.fit import percentile_interval
from paperlib.scaling.gamma import gamma_interval


@dataclass(frozen=True)
class GammaRow:
    """One fit's β and how its uncertainty is known (bootstrap samples or a published CI)."""

    fit: str
    beta: float
    beta_ci: tuple[float, float] | None = None
    note: str = ""


def gamma_ci(beta_samples: np.ndarray, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile intervals of β, γ_low = 1 − 2β and γ_high = 1 − β from bootstrap β samples."""
    beta_samples = np.asarray(beta_samples, dtype=float)
    return {
        "beta": percentile_interval(beta_samples, level),
        "gamma_low": percentile_interval(1 - 2 * beta_samples, level),
        "gamma_high": percentile_interval(1 - beta_samples, level),
    }


def sensitivity_table(rows: Sequence[GammaRow]) -> pd.DataFrame:
    """γ interval, midpoint and doubling multiples per fit; CIs of γ follow from the CI of β."""
    table = []
    for row in rows:
        interval = gamma_interval(row.beta)
        low_multiple, high_multiple = interval.doubling_multiples
        entry = {
            "fit": row.fit, "β": row.beta, "γ_low = 1−2β": interval.low, "γ_high = 1−β": interval.high,
            "midpoint": interval.midpoint, "data multiple to double N": f"{low_multiple:.2f}–{high_multiple:.2f}×",
            "γ_low 95 % CI": "", "γ_high 95 % CI": "", "note": row.note,
        }
        if row.beta_ci is not None:
            b_low, b_high = row.beta_ci
            entry["γ_low 95 % CI"] = f"[{1 - 2 * b_high:.3f}, {1 - 2 * b_low:.3f}]"
            entry["γ_high 95 % CI"] = f"[{1 - b_high:.3f}, {1 - b_low:.3f}]"
        table.append(entry)
    return pd.DataFrame(table)
