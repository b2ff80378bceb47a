"""The grader survives hostile and broken submissions (issue 15): each runs in a sandbox with
limits; a hostile answer loses its own task (and its points) with a one-line reason, the other
tasks are still graded, the repository is unchanged, and a file that cannot be graded gets exit
status 2 and its reason while the other files are graded.

All the hostile submissions are graded in one run (``--jobs 2``), to keep the suite fast.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.test_grading import EXERCISES, ROOT, SOLUTIONS, submission, verdicts, write
from tools.grade import sandbox_kind

CHAPTER = "05_activations"
OLD = "return s * (1.0 - s)"  # in the answer of task 5.2
MARK = "987654"  # a `sleep` argument no other process uses

# task 5.2's answer replaced by something hostile: (label, code, words expected in the reason)
HOSTILE = [
    ("loop", "while True:\n        pass", "timed out"),
    ("ignores-ctrl-c", "import signal\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                       "    while True:\n        pass", "timed out"),
    ("memory", "hog = []\n    while True:\n        hog.append(bytearray(256 << 20))", "MemoryError"),
    ("huge-print", "for _ in range(20_000):\n        print('x' * 999)\n"
                   "    return s * (1.0 - s)", "printed more than"),
    ("fork-bomb", "import os\n    while True:\n        if os.fork() == 0:\n            try:\n"
                  "                while True:\n                    os.fork()\n            finally:\n"
                  "                os._exit(0)", ("BlockingIOError", "timed out")),
    ("os-exit", "import os\n    os._exit(3)", "exited with status 3"),
    ("sys-exit", "import sys\n    sys.exit(4)", "SystemExit"),
    ("kills-kernel", "import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)", "killed by SIGKILL"),
    ("reads-solutions", "import json\n    nb = json.load(open('../solutions/05_activations.ipynb'))\n"
                        f"    return json.load(open({str(SOLUTIONS / (CHAPTER + '.ipynb'))!r}))",
     "FileNotFoundError"),
    ("network", "import socket\n    socket.create_connection(('1.1.1.1', 80), timeout=5)\n"
                "    return s * (1.0 - s)", "OSError"),
    ("writes-outside", f"open({str(ROOT / 'tools' / 'pwned.txt')!r}, 'w').write('x')\n"
                       "    return s * (1.0 - s)", "Error"),
    ("holds-pipes", f"import subprocess, sys\n    subprocess.Popen(['sleep', '{MARK}'], stdout=sys.__stdout__,"
                    " stderr=sys.__stderr__, start_new_session=True)\n    raise NotImplementedError",
     "NotImplementedError"),
]
BWRAP = sandbox_kind()[0] is not None
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="bubblewrap (bwrap) is not installed or cannot "
                                                   "create a sandbox here; the fallback is tested below")


def tree_hash(*folders: Path) -> str:
    """A hash of the files under ``folders`` (the grader's own tools/ files for tools/: another
    engineer's edits to the rest of tools/ while the tests run are none of the grader's doing)."""
    digest = hashlib.sha256()
    for folder in folders:
        files = folder.rglob("*") if folder.name != "tools" else \
            [folder / n for n in ("grade.py", "_nbval_plugin.py", "exercises.py", "pwned.txt")]
        for path in sorted(files):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def hostile(code: str):
    nb = submission(CHAPTER, "5.2", [(OLD, code)])
    return nb


def bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Files that cannot be graded: name -> (path, words expected in the reason)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}

    def put(name, data, words):
        path = folder / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        files[name] = (path, words)

    put("not-json.ipynb", "{ this is not json", "not JSON")
    put("empty.ipynb", "", "empty")
    put("v3.ipynb", json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}),
        "nbformat 3")
    put("no-cells.ipynb", json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}),
        "no cells")
    nb = json.loads(nbformat.writes(submission(CHAPTER)))
    for cell in nb["cells"]:
        cell.pop("id", None)
    put("no-ids.ipynb", json.dumps(nb), "no cell id")
    put("binary.ipynb", bytes(range(256)) * 4, "binary")
    return files


def surrogate_submission(path: Path) -> Path:
    text = nbformat.writes(submission(CHAPTER))
    text = text.replace(json.dumps(OLD)[1:-1], json.dumps(OLD)[1:-1] + "  # \\ud800", 1)
    assert "\\ud800" in text
    path.write_text(text, encoding="utf-8")
    return path


def run_grader(args, **kwargs):
    return subprocess.run([sys.executable, "-m", "tools.grade", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, **kwargs)


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    """Every hostile and broken submission, graded in one run with --jobs 2."""
    tmp = tmp_path_factory.mktemp("hostile")
    before = tree_hash(SOLUTIONS, EXERCISES, ROOT / "tools")
    paths = {label: write(hostile(code), tmp, f"{CHAPTER}-{label}") for label, code, _ in HOSTILE}
    paths["surrogate"] = surrogate_submission(tmp / f"{CHAPTER}-surrogate.ipynb")
    good = tmp / "späces and Zoë" / f"{CHAPTER} – Zoë Ünal.ipynb"
    good.parent.mkdir()
    nbformat.write(submission(CHAPTER), str(good))
    bad = bad_files(tmp / "bad")
    out = tmp / "report.json"
    start = time.monotonic()
    proc = run_grader([*paths.values(), good, *(p for p, _ in bad.values()), "--timeout", "10",
                       "--notebook-timeout", "300", "--jobs", "2", "--json", out])
    elapsed = time.monotonic() - start
    reports = json.loads(out.read_text(encoding="utf-8"))
    by_path = {r["submission"]: r for r in reports}
    return dict(proc=proc, paths=paths, good=good, bad=bad, by_path=by_path, elapsed=elapsed,
                before=before, after=tree_hash(SOLUTIONS, EXERCISES, ROOT / "tools"), reports=reports)


def _find(batch, path: Path) -> dict:
    for name, report in batch["by_path"].items():
        if Path(name).resolve() == path.resolve():
            return report
    raise AssertionError(f"no report for {path}: {sorted(batch['by_path'])}")


@needs_bwrap
@pytest.mark.parametrize("label, code, words", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_answer_loses_only_its_task(hostile_batch, label, code, words):
    report = _find(hostile_batch, hostile_batch["paths"][label])
    tasks = {t["task"]: t for t in report["tasks"]}
    assert verdicts(report) == {"5.1": True, "5.2": False, "5.3": True, "5.4": True}, \
        f"{label}: {report['tasks']}\n{report['problems']}"
    assert (report["points"], report["max_points"], tasks["5.2"]["points"]) == (7, 9, 0), report["tasks"]
    reason = tasks["5.2"]["reason"]
    words = (words,) if isinstance(words, str) else words
    assert any(w in reason for w in words) and "\n" not in reason, f"{label}: {reason!r}"
    assert not report["problems"], report["problems"]
    assert report["sandbox"] == "bubblewrap"


@needs_bwrap
def test_hostile_batch_leaves_the_machine_alone(hostile_batch):
    assert hostile_batch["before"] == hostile_batch["after"], "solutions/ or tools/ changed"
    assert not (ROOT / "tools" / "pwned.txt").exists()
    import psutil
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", MARK]]
    assert not left, f"processes left behind: {left}"
    assert hostile_batch["elapsed"] < 600, f"the batch took {hostile_batch['elapsed']:.0f} s"


@needs_bwrap
def test_surrogate_and_odd_paths(hostile_batch):
    report = _find(hostile_batch, hostile_batch["paths"]["surrogate"])
    assert verdicts(report) == {"5.1": True, "5.2": False, "5.3": True, "5.4": True}, report["tasks"]
    assert "lone surrogate" in report["tasks"][1]["reason"]
    good = _find(hostile_batch, hostile_batch["good"])
    assert good["passed"], good["tasks"]


def test_bad_files_get_exit_status_2_and_a_reason(hostile_batch):
    proc = hostile_batch["proc"]
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    for name, (path, words) in hostile_batch["bad"].items():
        report = _find(hostile_batch, path)
        assert report["status"] == "error" and words in report["error"], (name, report)
        assert "\n" not in report["error"]
        assert f"error: {report['error']}" in proc.stderr
    graded = [r for r in hostile_batch["reports"] if r.get("status") != "error"]
    assert len(graded) == len(HOSTILE) + 2, "every other file is graded"


def test_notebook_for_another_chapter(tmp_path):
    out = tmp_path / "r.json"
    proc = run_grader([EXERCISES / "01_neuron.ipynb", "--solution", SOLUTIONS / f"{CHAPTER}.ipynb",
                       "--json", out])
    assert proc.returncode == 2 and "another chapter" in proc.stderr, proc.stderr
    (report,) = json.loads(out.read_text(encoding="utf-8"))
    assert report["status"] == "error" and "1.1" in report["error"]


def test_fallback_without_bwrap_says_so(tmp_path):
    """NNLIB_GRADE_SANDBOX=none: a plain subprocess, with the limits and a note in the report."""
    paths = [write(submission(CHAPTER), tmp_path, f"{CHAPTER}-ok"),
             write(hostile("import os\n    os._exit(3)"), tmp_path, f"{CHAPTER}-exit"),
             write(hostile("while True:\n        pass"), tmp_path, f"{CHAPTER}-loop")]
    out = tmp_path / "r.json"
    before = tree_hash(SOLUTIONS, EXERCISES, ROOT / "tools")
    proc = run_grader([*paths, "--timeout", "10", "--json", out],
                      env=dict(os.environ, NNLIB_GRADE_SANDBOX="none"))
    ok, exit_, loop = json.loads(out.read_text(encoding="utf-8"))
    assert proc.returncode == 1 and "note: no sandbox (NNLIB_GRADE_SANDBOX=none)" in proc.stdout
    assert ok["passed"] and "no sandbox" in ok["sandbox"]
    assert verdicts(exit_) == verdicts(loop) == {"5.1": True, "5.2": False, "5.3": True, "5.4": True}
    assert "exited with status 3" in exit_["tasks"][1]["reason"]
    assert "timed out" in loop["tasks"][1]["reason"]
    assert tree_hash(SOLUTIONS, EXERCISES, ROOT / "tools") == before


def test_class_gradebook_feedback_and_cache(tmp_path):
    """A folder: gradebook.csv, a feedback file per student, broken files get their row, and a
    re-run takes every unchanged submission from the cache; --solutions points elsewhere."""
    private = tmp_path / "private solutions"
    private.mkdir()
    (private / f"{CHAPTER}.ipynb").write_bytes((SOLUTIONS / f"{CHAPTER}.ipynb").read_bytes())
    klass = tmp_path / "class"
    klass.mkdir()
    ok = submission(CHAPTER)
    ok.metadata.setdefault("nnlib", {})["student"] = "s0001"
    write(ok, klass, f"{CHAPTER}-alice")
    write(submission(CHAPTER, "5.1", [("np.exp(-z)", "np.exp(z)")]), klass, f"{CHAPTER}-bob")
    (klass / "carol.ipynb").write_text("{ not json", encoding="utf-8")
    out = tmp_path / "grades"
    args = [klass, "--solutions", private, "--jobs", "2", "--out", out]
    first = run_grader(args)
    assert first.returncode == 2, first.stderr
    assert "grading [" in first.stderr and "3/3" in first.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(out / "gradebook.csv", encoding="utf-8"))}
    assert set(rows) == {"s0001", f"{CHAPTER}-bob", "carol"}
    assert rows["s0001"]["total"] == rows["s0001"]["max"] == "9" and rows["s0001"]["status"] == "passed"
    assert rows["s0001"]["task 5.3"] == "3" and rows["s0001"]["tasks passed"] == "4"
    bob = rows[f"{CHAPTER}-bob"]
    assert (bob["task 5.1"], bob["task 5.2"], bob["total"], bob["max"], bob["tasks passed"]) == ("0", "2", "7", "9", "3")
    assert rows["carol"]["status"].startswith("error: ") and "not JSON" in rows["carol"]["status"]
    feedback = (out / "feedback" / f"{CHAPTER}-bob.md").read_text(encoding="utf-8")
    assert "**7/9 points** (3/4 tasks passed)" in feedback
    assert "task 5.1 sigmoid (0/2 points): **failed**" in feedback, feedback
    assert "*Hint:* check the sign of the exponent" in feedback, feedback
    assert "task 5.2 sigmoid derivative (2/2 points): passed" in feedback
    assert "private solutions" in first.stdout, "graded against the --solutions folder"
    start = time.monotonic()
    again = run_grader(args)
    assert time.monotonic() - start < 20 and "2 from the cache" in again.stderr, again.stderr
    assert again.stdout == first.stdout
