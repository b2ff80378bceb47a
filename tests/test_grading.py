"""The exercise machinery works: exercises/ is generated from solutions/, and the grader's verdicts
are right.

* every solution notebook passes the grader, every untouched exercise fails every task;
* ``exercises/`` is exactly what ``tools/exercises.py`` generates (byte for byte);
* a plausible wrong answer fails the task it answers, and only that one;
* a submission cannot talk its way to a pass: edited outputs and edited or deleted check cells
  give the verdict the answers deserve; cells are matched by identity, not by position;
* points: each task scores its points, or with pointed checks the points of the checks that pass
  (0 when the answer cell fails); failed checks show their hints; an answer using a name of the
  notebook's ``nnlib.forbidden`` list is refused (0 points, the other tasks graded); a solution
  whose checks' points do not add up to the task's is refused.

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

from tools.exercises import reports_of

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
NOTEBOOKS = sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

# Plausible student mistakes, as (old, new) replacements in a task's reference answer.
# Each must fail the task it belongs to, and no other task of its notebook. The project's
# (10_project) are in tests/test_project.py, which grades several of them per submission (each
# grading of the project trains networks).
MISTAKES = {
    "01_neuron": {
        "1.1": {"sums the whole batch": [("return np.asarray(X, dtype=float) @ np.asarray(w, dtype=float)",
                                          "return np.sum(np.asarray(X) * np.asarray(w))")],
                "products without the sum": [("return np.asarray(X, dtype=float) @ np.asarray(w, dtype=float)",
                                              "return np.asarray(X, dtype=float) * np.asarray(w, dtype=float)")]},
        "1.2": {"fires at the threshold": [("> threshold", ">= threshold")],
                "ignores the threshold": [("> threshold", "> 0")]},
        "1.3": {"wrong sign": [("return w + lr * error * x", "return w - lr * error * x")],
                "step without the input": [("return w + lr * error * x", "return w + lr * error")]},
        "1.4": {"one example's limit instead of the pass's": [("return float((lo + hi) / 2)",
                                                              "return float(2.0 / np.max(x ** 2))")],
                "the pass taken as one batch step": [("return float((lo + hi) / 2)",
                                                      "return float(2.0 / np.sum(x ** 2))")]},
    },
    "02_perceptron": {
        "2.1": {"missing bias": [("@ np.asarray(w, dtype=float) + b", "@ np.asarray(w, dtype=float)")],
                "fires at zero": [("return (z > 0).astype(int)", "return (z >= 0).astype(int)")]},
        "2.2": {"AND built as OR": [("w_and, b_and = np.array([1.0, 1.0]), -1.5",
                                     "w_and, b_and = np.array([1.0, 1.0]), -0.5")],
                "OR built as AND": [("w_or, b_or = np.array([1.0, 1.0]), -0.5",
                                     "w_or, b_or = np.array([1.0, 1.0]), -1.5")]},
        "2.3": {"bias never learns": [("return w + lr * delta * x, b + lr * delta",
                                       "return w + lr * delta * x, b")],
                "wrong sign": [("return w + lr * delta * x, b + lr * delta",
                                "return w - lr * delta * x, b - lr * delta")]},
        "2.4": {"bias never learns": [("w, b = w + delta * x_i, b + delta", "w, b = w + delta * x_i, b")],
                "mistakes counted over all epochs": [("    for _ in range(epochs):\n        mistakes = 0",
                                                      "    mistakes = 0\n    for _ in range(epochs):")]},
    },
    "03_xor": {
        "3.1": {"two OR neurons": [("b1 = np.array([-0.5, -1.5])", "b1 = np.array([-0.5, -0.5])")],
                "no margin": [("b1 = np.array([-0.5, -1.5])", "b1 = np.array([-0.5, -1.0])")]},
        "3.2": {"degree exactly d": [("math.comb(n + d, d)", "math.comb(n + d - 1, d)")],
                "float arithmetic": [("return math.comb(n + d, d)",
                                      "return math.factorial(n + d) / (math.factorial(n) * math.factorial(d))")]},
        "3.3": {"square instead of product": [("X[:, 0] * X[:, 1]", "X[:, 0] ** 2")],
                "sum instead of product": [("X[:, 0] * X[:, 1]", "X[:, 0] + X[:, 1]")]},
        "3.4": {"counts runs with any point right": [("successes += bool(np.all(", "successes += bool(np.any(")],
                "one seed for every network": [('output="sigmoid", seed=seed)', 'output="sigmoid", seed=0)')]},
    },
    "04_mlp": {
        "4.1": {"missing bias": [("(n_in + 1) * n_out", "n_in * n_out")],
                "a bias per input": [("(n_in + 1) * n_out", "n_in * (n_out + 1)")]},
        "4.2": {"transposed weights": [("((n_in, n_out), (n_out,))", "((n_out, n_in), (n_out,))")],
                "bias as a column": [("((n_in, n_out), (n_out,))", "((n_in, n_out), (n_out, 1))")]},
        "4.3": {"ReLU on the output layer": [("if i < len(weights) - 1:", "if True:")],
                "no activation between the layers": [("H = np.maximum(H, 0.0)", "H = H")]},
        "4.4": {"bias as the last row": [
                    ("np.vstack([np.asarray(b, dtype=float).reshape(1, -1), np.asarray(W, dtype=float)])",
                     "np.vstack([np.asarray(W, dtype=float), np.asarray(b, dtype=float).reshape(1, -1)])")],
                "ones only at the input": [
                    ("H = np.asarray(X, dtype=float)\n    for i, W_tilde in enumerate(folded):\n        H = add_ones(H) @ W_tilde",
                     "H = add_ones(X)\n    for i, W_tilde in enumerate(folded):\n        H = H @ W_tilde")],
                "ones appended last": [("np.hstack([np.ones((X.shape[0], 1)), X])",
                                        "np.hstack([X, np.ones((X.shape[0], 1))])")]},
    },
    "05_activations": {
        "5.1": {"sign error": [("np.exp(-z)", "np.exp(z)")],
                "tanh instead of the logistic": [("return 1.0 / (1.0 + np.exp(-z))", "return np.tanh(z)")]},
        "5.2": {"wrong derivative": [("return s * (1.0 - s)", "return s * (1.0 + s)")],
                "s(1 - s) of z itself": [("s = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))",
                                          "s = np.asarray(z, dtype=float)")]},
        "5.3": {"slope 1 at zero": [("(np.asarray(z) > 0)", "(np.asarray(z) >= 0)")],
                "relu modifies its input": [("return np.maximum(np.asarray(z, dtype=float), 0.0)",
                                             "z = np.asarray(z, dtype=float)\n    z[z < 0] = 0.0\n    return z")]},
        "5.4": {"slopes without the weights": [("upstream = grads[l] * w[l]", "upstream = grads[l]")],
                "layers counted from 0": [("return l + 1", "return l")],
                "threshold not relative to the output layer": [("if g[l] < threshold * g[-1]:",
                                                                 "if g[l] < threshold:")]},
    },
    "06_softmax_cross_entropy": {
        "6.1": {"unstable softmax overflows": [("E = np.exp(Z - Z.max(axis=1, keepdims=True))", "E = np.exp(Z)")],
                "normalised over the batch": [("return E / E.sum(axis=1, keepdims=True)",
                                               "return E / E.sum(axis=0, keepdims=True)")]},
        "6.2": {"log of an underflowed softmax": [
                    ("log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                     "log_p = np.log(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))")],
                "summed over the batch": [("y].mean())", "y].sum())")]},
        "6.3": {"forgets to divide by n": [("return G / n", "return G")],
                "one-hot minus softmax": [("return G / n", "return -G / n")]},
        "6.4": {"log(1 + exp) overflows": [("return np.logaddexp(0.0, -y * z)", "return np.log(1 + np.exp(-y * z))")],
                "gradient with the wrong sign": [("return -y * np.exp(-np.logaddexp(0.0, y * z))",
                                                  "return y * np.exp(-np.logaddexp(0.0, y * z))")]},
    },
    "07_backprop": {
        "7.1": {"mul gate not switched": [("dx, dy = d_xy * y, d_xy * x", "dx, dy = d_xy * x, d_xy * y")],
                "ties of the max go to w": [("if z >= w else", "if z > w else")]},
        "7.2": {"bias gradient averaged": [("db = G.sum(axis=0)", "db = G.mean(axis=0)")],
                "transposed weight gradient": [("dW = X.T @ G", "dW = G.T @ X")]},
        "7.3": {"ReLU mask forgotten": [("G1 = (G2 @ W2.T) * (Z1 > 0)", "G1 = G2 @ W2.T")],
                "target minus prediction": [("G2 = (Y_hat - Y) / n", "G2 = (Y - Y_hat) / n")]},
        "7.4": {"one-sided difference": [("grad[index] = (up - down) / (2 * eps)", "grad[index] = (up - float(f())) / eps")],
                "x not restored": [("        x[index] = saved\n        grad[index]", "        grad[index]")]},
    },
    "08_sgd_learning_rate": {
        "8.1": {"off-by-one drops the last batch": [("range(0, n_samples, batch_size)",
                                                     "range(0, n_samples - batch_size, batch_size)")],
                "never shuffled": [("order = rng.permutation(n_samples)", "order = np.arange(n_samples)")]},
        "8.2": {"off-by-one in the batch loop": [("for start in range(0, n, batch_size):",
                                                  "for start in range(0, n - batch_size, batch_size):")],
                "summed instead of averaged gradient": [("X[idx].T @ error / len(idx)", "X[idx].T @ error")]},
        "8.3": {"learning rate that diverges": [("learning_rate = 0.1", "learning_rate = 10.0")],
                "learning rate too small": [("learning_rate = 0.1", "learning_rate = 0.005")]},
        "8.4": {"one over the curvature": [("return 2.0 / a", "return 1.0 / a")],
                "twice the curvature": [("return 2.0 / a", "return 2.0 * a")]},
        "8.5": {"biases decayed too": [("if p.ndim == 2:", "if True:")],
                "decay with the wrong sign": [("p -= lr * (g + lam * p)", "p -= lr * (g - lam * p)")]},
    },
    "09_mnist": {
        "9.1": {"fancy-index += counts repeats once": [
                    ("np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)",
                     "C[np.asarray(y_true), np.asarray(y_pred)] += 1")],
                "predictions as rows": [("(np.asarray(y_true), np.asarray(y_pred))",
                                         "(np.asarray(y_pred), np.asarray(y_true))")]},
        "9.2": {"trained for one epoch": [("epochs=30", "epochs=1")],
                "a learning rate too small": [("lr=0.1,", "lr=0.001,")]},
        "9.3": {"counts the diagonal": [("np.fill_diagonal(mistakes, -np.inf)", "pass")],
                "(predicted, true) swapped": [("return int(i), int(j)", "return int(j), int(i)")]},
        "9.4": {"test images scaled by their own statistics": [
                    ("return (X_train - mean) / std, (X_test - mean) / std",
                     "return (X_train - mean) / std, (X_test - X_test.mean(axis=0)) / std")],
                "pixels that never change divide by zero": [("std[std == 0] = 1.0", "pass")],
                "network trained on the raw pixels": [
                    ("fit(model, A, y_train,", "fit(model, np.asarray(X_train, dtype=float), y_train,")],
                "baseline measured on the training images": [
                    ("np.mean(nearest_mean_predict(A, y_train, B) == y_test)",
                     "np.mean(nearest_mean_predict(A, y_train, A) == y_train)")],
                "nearest by the largest dot product": [("classes[np.argmin(distances, axis=1)]",
                                                        "classes[np.argmax(X @ means.T, axis=1)]")]},
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


def submission(name: str, task: str | None = None, replacements=(), *, answered: bool = True,
               wrong: dict | None = None):
    """A student's notebook: the exercise as handed out, its answer cells filled in with the
    reference answers (``answered``), with ``replacements`` applied to the answer of ``task``
    (``wrong``: {task: replacements}, for several tasks at once)."""
    nb = nbformat.read(EXERCISES / f"{name}.ipynb", as_version=4)
    answers = answers_of(name)
    wrong = dict(wrong or {}, **({task: replacements} if task is not None else {}))
    for cell in nb.cells:
        info = _info(cell)
        if info.get("role") != "answer" or not answered:
            continue
        source = answers[info["task"]]
        for old, new in wrong.get(info["task"], ()):
            assert old in source, f"mistake {old!r} no longer matches the answer of task {info['task']}"
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


def points(report: dict) -> dict[str, int]:
    return {t["task"]: t["points"] for t in report["tasks"]}


def max_points(name: str) -> dict[str, int]:
    """The points of each task of a solution notebook (its answer cells' metadata, default 1)."""
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    return {_info(c)["task"]: _info(c).get("points", 1) for c in nb.cells if _info(c).get("role") == "answer"}


# Mistakes that fail only a pointed check of a partial-credit task: (notebook, label) -> points kept
PARTIAL = {("05_activations", "relu modifies its input"): 2,
           # 9.4: the visible check (2 points) tests the scaling and the network, the hidden one
           # (1 point) the nearest-mean baseline
           ("09_mnist", "test images scaled by their own statistics"): 1,
           ("09_mnist", "network trained on the raw pixels"): 1,
           ("09_mnist", "baseline measured on the training images"): 2,
           ("09_mnist", "nearest by the largest dot product"): 2}


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


def _generate_from(nb, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run the exercise generator on ``nb`` as the only solution notebook (into tmp_path/exercises)."""
    (tmp_path / "solutions").mkdir()
    nbformat.write(nb, str(tmp_path / "solutions" / f"{NOTEBOOKS[0]}.ipynb"))
    return subprocess.run([sys.executable, "-m", "tools.exercises", "--solutions", str(tmp_path / "solutions"),
                           "--out", str(tmp_path / "exercises")], cwd=ROOT, capture_output=True, text=True)


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
    proc = _generate_from(nb, tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and "cell" in proc.stderr, proc.stderr
    assert not list((tmp_path / "exercises").glob("*.ipynb")), "nothing is written from a broken solution"


def test_generator_requires_a_hidden_check_per_task(tmp_path):
    """A task whose only checks are visible could be passed by hard-coding their inputs: refused."""
    nb = nbformat.read(SOLUTIONS / f"{NOTEBOOKS[0]}.ipynb", as_version=4)
    task = next(_info(c)["task"] for c in nb.cells if _info(c).get("role") == "answer")
    nb.cells = [c for c in nb.cells if not (_info(c).get("role") == "hidden-check" and _info(c)["task"] == task)]
    proc = _generate_from(nb, tmp_path)
    assert proc.returncode == 2 and f"task {task} has no hidden check" in proc.stderr, proc.stderr


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
        elif role == "check":  # the reference's reports as metadata, a ✓ line per report as output
            reports = reports_of(checks.pop(cell.id))
            expected = _info(cell)["expected"]
            assert [m["name"] for m in expected] == [m["name"] for m in reports] and reports
            assert all(m["judge"] == r["judge"] and "against" not in m for m, r in zip(expected, reports))
            assert cell.outputs[0]["text"] == "".join(f"✓ {m['name']}\n" for m in expected)
            assert not any("data" in o for o in cell.outputs), "no report data in the outputs"
    assert not solution_answers and not checks, "every answer and check cell appears in the exercise"
    hidden = [c for c in solution.cells if _info(c).get("role") == "hidden-check"]
    assert not any(reports_of(c) for c in hidden), "a hidden check's reference data stays out of solutions/"


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
def mistaken_submissions(name: str) -> list[dict[str, str]]:
    """The mistakes of a notebook dealt into submissions: the k-th submission holds the k-th
    mistake of every task that has one (tasks share no names, see test_tasks_only_use_their_own_answers),
    so a notebook needs as many gradings as its task with the most mistakes, not one per mistake.
    Each submission: {task: label}."""
    by_task = [list(labels) for labels in MISTAKES.get(name, {}).values()]
    tasks = list(MISTAKES.get(name, {}))
    return [{task: labels[k] for task, labels in zip(tasks, by_task) if k < len(labels)}
            for k in range(max(map(len, by_task), default=0))]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_grader_verdicts(name, tmp_path):
    """One grader run per notebook (a kernel per submission): the solution passes every task, the
    untouched exercise fails every task, and each plausible mistake fails its task and only it
    (the project's mistakes: tests/test_project.py)."""
    cases = [("solution", {}, SOLUTIONS / f"{name}.ipynb"), ("exercise", {}, EXERCISES / f"{name}.ipynb")]
    for k, wrong in enumerate(mistaken_submissions(name)):
        nb = submission(name, wrong={task: MISTAKES[name][task][label] for task, label in wrong.items()})
        cases.append((f"mistakes {k + 1}", wrong, write(nb, tmp_path, f"mistakes-{k + 1}")))
    status, text, reports = grade([path for _, _, path in cases], tmp_path)
    assert len(reports) == len(cases), text
    if reports[0].get("status") == "error":
        pytest.fail(f"the solution cannot be graded: {reports[0]['error']}")
    problems = []
    most = max_points(name)
    for (label, wrong, _), report in zip(cases, reports):
        failed = [t for t, ok in verdicts(report).items() if not ok]
        if report["problems"]:
            problems.append(f"{label}: {report['problems']}")
        if {t["task"]: t["max_points"] for t in report["tasks"]} != most \
                or report["max_points"] != sum(most.values()):
            problems.append(f"{label}: the maximum points differ from the solution's metadata {most}")
        if report["points"] != sum(points(report).values()):
            problems.append(f"{label}: the total points are not the sum of the tasks' points")
        scored = points(report)
        if label == "solution" and (failed or scored != most):
            problems.append(f"the solution fails tasks {failed} or misses points {scored}:\n{summary(report)}")
        elif label == "exercise" and any(scored.values()):
            problems.append(f"the untouched exercise scores points: {scored}")
        elif wrong:
            wanted = {t: (PARTIAL.get((name, wrong[t]), 0) if t in wrong else m) for t, m in most.items()}
            for task, mistake in wrong.items():
                if task not in failed:
                    problems.append(f"the wrong answer '{mistake}' passed task {task}")
            for task in failed:
                if task not in wrong:
                    problems.append(f"{label}: task {task} has the reference answer but failed:\n{summary(report)}")
            for task in most:
                if scored[task] != wanted[task]:
                    problems.append(f"task {task} must score {wanted[task]}{f' with the mistake {wrong[task]!r}' if task in wrong else ''}, "
                                    f"scored {scored[task]}")
        if label == "exercise" and (len(failed) != report["total"] or not all(
                "NotImplementedError" in t["reason"] for t in report["tasks"])):
            problems.append(f"the untouched exercise must fail every task with NotImplementedError:\n"
                            f"{summary(report)}")
    assert not problems, "\n".join(problems)
    assert status == 1, "a failing submission makes the grader exit with status 1"


def test_every_task_has_a_mistake():
    from tests.test_project import MISTAKES as PROJECT_MISTAKES, NAME as PROJECT
    for name in NOTEBOOKS:
        mistakes = PROJECT_MISTAKES if name == PROJECT else MISTAKES.get(name, {})
        assert set(mistakes) == set(answers_of(name)), \
            f"{name}: every task needs at least one plausible wrong answer in MISTAKES"
        assert all(len(labels) >= 2 for labels in mistakes.values()), \
            f"{name}: every task needs at least two plausible wrong answers in MISTAKES"


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
    """5.1 prints from inside the function (allowed: a check judges the reported data, not the
    printed text), 5.2 uses an undefined name, 5.3 is right and prints in its answer cell."""
    nb = submission("05_activations", "5.2", [("return s * (1.0 - s)", "return s * (1.0 - x)")])
    answers = {_info(c)["task"]: c for c in nb.cells if _info(c).get("role") == "answer"}
    answers["5.3"].source += "\n\nprint('debugging output is fine in an answer cell')"
    answers["5.1"].source = answers["5.1"].source.replace(
        "return 1.0 / (1.0 + np.exp(-z))", "print('sigmoid called')\n    return 1.0 / (1.0 + np.exp(-z))")
    return nb


def partial_submission():
    """5.1 defines a right sigmoid but its answer cell then fails (so its passing checks count
    nothing), 5.2 has a wrong derivative (its check's hint is shown), 5.3's ReLU changes its input
    (it passes the visible check, worth 2 of its 3 points, and fails the hidden one); 5.4 is right."""
    nb = submission("05_activations", "5.3", [("return np.maximum(np.asarray(z, dtype=float), 0.0)",
                                               "z = np.asarray(z, dtype=float)\n    z[z < 0] = 0.0\n    return z")])
    answers = {_info(c)["task"]: c for c in nb.cells if _info(c).get("role") == "answer"}
    answers["5.1"].source += "\n\nraise ValueError('left over from debugging')"
    answers["5.2"].source = answers["5.2"].source.replace("return s * (1.0 - s)", "return s * (1.0 + s)")
    return nb


def test_submissions_cannot_fake_a_pass(tmp_path):
    """Saved outputs and check cells in the submission do not matter; cells are matched by
    identity, not position; the report names each failure's cause. (Also: partial credit and
    hints, in the same grader run.)"""
    paths = [write(forged_submission(), tmp_path, "05_activations-forged"),
             write(shuffled_submission(), tmp_path, "06_softmax_cross_entropy-shuffled"),
             write(erroneous_submission(), tmp_path, "05_activations-errors"),
             write(partial_submission(), tmp_path, "05_activations-partial")]
    status, text, (forged, shuffled, errors, partial) = grade(paths, tmp_path)
    assert points(partial) == {"5.1": 0, "5.2": 0, "5.3": 2, "5.4": 2}, summary(partial)
    lines = {t["task"]: t for t in partial["tasks"]}
    assert lines["5.1"]["reason"] == "ValueError: left over from debugging"
    assert all(c["passed"] for c in lines["5.1"]["checks"][1:]), "its checks pass, yet it scores 0"
    assert "task 5.2 sigmoid derivative (0/2 points): failed: your result for '5.2 sigmoid_grad from -700 to " \
           "700' differs from the reference at 6 of 7 entries; largest difference" in text, text
    assert "(hint: write the slope with the sigmoid itself" in text, text
    assert ("task 5.3 ReLU and its derivative (2/3 points): failed: hidden check: your result for '5.3 the "
            "input afterwards (unchanged?)' differs from the reference") in text, text
    assert "(hint: work on a copy" in text
    assert [(c["role"], c["points"], c["passed"]) for c in lines["5.3"]["checks"]] == [
        ("answer", None, True), ("check", 2, True), ("hidden-check", 0, True), ("hidden-check", 1, False)]
    assert lines["5.3"]["checks"][2].get("gate"), "the gate re-tests the visible checks on other inputs"
    assert "score: 4/9 points, 1/4 tasks" in text
    assert "(2/3 points)" not in text.split("05_activations-partial")[0], "one report per submission"
    assert status == 1
    assert not any(verdicts(forged).values()), summary(forged)

    assert verdicts(shuffled) == {"6.1": True, "6.2": False, "6.3": True, "6.4": True}, summary(shuffled)
    assert "no answer cell" in shuffled["tasks"][1]["reason"]

    lines = {t["task"]: t for t in errors["tasks"]}
    assert "task 5.2 sigmoid derivative (0/2 points): failed: NameError: name 'x' is not defined" in text, text
    assert lines["5.1"]["passed"] and lines["5.3"]["passed"] and lines["5.4"]["passed"], summary(errors)
    assert "score: 7/9 points, 3/4 tasks" in text


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


# ---------------------------------------------------------------------------------- points, hints, forbidden names
from tools.exercises import ExerciseFormatError, tasks  # noqa: E402
from tools.grade import forbidden_use  # noqa: E402

PROJECT_FORBIDDEN = ["nnlib.layers", "nnlib.network", "nnlib.train", "nnlib.MLP", "nnlib.Sequential",
                     "nnlib.Dense", "nnlib.fit"]


@pytest.mark.parametrize("source, name", [
    ("import nnlib.layers", "nnlib.layers"),
    ("import nnlib.network as net\nmodel = net.MLP([2, 1])", "nnlib.network"),
    ("from nnlib import fit", "nnlib.fit"),
    ("from nnlib import Dense as D, relu", "nnlib.Dense"),
    ("from nnlib.train import fit", "nnlib.train"),
    ("from nnlib import *", "nnlib.layers"),
    ("import nnlib\nhistory = nnlib.fit(model, X, y)", "nnlib.fit"),
    ("import nnlib as nn\ndef build():\n    return nn.MLP([2, 3, 1])", "nnlib.MLP"),
    ("import nnlib as nn\nm = nn\nm.Sequential", "nnlib.Sequential"),
    ("nn = __import__('nnlib')\nnn.Dense(2, 3)", "nnlib.Dense"),
    ("__import__('nnlib.train')", "nnlib.train"),
    ("import importlib\nimportlib.import_module('nnlib.layers')", "nnlib.layers"),
    ("from importlib import import_module\nimport_module('nnlib').fit", "nnlib.fit"),
    ("import nnlib\ngetattr(nnlib, 'MLP')", "nnlib.MLP"),
    ("exec('from nnlib import fit')", "nnlib.fit"),
    ("def train(model):\n    return reference.fit(model)", "nnlib.fit"),  # `reference` from a setup cell
])
def test_forbidden_names_are_found(source, name):
    why = forbidden_use(source, PROJECT_FORBIDDEN, {"reference": "nnlib", "np": "numpy"})
    assert why is not None and why.startswith(f"uses {name} (line "), why
    assert "\n" not in why


@pytest.mark.parametrize("source", [
    "import numpy as np\nfrom nnlib import relu, softmax_cross_entropy\nimport nnlib.activations as A",
    "import nnlib\nz = nnlib.activations.relu(x)",
    "def fit(X, y):\n    return X\nclass Dense:\n    pass\nDense(); fit(1, 2)",  # the learner's own
    "model = MLP = 3",
    "def broken(:",  # a syntax error is reported by running the cell, not here
])
def test_allowed_answers_are_not_refused(source):
    # `fit` imported by a setup cell, shadowed by the learner's own definition
    assert forbidden_use(source, PROJECT_FORBIDDEN, {"np": "numpy", "fit": "nnlib.fit"}) is None


def test_forbidden_helpers_and_setup_imports():
    """A plain name may be forbidden too (a setup helper wrapping nnlib); only the setup cells'
    module-level imports define aliases (an import inside a setup function defines no global)."""
    from tools.grade import import_aliases
    assert forbidden_use("train = stand_ins['train']", ["stand_ins"]).startswith("uses stand_ins (line 1")
    setup = "import nnlib as nn\ndef helpers():\n    from nnlib.train import fit, evaluate\n    return fit"
    aliases = import_aliases([setup], module_level=True)
    assert aliases == {"nn": "nnlib"}
    assert forbidden_use("evaluate(model, X, y)", ["nnlib.train"], aliases) is None
    assert forbidden_use("nn.fit(model)", ["nnlib.fit"], aliases).startswith("uses nnlib.fit")


def _prints(nb, cell_id, text):
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return nb


def _heading(nb, cell_id, line):
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    cell.source = line + cell.source[cell.source.index("\n"):]
    return nb


def _with(nb, cell_id, **meta):
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    cell.metadata["nnlib"].update(meta)
    return nb


@pytest.mark.parametrize("change, message", [
    (lambda nb: _with(nb, "t5-3-check", points=1), "add up to 2"),
    (lambda nb: _with(nb, "t5-3-answer", points=4), "add up to 3"),
    (lambda nb: _with(nb, "t5-1-answer", points=0), "integer >= 1"),
    (lambda nb: _with(nb, "t5-1-answer", points="2"), "integer >= 1"),
    (lambda nb: _with(nb, "t5-1-check", points=True), "integer >= 0"),
    (lambda nb: _with(nb, "t5-1-check", hint="two\nlines"), "one line"),
    (lambda nb: _with(nb, "t5-2-check", hint="try return s * (1.0 - s)"), "quotes the solution's code"),
    (lambda nb: nb.metadata["nnlib"].update(forbidden="nnlib.fit"), "nnlib.forbidden must be a list"),
    (lambda nb: _prints(nb, "t5-2-check", "expected: return s * (1.0 - s)\n"), "prints the solution's code"),
    (lambda nb: _with(nb, "t5-1-answer", points=3), "the heading of task 5.1 shows 2 points, but the task has 3"),
    (lambda nb: _heading(nb, "task-5-2", "## Task 5.2 · Sigmoid derivative"), "task 5.2 shows no points"),
    (lambda nb: _heading(nb, "task-5-4", "## The vanishing gradient"), "task 5.4 has no markdown heading"),
])
def test_points_hints_and_forbidden_are_validated(change, message):
    nb = nbformat.read(SOLUTIONS / "05_activations.ipynb", as_version=4)
    tasks(nb, "05_activations")  # valid as it stands
    change(nb)
    with pytest.raises(ExerciseFormatError) as info:
        tasks(nb, "05_activations")
    assert message in str(info.value), str(info.value)


def test_every_task_has_sensible_points():
    """Chapters 1-9: 1 to 3 points by difficulty (the project's tasks may be worth more)."""
    for name in [n for n in NOTEBOOKS if int(n[:2]) < 10]:
        nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
        for task in tasks(nb, name):
            assert 1 <= task.points <= 3, f"{name}: task {task.task} has {task.points} points"


@pytest.fixture(scope="module")
def strict_solutions(tmp_path_factory):
    """05_activations with a forbidden list (its setup made to import nnlib.activations as `reference`),
    and a copy whose pointed checks do not add up."""
    folder = tmp_path_factory.mktemp("strict")
    nb = nbformat.read(SOLUTIONS / "05_activations.ipynb", as_version=4)
    nb.metadata["nnlib"]["forbidden"] = ["nnlib.activations", "nnlib.sigmoid", "nnlib.relu"]
    setup = next(c for c in nb.cells if _info(c).get("role") == "setup")
    setup.source += "\nimport nnlib.activations as reference"
    (folder / "ok").mkdir()
    nbformat.write(nb, str(folder / "ok" / "05_activations.ipynb"))
    _with(nb, "t5-1-check", points=1)  # 5.1 has 2 points; its checks now carry 1 + 0
    (folder / "bad").mkdir()
    nbformat.write(nb, str(folder / "bad" / "05_activations.ipynb"))
    return folder


def test_forbidden_answers_score_zero_and_the_rest_is_graded(strict_solutions, tmp_path):
    """Several spellings of a forbidden name, one per task, in two submissions graded in one run;
    the refused task scores 0 with a one-line reason, the others are graded (and --json carries
    the points)."""
    alias = submission("05_activations")
    cells = {_info(c)["task"]: c for c in alias.cells if _info(c).get("role") == "answer"}
    cells["5.1"].source = "import nnlib as nn\n\ndef sigmoid(z):\n    return nn.sigmoid(z)"
    cells["5.2"].source = ("def sigmoid_grad(z):\n    s = reference.sigmoid(z)  # the setup's alias\n"
                           "    return s * (1.0 - s)")
    loader = submission("05_activations")
    cells = {_info(c)["task"]: c for c in loader.cells if _info(c).get("role") == "answer"}
    cells["5.3"].source = ("relu_grad = __import__('nnlib.activations').activations.relu_grad\n"
                           "from nnlib import relu")
    paths = [write(alias, tmp_path, "05_activations-alias"), write(loader, tmp_path, "05_activations-loader")]
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "tools.grade", *map(str, paths), "--solutions",
                           str(strict_solutions / "ok"), "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    first, second = json.loads(out.read_text(encoding="utf-8"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert points(first) == {"5.1": 0, "5.2": 0, "5.3": 3, "5.4": 2}, summary(first)
    assert points(second) == {"5.1": 2, "5.2": 2, "5.3": 0, "5.4": 2}, summary(second)
    reasons = {t["task"]: t["reason"] for t in first["tasks"] + second["tasks"] if not t["passed"]}
    assert reasons["5.1"].startswith("this exercise is built from scratch: do not use nnlib.sigmoid"), reasons
    assert "nnlib.activations" in reasons["5.2"] and "line 2" in reasons["5.2"], reasons
    assert "nnlib.activations" in reasons["5.3"], reasons
    assert all("\n" not in r for r in reasons.values())
    assert (first["points"], first["max_points"], second["points"]) == (5, 9, 6)
    assert "score: 5/9 points, 2/4 tasks" in proc.stdout and "score: 6/9 points, 3/4 tasks" in proc.stdout
    assert all({"task", "title", "passed", "reason", "points", "max_points", "hint", "checks"} <= set(t)
               for t in first["tasks"])


def test_points_that_do_not_add_up_are_refused(strict_solutions, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tools.exercises", "--solutions", str(strict_solutions / "bad"),
                           "--out", str(tmp_path / "ex")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "add up to 1" in proc.stderr and "task 5.1" in proc.stderr, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "tools.grade", str(SOLUTIONS / "05_activations.ipynb"),
                           "--solutions", str(strict_solutions / "bad")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "add up to 1" in proc.stderr, proc.stderr
