"""The built book in real headless Chromium (Debian's package, installed by scripts/install.sh), offline.

Every page of the built site is opened at 1400 px and at 420 px from a local server, with every request to
another host aborted (that is how the network is disabled), and fails on: a Markdown table that did not render,
TeX left raw after MathJax finished, an image that did not load, a console error or uncaught exception, a request
to another host, or (at 420 px) a page wider than the window. A full-page screenshot of each page at each width
is kept under ``_build/screenshots/`` (git-ignored). A set of small static pages tests the checker itself.
"""

from __future__ import annotations

import base64
import functools
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

from paperlib.paths import project_root

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
NOT_PAGES = {"search.html", "genindex.html", "py-modindex.html"}

# Runs in the page once it has loaded: waits for MathJax's first typesetting (when MathJax is there) and for every
# image, then reads what the reader sees and whether the page is wider than the window (naming what sticks out).
INSPECT = """async () => {
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
  return {text: document.body.innerText, mathjax,
          broken: images.filter(img => img.complete && img.naturalWidth === 0)
                        .map(img => img.currentSrc || img.src || img.outerHTML.slice(0, 100)),
          scrollWidth: root.scrollWidth, innerWidth: window.innerWidth,
          wide: wide && `${name(wide)} ${JSON.stringify(wide.textContent.trim().slice(0, 80))}`};
}"""


@dataclass(frozen=True)
class Defect:
    page: str
    width: int
    kind: str  # load failed, raw table, raw TeX, MathJax, broken image, console error, off-site request, too wide
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
               screenshot: Path | None = None) -> list[Defect]:
    """Open ``base + path`` (served from ``folder``) in a fresh context ``width`` px wide, every off-site request
    aborted, a redirect page (index.html) followed; its defects, after a full-page screenshot when asked."""
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
        seen = page.evaluate(INSPECT)
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
    return defects


def check_site(browser: Browser, folder: Path, pages: Sequence[str], widths: Sequence[int] = WIDTHS,
               screenshots: Path | None = None) -> list[Defect]:
    """Serve ``folder`` and check every page at every width; screenshots go to ``screenshots/PAGE-WIDTH.png``."""
    def shot(path: str, width: int) -> Path | None:
        return screenshots / f"{path.removesuffix('.html')}-{width}.png" if screenshots else None

    with serve(folder) as base:
        return [defect for path in pages for width in widths
                for defect in check_page(browser, base, folder, path, width, shot(path, width))]


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


@pytest.mark.slow
def test_built_book_renders_cleanly_in_headless_chromium(book_build, browser):
    assert (book_build.html / "index.html").is_file(), "no book built: see test_book_builds_with_warnings_as_errors"
    pages = book_pages(book_build.html)
    assert "index.html" in pages and any(p.startswith("book/") for p in pages), pages
    screenshots = project_root() / "_build" / "screenshots"
    shutil.rmtree(screenshots, ignore_errors=True)
    defects = check_site(browser, book_build.html, pages, WIDTHS, screenshots)
    assert not defects, report(defects, pages)


# The test of the test: one clean page and one page per defect, each expected to give exactly its defect.
def at_both_widths(kind: str) -> list[tuple[int, str]]:
    return [(width, kind) for width in WIDTHS]


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg"
                       "==")  # one pixel
CLEAN = """<table><tr><th>claim</th><th>ours</th></tr><tr><td>a | b</td><td>$5</td></tr></table>
<p>Costs $5 and then $6.</p><img src="dot.png" alt="a dot"><script src="local.js"></script>
<script>window.MathJax = {startup: {promise: Promise.resolve()}};</script>"""
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
}


@pytest.fixture(scope="module")
def checked_pages(browser, tmp_path_factory) -> tuple[Path, dict[str, list[Defect]]]:
    site = tmp_path_factory.mktemp("site")
    (site / "dot.png").write_bytes(PNG)
    (site / "local.js").write_text("document.body.dataset.ok = 'yes';\n")
    head = '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
    for name, (body, _) in PAGES.items():
        (site / f"{name}.html").write_text(f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>")
    shots = site / "_screenshots"
    defects = check_site(browser, site, [f"{name}.html" for name in PAGES], WIDTHS, shots)
    return shots, {name: [d for d in defects if d.page.startswith(f"{name}.html")] for name in PAGES}


@pytest.mark.parametrize("name", PAGES)
def test_checker_reports_exactly_the_defect_of_each_page(name, checked_pages):
    shots, defects = checked_pages
    found = sorted((d.width, d.kind) for d in defects[name])
    assert found == sorted(PAGES[name][1]), "\n".join(map(str, defects[name])) or "no defect found"
    assert all((shots / f"{name}-{width}.png").stat().st_size > 0 for width in WIDTHS)


def test_book_pages_are_the_sites_pages_only(tmp_path):
    for path in ["index.html", "book/intro.html", "search.html", "genindex.html", "_static/webpack-macros.html"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("<p>page</p>")
    assert book_pages(tmp_path) == ["book/intro.html", "index.html"]
