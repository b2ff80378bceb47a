"""The site's two switches, both read by ``make book``: the repository URL and the solutions pages.

**Repository URL.** Set once, as ``repository: url:`` in ``_config.yml``. With it the site shows
launch buttons (Binder, Colab) and repository links built from that URL; without it, none. A
notebook opened on Colab has no ``nnlib``, so the first cell of every chapter and of the project
installs the book's packages from that URL when ``nnlib`` is not importable, and does nothing on a
machine where the book is installed (``make lab``, the site build). ``--sync`` writes that cell
(tagged ``remove-cell``: the web page does not show it); ``--check`` exits 1 when a notebook's
cell does not match the configured URL (a test runs it).

**Solutions.** ``make book SOLUTIONS=no`` builds the site without the solutions pages (the
instructor's choice for a graded course): ``--toc OUT`` writes a copy of ``_toc.yml`` without
its Solutions part, and ``only_build_toc_files`` keeps the left-out pages out of the build.

Usage (from the repository root)::

    python -m tools.book_options --sync            # after changing repository.url
    python -m tools.book_options --check
    python -m tools.book_options --toc _build/toc-without-solutions.yml
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: the notebooks a reader launches: the chapters (exercises and solutions come from solutions/)
LAUNCHED = ("chapters/*.ipynb",)
MARK = "# Colab and other fresh machines:"


def repository_url(config_path: Path = ROOT / "_config.yml") -> str | None:
    """The one configured repository URL (without a trailing slash), or None."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    return ((config.get("repository") or {}).get("url") or "").rstrip("/") or None


def install_cell_source(url: str | None) -> str:
    """The first cell of a launched notebook: install nnlib and nnbook when nnlib is missing."""
    if url is None:
        what = ("the book's packages (nnlib, nnbook) must be installed (this site names no "
                "repository to install them from)")
        action = ('    raise ModuleNotFoundError("nnlib is not installed: in the book\'s folder run '
                  '`pip install -e .` (or `make lab`)")')
    else:
        what = "install the book's packages (nnlib, nnbook) if they are missing"
        action = ('    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",\n'
                  f'                    "nnlib @ git+{url}"], check=True)')
    return (f"{MARK} {what}.\n"
            "import importlib.util, subprocess, sys\n"
            'if importlib.util.find_spec("nnlib") is None:\n' + action)


def _notebooks():
    return sorted(p for pattern in LAUNCHED for p in ROOT.glob(pattern))


def _first_cell(nb):
    cell = nb.cells[0] if nb.cells else None
    return cell if cell is not None and cell.cell_type == "code" and cell.source.startswith(MARK) else None


def sync(url: str | None) -> list[Path]:
    """Write (or update) the install cell at the top of every launched notebook; return the changed."""
    changed = []
    for path in _notebooks():
        nb = nbformat.read(path, as_version=4)
        cell = _first_cell(nb)
        if cell is None:
            cell = nbformat.v4.new_code_cell("", metadata={"tags": ["remove-cell"]})
            nb.cells.insert(0, cell)
        elif cell.source == install_cell_source(url):
            continue
        cell.source, cell.outputs, cell.execution_count = install_cell_source(url), [], None
        nbformat.write(nb, path)
        changed.append(path)
    return changed


def stale(url: str | None) -> list[Path]:
    """The launched notebooks whose first cell is not the install cell for ``url``."""
    return [path for path in _notebooks()
            if (cell := _first_cell(nbformat.read(path, as_version=4))) is None
            or cell.source != install_cell_source(url)]


def toc_without_solutions(out: Path, toc_path: Path = ROOT / "_toc.yml") -> None:
    """Write a copy of the table of contents without its Solutions part."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    toc["parts"] = [part for part in toc["parts"] if part.get("caption") != "Solutions"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--sync", action="store_true", help="write the install cells")
    group.add_argument("--check", action="store_true", help="exit 1 if an install cell is stale")
    group.add_argument("--toc", type=Path, metavar="OUT", help="write a toc without solutions")
    args = parser.parse_args(argv)
    url = repository_url()
    if args.toc:
        toc_without_solutions(args.toc)
        return 0
    if args.sync:
        for path in sync(url):
            print(f"book_options: install cell written in {path.relative_to(ROOT)}")
        return 0
    bad = stale(url)
    for path in bad:
        print(f"book_options: {path.relative_to(ROOT)}: its first cell is not the install cell for "
              f"repository.url = {url}; run `python -m tools.book_options --sync`", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
