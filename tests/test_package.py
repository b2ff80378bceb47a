"""The packages: installed (editable), importable anywhere, and nnlib never imports the book kit."""
import ast
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
