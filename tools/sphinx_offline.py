"""Sphinx extension (loaded by ``_config.yml``): keep the built pages offline and error-free.

``_config.yml`` points MathJax and the ipywidgets manager at copies served by the site itself
(see ``tools/vendor_assets.py``). This extension takes care of the rest, on every HTML page:

1. It drops scripts that appear twice. With Sphinx 7.4, an inline script that an extension
   registers after the builder started (sphinx-thebe's ``const THEBE_JS_URL = ...``) is written
   into the page twice, and the second ``const`` declaration is a JavaScript error on every page.
2. When the live-code (Thebe) launch button is off, as in this book, it drops sphinx-thebe's
   page scripts: nothing can start Thebe, and its configuration names a CDN
   (Thebe from the unpkg service) that an offline page should not mention.
3. It drops the saved widget state and the ipywidgets manager (RequireJS and ``embed-amd.js``,
   3.6 MB) from pages that show no live widget (the static book's panels are plain HTML). A
   finished progress bar (tqdm's HBox of HTML, FloatProgress, HTML) becomes a static
   ``<progress>`` element drawn from the saved state, so it needs no manager either. Where a page
   still shows another widget, it tells the ipywidgets manager (``embed-amd.js``, on pages with saved widget state) where its
   icon fonts are: it computes their URL from its RequireJS module name, which would point at
   ``<page folder>/@jupyter-widgets/html-manager/dist/`` (404) instead of the served copy.
4. It marks the page's images ``loading="lazy"``: an image far below the fold is fetched when
   the reader scrolls to it, not with the page.
5. It checks the scripts and stylesheets that remain: a page that would load one from another
   site (``https://...`` or ``//host/...``) gets a warning, which ``jupyter-book build -W``
   turns into a failed build.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
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


_WIDGET_VIEW = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>',
                          re.S)


def _static_progress(state: dict, view: str) -> str | None:
    """A saved tqdm progress bar as plain HTML, or None for any other widget."""
    try:
        box = state[json.loads(view)["model_id"]]
        parts = [state[c.split("IPY_MODEL_", 1)[1]] for c in box["state"]["children"]]
        names = [p["model_name"] for p in parts]
        if box["model_name"] != "HBoxModel" or names != ["HTMLModel", "FloatProgressModel", "HTMLModel"]:
            return None
        left, bar, right = (p["state"] for p in parts)
        value, top = float(bar.get("value") or 0), float(bar.get("max") or 1)
        return ('<div class="nnbook-progress" style="display:flex;gap:.5em;align-items:center">'
                f'<span>{left.get("value", "")}</span><progress value="{value:g}" max="{top:g}" '
                f'aria-label="{html.escape(left.get("value", "progress"), quote=True)}"></progress>'
                f'<span>{right.get("value", "")}</span></div>')
    except (KeyError, ValueError, TypeError, AttributeError, IndexError):
        return None


def _lazy_images(context: dict) -> None:
    """Images load when they come near the viewport: a page's first load stays light."""
    if "body" in context:
        context["body"] = re.sub(r"<img (?![^>]*\bloading=)", '<img loading="lazy" ', context["body"])


def _unwidget_body(context: dict, scripts: list) -> bool:
    """Replace saved progress bars in the page body by static HTML; True if no widget is left."""
    body = context.get("body", "")
    if "widget-view+json" not in body:
        return True
    states = [_attributes(a).get("body", "") for a in scripts
              if "widget-state+json" in _attributes(a).get("type", "")]
    try:
        state = json.loads(states[0])["state"] if states else {}
    except (ValueError, KeyError, TypeError):
        return False
    new = _WIDGET_VIEW.sub(lambda m: _static_progress(state, m.group(1)) or m.group(0), body)
    if "widget-view+json" in new:
        return False
    context["body"] = new
    return True


def clean_page_assets(app: Sphinx, pagename: str, templatename: str, context: dict,
                      doctree: Any) -> None:
    """``html-page-context`` handler: the five steps of the module docstring."""
    scripts = context.get("script_files")
    if scripts is not None:
        drop_thebe = not _thebe_enabled(app)
        no_widgets = _unwidget_body(context, scripts)
        _lazy_images(context)
        seen: set[tuple] = set()
        kept = []
        for asset in scripts:
            attributes = _attributes(asset)
            key = (_filename(asset), tuple(sorted(attributes.items())))
            if key in seen or (drop_thebe and _is_thebe_script(asset)) or (no_widgets and (
                    _filename(asset).split("?")[0].endswith(tuple(app.config.nb_ipywidgets_js or ()))
                    or "widget-state+json" in attributes.get("type", ""))):
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
