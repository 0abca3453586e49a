"""The book's figure style: every PNG of a page figure names the size of its smallest legend or tick text."""

import io

import matplotlib.pyplot as plt
import pytest
from PIL import Image

from paperlib.plots import DPI, MIN_TEXT_PT, TEXT_SIZE_KEY, page_figure, smallest_text_pt, use_book_style


def png_text(fig, dpi: int = DPI) -> dict:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return Image.open(io.BytesIO(out.getvalue())).info


def test_a_page_figure_names_its_smallest_legend_or_tick_text_in_its_own_pixels():
    use_book_style()
    fig, (top, bottom) = page_figure(2)
    top.plot([1, 2], [1, 2], label="a")
    top.legend()
    bottom.plot([1, 2], [2, 1])
    assert smallest_text_pt(fig) == MIN_TEXT_PT
    assert float(png_text(fig, 150)[TEXT_SIZE_KEY]) == pytest.approx(MIN_TEXT_PT * 150 / 72, abs=0.01)
    fig, ax = page_figure()
    ax.plot([1, 2], [1, 2], label="small")
    ax.legend(fontsize=8)
    ax.text(1.5, 1.5, "an annotation", fontsize=6)  # annotations are not legend or tick text
    assert float(png_text(fig)[TEXT_SIZE_KEY]) == pytest.approx(8 * DPI / 72, abs=0.01)


def test_a_figure_without_ticks_or_legend_names_no_size():
    fig, ax = page_figure()
    ax.set_axis_off()
    assert smallest_text_pt(fig) is None and TEXT_SIZE_KEY not in png_text(fig)
