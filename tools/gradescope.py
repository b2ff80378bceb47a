"""The Gradescope export of the grader (``python -m tools.grade --gradescope OUT.zip``).

:func:`build_gradescope` writes an autograder archive in Gradescope's format (``setup.sh``,
``run_autograder``, the grader, the book's packages and the solutions: keep it private);
``run_autograder`` grades ``/autograder/submission/*.ipynb`` into
``/autograder/results/results.json`` (``AUTOGRADER_ROOT`` moves ``/autograder``,
``AUTOGRADER_PYTHON`` picks the interpreter) through ``python -m tools.grade SUBMISSION
--gradescope-results FILE``, i.e. :func:`gradescope_results`: one test per task, hidden checks
``after_published``. Grading itself is :mod:`tools.grade`'s.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tools.exercises import ROOT, SOLUTIONS_DIR, read, solution_paths, tasks
from tools.grade import (Failure, GradingError, Limits, Report, _clean, _plural, _unanswered, expand,
                         grade_many)

#: Only the site and the browser tests need these; the autograder image leaves them out.
GRADESCOPE_SKIPPED_REQUIREMENTS = ("jupyter-book", "jupyter-cache", "playwright", "pytest-xdist",
                                   "hypothesis")
GRADESCOPE_TOOLS = ("__init__.py", "grade.py", "gradescope.py", "exercises.py", "_nbval_plugin.py",
                    "run_notebooks.py")

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (an Ubuntu image with
# Python 3.11 or newer: choose the Ubuntu 24.04 base image). It installs Python, bubblewrap (the
# grader's sandbox, where the image allows it) and the book's pinned packages into a virtual
# environment beside this file. Written by `python -m tools.grade --gradescope`.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq || true
    apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
    apt-get install -y -qq bubblewrap >/dev/null 2>&1 \
        || echo "setup.sh: bubblewrap is not available; the grader will run without its sandbox"
fi
PY="${AUTOGRADER_SETUP_PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "setup.sh: Python 3.11 or newer is needed (choose the Ubuntu 24.04 base image)" >&2; exit 1; }
"$PY" -m venv "$SOURCE/.venv"
"$SOURCE/.venv/bin/python" -m pip install --quiet --upgrade pip
cd "$SOURCE"
"$SOURCE/.venv/bin/python" -m pip install --quiet -r requirements.txt   # pinned; nnlib and nnbook from here
"$SOURCE/.venv/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
"$SOURCE/.venv/bin/python" -m tools.grade --help >/dev/null
@MNIST@echo "setup.sh: the autograder is ready"
"""

MNIST_PREFETCH = """# a solution loads MNIST: download and verify it now (the grading sandbox has no network)
"$SOURCE/.venv/bin/python" -c "from nnbook.datasets import load_mnist; load_mnist(split='train'); load_mnist(split='test')" \\
    || echo "setup.sh: MNIST could not be downloaded; the notebooks fall back to the 8x8 digits"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades /autograder/submission/*.ipynb against the
# solutions in /autograder/source/solutions and writes /autograder/results/results.json.
# AUTOGRADER_ROOT moves /autograder (to test it locally), AUTOGRADER_PYTHON picks the interpreter
# (default: the virtual environment setup.sh made), AUTOGRADER_GRADE_ARGS adds grader options
# (e.g. "--timeout 60"). Written by `python -m tools.grade --gradescope`.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${AUTOGRADER_PYTHON:-$SOURCE/.venv/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
cd "$SOURCE" && "$PYTHON" -m tools.grade "$ROOT/submission" --gradescope-results "$RESULTS" \
    --solutions "$SOURCE/solutions" @SOLUTION@ ${AUTOGRADER_GRADE_ARGS:-}
if [ ! -s "$RESULTS" ]; then
    echo "run_autograder: the grader wrote no results (see the log above)" >&2
    printf '%s\n' '{"score": 0, "output": "The autograder failed before it could grade this submission; please tell your instructor.", "stdout_visibility": "hidden", "tests": []}' > "$RESULTS"
fi
exit 0
"""

GRADESCOPE_README = """# Autograder archive (private: it holds the reference solutions)

Written by `python -m tools.grade --gradescope` from the course-book repository. Upload this zip as
a Gradescope *programming assignment* autograder (base image: Ubuntu 24.04). `setup.sh` installs
the pinned packages; `run_autograder` grades each submitted notebook with `tools/grade.py` and
writes `results.json` (a test per task, hidden checks shown after the grades are published).
"""


def _gradescope_requirements() -> str:
    lines = []
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name = re.split(r"[=<>!~\[ ;]", line.strip(), maxsplit=1)[0].lower()
        if name in GRADESCOPE_SKIPPED_REQUIREMENTS:
            continue
        lines.append(line)
    return ("# The book's pinned requirements.txt without the site-only packages "
            f"({', '.join(GRADESCOPE_SKIPPED_REQUIREMENTS)}).\n" + "\n".join(lines) + "\n")


def build_gradescope(out: Path, solutions_dir: Path = SOLUTIONS_DIR, solution: Path | None = None) -> Path:
    """Write the Gradescope autograder archive ``out`` (a zip): ``setup.sh`` and ``run_autograder``
    at its root, the grader (``tools/``), the book's packages (``nnlib/``, ``nnbook/``,
    ``pyproject.toml``), the pinned ``requirements.txt`` and the solutions (every notebook of
    ``solutions_dir``, or only ``solution``, which the archive then always grades against). Every
    solution is validated first (:class:`ExerciseFormatError`). The archive is private."""
    import zipfile
    chosen = [Path(solution)] if solution is not None else solution_paths(solutions_dir)
    if not chosen:
        raise GradingError(f"no solution notebooks found in {solutions_dir}")
    for path in chosen:
        if not path.exists():
            raise GradingError(f"solution notebook {path} not found")
        tasks(read(path), path.stem)
    files: dict[str, bytes] = {}
    for package in ("nnlib", "nnbook"):
        for path in sorted((ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[str(path.relative_to(ROOT))] = path.read_bytes()
    for name in GRADESCOPE_TOOLS:
        files[f"tools/{name}"] = (Path(__file__).parent / name).read_bytes()
    for path in chosen:
        files[f"solutions/{path.name}"] = path.read_bytes()
    files["pyproject.toml"] = (ROOT / "pyproject.toml").read_bytes()
    files["README.md"] = GRADESCOPE_README.encode("utf-8")
    files["requirements.txt"] = _gradescope_requirements().encode("utf-8")
    fixed = f'--solution "$SOURCE/solutions/{chosen[0].name}"' if solution is not None else ""
    mnist = any(b"load_mnist" in files[f"solutions/{p.name}"] for p in chosen)
    scripts = {"setup.sh": SETUP_SH.replace("@MNIST@", MNIST_PREFETCH if mnist else ""),
               "run_autograder": RUN_AUTOGRADER.replace("@SOLUTION@", fixed)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts.items():  # deterministic: fixed dates, sorted names
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    os.replace(tmp, out)
    return out


def _solution_tasks(solution: str) -> dict:
    path = Path(solution)
    path = path if path.is_absolute() else ROOT / path
    return {t.task: t for t in tasks(read(path), path.stem)}


def _max_points(paths) -> int | None:
    """The points of the only solution there is (None when several could be meant)."""
    paths = list(paths)
    if len(paths) != 1:
        return None
    return sum(t.points for t in tasks(read(paths[0]), paths[0].stem))


def _gradescope_tests(report: Report) -> list[dict]:
    """A visible test per task and, for a task with hidden checks, an ``after_published`` one."""
    defs = _solution_tasks(report.solution)
    tests = []
    for result in report.tasks:
        task = defs[result.task]
        name = f"Task {result.task} · {result.title}"
        cells = {c["cell"]: c for c in result.checks}
        ran = bool(cells)
        answer_ok = ran and cells[task.answer_id]["passed"]
        visible = [cells[c] for c in task.check_ids if c in cells]
        hidden = [cells[c] for c in task.hidden_ids if c in cells]
        gated = any(c.get("gate") and not c["passed"] for c in hidden)
        if task.partial:
            vis_max, hid_max = task.points - task.hidden_points, task.hidden_points
            vis_score = sum(c["points"] for c in visible if c["passed"]) if answer_ok and not gated else 0
            hid_score = sum(c["points"] for c in hidden if c["passed"]) if answer_ok else 0
        else:
            vis_max, hid_max = task.points, 0
            vis_score, hid_score = result.points, 0
        failed = [c for c in visible if not c["passed"]]

        def explain(cells_failed):
            first = cells_failed[0]["reason"].removeprefix("hidden check: ")
            hints = list(dict.fromkeys(c["hint"] for c in cells_failed
                                       if c["hint"] and not _unanswered(c["reason"])))
            return first + ("" if not hints else "\nHint: " + "; ".join(hints))

        if not ran:
            output = result.reason
        elif not answer_ok:
            output = cells[task.answer_id]["reason"]
        elif failed:
            output = explain(failed)
        elif gated:
            output = ("The visible checks pass, but a hidden check that repeats them on other inputs "
                      "fails, so they score 0; the hidden checks' results are shown when the grades "
                      "are published.")
        elif hidden and not all(c["passed"] for c in hidden) and not task.partial:
            output = ("The visible checks pass, but a hidden check fails, so the task scores 0; "
                      "the hidden checks' results are shown when the grades are published.")
        else:
            output = "All visible checks pass."
        tests.append({"name": name, "score": vis_score, "max_score": vis_max,
                      "status": "passed" if ran and answer_ok and not failed and not gated else "failed",
                      "output": output, "visibility": "visible"})
        if task.hidden_ids:
            hidden_failed = [c for c in hidden if not c["passed"]]
            if not ran:
                h_output = f"Not run: {result.reason}"
            elif not answer_ok:
                h_output = f"Not run properly: the answer cell failed ({cells[task.answer_id]['reason']})"
            elif hidden_failed:
                h_output = explain(hidden_failed)
            else:
                h_output = "All hidden checks pass."
            tests.append({"name": f"{name} (hidden checks)", "score": hid_score, "max_score": hid_max,
                          "status": "passed" if ran and answer_ok and not hidden_failed else "failed",
                          "output": h_output, "visibility": "after_published"})
    return tests


def _gradescope_data(submission: Path, solutions_dir: Path, solution, limits) -> dict:
    submission = Path(submission)
    pool = [Path(solution)] if solution is not None else solution_paths(solutions_dir)
    paths = expand([submission]) if submission.is_dir() else ([submission] if submission.exists() else [])
    paths = [p for p in paths if p.suffix == ".ipynb"]
    if not paths:
        found = sorted(p.name for p in submission.rglob("*") if p.is_file())[:10] if submission.is_dir() else []
        why = ("No notebook (.ipynb file) was found in the submission"
               + (f" (it holds {', '.join(found)})" if found else "")
               + ": upload the exercise notebook you worked in"
               + (f", {pool[0].name}" if len(pool) == 1 else " (such as 05_activations.ipynb)"))
        return _gradescope_failure(why, _max_points(pool))
    results = grade_many(paths, solution=solution, solutions_dir=solutions_dir, limits=limits)
    prefix = str(submission) + os.sep
    for r in results:  # the student knows their own files: name them from the submission
        if isinstance(r, Failure):
            r.reason = r.reason.replace(prefix, "")
    print("\n\n".join(r.text() for r in results))  # the full reports: for the instructor's log only
    reports = [r for r in results if isinstance(r, Report)]
    failures = [r for r in results if isinstance(r, Failure)]
    if not reports:
        why = "Your submission could not be graded: " + " | ".join(f.reason for f in failures)
        return _gradescope_failure(why, _max_points(pool))
    best: dict[str, Report] = {}
    for r in reports:  # one report per exercise: a notebook uploaded twice counts once
        if r.solution not in best or r.points > best[r.solution].points:
            best[r.solution] = r
    chosen = list(best.values())
    tests = [t for r in chosen for t in _gradescope_tests(r)]
    points, max_points = sum(r.points for r in chosen), sum(r.max_points for r in chosen)
    lines = []
    for r in chosen:
        lines.append(f"{Path(r.submission).name} graded against {Path(r.solution).stem}: "
                     f"{r.points}/{r.max_points} {_plural(r.max_points)}, {r.score}/{r.total} tasks passed "
                     "(counting the hidden checks, whose results are shown when the grades are published).")
        lines += [f"Problem: {p}" for p in r.problems]
    for r in reports:
        if r not in chosen:
            lines.append(f"{Path(r.submission).name} was also graded ({r.points} points); the best "
                         "notebook for each exercise counts.")
    lines += [f"Not graded: {f.reason}" for f in failures]
    return {"score": points, "output": "\n".join(lines), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"max_points": max_points, "tasks_passed": sum(r.score for r in chosen),
                           "tasks": sum(r.total for r in chosen),
                           "notebooks": [Path(r.submission).name for r in chosen],
                           "sandbox": chosen[0].sandbox}}


def _gradescope_failure(why: str, max_points: int | None) -> dict:
    test = {"name": "Submission", "score": 0, "max_score": max_points or 0, "status": "failed",
            "output": why, "visibility": "visible"}
    return {"score": 0, "output": why, "visibility": "visible", "stdout_visibility": "hidden",
            "tests": [test], "extra_data": {"max_points": max_points, "error": why}}


def gradescope_results(submission: Path, results: Path, *, solutions_dir: Path = SOLUTIONS_DIR,
                       solution: Path | None = None, limits: Limits | None = None) -> dict:
    """Grade the notebooks under ``submission`` (a folder, as Gradescope hands it over) and write
    Gradescope's ``results.json`` to ``results``; return it. Never raises: a submission that cannot
    be graded (no notebook, not JSON, another chapter) gets a score of 0 with the reason.

    The format (Gradescope's autograder specification): top-level ``score`` (the points),
    ``output`` (a summary), ``visibility``, ``stdout_visibility`` (``hidden``: the log shows the
    hidden checks' reasons), ``execution_time``, ``extra_data`` (``max_points`` etc.), and
    ``tests``: per task a ``visible`` test named ``Task 5.2 · sigmoid derivative`` with ``score``,
    ``max_score``, ``status``, ``output`` (the failure's reason and hint), and for a task with
    hidden checks a test ``… (hidden checks)``, ``visibility: after_published``. With partial
    credit the hidden checks' points are that test's; an all-or-nothing task keeps all its points
    in the visible test (and says when a hidden check failed)."""
    import time
    start = time.monotonic()
    try:
        data = _gradescope_data(Path(submission), Path(solutions_dir), solution, limits or Limits())
    except Exception as exc:  # never crash: whatever happened, Gradescope gets a results.json
        data = _gradescope_failure(f"The autograder could not grade this submission "
                                   f"({type(exc).__name__}: {_clean(exc)}); please tell your instructor.", None)
    data["execution_time"] = round(time.monotonic() - start, 1)
    results = Path(results)
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_name(results.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, results)
    return data
