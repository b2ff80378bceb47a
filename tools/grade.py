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
4. runs ``pytest --nbval`` on it in a sandbox (check cells compared exactly, the other cells only
   required to run without error): bubblewrap (``bwrap``) with the file system read-only, a
   private ``/tmp`` holding only that notebook, the repository, ``solutions/``, the submissions'
   folders and the home folder hidden, no network, a PID namespace, its own user id when run as
   root, and limits (:class:`Limits`: time per cell and per notebook, memory, output per cell,
   processes, file size). Without ``bwrap`` it falls back to a plain subprocess and says so;
5. when a task stops the kernel (a timeout, ``os._exit``, a kill, the memory limit), that task is
   lost with the reason and the notebook runs again without its answer, so the other tasks are
   graded fairly;
6. prints one line per task with its points (``task 5.2 sigmoid derivative (0/2 points):
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

Gradescope: ``--gradescope OUT.zip`` writes an autograder archive (``setup.sh``,
``run_autograder``, the grader, the book's packages and the solutions: keep it private);
``run_autograder`` grades ``/autograder/submission/*.ipynb`` into
``/autograder/results/results.json`` (``AUTOGRADER_ROOT`` moves ``/autograder``,
``AUTOGRADER_PYTHON`` picks the interpreter), through ``--gradescope-results FILE``. See
:func:`gradescope_results`.

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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

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


def build_graded_notebook(reference, student, task_list, skip=frozenset()):
    """The notebook nbval runs: the reference, with the student's answer sources pasted in.

    Returns ``(notebook, missing)`` where ``missing`` lists tasks without an answer cell. The
    answers of the tasks in ``skip`` (already lost) are left as the exercise hands them out.
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
                   PYTHONDONTWRITEBYTECODE="1")
        for name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST",
                     "COVERAGE_PROCESS_START"):
            env.pop(name, None)
        if bwrap is not None:
            env.update(NNLIB_GRADE_REAP="1", HOME="/tmp/home", XDG_CACHE_HOME="/tmp/home/.cache", TMPDIR="/tmp",
                       IPYTHONDIR="/tmp/home/.ipython", MPLCONFIGDIR="/tmp/home/.mpl",
                       JUPYTER_RUNTIME_DIR="/tmp/home/.jupyter-runtime")
            if not env.get("NNLIB_DATA_DIR") and (_cache_dir() / "mnist").is_dir():
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
        except (OSError, ValueError):
            results = []
    by_cell = {entry["cell_num"]: entry for entry in results}
    return RunResult(by_cell, timed_out, proc.returncode, log_text), note


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
                            + Path(__file__).read_bytes()).hexdigest()
    return _Prepared(path, solution, reference, student, task_list, _student_id(student, path), digest)


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
    report = _report(prepared, nb, missing, run.results, lost)
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
    another reason added), the hint that of every failed check that has one."""
    checks, failures = [], []
    for cid, role, r in cells:
        passed = r is not None and r.get("outcome") == "passed"
        entry = {"cell": cid, "role": role, "points": None, "passed": passed,
                 "reason": "" if passed else _clean(_reason(r, role)),
                 "hint": "" if role == "answer" else task.hint(cid)}
        if role != "answer" and task.partial:
            entry["points"] = task.check_points(cid)
        checks.append(entry)
        if not passed:
            failures.append(entry)
    answer_ok = checks[0]["passed"]
    if not answer_ok:
        points = 0
    elif task.partial:
        points = sum(c["points"] for c in checks[1:] if c["passed"])
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
    hidden = tuple({ROOT, Path(solutions_dir).resolve(), prepared.solution.resolve().parent,
                    prepared.path.resolve().parent})
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


# ---------------------------------------------------------------------------------- Gradescope
#: Only the site and the browser tests need these; the autograder image leaves them out.
GRADESCOPE_SKIPPED_REQUIREMENTS = ("jupyter-book", "jupyter-cache", "playwright", "pytest-xdist",
                                   "hypothesis")
GRADESCOPE_TOOLS = ("__init__.py", "grade.py", "exercises.py", "_nbval_plugin.py", "run_notebooks.py")

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
        if task.partial:
            vis_max, hid_max = task.points - task.hidden_points, task.hidden_points
            vis_score = sum(c["points"] for c in visible if c["passed"]) if answer_ok else 0
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
        elif hidden and not all(c["passed"] for c in hidden) and not task.partial:
            output = ("The visible checks pass, but a hidden check fails, so the task scores 0; "
                      "the hidden checks' results are shown when the grades are published.")
        else:
            output = "All visible checks pass."
        tests.append({"name": name, "score": vis_score, "max_score": vis_max,
                      "status": "passed" if ran and answer_ok and not failed else "failed",
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
