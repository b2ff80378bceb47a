"""Sphinx extension (loaded by ``_config.yml``): keep the built pages offline and error-free.

``_config.yml`` points MathJax at a copy served by the site itself (see ``tools/vendor_assets.py``)
and loads no ipywidgets manager (``nb_ipywidgets_js: {}``): the static book's panels are plain
HTML and images. This extension takes care of the rest, on every HTML page:

1. It drops scripts that appear twice. With Sphinx 7.4, an inline script that an extension
   registers after the builder started (sphinx-thebe's ``const THEBE_JS_URL = ...``) is written
   into the page twice, and the second ``const`` declaration is a JavaScript error on every page.
2. When the live-code (Thebe) launch button is off, as in this book, it drops sphinx-thebe's
   page scripts: nothing can start Thebe, and its configuration names a CDN
   (Thebe from the unpkg service) that an offline page should not mention.
3. It drops the saved widget state from the page. A finished progress bar (tqdm's HBox of HTML,
   FloatProgress, HTML) becomes a static ``<progress>`` element drawn from that state; any other
   saved widget could not be shown without a widget manager, so it gets a warning naming the
   page, which ``jupyter-book build -W`` turns into a failed build.
4. It marks the page's images ``loading="lazy"``: an image far below the fold is fetched when
   the reader scrolls to it, not with the page.
5. After the build, it fixes two labels of the theme that axe-core reports as serious
   (label-content-name-mismatch, WCAG 2.5.3): the search field's accessible name gets its
   visible shortcut text ("Search Ctrl+K"), the colour-mode button's icons lose the tooltips
   that axe reads as visible text the name "Color mode" lacks, and a folded cell's toggle is
   named by its visible text ("Show code cell source") instead of "Toggle hidden content".
6. It checks the scripts and stylesheets that remain: a page that would load one from another
   site (``https://...`` or ``//host/...``) gets a warning, which ``jupyter-book build -W``
   turns into a failed build.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

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
        # tqdm pads with figure spaces (U+2007), which never break: plain spaces let it wrap on a phone
        left, right = ({"value": str(p.get("value", "")).translate({0x2007: " ", 0xA0: " "})} for p in (left, right))
        value, top = float(bar.get("value") or 0), float(bar.get("max") or 1)
        return ('<div class="nnbook-progress" style="display:flex;flex-wrap:wrap;gap:.5em;align-items:center;white-space:normal">'
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
    """``html-page-context`` handler: steps 1–4 and 6 of the module docstring."""
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
            if key in seen or (drop_thebe and _is_thebe_script(asset)) \
                    or "widget-state+json" in attributes.get("type", ""):
                continue
            seen.add(key)
            kept.append(asset)
        if not no_widgets:
            logger.warning("page %r shows a saved widget other than a progress bar; the static site "
                           "has no widget manager: show it as a figure or an nnbook.widgets.Panel",
                           pagename, type="offline", location=pagename)
        scripts[:] = kept  # in place: Sphinx resets the shared list before the next page

    outside = [f"script {_filename(asset)}" for asset in context.get("script_files") or []
               if _is_external(_filename(asset))]
    outside += [f"stylesheet {_filename(asset)}" for asset in context.get("css_files") or []
                if _is_external(_filename(asset))]
    for what in outside:
        logger.warning("page %r loads a %s from another site; the book must work offline: serve "
                       "it from _static/ (see tools/vendor_assets.py)", pagename, what,
                       type="offline", location=pagename)


_LABEL_FIXES = (
    (re.compile(r'(class="btn search-button-field search-button__button[^"]*" title="Search") '
                r'aria-label="Search"'), r'\1 aria-label="Search Ctrl+K"'),
    (re.compile(r'(<i class="theme-switch [^"]*" data-mode="\w+")\s+title="[^"]*"'), r"\1"),
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
)


def fix_theme_labels(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished`` handler: step 5 of the module docstring, on every written page."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = original = page.read_text(encoding="utf-8")
        for pattern, replacement in _LABEL_FIXES:
            text = pattern.sub(replacement, text)
        if text != original:
            page.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    # After the handlers of myst-nb (per-page widget scripts) and Sphinx (MathJax), priority 500.
    app.connect("html-page-context", clean_page_assets, priority=900)
    app.connect("build-finished", fix_theme_labels)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
