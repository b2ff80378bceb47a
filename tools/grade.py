"""Grade a student's exercise notebook (``make grade NB=student.ipynb``).

The grader trusts nothing in the submitted file except the *source* of its answer cells. It

1. finds the reference notebook in ``solutions/`` (from the notebook's ``nnlib.exercise``
   metadata, else its file name, else its task numbers; ``--solution`` overrides);
2. matches each reference answer cell to the student's answer cell by identity (cell metadata
   ``nnlib.task`` with ``role: answer``, else the nbformat cell id), never by position; an answer
   cell that cannot be found counts as unanswered;
3. builds a fresh notebook from the reference: every answer cell gets the student's source, every
   other cell stays the reference's own, including the check cells, the hidden checks students
   never saw, and their expected outputs; saved outputs and edited or deleted check cells in the
   submission change nothing;
4. runs ``pytest --nbval`` on it in a temporary folder (check cells compared exactly, the other
   cells only required to run without error; a failing cell does not stop the later ones);
5. prints one line per task and the score, and exits with status 1 when a task fails.

A task passes when its answer cell and all of its check cells pass.

The grader runs the student's code with your permissions: grade untrusted submissions inside a
container or a throw-away account.

Usage::

    python -m tools.grade student.ipynb [--solution solutions/05_activations.ipynb] [--json report.json]
    python -m tools.grade submissions/*.ipynb        # a whole class in one run

or from Python::

    from tools.grade import grade
    report = grade("student.ipynb")
    print(report.text())        # the per-task lines and the score
    report.passed, report.score, report.total
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from tools.exercises import (ROOT, SOLUTIONS_DIR, ExerciseFormatError, cell_info, cell_role, read,
                             solution_paths, strip_solution, tasks)

PLUGIN = Path(__file__).with_name("_nbval_plugin.py")
#: nbval's comment markers; in a student's answer they would change how the cell is run.
NBVAL_MARKER_RE = re.compile(r"^(\s*#+\s*)(NBVAL_\w+|PYTEST_VALIDATE_IGNORE_OUTPUT)\s*$", re.MULTILINE)
DEFAULT_CELL_TIMEOUT = 120


class GradingError(Exception):
    """The submission cannot be graded at all (unreadable file, unknown exercise)."""


@dataclass
class TaskResult:
    task: str
    title: str
    passed: bool
    reason: str = ""

    def line(self) -> str:
        verdict = "passed" if self.passed else f"failed: {self.reason}"
        return f"task {self.task} {self.title}: {verdict}"


@dataclass
class Report:
    submission: str
    solution: str
    tasks: list[TaskResult]
    problems: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(t.passed for t in self.tasks)

    @property
    def total(self) -> int:
        return len(self.tasks)

    @property
    def passed(self) -> bool:
        return self.score == self.total and not self.problems

    def failed_tasks(self) -> list[str]:
        return [t.task for t in self.tasks if not t.passed]

    def text(self) -> str:
        lines = [f"Grading {self.submission} against {self.solution}"]
        lines += [t.line() for t in self.tasks]
        lines += [f"problem: {p}" for p in self.problems]
        lines.append(f"score: {self.score}/{self.total} tasks")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"submission": self.submission, "solution": self.solution,
                "score": self.score, "total": self.total, "passed": self.passed,
                "tasks": [asdict(t) for t in self.tasks], "problems": list(self.problems)}


def _display(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def find_solution(student, student_path: Path, solutions_dir: Path = SOLUTIONS_DIR) -> Path:
    """The reference notebook for a submission: by metadata, then file name, then task numbers."""
    available = {p.stem: p for p in solution_paths(solutions_dir)}
    if not available:
        raise GradingError(f"no solution notebooks found in {solutions_dir}")
    meta = student.get("metadata", {}).get("nnlib", {})
    name = meta.get("exercise") if isinstance(meta, dict) else None
    if isinstance(name, str) and name in available:
        return available[name]
    for stem, path in available.items():
        if student_path.stem.startswith(stem):
            return path
    chapters = {str(cell_info(c).get("task", "")).split(".")[0] for c in student.cells
                if cell_role(c) == "answer"}
    chapters.discard("")
    if len(chapters) == 1:
        number = chapters.pop().zfill(2)
        for stem, path in available.items():
            if stem.startswith(number + "_"):
                return path
    raise GradingError(f"cannot tell which exercise {student_path.name} is; pass --solution, one of: "
                       + ", ".join(sorted(available)))


def _student_answers(student) -> tuple[dict[str, object], dict[str, object]]:
    """The submission's answer cells, by task (metadata) and by cell id."""
    by_task: dict[str, list] = {}
    by_id = {}
    for cell in student.cells:
        if cell.get("cell_type") != "code":
            continue
        info = cell_info(cell)
        if info.get("role") == "answer" and isinstance(info.get("task"), str):
            by_task.setdefault(info["task"], []).append(cell)
        if cell.get("id"):
            by_id[cell["id"]] = cell
    return by_task, by_id


def _match(task, by_task, by_id):
    """The student's cell answering ``task``: metadata first (the one keeping the reference id if
    the cell was duplicated, else the last), then the reference cell id."""
    candidates = by_task.get(task.task, [])
    for cell in candidates:
        if cell.get("id") == task.answer_id:
            return cell
    if candidates:
        return candidates[-1]
    cell = by_id.get(task.answer_id)
    if cell is not None and cell_role(cell) in (None, "answer"):
        return cell
    return None


def _neutralise_markers(source: str) -> str:
    return NBVAL_MARKER_RE.sub(lambda m: f"{m.group(1)}{m.group(2).lower()} (ignored by the grader)", source)


def build_graded_notebook(reference, student, task_list):
    """The notebook nbval runs: the reference, with the student's answer sources pasted in.

    Returns ``(notebook, missing)`` where ``missing`` lists tasks without an answer cell.
    """
    nb = copy.deepcopy(reference)
    by_task, by_id = _student_answers(student)
    answers, missing = {}, []
    for task in task_list:
        cell = _match(task, by_task, by_id)
        if cell is None:
            missing.append(task.task)
        else:
            source = cell.get("source", "")
            answers[task.answer_id] = "".join(source) if isinstance(source, list) else str(source)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        role = cell_role(cell)
        if role == "answer":
            if cell.id in answers:
                cell.source = _neutralise_markers(answers[cell.id])
            else:  # unanswered: what the exercise notebook holds
                cell.source = strip_solution(cell.source)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata["tags"] = ["nbval-ignore-output"]
        elif role in ("check", "hidden-check"):
            cell.metadata["tags"] = ["nbval-check-output"]
        else:
            cell.metadata["tags"] = ["nbval-ignore-output"]
        cells.append(cell)
    nb.cells = cells
    return nb, missing


def _quote(text: str, limit: int = 160) -> str:
    text = text.rstrip("\n")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def _reason(result: dict | None, role: str) -> str:
    """Why a cell failed, in one line a student can act on."""
    prefix = "hidden check: " if role == "hidden-check" else ""
    if result is None:
        return prefix + "the cell did not run (the kernel stopped earlier)"
    ename, evalue = result.get("ename", ""), result.get("evalue", "")
    message = result.get("message", "")
    if "Timeout" in message:
        return prefix + f"timed out ({message.splitlines()[0]})"
    if ename == "NotImplementedError":
        return prefix + "NotImplementedError: replace `raise NotImplementedError` with your answer"
    if ename:
        return prefix + (f"{ename}: {evalue}" if evalue else ename)
    if result.get("xfail_reason"):
        return prefix + "not run properly: an earlier cell timed out"
    if message.startswith("Cell outputs differ"):
        expected, got = result.get("expected", {}), result.get("got", {})
        shown = got.get("stdout", "")
        extra = ""
        if got.get("stderr"):
            extra = f" and on stderr {_quote(got['stderr'].strip().splitlines()[-1])}"
        if got.get("other"):
            extra += f" and displayed {_quote(str(got['other'][0]))}"
        return prefix + (f"wrong output (expected {_quote(expected.get('stdout', ''))}, "
                         f"got {_quote(shown)}{extra})")
    return prefix + (message.splitlines()[0] if message else "the cell failed")


def run_nbval(notebooks, timeout: int = DEFAULT_CELL_TIMEOUT) -> list[dict[int, dict]]:
    """Run ``pytest --nbval`` on each notebook (one pytest session, a fresh kernel per notebook,
    each in its own temporary folder); return, per notebook, the results by code-cell number.

    A notebook missing from the results (its run exceeded the overall time limit) gets ``{}``.
    """
    with tempfile.TemporaryDirectory(prefix="nnlib-grade-") as tmp:
        folder = Path(tmp)
        paths = []
        for index, nb in enumerate(notebooks):
            sub = folder / f"n{index:03d}"
            sub.mkdir()
            paths.append(sub / "graded.ipynb")
            paths[-1].write_text(nbformat.writes(nb, version=4), encoding="utf-8")
        shutil.copyfile(PLUGIN, folder / "conftest.py")
        (folder / "pytest.ini").write_text("[pytest]\naddopts =\n", encoding="utf-8")
        n_code = sum(c.cell_type == "code" for nb in notebooks for c in nb.cells)
        # Only nbval and our recorder: no plugin installed in the environment (a random test
        # order, coverage, hypothesis) may change how the cells run, or slow the start-up.
        cmd = [sys.executable, "-m", "pytest", *map(str, paths), "-p", "nbval.plugin",
               "--nbval", "--nbval-current-env", "-o", "addopts=", "-p", "no:cacheprovider",
               "-q", "--color=no", f"--nbval-cell-timeout={timeout}", "-W", "ignore::DeprecationWarning"]
        env = dict(os.environ, MPLBACKEND="Agg", NNBOOK_WIDGETS="static", JUPYTER_PLATFORM_DIRS="1",
                   PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        for name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST"):
            env.pop(name, None)
        try:
            proc = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True,
                                  timeout=60 + 10 * len(notebooks) + timeout * max(n_code, 1))
            output = proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            output = str(exc)
        results_file = folder / "cell-results.json"
        if not results_file.exists():
            if "Timeout" in output or "timed out" in output:
                return [{} for _ in notebooks]
            raise GradingError("nbval did not run; pytest said:\n" + output[-2000:])
        results = json.loads(results_file.read_text(encoding="utf-8"))
    by_notebook = [{} for _ in notebooks]
    for entry in results:
        by_notebook[int(entry["notebook"][1:])][entry["cell_num"]] = entry
    return by_notebook


@dataclass
class _Prepared:
    path: Path
    solution: Path
    tasks: list
    notebook: object
    missing: list


def _prepare(path, solution=None) -> _Prepared:
    path = Path(path)
    try:
        student = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise GradingError(f"{path}: no such file") from None
    except Exception as exc:  # not JSON, not a notebook
        raise GradingError(f"{path} is not a readable Jupyter notebook: {exc}") from None
    solution = Path(solution) if solution is not None else find_solution(student, path)
    try:
        reference = read(solution)
    except FileNotFoundError:
        raise GradingError(f"solution notebook {solution} not found") from None
    task_list = tasks(reference, solution.stem)
    nb, missing = build_graded_notebook(reference, student, task_list)
    return _Prepared(path, solution, task_list, nb, missing)


def _report(prepared: _Prepared, results: dict[int, dict]) -> Report:
    code_cells = [c for c in prepared.notebook.cells if c.cell_type == "code"]
    number = {c.id: i for i, c in enumerate(code_cells)}
    problems = []
    if not results:
        problems.append("grading stopped: the notebook ran longer than its time limit")
    for cell in code_cells:
        r = results.get(number[cell.id])
        if cell_role(cell) == "setup" and r is not None and r.get("outcome") == "failed":
            problems.append(f"setup cell {cell.id} failed: {_reason(r, 'setup')}")
    report_tasks = []
    for task in prepared.tasks:
        if task.task in prepared.missing:
            report_tasks.append(TaskResult(task.task, task.title, False,
                                           "no answer cell for this task in the submission "
                                           "(deleted, or its cell metadata removed)"))
            continue
        reason = ""
        for cid, role in ([(task.answer_id, "answer")] + [(c, "check") for c in task.check_ids]
                          + [(c, "hidden-check") for c in task.hidden_ids]):
            r = results.get(number[cid])
            if r is None or r.get("outcome") != "passed":
                reason = _reason(r, role)
                break
        report_tasks.append(TaskResult(task.task, task.title, not reason, reason))
    return Report(str(prepared.path), _display(prepared.solution), report_tasks, problems)


def grade_many(paths, solution=None, timeout: int = DEFAULT_CELL_TIMEOUT,
               keep_dir: Path | None = None) -> list[Report]:
    """Grade several submissions in one pytest session (a fresh kernel for each); one
    :class:`Report` per path, in order. ``keep_dir`` saves each notebook that was run there."""
    prepared = [_prepare(p, solution) for p in paths]
    if keep_dir is not None:
        Path(keep_dir).mkdir(parents=True, exist_ok=True)
        for p in prepared:
            (Path(keep_dir) / f"{p.path.stem}.graded.ipynb").write_text(
                nbformat.writes(p.notebook, version=4), encoding="utf-8")
    results = run_nbval([p.notebook for p in prepared], timeout=timeout)
    return [_report(p, r) for p, r in zip(prepared, results)]


def grade(path, solution=None, timeout: int = DEFAULT_CELL_TIMEOUT, keep_dir: Path | None = None) -> Report:
    """Grade the notebook at ``path``; return a :class:`Report` (nothing is printed).

    ``solution`` picks the reference notebook explicitly; ``timeout`` is the limit per cell in
    seconds; ``keep_dir`` saves the notebook that was run, for inspection.
    """
    return grade_many([path], solution=solution, timeout=timeout, keep_dir=keep_dir)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.grade",
        description="Grade exercise notebooks against their reference solutions. Exit status: "
                    "0 all tasks passed, 1 a task failed, 2 a file could not be graded.")
    parser.add_argument("notebooks", type=Path, nargs="+", metavar="notebook",
                        help="the student's .ipynb file (several: graded in one run)")
    parser.add_argument("--solution", type=Path, help="reference notebook (default: found automatically)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, help="seconds allowed per cell")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file "
                                                   "(a list of reports for several notebooks)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="save the notebooks that were run here")
    args = parser.parse_args(argv)
    try:
        reports = grade_many(args.notebooks, solution=args.solution, timeout=args.timeout,
                             keep_dir=args.keep)
    except (GradingError, ExerciseFormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n\n".join(r.text() for r in reports))
    if args.json:
        data = [r.to_dict() for r in reports]
        args.json.write_text(json.dumps(data[0] if len(data) == 1 else data, indent=1,
                                        ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if all(r.passed for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
