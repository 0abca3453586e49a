"""The Chinchilla refit recovers Epoch's published estimates on the same 240 points.

Tolerances: the likelihood fit uses Epoch's method and starting point on the same data, so it
should agree to optimiser precision (we allow 1e-3 relative on A and B, 1e-4 absolute on the
exponents). Hoffmann's grid method with the coarse grid must land within 1e-3 of Epoch's
0.36718: the objective is nearly flat (Huber with δ = 1e-3), so the start matters slightly.
"""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from paperlib.data.chinchilla import load_chinchilla
from paperlib.scaling.fit import (COARSE_GRID, HOFFMANN_THETA, bootstrap, fit_huber_grid, fit_huber_least_squares,
                                  fit_huber_likelihood, huber_negative_log_likelihood, huber_objective, start_grid)
from paperlib.scaling.gamma import gamma_ci


@pytest.fixture(scope="module")
def points():
    return load_chinchilla()


def test_epoch_likelihood_estimate_is_recovered(points):
    fit = fit_huber_likelihood(points.N, points.D, points.loss)
    assert fit.A == pytest.approx(482.006, rel=1e-3)
    assert fit.B == pytest.approx(2085.434, rel=1e-3)
    assert fit.E == pytest.approx(1.81686, abs=1e-4)
    assert fit.alpha == pytest.approx(0.34781, abs=1e-4)
    assert fit.beta == pytest.approx(0.36585, abs=1e-4)


def test_hoffmann_method_on_the_coarse_grid(points):
    fit = fit_huber_grid(points.N, points.D, points.loss, grid="coarse", show_progress=False)
    assert fit.beta == pytest.approx(0.36718, abs=1e-3)
    assert fit.E == pytest.approx(1.8172, abs=2e-3)


def test_unknown_grid_is_refused(points):
    with pytest.raises(ValueError, match="grid"):
        fit_huber_grid(points.N, points.D, points.loss, grid="dense")


def test_analytic_gradients_match_finite_differences(points):
    data = (np.log(points.N), np.log(points.D), np.log(points.loss))
    theta = HOFFMANN_THETA + 0.01
    _, grad = huber_objective(theta, *data)
    numeric = approx_fprime(theta, lambda t: huber_objective(t, *data)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-5)
    params = np.append(theta, np.log(0.05))
    _, grad = huber_negative_log_likelihood(params, *data)
    numeric = approx_fprime(params, lambda p: huber_negative_log_likelihood(p, *data)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-3)


def test_bootstrap_is_seeded_and_brackets_the_estimate(points):
    first = bootstrap(points.N, points.D, points.loss, n_resamples=8, seed=3)
    again = bootstrap(points.N, points.D, points.loss, n_resamples=8, seed=3)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (8, 5)
    assert 0.3 < first[:, 4].mean() < 0.43
    intervals = gamma_ci(first[:, 4])
    assert intervals["gamma_low"][0] < intervals["gamma_low"][1]
    assert intervals["gamma_high"][0] == pytest.approx(1 - intervals["beta"][1])


def additive_law_losses(noise: float, seed: int = 0):
    """Losses of E + A·N^−α + B·D^−β (E 1.2, A 56, B 40, α 0.5, β 0.3) on an 8 × 6 grid, with log-normal noise."""
    N, D = (a.ravel() for a in np.meshgrid(6000 * 1.5 ** np.arange(8), 15625 * 2.0 ** np.arange(6)))
    loss = (1.2 + 56 * N ** -0.5 + 40 * D ** -0.3) * np.exp(np.random.default_rng(seed).normal(0, noise, N.size))
    return N, D, loss


def test_least_squares_huber_fit_recovers_the_additive_law_from_noisy_losses():
    fit = fit_huber_least_squares(*additive_law_losses(0.002), start_grid(COARSE_GRID))
    assert (fit.alpha, fit.beta) == pytest.approx((0.5, 0.3), abs=0.05) and fit.E == pytest.approx(1.2, abs=0.1)
    exact = fit_huber_least_squares(*additive_law_losses(0.0), start_grid(COARSE_GRID))
    assert (exact.alpha, exact.beta, exact.E, exact.A, exact.B) == pytest.approx((0.5, 0.3, 1.2, 56, 40), rel=1e-3)


def test_least_squares_reaches_hoffmanns_method_on_the_chinchilla_points_and_refits_from_one_start(points):
    ours = fit_huber_least_squares(points.N, points.D, points.loss, start_grid(COARSE_GRID))
    assert ours.beta == pytest.approx(0.36718, abs=1e-3) and ours.E == pytest.approx(1.8172, abs=2e-3)
    idx = np.random.default_rng(1).integers(0, len(points.loss), len(points.loss))
    one = fit_huber_least_squares(points.N[idx], points.D[idx], points.loss[idx], [ours.theta])
    many = fit_huber_least_squares(points.N[idx], points.D[idx], points.loss[idx], start_grid(COARSE_GRID))
    assert one.objective == pytest.approx(many.objective, rel=1e-3), "a bootstrap refit does not stall at its start"
    with pytest.raises(ValueError, match="no start"):
        fit_huber_least_squares(points.N, points.D, points.loss, [])
