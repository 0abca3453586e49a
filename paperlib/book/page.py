"""What a notebook puts on its page besides figures: its numbers for the prose, how its configuration
departs from the paper's, and tables that fit the text column."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler


def glue_metrics(metrics: Mapping[str, float | None], keys: Iterable[str] | None = None) -> None:
    """Glue each metric (every one by default) under its own name as a plain float, so the prose cites
    ``{glue:text}`name:.3f``` or, for a fraction, ``{glue:text}`name:.2%```; None becomes NaN. Metrics kept
    through a chapter's declaration (`paperlib.book.metrics`) are read through it: an undeclared name raises."""
    from myst_nb import glue

    for key in metrics if keys is None else keys:
        value = metrics[key]
        glue(key, float("nan") if value is None else float(value), display=False)


def deviations(ours: Mapping[str, Any], paper: Mapping[str, Any]) -> str:
    """"name value (paper value), ..." for each setting that differs from the paper's; "" if none does."""
    unknown = sorted(set(ours) - set(paper))
    if unknown:
        raise KeyError(f"no paper value for {unknown}")
    return ", ".join(f"{name} {value} (paper {paper[name]})" for name, value in ours.items() if value != paper[name])


def configuration_words(scaled_down: str, source: str) -> str:
    """'scaled down from the Note's: …' or 'the Note's configuration' (`source` names the paper's table)."""
    return f"scaled down from {source}: {scaled_down}" if scaled_down else f"{source} configuration"


def wrapping(styler: Styler, columns: Sequence[str] = (), width_em: float = 12) -> Styler:
    """`styler` whose row labels, and the text `columns`, wrap at about `width_em` instead of widening the table (the
    book keeps a table's cells on one line), so a table with long model names fits the text column."""
    props = f"white-space: normal; min-width: {width_em}em;"
    styler = styler.set_table_styles([{"selector": "th.row_heading", "props": props}], overwrite=False)
    columns = list(columns)
    return styler.set_table_styles({column: [{"selector": "td", "props": props}] for column in columns},
                                   overwrite=False) if columns else styler
