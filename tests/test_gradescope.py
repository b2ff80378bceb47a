"""The Gradescope export works: ``python -m tools.grade --gradescope OUT.zip`` writes an autograder
archive in Gradescope's format, and its ``run_autograder``, unpacked into a folder laid out like
``/autograder/``, turns a passing, a failing and a broken submission into a valid
``results.json`` (a score, a test per task, hidden checks shown only after publication).

``setup.sh`` is not run here (it installs packages from the network): ``run_autograder`` runs with
this environment's Python (``AUTOGRADER_PYTHON``) under ``AUTOGRADER_ROOT``. One small exercise
(05_activations) keeps it fast.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.test_grading import ROOT, SOLUTIONS, partial_submission, submission

CHAPTER = "05_activations"
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
MAX_POINTS = 9  # 5.1: 2, 5.2: 2, 5.3: 3, 5.4: 2 (the solution's metadata)


def build(out: Path, *args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "tools.grade", "--gradescope", str(out), *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """The archive for one exercise, unpacked as Gradescope does: /autograder/source holds the
    archive, /autograder/run_autograder the script."""
    tmp = tmp_path_factory.mktemp("gradescope")
    archive = tmp / "gradescope.zip"
    build(archive, "--solution", SOLUTIONS / f"{CHAPTER}.ipynb")
    root = tmp / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(archive) as z:
        z.extractall(root / "source")
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
    for name in ("run_autograder", "setup.sh"):
        os.chmod(root / "source" / name, modes[name] & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    return {"archive": archive, "root": root, "modes": modes}


def run(autograder, files: dict[str, object], python: str = sys.executable) -> dict:
    """Put ``files`` (name -> notebook or text) into a fresh /autograder/submission, run
    run_autograder, return results.json."""
    root = autograder["root"]
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    for name, content in files.items():
        import nbformat
        text = content if isinstance(content, str) else nbformat.writes(content)
        (root / "submission" / name).write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=python)
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, "run_autograder always exits 0 (Gradescope reads results.json)"
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    check_format(results)
    results["_stdout"] = proc.stdout
    return results


def check_format(results: dict) -> None:
    """Gradescope's results.json: top-level score; tests with name, score, max_score, output and
    visibility; scores that add up."""
    assert isinstance(results["score"], (int, float))
    assert isinstance(results.get("output", ""), str)
    assert results.get("stdout_visibility", "hidden") in VISIBILITIES
    assert results.get("visibility", "visible") in VISIBILITIES
    assert isinstance(results["tests"], list)
    for test in results["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"] or test["max_score"] == 0 == test["score"]
        assert isinstance(test["output"], str) and test["visibility"] in VISIBILITIES
        assert test.get("status", "passed") in ("passed", "failed")
    if results["tests"]:
        assert results["score"] == sum(t["score"] for t in results["tests"])


def by_name(results: dict) -> dict[str, dict]:
    return {t["name"]: t for t in results["tests"]}


def task_score(results: dict, prefix: str) -> float:
    """The score of the tests of one task (its visible and hidden-checks tests)."""
    return sum(t["score"] for t in results["tests"] if t["name"].startswith(prefix))


def test_archive_layout(autograder, tmp_path):
    with zipfile.ZipFile(autograder["archive"]) as z:
        names = set(z.namelist())
    assert {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml",
            "tools/grade.py", "tools/exercises.py", "tools/_nbval_plugin.py", "tools/run_notebooks.py",
            "nnlib/__init__.py", "nnbook/__init__.py", f"solutions/{CHAPTER}.ipynb"} <= names
    assert [n for n in names if n.startswith("solutions/")] == [f"solutions/{CHAPTER}.ipynb"]
    assert not [n for n in names if "__pycache__" in n or n.startswith(("exercises/", "chapters/", "tests/"))]
    for script in ("setup.sh", "run_autograder"):
        assert autograder["modes"][script] & stat.S_IXUSR, f"{script} must be executable"
        subprocess.run(["bash", "-n", str(autograder["root"] / "source" / script)], check=True)
    source = autograder["root"] / "source"
    requirements = [line for line in (source / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    assert all("==" in line for line in requirements if not line.startswith("-e")), requirements
    assert "-e ." in requirements and not any(line.startswith("playwright") for line in requirements)
    setup = (source / "setup.sh").read_text()
    assert "bubblewrap" in setup and "-r requirements.txt" in setup and "python3-venv" in setup
    assert f'--solution "$SOURCE/solutions/{CHAPTER}.ipynb"' in (source / "run_autograder").read_text()
    # without --solution: every solution, graded against the one the notebook names
    everything = tmp_path / "all.zip"
    build(everything)
    with zipfile.ZipFile(everything) as z:
        solutions = sorted(n for n in z.namelist() if n.startswith("solutions/"))
        run_script = z.read("run_autograder").decode()
    assert solutions == sorted(f"solutions/{p.name}" for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    assert "--solution " not in run_script
    build(tmp_path / "again.zip")
    assert (tmp_path / "again.zip").read_bytes() == everything.read_bytes(), "the archive is reproducible"


def test_passing_submission(autograder):
    results = run(autograder, {f"{CHAPTER}.ipynb": submission(CHAPTER)})
    assert results["score"] == MAX_POINTS and results["extra_data"]["max_points"] == MAX_POINTS
    tests = by_name(results)
    assert {"Task 5.1 · sigmoid", "Task 5.2 · sigmoid derivative", "Task 5.3 · ReLU and its derivative",
            "Task 5.3 · ReLU and its derivative (hidden checks)", "Task 5.4 · where the gradient vanishes"} <= set(tests)
    for name, test in tests.items():
        assert test["status"] == "passed"
        assert test["visibility"] == ("after_published" if name.endswith("(hidden checks)") else "visible")
    assert sum(t["max_score"] for t in tests.values()) == MAX_POINTS
    assert results["stdout_visibility"] == "hidden" and f"{MAX_POINTS}/{MAX_POINTS} points" in results["output"]


def test_failing_submission_gets_partial_credit_and_hints(autograder):
    """5.1's answer cell fails (0 points), 5.2 is wrong (0, with its hint), 5.3 fails only its
    hidden check (2 of 3 points; the reason shown after publication only), 5.4 is right (2)."""
    results = run(autograder, {"my work.ipynb": partial_submission()})
    assert results["score"] == 4, results
    assert task_score(results, "Task 5.4 · where the gradient vanishes") == 2
    tests = by_name(results)
    assert tests["Task 5.1 · sigmoid"]["score"] == 0
    assert "ValueError: left over from debugging" in tests["Task 5.1 · sigmoid"]["output"]
    deriv = tests["Task 5.2 · sigmoid derivative"]
    assert (deriv["score"], deriv["max_score"], deriv["status"]) == (0, 2, "failed")
    assert "your result for '5.2 sigmoid_grad from -700 to 700' differs" in deriv["output"]
    assert "Hint: write the slope" in deriv["output"]
    relu, hidden = tests["Task 5.3 · ReLU and its derivative"], tests["Task 5.3 · ReLU and its derivative (hidden checks)"]
    assert (relu["score"], relu["max_score"], relu["visibility"]) == (2, 2, "visible")
    assert "modify" not in relu["output"], "a hidden check's reason is not shown before publication"
    assert (hidden["score"], hidden["max_score"], hidden["visibility"]) == (0, 1, "after_published")
    assert "'5.3 the input afterwards (unchanged?)' differs" in hidden["output"]
    assert "Hint: work on a copy" in hidden["output"]
    visible_text = results["output"] + "".join(t["output"] for t in results["tests"] if t["visibility"] == "visible")
    assert "modify" not in visible_text
    assert "hidden check" in results["_stdout"], "the instructor's log has the full report"


@pytest.mark.parametrize("files, words", [
    ({f"{CHAPTER}.ipynb": "{ this is not json"}, "not JSON"),
    ({"answers.py": "print('hello')\n"}, "No notebook"),
    ({}, "No notebook"),
    ({"01_neuron.ipynb": submission("01_neuron")}, "another chapter"),
])
def test_broken_submission_scores_zero_with_the_reason(autograder, files, words):
    results = run(autograder, files)
    assert results["score"] == 0 and words in results["output"], results
    (test,) = results["tests"]
    assert test["score"] == 0 and test["max_score"] == MAX_POINTS and words in test["output"]
    assert str(autograder["root"]) not in results["output"], "paths are named from the submission"


def test_autograder_without_python_still_writes_results(autograder):
    results = run(autograder, {f"{CHAPTER}.ipynb": submission(CHAPTER)}, python="/nonexistent/python")
    assert results["score"] == 0 and "failed before it could grade" in results["output"]
