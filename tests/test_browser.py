"""The built book in real headless Chromium (Debian's package, installed by scripts/install.sh), offline.

Every page of the built site is opened at 1400 px and at 420 px from a local server, with every request to
another host aborted (that is how the network is disabled), and fails on: a Markdown table that did not render,
TeX left raw after MathJax finished, an image that did not load, a console error or uncaught exception, a request
to another host, a number printed raw ("4156.000000") or a plural left to the reader ("seed(s)"), (at 1400 px) a
table wider than the text column, (at 420 px) a page wider than the window or a figure whose legend or tick text
is smaller than 9 CSS px, and, on a chapter, a verdict box that is missing, lacks a field, links to no figure or
(at 1400 × 900) does not fit the first screen. A full-page screenshot of each page at each width is kept under
``_build/screenshots/`` (git-ignored). A set of small static pages tests the checker itself.

Defects the book is known to have, each with the change that will remove it, are listed in `KNOWN_DEFECTS`: the
test fails on any other defect, and on a known one that is gone (so the list cannot go stale and hide one).
"""

from __future__ import annotations

import base64
import functools
import io
import re
import shutil
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, sync_playwright

from paperlib.book.sphinx_pages import CHAPTERS
from paperlib.paths import project_root
from paperlib.plots import MIN_TEXT_PT, TEXT_SIZE_KEY

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; never a browser downloaded by `playwright install`
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # no name resolves: a second lock on the network
]  # launch() gives every run a fresh temporary user-data dir of its own
WIDTHS = (1400, 420)
NARROW = 420
HEIGHT = 900
RAW_TABLE = re.compile(r"\|\s*:?(?:-{3,}|[—–][-—–]*):?\s*\|")  # Sphinx's smartquotes turn --- into an em dash
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$")
RAW_NUMBER = re.compile(r"(?<![\w.])\d+\.(?=\d{6,}(?![\w.]))\d*000(?![\w.])")  # unformatted: "4156.000000"
LAZY_PLURAL = re.compile(r"\w\(s\)")  # "3 seed(s)"
NOT_PAGES = {"search.html", "genindex.html", "py-modindex.html"}
CHAPTER_PAGES = frozenset(f"book/{name}.html" for name in CHAPTERS)
ANSWER_FIELDS = ("answer", "claim", "number", "budget", "caveat", "figure")  # paperlib.book.sphinx_pages.AnswerBox
MIN_TEXT_PX = 9  # legend and tick text on a narrow screen

# Runs in the page once it has loaded: waits for MathJax's first typesetting (when MathJax is there) and for every
# image, then reads what the reader sees and whether the page is wider than the window (naming what sticks out);
# the tables wider than the text column; each figure's size on screen and, from its PNG, the size of its smallest
# legend or tick text (paperlib.plots) and its dpi; and the verdict box: where it ends, and each row's fields.
INSPECT = """async ({fields, textKey}) => {
  const within = (promise, ms) =>
    Promise.race([promise.then(() => true), new Promise(r => setTimeout(() => r(false), ms))]);
  let mathjax = "not loaded";
  if (window.MathJax && MathJax.startup && MathJax.startup.promise)
    mathjax = (await within(MathJax.startup.promise, 15000)) ? "done" : "timeout";
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await within(Promise.all(images.filter(img => !img.complete).map(img => new Promise(r => {
    img.addEventListener("load", r); img.addEventListener("error", r); }))), 10000);
  // Too wide: follow from <body> down the element whose hiding alone brings the page back within the window.
  const root = document.documentElement, limit = window.innerWidth + 1;
  const fitsWithout = el => { const was = el.style.display; el.style.display = "none";
    const fits = root.scrollWidth <= limit; el.style.display = was; return fits; };
  let wide = null;
  if (root.scrollWidth > limit)
    for (let el = document.body; (el = [...el.children].find(fitsWithout)); ) wide = el;
  const name = el => el.tagName.toLowerCase() + [...el.classList].slice(0, 2).map(c => "." + c).join("");
  // Tables (those shown) wider than their column: the article's content box (or the body's), or the theme's
  // full-width box where a cell is tagged full-width.
  const column = document.querySelector(".bd-article") || document.body, style = getComputedStyle(column);
  const columnWidth = column.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const fullWidth = ".tag_full-width, .tag_full_width, .full-width, .full_width";
  const wideTables = [...column.querySelectorAll("table")].filter(t => t.offsetParent !== null)
    .map(t => ({width: Math.round(t.getBoundingClientRect().width), section: t.closest("section")?.id || "",
                column: Math.round(t.closest(fullWidth)?.clientWidth || columnWidth),
                head: [...t.querySelectorAll("th, td")].map(c => c.innerText.trim()).filter(Boolean).slice(0, 3)
                      .join(" | ")}))
    .filter(t => t.width > t.column + 1);
  // Figures: the PNG's text chunks and pHYs (dpi), read from its bytes.
  const latin1 = bytes => String.fromCharCode(...bytes);
  const png = bytes => {
    const view = new DataView(bytes.buffer), out = {text: {}, dpi: null};
    for (let at = 8; at + 8 <= bytes.length; ) {
      const length = view.getUint32(at), type = latin1(bytes.subarray(at + 4, at + 8));
      const data = bytes.subarray(at + 8, at + 8 + length);
      if (type === "tEXt") { const nul = data.indexOf(0); out.text[latin1(data.subarray(0, nul))] = latin1(data.subarray(nul + 1)); }
      if (type === "pHYs" && data[8] === 1) out.dpi = view.getUint32(at + 8) * 0.0254;
      if (type === "IEND") break;
      at += 12 + length;
    }
    return out;
  };
  const figures = [];
  for (const img of document.querySelectorAll(".cell_output img")) {
    if (!img.naturalWidth) continue;
    const src = img.currentSrc || img.src;
    const meta = src.toLowerCase().split("?")[0].endsWith(".png")
      ? png(new Uint8Array(await (await fetch(src)).arrayBuffer())) : {text: {}, dpi: null};
    figures.push({src, natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
                  textPx: meta.text[textKey] ? parseFloat(meta.text[textKey]) : null, dpi: meta.dpi});
  }
  // The verdict box: where it ends (page coordinates), and each row's fields (their text without the labels)
  // and whether its figure link lands on an element of this page.
  const box = document.querySelector(".answer-box");
  const bare = el => { if (!el) return ""; const copy = el.cloneNode(true);
    copy.querySelectorAll(".answer-label").forEach(l => l.remove()); return copy.textContent.trim(); };
  const lands = a => { if (!a) return false; const url = new URL(a.href, location.href);
    return url.pathname === location.pathname && !!document.getElementById(decodeURIComponent(url.hash.slice(1))); };
  const answer = box && {
    bottom: box.getBoundingClientRect().bottom + window.scrollY,
    rows: [...box.querySelectorAll(".answer-row")].map(row => ({
      id: row.id,
      fields: Object.fromEntries(fields.map(f => [f, bare(row.querySelector(".answer-" + f))])),
      link: lands(row.querySelector(".answer-figure a[href]"))}))};
  return {text: document.body.innerText, mathjax,
          broken: images.filter(img => img.complete && img.naturalWidth === 0)
                        .map(img => img.currentSrc || img.src || img.outerHTML.slice(0, 100)),
          scrollWidth: root.scrollWidth, innerWidth: window.innerWidth,
          wide: wide && `${name(wide)} ${JSON.stringify(wide.textContent.trim().slice(0, 80))}`,
          wideTables, figures, answer};
}"""


@dataclass(frozen=True)
class Defect:
    page: str
    width: int
    kind: str  # load failed, raw table, raw TeX, MathJax, broken image, console error, off-site request, too wide,
    # number format, table too wide, small figure text, verdict box
    detail: str

    def __str__(self) -> str:
        return f"{self.page} @ {self.width} px: {self.kind}: {self.detail}"


def book_pages(html: Path) -> list[str]:
    """The site's pages: every .html file but the theme's and Sphinx's own (``_static/``, search, index of terms)."""
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(html).parts) and p.name not in NOT_PAGES)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` from 127.0.0.1 in a thread; yields the base URL (ending in /)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _places(pattern: re.Pattern, text: str) -> str:
    """How many lines of the page's text ``pattern`` is on, and the first place in its context."""
    first = pattern.search(text)
    lines = sum(1 for line in text.splitlines() if pattern.search(line))
    return f"{lines} line(s), first: {' '.join(text[max(first.start() - 50, 0):first.end() + 50].split())!r}"


def check_page(browser: Browser, base: str, folder: Path, path: str, width: int,
               screenshot: Path | None = None, chapter: bool = False) -> list[Defect]:
    """Open ``base + path`` (served from ``folder``) in a fresh context ``width`` px wide, every off-site request
    aborted, a redirect page (index.html) followed; its defects (a ``chapter`` must open with its verdict box),
    after a full-page screenshot when asked."""
    defects: list[Defect] = []
    label = path
    blocked: list[str] = []
    console: list[tuple[str, str]] = []  # (text, url of the resource or script it is about)
    uncaught: list[str] = []
    local = urlsplit(base).netloc

    def route(route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == local or urlsplit(url).scheme in ("data", "blob", "about"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context = browser.new_context(viewport={"width": width, "height": HEIGHT}, service_workers="block")
    try:
        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: console.append((m.text, m.location.get("url", ""))) if m.type == "error" else None)
        page.on("pageerror", lambda error: uncaught.append(str(error)))
        response = page.goto(base + path, wait_until="load")
        if response is None or not response.ok:
            defects.append(Defect(label, width, "load failed", f"HTTP {response.status if response else '-'}"))
        elif re.search(r"""http-equiv=["']?refresh""", (folder / path).read_text(), re.IGNORECASE):
            page.wait_for_url(lambda url: url != base + path, wait_until="load")
            label = f"{path} (-> {page.url.removeprefix(base)})"
        seen = page.evaluate(INSPECT, {"fields": list(ANSWER_FIELDS), "textKey": TEXT_SIZE_KEY})
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=screenshot, full_page=True)
    finally:
        context.close()

    def add(kind: str, detail: str) -> None:
        defects.append(Defect(label, width, kind, detail))

    if RAW_TABLE.search(seen["text"]):
        add("raw table", "Markdown table not rendered: " + _places(RAW_TABLE, seen["text"]))
    if RAW_TEX.search(seen["text"]):
        add("raw TeX", f"formula not typeset (MathJax {seen['mathjax']}): " + _places(RAW_TEX, seen["text"]))
    if seen["mathjax"] == "timeout":
        add("MathJax", "MathJax.startup.promise did not settle within 15 s")
    for src in seen["broken"]:
        add("broken image", src.removeprefix(base))
    for url in dict.fromkeys(blocked):
        add("off-site request", f"{url} (blocked)")
    explained = set(blocked) | set(seen["broken"])  # their "Failed to load resource" is the defect reported above
    for text, url in console:
        if not (text.startswith("Failed to load resource") and url in explained):
            add("console error", f"{text[:200]} ({url.removeprefix(base) or 'inline'})")
    for error in uncaught:
        add("console error", f"uncaught {error[:200]}")
    if width <= NARROW and seen["scrollWidth"] > seen["innerWidth"] + 1:
        add("too wide", f"page {seen['scrollWidth']} px in a {seen['innerWidth']} px window; sticking out: "
            + (seen["wide"] or "no single element"))
    for pattern, what in ((RAW_NUMBER, "raw number"), (LAZY_PLURAL, "plural left open")):
        if pattern.search(seen["text"]):
            add("number format", f"{what}: " + _places(pattern, seen["text"]))
    if width > NARROW:
        for table in seen["wideTables"]:
            add("table too wide", f"in #{table['section']}, {table['head']!r}: {table['width']} px in a "
                f"{table['column']} px column")
    else:
        for figure in seen["figures"]:
            if (small := _figure_text(figure)):
                add("small figure text", f"{figure['src'].removeprefix(base)}: {small}")
    if chapter:
        for problem in _answer_problems(seen["answer"], width):
            add("verdict box", problem)
    return defects


def _figure_text(figure: dict) -> str:
    """Why a figure's smallest legend or tick text is too small on screen (or cannot be measured), or "". The
    PNG names that size in its pixels (`paperlib.plots.TEXT_SIZE_KEY`); a PNG drawn before it did is taken at the
    book's type floor (`MIN_TEXT_PT`) at its own dpi."""
    text_px = figure["textPx"]
    if text_px is None:
        if figure["dpi"] is None:
            return "cannot measure: the PNG names neither its text size nor its dpi"
        text_px = MIN_TEXT_PT * figure["dpi"] / 72
    on_screen = text_px * figure["shown"] / figure["natural"]
    if on_screen >= MIN_TEXT_PX:
        return ""
    return (f"legend and tick text {on_screen:.1f} px on screen (< {MIN_TEXT_PX}): {text_px:.1f} px in a "
            f"{figure['natural']} px PNG shown {figure['shown']:.0f} px wide")


def _answer_problems(answer: dict | None, width: int) -> list[str]:
    """What is wrong with a chapter's verdict box: missing, without rows, a row without a field or whose figure link
    lands nowhere on the page, or (wide) below the first screen."""
    if answer is None:
        return ["no verdict box"]
    problems = [] if answer["rows"] else ["the verdict box has no claim"]
    for row in answer["rows"]:
        empty = [name for name, text in row["fields"].items() if not text]
        if empty:
            problems.append(f"{row['id']}: empty or missing field(s) {', '.join(empty)}")
        if not row["link"]:
            problems.append(f"{row['id']}: the figure link lands on no element of the page")
    if width > NARROW and answer["bottom"] > HEIGHT:
        problems.append(f"the box ends at {answer['bottom']:.0f} px, below the first screen ({HEIGHT} px)")
    return problems


def check_site(browser: Browser, folder: Path, pages: Sequence[str], widths: Sequence[int] = WIDTHS,
               screenshots: Path | None = None, chapters: frozenset[str] = CHAPTER_PAGES) -> list[Defect]:
    """Serve ``folder`` and check every page at every width (the ``chapters`` with their verdict box);
    screenshots go to ``screenshots/PAGE-WIDTH.png``."""
    def shot(path: str, width: int) -> Path | None:
        return screenshots / f"{path.removesuffix('.html')}-{width}.png" if screenshots else None

    with serve(folder) as base:
        return [defect for path in pages for width in widths
                for defect in check_page(browser, base, folder, path, width, shot(path, width), path in chapters)]


def report(defects: Sequence[Defect], pages: Sequence[str]) -> str:
    views = {(d.page, d.width) for d in defects}
    kinds = Counter(d.kind for d in defects)
    return "\n".join([f"{len(defects)} defect(s) in {len(views)} of {len(pages) * len(WIDTHS)} page views "
                      f"({', '.join(f'{kind} {n}' for kind, n in kinds.most_common())}); "
                      "screenshots in _build/screenshots/:", *map(str, defects)])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `bash scripts/install.sh` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# Defects the book is known to have, each with the change that removes it: (page, width, kind, a fragment of the
# detail, why it is there). Any other defect fails the test, and so does a known one that is gone.
KNOWN_DEFECTS: tuple[tuple[str, int, str, str, str], ...] = ()


def is_known(defect: Defect, known: tuple[str, int, str, str, str]) -> bool:
    page, width, kind, fragment, _ = known
    return (defect.page, defect.width, defect.kind) == (page, width, kind) and fragment in defect.detail


def unexpected(defects: Sequence[Defect], known: Sequence[tuple[str, int, str, str, str]]) -> tuple[list[Defect], list]:
    """The defects no known entry explains, and the known entries that explain no defect (gone: remove them)."""
    return ([d for d in defects if not any(is_known(d, k) for k in known)],
            [k for k in known if not any(is_known(d, k) for d in defects)])


@pytest.mark.slow
def test_built_book_renders_cleanly_in_headless_chromium(book_build, browser):
    assert (book_build.html / "index.html").is_file(), "no book built: see test_book_builds_with_warnings_as_errors"
    pages = book_pages(book_build.html)
    assert "index.html" in pages and any(p.startswith("book/") for p in pages), pages
    assert CHAPTER_PAGES <= set(pages), sorted(CHAPTER_PAGES - set(pages))
    screenshots = project_root() / "_build" / "screenshots"
    shutil.rmtree(screenshots, ignore_errors=True)
    defects = check_site(browser, book_build.html, pages, WIDTHS, screenshots)
    new, gone = unexpected(defects, KNOWN_DEFECTS)
    assert not new, report(new, pages)
    assert not gone, "known defects no longer found; remove them from KNOWN_DEFECTS:\n" + "\n".join(map(str, gone))


# The test of the test: one clean page and one page per defect, each expected to give exactly its defect.
def at_both_widths(kind: str) -> list[tuple[int, str]]:
    return [(width, kind) for width in WIDTHS]


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg"
                       "==")  # one pixel
CLEAN = """<table><tr><th>claim</th><th>ours</th></tr><tr><td>a | b</td><td>$5</td></tr></table>
<p>Costs $5 and then $6.</p><img src="dot.png" alt="a dot"><script src="local.js"></script>
<script>window.MathJax = {startup: {promise: Promise.resolve()}};</script>"""


def answer_box(caveat: str = "The one caveat.", link: str = "#key-figure") -> str:
    """A chapter's verdict box as `paperlib.book.sphinx_pages` writes it, with one claim."""
    def field(name: str, text: str, label: str = "") -> str:
        return (f'<span class="answer-field answer-{name}">'
                + (f'<span class="answer-label">{label}</span> ' if label else "") + f"{text}</span>")

    return ('<div class="answer-box"><p class="answer-box-title">The answer</p><div class="answer-row" id="answer-a">'
            + field("answer", "reproduced") + '<div class="answer-body">' + field("claim", "A claim in one line.")
            + '<p class="answer-details">' + field("number", "ours 1.0 · paper 1.0") + field("budget", "50 %", "Budget")
            + field("caveat", caveat, "Caveat") + field("figure", f'<a href="{link}">the key figure</a>', "Figure")
            + '</p></div></div></div>')


CHAPTER = '<h1>A chapter</h1>{box}<p>Text.</p><div id="key-figure"><img src="dot.png" alt="a dot"></div>'
COLUMN = '<div class="bd-article" style="max-width: 600px"><div style="overflow-x: auto">{}</div></div>'
FIGURE = '<div class="cell_output" style="overflow-x: auto"><img src="{}" alt="a figure" style="width: {}px"></div>'
PAGES = {
    "clean": (CLEAN, []),
    "redirect": ('<meta http-equiv="Refresh" content="0; url=clean.html">', []),
    "table": ("<p>| claim | ours |</p><p>|---|---|</p><p>| a | b |</p>", at_both_widths("raw table")),
    "table_smartquotes": ("<p>| claim | ours |\n|—|:–:|\n| a | b |</p>", at_both_widths("raw table")),  # Sphinx's
    "tex": ("<p>The law $$N \\propto D^\\gamma$$ holds.</p>", at_both_widths("raw TeX")),
    "image": ('<img src="missing.png" alt="gone">', at_both_widths("broken image")),
    "console": ('<script>console.error("boom")</script>', at_both_widths("console error")),
    "exception": ('<script>throw new Error("boom")</script>', at_both_widths("console error")),
    "offsite": ('<script src="https://example.org/x.js"></script>', at_both_widths("off-site request")),
    "wide": ('<div style="width: 1000px">wide</div>', [(NARROW, "too wide")]),
    "raw_number": ("<p>k = 3: 4156.000000 distinct; lr 0.000484</p>", at_both_widths("number format")),
    "lazy_plural": ("<p>Trained 3 seed(s).</p>", at_both_widths("number format")),
    "fitting_table": (COLUMN.format('<table style="width: 500px"><tr><th>a</th></tr></table>'), []),
    "wide_table": (COLUMN.format('<table style="width: 900px"><tr><th>a</th></tr></table>'), [(1400, "table too wide")]),
    "full_width_table": (COLUMN.format('<div class="full-width" style="width: 950px">'
                                      '<table style="width: 900px"><tr><th>a</th></tr></table></div>'), []),
    "legible_figure": (FIGURE.format("text15.png", 600), []),
    "small_figure_text": (FIGURE.format("text15.png", 380), [(NARROW, "small figure text")]),
    "small_figure_dpi": (FIGURE.format("dpi110.png", 380), [(NARROW, "small figure text")]),  # 10 pt at 110 dpi
    "chapter": (CHAPTER.format(box=answer_box()), []),
    "chapter_without_box": (CHAPTER.format(box=""), at_both_widths("verdict box")),
    "chapter_box_below": (CHAPTER.format(box='<div style="height: 1000px"></div>' + answer_box()),
                          [(1400, "verdict box")]),
    "chapter_empty_field": (CHAPTER.format(box=answer_box(caveat="")), at_both_widths("verdict box")),
    "chapter_dead_link": (CHAPTER.format(box=answer_box(link="#nowhere")), at_both_widths("verdict box")),
}
TEST_CHAPTERS = frozenset(f"{name}.html" for name in PAGES if name.startswith("chapter"))


def figure_png(width: int, text_px: float | None, dpi: int) -> bytes:
    """A blank PNG ``width`` px wide that names its smallest text size (or not) and its dpi, as paperlib.plots'."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if text_px is not None:
        info.add_text(TEXT_SIZE_KEY, f"{text_px:.2f}")
    out = io.BytesIO()
    Image.new("RGB", (width, 60), "white").save(out, format="png", pnginfo=info, dpi=(dpi, dpi))
    return out.getvalue()


@pytest.fixture(scope="module")
def checked_pages(browser, tmp_path_factory) -> tuple[Path, dict[str, list[Defect]]]:
    site = tmp_path_factory.mktemp("site")
    (site / "dot.png").write_bytes(PNG)
    (site / "text15.png").write_bytes(figure_png(1000, 15.0, 100))  # 9 px on screen at 600 px wide, 5.7 at 380
    (site / "dpi110.png").write_bytes(figure_png(837, None, 110))  # no text size: 10 pt at 110 dpi, 15.3 px
    (site / "local.js").write_text("document.body.dataset.ok = 'yes';\n")
    head = '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
    for name, (body, _) in PAGES.items():
        (site / f"{name}.html").write_text(f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>")
    shots = site / "_screenshots"
    defects = check_site(browser, site, [f"{name}.html" for name in PAGES], WIDTHS, shots, TEST_CHAPTERS)
    return shots, {name: [d for d in defects if d.page.startswith(f"{name}.html")] for name in PAGES}


@pytest.mark.parametrize("name", PAGES)
def test_checker_reports_exactly_the_defect_of_each_page(name, checked_pages):
    shots, defects = checked_pages
    found = sorted((d.width, d.kind) for d in defects[name])
    assert found == sorted(PAGES[name][1]), "\n".join(map(str, defects[name])) or "no defect found"
    assert all((shots / f"{name}-{width}.png").stat().st_size > 0 for width in WIDTHS)


def test_known_defects_are_matched_exactly_and_the_box_fields_are_the_renderers():
    from paperlib.book.render import ANSWER_FIELDS as RENDERED

    known = (("book/copy_tasks.html", 1400, "table too wide", "in #results,", "a split table"),
             ("book/copy_tasks.html", 420, "number format", "plural left open", "a worded plural"))
    wide = Defect("book/copy_tasks.html", 1400, "table too wide", "in #results, …")
    other = Defect("book/copy_tasks.html", 1400, "table too wide", "in #curriculum, …")
    assert unexpected([wide, other], known) == ([other], [known[1]])
    assert set(ANSWER_FIELDS) == {*RENDERED, "figure"}


def test_book_pages_are_the_sites_pages_only(tmp_path):
    for path in ["index.html", "book/intro.html", "search.html", "genindex.html", "_static/webpack-macros.html"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("<p>page</p>")
    assert book_pages(tmp_path) == ["book/intro.html", "index.html"]
