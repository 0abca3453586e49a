"""One style for every figure in the book."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

PALETTE = "colorblind"


def use_book_style() -> None:
    """Seaborn's whitegrid with the colour-blind palette, at a size that reads well in the book."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    mpl.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "figure.figsize": (7.5, 4.5),
                         "axes.titleweight": "bold", "legend.frameon": False})
