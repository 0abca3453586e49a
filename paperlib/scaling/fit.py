"""Fitting the Chinchilla form L(N, D) = E + A/N^α + B/D^β to training runs.

Two estimators, both on the log of the loss with the parameterisation of Hoffmann et al. and
Besiroglu et al. (θ = a, b, e, α, β with A = e^a, B = e^b, E = e^e):

* `fit_huber_grid`: Hoffmann's method — the sum of Huber losses (δ = 1e-3) of the residuals of
  log L, minimised by L-BFGS-B from a grid of starts; the best start wins.
* `fit_huber_likelihood`: Epoch's estimate — maximum likelihood under a Huber-shaped error density
  with a fitted scale σ, minimised by BFGS from Hoffmann's unrounded values.
* `fit_huber_least_squares`: the same summed Huber loss as `fit_huber_grid`, minimised from each of the
  given starts by scipy's trust-region robust least squares, which (unlike L-BFGS-B on this nearly-L1
  objective) does not stall at its start, so one start near the optimum suffices for a bootstrap refit.

`bootstrap` refits resamples (with replacement) for confidence intervals.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, minimize
from scipy.special import logsumexp, softmax
from scipy.stats import norm

from paperlib.progress import progress

HUBER_DELTA = 1e-3
# Hoffmann's unrounded estimate as (a, b, e, α, β): Epoch's starting point.
HOFFMANN_THETA = np.array([6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083])
FULL_GRID = {
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0), "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0), "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0), "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
}
COARSE_GRID = {"alpha": (0.0, 0.5), "beta": (0.0, 0.5), "e": (0.0, 1.0), "a": (0.0, 5.0), "b": (5.0, 10.0)}
GRIDS = {"full": FULL_GRID, "coarse": COARSE_GRID}


@dataclass(frozen=True)
class ChinchillaFit:
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    objective: float
    method: str

    @classmethod
    def from_theta(cls, theta: np.ndarray, objective: float, method: str) -> "ChinchillaFit":
        a, b, e, alpha, beta = theta[:5]
        return cls(E=float(np.exp(e)), A=float(np.exp(a)), B=float(np.exp(b)),
                   alpha=float(alpha), beta=float(beta), objective=float(objective), method=method)

    @property
    def theta(self) -> np.ndarray:
        return np.array([np.log(self.A), np.log(self.B), np.log(self.E), self.alpha, self.beta])

    def loss(self, N: np.ndarray, D: np.ndarray) -> np.ndarray:
        """Predicted loss E + A/N^α + B/D^β."""
        return self.E + self.A / np.power(N, self.alpha) + self.B / np.power(D, self.beta)


def _terms(theta: np.ndarray, log_N: np.ndarray, log_D: np.ndarray) -> np.ndarray:
    a, b, e, alpha, beta = theta[:5]
    return np.stack([a - alpha * log_N, b - beta * log_D, np.full_like(log_N, e)])


def _residuals_and_jacobian(theta, log_N, log_D, log_L):
    """Residuals of log loss and d(residual)/dθ for θ = (a, b, e, α, β)."""
    terms = _terms(theta, log_N, log_D)
    weights = softmax(terms, axis=0)
    residuals = logsumexp(terms, axis=0) - log_L
    jacobian = np.stack([weights[0], weights[1], weights[2], -weights[0] * log_N, -weights[1] * log_D], axis=1)
    return residuals, jacobian


def huber(r: np.ndarray, delta: float = HUBER_DELTA) -> np.ndarray:
    absolute = np.abs(r)
    return np.where(absolute <= delta, 0.5 * r ** 2, delta * (absolute - 0.5 * delta))


def huber_objective(theta: np.ndarray, log_N, log_D, log_L, delta: float = HUBER_DELTA):
    """Sum of Huber losses of the log-loss residuals, and its gradient."""
    residuals, jacobian = _residuals_and_jacobian(theta, log_N, log_D, log_L)
    return huber(residuals, delta).sum(), np.clip(residuals, -delta, delta) @ jacobian


def huber_log_normaliser(delta: float = HUBER_DELTA) -> float:
    """ln ∫ exp(−ρ_δ(u)) du = ln(√(2π)(1 − 2Φ(−δ)) + 2 e^(−δ²/2)/δ)."""
    return float(np.log(np.sqrt(2 * np.pi) * (1 - 2 * norm.sf(delta)) + 2 * np.exp(-delta ** 2 / 2) / delta))


def huber_negative_log_likelihood(params: np.ndarray, log_N, log_D, log_L, delta: float = HUBER_DELTA):
    """NLL of the residuals under the density exp(−ρ_δ(r/σ))/(σ Z_δ); params = (a, b, e, α, β, ln σ)."""
    log_sigma = params[5]
    sigma = np.exp(log_sigma)
    residuals, jacobian = _residuals_and_jacobian(params, log_N, log_D, log_L)
    scaled = residuals / sigma
    psi = np.clip(scaled, -delta, delta)
    value = huber(scaled, delta).sum() + len(residuals) * (log_sigma + huber_log_normaliser(delta))
    gradient = np.append(psi @ jacobian / sigma, len(residuals) - psi @ scaled)
    return value, gradient


def _log_data(N, D, loss):
    return np.log(N), np.log(D), np.log(loss)


def fit_huber_grid(N: np.ndarray, D: np.ndarray, loss: np.ndarray, grid: str = "full",
                   delta: float = HUBER_DELTA, show_progress: bool = True) -> ChinchillaFit:
    """Hoffmann's method: multi-start L-BFGS-B on the summed Huber loss; keep the best start."""
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {sorted(GRIDS)}; got {grid!r}")
    data = _log_data(N, D, loss)
    starts = start_grid(GRIDS[grid])
    best = None
    iterator = progress(starts, desc=f"L-BFGS-B from {len(starts)} starts") if show_progress else starts
    for start in iterator:
        result = minimize(huber_objective, start, args=(*data, delta), jac=True, method="L-BFGS-B")
        if best is None or result.fun < best.fun:
            best = result
    return ChinchillaFit.from_theta(best.x, best.fun, f"Huber loss, L-BFGS-B, {len(starts)} starts")


def start_grid(spec: Mapping[str, Sequence[float]]) -> list[np.ndarray]:
    """Every combination of the values of ``alpha``, ``beta``, ``e``, ``a`` and ``b`` as θ = (a, b, e, α, β)."""
    return [np.array([a, b, e, alpha, beta]) for alpha, beta, e, a, b in
            itertools.product(spec["alpha"], spec["beta"], spec["e"], spec["a"], spec["b"])]


def huber_least_squares(residuals: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], starts: Sequence[np.ndarray],
                        delta: float = HUBER_DELTA, bounds: tuple = (-np.inf, np.inf)) -> tuple[np.ndarray, float]:
    """The θ that minimises Σ Huber_δ(r(θ)) (`residuals` gives r and dr/dθ) by scipy's trust-region robust least
    squares from each start, and its objective; the best start wins."""
    best: tuple[np.ndarray, float] | None = None
    for start in starts:
        result = least_squares(lambda theta: residuals(theta)[0], start, jac=lambda theta: residuals(theta)[1],
                               loss="huber", f_scale=delta, bounds=bounds, method="trf")
        objective = float(huber(residuals(result.x)[0], delta).sum())
        if best is None or objective < best[1]:
            best = (result.x, objective)
    if best is None:
        raise ValueError("no start given")
    return best


def fit_huber_least_squares(N: np.ndarray, D: np.ndarray, loss: np.ndarray, starts: Sequence[np.ndarray],
                            delta: float = HUBER_DELTA) -> ChinchillaFit:
    """The summed Huber loss on log L, minimised by robust least squares from each start; the best wins."""
    data = _log_data(N, D, loss)
    theta, objective = huber_least_squares(lambda t: _residuals_and_jacobian(t, *data), starts, delta)
    return ChinchillaFit.from_theta(theta, objective, f"Huber loss, trust-region least squares, {len(starts)} starts")


NO_E = -50.0  # ln E of a fit without an irreducible term: E = e^-50 ≈ 2e-22, held there by its bounds


def fit_huber_without_E(N: np.ndarray, D: np.ndarray, loss: np.ndarray, starts: Sequence[np.ndarray],
                        delta: float = HUBER_DELTA) -> ChinchillaFit:
    """L = A/N^α + B/D^β (no irreducible term), by the same summed Huber loss on log L as
    `fit_huber_least_squares`, with ln E held at `NO_E` (each start's ln E is replaced, and starts that then
    coincide are tried once)."""
    data = _log_data(N, D, loss)
    lower = np.array([-np.inf, -np.inf, NO_E, -np.inf, -np.inf])
    upper = np.array([np.inf, np.inf, NO_E + 1e-9, np.inf, np.inf])
    held = [np.array(t) for t in dict.fromkeys((s[0], s[1], NO_E + 5e-10, s[3], s[4]) for s in starts)]
    theta, objective = huber_least_squares(lambda t: _residuals_and_jacobian(t, *data), held, delta, (lower, upper))
    return ChinchillaFit.from_theta(theta, objective, f"Huber loss without E, trust-region least squares, "
                                                      f"{len(held)} starts")


def fit_huber_likelihood(N: np.ndarray, D: np.ndarray, loss: np.ndarray, start: np.ndarray = HOFFMANN_THETA,
                         delta: float = HUBER_DELTA) -> ChinchillaFit:
    """Epoch's estimate: Huber-density maximum likelihood with a fitted scale, BFGS from ``start``."""
    data = _log_data(N, D, loss)
    residuals, _ = _residuals_and_jacobian(start, *data)
    params = np.append(start[:5], np.log(np.std(residuals)))
    result = minimize(huber_negative_log_likelihood, params, args=(*data, delta), jac=True, method="BFGS")
    return ChinchillaFit.from_theta(result.x, result.fun, "Huber likelihood, BFGS")


def bootstrap(N: np.ndarray, D: np.ndarray, loss: np.ndarray, n_resamples: int, seed: int,
              start: np.ndarray = HOFFMANN_THETA) -> np.ndarray:
    """Epoch's bootstrap: refit resamples (with replacement) by `fit_huber_likelihood` from ``start``.

    Returns an array (n_resamples, 5) of E, A, B, α, β. (Restarting the summed-Huber fit from one
    point is not used: with δ = 1e-3 the objective is nearly L1 and L-BFGS-B stalls at its start.)
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    rng = np.random.default_rng(seed)
    estimates = np.empty((n_resamples, 5))
    for i in progress(range(n_resamples), desc="bootstrap refits"):
        idx = rng.integers(0, len(loss), len(loss))
        fit = fit_huber_likelihood(N[idx], D[idx], loss[idx], start=start)
        estimates[i] = (fit.E, fit.A, fit.B, fit.alpha, fit.beta)
    return estimates
