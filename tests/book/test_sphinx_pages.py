"""The book's Sphinx extension: the verdict box put under a chapter's title when the book is built, the key-figure
target it links to, and the `decided` role that marks a sentence chosen by a rule."""

import json
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest

from paperlib.book.records import load_records
from paperlib.book.render import answer_fields
from paperlib.book.sphinx_pages import _open_with_answer, key_figure_label
from paperlib.book.verdicts import dashboard
from paperlib.book.wording import marked_sentences, recheck
from paperlib.paths import book_dir


def notebook(*cells: dict) -> str:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "id": "m", "metadata": {}, "source": source.splitlines(keepends=True)}


def code(with_figure: bool) -> dict:
    outputs = [{"output_type": "display_data", "data": {"image/png": "iVBO"}, "metadata": {}}] if with_figure else []
    return {"cell_type": "code", "id": "c", "metadata": {}, "source": "x", "outputs": outputs, "execution_count": 1}


def opened(docname: str, source: str, suffix: str = ".ipynb") -> list[dict]:
    app = SimpleNamespace(env=SimpleNamespace(doc2path=lambda name: Path(f"/src/{name}{suffix}")))
    text = [source]
    _open_with_answer(app, docname, text)
    return json.loads(text[0])["cells"] if text[0] != source else []


def test_a_chapter_opens_with_the_box_under_its_title_and_links_its_first_figure_when_none_is_marked():
    cells = opened("book/linear_time", notebook(markdown("# Linear time\n\nThe claim."), code(False), code(True)))
    assert "".join(cells[0]["source"]).startswith("# Linear time\n\n```{answer-box}\n:figure: first\n```\n")
    assert "The claim." in cells[0]["source"]
    assert cells[2] == {"cell_type": "markdown", "metadata": {}, "source": "(linear_time-key-figure)=",
                        "id": "linear_time-key-figure"}  # right before the first figure
    assert cells[3]["outputs"]


def test_a_marked_key_figure_is_linked_as_it_is():
    target = markdown(f"({key_figure_label('copy_tasks')})=")
    cells = opened("book/copy_tasks", notebook(markdown("# Copy"), code(True), target, code(True)))
    assert ":figure: key" in cells[0]["source"] and len(cells) == 4


def test_a_page_without_figures_says_so_and_other_pages_are_left_alone():
    assert ":figure: none" in opened("book/scaling_law", notebook(markdown("# Scaling"), code(False)))[0]["source"]
    page = notebook(markdown("# Scaling"), code(True))
    assert opened("book/intro", page) == []  # not a chapter
    assert opened("book/scaling_law", page, ".md") == []  # not a notebook


CONF = 'extensions = ["myst_nb", "sphinx_design", "paperlib.book.sphinx_pages"]\nexclude_patterns = ["_build"]\n'
SENTENCE = "{decided}`The time grows **linearly**. <exponent;linear;time_exponent_recurrent>`"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A small book built by Sphinx with the extension: a chapter page with the verdict box, its key figure and a
    marked sentence, read from a copy of the committed linear-time record; warnings are errors."""
    from sphinx.application import Sphinx

    src = tmp_path_factory.mktemp("src")
    (src / "conf.py").write_text(CONF)
    (src / "index.md").write_text("# Book\n\n```{toctree}\nbook/linear_time\n```\n")
    (src / "book" / "results").mkdir(parents=True)
    record = json.loads((book_dir() / "results" / "linear_time.json").read_text())
    (src / "book" / "results" / "linear_time.json").write_text(json.dumps(record))
    (src / "book" / "linear_time.md").write_text(
        f"# Linear time\n\n```{{answer-box}}\n```\n\n{SENTENCE}\n\n## Rules\n\n```{{wording-rules}}\n```\n\n"
        f"({key_figure_label('linear_time')})=\nThe key figure.\n")
    app = Sphinx(str(src), str(src), str(src / "_build"), str(src / "_doctrees"), "html", status=None,
                 warningiserror=True, keep_going=False)
    app.build()
    return src / "_build" / "book" / "linear_time.html"


def test_the_built_chapter_opens_with_every_field_of_each_claim(built):
    html = built.read_text()
    text = unescape(html).replace("’", "'")  # Sphinx's smart quotes
    verdicts = [v for v in dashboard(load_records(book_dir() / "results")) if v.claim.notebook == "linear_time"]
    assert html.count('class="answer-row') == len(verdicts) == 2
    assert html.index('class="answer-box') < html.index("decided")  # the box comes first
    for verdict in verdicts:
        assert f'id="answer-{verdict.claim.id.replace("_", "-")}"' in html
        fields = answer_fields(verdict)
        assert all(fields[name] in text for name in ("claim", "number", "budget", "caveat"))
        assert f">{verdict.status}</span>" in html  # the badge
    for name in ("answer", "claim", "number", "budget", "caveat", "figure"):
        assert html.count(f'answer-field answer-{name}"') == 2
    assert html.count('href="#linear-time-key-figure"') == 2 and 'id="linear-time-key-figure"' in html


def test_a_marked_sentence_survives_into_html_and_is_checked_against_its_record(built):
    html = built.read_text()
    [sentence] = marked_sentences(html)
    assert sentence.text == "The time grows linearly." and "<strong>linearly</strong>" in html
    record = json.loads((book_dir() / "results" / "linear_time.json").read_text())
    assert recheck(sentence, record) == ""  # the committed record: exponent CI [0.97, 1.00]
    assert "exponent" in html and "is *linear* when" not in html  # the rules page renders the rule's Markdown
