"""pytest plugin that records nbval's verdict for every notebook cell (used by ``tools.grade``).

``tools.grade`` copies this file as ``conftest.py`` into the folder holding the notebooks it grades
and runs ``pytest --nbval`` there. At the end of the session the plugin writes
``cell-results.json`` beside this file: one entry per code cell (the notebook's folder name and
nbval's ``cell_num``, counting code cells from 0) with the outcome, the exception the kernel
raised (name and message), and the outputs expected and produced.
"""
import json
from pathlib import Path

import pytest

RESULTS_FILE = Path(__file__).with_name("cell-results.json")
_results = {}


def _streams(outputs):
    """{'stdout': text, 'stderr': text, 'other': [output types]} of a list of cell outputs."""
    text = {"stdout": "", "stderr": "", "other": []}
    for out in outputs or []:
        kind = out.get("output_type")
        if kind == "stream":
            text[out.get("name", "stdout")] = text.get(out.get("name", "stdout"), "") + out.get("text", "")
        elif kind != "error":
            data = out.get("data", {})
            text["other"].append(data.get("text/plain", kind) if isinstance(data, dict) else kind)
    return text


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    cell_num = getattr(item, "cell_num", None)
    if cell_num is None or (report.when != "call" and report.passed):
        return
    notebook = Path(str(item.fspath)).parent.name
    entry = _results.setdefault((notebook, cell_num), {"notebook": notebook, "cell_num": cell_num})
    if report.when == "call" or report.failed or report.skipped:
        failed = report.failed or (report.skipped and hasattr(report, "wasxfail"))
        entry["outcome"] = "failed" if failed else ("skipped" if report.skipped else "passed")
        entry["xfail_reason"] = getattr(report, "wasxfail", "") or ""
        entry["message"] = ""
        if call.excinfo is not None:
            exc = call.excinfo.value
            entry["message"] = str(exc) if type(exc).__name__ == "NbCellError" else \
                f"{type(exc).__name__}: {exc}"
        errors = [o for o in (getattr(item, "test_outputs", None) or []) if o.get("output_type") == "error"]
        entry["ename"] = errors[-1].get("ename", "") if errors else ""
        entry["evalue"] = errors[-1].get("evalue", "") if errors else ""
        entry["expected"] = _streams(getattr(item.cell, "outputs", []))
        entry["got"] = _streams(getattr(item, "test_outputs", None))


def pytest_sessionfinish(session, exitstatus):
    RESULTS_FILE.write_text(json.dumps([_results[k] for k in sorted(_results)], indent=1),
                            encoding="utf-8")
