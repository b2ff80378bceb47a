"""The packages: installed (editable), importable anywhere, and nnlib never imports the book kit."""
import ast
import io
import tokenize
import subprocess
import sys
from pathlib import Path

NNLIB = Path(__file__).resolve().parent.parent / "nnlib"


def test_nnlib_imports_from_another_directory(tmp_path):
    out = subprocess.run([sys.executable, "-c", "import nnlib, nnbook; print(nnlib.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("nnlib/__init__.py")


def test_nnlib_never_imports_nnbook():
    for path in NNLIB.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "nnbook" for n in names), path.name
    out = subprocess.run([sys.executable, "-c", "import sys, nnlib; print('nnbook' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Floors in book order: data -> model -> loss -> gradients -> optimiser -> training. A module may
# import only from a lower floor, so chapter 7's gradient check never stands on chapter 8's loop.
FLOORS = {"_checks": 1, "activations": 2, "losses": 2, "optim": 2, "graph": 3, "layers": 3,
          "neuron": 3, "network": 4, "gradcheck": 5, "train": 5, "__init__": 6}


def nnlib_imports(path):
    """The nnlib modules that the file at ``path`` imports (relative imports, as nnlib writes them)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update([node.module] if node.module else [a.name for a in node.names])
    return found


def test_nnlib_floors_read_in_book_order():
    assert {p.stem for p in NNLIB.glob("*.py")} == set(FLOORS), "a new module needs a floor"
    for path in NNLIB.glob("*.py"):
        for target in nnlib_imports(path):
            assert FLOORS[target] < FLOORS[path.stem], f"{path.stem} imports {target} from above"


def code_lines(path):
    """Lines with code tokens outside docstrings (tinygrad's sz.py counts the same way)."""
    source = path.read_text()
    docs = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            docs.update(range(node.lineno, node.end_lineno + 1))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - docs)


def test_the_libraries_stay_small_enough_to_read_in_an_afternoon():
    nnlib = list(NNLIB.glob("*.py"))
    # the kit; figures/ is chapter code, checks.py the exercises' report/judge module (own budget)
    nnbook = [p for p in (NNLIB.parent / "nnbook").glob("*.py") if p.name != "checks.py"]
    assert len((NNLIB.parent / "nnbook" / "checks.py").read_text().splitlines()) <= 450
    assert sum(code_lines(p) for p in nnlib) <= 900
    assert sum(len(p.read_text().splitlines()) for p in nnlib) <= 1500
    assert sum(len(p.read_text().splitlines()) for p in nnbook) <= 1300
    # the counter counts: a docstring is not code, a statement is
    assert code_lines(NNLIB / "optim.py") < len((NNLIB / "optim.py").read_text().splitlines()) / 1.5
