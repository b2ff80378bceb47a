"""The package is installed (editable) and importable from any working directory."""
import subprocess
import sys


def test_nnlib_imports_from_another_directory(tmp_path):
    out = subprocess.run([sys.executable, "-c", "import nnlib, os; print(nnlib.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("nnlib/__init__.py")
