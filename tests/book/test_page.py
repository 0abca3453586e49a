"""What a notebook puts on its page: glued metrics, its departures from the paper, the configuration words, tables
that fit."""

import math

import myst_nb
import pytest

from paperlib.book.page import configuration_words, deviations, glue_metrics, wrapping

PAPER = {"side": 32, "lr": 0.0005, "steps": 80000}


def test_deviations_list_only_the_changed_settings_in_order():
    assert deviations(PAPER, PAPER) == ""
    assert deviations({"steps": 300, "lr": 0.0005, "side": 8}, PAPER) == "steps 300 (paper 80000), side 8 (paper 32)"
    assert deviations({"side": 8}, PAPER) == "side 8 (paper 32)"  # a subset is compared as given


def test_deviations_refuse_a_setting_without_a_paper_value():
    with pytest.raises(KeyError, match="batch"):
        deviations({"side": 32, "batch": 8}, PAPER)


def test_configuration_words():
    assert configuration_words("", "the Note's") == "the Note's configuration"
    assert configuration_words("side 8 (paper 32)", "the Note's") == "scaled down from the Note's: side 8 (paper 32)"


@pytest.fixture
def glued(monkeypatch):
    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: calls.append((name, value, display)))
    return calls


def test_glue_metrics_glues_each_metric_as_a_plain_float_under_its_name(glued):
    glue_metrics({"acc": 0.5, "n": 3, "acc.ci_low": None})
    assert [(name, display) for name, _, display in glued] == [("acc", False), ("n", False), ("acc.ci_low", False)]
    assert [type(value) for _, value, _ in glued] == [float, float, float]
    assert glued[0][1] == 0.5 and glued[1][1] == 3.0 and math.isnan(glued[2][1])


def test_glue_metrics_glues_only_the_keys_asked_for(glued):
    glue_metrics({"acc": 0.5, "n": 3}, keys=["n"])
    assert glued == [("n", 3.0, False)]
    with pytest.raises(KeyError):
        glue_metrics({"acc": 0.5}, keys=["missing"])


def test_wrapping_lets_row_labels_and_text_columns_wrap_and_nothing_else():
    import pandas as pd

    table = pd.DataFrame({"acc": [0.5], "note": ["a long note"]}, index=["a long model name"])
    html = wrapping(table.style.format({"acc": "{:.2f}"}), table.columns[1:], width_em=7).to_html()
    assert "th.row_heading {\n  white-space: normal;\n  min-width: 7em;" in html
    assert "td.col1 {\n  white-space: normal;" in html and "td.col0" not in html  # the number stays on one line
    assert "td." not in wrapping(table.style).to_html()
