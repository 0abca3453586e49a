"""One style for every figure in the book: the page's width, readable type, a colour-blind-safe cycle.

A figure is drawn `PAGE_WIDTH` inches wide at `DPI`, which is about the width of the book's text
column, so 10-point type stays 10 points on the page. Panels stack in rows rather than squeezing
side by side. Each PNG of a `page_figure` carries the size of its smallest legend or tick text in pixels
(`TEXT_SIZE_KEY`), so the book's browser test measures how large that text is on screen at any width.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import seaborn as sns
from cycler import cycler
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PAGE_WIDTH = 7.5  # inches: ~800 px at DPI, the width of the book's text column
DPI = 110
MIN_TEXT_PT = 10  # the book's legend and tick text is never smaller
TEXT_SIZE_KEY = "paperlib:smallest-legend-tick-text-px"  # a PNG text chunk: that size in the PNG's pixels
# seaborn's colour-blind palette, reordered so that neighbours in the cycle never look alike (its orange
# and vermilion are C1 and C8 here)
COLOURS = ("#0173B2", "#DE8F05", "#029E73", "#CC78BC", "#CA9161", "#56B4E9", "#949494", "#ECE133", "#D55E00",
           "#FBAFE4")


def use_book_style() -> None:
    """Seaborn's whitegrid with the book's colour cycle and type sizes."""
    sns.set_theme(context="notebook", style="whitegrid")
    mpl.rcParams.update({
        "figure.dpi": DPI, "savefig.dpi": 150, "figure.figsize": (PAGE_WIDTH, 4.2),
        "axes.prop_cycle": cycler(color=COLOURS), "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11,
        "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 10, "legend.title_fontsize": 10,
        "axes.titleweight": "bold", "legend.frameon": False,
    })


def page_figure(nrows: int = 1, ncols: int = 1, row_height: float = 3.4, **subplots: Any) -> tuple[Figure, Any]:
    """A figure as wide as the page with `nrows` rows of panels, laid out so nothing overlaps
    (legends placed with ``loc="outside ..."`` get room of their own); returns (figure, axes). Saved as PNG
    (as a notebook shows it, or by ``savefig``), it carries its smallest legend or tick text size."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, row_height * nrows), layout="constrained", **subplots)
    if type(fig.canvas) is FigureCanvasAgg:  # the notebook's and the headless backend; never swap an interactive one
        _TextSizeCanvas(fig)
    return fig, axes


def smallest_text_pt(fig: Figure) -> float | None:
    """The smallest font size (points) of the figure's visible tick labels and legend text, or None if it has none."""
    sizes = [label.get_fontsize() for ax in fig.axes if ax.axison for axis in (ax.xaxis, ax.yaxis)
             if axis.get_visible() for label in axis.get_ticklabels(which="both") if label.get_visible()]
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    sizes += [text.get_fontsize() for legend in legends if legend is not None and legend.get_visible()
              for text in [*legend.get_texts(), legend.get_title()] if text.get_text()]
    return min(sizes, default=None)


class _TextSizeCanvas(FigureCanvasAgg):
    """Agg, writing into each PNG its smallest legend or tick text in the PNG's pixels (`TEXT_SIZE_KEY`)."""

    def print_png(self, filename_or_obj: Any, *, metadata: dict[str, str] | None = None,
                  pil_kwargs: dict[str, Any] | None = None, **ignored: Any) -> None:
        # print_figure has already set the figure's dpi to the output's; the other keywords it passes
        # (facecolor, orientation, ...) were applied by it, as for Agg's own print_png
        points = smallest_text_pt(self.figure)
        extra = {} if points is None else {TEXT_SIZE_KEY: f"{points * self.figure.dpi / 72:.2f}"}
        super().print_png(filename_or_obj, metadata={**(metadata or {}), **extra}, pil_kwargs=pil_kwargs)
