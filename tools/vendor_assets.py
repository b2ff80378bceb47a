"""Copy the front-end files the static site serves itself into ``vendor/static/jslib/``.

The built book must work with no internet connection, so the JavaScript library its pages need
is installed from the npm registry at the version pinned in ``package-lock.json`` (``npm ci``,
run by ``make assets``) and served from the site instead of a CDN:

- ``mathjax`` 3.x, served at ``_static/jslib/mathjax/``: ``es5/tex-mml-chtml.js`` (typesets the
  math; Sphinx's default component) plus everything it loads on demand, relative to its own URL:
  the CHTML web fonts, TeX and MathML extensions, the context menu and the accessibility tools.

No page needs an ipywidgets manager (see ``tools/sphinx_offline.py``). ``axe-core``, pinned beside
MathJax as a development dependency, is not served: the browser tests inject it into each page to
check accessibility.

``_config.yml`` points Sphinx at it (``html_static_path: [vendor/static]``, ``mathjax_path``).
Two names are avoided on purpose: a root ``_static/`` folder (Jupyter Book
injects every ``.js``/``.css`` found there into every page) and ``_static/vendor/`` (the theme's
own folder; also, Sphinx does not copy static files whose path matches ``exclude_patterns``,
which lists ``vendor``).

Usage (``make assets`` does both steps)::

    npm ci --ignore-scripts
    python3 tools/vendor_assets.py            # node_modules/ -> vendor/static/jslib/

The script checks that ``node_modules/`` holds exactly the versions pinned in
``package-lock.json`` (a stale ``node_modules/`` would silently ship other versions), copies the
files, copies each package's licence, and writes ``vendor/static/jslib/versions.json`` listing
package versions and file counts. It uses the standard library only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Asset:
    """One npm package and the parts of it the site serves.

    ``copies`` maps a path inside the package (a file or a folder, copied recursively) to a path
    inside ``vendor/static/jslib/<target>/``. ``skip_suffixes`` drops files such as source maps.
    """

    package: str
    target: str
    copies: tuple[tuple[str, str], ...]
    skip_suffixes: tuple[str, ...] = (".map",)


ASSETS = (
    Asset(
        package="mathjax",
        target="mathjax",
        copies=(
            # The combined component Sphinx loads by default (TeX and MathML input, CHTML output).
            ("es5/tex-mml-chtml.js", "tex-mml-chtml.js"),
            # Loaded on demand, relative to tex-mml-chtml.js: the CHTML web fonts, TeX extensions
            # pulled in by \require or the autoloader, MathML extensions, the context menu and
            # the accessibility tools (explorer, speech rule engine with its language maps).
            ("es5/output/chtml", "output/chtml"),
            ("es5/input", "input"),
            ("es5/ui", "ui"),
            ("es5/a11y", "a11y"),
            ("es5/sre", "sre"),
        ),
    ),
)

LICENSE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE")


def locked_versions(lock_path: Path) -> dict[str, str]:
    """Return ``{package: version}`` for the top-level packages pinned in ``package-lock.json``."""
    try:
        lock = json.loads(lock_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"vendor_assets: {lock_path} is missing; it pins the site's JavaScript "
                         "libraries (restore it with git, or create it with `npm install`)") from None
    packages = lock.get("packages", {})
    versions = {}
    for asset in ASSETS:
        entry = packages.get(f"node_modules/{asset.package}")
        if entry is None or "version" not in entry:
            raise SystemExit(f"vendor_assets: {asset.package} is not pinned in {lock_path.name}; "
                             f"add it to package.json and run `npm install`")
        versions[asset.package] = entry["version"]
    return versions


def installed_version(node_modules: Path, package: str) -> str | None:
    """The version of ``package`` installed under ``node_modules`` (None when absent)."""
    manifest = node_modules / package / "package.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8")).get("version")


def _copy_tree(src: Path, dest: Path, skip_suffixes: tuple[str, ...]) -> int:
    """Copy a file or a folder (recursively) from ``src`` to ``dest``; return the file count."""
    if src.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
        return 1
    count = 0
    for path in sorted(src.rglob("*")):
        if path.is_dir() or path.name.endswith(skip_suffixes):
            continue
        target = dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        count += 1
    return count


def vendor(node_modules: Path, out_dir: Path, lock_path: Path) -> dict[str, dict[str, object]]:
    """Copy every asset from ``node_modules`` into ``out_dir`` and return what was copied.

    Raises ``SystemExit`` with the command to run when a package is missing or its installed
    version differs from the lock file.
    """
    versions = locked_versions(lock_path)
    problems = []
    for asset in ASSETS:
        have = installed_version(node_modules, asset.package)
        want = versions[asset.package]
        if have != want:
            problems.append(f"{asset.package}: package-lock.json pins {want}, "
                            f"node_modules has {have or 'nothing'}")
    if problems:
        raise SystemExit("vendor_assets: node_modules/ does not match package-lock.json:\n  "
                         + "\n  ".join(problems)
                         + "\nRun `npm ci --ignore-scripts` (or `make assets`) first.")

    if out_dir.exists():
        shutil.rmtree(out_dir)
    summary: dict[str, dict[str, object]] = {}
    for asset in ASSETS:
        package_dir = node_modules / asset.package
        target_dir = out_dir / asset.target
        n_files = 0
        for src_rel, dest_rel in asset.copies:
            src = package_dir / src_rel
            if not src.exists():
                raise SystemExit(f"vendor_assets: {asset.package}@{versions[asset.package]} has no "
                                 f"{src_rel}; the package layout changed, update ASSETS in "
                                 f"{Path(__file__).name}")
            n_files += _copy_tree(src, target_dir / dest_rel if dest_rel else target_dir,
                                  asset.skip_suffixes)
        licence = next((package_dir / name for name in LICENSE_NAMES
                        if (package_dir / name).is_file()), None)
        if licence is not None:
            shutil.copy2(licence, target_dir / "LICENSE.txt")
        manifest = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
        summary[asset.package] = {
            "version": versions[asset.package],
            "license": manifest.get("license", "see LICENSE.txt"),
            "served_at": f"_static/jslib/{asset.target}/",
            "files": n_files,
        }
    (out_dir / "versions.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n",
                                           encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules",
                        help="where `npm ci` installed the packages (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=ROOT / "vendor" / "static" / "jslib",
                        help="destination folder, served as _static/jslib/ (default: %(default)s)")
    parser.add_argument("--lock", type=Path, default=ROOT / "package-lock.json",
                        help="the npm lock file with the pinned versions (default: %(default)s)")
    args = parser.parse_args(argv)
    summary = vendor(args.node_modules, args.out, args.lock)
    for package, info in summary.items():
        print(f"vendored {package}@{info['version']}: {info['files']} files -> {info['served_at']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
