"""Execute notebooks in place so that their stored outputs are fresh (nbval compares against them).

    python -m tools.run_notebooks chapters/01_neuron.ipynb [more.ipynb ...]

Each notebook runs top to bottom in a fresh kernel, in its own folder, with live slider panels;
timing metadata is not recorded and the chunks of one stream are merged into one output, so a
re-run of an unchanged notebook gives identical bytes.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def execute(path: Path, timeout: int = 300):
    """Run the notebook at ``path`` in a fresh kernel and return it with its new outputs."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    for cell in nb.cells:  # the kernel may split one print into several chunks: store one output
        merged = []
        for out in cell.get("outputs", []):
            if (merged and out.get("output_type") == "stream" and merged[-1].get("output_type") == "stream"
                    and merged[-1].get("name") == out.get("name")):
                merged[-1]["text"] += out["text"]
            else:
                merged.append(out)
        if "outputs" in cell:
            cell.outputs = merged
    nb.metadata.pop("widgets", None)   # live widget state is meaningless without a kernel
    nb.metadata["language_info"] = {"name": "python"}   # the same on every machine
    return nb


def dumps(nb) -> str:
    """Serialise a notebook the one way this project does (stable key order and indentation)."""
    nbformat.validate(nb)
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    for name in argv:
        path = Path(name)
        path.write_text(dumps(execute(path)), encoding="utf-8")
        print(f"run_notebooks: {path} executed and saved")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
