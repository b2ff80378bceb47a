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
6. prints one line per task and the score, and exits with status 1 when a task fails, 2 when a
   file cannot be graded (its reason on stderr; the other files are still graded).

A task passes when its answer cell and all of its check cells pass.

Usage::

    python -m tools.grade student.ipynb [--solution solutions/05_activations.ipynb] [--json report.json]
    python -m tools.grade submissions/ --jobs 4      # a whole class: gradebook.csv, feedback/

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
        lines.append(f"score: {self.score}/{self.total} tasks")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"submission": self.submission, "solution": self.solution,
                "score": self.score, "total": self.total, "passed": self.passed,
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
             Path(os.path.realpath(sys.executable)).parent.parent, ROOT / "nnlib", ROOT / "nnbook"]
    if os.environ.get("NNLIB_DATA_DIR"):  # the MNIST folder the chapters read
        keeps.append(Path(os.environ["NNLIB_DATA_DIR"]).resolve())
    for keep in dict.fromkeys(keeps):
        under = [h.resolve() for h in hidden if h.exists() and keep.is_relative_to(h.resolve())]
        if keep.exists() and under:
            top = min(under, key=lambda p: len(p.parts))
            for parent in reversed(keep.parents):  # bwrap would make them 0700: nobody could enter
                if parent.is_relative_to(top) and parent != top:
                    cmd += ["--perms", "0755", "--dir", str(parent)]
            cmd += ["--ro-bind", str(keep), str(keep)]
    cache = _cache_dir()
    if cache.is_dir():  # the verified MNIST download, read-only
        cmd += ["--perms", "0755", "--dir", "/tmp/home/.cache",
                "--ro-bind", str(cache), "/tmp/home/.cache/nnlib"]
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
                                           "(deleted, or its cell metadata removed)"))
            continue
        if task.task in lost:
            report_tasks.append(TaskResult(task.task, task.title, False, lost[task.task]))
            continue
        reason = ""
        for cid, role in ([(task.answer_id, "answer")] + [(c, "check") for c in task.check_ids]
                          + [(c, "hidden-check") for c in task.hidden_ids]):
            r = results.get(number[cid])
            if r is None or r.get("outcome") != "passed":
                reason = _reason(r, role)
                break
        report_tasks.append(TaskResult(task.task, task.title, not reason, _clean(reason)))
    return Report(_clean(prepared.path), _display(prepared.solution), report_tasks, problems,
                  student=prepared.student_id)


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
                "error": self.reason, "passed": False, "score": 0, "total": 0, "tasks": [],
                "problems": [self.reason]}


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
        writer.writerow(["student", "file", *[f"task {t}" for t in task_ids], "total", "max", "status"])
        for r in results:
            student = r.student or Path(r.submission).stem
            if isinstance(r, Failure):
                writer.writerow([student, r.submission, *[""] * len(task_ids), 0, "", f"error: {r.reason}"])
                feedback = f"# Feedback for {student}\n\n`{r.submission}` could not be graded: {r.reason}\n"
            else:
                points = {t.task: int(t.passed) for t in r.tasks}
                status = "passed" if r.passed else ("failed: " + "; ".join(r.problems) if r.problems
                                                    else "failed")
                writer.writerow([student, r.submission, *[points.get(t, "") for t in task_ids],
                                 r.score, r.total, status])
                lines = [f"# Feedback for {student}", "", f"`{r.submission}` graded against "
                         f"`{Path(r.solution).stem}`: **{r.score}/{r.total} tasks**.", ""]
                lines += [f"- task {t.task} {t.title}: " + ("passed" if t.passed else f"**failed**: {t.reason}")
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
    parser.add_argument("notebooks", type=Path, nargs="+", metavar="notebook",
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
    args = parser.parse_args(argv)
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
