"""The site's switches: the install cell a launched notebook starts with, and the build without solutions."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import nbformat
import pytest
import yaml

from tools import book_options


def _run_cell(source: str, monkeypatch, *, nnlib_installed: bool) -> list:
    """Execute an install cell as a kernel would; return the commands it ran (none are run)."""
    calls = []
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real_find_spec(name, *a) if nnlib_installed or name != "nnlib"
                                          else None))
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw)))
    exec(compile(source, "<install cell>", "exec"), {})
    return calls


def test_install_cell_does_nothing_where_the_book_is_installed(monkeypatch):
    url = "https://github.com/someone/course"
    assert _run_cell(book_options.install_cell_source(url), monkeypatch, nnlib_installed=True) == []


def test_install_cell_installs_from_the_configured_repository_when_nnlib_is_missing(monkeypatch):
    url = "https://github.com/someone/course"
    calls = _run_cell(book_options.install_cell_source(url), monkeypatch, nnlib_installed=False)
    assert len(calls) == 1
    cmd, kwargs = calls[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert cmd[-1] == f"nnlib @ git+{url}" and kwargs == {"check": True}


def test_install_cell_without_a_repository_says_how_to_install(monkeypatch):
    with pytest.raises(ModuleNotFoundError, match="pip install -e ."):
        _run_cell(book_options.install_cell_source(None), monkeypatch, nnlib_installed=False)


def test_every_chapter_starts_with_the_install_cell_of_the_configured_url():
    assert book_options.main(["--check"]) == 0, "run `python -m tools.book_options --sync`"
    url = book_options.repository_url()
    for path in book_options._notebooks():
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.source == book_options.install_cell_source(url), path.name
        assert "remove-cell" in first.metadata.get("tags", []), f"{path.name}: the web page shows it"


def test_sync_writes_and_updates_the_install_cell(tmp_path, monkeypatch):
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import nnlib")])
    nbformat.write(nb, chapters / "01_x.ipynb")
    monkeypatch.setattr(book_options, "ROOT", tmp_path)
    assert book_options.stale(None) == [chapters / "01_x.ipynb"]
    assert book_options.sync(None) == [chapters / "01_x.ipynb"]
    assert book_options.stale(None) == [] and book_options.sync(None) == []
    url = "https://github.com/someone/course"
    assert book_options.stale(url) and book_options.sync(url)      # updated in place, not added
    cells = nbformat.read(chapters / "01_x.ipynb", as_version=4).cells
    assert len(cells) == 2 and url in cells[0].source and cells[1].source == "import nnlib"


def test_toc_without_solutions_keeps_everything_else(tmp_path):
    out = tmp_path / "toc.yml"
    book_options.toc_without_solutions(out)
    full = yaml.safe_load((book_options.ROOT / "_toc.yml").read_text())
    public = yaml.safe_load(out.read_text())
    assert [p["caption"] for p in public["parts"]] == \
        [p["caption"] for p in full["parts"] if p["caption"] != "Solutions"]
    assert "Solutions" in [p["caption"] for p in full["parts"]]
    assert not any("solutions/" in c["file"] for p in public["parts"] for c in p["chapters"])
    assert public["root"] == full["root"]
