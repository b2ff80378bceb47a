"""The exercise machinery works: exercises/ is generated from solutions/, and the grader's verdicts
are right.

* every solution notebook passes the grader, every untouched exercise fails every task;
* ``exercises/`` is exactly what ``tools/exercises.py`` generates (byte for byte);
* a plausible wrong answer fails the task it answers, and only that one;
* a submission cannot talk its way to a pass: edited outputs and edited or deleted check cells
  give the verdict the answers deserve; cells are matched by identity, not by position.

Grading starts a kernel per notebook (a few seconds each), so these tests are written to run in
parallel (``pytest -n 2``). They call the command-line entry point ``python -m tools.grade``, the
way a teacher does.
"""
from __future__ import annotations

import ast
import builtins
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
NOTEBOOKS = sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

# Plausible student mistakes, as (old, new) replacements in a task's reference answer.
# Each must fail the task it belongs to, and no other task of its notebook.
MISTAKES = {
    "01_neuron": {
        "1.1": {"sums the whole batch": [("return np.asarray(X, dtype=float) @ np.asarray(w, dtype=float)",
                                          "return np.sum(np.asarray(X) * np.asarray(w))")]},
        "1.2": {"fires at the threshold": [("> threshold", ">= threshold")]},
        "1.3": {"wrong sign": [("return w + lr * error * x", "return w - lr * error * x")]},
    },
    "02_perceptron": {
        "2.1": {"missing bias": [("@ np.asarray(w, dtype=float) + b", "@ np.asarray(w, dtype=float)")]},
        "2.2": {"AND built as OR": [("w_and, b_and = np.array([1.0, 1.0]), -1.5",
                                     "w_and, b_and = np.array([1.0, 1.0]), -0.5")]},
        "2.3": {"bias never learns": [("return w + lr * delta * x, b + lr * delta",
                                       "return w + lr * delta * x, b")]},
    },
    "03_xor": {
        "3.1": {"two OR neurons": [("b1 = np.array([-0.5, -1.5])", "b1 = np.array([-0.5, -0.5])")],
                "no margin": [("b1 = np.array([-0.5, -1.5])", "b1 = np.array([-0.5, -1.0])")]},
        "3.2": {"degree exactly d": [("math.comb(n + d, d)", "math.comb(n + d - 1, d)")],
                "float arithmetic": [("return math.comb(n + d, d)",
                                      "return math.factorial(n + d) / (math.factorial(n) * math.factorial(d))")]},
        "3.3": {"square instead of product": [("X[:, 0] * X[:, 1]", "X[:, 0] ** 2")]},
    },
    "04_mlp": {
        "4.1": {"missing bias": [("(n_in + 1) * n_out", "n_in * n_out")]},
        "4.2": {"transposed weights": [("((n_in, n_out), (n_out,))", "((n_out, n_in), (n_out,))")]},
        "4.3": {"ReLU on the output layer": [("if i < len(weights) - 1:", "if True:")]},
    },
    "05_activations": {
        "5.1": {"sign error": [("np.exp(-z)", "np.exp(z)")]},
        "5.2": {"wrong derivative": [("return s * (1.0 - s)", "return s * (1.0 + s)")]},
        "5.3": {"slope 1 at zero": [("(np.asarray(z) > 0)", "(np.asarray(z) >= 0)")],
                "relu modifies its input": [("return np.maximum(np.asarray(z, dtype=float), 0.0)",
                                             "z = np.asarray(z, dtype=float)\n    z[z < 0] = 0.0\n    return z")]},
    },
    "06_softmax_cross_entropy": {
        "6.1": {"unstable softmax overflows": [("E = np.exp(Z - Z.max(axis=1, keepdims=True))", "E = np.exp(Z)")]},
        "6.2": {"log of an underflowed softmax": [
                    ("log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                     "log_p = np.log(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))")]},
        "6.3": {"forgets to divide by n": [("return G / n", "return G")]},
    },
    "07_backprop": {
        "7.1": {"mul gate not switched": [("dx, dy = d_xy * y, d_xy * x", "dx, dy = d_xy * x, d_xy * y")]},
        "7.2": {"bias gradient averaged": [("db = G.sum(axis=0)", "db = G.mean(axis=0)")]},
        "7.3": {"ReLU mask forgotten": [("G1 = (G2 @ W2.T) * (Z1 > 0)", "G1 = G2 @ W2.T")]},
    },
    "08_sgd_learning_rate": {
        "8.1": {"off-by-one drops the last batch": [("range(0, n_samples, batch_size)",
                                                     "range(0, n_samples - batch_size, batch_size)")]},
        "8.2": {"off-by-one in the batch loop": [("for start in range(0, n, batch_size):",
                                                  "for start in range(0, n - batch_size, batch_size):")],
                "summed instead of averaged gradient": [("X[idx].T @ error / len(idx)", "X[idx].T @ error")]},
        "8.3": {"learning rate that diverges": [("learning_rate = 0.1", "learning_rate = 10.0")],
                "learning rate too small": [("learning_rate = 0.1", "learning_rate = 0.005")]},
        "8.4": {"one over the curvature": [("return 2.0 / a", "return 1.0 / a")]},
    },
    "09_mnist": {
        "9.1": {"fancy-index += counts repeats once": [
                    ("np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)",
                     "C[np.asarray(y_true), np.asarray(y_pred)] += 1")]},
        "9.2": {"trained for one epoch": [("epochs=30", "epochs=1")]},
        "9.3": {"counts the diagonal": [("np.fill_diagonal(mistakes, -np.inf)", "pass")]},
    },
}


def _info(cell) -> dict:
    return cell.get("metadata", {}).get("nnlib", {})


def answers_of(name: str) -> dict[str, str]:
    """The reference answers of a notebook by task, without the solution marker lines."""
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    return {_info(c)["task"]: "\n".join(line for line in c.source.split("\n")
                                       if line.strip() not in (BEGIN, END))
            for c in nb.cells if _info(c).get("role") == "answer"}


def submission(name: str, task: str | None = None, replacements=(), *, answered: bool = True):
    """A student's notebook: the exercise as handed out, its answer cells filled in with the
    reference answers (``answered``), with ``replacements`` applied to the answer of ``task``."""
    nb = nbformat.read(EXERCISES / f"{name}.ipynb", as_version=4)
    answers = answers_of(name)
    for cell in nb.cells:
        info = _info(cell)
        if info.get("role") != "answer" or not answered:
            continue
        source = answers[info["task"]]
        if info["task"] == task:
            for old, new in replacements:
                assert old in source, f"mistake {old!r} no longer matches the answer of task {task}"
                source = source.replace(old, new)
        cell.source = source
    return nb


def grade(paths, tmp_path: Path) -> tuple[int, str, list[dict]]:
    """Run ``python -m tools.grade`` on notebooks (one run); return (exit status, printed text,
    one JSON report per notebook)."""
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "tools.grade", *map(str, paths), "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.exists(), f"the grader wrote no report:\n{proc.stdout}\n{proc.stderr}"
    data = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(data, list), "--json always writes a list of reports"
    return proc.returncode, proc.stdout, data


def write(nb, tmp_path: Path, stem: str) -> Path:
    path = tmp_path / f"{stem}.ipynb"
    nbformat.write(nb, str(path))
    return path


def verdicts(report: dict) -> dict[str, bool]:
    return {t["task"]: t["passed"] for t in report["tasks"]}


def summary(report: dict) -> str:
    return "\n".join(f"  task {t['task']}: {'passed' if t['passed'] else t['reason']}" for t in report["tasks"])


# ---------------------------------------------------------------------------------- no kernels
def test_every_chapter_has_a_solution_and_an_exercise():
    assert len(NOTEBOOKS) >= 5, f"expected the exercise notebooks in {SOLUTIONS}, found {NOTEBOOKS}"
    assert sorted(p.stem for p in EXERCISES.glob("*.ipynb")) == NOTEBOOKS


def test_exercises_are_in_sync_with_solutions(tmp_path):
    """Regenerating into an empty folder gives byte-identical files (and --check agrees)."""
    proc = subprocess.run([sys.executable, "-m", "tools.exercises", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in NOTEBOOKS:
        fresh = (tmp_path / f"{name}.ipynb").read_bytes()
        assert fresh == (EXERCISES / f"{name}.ipynb").read_bytes(), \
            f"exercises/{name}.ipynb is out of date: run `make exercises`"
    again = subprocess.run([sys.executable, "-m", "tools.exercises", "--out", str(tmp_path)],
                           cwd=ROOT, capture_output=True, text=True)
    assert "wrote" not in again.stdout, "regenerating must change nothing"
    check = subprocess.run([sys.executable, "-m", "tools.exercises", "--check"], cwd=ROOT,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("breakage, message", [
    (lambda cell: setattr(cell, "source", cell.source.replace(END, "")), "never closed"),
    (lambda cell: setattr(cell, "source", cell.source.replace(BEGIN, "").replace(END, "")),
     "needs a ### BEGIN SOLUTION"),
    (lambda cell: cell.metadata.pop("nnlib"), "need metadata nnlib.role"),
])
def test_generator_rejects_malformed_solutions(breakage, message, tmp_path):
    """A solution notebook that breaks the format is refused with a message naming the cell."""
    nb = nbformat.read(SOLUTIONS / f"{NOTEBOOKS[0]}.ipynb", as_version=4)
    breakage(next(c for c in nb.cells if _info(c).get("role") == "answer"))
    (tmp_path / "solutions").mkdir()
    nbformat.write(nb, str(tmp_path / "solutions" / f"{NOTEBOOKS[0]}.ipynb"))
    proc = subprocess.run([sys.executable, "-m", "tools.exercises", "--solutions", str(tmp_path / "solutions"),
                           "--out", str(tmp_path / "exercises")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr and "cell" in proc.stderr, proc.stderr
    assert not list((tmp_path / "exercises").glob("*.ipynb")), "nothing is written from a broken solution"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_exercise_hides_solutions_and_hidden_checks(name):
    solution = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    exercise = nbformat.read(EXERCISES / f"{name}.ipynb", as_version=4)
    roles = [_info(c).get("role") for c in exercise.cells]
    assert "hidden-check" not in roles and "solution-note" not in roles
    solution_answers = {c.id: c.source for c in solution.cells if _info(c).get("role") == "answer"}
    checks = {c.id: c for c in solution.cells if _info(c).get("role") == "check"}
    assert solution_answers and checks
    for cell in exercise.cells:
        role = _info(cell).get("role")
        if role == "answer":
            assert BEGIN not in cell.source and "raise NotImplementedError" in cell.source
            assert cell.outputs == [] and cell.execution_count is None
            reference = solution_answers.pop(cell.id)
            # code outside the solution region (the def line, the docstring) is kept
            kept = [line for line in reference.split("\n")[: reference.split("\n").index(
                next(line for line in reference.split("\n") if line.strip() == BEGIN))]]
            assert cell.source.split("\n")[: len(kept)] == kept
        elif role == "check":
            assert cell.outputs == checks.pop(cell.id).outputs, "check cells keep their expected output"
    assert not solution_answers and not checks, "every answer and check cell appears in the exercise"


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds, names it reads) - bound anywhere in the cell counts as bound."""
    bound, read = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return bound, read


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_tasks_only_use_their_own_answers(name):
    """Every answer and check cell reads only names of the setup cells, of its own task's cells,
    or Python's builtins: a failing task cannot take another task down with it."""
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    available = set(dir(builtins))
    own: dict[str, set[str]] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        info = _info(cell)
        bound, read = _names(cell.source)
        if info["role"] == "setup":
            available |= bound
            continue
        task_names = own.setdefault(info["task"], set())
        foreign = read - bound - available - task_names
        assert not foreign, f"{name}, cell {cell.id} (task {info['task']}) reads {sorted(foreign)}"
        task_names |= bound


# ---------------------------------------------------------------------------------- grading
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_grader_verdicts(name, tmp_path):
    """One grader run per notebook (a kernel per submission): the solution passes every task, the
    untouched exercise fails every task, and each plausible mistake fails its task and only it."""
    cases = [("solution", None, SOLUTIONS / f"{name}.ipynb"), ("exercise", None, EXERCISES / f"{name}.ipynb")]
    for task, mistakes in MISTAKES.get(name, {}).items():
        for label, replacements in mistakes.items():
            stem = f"mistake-{task}-{label.replace(' ', '_')}"
            cases.append((label, task, write(submission(name, task, replacements), tmp_path, stem)))
    status, text, reports = grade([path for _, _, path in cases], tmp_path)
    assert len(reports) == len(cases), text
    problems = []
    for (label, task, _), report in zip(cases, reports):
        failed = [t for t, ok in verdicts(report).items() if not ok]
        if report["problems"]:
            problems.append(f"{label}: {report['problems']}")
        if label == "solution" and failed:
            problems.append(f"the solution fails tasks {failed}:\n{summary(report)}")
        elif label == "exercise" and (len(failed) != report["total"] or not all(
                "NotImplementedError" in t["reason"] for t in report["tasks"])):
            problems.append(f"the untouched exercise must fail every task with NotImplementedError:\n"
                            f"{summary(report)}")
        elif task is not None and failed != [task]:
            problems.append(f"mistake '{label}' must fail task {task} only, failed {failed}:\n{summary(report)}")
    assert not problems, "\n".join(problems)
    assert status == 1, "a failing submission makes the grader exit with status 1"


def test_every_task_has_a_mistake():
    for name in NOTEBOOKS:
        assert set(MISTAKES.get(name, {})) == set(answers_of(name)), \
            f"{name}: every task needs at least one plausible wrong answer in MISTAKES"


def forged_submission():
    """Unanswered tasks whose saved outputs claim success, with one check cell deleted and the
    others rewritten to print the expected line."""
    nb = submission("05_activations", answered=False)
    expected = {c.id: c.outputs for c in nb.cells if _info(c).get("role") == "check"}
    forged = []
    for cell in nb.cells:
        info = _info(cell)
        if info.get("role") == "answer":
            line = f"✓ {info['task']} {info['title']}\n"
            cell.source = f"print({line.strip()!r})  # looks right\n" + cell.source
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=line)]
            cell.execution_count = 1
        elif info.get("role") == "check":
            text = "".join(o.get("text", "") for o in expected[cell.id])
            cell.source = f"print({text.strip()!r})"
            forged.append(cell)
    nb.cells.remove(forged[0])
    return nb


def shuffled_submission():
    """A correct submission with its cells reversed, its check cells deleted, one answer cell whose
    metadata was lost (to be matched by its cell id) and one answer cell (6.2) deleted."""
    nb = submission("06_softmax_cross_entropy")
    answers = {_info(c)["task"]: c for c in nb.cells if _info(c).get("role") == "answer"}
    nb.cells = [c for c in nb.cells if _info(c).get("role") != "check"]
    nb.cells.remove(answers["6.2"])
    del answers["6.1"].metadata["nnlib"]
    nb.cells.reverse()
    return nb


def erroneous_submission():
    """5.1 prints from inside the function (so its check prints more than expected), 5.2 uses an
    undefined name, 5.3 is right and prints in its answer cell (which is allowed)."""
    nb = submission("05_activations", "5.2", [("return s * (1.0 - s)", "return s * (1.0 - x)")])
    answers = {_info(c)["task"]: c for c in nb.cells if _info(c).get("role") == "answer"}
    answers["5.3"].source += "\n\nprint('debugging output is fine in an answer cell')"
    answers["5.1"].source = answers["5.1"].source.replace(
        "return 1.0 / (1.0 + np.exp(-z))", "print('sigmoid called')\n    return 1.0 / (1.0 + np.exp(-z))")
    return nb


def test_submissions_cannot_fake_a_pass(tmp_path):
    """Saved outputs and check cells in the submission do not matter; cells are matched by
    identity, not position; the report names each failure's cause."""
    paths = [write(forged_submission(), tmp_path, "05_activations-forged"),
             write(shuffled_submission(), tmp_path, "06_softmax_cross_entropy-shuffled"),
             write(erroneous_submission(), tmp_path, "05_activations-errors")]
    status, text, (forged, shuffled, errors) = grade(paths, tmp_path)
    assert status == 1
    assert not any(verdicts(forged).values()), summary(forged)

    assert verdicts(shuffled) == {"6.1": True, "6.2": False, "6.3": True}, summary(shuffled)
    assert "no answer cell" in shuffled["tasks"][1]["reason"]

    lines = {t["task"]: t for t in errors["tasks"]}
    assert "task 5.2 sigmoid derivative: failed: NameError: name 'x' is not defined" in text, text
    assert "wrong output (expected '✓ 5.1 sigmoid', got 'sigmoid called" in lines["5.1"]["reason"], text
    assert lines["5.3"]["passed"], summary(errors)
    assert "score: 1/3 tasks" in text


def test_cli_exit_status(tmp_path):
    """One notebook: status 0 when every task passes (as `make grade NB=...` uses it); status 2
    and a clear message for a file that is not a notebook."""
    proc = subprocess.run([sys.executable, "-m", "tools.grade", str(SOLUTIONS / f"{NOTEBOOKS[0]}.ipynb")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("score: ") and "passed" in proc.stdout
    bad = tmp_path / "not-a-notebook.ipynb"
    bad.write_text("{ this is not json", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "tools.grade", str(bad)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "not a readable Jupyter notebook" in proc.stderr


def test_runaway_answer_times_out_alone(tmp_path):
    """An answer that never returns is stopped after the per-cell time limit; it fails its own
    task and the grader carries on with the others."""
    nb = submission("05_activations", "5.2", [("return s * (1.0 - s)", "while True:\n        pass")])
    path = write(nb, tmp_path, "05_activations-loop")
    out = tmp_path / "loop.json"
    proc = subprocess.run([sys.executable, "-m", "tools.grade", str(path), "--timeout", "15",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    (report,) = json.loads(out.read_text(encoding="utf-8"))  # --json always writes a list
    assert verdicts(report) == {"5.1": True, "5.2": False, "5.3": True}, proc.stdout
    assert "timed out" in report["tasks"][1]["reason"] and proc.returncode == 1
