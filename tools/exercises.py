"""Generate ``exercises/`` from ``solutions/`` (``make exercises``).

``solutions/NN_topic.ipynb`` is the source of truth. Every code cell carries its identity in the
cell metadata, next to its nbformat cell id::

    "nnlib": {"role": "answer", "task": "5.2", "title": "sigmoid derivative"}

with ``role`` one of

``setup``         imports and data every task may use (never uses an answer's names);
``answer``        the student's cell: the solution sits between ``### BEGIN SOLUTION`` and
                  ``### END SOLUTION`` lines;
``check``         computes results of the answer and reports them as plain data, one
                  ``report(name, value)`` call each (:mod:`nnbook.checks`); it asserts nothing.
                  The grader judges the reports in its own process against what the solution's
                  answers report for the same names (``tools/grade.py``);
``hidden-check``  like ``check``, but only in ``solutions/``: the grader runs it, students never
                  see it (nor its reference data). Every task needs at least one, so that an
                  answer tailored to the visible check's inputs cannot pass.

In the exercise, each visible check cell keeps the solution's reports in its metadata
(``nnlib.expected``: name, value and judging options; never a hidden check's), and its stored
output is the ``✓ name`` line per report that a right answer prints: ``report`` compares the
learner's result with them when it finds the notebook, so the learner gets ✓ or the reason in
Jupyter without the grader. Report names are unique within a notebook.

Points, partial credit and hints (all optional):

* an answer cell's ``"points": N`` (a positive integer, default 1) is the task's maximum;
* a check or hidden-check cell may carry ``"points": N`` (an integer >= 0) and ``"hint": "…"``
  (one line, shown after the check's failure reason). Neither a hint nor a check's stored output
  may quote a line of the solution's code.
  When any check of a task carries points, the points of its checks (a check without them counts
  0) must add up to the task's points, else :class:`ExerciseFormatError`; the task then scores
  the points of the checks that pass, but 0 when its answer cell itself fails. When no check
  carries points, the task is all or nothing.
* a hidden check without points may carry ``"gate": true``: when it fails, the visible checks
  of its task earn no points (the hidden checks keep theirs). A gate re-runs what the visible
  checks test on inputs the learner never saw, so that an answer right only on the visible
  inputs (a lookup table, a replay of the stored reference reports) earns nothing.

The notebook's metadata may list names an answer must not use::

    "nnlib": {"exercise": "10_project", "forbidden": ["nnlib.layers", "nnlib.fit", "nnlib.MLP"]}

each a module (``nnlib.layers``: the module and everything in it) or an attribute
(``nnlib.fit``). The grader (``tools/grade.py``) refuses an answer that imports or references one
of them: that task scores 0 with the reason, the other tasks are graded as usual.

Each task has a markdown heading that shows its points, consistent with the metadata::

    ## Task 6.1 · Stable softmax (2 points)

(``(1 point)`` for one point); a heading that is missing, shows no points or other points than
the answer cell's ``nnlib.points`` is an :class:`ExerciseFormatError`.

Markdown cells may carry ``"role": "solution-note"`` (an explanation shown on the solutions page
only). The generated exercise keeps everything else: markdown, setup cells, check cells with their
stored outputs. Each solution region becomes ``# YOUR CODE HERE`` + ``raise NotImplementedError``
at the region's indentation (code outside the markers, such as the ``def`` line, stays), and the
answer cells lose their outputs. The output is deterministic: regenerating changes nothing.

Usage (from the repository root)::

    python -m tools.exercises                      # write exercises/ (removes stale files)
    python -m tools.exercises --check              # exit 1 if exercises/ is out of date
    python -m tools.exercises --execute-solutions  # re-run solutions/ first, storing outputs
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tools.run_notebooks import dumps, execute

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = ROOT / "solutions"
EXERCISES_DIR = ROOT / "exercises"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")

CODE_ROLES = ("setup", "answer", "check", "hidden-check")
MARKDOWN_ROLES = ("solution-note",)
CHECK_ROLES = ("check", "hidden-check")
#: Tags that hide a solution behind a toggle on the solutions page; meaningless on a stub.
SOLUTION_ONLY_TAGS = ("hide-input", "hide-output", "hide-cell", "remove-input")
TASK_RE = re.compile(r"^\d+\.\d+$")
#: the data a check cell reports (``nnbook.checks.report``), as display data in its outputs
REPORT_MIME = "application/vnd.nnbook.report+json"
#: a task's heading in a markdown cell: ``## Task 6.1 · Stable softmax (2 points)``
HEADING_RE = re.compile(r"^## Task (\d+\.\d+) · (.+?)(?: \((\d+) points?\))?$")
NAME_RE = re.compile(r"^\d\d_[a-z0-9_]+$")


class ExerciseFormatError(ValueError):
    """A solution notebook breaks the rules above; the message names the cell and the fix."""


@dataclass(frozen=True)
class Task:
    """One graded task of a notebook: its answer cell id, the ids of its check cells, its points
    (the maximum), per check cell ``(cell id, points or None, hint)``, and its gates (the hidden
    checks whose failure costs the whole task, see the module docstring)."""
    task: str
    title: str
    answer_id: str
    check_ids: tuple[str, ...]
    hidden_ids: tuple[str, ...]
    points: int = 1
    check_meta: tuple[tuple[str, int | None, str], ...] = ()
    gates: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """True when the task's checks carry points (partial credit), False for all or nothing."""
        return any(p is not None for _, p, _ in self.check_meta)

    def check_points(self, cid: str) -> int:
        return next((p or 0 for c, p, _ in self.check_meta if c == cid), 0)

    def hint(self, cid: str) -> str:
        return next((h for c, _, h in self.check_meta if c == cid), "")

    @property
    def hidden_points(self) -> int:
        return sum(self.check_points(c) for c in self.hidden_ids)


def cell_info(cell) -> dict:
    """The ``nnlib`` metadata of a cell (an empty dict when it has none or it is malformed)."""
    info = cell.get("metadata", {}).get("nnlib", {})
    return info if isinstance(info, dict) else {}


def cell_role(cell) -> str | None:
    return cell_info(cell).get("role")


def strip_solution(source: str, where: str = "cell") -> str:
    """Replace every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region by the stub.

    The stub keeps the indentation of the ``BEGIN`` line, so a region inside a function body
    leaves a valid function that raises ``NotImplementedError`` when called.
    """
    out, indent, regions = [], None, 0
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if indent is not None:
                raise ExerciseFormatError(f"{where}, line {number}: {BEGIN} inside another region; "
                                          f"close the first one with {END}")
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in STUB)
            regions += 1
        elif marker == END:
            if indent is None:
                raise ExerciseFormatError(f"{where}, line {number}: {END} without a {BEGIN} above it")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ExerciseFormatError(f"{where}: {BEGIN} is never closed; add a {END} line")
    if regions == 0:
        raise ExerciseFormatError(f"{where}: an answer cell needs a {BEGIN} … {END} region")
    return "\n".join(out)


def _points(value, where: str, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ExerciseFormatError(f"{where}: nnlib.points of {what} must be an integer >= {minimum}, "
                                  f"got {value!r}")
    return value


def _solution_lines(source: str) -> list[str]:
    """The code lines inside the solution regions of an answer cell (stripped, non-trivial)."""
    lines, inside = [], False
    for line in source.split("\n"):
        marker = line.strip()
        if marker in (BEGIN, END):
            inside = marker == BEGIN
        elif inside and len(marker) >= 12 and not marker.startswith("#"):
            lines.append(marker)
    return lines


def _hint(value, where: str, solution_lines: list[str]) -> str:
    if not isinstance(value, str) or not value.strip() or "\n" in value.strip() or len(value) > 300:
        raise ExerciseFormatError(f"{where}: nnlib.hint must be one line of text (at most 300 "
                                  f"characters), got {value!r}")
    for line in solution_lines:
        if line in value:
            raise ExerciseFormatError(f"{where}: nnlib.hint quotes the solution's code ({line!r}); "
                                      "a hint names the idea, never the expected code")
    return value.strip()


def forbidden_names(nb, name: str = "notebook") -> tuple[str, ...]:
    """The notebook's ``nnlib.forbidden`` list (validated): names an answer must not use."""
    meta = nb.get("metadata", {}).get("nnlib", {})
    value = meta.get("forbidden", []) if isinstance(meta, dict) else []
    if not isinstance(value, list) or not all(
            isinstance(v, str) and re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", v) for v in value):
        raise ExerciseFormatError(f"{name}: notebook metadata nnlib.forbidden must be a list of module "
                                  f"or attribute names such as 'nnlib.fit', got {value!r}")
    return tuple(dict.fromkeys(value))


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def reports_of(cell) -> list[dict]:
    """The report data a check cell's stored outputs hold (``nnbook.checks.report``)."""
    return [o["data"][REPORT_MIME] for o in cell.get("outputs", [])
            if isinstance(o.get("data"), dict) and REPORT_MIME in o["data"]]


#: A visible report's value is stored for the self-check only up to this many numbers.
STORED_ENTRIES = 20_000


def _entries(value) -> int:
    if not isinstance(value, dict) or len(value) != 1:
        return 0
    (tag, body), = value.items()
    if tag == "a":
        n = 1
        for size in body[1]:
            n *= size
        return n
    if tag == "l":
        return sum(_entries(v) for v in body)
    if tag == "d":
        return sum(_entries(v) for v in body.values())
    return 1


def _expected(msg: dict) -> dict:
    """What the exercise stores of a visible report: name, judging options and the reference's
    value (none for a judge that runs the learner's network, or a value too large to store)."""
    judge = msg.get("judge") or {}
    entry = {"name": msg["name"], "judge": judge, "value": msg["value"]}
    if msg.get("stored") is False or "mlp_accuracy" in judge or "relu_net_accuracy" in judge \
            or _entries(msg["value"]) > STORED_ENTRIES:
        entry["value"], entry["stored"] = {"n": None}, False
    elif "at_least" in judge or "at_most" in judge:   # a threshold needs no reference value
        entry["value"] = {"n": None}
    return entry


def tidy_reports(nb) -> None:
    """Keep a solution's stored report data small and private: a hidden check's data is dropped
    (only its printed lines stay), and so are the ``against`` data (test images, say) of any check
    and the values the exercise would not store anyway (networks, arrays of more than
    :data:`STORED_ENTRIES` numbers). The grader never reads them: it runs the solution itself."""
    for cell in nb.cells:
        role = cell_role(cell)
        if role not in CHECK_ROLES:
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data")
            if isinstance(data, dict) and REPORT_MIME in data:
                if role == "hidden-check":
                    continue
                msg = data[REPORT_MIME]
                msg.pop("against", None)
                judge = msg.get("judge") or {}
                if "mlp_accuracy" in judge or "relu_net_accuracy" in judge \
                        or _entries(msg.get("value")) > STORED_ENTRIES:   # a network, test images
                    msg["value"], msg["stored"] = {"n": None}, False
            kept.append(out)
        cell.outputs = kept


def tasks(nb, name: str = "notebook") -> list[Task]:
    """Validate a solution notebook's structure and return its tasks in notebook order.

    Raises :class:`ExerciseFormatError` naming the offending cell when a rule is broken.
    """
    found: dict[str, dict] = {}
    headings: dict[str, tuple[str, re.Match]] = {}
    report_names: set = set()
    ids = set()
    for index, cell in enumerate(nb.cells):
        cid = cell.get("id")
        where = f"{name}, cell {index} (id {cid!r})"
        if not cid:
            raise ExerciseFormatError(f"{where}: every cell needs an nbformat id (nbformat >= 4.5)")
        if cid in ids:
            raise ExerciseFormatError(f"{where}: duplicate cell id; ids must be unique")
        ids.add(cid)
        role, info = cell_role(cell), cell_info(cell)
        if cell.cell_type == "markdown":
            if role is not None and role not in MARKDOWN_ROLES:
                raise ExerciseFormatError(f"{where}: markdown role must be one of {MARKDOWN_ROLES}")
            for line in cell.source.split("\n"):
                if (match := HEADING_RE.match(line.rstrip())) and match.group(1) not in headings:
                    headings[match.group(1)] = (where, match)
            continue
        if cell.cell_type != "code":
            continue
        if role not in CODE_ROLES:
            raise ExerciseFormatError(f"{where}: code cells need metadata nnlib.role in {CODE_ROLES}, "
                                      f"got {role!r}")
        if role == "setup":
            if BEGIN in cell.source or END in cell.source:
                raise ExerciseFormatError(f"{where}: solution markers belong in answer cells only")
            continue
        task = info.get("task")
        if not isinstance(task, str) or not TASK_RE.match(task):
            raise ExerciseFormatError(f"{where}: nnlib.task must be a string such as '5.2', got {task!r}")
        if role == "answer":
            title = info.get("title")
            if not isinstance(title, str) or not title.strip():
                raise ExerciseFormatError(f"{where}: an answer cell needs nnlib.title, e.g. 'sigmoid'")
            if task in found:
                raise ExerciseFormatError(f"{where}: task {task} has a second answer cell")
            strip_solution(cell.source, where)
            points = _points(info.get("points", 1), where, f"task {task}", 1)
            found[task] = {"title": title, "answer": cid, "check": [], "hidden-check": [],
                           "points": points, "meta": [], "where": where,
                           "solution": _solution_lines(cell.source)}
            continue
        if BEGIN in cell.source or END in cell.source:
            raise ExerciseFormatError(f"{where}: solution markers belong in answer cells only")
        if task not in found:
            raise ExerciseFormatError(f"{where}: a check of task {task} must follow its answer cell")
        if cell.get("execution_count") is None or not _stdout(cell).strip():
            raise ExerciseFormatError(f"{where}: a check cell must be stored executed, with the "
                                      f"line it prints as output (run the solution notebook)")
        if any(o.get("output_type") == "error" for o in cell.outputs):
            raise ExerciseFormatError(f"{where}: the stored output is an error; fix the solution")
        for line in found[task]["solution"]:
            if line in _stdout(cell):
                raise ExerciseFormatError(f"{where}: the check prints the solution's code ({line!r}); "
                                          "a check says what is wrong, never the expected code")
        if "report(" not in cell.source or (role == "check" and not reports_of(cell)):
            raise ExerciseFormatError(f"{where}: a check cell reports its results with "
                                      "nnbook.checks.report(name, value) (and asserts nothing); "
                                      "run the solution notebook to store the reports")
        for msg in reports_of(cell):
            if msg.get("name") in report_names:
                raise ExerciseFormatError(f"{where}: the report name {msg.get('name')!r} is used twice; "
                                          "each report of a notebook needs a name of its own")
            report_names.add(msg.get("name"))
        found[task][role].append(cid)
        points = info.get("points")
        if points is not None:
            points = _points(points, where, "a check", 0)
        hint = _hint(info["hint"], where, found[task]["solution"]) if "hint" in info else ""
        found[task]["meta"].append((cid, points, hint))
        if "gate" in info:
            if info["gate"] is not True or role != "hidden-check" or points:
                raise ExerciseFormatError(f"{where}: nnlib.gate must be true, on a hidden check without points")
            found[task].setdefault("gates", []).append(cid)
    if not found:
        raise ExerciseFormatError(f"{name}: no answer cells (nnlib.role 'answer') found")
    result = []
    for task, entry in found.items():
        if not entry["check"]:
            raise ExerciseFormatError(f"{name}: task {task} has no visible check cell")
        if not entry["hidden-check"]:
            raise ExerciseFormatError(f"{name}: task {task} has no hidden check cell (nnlib.role "
                                      "'hidden-check'): an answer tailored to the visible check's "
                                      "inputs would pass it")
        item = Task(task, entry["title"], entry["answer"], tuple(entry["check"]),
                    tuple(entry["hidden-check"]), entry["points"], tuple(entry["meta"]),
                    tuple(entry.get("gates", ())))
        if item.partial:
            given = sum(item.check_points(c) for c in item.check_ids + item.hidden_ids)
            if given != item.points:
                detail = ", ".join(f"{c}: {p or 0}" for c, p, _ in item.check_meta)
                raise ExerciseFormatError(
                    f"{entry['where']}: the points of task {task}'s checks add up to {given} ({detail}), "
                    f"but the task has {item.points} points (nnlib.points of its answer cell); make "
                    "them agree, or remove the checks' points for all-or-nothing grading")
        result.append(item)
    for item in result:
        _check_heading(item, headings.get(item.task), name)
    forbidden_names(nb, name)
    return result


def _check_heading(task: Task, heading, name: str) -> None:
    """The task's markdown heading exists and shows the task's points."""
    want = f"{task.points} point{'s' if task.points != 1 else ''}"
    if heading is None:
        raise ExerciseFormatError(f"{name}: task {task.task} has no markdown heading; add a line "
                                  f"'## Task {task.task} · <title> ({want})' above its answer cell")
    where, match = heading
    if match.group(3) is None or int(match.group(3)) != task.points:
        shown = f"shows {match.group(3)} points" if match.group(3) else "shows no points"
        raise ExerciseFormatError(f"{where}: the heading of task {task.task} {shown}, but the task has "
                                  f"{want} (nnlib.points of its answer cell); write '## Task "
                                  f"{task.task} · {match.group(2)} ({want})'")


def make_exercise(solution, name: str = "notebook"):
    """Return the exercise notebook for a solution notebook (the input is left unchanged)."""
    tasks(solution, name)
    nb = copy.deepcopy(solution)
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown" or not first.source.startswith("# Solutions"):
        raise ExerciseFormatError(f"{name}: the first cell must be a markdown title '# Solutions …'")
    first.source = "# Exercises" + first.source[len("# Solutions"):]
    cells = []
    for index, cell in enumerate(nb.cells):
        role = cell_role(cell)
        if role in ("hidden-check", "solution-note"):
            continue
        if role == "check":  # the reference's reports go into the metadata; the output is ✓ lines
            expected = [_expected(msg) for msg in reports_of(cell)]
            cell.metadata.setdefault("nnlib", {})["expected"] = expected
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                   text="".join(f"✓ {m['name']}\n" for m in expected))]
        if role == "answer":
            cell.source = strip_solution(cell.source, f"{name}, cell {index}")
            cell.outputs = []
            cell.execution_count = None
            tags = [t for t in cell.metadata.get("tags", []) if t not in SOLUTION_ONLY_TAGS]
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
        cells.append(cell)
    nb.cells = cells
    meta = nb.metadata.setdefault("nnlib", {})
    meta["generated_from"] = f"solutions/{name}.ipynb"
    meta["note"] = "generated by tools/exercises.py (make exercises); edit the solution, not this file"
    return nb


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


def solution_paths(solutions_dir: Path = SOLUTIONS_DIR) -> list[Path]:
    paths = sorted(p for p in Path(solutions_dir).glob("*.ipynb") if NAME_RE.match(p.stem))
    return paths


def render(solutions_dir: Path = SOLUTIONS_DIR) -> dict[str, str]:
    """``{file name: exercise notebook text}`` for every solution notebook."""
    return {p.name: dumps(make_exercise(read(p), p.stem)) for p in solution_paths(solutions_dir)}


def generate(solutions_dir: Path = SOLUTIONS_DIR, exercises_dir: Path = EXERCISES_DIR) -> list[Path]:
    """Write every exercise notebook (only when its text changed) and delete stale ones."""
    exercises_dir = Path(exercises_dir)
    exercises_dir.mkdir(parents=True, exist_ok=True)
    rendered = render(solutions_dir)
    written = []
    for fname, text in rendered.items():
        target = exercises_dir / fname
        if not target.exists() or target.read_bytes() != text.encode("utf-8"):
            target.write_bytes(text.encode("utf-8"))
            written.append(target)
    for stale in exercises_dir.glob("*.ipynb"):
        if stale.name not in rendered:
            stale.unlink()
            written.append(stale)
    return written


def out_of_date(solutions_dir: Path = SOLUTIONS_DIR, exercises_dir: Path = EXERCISES_DIR) -> list[str]:
    """Names of exercise files that are missing, stale or differ from what ``generate`` writes."""
    rendered = render(solutions_dir)
    problems = []
    for fname, text in rendered.items():
        target = Path(exercises_dir) / fname
        if not target.exists():
            problems.append(f"{fname}: missing")
        elif target.read_bytes() != text.encode("utf-8"):
            problems.append(f"{fname}: differs from its solution")
    for extra in sorted(Path(exercises_dir).glob("*.ipynb")):
        if extra.name not in rendered:
            problems.append(f"{extra.name}: has no solution notebook")
    return problems


def execute_solution(path: Path, timeout: int = 180) -> None:
    """Re-run a solution notebook in place so its stored outputs are fresh (no timing metadata)."""
    nb = execute(path, timeout)
    tidy_reports(nb)
    tasks(nb, Path(path).stem)
    Path(path).write_bytes(dumps(nb).encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.exercises", description=__doc__.split("\n")[0])
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS_DIR, help="solution notebooks folder")
    parser.add_argument("--out", type=Path, default=EXERCISES_DIR, help="exercise notebooks folder")
    parser.add_argument("--check", action="store_true", help="only report whether the output is up to date")
    parser.add_argument("--execute-solutions", action="store_true",
                        help="re-run every solution notebook (storing its outputs) before generating")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = out_of_date(args.solutions, args.out)
            for line in problems:
                print(f"out of date: {line}")
            if problems:
                print("run `make exercises` to regenerate exercises/ from solutions/", file=sys.stderr)
            return 1 if problems else 0
        if args.execute_solutions:
            for path in solution_paths(args.solutions):
                print(f"executing {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
                execute_solution(path)
        written = generate(args.solutions, args.out)
    except ExerciseFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"{'wrote' if path.exists() else 'removed'} {path}")
    print(f"exercises up to date ({len(solution_paths(args.solutions))} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
