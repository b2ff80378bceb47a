"""Sphinx extension (loaded by ``_config.yml``): keep the built pages offline and error-free.

``_config.yml`` points MathJax and the ipywidgets manager at copies served by the site itself
(see ``tools/vendor_assets.py``). This extension takes care of the rest, on every HTML page:

1. It drops scripts that appear twice. With Sphinx 7.4, an inline script that an extension
   registers after the builder started (sphinx-thebe's ``const THEBE_JS_URL = ...``) is written
   into the page twice, and the second ``const`` declaration is a JavaScript error on every page.
2. When the live-code (Thebe) launch button is off, as in this book, it drops sphinx-thebe's
   page scripts: nothing can start Thebe, and its configuration names a CDN
   (Thebe from the unpkg service) that an offline page should not mention.
3. It tells the ipywidgets manager (``embed-amd.js``, on pages with saved widget state) where its
   icon fonts are: it computes their URL from its RequireJS module name, which would point at
   ``<page folder>/@jupyter-widgets/html-manager/dist/`` (404) instead of the served copy.
4. It checks the scripts and stylesheets that remain: a page that would load one from another
   site (``https://...`` or ``//host/...``) gets a warning, which ``jupyter-book build -W``
   turns into a failed build.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any
from urllib.parse import urlsplit

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGET_MANAGER = "html-manager/embed-amd.js"
WIDGET_MANAGER_MODULE_DIR = "@jupyter-widgets/html-manager/dist"


def _filename(asset: Any) -> str:
    """The URL of a Sphinx ``_JavaScript``/``_CascadingStyleSheet`` (or plain string) asset."""
    return getattr(asset, "filename", None) or (asset if isinstance(asset, str) else "") or ""


def _attributes(asset: Any) -> dict[str, str]:
    return {key: str(value) for key, value in dict(getattr(asset, "attributes", {}) or {}).items()}


def _is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


def _thebe_enabled(app: Sphinx) -> bool:
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    thebe_config = getattr(app.config, "thebe_config", None) or {}
    always_load = isinstance(thebe_config, dict) and str(thebe_config.get("always_load")) in ("True", "true")
    return bool(launch.get("thebe")) or always_load


def _is_thebe_script(asset: Any) -> bool:
    return (_filename(asset).endswith("sphinx-thebe.js")
            or "THEBE_JS_URL" in _attributes(asset).get("body", ""))


def clean_page_assets(app: Sphinx, pagename: str, templatename: str, context: dict,
                      doctree: Any) -> None:
    """``html-page-context`` handler: the four steps of the module docstring."""
    scripts = context.get("script_files")
    if scripts is not None:
        drop_thebe = not _thebe_enabled(app)
        seen: set[tuple] = set()
        kept = []
        for asset in scripts:
            attributes = _attributes(asset)
            key = (_filename(asset), tuple(sorted(attributes.items())))
            if key in seen or (drop_thebe and _is_thebe_script(asset)):
                continue
            seen.add(key)
            kept.append(asset)
        for position, asset in enumerate(kept):
            if _filename(asset).endswith(WIDGET_MANAGER) and hasattr(asset, "priority"):
                folder = context["pathto"](posixpath.dirname(_filename(asset)), resource=True)
                paths = json.dumps({WIDGET_MANAGER_MODULE_DIR: folder})
                body = f"if (window.require && require.config) require.config({{paths: {paths}}});"
                kept.insert(position, type(asset)("", priority=asset.priority, body=body))
                break
        scripts[:] = kept  # in place: Sphinx resets the shared list before the next page

    outside = [f"script {_filename(asset)}" for asset in context.get("script_files") or []
               if _is_external(_filename(asset))]
    outside += [f"stylesheet {_filename(asset)}" for asset in context.get("css_files") or []
                if _is_external(_filename(asset))]
    for what in outside:
        logger.warning("page %r loads a %s from another site; the book must work offline: serve "
                       "it from _static/ (see tools/vendor_assets.py)", pagename, what,
                       type="offline", location=pagename)


def setup(app: Sphinx) -> dict[str, Any]:
    # After the handlers of myst-nb (per-page widget scripts) and Sphinx (MathJax), priority 500.
    app.connect("html-page-context", clean_page_assets, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
