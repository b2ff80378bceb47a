"""Execute the book's chapters in parallel into Jupyter Book's execution cache.

``make book`` runs this before ``jupyter-book build``: the cache is emptied, every chapter is
executed afresh (so a change to nnlib always shows up on the pages), two kernels at a time, and the
build then takes the executed notebooks from the cache instead of running them one after another.
A chapter that fails here is not cached, so the build executes it again itself and fails on it,
naming the notebook.
"""
from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import yaml
from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]
    cache_dir = ROOT / config["cache"]
    # The static panels write their frame files here (nnbook.widgets.FRAMES_DIR); _config.yml's
    # html_extra_path copies the folder next to the pages. Emptied: no frame of an older build.
    frames = ROOT / "_build" / "frames"
    shutil.rmtree(frames, ignore_errors=True)
    (ROOT / "_build" / "panel-export.tsv").unlink(missing_ok=True)   # panel, frames, files, seconds
    (frames / "panel-frames").mkdir(parents=True)
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache = get_cache(str(cache_dir))
    for notebook in sorted((ROOT / "chapters").glob("*.ipynb")):
        cache.add_nb_to_project(str(notebook))
    logger = logging.getLogger("execute_book")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = load_executor("local-parallel", cache=cache, logger=logger).run_and_cache(
        timeout=config.get("timeout", 180))
    for uri in result.errored + result.excepted:
        print(f"execute_book: {Path(uri).relative_to(ROOT)} failed; the build will show why",
              file=sys.stderr)
    print(f"execute_book: {len(result.succeeded)} chapters executed and cached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
