"""nnbook.checks: the data a check cell reports, the judge that compares it, and the learner's
self-check in Jupyter (no grader: the exercise's stored reference reports of the visible checks).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnbook import checks
from tests.test_grading import EXERCISES, _info, answers_of


def judged(got, expected, **options):
    """The judge on data that went through JSON, as it does between the sandbox and the grader."""
    through = lambda msg: json.loads(json.dumps(msg))  # noqa: E731
    return checks.judge_data(through(checks.message("r", got)), through(checks.message("r", expected, **options)))


@pytest.mark.parametrize("got, expected, options, words", [
    (np.arange(6.0), np.arange(6.0), {}, None),
    ([1, 0, 1], np.array([1, 0, 1]), {}, None),
    ({"a": 1.0, "b": [1, 2]}, {"a": 1.0, "b": [1, 2]}, {}, None),
    (np.ones((100, 100)) * 1.41, np.ones((100, 100)), {}, "at 10,000 of 10,000 entries; largest difference 0.41"),
    (np.zeros(3), np.zeros((3, 1)), {}, "has shape (3,); the reference's has shape (3, 1)"),
    (np.arange(3), np.arange(3.0), {}, "of integers; an array of shape (3,) of floats is expected"),
    (np.arange(3), np.arange(3.0), {"kind": False}, None),
    (np.array([np.nan, 1.0]), np.array([1.0, 1.0]), {}, "is not finite (NaN at 1 entry of 2)"),
    (0.8, 0.95, {"at_least": 0.9}, "is 0.8, below the required 0.9"),
    (0.93, 0.95, {"at_least": 0.9}, None),
    (12.0, 1.0, {"at_most": 10}, "above the required 10"),
    (np.array([1, 2, 3, 4]), np.array([1, 2, 3, 5]), {"agree": 0.8}, "agrees with the reference at 75.0%"),
    ("tanh", "relu", {}, "a string ('tanh')"),
    (None, np.zeros(3), {}, "is None"),
    (1.0 + 1e-9, 1.0, {}, None),
    (1.001, 1.0, {"atol": 1e-2, "rtol": 0}, None),
])
def test_the_judge(got, expected, options, words):
    why = judged(got, expected, **options)
    if words is None:
        assert why is None, why
    else:
        assert why is not None and words in why and "\n" not in why, why


def test_reported_values_are_plain_data_only():
    class Liar:
        def __eq__(self, other):
            return True

    for value in (Liar(), [Liar()], {"a": Liar()}, {1: 2}, np.array(["a"]), 1j, np.zeros(5_000_000)):
        with pytest.raises(checks.ReportError):
            checks.message("r", value)
    for bad in ({"a": ["f8", [2], "AAAA"]}, {"a": ["O", [1], ""]}, [], {"s": 3}, {"a": ["f8", [10 ** 9], ""]},
                {"a": ["f8", [-1], ""]}, {"n": 0}, {"x": 1, "y": 2}):
        with pytest.raises(checks.ReportError):
            checks.decode(bad)
    deep = {"n": None}
    for _ in range(20):
        deep = {"l": [deep]}
    with pytest.raises(checks.ReportError):
        checks.decode(deep)
    value = checks.decode(checks.encode(np.arange(6, dtype=np.int32).reshape(2, 3)))
    assert value.dtype == np.int64 and value.shape == (2, 3) and value.flags.writeable


def test_the_network_judge_runs_the_learners_network_itself():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = np.argmax(X[:, :3], axis=1)
    right = {"W1": np.eye(4)[:, :3] * 1.0, "b1": np.zeros(3), "W2": np.eye(3), "b2": np.zeros(3)}
    wrong = dict(right, W2=np.eye(3)[::-1].copy())
    ref = json.loads(json.dumps(checks.message("net", right, against={"X": X, "y": y}, relu_net_accuracy=0.9)))
    assert checks.judge_data(checks.message("net", right), ref) is None
    assert "classifies" in checks.judge_data(checks.message("net", wrong), ref)
    assert "not finite" in checks.judge_data(checks.message("net", dict(right, b2=np.full(3, np.nan))), ref)


@pytest.mark.parametrize("answered", [True, False])
def test_the_self_check_in_jupyter(answered, tmp_path):
    """The exercise run without the grader prints ✓ per report of a right answer and the reason
    for a wrong one, from the reference reports the exercise stores (found through the notebook's
    path, as Jupyter's JPY_SESSION_NAME gives it)."""
    from nbclient import NotebookClient
    nb = nbformat.read(EXERCISES / "01_neuron.ipynb", as_version=4)
    answers = answers_of("01_neuron")
    for cell in nb.cells:
        if _info(cell).get("role") == "answer":
            cell.source = answers[_info(cell)["task"]]
            if not answered and _info(cell)["task"] == "1.2":
                cell.source = cell.source.replace("> threshold", ">= threshold")
    path = tmp_path / "01_neuron.ipynb"
    nbformat.write(nb, str(path))
    env = {k: v for k, v in os.environ.items() if k != "NNBOOK_GRADING"}
    env["JPY_SESSION_NAME"] = str(path)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    printed = {c.id: "".join(o.get("text", "") for o in c.outputs if o.get("output_type") == "stream")
               for c in nb.cells if _info(c).get("role") == "check"}
    assert printed["t1-1-check"].splitlines() == [
        "✓ 1.1 weighted sums of the six events", "✓ 1.1 a batch of one event",
        "✓ 1.1 unit inputs pick out single weights"], printed
    if answered:
        assert all(line.startswith("✓ ") for text in printed.values() for line in text.splitlines()), printed
    else:
        assert "✗ your result for '1.2 z equal to the threshold gives 0' differs from the reference at 1 of 3 " \
               "entries (yours: [0, 1, 1])" in printed["t1-2-check"], printed
