"""A small Sphinx extension for the book's HTML pages (listed in `_config.yml`).

- **The answer first.** Every chapter opens, right under its title, with a verdict box generated when the book
  is built (never stored in the executed notebook, so a change of presentation needs no rerun): each claim of
  the chapter in one line, its verdict with the qualifier it keeps, our number with its interval beside the
  paper's, the budget reached, the one caveat that matters, and a link to the chapter's key figure (the MyST
  target ``(NAME-key-figure)=``; a page whose notebook marks none links its first figure and says so). The
  box reads the chapter's record in ``book/results/`` and the claims registry, judged as the dashboard
  judges (`paperlib.book.verdicts`).
- Directives for generated pages: ``{results-summary}`` (the dashboard's "In short"), ``{chapter-times}`` (each
  chapter's latest run and its wall time) and ``{wording-rules}`` (the rules by which numbers decide words).
- The ``{decided}`` role marks a sentence chosen by a rule from the record (`paperlib.book.wording`): it
  becomes ``<span class="decided" data-rule data-outcome data-keys>`` so a test can check it.
- Every page loads each script once: sphinx-thebe 0.3 adds its configuration script twice under Jupyter
  Book 1, and the second copy raises "Identifier 'THEBE_JS_URL' has already been declared".
- The theme starts in light mode (the figures have white backgrounds); left unset, pydata-sphinx-theme
  logs "Got invalid theme mode" in the browser console on every page.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from paperlib.book import claims, paper_numbers, render, verdicts, wording
from paperlib.book.claims import CLAIMS
from paperlib.book.records import load_records
from paperlib.book.render import answer_fields, runs_table, summary_markdown
from paperlib.book.verdicts import dashboard, judge
from paperlib.book.wording import RULES, parse_role

CHAPTERS = frozenset(claim.notebook for claim in CLAIMS)
ANSWER_LABELS = {"kept": "Stated beside the verdict", "budget": "Budget", "caveat": "Caveat",
                 "figure": "Figure"}  # the fields that say what they are
RESULTS = "results"  # the records' folder, beside the chapters' pages
ENV_VERSION = 1  # raise it when what this extension puts into a page changes


def key_figure_label(notebook: str) -> str:
    """The MyST target a chapter puts right before its key figure's cell."""
    return f"{notebook}-key-figure"


def _text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def _has_image(cell: dict[str, Any]) -> bool:
    return any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))


def _open_with_answer(app: Any, docname: str, source: list[str]) -> None:
    """source-read: in a chapter's notebook, the answer box right under the title; where the notebook marks no key
    figure, a target before its first figure (the box then says it links the first figure)."""
    notebook = docname.rsplit("/", 1)[-1]
    if notebook not in CHAPTERS or not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    nb = json.loads(source[0])
    cells = nb.get("cells", [])
    label = key_figure_label(notebook)
    figure = "key"
    if not any(cell["cell_type"] == "markdown" and f"({label})=" in _text(cell["source"]) for cell in cells):
        first = next((i for i, cell in enumerate(cells) if cell["cell_type"] == "code" and _has_image(cell)), None)
        figure = "none" if first is None else "first"
        if first is not None:
            target = {"cell_type": "markdown", "metadata": {}, "source": f"({label})="}
            cells.insert(first, {**target, "id": label} if "id" in cells[first] else target)
    title = next((cell for cell in cells if cell["cell_type"] == "markdown"), None)
    if title is None:
        return
    lines = _text(title["source"]).split("\n")
    heading = next((i for i, line in enumerate(lines) if line.startswith("# ")), -1)
    lines[heading + 1:heading + 1] = ["", "```{answer-box}", f":figure: {figure}", "```", ""]
    title["source"] = "\n".join(lines)
    source[0] = json.dumps(nb)


def _note_code(directive: SphinxDirective, *modules: ModuleType) -> None:
    """Rebuild the directive's page when the code that writes it changes (the registry, its rules)."""
    for module in modules:
        directive.env.note_dependency(str(Path(module.__file__).resolve()))


class _RecordsDirective(SphinxDirective):
    """A directive that reads the run records beside the chapters (``book/results/``) and notes them, and the
    registry's code, as dependencies: a changed record or rule rebuilds the page."""

    def records(self) -> dict[str, dict[str, Any]]:
        folder = Path(self.env.srcdir) / "book" / RESULTS
        for path in sorted(folder.glob("*.json")):
            self.env.note_dependency(str(path))
        _note_code(self, claims, paper_numbers, render, verdicts)
        return load_records(folder)

    def markdown(self, text: str) -> list[nodes.Node]:
        """``text`` parsed as MyST in this document."""
        container = nodes.container()
        self.state.nested_parse(StringList(text.split("\n"), self.get_source_info()[0]), self.content_offset,
                                container)
        return container.children

    def inline(self, text: str) -> list[nodes.Node]:
        parsed, messages = self.state.inline_text(text, self.lineno)
        return [*parsed, *messages]


class AnswerBox(_RecordsDirective):
    """The verdict box of a chapter: one row per claim, its verdict beside the claim in one line and a line of
    labelled details (`render.ANSWER_FIELDS`, the changes stated beside the verdict, the figure link)."""

    option_spec = {"figure": lambda value: value.strip()}

    def run(self) -> list[nodes.Node]:
        notebook = self.env.docname.rsplit("/", 1)[-1]
        records = self.records()
        box = nodes.container(classes=["answer-box"])
        box += nodes.paragraph("", "The answer", classes=["answer-box-title"])
        for claim in (c for c in CLAIMS if c.notebook == notebook):
            fields = answer_fields(judge(claim, records))
            row = nodes.container(classes=["answer-row"], ids=[f"answer-{claim.id.replace('_', '-')}"])
            row += self.field("answer", self.inline(fields["answer"]))
            body = nodes.container(classes=["answer-body"])
            body += self.field("claim", self.inline(fields["claim"]))
            details = nodes.paragraph(classes=["answer-details"])
            for name in ("kept", "number", "budget", "caveat"):
                if name in fields:
                    details += self.field(name, self.inline(fields[name]))
            details += self.field("figure", self.figure_link(notebook))
            body += details
            row += body
            box += row
        return [box]

    def field(self, name: str, content: list[nodes.Node]) -> nodes.inline:
        span = nodes.inline("", "", classes=["answer-field", f"answer-{name}"])
        if name in ANSWER_LABELS:
            span += nodes.inline("", ANSWER_LABELS[name], classes=["answer-label"])
            span += nodes.Text(" ")
        span += content
        return span

    def figure_link(self, notebook: str) -> list[nodes.Node]:
        figure = self.options.get("figure", "key")
        if figure == "none":
            return [nodes.Text("this page has no figure")]
        words = "the key figure" if figure == "key" else "the first figure (no key figure is marked)"
        return self.inline(f"{{ref}}`{words} <{key_figure_label(notebook)}>`")


class ResultsSummary(_RecordsDirective):
    """The dashboard's "In short", from the registry and the records."""

    def run(self) -> list[nodes.Node]:
        return self.markdown(summary_markdown(dashboard(self.records()), lead=""))


class ChapterTimes(_RecordsDirective):
    """Each chapter's latest run: profile, wall time, machine, start and data (for a page beside the chapters)."""

    def run(self) -> list[nodes.Node]:
        return self.markdown(runs_table(self.records()))


class WordingRules(SphinxDirective):
    """The rules by which numbers decide words, as `paperlib.book.wording` applies them."""

    def run(self) -> list[nodes.Node]:
        _note_code(self, paper_numbers, wording)
        container = nodes.container()
        lines = [f"- **{rule.name}** — {rule.text}" for rule in RULES.values()]
        self.state.nested_parse(StringList(lines, self.get_source_info()[0]), self.content_offset, container)
        return container.children


class decided_sentence(nodes.inline):
    """A sentence chosen by a rule from the record (`paperlib.book.wording`)."""


def decided_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: dict | None = None,
                 content: list | None = None) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    try:
        sentence, rule, outcome, keys = parse_role(text)
    except ValueError as error:
        message = inliner.reporter.error(str(error), line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    node = decided_sentence(rawtext, classes=["decided"], rule=rule, outcome=outcome, keys=",".join(keys))
    memo = SimpleNamespace(document=inliner.document, reporter=inliner.reporter, language=inliner.language)
    parsed, messages = inliner.parse(sentence, lineno, memo, node)
    node += parsed
    return [node], messages


def _visit_decided_html(translator: Any, node: decided_sentence) -> None:
    translator.body.append(translator.starttag(node, "span", "", **{"data-rule": node["rule"],
                                                                   "data-outcome": node["outcome"],
                                                                   "data-keys": node["keys"]}))


def _depart_decided_html(translator: Any, node: decided_sentence) -> None:
    translator.body.append("</span>")


def _pass(translator: Any, node: nodes.Node) -> None:
    pass


def _set_light_mode(app: Any, config: Any) -> None:
    config.html_context = {**config.html_context, "default_mode": "light"}


def _load_each_script_once(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", str(script)) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _set_light_mode)
    app.connect("source-read", _open_with_answer)
    app.connect("html-page-context", _load_each_script_once, priority=900)
    app.add_directive("answer-box", AnswerBox)
    app.add_directive("results-summary", ResultsSummary)
    app.add_directive("chapter-times", ChapterTimes)
    app.add_directive("wording-rules", WordingRules)
    app.add_role("decided", decided_role)
    app.add_node(decided_sentence, html=(_visit_decided_html, _depart_decided_html), latex=(_pass, _pass),
                 text=(_pass, _pass))
    # env_version: a build environment saved by an older version of this extension is read afresh
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": ENV_VERSION}
