"""A small Sphinx extension for the book's HTML pages (listed in `_config.yml`).

- Every page loads each script once: sphinx-thebe 0.3 adds its configuration script twice under Jupyter
  Book 1, and the second copy raises "Identifier 'THEBE_JS_URL' has already been declared".
- The theme starts in light mode (the figures have white backgrounds); left unset, pydata-sphinx-theme
  logs "Got invalid theme mode" in the browser console on every page.
"""

from __future__ import annotations

from typing import Any


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
    app.connect("html-page-context", _load_each_script_once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
