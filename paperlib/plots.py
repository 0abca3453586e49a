"""One style for every figure in the book: the page's width, readable type, a colour-blind-safe cycle.

A figure is drawn `PAGE_WIDTH` inches wide at `DPI`, which is about the width of the book's text
column, so 10-point type stays 10 points on the page. Panels stack in rows rather than squeezing
side by side.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import seaborn as sns
from cycler import cycler
from matplotlib.figure import Figure

PAGE_WIDTH = 7.5  # inches: ~800 px at DPI, the width of the book's text column
DPI = 110
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
    (legends placed with ``loc="outside ..."`` get room of their own); returns (figure, axes)."""
    return plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, row_height * nrows), layout="constrained", **subplots)
