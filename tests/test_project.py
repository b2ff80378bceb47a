"""The project notebook (solutions/10_project.ipynb): plausible wrong answers fail their task.

Grading this notebook trains a network on MNIST, so a kernel run takes up to a minute. Instead of
one submission per wrong answer, each submission below carries a wrong answer in several tasks at
once; every task's checks are independent of the other tasks' answers (a later task runs on
nnlib stand-ins for an earlier function that fails its quick test), so each wrong answer shows up
as a failure of its own task, and a submission whose wrong answers sit in tasks 10.2-10.4 and
10.6 still passes 10.1 and 10.5. The solution passing and the untouched exercise scoring 0 are
tested by tests/test_grading.py with the other notebooks; the project's wrong answers are tested
here only (test_grading.py's MISTAKES leave the project out), each with a phrase of the reason.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NAME = "10_project"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

#: task -> label -> (old, new) replacements in the reference answer, and a phrase of the reason
MISTAKES = {
    "10.1": {
        "unit variance": ([("rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_hidden))",
                            "rng.normal(0.0, 1.0, size=(n_in, n_hidden))")], "standard deviation"),
        "W2 scaled with the network's n_in": ([("np.sqrt(2.0 / n_hidden)", "np.sqrt(2.0 / n_in)")],
                                              "W2 (400-600-300 network)"),
        "random biases": ([('"b1": np.zeros(n_hidden)', '"b1": rng.normal(0.0, 0.1, size=n_hidden)')],
                          "the biases b1 and b2"),
        "biases start at one": ([('"b1": np.zeros(n_hidden)', '"b1": np.ones(n_hidden)')], "the biases b1 and b2"),
    },
    "10.2": {
        "unstable softmax": ([("shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits")],
                             "is not finite"),
        "summed instead of averaged": ([("y].mean())", "y].sum())")], "your loss for the batch of 12"),
        "output bias forgotten": ([('Z2 = A1 @ params["W2"] + params["b2"]', 'Z2 = A1 @ params["W2"]')],
                                  "your Z2 (the logits)"),
        "log of a clipped softmax": ([("log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                                       "log_p = np.log(np.clip(np.exp(shifted) / np.exp(shifted).sum(axis=1, "
                                       "keepdims=True), 1e-12, 1.0))")], "hidden check"),
    },
    "10.3": {
        "transposed gradient": ([('"W2": A1.T @ G2', '"W2": G2.T @ A1')],
                                "has shape (10, 64); the reference's has shape (64, 10)"),
        "forgets the 1/n": ([("G2 = P / n ", "G2 = P ")], "your gradient for W2"),
        "ReLU mask from A1 >= 0": ([("(Z1 > 0)", "(A1 >= 0)")], "your gradient for W1"),
        "bias gradient averaged": ([('"b1": G1.sum(axis=0)', '"b1": G1.mean(axis=0)')],
                                   "your gradient for b1"),
        "ReLU mask forgotten": ([('G1 = (G2 @ params["W2"].T) * (Z1 > 0)', 'G1 = G2 @ params["W2"].T')],
                                "your gradient for W1"),
    },
    "10.4": {
        "off-by-one drops the last batch": ([("range(0, n, batch_size)", "range(0, n - batch_size, batch_size)")],
                                            "the reference's has shape (12,)"),
        "shuffles only once": ([("    for epoch in range(epochs):\n        order = rng.permutation(n)",
                                 "    order = rng.permutation(n)\n    for epoch in range(epochs):")],
                               "each epoch has an order of its own"),
        "gradient ascent": ([("params[name] -= lr * grads[name]", "params[name] += lr * grads[name]")],
                            "trained params"),
        "changes the caller's params": ([("params = {name: value.copy() for name, value in params.items()}",
                                          "pass")], "the params given to train afterwards"),
        "drops a short last batch": ([("for start in range(0, n, batch_size):",
                                       "for start in range(0, n - batch_size + 1, batch_size):")], "the reference's has shape (12,)"),
        "uses nnlib's fit (forbidden)": ([("rng = np.random.default_rng(seed)",
                                           "from nnlib.train import fit\n    rng = np.random.default_rng(seed)")],
                                         "built from scratch: do not use nnlib.train"),
    },
    "10.5": {
        "one epoch at a small rate": ([("hidden, lr, batch_size = 128, 0.3, 64", "hidden, lr, batch_size = 128, 0.01, 64"),
                                       ("epochs = 4 if", "epochs = 1 if")], "held-out images correctly; the target is"),
        "a rate that diverges": ([("hidden, lr, batch_size = 128, 0.3, 64", "hidden, lr, batch_size = 128, 5.0, 64")],
                                 "held-out images correctly; the target is"),
        "slower than the limit": ([("batch_size=batch_size, seed=1)",  # the cell takes 61 s however fast it trains
                                    "batch_size=batch_size, seed=1)\ntime.sleep(max(0.0, 61 - (time.perf_counter() - started)))")],
                                  "seconds your training cell took"),
        "trained for one epoch": ([("epochs = 4 if n_inputs == 784 else 40", "epochs = 1")],
                                  "held-out images correctly; the target is"),
    },
    "10.6": {
        "always says good": ([("losses = np.asarray(losses, dtype=float)\n", "return \"good\"\n")],
                             "classify_run of a run that is too small"),
        "blind to nan": ([("if not np.all(np.isfinite(losses)) or last > first", "if last > first")],
                         "classify_run of a run that is diverged"),
        "any rise is oscillating": ([(">= 0.2", "> 0")], "hidden check"),
        "a sweep without large rates": ([("rates = [0.001, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0]",
                                          "rates = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3]")],
                                        "your sweep shows runs too small, good, and oscillating"),
    },
}

#: the graded submissions: the wrong answer of each task (None: the reference answer), and the tasks
#: that must pass
SUBMISSIONS = {
    "first": {"10.1": "unit variance", "10.2": "unstable softmax", "10.3": "transposed gradient",
              "10.4": "off-by-one drops the last batch", "10.5": "one epoch at a small rate",
              "10.6": "always says good"},
    "second": {"10.1": "W2 scaled with the network's n_in", "10.2": "summed instead of averaged",
               "10.3": "forgets the 1/n", "10.4": "shuffles only once", "10.5": "a rate that diverges",
               "10.6": "blind to nan"},
    "third": {"10.1": "random biases", "10.2": "output bias forgotten", "10.3": "ReLU mask from A1 >= 0",
              "10.4": "gradient ascent", "10.5": "slower than the limit", "10.6": "any rise is oscillating"},
    # wrong answers upstream only: 10.1 and 10.5 still pass (10.5 trains on stand-ins)
    "fourth": {"10.2": "log of a clipped softmax", "10.3": "bias gradient averaged",
               "10.4": "changes the caller's params", "10.6": "a sweep without large rates"},
    # 10.2 and 10.6 still pass
    "fifth": {"10.1": "biases start at one", "10.3": "ReLU mask forgotten", "10.4": "drops a short last batch",
              "10.5": "trained for one epoch"},
    # one wrong answer alone: it fails its task and nothing else
    "sixth": {"10.4": "uses nnlib's fit (forbidden)"},
}


def _info(cell) -> dict:
    return cell.get("metadata", {}).get("nnlib", {})


def answers() -> dict[str, str]:
    nb = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    return {_info(c)["task"]: "\n".join(line for line in c.source.split("\n") if line.strip() not in (BEGIN, END))
            for c in nb.cells if _info(c).get("role") == "answer"}


def submission(wrong: dict[str, str]):
    """The exercise notebook answered with the reference answers, with the wrong answers of ``wrong``."""
    nb = nbformat.read(ROOT / "exercises" / f"{NAME}.ipynb", as_version=4)
    reference = answers()
    for cell in nb.cells:
        task = _info(cell).get("task")
        if _info(cell).get("role") != "answer":
            continue
        source = reference[task]
        if task in wrong:
            for old, new in MISTAKES[task][wrong[task]][0]:
                assert source.count(old) == 1, f"mistake {wrong[task]!r} no longer matches the answer of task {task}"
                source = source.replace(old, new)
        cell.source = source
    return nb


def test_every_task_has_mistakes_and_each_is_graded():
    assert set(MISTAKES) == set(answers())
    graded = {(task, label) for wrong in SUBMISSIONS.values() for task, label in wrong.items()}
    assert graded == {(task, label) for task, labels in MISTAKES.items() for label in labels}
    assert all(len(labels) >= 2 for labels in MISTAKES.values())


def test_wrong_answers_fail_their_own_tasks(tmp_path):
    paths = []
    for stem, wrong in SUBMISSIONS.items():
        path = tmp_path / f"{NAME}-{stem}.ipynb"
        nbformat.write(submission(wrong), str(path))
        paths.append(path)
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "tools.grade", *map(str, paths), "--json", str(out),
                           "--jobs", "2"], cwd=ROOT, capture_output=True, text=True, timeout=1500)
    reports = json.loads(out.read_text(encoding="utf-8"))
    assert proc.returncode == 1 and len(reports) == len(SUBMISSIONS), proc.stdout + proc.stderr
    problems = []
    for (stem, wrong), report in zip(SUBMISSIONS.items(), reports):
        assert not report["problems"], report["problems"]
        for task in report["tasks"]:
            label = wrong.get(task["task"])
            if label is None and not task["passed"]:
                problems.append(f"{stem}: task {task['task']} has the reference answer but failed: {task['reason']}")
            elif label is not None and task["passed"]:
                problems.append(f"{stem}: the wrong answer {label!r} passed task {task['task']}")
            elif label is not None and MISTAKES[task["task"]][label][1] not in task["reason"]:
                problems.append(f"{stem}: {label!r} failed task {task['task']} for another reason: {task['reason']}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source", [
    "forward = standin_functions()['forward']",
    "def backward(params, cache, y):\n    return standins['backward'](params, cache, y)",
    "def forward(params, X):\n    net = reference_network(params)\n    return net.forward(X), {}",
    "from nnlib.network import Sequential",
    "import nnlib as nn\nmodel = nn.MLP([784, 128, 10])",
    "cell_clock.clear()",
])
def test_answers_may_not_use_nnlib_or_the_notebooks_stand_ins(source):
    """The setup cells hold working stand-ins (for the later tasks); an answer calling them, or
    nnlib's networks, is refused before it runs."""
    from tools.exercises import forbidden_names
    from tools.grade import find_forbidden
    nb = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    forbidden = forbidden_names(nb, NAME)
    assert find_forbidden(source, forbidden) is not None
    for task, answer in answers().items():
        assert find_forbidden(answer, forbidden) is None, f"the reference answer of {task} uses a forbidden name"
