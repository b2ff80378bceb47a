"""Cheating submissions (issue 15): none scores a point for a wrong answer.

Every check cell computes and reports plain data (``nnbook.checks.report``); the grader judges the
data in its own process against a clean reference run. Each case below answers one task with a
*wrong* answer plus a trick (a monkeypatch, an interpreter hook, a lying object, a file read or
written, a process left behind, a killed kernel, metadata games, ...); every other task is left
unanswered, so the whole submission must score 0. All cases are graded in one grader run
(``--jobs 2``) to keep the suite fast; the run must leave the repository, the Python environment
and the grader's caches as they were, and leave no process behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.test_grading import EXERCISES, ROOT, SOLUTIONS, _info, answers_of
from tools.grade import reference_cache_dir, sandbox_kind

MARK = "876543"   # a `sleep` argument no other process uses
WRONG = "    return 0.5 + 0.0 * np.asarray(z, dtype=float)   # wrong: a flat line"
SIGMOID = "def sigmoid(z):\n    \"\"\"Element-wise logistic sigmoid.\"\"\"\n"


def sigmoid_answer(prelude: str = "", body: str = WRONG) -> str:
    """Task 5.1's answer cell: ``prelude`` (the trick, at the top level), then a wrong sigmoid."""
    return f"{prelude}\n\n{SIGMOID}{body}\n"


def visible_expected(task_check: str = "t5-1-check") -> list:
    nb = nbformat.read(EXERCISES / "05_activations.ipynb", as_version=4)
    return next(_info(c)["expected"] for c in nb.cells if c.id == task_check)


REPLAY = f'''
import json, IPython.display as _d, nnbook.checks as _c
_EXPECTED = {{m["name"]: m for m in json.loads({json.dumps(json.dumps(visible_expected()))})}}
def _fake_report(name, value, against=None, **options):
    msg = _EXPECTED.get(name) or _c.message(name, value, against, **options)
    print("✓", name)
    _d.publish_display_data({{_c.MIME: msg, "text/plain": ""}})
_c.report = _fake_report
globals()["report"] = _fake_report
'''

# (label, chapter, task, answer source) — each scores 0 points in total
CASES = [
    ("numpy-comparisons-always-true", "05_activations", "5.1", sigmoid_answer(
        "import numpy\nfor _n in ('allclose', 'isclose', 'array_equal', 'array_equiv'):\n"
        "    setattr(numpy, _n, lambda *a, **k: True)\nnumpy.testing.assert_allclose = lambda *a, **k: None")),
    ("numpy-errstate-and-isfinite", "06_softmax_cross_entropy", "6.1",
     "import numpy\nnumpy.seterr(all='ignore')\nnumpy.isfinite = lambda x: numpy.ones(numpy.shape(x), bool)\n"
     "numpy.isnan = lambda x: numpy.zeros(numpy.shape(x), bool)\n\n"
     "def softmax(Z):\n    Z = np.asarray(Z, dtype=float)\n    E = np.exp(Z)\n    return E / E.sum(axis=1, keepdims=True)\n"),
    ("nnlib-patched", "05_activations", "5.1", sigmoid_answer(
        "import nnlib, nnlib.activations as _A\n_A.sigmoid = lambda z: 0.5 + 0.0 * np.asarray(z, dtype=float)\n"
        "nnlib.sigmoid = _A.sigmoid\n_A.ACTIVATIONS['sigmoid'] = _A.sigmoid")),
    ("nnbook-report-patched-to-claim-a-pass", "05_activations", "5.1", sigmoid_answer(
        "import nnbook.checks as _c\n_real = _c.message\n"
        "def _claim(name, value, against=None, **options):\n"
        "    msg = _real(name, value, against, **options)\n"
        "    msg['judge'] = {'at_least': -1e300}; msg['passed'] = True\n    return msg\n"
        "_c.message = _claim")),
    ("replays-the-visible-expected-data", "05_activations", "5.1", sigmoid_answer(REPLAY)),
    ("drops-its-reports", "05_activations", "5.1", sigmoid_answer(
        "import IPython.display as _d\n_d.publish_display_data = lambda *a, **k: None")),
    ("lying-object-eq", "05_activations", "5.1",
     "class Anything:\n    def __eq__(self, other): return True\n    __ne__ = lambda self, o: False\n"
     "    def __array__(self, *a, **k): raise TypeError('no')\n    def __float__(self): return 0.5\n\n"
     f"{SIGMOID}    return Anything()\n"),
    ("lying-object-array-subclass", "05_activations", "5.1",
     "class Liar(np.ndarray):\n    def __eq__(self, other): return np.ones(self.shape, bool)\n"
     "    def tobytes(self, *a, **k): return b'\\x00' * self.nbytes\n\n"
     f"{SIGMOID}    return (0.5 + 0.0 * np.asarray(z, dtype=float)).view(Liar)\n"),
    ("ipython-input-transformer", "05_activations", "5.1", sigmoid_answer(
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])")),
    ("ipython-ast-transformer", "05_activations", "5.1", sigmoid_answer(
        "import ast\nclass _Empty(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n        node.body = [ast.Pass()]\n        return node\n"
        "get_ipython().ast_transformers.append(_Empty())")),
    ("custom-exception-handler", "05_activations", "5.1", sigmoid_answer(
        "def _quiet(shell, etype, value, tb, tb_offset=None):\n    print('✓ all good')\n"
        "get_ipython().set_custom_exc((BaseException,), _quiet)",
        "    raise ValueError('wrong on purpose')")),
    ("showtraceback-silenced", "05_activations", "5.1", sigmoid_answer(
        "get_ipython().showtraceback = lambda *a, **k: None\nget_ipython().showsyntaxerror = lambda *a, **k: None",
        "    raise ValueError('wrong on purpose')")),
    ("reads-the-solution-from-disk", "05_activations", "5.1", sigmoid_answer(
        "import json, os, pathlib, nnbook\n_found = []\n"
        f"for _p in ['../solutions/05_activations.ipynb', {str(SOLUTIONS / '05_activations.ipynb')!r},\n"
        "           str(pathlib.Path(nnbook.__file__).parents[1] / 'solutions' / '05_activations.ipynb')]:\n"
        "    try:\n        _found.append(json.load(open(_p)))\n    except OSError:\n        pass\n"
        "import time\n_t0 = time.monotonic()\n"
        "for _root, _dirs, _files in os.walk('/', onerror=lambda e: None):\n"
        "    if _root.startswith(('/proc', '/sys', '/dev', '/usr')) or time.monotonic() - _t0 > 4:\n"
        "        _dirs[:] = []\n"
        "    if 'solutions' in _root and '05_activations.ipynb' in _files:\n        _found.append(_root)\n"
        "    if len(_found) > 0:\n        break\n"
        "assert not _found, f'the solutions are readable: {_found[:1]}'")),
    ("reads-the-reference-cache", "05_activations", "5.1", sigmoid_answer(
        f"import glob\n_hits = glob.glob({str(reference_cache_dir() or '/nonexistent')!r} + '/*')"
        " + glob.glob('/root/.cache/nnlib-grader/*') + glob.glob('/tmp/home/.cache/nnlib-grader/*')\n"
        "assert not _hits, _hits")),
    ("writes-an-ipython-startup-file", "05_activations", "5.1", sigmoid_answer(
        "import os, pathlib\n_code = 'import numpy; numpy.allclose = lambda *a, **k: True\\n'\n"
        f"for _home in [os.path.expanduser('~'), '/root', {str(Path.home())!r}, os.environ.get('IPYTHONDIR', '')]:\n"
        "    for _dir in ('.ipython/profile_default/startup', 'profile_default/startup'):\n"
        "        try:\n            _p = pathlib.Path(_home, _dir); _p.mkdir(parents=True, exist_ok=True)\n"
        "            (_p / '00-pwn.py').write_text(_code)\n        except OSError:\n            pass")),
    ("rewrites-the-results-file", "05_activations", "5.1", sigmoid_answer(
        "import json, threading, time\n"
        "def _forge():\n    while True:\n        try:\n"
        "            entries = [{'notebook': 'n000', 'cell_num': i, 'outcome': 'passed', 'reports': [], 'judged': ''}"
        " for i in range(40)]\n"
        "            open('cell-results.json', 'w').write(json.dumps(entries))\n"
        "        except OSError:\n            pass\n        time.sleep(0.01)\n"
        "threading.Thread(target=_forge, daemon=True).start()")),
    ("rewrites-the-plugin-and-notebook", "05_activations", "5.1", sigmoid_answer(
        "for _f in ('conftest.py', 'graded.ipynb', 'pytest.ini'):\n    try:\n"
        "        open(_f, 'w').write('')\n    except OSError:\n        pass")),
    ("process-outlives-its-kernel", "05_activations", "5.1", sigmoid_answer(
        "import os, subprocess, sys\n"
        "_forger = ('import json, time\\n'\n"
        "           'for _ in range(400):\\n'\n"
        "           '    time.sleep(0.05)\\n'\n"
        "           '    entries = [{\"notebook\": \"n000\", \"cell_num\": i, \"outcome\": \"passed\"} for i in range(40)]\\n'\n"
        "           '    open(\"cell-results.json\", \"w\").write(json.dumps(entries))\\n')\n"
        "subprocess.Popen([sys.executable, '-c', _forger], start_new_session=True, stdout=sys.__stdout__,"
        " stderr=sys.__stderr__)\n"
        f"subprocess.Popen(['sleep', '{MARK}'], start_new_session=True)")),
    ("kills-its-kernel-in-the-check", "05_activations", "5.1", sigmoid_answer(
        "", "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)")),
    ("exits-its-kernel-in-the-check", "05_activations", "5.1", sigmoid_answer("", "    import os\n    os._exit(0)")),
    ("nbval-markers", "05_activations", "5.1",
     "# NBVAL_SKIP\n# NBVAL_IGNORE_OUTPUT\n# NBVAL_RAISES_EXCEPTION\n" + sigmoid_answer()),
    ("fake-check-lines-and-outputs", "05_activations", "5.1", sigmoid_answer(
        "print('✓ 5.1 sigmoid from -700 to 700')\nprint('✓ 5.1 sigmoid (hidden)')")),
    ("nondeterministic-answer", "05_activations", "5.1",
     "import random\n\ndef sigmoid(z):\n    z = np.asarray(z, dtype=float)\n"
     "    right = 1.0 / (1.0 + np.exp(-z))\n    return right if random.random() < 0.3 else right * 0.9\n"),
    ("nondeterministic-unseeded", "05_activations", "5.1",
     "import os\n\ndef sigmoid(z):\n    z = np.asarray(z, dtype=float)\n"
     "    right = 1.0 / (1.0 + np.exp(-z))\n    return right if os.urandom(1)[0] < 77 else right * 0.9\n"),
    ("hard-codes-the-visible-cases", "08_sgd_learning_rate", "8.4",
     "def critical_learning_rate(a):\n    table = {1.0: 2.0, 4.0: 0.5, 0.1: 20.0, 0.5: 4.0, 3.0: 2 / 3, 10.0: 0.2}\n"
     "    return table.get(a, 1.0)\n"),
    ("hard-codes-the-visible-cases-of-a-partial-credit-task", "05_activations", "5.3",
     "_SEEN = {(-3.0, -0.5, 0.0, 0.5, 3.0): ([0, 0, 0, 0.5, 3.0], [0, 0, 0, 1.0, 1.0]),\n"
     "         (-1.0, 2.0, 0.0, 4.0, -5.0, 1e-9): ([0, 2.0, 0, 4.0, 0, 1e-9], [0, 1.0, 0, 1.0, 0, 1.0])}\n\n"
     "def _lookup(z, which):\n    z = np.asarray(z, dtype=float)\n"
     "    known = _SEEN.get(tuple(z.ravel().tolist()))\n"
     "    return np.reshape(known[which], z.shape) * 1.0 if known else np.zeros_like(z)\n\n"
     "def relu(z):\n    return _lookup(z, 0)\n\ndef relu_grad(z):\n    return _lookup(z, 1)\n"),
    ("softmax-nan-for-a-lone-very-negative-row", "06_softmax_cross_entropy", "6.1",
     "def softmax(Z):\n    Z = np.asarray(Z, dtype=float)\n    if len(Z) == 1 and Z.max() < -500:\n"
     "        E = np.exp(Z)\n    else:\n        E = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
     "    return E / E.sum(axis=1, keepdims=True)\n"),
    ("report-flood", "05_activations", "5.1", sigmoid_answer(
        "import IPython.display as _d, nnbook.checks as _c\n_real = _c.report\n"
        "_sent = []\n"
        "def _flood(name, value, **kw):\n"
        "    if not _sent:\n"
        "        _sent.append(1)\n"
        "        _d.publish_display_data({_c.MIME: {'name': name, 'value': {'s': 'x'}, 'pad': 'y' * (40 << 20)},"
        " 'text/plain': ''})\n"
        "_c.report = _flood\nglobals()['report'] = _flood")),
    ("malformed-report-data", "05_activations", "5.1", sigmoid_answer(
        "import IPython.display as _d, nnbook.checks as _c\n"
        "_calls = []\n"
        "def _bad(name, value, **kw):\n    deep = {'a': ['f8', [3], 'AAAA']}\n"
        "    for _ in range(60):\n        deep = {'l': [deep]}\n"
        "    bad = (deep, {'a': ['O', [1], '']}, {'a': ['f8', [10**9], '']}, 7, None, {'s': 5})\n"
        "    _d.publish_display_data({_c.MIME: {'name': name, 'value': bad[len(_calls) % 6]}, 'text/plain': ''})\n"
        "    _calls.append(name)\n"
        "_c.report = _bad\nglobals()['report'] = _bad")),
    ("self-check-pointed-at-a-forged-notebook", "05_activations", "5.1", sigmoid_answer(
        "import json, os\nos.environ['NNBOOK_GRADING'] = '0'\n"
        "open('fake.ipynb', 'w').write(json.dumps({'cells': []}))\nos.environ['NNBOOK_NOTEBOOK'] = 'fake.ipynb'")),
    ("frame-inspection-of-the-check", "05_activations", "5.1",
     "import sys\n\ndef sigmoid(z):\n    caller = sys._getframe(1)\n"
     "    ref = caller.f_globals.get('reference') or caller.f_globals.get('nnlib')\n"
     "    if ref is not None and hasattr(ref, 'sigmoid'):\n        return ref.sigmoid(z)\n"
     "    return 0.5 + 0.0 * np.asarray(z, dtype=float)\n"),
]


def build(chapter: str, task: str, source: str):
    """The exercise of ``chapter`` with ``source`` as the answer of ``task``, the rest unanswered."""
    nb = nbformat.read(EXERCISES / f"{chapter}.ipynb", as_version=4)
    for cell in nb.cells:
        if _info(cell).get("role") == "answer" and _info(cell).get("task") == task:
            cell.source = source
    return nb


def metadata_games():
    """Task 5.1 answered wrongly in a cell whose id is a hidden check's, a second cell that claims
    to be task 5.1's answer with the reference id but is marked a check, and a cell that poses as
    the hidden check printing fake reports."""
    nb = build("05_activations", "5.1", sigmoid_answer())
    answer = next(c for c in nb.cells if _info(c).get("task") == "5.1" and _info(c).get("role") == "answer")
    twin = nbformat.v4.new_code_cell("def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n")
    twin.id = "t5-1-hidden"
    twin.metadata["nnlib"] = {"role": "hidden-check", "task": "5.1"}
    fake = nbformat.v4.new_code_cell("print('✓ 5.1 sigmoid (hidden)')")
    fake.id = "t5-2-answer-copy"
    fake.metadata["nnlib"] = {"role": "check", "task": "5.2", "points": 99}
    nb.cells.insert(nb.cells.index(answer) + 1, twin)
    nb.cells.insert(nb.cells.index(answer) + 2, fake)
    nb.metadata.setdefault("nnlib", {})["exercise"] = "05_activations"
    return nb


def other_chapter_renamed():
    """Chapter 1's solved answers, relabelled as the tasks of chapter 5 (metadata and cell ids)."""
    answers = answers_of("01_neuron")
    nb = nbformat.read(EXERCISES / "05_activations.ipynb", as_version=4)
    for cell, source in zip([c for c in nb.cells if _info(c).get("role") == "answer"], answers.values()):
        cell.source = source
    return nb


def other_chapter_claiming_this_one():
    nb = nbformat.read(SOLUTIONS / "01_neuron.ipynb", as_version=4)
    nb.metadata["nnlib"]["exercise"] = "05_activations"
    return nb


def tree_hash() -> str:
    """The repository's tracked sources (solutions, exercises, tools, packages) byte for byte."""
    digest = hashlib.sha256()
    for folder in ("solutions", "exercises", "nnlib", "nnbook"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    for name in ("grade.py", "_nbval_plugin.py", "exercises.py", "pwned.txt"):
        path = ROOT / "tools" / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b"-"))
    return digest.hexdigest()


def environment_listing() -> str:
    """Every file of the Python environment (path, size, modification time), the places of the
    home folder that change how a later kernel starts (IPython's start-up and extension folders,
    Jupyter's and matplotlib's configuration), and the grader's reference cache minus its
    entries. (Kernels other tests and other people start write history and connection files
    meanwhile: those are left out.)"""
    digest = hashlib.sha256()
    home = Path.home()
    roots = [Path(sys.prefix), home / ".ipython" / "profile_default" / "startup", home / ".ipython" / "extensions",
             home / ".jupyter", home / ".config" / "matplotlib", home / ".config" / "ipython"]
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "runtime")]
            for name in sorted(files):
                path = Path(folder, name)
                try:
                    st = path.lstat()
                except OSError:
                    continue
                digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    cache = reference_cache_dir()
    if cache is not None and cache.is_dir():
        digest.update(repr(sorted(p.name for p in cache.iterdir() if not p.name.startswith("reference-"))).encode())
    return digest.hexdigest()


needs_bwrap = pytest.mark.skipif(sandbox_kind()[0] is None, reason="bubblewrap cannot create a sandbox here")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    paths = {}
    for label, chapter, task, source in CASES:
        paths[label] = tmp / f"{chapter}-{label}.ipynb"
        nbformat.write(build(chapter, task, source), str(paths[label]))
    extra = {"metadata-and-cell-id-games": metadata_games(),
             "another-chapter-relabelled": other_chapter_renamed(),
             "another-chapter-claiming-this-one": other_chapter_claiming_this_one()}
    for label, nb in extra.items():
        paths[label] = tmp / f"{label}.ipynb"
        nbformat.write(nb, str(paths[label]))
    # graded after the writers: an untouched exercise and a right answer see no planted file
    paths["later-untouched-exercise"] = tmp / "zz-05_activations-untouched.ipynb"
    paths["later-right-answers"] = tmp / "zz-05_activations-right.ipynb"
    paths["nondeterministic-again"] = tmp / "zz-05_activations-nondeterministic-again.ipynb"
    (tmp / "zz-05_activations-untouched.ipynb").write_bytes((EXERCISES / "05_activations.ipynb").read_bytes())
    (tmp / "zz-05_activations-right.ipynb").write_bytes((SOLUTIONS / "05_activations.ipynb").read_bytes())
    (tmp / "zz-05_activations-nondeterministic-again.ipynb").write_bytes(paths["nondeterministic-answer"].read_bytes())
    before = tree_hash(), environment_listing()
    out = tmp / "reports.json"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "tools.grade", *map(str, paths.values()), "--timeout", "20",
                           "--notebook-timeout", "300", "--jobs", "2", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1500)
    elapsed = time.monotonic() - start
    time.sleep(1)
    reports = dict(zip(paths, json.loads(out.read_text(encoding="utf-8"))))
    if os.environ.get("NNLIB_HOSTILE_SUMMARY"):  # the verdict of every case, for a note
        Path(os.environ["NNLIB_HOSTILE_SUMMARY"]).write_text("\n".join(
            f"{label}: {r.get('points', 0)}/{r.get('max_points', 0)} points; "
            + (r.get("error") or next((t["reason"] for t in r["tasks"] if not t["passed"] and t["task"] ==
                                       {c[0]: c[2] for c in CASES}.get(label, "5.1")), "passed"))
            for label, r in reports.items()) + "\n", encoding="utf-8")
    return dict(proc=proc, reports=reports, before=before, after=(tree_hash(), environment_listing()),
                elapsed=elapsed)


def summary(report):
    return report.get("error") or "\n".join(f"  {t['task']}: {t['points']} {t['reason'][:150]}" for t in report["tasks"])


@needs_bwrap
@pytest.mark.parametrize("label", [c[0] for c in CASES] + ["metadata-and-cell-id-games", "another-chapter-relabelled"])
def test_cheating_scores_nothing(corpus, label):
    report = corpus["reports"][label]
    assert report["status"] != "error", report
    assert report["points"] == 0, f"{label} scored {report['points']}:\n{summary(report)}"
    assert not report["problems"], report["problems"]
    assert all("\n" not in t["reason"] for t in report["tasks"])


@needs_bwrap
def test_another_chapter_claiming_this_one_is_refused(corpus):
    report = corpus["reports"]["another-chapter-claiming-this-one"]
    assert report["status"] == "error" and "another chapter" in report["error"], report
    assert corpus["proc"].returncode == 2


@needs_bwrap
def test_later_submissions_are_unaffected_and_verdicts_repeat(corpus):
    reports = corpus["reports"]
    assert reports["later-untouched-exercise"]["points"] == 0
    right = reports["later-right-answers"]
    assert right["points"] == right["max_points"] and right["passed"], summary(right)
    first, again = reports["nondeterministic-answer"], reports["nondeterministic-again"]
    assert [t["reason"] for t in first["tasks"]] == [t["reason"] for t in again["tasks"]], "seeded: one verdict"


@needs_bwrap
def test_reasons_speak_of_the_learners_result(corpus):
    reasons = {label: r["tasks"][0]["reason"] for label, r in corpus["reports"].items()
               if label in ("numpy-comparisons-always-true", "lying-object-eq", "report-flood",
                            "malformed-report-data", "kills-its-kernel-in-the-check")}
    assert "your result for '5.1 sigmoid from -700 to 700' differs from the reference" in \
        reasons["numpy-comparisons-always-true"], reasons
    assert "Anything" in reasons["lying-object-eq"] and "report numbers" in reasons["lying-object-eq"], reasons
    assert "ReportLimit" in reasons["report-flood"] or "reported more than" in reasons["report-flood"], reasons
    assert "not plain data" in reasons["malformed-report-data"], reasons
    assert "killed by SIGKILL" in reasons["kills-its-kernel-in-the-check"], reasons
    nan = corpus["reports"]["softmax-nan-for-a-lone-very-negative-row"]["tasks"][0]["reason"]
    assert "not finite (NaN" in nan and nan.startswith("hidden check: "), nan


@needs_bwrap
def test_the_machine_is_left_alone(corpus):
    assert corpus["before"][0] == corpus["after"][0], "the repository changed"
    assert corpus["before"][1] == corpus["after"][1], "the Python environment or the home folder changed"
    import psutil
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if MARK in " ".join(p.info["cmdline"] or [])]
    assert not left, f"processes left behind: {left}"
    assert corpus["elapsed"] < 600, f"the corpus took {corpus['elapsed']:.0f} s"
