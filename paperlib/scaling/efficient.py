"""The first size of a ladder whose loss meets a threshold, interpolated in log N between the two sizes around it,
or censored at an end of the ladder: how `paperlib.scaling.knee` places N* (methods page, measuring γ).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Crossing:
    """N* at one corpus size: found (interpolated between rungs ``pair``), or censored "below" the smallest
    rung (it already meets the threshold) or "above" the largest (none does); `size` is N* or the bound."""

    status: Literal["found", "below", "above"]
    size: float
    pair: tuple[int, ...] = ()  # the rungs that define N*: the last one missing and the first one meeting it


def first_crossing(sizes: Sequence[float], losses: Sequence[float], threshold: float) -> Crossing:
    """The first size (ascending) whose loss is at most `threshold`, interpolated linearly in log N between it
    and the size before (against the loss); censored at an end of the ladder when no pair straddles it."""
    if len(sizes) != len(losses) or not len(sizes) or any(a >= b for a, b in zip(sizes, sizes[1:])):
        raise ValueError("sizes must be increasing and as many as the losses")
    meets = [k for k, value in enumerate(losses) if value <= threshold]
    if not meets:
        return Crossing("above", float(sizes[-1]))
    k = meets[0]
    if k == 0:
        return Crossing("below", float(sizes[0]), (0,))
    return Crossing("found", interpolate_size(sizes, {k - 1: losses[k - 1], k: losses[k]}, threshold, k), (k - 1, k))


def interpolate_size(sizes: Sequence[float], losses: dict[int, float], target: float, boundary: int) -> float:
    """N* between the last failing rung (boundary - 1) and the first passing one, where the loss, taken as
    linear in log N between them, meets `target`."""
    if boundary < 1:
        raise ValueError("the smallest rung passes: N* is only known to be at most its size")
    above, below = losses[boundary - 1], losses[boundary]
    if not above > target >= below:
        raise ValueError(f"the losses {above}, {below} do not straddle the target {target}")
    fraction = (above - target) / (above - below)
    low, high = math.log(sizes[boundary - 1]), math.log(sizes[boundary])
    return float(math.exp(low + fraction * (high - low)))
