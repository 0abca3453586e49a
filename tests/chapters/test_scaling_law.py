"""The scaling-law chapter's pure pieces: the arithmetic, the refit's metrics, γ per fit, and the prose."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from paperlib.book.verdicts import run_record
from paperlib.book.wording import marked_in_myst, recheck_myst
from paperlib.chapters.scaling_law import (METRICS, GammaRow, arithmetic, fits_table, gamma_rows, in_words,
                                           plot_gamma_intervals, refit_metrics, sensitivity_table)
from paperlib.scaling.fit import ChinchillaFit
from paperlib.scaling.published import EPOCH_REFIT, HOFFMANN_ROUNDED

LIKELIHOOD = ChinchillaFit(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.366, objective=0.0, method="Huber likelihood")
GRID = ChinchillaFit(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.367, objective=0.0, method="Huber grid")


def bootstrap_samples(betas):
    samples = np.zeros((len(betas), 5))
    samples[:, 4] = betas
    return samples


def test_the_arithmetic_gives_the_papers_numbers():
    table, metrics = arithmetic()
    assert (metrics["gamma_low"], metrics["gamma_high"]) == pytest.approx((0.44, 0.72))
    assert metrics["gamma_midpoint"] == pytest.approx(0.58)
    assert (round(metrics["doubling_low"], 2), round(metrics["doubling_high"], 2)) == (2.62, 4.83)
    assert table.index[0] == "0.28 (printed)" and len(table) == 2 and metrics["printed_beta"] == 0.28


def test_refit_metrics_carry_percentile_intervals_of_beta_and_gamma():
    m = refit_metrics(LIKELIHOOD, GRID, bootstrap_samples(np.linspace(0.3, 0.4, 201)))
    assert m["refit_gamma_low"] == pytest.approx(1 - 2 * 0.366) and m["n_bootstrap"] == 201
    assert (m["refit_beta.ci_low"], m["refit_beta.ci_high"]) == pytest.approx((0.3025, 0.3975))
    assert (m["refit_gamma_high.ci_low"], m["refit_gamma_high.ci_high"]) == pytest.approx((0.6025, 0.6975))
    assert m["refit_beta_huber_grid"] == 0.367


def test_gamma_per_fit_with_intervals_from_the_interval_of_beta():
    metrics = refit_metrics(LIKELIHOOD, GRID, bootstrap_samples(np.linspace(0.3, 0.4, 201)))
    rows = gamma_rows(LIKELIHOOD, GRID, metrics)
    assert rows[0] == GammaRow(HOFFMANN_ROUNDED.name, 0.28, note="the paper's input")
    ours = next(r for r in rows if r.fit == "ours: Epoch's method")
    assert ours.beta_ci == pytest.approx((0.3025, 0.3975)) and ours.note == "bootstrap, 201 resamples"
    table = sensitivity_table([GammaRow("a", 0.35, (0.3, 0.4)), GammaRow("b", 0.28)]).set_index("fit")
    assert table.loc["a", "γ_low 95 % CI"] == "[0.200, 0.400]"
    assert table.loc["a", "γ_high 95 % CI"] == "[0.600, 0.700]"
    assert table.loc["b", "γ_low 95 % CI"] == "" and table.loc["b", "data multiple to double N"] == "2.62–4.83×"
    assert len(sensitivity_table(rows)) == len(rows)


def test_fits_table_sets_the_refits_beside_epochs():
    table = fits_table(LIKELIHOOD, GRID)
    assert table.loc["Epoch's published estimate", "beta"] == EPOCH_REFIT.beta
    assert table.loc["ours: Huber grid", "beta"] == 0.367


def prose(betas, profile="cpu"):
    _, metrics = arithmetic()
    metrics |= refit_metrics(LIKELIHOOD, GRID, bootstrap_samples(betas))
    record = run_record(METRICS.view(metrics), profile)
    text = in_words(record, gamma_rows(LIKELIHOOD, GRID, metrics), 240)
    assert recheck_myst(text, record) == []
    return text, [(m.keys[0], m.outcome) for m in marked_in_myst(text)]


def test_in_words_decides_every_verdict_and_the_refits_beta_from_the_record():
    refuted, outcomes = prose(np.linspace(0.33, 0.40, 101))
    assert ("gamma_interval", "reproduced") in outcomes and ("gamma_refit", "not reproduced on the refit data") in outcomes
    assert ("refit_beta", "higher") in outcomes  # the bootstrap interval lies above the printed 0.28
    assert "exactly what the reconstruction gives" in refuted and "same 240 runs" in refuted
    assert "becomes [0.268, 0.634]" in refuted and "do not both contain 0.44 and 0.72" in refuted
    held, outcomes = prose(np.linspace(0.2, 0.35, 101))  # γ_low CI [0.30, 0.60] holds 0.44; γ_high CI [0.65, 0.80] 0.72
    assert "still holds within the bootstrap intervals" in held and ("refit_beta", "not separated") in outcomes
    _, outcomes = prose(np.linspace(0.33, 0.40, 101), profile="quick")
    assert ("gamma_interval", "not comparable") in outcomes and ("gamma_refit", "not comparable") in outcomes


def test_the_interval_figure_draws_one_bar_per_fit():
    rows = [GammaRow("a", 0.35, (0.3, 0.4)), GammaRow("b", 0.28)]
    fig = plot_gamma_intervals(rows)
    try:
        assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]
    finally:
        plt.close(fig)
