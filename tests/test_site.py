"""Checks of the built static site: complete, offline, and working in a real browser.

The site is built once per test session with ``make book`` (the README's command: assets from
npm, then ``NNBOOK_WIDGETS=static jupyter-book build --all -W -n --keep-going .``). A build is
reused when ``make book`` last succeeded after the newest source file changed, so running the
tests right after ``make book`` costs no second build.

Every check iterates over the pages ``_toc.yml`` lists (chapters, exercises, ...), so new
chapters are tested as soon as they are added to the table of contents.

Without a browser:
  * every page in the toc was built; every local ``href``/``src`` resolves (files and anchors);
  * no page loads a script, stylesheet or font from another site (the book works offline);
  * every chapter cell tagged ``nbval-check-output`` printed its committed output (nbval's
    comparison, on the build's execution: the chapters run once per test session);
  * the vendored MathJax is the version in package-lock.json; no page needs a widget manager;
  * launch buttons (Binder, Colab, JupyterHub) built from the one configured repository URL, or
    none at all when none is configured; the .ipynb download, the repository link and
    the search button are on the pages.

In headless Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright; skipped when it is
not installed), with every request to a host other than 127.0.0.1 blocked:
  * every page loads without a JavaScript error and without asking for an outside resource;
  * all math is typeset by MathJax (no raw ``\\(``, ``$$`` left, no TeX error);
  * chapter pages show their figures, and every image on a page loads;
  * every slider panel shows the frame (and its text alternative) of every moved combination,
    also from the keyboard;
  * axe-core finds no serious or critical accessibility violation on any page;
  * the search page finds the landing page.
A full-page screenshot of each page is saved as ``_build/screenshots/<page>.png``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from sphinx_external_toc.api import GlobItem, UrlItem
from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
BOOK_OK = BUILD / ".book-ok"  # written by `make book` after a successful build
SCREENSHOTS = BUILD / "screenshots"
SOURCE_SUFFIXES = (".ipynb", ".md", ".rst")
# Files that never reach the site: changing them does not make a build stale.
NOT_SITE_SOURCES = ("tests/", "benchmarks/", ".ci/", "README.md", ".gitignore")

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


# --------------------------------------------------------------------------- the pages of the toc

@dataclass(frozen=True)
class TocPage:
    """One page listed in ``_toc.yml``: its docname (``chapters/01_neuron``) and source file."""

    docname: str
    source: Path

    @property
    def html(self) -> Path:
        return HTML / f"{self.docname}.html"

    @property
    def is_notebook(self) -> bool:
        return self.source.suffix == ".ipynb"

    @property
    def is_chapter(self) -> bool:
        return self.docname.startswith("chapters/")


def _source_of(docname: str) -> Path:
    for suffix in SOURCE_SUFFIXES:
        if (ROOT / f"{docname}{suffix}").is_file():
            return ROOT / f"{docname}{suffix}"
    raise FileNotFoundError(f"_toc.yml lists {docname!r} but there is no {docname}.ipynb/.md/.rst")


def toc_pages() -> list[TocPage]:
    """The pages of ``_toc.yml`` in reading order (globs expanded, external URLs left out)."""
    site_map = parse_toc_yaml(ROOT / "_toc.yml")
    order: list[str] = []

    def visit(key: str) -> None:
        # `file: chapters/01_neuron` and `file: chapters/01_neuron.ipynb` name the same page.
        docname = next((key[:-len(suffix)] for suffix in SOURCE_SUFFIXES if key.endswith(suffix)), key)
        if docname in order:
            return
        order.append(docname)
        for subtree in site_map[key].subtrees:
            for item in subtree.items:
                if isinstance(item, UrlItem):
                    continue
                if isinstance(item, GlobItem):
                    matches = sorted({str(p.relative_to(ROOT).with_suffix("")).replace(os.sep, "/")
                                      for suffix in SOURCE_SUFFIXES
                                      for p in ROOT.glob(f"{item}{suffix}")})
                    for match in matches:
                        if match not in order:
                            order.append(match)
                    continue
                visit(str(item))

    visit(site_map.root.docname)
    return [TocPage(name, _source_of(name)) for name in order]


PAGES = toc_pages()
PAGE_IDS = [page.docname for page in PAGES]
NOTEBOOK_PAGES = [page for page in PAGES if page.is_notebook]


# ------------------------------------------------------------------------------ building the site

def _site_sources() -> list[Path] | None:
    """Every file the site is built from (what git tracks or would track, minus tests and the
    like); ``None`` when git cannot tell, in which case the site is always rebuilt."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, check=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return None
    names = [name for name in listing.split("\0") if name]
    return [ROOT / name for name in names
            if not name.startswith(NOT_SITE_SOURCES) and (ROOT / name).is_file()]


def _build_is_fresh() -> bool:
    sources = _site_sources()
    if sources is None or not BOOK_OK.is_file() or not HTML.is_dir():
        return False
    newest_source = max(path.stat().st_mtime for path in sources)
    return BOOK_OK.stat().st_mtime > newest_source


def _build_failure(result: subprocess.CompletedProcess) -> str:
    """The build's warnings and errors, then its last lines (colours and kernel chatter removed)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line)
             for line in (result.stdout + "\n" + result.stderr).splitlines()]
    lines = [line for line in lines if line.strip() and "[IPKernelApp]" not in line]
    problems = [line for line in lines if re.search(r"WARNING|ERROR|Error|Traceback", line)]
    return (f"`make book` failed (exit code {result.returncode}).\n"
            + ("Warnings and errors:\n" + "\n".join(problems[:40]) + "\n" if problems else "")
            + "Last lines:\n" + "\n".join(lines[-15:]))


@pytest.fixture(scope="session")
def site() -> Path:
    """``_build/html``, built by ``make book`` unless an up-to-date successful build exists."""
    BUILD.mkdir(exist_ok=True)
    # One build even when pytest-xdist runs several workers: the others wait and reuse it.
    with open(BUILD / ".site-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _build_is_fresh():
            if shutil.which("make") is None:
                pytest.fail("`make` is needed to build the site (`make book`)")
            result = subprocess.run(["make", "book"], cwd=ROOT, capture_output=True, text=True)
            if result.returncode != 0:
                pytest.fail(_build_failure(result), pytrace=False)
    return HTML


# --------------------------------------------------------------------------------- HTML scanning

class _Scan(HTMLParser):
    """Start tags (with attributes) and element ids of one HTML file."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append((tag, values))
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.ids.add(values["name"])

    handle_startendtag = handle_starttag


@functools.cache
def scan(path: Path) -> _Scan:
    parser = _Scan()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _is_external(url: str) -> bool:
    """True for URLs that leave the site (``https://...``, ``//host/...``, ``mailto:``...)."""
    return bool(urlsplit(url).scheme) or url.startswith("//")


def _site_html_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*.html")
                  if not path.relative_to(root).parts[0].startswith(("_static", "_sources")))


# --------------------------------------------------------------------------------- static checks

@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_toc_page_is_built(site: Path, page: TocPage) -> None:
    assert page.html.is_file(), f"{page.source.name} is in _toc.yml but {page.html} was not built"
    assert scan(page.html).tags, f"{page.html} is empty"


def test_site_has_landing_search_and_index_pages(site: Path) -> None:
    for name in ("index.html", "search.html", "genindex.html", "searchindex.js"):
        assert (site / name).is_file(), f"the build did not write {name}"


def test_every_internal_link_resolves(site: Path) -> None:
    broken = []
    for html_file in _site_html_files(site):
        for tag, attrs in scan(html_file).tags:
            for attr in ("href", "src"):
                url = attrs.get(attr, "").strip()
                if not url or _is_external(url):
                    continue
                parts = urlsplit(url)
                target = (html_file.parent / unquote(parts.path)).resolve() if parts.path else html_file
                where = f"{html_file.relative_to(site)}: <{tag} {attr}={url!r}>"
                if not target.is_relative_to(site.resolve()):
                    broken.append(f"{where} points outside the site")
                    continue
                if target.is_dir():
                    target = target / "index.html"
                if not target.is_file():
                    broken.append(f"{where}: {target.relative_to(site.resolve())} does not exist")
                elif parts.fragment and target.suffix == ".html" \
                        and unquote(parts.fragment) not in scan(target).ids:
                    broken.append(f"{where}: no id {parts.fragment!r} in {target.name}")
    assert not broken, "broken links in the built site:\n" + "\n".join(broken)


def test_no_page_loads_scripts_or_styles_from_another_site(site: Path) -> None:
    remote = []
    for html_file in _site_html_files(site):
        for tag, attrs in scan(html_file).tags:
            rel = attrs.get("rel", "").lower().split()
            if tag == "script" and _is_external(attrs.get("src", "")):
                remote.append(f"{html_file.relative_to(site)}: <script src={attrs['src']!r}>")
            elif tag == "link" and _is_external(attrs.get("href", "")) and {
                    "stylesheet", "preload", "modulepreload", "icon", "prefetch"} & set(rel):
                remote.append(f"{html_file.relative_to(site)}: <link rel={attrs['rel']!r} "
                              f"href={attrs['href']!r}>")
    # Not even inline scripts may name a CDN (e.g. a loader that fetches a library on demand).
    cdn = re.compile(r"(?:unpkg\.com|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com)[^\s\"'<>]*")
    for html_file in _site_html_files(site):
        for match in sorted(set(cdn.findall(html_file.read_text(encoding="utf-8")))):
            remote.append(f"{html_file.relative_to(site)}: names the CDN {match}")
    # Stylesheets must not pull fonts or styles from elsewhere either.
    css_url = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(?!data:)((?:https?:)?//[^'")\s]+)""")
    for css in sorted(site.rglob("*.css")):
        for match in css_url.finditer(css.read_text(encoding="utf-8", errors="replace")):
            remote.append(f"{css.relative_to(site)}: loads {match.group(1)}")
    assert not remote, "the site must work offline, but it loads:\n" + "\n".join(remote)


def test_vendored_javascript_matches_package_lock(site: Path) -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    served = json.loads((site / "_static" / "jslib" / "versions.json").read_text(encoding="utf-8"))
    assert set(served) == {"mathjax"}          # no widget manager, no RequireJS: no page needs them
    for package, info in served.items():
        assert info["version"] == lock[f"node_modules/{package}"]["version"], package
    assert served["mathjax"]["version"].startswith("3.")
    for path in ("mathjax/tex-mml-chtml.js", "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"):
        assert (site / "_static" / "jslib" / path).is_file(), f"_static/jslib/{path} is missing"


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _links(page: TocPage) -> list[str]:
    return [attrs["href"] for tag, attrs in scan(page.html).tags if tag == "a" and "href" in attrs]


def _repository_url() -> str | None:
    """The one configured repository URL, or None (then the site has no launch or repository links)."""
    return ((_config().get("repository") or {}).get("url") or "").rstrip("/") or None


LAUNCH_HOSTS = ("mybinder.org", "colab.research.google.com", "/hub/user-redirect", "/issues/new")


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_repository_issue_and_search_buttons(site: Path, page: TocPage) -> None:
    repo_url = _repository_url()
    links = _links(page)
    classes = " ".join(attrs.get("class", "") for _, attrs in scan(page.html).tags)
    assert "search-button" in classes, f"{page.docname}: no search button"
    if repo_url is None:   # nothing configured: no link to a repository or launch host at all
        off = [link for link in links if any(host in link for host in LAUNCH_HOSTS)]
        assert not off, f"{page.docname}: links to a repository or launch host none is configured for: {off}"
        return
    assert repo_url in links, f"{page.docname}: no link to the repository {repo_url}"
    assert any(link.startswith(f"{repo_url}/issues/new") for link in links), \
        f"{page.docname}: no 'open an issue' button"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES or [pytest.param(None, marks=pytest.mark.skip(
    reason="_toc.yml lists no notebook yet; launch and download buttons are on notebook pages"))],
    ids=[page.docname for page in NOTEBOOK_PAGES] or ["no-notebook"])
def test_notebook_page_has_launch_and_download_buttons(site: Path, page: TocPage) -> None:
    config = _config()
    links = _links(page)
    if _repository_url() is not None:   # every launch link is built from the one configured URL
        repo, launch = config["repository"], config.get("launch_buttons") or {}
        owner_repo = urlsplit(repo["url"]).path.strip("/")
        notebook = f"{repo.get('path_to_book') or ''}{page.docname}.ipynb".lstrip("/")
        expected = {
            "Binder": ("binderhub_url", f"/v2/gh/{owner_repo}/{repo.get('branch', 'main')}?urlpath="),
            "Colab": ("colab_url", f"/github/{owner_repo}/blob/{repo.get('branch', 'main')}/{notebook}"),
            "JupyterHub": ("jupyterhub_url", "/hub/user-redirect/git-pull?repo="),
        }
        for name, (key, path) in expected.items():
            if launch.get(key):
                prefix = launch[key].rstrip("/") + path
                assert any(link.startswith(prefix) and notebook in link for link in links), \
                    f"{page.docname}: no {name} launch button (a link starting {prefix!r} to {notebook})"
    downloads = [link for link in links if link.endswith(f"_sources/{page.docname}.ipynb")]
    assert downloads, f"{page.docname}: no 'download .ipynb' button"
    downloaded = (page.html.parent / downloads[0]).resolve()
    assert "cells" in json.loads(downloaded.read_text(encoding="utf-8")), \
        f"{downloads[0]} is not a notebook"


# ---------------------------------------------------------------- the chapters' checked outputs

#: what nbval leaves out of a comparison (nbval.plugin.IPyNbFile.skip_compare, images included)
NBVAL_SKIP = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
              "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")


def _compared(outputs: list) -> dict[str, list]:
    """A cell's outputs as nbval compares them: streams merged, then each field and MIME type."""
    from collections import defaultdict

    from nbval.plugin import coalesce_streams, transform_streams_for_comparison

    fields = defaultdict(list)
    for output in transform_streams_for_comparison(coalesce_streams(outputs)):
        for key, value in output.items():
            if key == "data":
                for mime, data in value.items():
                    if mime not in NBVAL_SKIP:
                        fields[mime].append(data)
            elif key not in NBVAL_SKIP:
                fields[key].append(value)
    return dict(fields)


@pytest.mark.parametrize("chapter", sorted((ROOT / "chapters").glob("*.ipynb")), ids=lambda p: p.stem)
def test_chapter_prints_what_its_text_claims(site: Path, chapter: Path) -> None:
    """``pytest --nbval-lax`` of a chapter, on the book build's own execution (one run, not two):
    every cell tagged ``nbval-check-output`` printed exactly its committed output."""
    import nbformat

    committed = nbformat.read(chapter, as_version=4).cells
    executed = nbformat.read(BUILD / "jupyter_execute" / "chapters" / chapter.name, as_version=4).cells
    assert [c.source for c in committed] == [c.source for c in executed], \
        f"{chapter.name}: the build executed other cells than the committed notebook has"
    checked = [(k, ref, new) for k, (ref, new) in enumerate(zip(committed, executed))
               if ref.cell_type == "code" and "nbval-check-output" in ref.metadata.get("tags", [])]
    assert checked, f"{chapter.name}: no cell is tagged nbval-check-output"
    for k, ref, new in checked:
        want, got = _compared(ref.outputs), _compared(new.outputs)
        assert got == want, (f"{chapter.name} cell {k} printed other output than the committed one "
                             f"(re-run it with tools.run_notebooks if the change is right):\n"
                             f"committed: {want}\nnow:       {got}\nsource:\n{ref.source[:300]}")


# ----------------------------------------------------------------------------------- the browser

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="session")
def site_url(site: Path):
    """The built site served over HTTP on 127.0.0.1 (a free port) from a background thread."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@dataclass
class Visit:
    """A page opened in the browser and what happened while it loaded."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[tuple[str, str]] = field(default_factory=list)  # (resource type, url)
    failed: list[str] = field(default_factory=list)  # local requests that failed or 4xx/5xx


# MathJax typesets after the page loaded, then its web fonts arrive.
TYPESET_JS = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        await MathJax.startup.promise;
    }
    await document.fonts.ready;
}"""


@contextlib.contextmanager
def open_page(browser, url: str):
    """Open ``url`` with every non-local request blocked; wait for the math and its fonts."""
    page = browser.new_page()
    visit = Visit(page)

    def route(route) -> None:
        request = route.request
        if urlsplit(request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            visit.blocked.append((request.resource_type, request.url))
            route.abort()

    def on_console(message) -> None:
        # Browsers ask every server for /favicon.ico on their own; no page refers to it.
        if message.type == "error" and \
                urlsplit(message.location.get("url") or "").path != "/favicon.ico":
            visit.console_errors.append(f"{message.text} (at {message.location.get('url')})")

    def on_response(response) -> None:
        if response.status >= 400:
            visit.failed.append(f"HTTP {response.status} {response.url}")

    def on_request_failed(request) -> None:
        if urlsplit(request.url).hostname in LOCAL_HOSTS:
            visit.failed.append(f"{request.failure} {request.url}")

    page.route("**/*", route)
    page.on("console", on_console)
    page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    try:
        page.goto(url, wait_until="load")  # scripts, stylesheets and images are in
        page.evaluate(TYPESET_JS)
        yield visit
    finally:
        page.close()


MATH_REPORT_JS = r"""() => {
    const math = [...document.querySelectorAll('.math')];
    const untypeset = math.filter(el => !el.querySelector('mjx-container'))
                          .map(el => el.textContent.trim().slice(0, 80));
    const errors = [...document.querySelectorAll('mjx-merror')]
                       .map(el => el.getAttribute('data-mjx-error') || el.textContent);
    const article = (document.querySelector('article') || document.body).cloneNode(true);
    article.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight')
           .forEach(el => el.remove());
    const text = article.textContent;
    const raw = ['\\(', '\\)', '\\[', '\\]', '$$', '\\begin{']
                    .filter(delimiter => text.includes(delimiter));
    return {n_math: math.length, n_typeset: document.querySelectorAll('mjx-container').length,
            untypeset, errors, raw};
}"""

# Images are loading="lazy" (tools/sphinx_offline.py): load each one, then check it.
IMAGES_JS = """async () => Promise.all([...document.querySelectorAll('article img')].map(async img => {
    img.loading = 'eager';
    await img.decode().catch(() => null);
    return {src: img.getAttribute('src').slice(0, 80), loaded: img.complete && img.naturalWidth > 0};
}))"""


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_page_in_browser(browser, site_url: str, page: TocPage) -> None:
    with open_page(browser, f"{site_url}/{page.docname}.html") as visit:
        shot = SCREENSHOTS / f"{page.docname}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        visit.page.screenshot(path=str(shot), full_page=True, animations="disabled")

        outside = [f"{kind} {url}" for kind, url in visit.blocked
                   if kind in ("script", "stylesheet", "font")]
        assert not outside, f"{page.docname} tried to load from another site:\n" + "\n".join(outside)
        assert not visit.page_errors, f"{page.docname}: JavaScript errors:\n" + "\n".join(visit.page_errors)
        assert not visit.console_errors, \
            f"{page.docname}: errors in the console:\n" + "\n".join(visit.console_errors)
        assert not visit.failed, f"{page.docname}: requests failed:\n" + "\n".join(visit.failed)

        math = visit.page.evaluate(MATH_REPORT_JS)
        if math["n_math"]:
            assert math["n_typeset"] >= math["n_math"], f"{page.docname}: MathJax did not run"
        assert not math["untypeset"], f"{page.docname}: math left untypeset: {math['untypeset']}"
        assert not math["errors"], f"{page.docname}: TeX errors: {math['errors']}"
        assert not math["raw"], f"{page.docname}: raw TeX delimiters {math['raw']} in the text"

        images = visit.page.evaluate(IMAGES_JS)
        broken = [image["src"] for image in images if not image["loaded"]]
        assert not broken, f"{page.docname}: images that did not load: {broken}"
        if page.is_chapter:
            assert images, f"{page.docname}: a chapter page without a single figure"


def _has_range_input(page: TocPage) -> bool:
    return page.html.is_file() and any(
        tag == "input" and attrs.get("type", "").lower() == "range"
        for tag, attrs in scan(page.html).tags)


PANEL_DATA = re.compile(r'<div class="nnbook-panel" id="([^"]+)".*?var d = (\{.*?\});\n', re.S)

# Set the controls of one panel to `pos`, then time until the new frame is decoded and shown.
MOVE_JS = """async ([pid, pos]) => {
    const img = document.getElementById(pid + '-img');
    const t0 = performance.now();
    pos.forEach((p, k) => {
        const el = document.getElementById(pid + '-c' + k);
        el.value = String(p);
        el.dispatchEvent(new Event('input', {bubbles: true}));
    });
    await img.decode();
    const ms = performance.now() - t0;
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    c.getContext('2d').drawImage(img, 0, 0);
    return {ms, src: img.getAttribute('src'), alt: img.alt, png: c.toDataURL('image/png')};
}"""

# A page's own first-load bytes: the page and every resource it fetched, except the files under
# _static/ that every page shares (the theme, MathJax).
WEIGHT_JS = """() => performance.getEntriesByType('navigation').concat(
        performance.getEntriesByType('resource'))
    .filter(e => !new URL(e.name).pathname.includes('/_static/'))
    .reduce((sum, e) => sum + e.encodedBodySize, 0)"""

def _panel_report(key: str, value) -> None:
    """Measurements for the record: _build/panel-report.json (a key per test result)."""
    path = BUILD / "panel-report.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    report[key] = value
    path.write_text(json.dumps(report, indent=1, sort_keys=True))


def _away(d: dict) -> list[int]:
    """Every control moved away from its start (to its last value, or its first)."""
    return [(0 if s == len(lab) - 1 else len(lab) - 1) if len(lab) > 1 else s
            for lab, s in zip(d["labels"], d["start"])]


def _alt_for(d: dict, pos: list[int]) -> str:
    return d["alt"] + " for " + ", ".join(f"{name} = {lab[p]}" for name, lab, p in
                                          zip(d["names"], d["labels"], pos))


def _file_for(d: dict, pos: list[int]) -> str:
    f = 0
    for lab, p in zip(d["labels"], pos):
        f = f * len(lab) + p
    return d["url"] + d["files"][d["flat"][f]]


@pytest.mark.parametrize("page", [p for p in PAGES if p.is_chapter], ids=lambda p: p.docname)
def test_chapter_page_first_load_is_light(browser, site_url: str, page: TocPage) -> None:
    with open_page(browser, f"{site_url}/{page.docname}.html") as visit:
        weight = visit.page.evaluate(WEIGHT_JS)
        scripts = visit.page.eval_on_selector_all("script[src]", "s => s.map(e => e.src)")
    _panel_report(f"first-load bytes {page.docname}", weight)
    assert not [src for src in scripts if "html-manager" in src or "require.js" in src], \
        f"{page.docname} loads the ipywidgets manager but shows no live widget"
    assert weight <= 1_000_000, f"{page.docname}: first load {weight / 1e6:.2f} MB > 1 MB"


def _panel_screenshots(tab, page: TocPage, pid: str) -> None:
    """The panel at desktop and phone width: _build/screenshots/<page>-<panel>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        tab.set_viewport_size({"width": width, "height": 900})
        tab.locator(f"#{pid}").scroll_into_view_if_needed()
        tab.wait_for_timeout(600)                           # the theme's layout settles
        tab.locator(f"#{pid}").screenshot(animations="disabled", path=str(
            SCREENSHOTS / f"{page.docname.replace('/', '_')}-{pid}-{width}.png"))
    tab.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("page", [p for p in PAGES if p.is_chapter], ids=lambda p: p.docname)
def test_every_panel_shows_the_frame_of_every_moved_combination(browser, site_url: str,
                                                                page: TocPage) -> None:
    """Every panel: one control moved at a time, then all its controls at once; the shown image
    is that combination's frame file, pixel for pixel (decoded by the browser); a slider move
    (one step, after the pointer entered the panel) shows its frame within 100 ms. A slider that
    offers only some of its values (the panel's caption says so) offers at least 7; a dropdown
    offers every option."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    def rgba(png: bytes):
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))

    if not _has_range_input(page):
        pytest.skip(f"{page.docname} has no slider panel")
    text = page.html.read_text(encoding="utf-8")
    panels = PANEL_DATA.findall(text)
    assert panels, f"{page.docname}: no static panel found"
    timings, jumps, frames = [], [], []
    with open_page(browser, f"{site_url}/{page.docname}.html") as visit:
        for pid, payload in panels:
            d = json.loads(payload)
            assert d["start"] and len(d["flat"]) == np.prod([len(lab) for lab in d["labels"]])
            frames.append(len(d["flat"]))
            widget = text[text.index(f'id="{pid}"'):].split("<script>", 1)[0]
            for k, (name, lab) in enumerate(zip(d["names"], d["labels"])):
                slider = f'<input type="range" id="{pid}-c{k}"' in widget
                assert f"{name} offers" not in widget or (slider and len(lab) >= 7), \
                    f"{page.docname} {pid}: {name} offers only {len(lab)} of its values"
            visit.page.locator(f"#{pid}").scroll_into_view_if_needed()
            visit.page.locator(f"#{pid}").hover()           # the panel preloads the next frames
            # slider moves, one step of one control at a time (timed), then every control at once
            steps, pos = [], list(d["start"])
            for k, lab in enumerate(d["labels"]):
                if len(lab) > 1:
                    pos[k] += 1 if pos[k] + 1 < len(lab) else -1
                    steps.append(list(pos))
            for n, pos in enumerate(steps + [_away(d), d["start"]]):
                visit.page.wait_for_timeout(150)                # a reader's pace: preloads finish
                shown = visit.page.evaluate(MOVE_JS, [pid, pos])
                assert shown["src"] == _file_for(d, pos)
                assert shown["alt"] == _alt_for(d, pos), (pid, pos)   # the frame's own text alternative
                frame = (page.html.parent / shown["src"]).resolve()
                assert frame.is_file(), f"{page.docname}: {shown['src']} was not built"
                browser_pixels = rgba(base64.b64decode(shown["png"].split(",", 1)[1]))
                assert np.array_equal(browser_pixels, rgba(frame.read_bytes())), (pid, pos)
                (timings if n < len(steps) else jumps).append(shown["ms"])
                if n == len(steps):                         # every control moved: look at it
                    _panel_screenshots(visit.page, page, pid)
        assert not visit.page_errors, visit.page_errors
        assert not visit.console_errors, visit.console_errors
        assert not visit.failed, visit.failed
    _panel_report(f"panels {page.docname}", {
        "panels": len(panels), "frames": frames, "slider moves": len(timings), "move max ms": max(timings),
        "move median ms": sorted(timings)[len(timings) // 2], "jump (all controls) max ms": max(jumps)})
    assert max(timings) <= 100, f"{page.docname}: a slider move took {max(timings):.0f} ms to show"


def test_a_panel_works_from_the_keyboard(browser, site_url: str) -> None:
    """Tab to a slider, press the arrow keys: the frame, its text alternative and the announced
    value follow; the slider is labelled for screen readers."""
    page = next(p for p in PAGES if p.is_chapter and _has_range_input(p))
    pid, payload = PANEL_DATA.findall(page.html.read_text(encoding="utf-8"))[0]
    d = json.loads(payload)
    with open_page(browser, f"{site_url}/{page.docname}.html") as visit:
        slider = visit.page.locator(f"#{pid}-c0")
        assert slider.evaluate("el => el.labels[0].textContent") == d["names"][0]
        slider.focus()
        pos = list(d["start"])
        for key, step in (("ArrowRight", 1), ("ArrowRight", 1), ("ArrowLeft", -1)):
            if not 0 <= pos[0] + step < len(d["labels"][0]):
                continue
            visit.page.keyboard.press(key)
            pos[0] += step
            img = visit.page.locator(f"#{pid}-img")
            visit.page.wait_for_function(
                "([id, src]) => document.getElementById(id).getAttribute('src') === src",
                arg=[f"{pid}-img", _file_for(d, pos)], timeout=5000)
            assert img.get_attribute("alt") == _alt_for(d, pos)
            assert slider.get_attribute("aria-valuetext") == d["labels"][0][pos[0]]
            assert visit.page.locator(f"#{pid}-o0").text_content() == d["labels"][0][pos[0]]
        assert pos != d["start"], "the keys moved nothing"


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_JS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes, e.g. ${
        v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')})`)"""


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_page_has_no_serious_accessibility_violation(browser, site_url: str, page: TocPage) -> None:
    """axe-core (pinned in package.json, injected from node_modules/: no network) on every page."""
    assert AXE.is_file(), "axe-core is missing: `make assets` installs it (npm ci)"
    with open_page(browser, f"{site_url}/{page.docname}.html") as visit:
        visit.page.add_script_tag(path=str(AXE))
        violations = visit.page.evaluate(AXE_JS)
    _panel_report(f"axe serious+critical {page.docname}", len(violations))
    assert not violations, f"{page.docname}:\n" + "\n".join(violations)


def test_search_finds_the_landing_page(browser, site_url: str) -> None:
    root = PAGES[0]
    with open_page(browser, f"{site_url}/{root.docname}.html") as visit:
        title = visit.page.locator("article h1").first.text_content()
    word = max(re.findall(r"[A-Za-z]{4,}", title), key=len)
    with open_page(browser, f"{site_url}/search.html?q={word}") as visit:
        visit.page.wait_for_selector("#search-results ul.search li a", timeout=10000)
        hits = visit.page.eval_on_selector_all("#search-results ul.search li a",
                                               "links => links.map(a => a.getAttribute('href'))")
        assert any(hit.split("#")[0].split("?")[0].endswith(f"{root.docname}.html") for hit in hits), \
            f"searching {word!r} did not find {root.docname}: {hits}"
        assert not visit.page_errors, visit.page_errors
        assert not visit.console_errors, visit.console_errors
