"""Declared metrics: patterns with the values of their fields, intervals, and the mapping that refuses what its
chapter does not declare."""

import pytest

from paperlib.book.metrics import Declaration, DeclaredMetrics, Metric, UndeclaredMetric

DECLARED = Declaration("toy", [
    Metric("val_loss_{model}", "nats/char", "best validation loss", ci=True),
    Metric("val_loss_at_budget_{model}", "nats/char", "loss at the budget"),
    Metric("val_loss_ngram{order}", "nats/char", "n-gram loss"),
    Metric("headline", "fraction", "the number", headline=True),
], fields={"model": ["regular_1", "recurrent_pos"], "order": r"[1-9]"})


def test_patterns_declare_their_fields_values_and_intervals_only():
    assert DECLARED.metric("val_loss_regular_1").pattern == "val_loss_{model}"
    assert DECLARED.metric("val_loss_regular_1.ci_high").pattern == "val_loss_{model}"
    assert DECLARED.metric("val_loss_at_budget_regular_1").pattern == "val_loss_at_budget_{model}"
    assert DECLARED.metric("val_loss_ngram5").unit == "nats/char"
    assert DECLARED.undeclared(["val_loss_regular_2", "val_loss_at_budget_regular_1.ci_low", "val_loss_ngram12",
                                "headline.ci_low", "headline"]) == ["headline.ci_low", "val_loss_at_budget_regular_1.ci_low",
                                                                    "val_loss_ngram12", "val_loss_regular_2"]
    assert [m.pattern for m in DECLARED.headline] == ["headline"]


def test_a_declaration_gives_values_for_exactly_the_fields_its_patterns_use():
    with pytest.raises(ValueError, match="fields"):
        Declaration("toy", [Metric("acc_{model}", "fraction", "")], fields={})
    with pytest.raises(ValueError, match="twice"):
        Declaration("toy", [Metric("acc", "fraction", ""), Metric("acc", "fraction", "")])


def test_the_chapters_metrics_refuse_to_store_or_read_an_undeclared_name():
    metrics = DECLARED.new()
    metrics["val_loss_regular_1"] = 1.5
    metrics.update({"val_loss_regular_1.ci_low": 1.4})
    metrics |= {"headline": 0.5}
    assert dict(metrics) == {"val_loss_regular_1": 1.5, "val_loss_regular_1.ci_low": 1.4, "headline": 0.5}
    with pytest.raises(UndeclaredMetric, match="toy does not declare the metric.*val_loss_regular_2"):
        metrics["val_loss_regular_2"] = 1.0
    assert metrics.get("val_loss_recurrent_pos", 9.0) == 9.0  # declared but absent: the default
    with pytest.raises(KeyError):
        metrics["val_loss_recurrent_pos"]
    for read in (lambda: metrics.get("typo"), lambda: "typo" in metrics, lambda: metrics["typo"]):
        with pytest.raises(UndeclaredMetric):
            read()
    changed = metrics | {"headline": 0.7}
    assert changed["headline"] == 0.7 and metrics["headline"] == 0.5, "| makes a new mapping"
    with pytest.raises(UndeclaredMetric):
        metrics | {"typo": 1.0}


def test_a_view_reads_a_record_through_the_declaration_without_copying_it():
    record = {"headline": 0.5, "stale_name": 1.0}
    view = DECLARED.view(record)
    assert isinstance(view, DeclaredMetrics) and view["headline"] == 0.5 and len(view) == 2
    assert DECLARED.view(view) is view
    with pytest.raises(UndeclaredMetric, match="stale_name"):
        view["stale_name"]
