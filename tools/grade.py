"""Grade a student's exercise notebook (``make grade NB=student.ipynb``).

The grader trusts nothing in the submitted file except the *source* of its answer cells. It

1. finds the reference notebook in ``solutions/`` (from the notebook's ``nnlib.exercise``
   metadata, else its file name, else its task numbers; ``--solution`` overrides);
2. matches each reference answer cell to the student's answer cell by identity (cell metadata
   ``nnlib.task`` with ``role: answer``, else the nbformat cell id), never by position; an answer
   cell that cannot be found counts as unanswered;
3. builds a fresh notebook from the reference: every answer cell gets the student's source, every
   other cell stays the reference's own, including the check cells and the hidden checks students
   never saw; no output of the reference goes in (the notebook sits where the answers can read
   it). Saved outputs and edited or deleted check cells in the submission change nothing;
4. runs ``pytest --nbval`` on it in a sandbox (every cell only required to run without error):
   bubblewrap (``bwrap``) with the file system read-only, a private ``/tmp`` holding only that
   notebook, the repository, ``solutions/``, the submissions' folders, the reference cache and
   the home folder hidden, no network, a PID namespace, its own user id when run as root, and
   limits (:class:`Limits`: time per cell and per notebook, memory, output per cell, processes,
   file size). Without ``bwrap`` it falls back to a plain subprocess and says so. The run is
   seeded (:data:`GRADE_SEED`, ``PYTHONHASHSEED=0``): grading twice gives one verdict;
5. judges, in this process: a check cell asserts nothing, it reports plain data
   (``nnbook.checks.report``: numbers, strings, numeric arrays, lists and dicts of them), which
   the plugin records from nbval's outputs. Each report is validated on arrival and compared
   (:func:`judge_cell`) with the same-named report of the *reference run*: the solution's own
   answers run with the same cells in a clean sandbox of their own (:func:`reference_reports`,
   cached by content hash: a class costs one reference run per exercise). Whatever an answer does
   to its interpreter (numpy, nnlib, IPython's hooks, the results file), it can only change the
   data it reports; the reference data of the hidden checks never enters the sandbox. A check
   passes when its cell ran and every report matches (allclose by default; thresholds, agreement
   rates, a network's accuracy on held-out images computed here);
6. when a task stops the kernel (a timeout, ``os._exit``, a kill, the memory limit), that task is
   lost with the reason and the notebook runs again without its answer, so the other tasks are
   graded fairly;
7. prints one line per task with its points (``task 5.2 sigmoid derivative (0/2 points):
   failed: … (hint: …)``) and the score (``score: 5/7 points, 2/3 tasks``), and exits with status
   1 when a task fails, 2 when a file cannot be graded (its reason on stderr; the other files are
   still graded). ``--json`` writes a list of reports (``points``, ``max_points``, ``score`` and
   ``total`` in tasks; per task ``points``, ``max_points``, ``reason``, ``hint`` and ``checks``);
   a folder gets ``gradebook.csv`` (points per task, total, maximum) and feedback files.

Under the sandbox the grader's MNIST cache is read-only at ``/tmp/home/nnlib-cache`` (and
``NNLIB_DATA_DIR`` points there unless set), so a notebook may fall back to the 8x8 digits when a
file is missing instead of writing to it.

A task passes when its answer cell and all of its check cells pass. Its points (the answer
cell's ``nnlib.points``, default 1) are all or nothing, unless its checks carry points: then it
scores the points of the checks that pass (0 when the answer cell itself fails). A failed check's
``nnlib.hint`` is shown after its reason. See ``tools/exercises.py`` for the metadata.

Forbidden names: a solution notebook's metadata ``nnlib.forbidden`` (say ``["nnlib.layers",
"nnlib.fit", "nnlib.MLP"]``, for a project built from scratch) lists modules and attributes an
answer must not use. Before anything runs, each answer cell's source is parsed with :mod:`ast`;
an answer that imports one (``import nnlib.layers``, ``from nnlib import fit``, ``from nnlib
import *``), references one (``nnlib.fit(...)``, through an alias such as ``import nnlib as nn;
nn.MLP``, an assignment ``m = nnlib``, or an alias the reference's setup cells define), or
loads one by a literal name (``__import__('nnlib.layers')``, ``importlib.import_module(...)``,
``getattr(nnlib, 'fit')``, ``exec('import nnlib.layers')``) is refused: it is not run, its task
scores 0 with a one-line reason naming the name, and the other tasks are graded as usual. The
check is static, a guard against shortcuts rather than a security boundary.

Gradescope: ``--gradescope OUT.zip`` writes an autograder archive and ``--gradescope-results
FILE`` grades a submission folder into Gradescope's ``results.json``; see :mod:`tools.gradescope`.

Usage::

    python -m tools.grade student.ipynb [--solution solutions/05_activations.ipynb] [--json report.json]
    python -m tools.grade submissions/ --jobs 4      # a whole class: gradebook.csv, feedback/
    python -m tools.grade --gradescope _build/gradescope.zip [--solution solutions/05_activations.ipynb]

or from Python::

    from tools.grade import grade
    report = grade("student.ipynb")
    print(report.text())        # the per-task lines and the score
    report.passed, report.score, report.total         # tasks passed, tasks
    report.points, report.max_points                  # points scored, points possible
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from nnbook import checks
from tools.exercises import (ROOT, SOLUTIONS_DIR, ExerciseFormatError, cell_info, cell_role,
                             forbidden_names, read, solution_paths, strip_solution, tasks)

PLUGIN = Path(__file__).with_name("_nbval_plugin.py")
#: nbval's comment markers; in a student's answer they would change how the cell is run.
NBVAL_MARKER_RE = re.compile(r"^(\s*#+\s*)(NBVAL_\w+|PYTEST_VALIDATE_IGNORE_OUTPUT)\s*$", re.MULTILINE)
DEFAULT_CELL_TIMEOUT = 120


class GradingError(Exception):
    """The submission cannot be graded at all (unreadable file, unknown exercise)."""


def _plural(n: int, word: str = "point") -> str:
    return f"{word}" if n == 1 else f"{word}s"


@dataclass
class TaskResult:
    """One task's verdict. ``checks``: one entry per cell of the task (the answer, then its checks
    and hidden checks) with ``cell``, ``role``, ``points`` (what it is worth, None when the task is
    all or nothing), ``passed``, ``reason`` and ``hint``; empty when the task never ran."""
    task: str
    title: str
    passed: bool
    reason: str = ""
    points: int = 0
    max_points: int = 1
    hint: str = ""
    checks: list = field(default_factory=list)

    def verdict(self) -> str:
        if self.passed:
            return "passed"
        return f"failed: {self.reason}" + (f" (hint: {self.hint})" if self.hint else "")

    def line(self) -> str:
        return (f"task {self.task} {self.title} ({self.points}/{self.max_points} "
                f"{_plural(self.max_points)}): {self.verdict()}")


@dataclass
class Report:
    submission: str
    solution: str
    tasks: list[TaskResult]
    problems: list[str] = field(default_factory=list)
    student: str = ""
    sandbox: str = ""
    cached: bool = field(default=False, compare=False, repr=False)

    @property
    def score(self) -> int:
        return sum(t.passed for t in self.tasks)

    @property
    def total(self) -> int:
        return len(self.tasks)

    @property
    def points(self) -> int:
        return sum(t.points for t in self.tasks)

    @property
    def max_points(self) -> int:
        return sum(t.max_points for t in self.tasks)

    @property
    def passed(self) -> bool:
        return self.score == self.total and not self.problems

    def failed_tasks(self) -> list[str]:
        return [t.task for t in self.tasks if not t.passed]

    def text(self) -> str:
        lines = [f"Grading {self.submission} against {self.solution}"]
        lines += [t.line() for t in self.tasks]
        lines += [f"problem: {p}" for p in self.problems]
        if self.sandbox and self.sandbox != "bubblewrap":
            lines.append(f"note: {self.sandbox}")
        lines.append(f"score: {self.points}/{self.max_points} {_plural(self.max_points)}, "
                     f"{self.score}/{self.total} tasks")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"submission": self.submission, "solution": self.solution,
                "score": self.score, "total": self.total, "passed": self.passed,
                "points": self.points, "max_points": self.max_points,
                "tasks": [asdict(t) for t in self.tasks], "problems": list(self.problems),
                "student": self.student, "sandbox": self.sandbox,
                "status": "passed" if self.passed else "failed"}

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        return cls(data["submission"], data["solution"], [TaskResult(**t) for t in data["tasks"]],
                   list(data["problems"]), data.get("student", ""), data.get("sandbox", ""))


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


#: The seed of every grading run: the graded notebook's first cell seeds ``random`` and numpy's
#: global generator with it (and PYTHONHASHSEED is fixed), so grading twice gives one verdict.
GRADE_SEED = 20_151_015
SEED_CELL_ID = "nnlib-grader-seed"
SEED_SOURCE = (f"import random as _random, numpy as _np\n_random.seed({GRADE_SEED}); "
               f"_np.random.seed({GRADE_SEED})\ndel _random, _np")


def _seed_cell():
    cell = nbformat.v4.new_code_cell(SEED_SOURCE)
    cell.id = SEED_CELL_ID
    cell.metadata["tags"] = ["nbval-ignore-output"]
    return cell


def build_graded_notebook(reference, student, task_list, skip=frozenset()):
    """The notebook nbval runs: the reference, with the student's answer sources pasted in.

    Returns ``(notebook, missing)`` where ``missing`` lists tasks without an answer cell. The
    answers of the tasks in ``skip`` (already lost) are left as the exercise hands them out.
    The notebook holds no output of the reference (it sits in the sandbox, where the answers can
    read it): check cells report data, and the judge compares it outside the sandbox.
    """
    nb = copy.deepcopy(reference)
    by_task, by_id = _student_answers(student)
    answers, missing = {}, []
    for task in task_list:
        cell = _match(task, by_task, by_id)
        if task.task in skip:
            continue
        if cell is None:
            missing.append(task.task)
        else:
            source = cell.get("source", "")
            answers[task.answer_id] = "".join(source) if isinstance(source, list) else str(source)
    cells = [_seed_cell()]
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
        cells.append(cell)
    nb.cells = cells
    return nb, missing


def build_reference_notebook(reference):
    """The reference run's notebook: the solution's own code cells, outputs dropped, seeded alike."""
    nb = copy.deepcopy(reference)
    cells = [_seed_cell()]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata["tags"] = ["nbval-ignore-output"]
            cells.append(cell)
    nb.cells = cells
    return nb


def _reason(result: dict | None, role: str) -> str:
    """Why a cell failed, in one line a student can act on."""
    prefix = "hidden check: " if role == "hidden-check" else ""
    if result is None:
        return prefix + "the cell did not run (the kernel stopped earlier)"
    if result.get("judged"):
        return prefix + result["judged"]
    ename, evalue = result.get("ename", ""), result.get("evalue", "")
    message = result.get("message", "")
    if message.startswith("KernelDied: "):
        return prefix + message[len("KernelDied: "):].splitlines()[0]
    if message.startswith("OutputLimit: "):
        return prefix + message[len("OutputLimit: "):].splitlines()[0] + " (the rest was cut)"
    if message.startswith("RuntimeError: Kernel dead"):
        return prefix + "the cell did not run (the kernel had died in an earlier cell)"
    if ename == "MemoryError":
        return prefix + "MemoryError: the answer ran out of memory (the limit is per process)"
    if ename == "SystemExit":
        return prefix + f"SystemExit: the answer called sys.exit({evalue})"
    if "Timeout" in message or result.get("timed_out"):
        first = message.splitlines()[0] if "Timeout" in message else "the cell time limit was exceeded"
        return prefix + f"timed out ({first})"
    if ename == "NotImplementedError":
        return prefix + "NotImplementedError: replace `raise NotImplementedError` with your answer"
    if ename:
        return prefix + (f"{ename}: {evalue}" if evalue else ename)
    if result.get("xfail_reason"):
        return prefix + "not run properly: an earlier cell timed out"
    return prefix + (message.splitlines()[0] if message else "the cell failed")


# ---------------------------------------------------------------------------------- forbidden names
_LOADERS = {"__import__", "importlib.import_module", "importlib.__import__"}
_EXECS = {"exec", "eval", "compile"}


def _literal(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _module_level(tree):
    """The nodes of ``tree`` outside function and class bodies (what defines global names)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def import_aliases(sources, *, module_level: bool = False) -> dict[str, str]:
    """``{local name: dotted name}`` for the imports in ``sources`` (code or syntax trees):
    ``import nnlib as nn`` gives ``{'nn': 'nnlib'}``, ``from nnlib import fit`` ``{'fit': 'nnlib.fit'}``.
    ``module_level``: only the imports that define global names (for the setup cells)."""
    aliases: dict[str, str] = {}
    for source in sources:
        try:
            tree = ast.parse(source) if isinstance(source, str) else source
        except (SyntaxError, ValueError):
            continue
        for node in (_module_level(tree) if module_level else ast.walk(tree)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        aliases[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


class _ForbiddenFinder:
    """Walks an answer's syntax tree; ``found`` is ``(forbidden name, line, what was written)``."""

    def __init__(self, forbidden, aliases):
        self.forbidden = tuple(forbidden)
        self.roots = {f.split(".")[0] for f in self.forbidden}
        self.aliases = dict(aliases)
        self.found: tuple[str, int, str] | None = None

    def match(self, dotted: str | None) -> str | None:
        if not dotted:
            return None
        return next((f for f in self.forbidden if dotted == f or dotted.startswith(f + ".")), None)

    def resolve(self, node) -> str | None:
        """The dotted name an expression stands for (``nn.MLP`` -> ``nnlib.MLP``), if known."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            return node.id if node.id in self.roots | {"importlib", "__import__", "getattr"} else None
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call) and node.args:
            func, first = self.resolve(node.func), _literal(node.args[0])
            if func == "__import__" and first:
                return first if node.args[3:] or node.keywords else first.split(".")[0]
            if func in _LOADERS and first:
                return first
            if func == "getattr" and len(node.args) >= 2 and _literal(node.args[1]):
                base = self.resolve(node.args[0])
                return f"{base}.{_literal(node.args[1])}" if base else None
        return None

    def hit(self, name: str, node, written: str) -> None:
        if self.found is None or getattr(node, "lineno", 0) < self.found[1]:
            self.found = (name, getattr(node, "lineno", 0), written)

    def scan(self, tree, offset: int = 0) -> None:
        nodes = list(ast.walk(tree))
        for node in nodes:  # the answer's own definitions shadow the setup cells' imports
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.aliases.pop(node.name, None)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.aliases.pop(node.id, None)
            elif isinstance(node, ast.arg):
                self.aliases.pop(node.arg, None)
        self.aliases.update(import_aliases([tree]))
        for _ in range(3):  # aliases by assignment (m = nnlib; f = m.fit): a few rounds settle them
            for node in nodes:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                        and isinstance(node.targets[0], ast.Name):
                    target = self.resolve(node.value)
                    if target and target.split(".")[0] in self.roots:
                        self.aliases[node.targets[0].id] = target
        for node in nodes:
            line = getattr(node, "lineno", 0) + offset
            if isinstance(node, ast.Import):
                for alias in node.names:
                    name = self.match(alias.name)
                    if name:
                        self.hit(name, _at(node, line), f"import {alias.name}")
                    elif alias.asname:
                        self.aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                module_hit = self.match(node.module)
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if alias.name == "*":
                        name = module_hit or next((f for f in self.forbidden
                                                   if f.startswith(node.module + ".")), None)
                    else:
                        name = module_hit or self.match(full)
                    if name:
                        self.hit(name, _at(node, line), f"from {node.module} import {alias.name}")
            elif isinstance(node, (ast.Name, ast.Attribute)) and not isinstance(node.ctx, ast.Store):
                name = self.match(self.resolve(node))
                if name:
                    self.hit(name, _at(node, line), ast.unparse(node))
            elif isinstance(node, ast.Call):
                func = self.resolve(node.func)
                target = self.resolve(node)
                name = self.match(target) if func in _LOADERS | {"getattr"} else None
                if func == "__import__" and node.args:
                    name = self.match(_literal(node.args[0])) or self.match(target)
                if name:
                    self.hit(name, _at(node, line), ast.unparse(node)[:60])
                code = _literal(node.args[0]) if node.args else None
                if isinstance(node.func, ast.Name) and node.func.id in _EXECS and code:
                    try:
                        self.scan(ast.parse(code), line - 1)
                    except (SyntaxError, ValueError):
                        pass


def _at(node, line: int):
    copy_ = ast.Pass()
    copy_.lineno = line
    return copy_


def find_forbidden(source: str, forbidden, aliases=None) -> tuple[str, int, str] | None:
    """The first forbidden module or attribute ``source`` (an answer cell) imports or references
    (see the module docstring), as ``(name, line, what is written there)``, or None. ``aliases``:
    the names the setup cells import (:func:`import_aliases`). Unparsable code gives None:
    running it reports the error."""
    if not forbidden:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    finder = _ForbiddenFinder(forbidden, aliases or {})
    finder.scan(tree)
    if finder.found is None:
        return None
    name, line, written = finder.found
    return name, line, written if len(written) <= 60 else written[:59] + "…"


def forbidden_use(source: str, forbidden, aliases=None) -> str | None:
    """:func:`find_forbidden` in words: ``"uses nnlib.fit (line 3: from nnlib import fit)"``."""
    found = find_forbidden(source, forbidden, aliases)
    return None if found is None else f"uses {found[0]} (line {found[1]}: {found[2]})"


def _refusal(found: tuple[str, int, str], solution_stem: str) -> str:
    """The one-line reason of a refused answer, e.g. ``the project is built from scratch: do not
    use nnlib.fit (line 3: from nnlib import fit); the answer was not run``."""
    what = "the project" if "project" in solution_stem else "this exercise"
    name, line, written = found
    return f"{what} is built from scratch: do not use {name} (line {line}: {written}); the answer was not run"


# ---------------------------------------------------------------------------------- the sandbox
@dataclass(frozen=True)
class Limits:
    """What one submission may use. ``memory`` is the address-space limit of every process."""
    cell_timeout: int = DEFAULT_CELL_TIMEOUT
    notebook_timeout: int = 900
    memory: int = 2 << 30
    output: int = 1 << 20
    processes: int = 1024
    file_size: int = 64 << 20


_BWRAP_STATE: dict[str, str | None] = {}


def sandbox_kind() -> tuple[str | None, str]:
    """``(path to bwrap or None, a note for the report)``. ``NNLIB_GRADE_SANDBOX=none`` forces the
    plain-subprocess fallback (for tests), ``=bwrap`` makes a missing bubblewrap an error."""
    wanted = os.environ.get("NNLIB_GRADE_SANDBOX", "auto")
    if wanted == "none":
        return None, "no sandbox (NNLIB_GRADE_SANDBOX=none): the submission ran as a plain subprocess"
    if "path" not in _BWRAP_STATE:
        path, why = shutil.which("bwrap"), "bwrap (bubblewrap) is not installed"
        if path is not None:
            try:
                probe = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid",
                                        "--dev", "/dev", "--proc", "/proc", "true"],
                                       capture_output=True, text=True, timeout=30)
                if probe.returncode != 0:
                    path, why = None, "bwrap cannot create a sandbox here: " + probe.stderr.strip()[:200]
            except (OSError, subprocess.TimeoutExpired) as exc:
                path, why = None, f"bwrap does not run: {exc}"
        _BWRAP_STATE.update(path=path, why=why)
    path = _BWRAP_STATE["path"]
    if path is None:
        if wanted == "bwrap":
            raise GradingError(_BWRAP_STATE["why"])
        return None, (f"no sandbox ({_BWRAP_STATE['why']}): the submission ran as a plain "
                      "subprocess that can read and write what the grader can")
    return path, "bubblewrap"


#: Where the sandbox sees the grader's MNIST cache (read-only; NNLIB_DATA_DIR points there unless
#: it is set): a missing file is then looked for in the sandbox's own, writable, empty cache.
SANDBOX_MNIST_CACHE = "/tmp/home/nnlib-cache/mnist"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nnlib"


def _bwrap_command(bwrap: str, work: Path, hidden: list[Path]) -> list[str]:
    """The bubblewrap command line: the whole file system read-only, a private /tmp with the
    submission's folder at /tmp/grade, no network, its own PID namespace, the repository hidden
    except the Python environment and the two packages the chapters import."""
    cmd = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
           "--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--dir", "/tmp/home"]
    system = [Path(p) for p in ("/usr", "/bin", "/lib", "/etc", "/dev", "/proc", "/tmp")]
    # never hide / or a folder holding the system (a submission saved there, say); the repository,
    # the solutions, the submissions' folders and the teacher's home folder are hidden
    hidden = [h.resolve() for h in [*hidden, Path.home()] if h.exists()]
    hidden = [h for h in hidden if len(h.parts) > 1 and not any(s.is_relative_to(h) for s in system)]
    for folder in sorted(set(hidden), key=lambda p: len(p.parts)):
        cmd += ["--tmpfs", str(folder)]
    keeps = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
             Path(os.path.realpath(sys.executable)).parent.parent, ROOT / "nnlib", ROOT / "nnbook",
             *_package_dirs()]
    if os.environ.get("NNLIB_DATA_DIR"):  # the MNIST folder the chapters read
        keeps.append(Path(os.environ["NNLIB_DATA_DIR"]).resolve())
    for keep in dict.fromkeys(keeps):
        under = [h.resolve() for h in hidden if h.exists() and keep.is_relative_to(h.resolve())]
        if keep.is_relative_to("/tmp"):  # an editable install from a folder in /tmp, say
            under.append(Path("/tmp"))
        if keep.exists() and under:
            top = min(under, key=lambda p: len(p.parts))
            for parent in reversed(keep.parents):  # bwrap would make them 0700: nobody could enter
                if parent.is_relative_to(top) and parent != top:
                    cmd += ["--perms", "0755", "--dir", str(parent)]
            cmd += ["--ro-bind", str(keep), str(keep)]
    cache = _cache_dir()
    if cache.is_dir():  # the verified MNIST download, read-only, beside the (writable) cache
        cmd += ["--ro-bind", str(cache), SANDBOX_MNIST_CACHE.rsplit("/", 1)[0]]
    cmd += ["--bind", str(work), "/tmp/grade", "--chdir", "/tmp/grade",
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session"]
    if os.geteuid() == 0 and shutil.which("setpriv"):
        # root ignores RLIMIT_NPROC: run as nobody (which also cannot read root's files)
        # (a user id of its own per run, so that one run's processes never count against another's)
        uid = _next_uid()
        cmd += ["--", shutil.which("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    else:
        cmd += ["--"]
    return cmd


def _package_dirs() -> list[Path]:
    """Where a kernel may import nnlib and nnbook from: every import finder's answer (an editable
    install may point anywhere, and the kernel does not start in the repository)."""
    dirs = []
    for name in ("nnlib", "nnbook"):
        for finder in sys.meta_path:
            try:
                spec = finder.find_spec(name, None)
            except Exception:  # a finder that cannot answer: the others may
                continue
            for location in (spec.submodule_search_locations or []) if spec else []:
                dirs.append(Path(location).resolve())
    return dirs


_UIDS = {"next": 0}


def _next_uid() -> int:
    import threading
    with _UIDS.setdefault("lock", threading.Lock()):
        _UIDS["next"] += 1
        return 200_000 + (os.getpid() % 100_000) * 16 + _UIDS["next"] % 16


def _limit(limits: Limits, sandboxed: bool):
    def apply():
        import resource
        for what, value in ((resource.RLIMIT_AS, limits.memory), (resource.RLIMIT_FSIZE, limits.file_size),
                            (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(what, (value, value))
        nproc = limits.processes
        if not (sandboxed and os.geteuid() == 0):  # a real user's other processes count too
            try:
                uid = os.getuid()
                nproc += sum(1 for d in os.listdir("/proc") if d.isdigit()
                             and os.stat(f"/proc/{d}").st_uid == uid) * 4
            except OSError:
                pass
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    return apply


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill the run and everything it started (the kernel runs in a session of its own)."""
    try:
        import psutil
        children = psutil.Process(proc.pid).children(recursive=True)
    except Exception:
        children = []
    for target in [proc.pid] + [c.pid for c in children]:
        for kill in (lambda pid: os.killpg(pid, 9), lambda pid: os.kill(pid, 9)):
            try:
                kill(target)
            except (ProcessLookupError, PermissionError, OSError):
                pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


@dataclass
class RunResult:
    results: dict[int, dict]
    timed_out: bool = False
    status: int | None = None
    log: str = ""


def run_sandboxed(nb, limits: Limits = Limits(), hidden: tuple = ()) -> tuple[RunResult, str]:
    """Run ``pytest --nbval`` on one notebook in a sandbox; return its results by code-cell number
    and the sandbox note. The run writes into a temporary folder only; stdout and stderr go to a
    file, so that a process it leaves behind cannot block the grader on a pipe."""
    bwrap, note = sandbox_kind()
    with tempfile.TemporaryDirectory(prefix="nnlib-grade-") as tmp:
        work = Path(tmp) / "n000"
        work.mkdir()
        (work / "graded.ipynb").write_text(nbformat.writes(nb, version=4), encoding="utf-8",
                                           errors="surrogatepass")
        shutil.copyfile(PLUGIN, work / "conftest.py")
        (work / "pytest.ini").write_text("[pytest]\naddopts =\n", encoding="utf-8")
        os.chmod(work, 0o777)
        # Only nbval and our recorder: no plugin installed in the environment (a random test
        # order, coverage, hypothesis) may change how the cells run, or slow the start-up.
        inner = [sys.executable, "-m", "pytest", "graded.ipynb", "-p", "nbval.plugin", "--nbval",
                 "--nbval-current-env", "-o", "addopts=", "-p", "no:cacheprovider", "-q", "--color=no",
                 "--tb=no", "-rN", f"--nbval-cell-timeout={limits.cell_timeout}",
                 "-W", "ignore::DeprecationWarning"]
        env = dict(os.environ, MPLBACKEND="Agg", NNBOOK_WIDGETS="static", JUPYTER_PLATFORM_DIRS="1",
                   PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", NNLIB_GRADE_OUTPUT_LIMIT=str(limits.output),
                   PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0", NNBOOK_GRADING="1")
        for name in ("NNBOOK_NOTEBOOK", "JPY_SESSION_NAME", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER",
                     "PYTEST_CURRENT_TEST", "COVERAGE_PROCESS_START"):
            env.pop(name, None)
        if bwrap is not None:
            env.update(NNLIB_GRADE_REAP="1", HOME="/tmp/home", XDG_CACHE_HOME="/tmp/home/.cache", TMPDIR="/tmp",
                       IPYTHONDIR="/tmp/home/.ipython", MPLCONFIGDIR="/tmp/home/.mpl",
                       JUPYTER_RUNTIME_DIR="/tmp/home/.jupyter-runtime")
            if env.get("NNLIB_DATA_DIR"):  # the folder is bound at its real path (a link may sit under /tmp)
                env["NNLIB_DATA_DIR"] = str(Path(env["NNLIB_DATA_DIR"]).resolve())
            elif (_cache_dir() / "mnist").is_dir():
                env["NNLIB_DATA_DIR"] = SANDBOX_MNIST_CACHE
            cmd, cwd = _bwrap_command(bwrap, work, list(hidden)) + inner, tmp
        else:
            env.update(IPYTHONDIR=str(Path(tmp) / "ipython"), JUPYTER_RUNTIME_DIR=str(Path(tmp) / "rt"))
            cmd, cwd = inner, work
        log_path = Path(tmp) / "pytest.log"
        timed_out = False
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    preexec_fn=_limit(limits, bwrap is not None))
            try:
                proc.wait(timeout=limits.notebook_timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            _kill_tree(proc)
        with open(log_path, "rb") as f:
            f.seek(max(os.path.getsize(log_path) - 4000, 0))
            log_text = f.read().decode("utf-8", "replace")
        results_file = work / "cell-results.json"
        try:
            results = json.loads(results_file.read_text(encoding="utf-8"))
        except Exception:  # missing, not JSON, nested too deeply: written in the sandbox
            results = []
    return RunResult(_sane_results(results), timed_out, proc.returncode, log_text), note


def _sane_results(entries) -> dict[int, dict]:
    """The results file, written inside the sandbox (so a hostile cell may have rewritten it), as
    ``{code-cell number: entry}`` with only the known fields, each of its type; anything else is
    dropped. A forged entry can only claim what a cell could print: the judge decides."""
    def text(value) -> str:
        return value[:20_000] if isinstance(value, str) else ""

    def streams(value) -> dict:
        value = value if isinstance(value, dict) else {}
        other = value.get("other") if isinstance(value.get("other"), list) else []
        return {"stdout": text(value.get("stdout")), "stderr": text(value.get("stderr")),
                "other": [text(o) for o in other[:5]]}

    out: dict[int, dict] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or type(entry.get("cell_num")) is not int:
            continue
        clean = {k: text(entry.get(k)) for k in ("outcome", "xfail_reason", "message", "ename", "evalue")}
        clean.update(cell_num=entry["cell_num"], timed_out=entry.get("timed_out") is True,
                     got=streams(entry.get("got")),
                     reports=entry["reports"] if isinstance(entry.get("reports"), list) else [])
        out[entry["cell_num"]] = clean
    return out


def run_nbval(notebooks, timeout: int = DEFAULT_CELL_TIMEOUT) -> list[dict[int, dict]]:
    """Run each notebook in its own sandbox; return, per notebook, the results by code-cell number."""
    limits = Limits(cell_timeout=timeout)
    return [run_sandboxed(nb, limits, (ROOT,))[0].results for nb in notebooks]


# ---------------------------------------------------------------------------------- reading input
SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _clean(text) -> str:
    """``text`` with lone surrogates (which cannot be encoded) replaced by U+FFFD."""
    return SURROGATE_RE.sub("\ufffd", str(text))


@dataclass
class _Prepared:
    path: Path
    solution: Path
    reference: object
    student: object
    tasks: list
    student_id: str
    digest: str


def read_submission(path: Path):
    """The submission as an nbformat 4 notebook, or :class:`GradingError` with a one-line reason."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GradingError(f"{_clean(path)}: no such file") from None
    except IsADirectoryError:
        raise GradingError(f"{_clean(path)} is a folder, not a notebook") from None
    except OSError as exc:
        raise GradingError(f"{_clean(path)} cannot be read: {exc.strerror or exc}") from None
    where = _clean(path)
    if not data.strip():
        raise GradingError(f"{where} is not a readable Jupyter notebook: the file is empty")
    if b"\0" in data[:65536]:
        raise GradingError(f"{where} is not a readable Jupyter notebook: it is a binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GradingError(f"{where} is not a readable Jupyter notebook: not UTF-8 text "
                           f"(byte {exc.start})") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise GradingError(f"{where} is not a readable Jupyter notebook: not JSON "
                           f"({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise GradingError(f"{where} is not a readable Jupyter notebook: the JSON is not an object")
    version = raw.get("nbformat")
    if not isinstance(version, int) or version < 4:
        raise GradingError(f"{where} is not a readable Jupyter notebook: nbformat {version}; "
                           "open it in Jupyter and save it (nbformat 4 is needed)")
    cells = raw.get("cells")
    if not isinstance(cells, list) or not cells:
        raise GradingError(f"{where} is not a readable Jupyter notebook: it has no cells")
    for number, cell in enumerate(cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("id"), str) or not cell["id"]:
            raise GradingError(f"{where}: cell {number} has no cell id (save the notebook with "
                               "Jupyter 3 or newer, which writes nbformat 4.5 cell ids)")
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.from_dict(raw) if version == 4 else nbformat.reads(text, as_version=4), data
    except Exception as exc:
        raise GradingError(f"{where} is not a readable Jupyter notebook: {_clean(exc)}") from None


def _student_id(student, path: Path) -> str:
    meta = student.get("metadata", {}).get("nnlib", {})
    sid = meta.get("student") if isinstance(meta, dict) else None
    sid = sid if isinstance(sid, str) and sid.strip() else path.stem
    return _clean(sid).strip()


def _prepare(path, solution=None, solutions_dir: Path = SOLUTIONS_DIR) -> _Prepared:
    import hashlib
    path = Path(path)
    student, data = read_submission(path)
    solution = Path(solution) if solution is not None else find_solution(student, path, solutions_dir)
    try:
        reference = read(solution)
    except FileNotFoundError:
        raise GradingError(f"solution notebook {solution} not found") from None
    task_list = tasks(reference, solution.stem)
    by_task, by_id = _student_answers(student)
    own = {t.task for t in task_list}
    if by_task and not own & set(by_task) and not any(t.answer_id in by_id for t in task_list):
        raise GradingError(f"{_clean(path)} answers tasks {', '.join(sorted(map(_clean, by_task)))}, "
                           f"not those of {solution.stem} ({', '.join(sorted(own))}): a notebook "
                           "for another chapter?")
    digest = hashlib.sha256(data + b"\0" + solution.read_bytes() + b"\0" + PLUGIN.read_bytes()
                            + Path(__file__).read_bytes() + Path(checks.__file__).read_bytes()).hexdigest()
    return _Prepared(path, solution, reference, student, task_list, _student_id(student, path), digest)


# ---------------------------------------------------------------------------------- the reference run
#: Change it when the way a reference run is built or read changes (the cache key includes it).
# One judge at a time: OpenBLAS can hang when two grading threads multiply matrices at once
# (a judged network runs on held-out images in the grader's process).
_JUDGE_LOCK = threading.Lock()
REFERENCE_FORMAT = "reference run 1: seeded first cell, every code cell, outputs dropped"
_REFERENCE_MEMO: dict[str, dict] = {}
_REFERENCE_LOCKS: dict[str, object] = {}


def reference_cache_dir() -> Path | None:
    """Where reference runs are cached across grader runs (``NNLIB_GRADE_CACHE``; ``none``: in
    memory only). Default ``~/.cache/nnlib-grader``, hidden from every sandbox."""
    value = os.environ.get("NNLIB_GRADE_CACHE", "")
    if value == "none":
        return None
    return Path(value) if value else _cache_dir().parent / "nnlib-grader"


def _reference_key(solution: Path) -> str:
    """A hash of everything the reference's reports depend on: the solution notebook, the plugin,
    the run's format and seed, the packages the cells import (nnbook's checks among them), the
    interpreter, and the data files the sandbox sees (MNIST or not)."""
    import hashlib
    import numpy
    digest = hashlib.sha256()
    parts = [Path(solution).read_bytes(), PLUGIN.read_bytes(), REFERENCE_FORMAT.encode(),
             SEED_SOURCE.encode(), sys.version.encode(), numpy.__version__.encode()]
    for package in ("nnlib", "nnbook"):
        parts += [p.read_bytes() for p in sorted((ROOT / package).rglob("*.py"))]
    # the data the sandbox sees: with MNIST, chapter 9's reference reports differ from the 8x8 digits'
    data_dir = Path(os.environ.get("NNLIB_DATA_DIR") or (_cache_dir() / "mnist")).resolve()
    files = sorted(Path(data_dir).glob("*")) if Path(data_dir).is_dir() else []
    parts.append(repr([(f.name, f.stat().st_size) for f in files if f.is_file()]).encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "little") + part)
    return digest.hexdigest()


def reference_reports(prepared: "_Prepared", limits: Limits, hidden: tuple) -> dict[str, list]:
    """``{check cell id: [report, ...]}``: what the solution's own answers report, from a clean
    run of the solution notebook in a sandbox of its own (once per solution and grader version:
    memoised, and cached on disk by content hash). :class:`GradingError` when the solution fails
    its own checks."""
    import threading
    key = _reference_key(prepared.solution)
    with _REFERENCE_LOCKS.setdefault("", threading.Lock()):
        lock = _REFERENCE_LOCKS.setdefault(key, threading.Lock())
    with lock, _file_lock(reference_cache_dir(), key):  # one reference run, even across processes
        if key in _REFERENCE_MEMO:
            return _REFERENCE_MEMO[key]
        folder = reference_cache_dir()
        cached = folder / f"reference-{key}.json" if folder is not None else None
        data = None
        if cached is not None and cached.is_file():
            try:
                data = json.loads(cached.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None
        if not isinstance(data, dict):
            data = _run_reference(prepared, limits, hidden)
            if cached is not None:
                try:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    tmp = cached.with_name(cached.name + f".{os.getpid()}.tmp")
                    tmp.write_text(json.dumps(data), encoding="utf-8")
                    os.replace(tmp, cached)
                except OSError:
                    pass
        _REFERENCE_MEMO[key] = data
        return data


class _file_lock:
    """An exclusive lock on ``folder/reference-KEY.lock`` (nothing when there is no cache folder)."""

    def __init__(self, folder: Path | None, key: str):
        self.path = None if folder is None else Path(folder) / f"reference-{key}.lock"
        self.file = None

    def __enter__(self):
        if self.path is not None:
            try:
                import fcntl
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.file = open(self.path, "a")
                fcntl.flock(self.file, fcntl.LOCK_EX)
            except (OSError, ImportError):
                self.file = None
        return self

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()   # closing releases the lock; the empty file stays for the next run


def _run_reference(prepared: "_Prepared", limits: Limits, hidden: tuple) -> dict[str, list]:
    nb = build_reference_notebook(prepared.reference)
    generous = Limits(cell_timeout=max(limits.cell_timeout, DEFAULT_CELL_TIMEOUT),
                      notebook_timeout=max(limits.notebook_timeout, Limits.notebook_timeout),
                      memory=max(limits.memory, Limits.memory))
    run, _ = run_sandboxed(nb, generous, hidden)
    where = f"the reference solution {prepared.solution.stem}"
    out: dict[str, list] = {}
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        r, role = run.results.get(i), cell_role(cell) or "setup"
        if r is None or r.get("outcome") != "passed":
            raise GradingError(f"{where} fails in its own cell {cell.id}: {_reason(r, role)}")
        if role in ("check", "hidden-check"):
            names = []
            for msg in r["reports"]:
                try:
                    checks.decode(msg["value"])
                    names.append(msg["name"])
                except (checks.ReportError, KeyError, TypeError) as exc:
                    raise GradingError(f"{where}: check cell {cell.id} reports no plain data: {exc}") from None
            if not names or len(set(names)) != len(names):
                raise GradingError(f"{where}: check cell {cell.id} must report at least one result, "
                                   "each under a name of its own")
            out[cell.id] = r["reports"]
    return out


def judge_cell(reports, reference: list) -> str | None:
    """The judge, in the grader's own process: None when the learner's ``reports`` of one check
    cell (as they arrived from the sandbox) match the reference's, else the first reason."""
    mine: dict[str, list] = {}
    for msg in reports if isinstance(reports, list) else []:
        if isinstance(msg, dict) and isinstance(msg.get("name"), str):
            mine.setdefault(msg["name"], []).append(msg)
    for ref in reference:
        got = mine.get(ref["name"], [])
        if not got:
            return f"no result was reported for {ref['name']!r} (did the check cell stop early?)"
        if len(got) > 1:
            return f"the result for {ref['name']!r} was reported {len(got)} times"
        try:
            with _JUDGE_LOCK:
                why = checks.judge_data(got[0], ref)
        except Exception as exc:  # whatever arrived, the grader itself never crashes on it
            why = f"your result for {ref['name']!r} cannot be judged ({type(exc).__name__})"
        if why:
            return why
    return None


def _apply_judge(code_cells, results: dict[int, dict], reference: dict[str, list]) -> dict[int, dict]:
    """``results`` with every check cell that ran without error judged: a report that differs
    from the reference's fails it with the judge's reason."""
    judged = dict(results)
    for i, cell in enumerate(code_cells):
        r = results.get(i)
        if cell.id in reference and r is not None and r.get("outcome") == "passed":
            why = judge_cell(r.get("reports"), reference[cell.id])
            if why is not None:
                judged[i] = dict(r, outcome="failed", judged=_clean(why))
    return judged


# ---------------------------------------------------------------------------------- verdicts
def _task_of(prepared: _Prepared) -> dict[str, str]:
    owner = {}
    for task in prepared.tasks:
        for cid in [task.answer_id, *task.check_ids, *task.hidden_ids]:
            owner[cid] = task.task
    return owner


def _fatal(code_cells, run: RunResult, limits: Limits):
    """The cell that stopped the notebook (its kernel died, it timed out, or the run ended in it),
    with the reason; None when every cell got a fair run."""
    for i, cell in enumerate(code_cells):
        r = run.results.get(i)
        if r is None:
            if run.timed_out:
                why = f"timed out (the notebook ran longer than its {limits.notebook_timeout} s limit)"
            else:
                why = (f"the grading run stopped in this cell (exit status {run.status}: "
                       "out of memory, or its processes were killed)")
            return i, why
        message = r.get("message", "")
        fatal = (message.startswith(("KernelDied", "RuntimeError: Kernel dead"))
                 or "Timeout" in message or r.get("timed_out") or r.get("xfail_reason"))
        if fatal:
            later = [run.results.get(j) for j in range(i + 1, len(code_cells))]
            if all(x is not None and x.get("outcome") == "passed" and not x.get("xfail_reason")
                   for x in later):
                return None
            return i, _reason(r, cell_role(cell) or "")
    return None


def _grade_prepared(prepared: _Prepared, limits: Limits, hidden: tuple, keep_dir=None) -> Report:
    """Run the graded notebook; when a task stops the kernel (a timeout, a dead kernel), that
    task is lost with the reason and the notebook is run again without its answer, so that the
    other tasks are graded fairly."""
    owner = _task_of(prepared)
    reference = reference_reports(prepared, limits, hidden)
    lost: dict[str, str] = {}
    note, problems = "", []
    by_task, _ = _student_answers(prepared.student)
    for task in prepared.tasks:  # an answer that cannot be encoded loses its task at once
        for cell in by_task.get(task.task, []):
            source = cell.get("source", "")
            if SURROGATE_RE.search("".join(source) if isinstance(source, list) else str(source)):
                lost[task.task] = "the answer contains an invalid character (a lone surrogate)"
    forbidden = forbidden_names(prepared.reference, prepared.solution.stem)
    if forbidden:  # an answer using a forbidden name is refused before anything runs
        _, by_id = _student_answers(prepared.student)
        aliases = import_aliases((c.source for c in prepared.reference.cells
                                  if c.cell_type == "code" and cell_role(c) == "setup"), module_level=True)
        for task in prepared.tasks:
            cell = _match(task, by_task, by_id)
            if cell is None or task.task in lost:
                continue
            source = cell.get("source", "")
            found = find_forbidden("".join(source) if isinstance(source, list) else str(source),
                                   forbidden, aliases)
            if found:
                lost[task.task] = _refusal(found, prepared.solution.stem)
    for _attempt in range(len(prepared.tasks) + 1):
        nb, missing = build_graded_notebook(prepared.reference, prepared.student, prepared.tasks,
                                            skip=set(lost))
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        if keep_dir is not None:
            Path(keep_dir).mkdir(parents=True, exist_ok=True)
            (Path(keep_dir) / f"{_clean(prepared.path.stem)}.graded.ipynb").write_text(
                nbformat.writes(nb, version=4), encoding="utf-8")
        run, note = run_sandboxed(nb, limits, hidden)
        fatal = _fatal(code_cells, run, limits)
        if fatal is None:
            break
        index, why = fatal
        task = owner.get(code_cells[index].id)
        if task is None or task in lost:
            problems.append(f"grading stopped in cell {code_cells[index].id}: {why}")
            break
        lost[task] = why
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    report = _report(prepared, nb, missing, _apply_judge(code_cells, run.results, reference), lost)
    report.problems[:0] = problems
    report.sandbox = note
    return report


def _report(prepared: _Prepared, notebook, missing, results: dict[int, dict], lost=None) -> Report:
    lost = lost or {}
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    number = {c.id: i for i, c in enumerate(code_cells)}
    problems = []
    if not results:
        problems.append("grading stopped: no cell ran (see the problems above, or the time limit)")
    for cell in code_cells:
        r = results.get(number[cell.id])
        if cell_role(cell) == "setup" and r is not None and r.get("outcome") == "failed":
            problems.append(f"setup cell {cell.id} failed: {_reason(r, 'setup')}")
    report_tasks = []
    for task in prepared.tasks:
        if task.task in missing:
            report_tasks.append(TaskResult(task.task, task.title, False,
                                           "no answer cell for this task in the submission "
                                           "(deleted, or its cell metadata removed)", 0, task.points))
            continue
        if task.task in lost:
            report_tasks.append(TaskResult(task.task, task.title, False, _clean(lost[task.task]), 0,
                                           task.points))
            continue
        report_tasks.append(_task_result(task, [(cid, role, results.get(number[cid])) for cid, role in (
            [(task.answer_id, "answer")] + [(c, "check") for c in task.check_ids]
            + [(c, "hidden-check") for c in task.hidden_ids])]))
    return Report(_clean(prepared.path), _display(prepared.solution), report_tasks, problems,
                  student=prepared.student_id)


def _unanswered(reason: str) -> bool:
    """A check failed because the task was not answered (a hint would not help yet)."""
    return reason.removeprefix("hidden check: ").startswith("NotImplementedError")


def _task_result(task, cells) -> TaskResult:
    """A task's verdict and points from its cells' results ``[(cell id, role, result)]``: the
    reason is the first failure's (for partial credit, the number of further failed checks with
    another reason added), the hint that of every failed check that has one. A failed gate
    (``nnlib.gate``) costs the points of the visible checks."""
    checks, failures = [], []
    for cid, role, r in cells:
        passed = r is not None and r.get("outcome") == "passed"
        entry = {"cell": cid, "role": role, "points": None, "passed": passed,
                 "reason": "" if passed else _clean(_reason(r, role)),
                 "hint": "" if role == "answer" else task.hint(cid)}
        if role != "answer" and task.partial:
            entry["points"] = task.check_points(cid)
        if cid in task.gates:
            entry["gate"] = True
        checks.append(entry)
        if not passed:
            failures.append(entry)
    answer_ok = checks[0]["passed"]
    gated = any(c.get("gate") for c in failures)   # right on the visible inputs only, maybe
    if not answer_ok:
        points = 0
    elif task.partial:
        points = sum(c["points"] for c in checks[1:] if c["passed"] and not (gated and c["role"] == "check"))
    else:
        points = task.points if not failures else 0
    reason = failures[0]["reason"] if failures else ""
    first = reason.removeprefix("hidden check: ")
    more = len([f for f in failures[1:] if f["reason"].removeprefix("hidden check: ") != first])
    if task.partial and more and answer_ok:
        reason += f" (and {more} more failed {_plural(more, 'check')})"
    hint = "; ".join(dict.fromkeys(f["hint"] for f in failures if f["hint"] and not _unanswered(f["reason"])))
    return TaskResult(task.task, task.title, not failures, reason, points, task.points, hint, checks)


# ---------------------------------------------------------------------------------- many at once
@dataclass
class Failure:
    """A file that could not be graded (exit status 2 for it)."""
    submission: str
    reason: str
    student: str = ""
    passed = False

    def text(self) -> str:
        return f"Grading {self.submission}\nerror: {self.reason}"

    def to_dict(self) -> dict:
        return {"submission": self.submission, "student": self.student, "status": "error",
                "error": self.reason, "passed": False, "score": 0, "total": 0, "points": 0,
                "max_points": 0, "tasks": [], "problems": [self.reason]}


def _grade_path(path, solution, solutions_dir, limits, keep_dir, cache):
    try:
        prepared = _prepare(path, solution, solutions_dir)
    except (GradingError, ExerciseFormatError) as exc:
        return Failure(_clean(path), _clean(exc), _clean(Path(path).stem))
    key = prepared.digest + repr(limits)
    cached = cache.get(str(prepared.path)) if cache is not None else None
    if cached and cached.get("key") == key:
        report = Report.from_dict(cached["report"])
        report.cached = True
        return report
    hidden = {ROOT, Path(solutions_dir).resolve(), prepared.solution.resolve().parent,
              prepared.path.resolve().parent}
    if reference_cache_dir() is not None:
        try:  # made now, so that the sandbox can hide it
            reference_cache_dir().mkdir(parents=True, exist_ok=True)
            hidden.add(reference_cache_dir().resolve())
        except OSError:
            pass
    hidden = tuple(hidden)
    try:
        report = _grade_prepared(prepared, limits, hidden, keep_dir)
    except GradingError as exc:
        return Failure(_clean(path), _clean(exc), prepared.student_id)
    if cache is not None:
        cache[str(prepared.path)] = {"key": key, "report": report.to_dict()}
    return report


def grade_many(paths, solution=None, timeout: int = DEFAULT_CELL_TIMEOUT, keep_dir: Path | None = None,
               *, jobs: int | None = None, solutions_dir: Path = SOLUTIONS_DIR, limits: Limits | None = None,
               cache: dict | None = None, progress=None) -> list:
    """Grade several submissions, each in its own sandbox, ``jobs`` at a time (default: the number
    of cores); one :class:`Report` (or :class:`Failure`, for a file that cannot be graded) per
    path, in order. ``keep_dir`` saves each notebook that was run there."""
    from concurrent.futures import ThreadPoolExecutor
    limits = limits or Limits(cell_timeout=timeout)
    paths = list(paths)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths) or 1))
    done = [0]

    def one(path):
        result = _grade_path(path, solution, solutions_dir, limits, keep_dir, cache)
        done[0] += 1
        if progress is not None:
            progress(done[0], len(paths))
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, paths))


def grade(path, solution=None, timeout: int = DEFAULT_CELL_TIMEOUT, keep_dir: Path | None = None,
          **kwargs) -> Report:
    """Grade the notebook at ``path``; return a :class:`Report` (nothing is printed).

    ``solution`` picks the reference notebook explicitly; ``timeout`` is the limit per cell in
    seconds; ``keep_dir`` saves the notebook that was run, for inspection.
    """
    result = grade_many([path], solution=solution, timeout=timeout, keep_dir=keep_dir, **kwargs)[0]
    if isinstance(result, Failure):
        raise GradingError(result.reason)
    return result


def expand(paths, skip: Path | None = None) -> list[Path]:
    """Files as given; a folder stands for every notebook under it (checkpoints and ``skip`` left out)."""
    out = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
                          and not (skip is not None and p.resolve().is_relative_to(skip.resolve())))
        else:
            out.append(path)
    return out


def write_gradebook(results, out: Path) -> Path:
    """``out/gradebook.csv`` (a row per submission) and ``out/feedback/<student>.md``."""
    import csv
    out.mkdir(parents=True, exist_ok=True)
    task_ids = sorted({t.task for r in results if isinstance(r, Report) for t in r.tasks},
                      key=lambda t: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", t)])
    (out / "feedback").mkdir(exist_ok=True)
    used: set[str] = set()
    with open(out / "gradebook.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "file", *[f"task {t}" for t in task_ids], "total", "max",
                         "tasks passed", "tasks", "status"])
        for r in results:
            student = r.student or Path(r.submission).stem
            if isinstance(r, Failure):
                writer.writerow([student, r.submission, *[""] * len(task_ids), 0, "", 0, "",
                                 f"error: {r.reason}"])
                feedback = f"# Feedback for {student}\n\n`{r.submission}` could not be graded: {r.reason}\n"
            else:
                points = {t.task: t.points for t in r.tasks}
                status = "passed" if r.passed else ("failed: " + "; ".join(r.problems) if r.problems
                                                    else "failed")
                writer.writerow([student, r.submission, *[points.get(t, "") for t in task_ids],
                                 r.points, r.max_points, r.score, r.total, status])
                lines = [f"# Feedback for {student}", "", f"`{r.submission}` graded against "
                         f"`{Path(r.solution).stem}`: **{r.points}/{r.max_points} "
                         f"{_plural(r.max_points)}** ({r.score}/{r.total} tasks passed).", ""]
                lines += [f"- task {t.task} {t.title} ({t.points}/{t.max_points} {_plural(t.max_points)}): "
                          + ("passed" if t.passed else f"**failed**: {t.reason}"
                             + (f"  \n  *Hint:* {t.hint}" if t.hint else ""))
                          for t in r.tasks]
                lines += [f"- problem: {p}" for p in r.problems]
                feedback = "\n".join(lines) + "\n"
            name = re.sub(r"[^\w.-]+", "_", student) or "student"
            while name in used:
                name += "_"
            used.add(name)
            (out / "feedback" / f"{name}.md").write_text(feedback, encoding="utf-8")
    return out / "gradebook.csv"


def _progress_bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done == total else ""
    sys.stderr.write(f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a file name or reason must never crash the report
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    parser = argparse.ArgumentParser(
        prog="python -m tools.grade",
        description="Grade exercise notebooks against their reference solutions, each in a sandbox. "
                    "Exit status: 0 all tasks passed, 1 a task failed, 2 a file could not be graded.")
    parser.add_argument("notebooks", type=Path, nargs="*", metavar="notebook",
                        help="the student's .ipynb file (several, or a folder: a whole class)")
    parser.add_argument("--solution", type=Path, help="reference notebook (default: found automatically)")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS_DIR, metavar="DIR",
                        help="folder of the reference notebooks (default: solutions/)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, help="seconds allowed per cell")
    parser.add_argument("--notebook-timeout", type=int, default=Limits.notebook_timeout,
                        help="seconds allowed per notebook run")
    parser.add_argument("--memory", type=int, default=Limits.memory >> 20, metavar="MiB",
                        help="memory (address space) per process")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="submissions graded at once "
                                                                      "(default: the number of cores)")
    parser.add_argument("--json", type=Path, help="also write the reports as JSON to this file (a list)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write gradebook.csv and feedback/ here "
                        "(default for a folder: FOLDER/_grading)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="save the notebooks that were run here")
    parser.add_argument("--gradescope", type=Path, metavar="OUT.zip",
                        help="write a Gradescope autograder archive (with the solutions: keep it private) "
                             "and grade nothing; with --solution, the archive grades that exercise only")
    parser.add_argument("--gradescope-results", type=Path, metavar="results.json",
                        help="grade the submission folder given as notebook into Gradescope's "
                             "results.json (what the archive's run_autograder does)")
    args = parser.parse_args(argv)
    from tools.gradescope import build_gradescope, gradescope_results
    if args.gradescope is not None:
        if args.notebooks:
            parser.error("--gradescope writes the archive only: give no notebooks")
        try:
            archive = build_gradescope(args.gradescope, args.solutions, args.solution)
        except (GradingError, ExerciseFormatError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {archive} (the Gradescope autograder: it holds the solutions, keep it private)")
        return 0
    if not args.notebooks:
        parser.error("give the notebooks to grade (or --gradescope OUT.zip)")
    if args.gradescope_results is not None:
        if len(args.notebooks) != 1:
            parser.error("--gradescope-results grades one submission folder (or notebook)")
        limits = Limits(cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout,
                        memory=args.memory << 20)
        data = gradescope_results(args.notebooks[0], args.gradescope_results, solutions_dir=args.solutions,
                                  solution=args.solution, limits=limits)
        print(f"results.json: score {data['score']}, {len(data.get('tests', []))} tests", file=sys.stderr)
        return 0
    out = args.out
    if out is None and any(p.is_dir() for p in args.notebooks):
        out = next(p for p in args.notebooks if p.is_dir()) / "_grading"
    paths = expand(args.notebooks, skip=out)
    if not paths:
        print("error: no notebooks to grade", file=sys.stderr)
        return 2
    limits = Limits(cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout,
                    memory=args.memory << 20)
    cache, cache_file = None, None
    if out is not None:
        cache_file = out / ".grade-cache.json"
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
    try:
        sandbox_kind()
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = grade_many(paths, solution=args.solution, keep_dir=args.keep, jobs=args.jobs,
                         solutions_dir=args.solutions, limits=limits, cache=cache,
                         progress=_progress_bar if out is not None else None)
    graded = [r for r in results if isinstance(r, Report)]
    if graded:
        print("\n\n".join(r.text() for r in graded))
    for r in results:
        if isinstance(r, Failure):
            print(f"error: {r.reason}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps([r.to_dict() for r in results], indent=1,
                                        ensure_ascii=False) + "\n", encoding="utf-8")
    if out is not None:
        book = write_gradebook(results, out)
        cache_file.write_text(json.dumps(cache), encoding="utf-8")  # ASCII: any file name fits
        n_cached = sum(getattr(r, "cached", False) for r in results)
        print(f"gradebook: {book} ({len(results) - n_cached} graded, {n_cached} from the cache)",
              file=sys.stderr)
    if any(isinstance(r, Failure) for r in results):
        return 2
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
