"""pytest plugin that records nbval's verdict for every notebook cell (used by ``tools.grade``).

``tools.grade`` copies this file as ``conftest.py`` into the sandbox folder holding the notebook it
grades and runs ``pytest --nbval`` there. After every cell the plugin rewrites
``cell-results.json`` beside this file (so a run that is killed still leaves the verdicts of the
cells before): one entry per code cell (the notebook's folder name and nbval's ``cell_num``,
counting code cells from 0) with the outcome, the exception the kernel raised (name and message),
and the outputs produced.

It also makes nbval safer against a hostile cell:

* a kernel that dies (``os._exit``, a signal, the memory limit) fails its cell within a second,
  with ``KernelDied`` and the exit status, instead of waiting for the cell timeout;
* in the sandbox (``NNLIB_GRADE_REAP=1``: a PID namespace of its own), every process a cell
  leaves behind (a fork bomb, a daemon holding the output pipes) is killed after the cell;
* a cell's output is cut after ``NNLIB_GRADE_OUTPUT_LIMIT`` bytes (default 1 MiB): the rest is
  dropped as it arrives, and the cell fails with ``OutputLimit``.

The data a check cell reports (``nnbook.checks.report``: display data of type
``application/vnd.nnbook.report+json``) is recorded as the entry's ``reports``, untouched (at most
``NNLIB_GRADE_REPORT_LIMIT`` bytes per cell, default 32 MiB; more fails the cell with
``ReportLimit``). It decides nothing here: the grader validates it and judges it in its own
process, against the reference solution's reports.
"""
import json
import os
import signal
import time
from pathlib import Path
from queue import Empty

import pytest

RESULTS_FILE = Path(__file__).with_name("cell-results.json")
OUTPUT_LIMIT = int(os.environ.get("NNLIB_GRADE_OUTPUT_LIMIT", str(1 << 20)))
REPORT_LIMIT = int(os.environ.get("NNLIB_GRADE_REPORT_LIMIT", str(32 << 20)))
REPORT_MIME = "application/vnd.nnbook.report+json"
KEEP = 10_000  # characters of each recorded stream (the report quotes far fewer)
_results = {}
_current = {"item": None, "bytes": 0, "cut": False, "timed_out": False}


class KernelDied(Exception):
    pass


def _death(kernel) -> str:
    process = getattr(getattr(getattr(kernel, "km", None), "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    if code is None:
        return "the kernel died"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        hint = " (out of memory, or killed)" if name == "SIGKILL" else ""
        return f"the kernel was killed by {name}{hint}"
    return f"the kernel exited with status {code} (sys.exit, os._exit or a crash)"


def _patch_nbval():
    from nbval import kernel as nbkernel
    from nbval import plugin as nbplugin

    def await_reply(self, msg_id, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise Empty
            try:
                msg = self.get_message(stream="shell", timeout=1 if left is None else min(1, left))
            except Empty:
                if not self.is_alive():
                    raise KernelDied(_death(self)) from None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    nbkernel.RunningKernel.await_reply = await_reply
    original_get = nbplugin.IPyNbFile.get_kernel_message

    def get_kernel_message(self, *args, **kwargs):
        timeout = kwargs.get("timeout", args[1] if len(args) > 1 else None)
        try:
            msg = original_get(self, *args, **kwargs)
        except Empty:
            if self.kernel is not None and not self.kernel.is_alive():
                raise KernelDied(_death(self.kernel)) from None
            raise
        if msg.get("msg_type") == "stream":
            text = msg["content"].get("text", "")
            used = _current["bytes"]
            _current["bytes"] = used + len(text)
            if used + len(text) > OUTPUT_LIMIT:
                keep = max(OUTPUT_LIMIT - used, 0)
                note = "" if _current["cut"] else \
                    f"\n[output cut: more than {OUTPUT_LIMIT} characters]\n"
                _current["cut"] = True
                msg["content"]["text"] = text[:keep] + note
        del timeout
        return msg

    nbplugin.IPyNbFile.get_kernel_message = get_kernel_message


try:
    _patch_nbval()
except Exception:  # pragma: no cover - an nbval without these hooks: grade without the guards
    pass


def _streams(outputs):
    """{'stdout': text, 'stderr': text, 'other': [output types]} of a list of cell outputs."""
    text = {"stdout": "", "stderr": "", "other": []}
    for out in outputs or []:
        kind = out.get("output_type")
        if kind == "stream":
            name = out.get("name", "stdout")
            text[name] = (text.get(name, "") + out.get("text", ""))[:KEEP]
        elif kind != "error":
            data = out.get("data", {})
            shown = data.get("text/plain", kind) if isinstance(data, dict) else kind
            if len(text["other"]) < 5:
                text["other"].append(str(shown)[:KEEP])
    return text


def _reports(outputs):
    """The report data of a cell's outputs, and whether it stayed within the limit."""
    found, size = [], 0
    for out in outputs or []:
        data = out.get("data") if out.get("output_type") in ("display_data", "execute_result") else None
        if isinstance(data, dict) and REPORT_MIME in data:
            size += len(json.dumps(data[REPORT_MIME]))
            if size > REPORT_LIMIT:
                return found, False
            found.append(data[REPORT_MIME])
    return found, True


def _save():
    tmp = RESULTS_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps([_results[k] for k in sorted(_results)], indent=1), encoding="utf-8")
    os.replace(tmp, RESULTS_FILE)


def _reap(item):
    """Kill every process of ours but this one and the kernel (only inside the sandbox)."""
    if os.environ.get("NNLIB_GRADE_REAP") != "1":
        return
    kernel = getattr(getattr(item, "parent", None), "kernel", None)
    process = getattr(getattr(getattr(kernel, "km", None), "provisioner", None), "process", None)
    keep = {os.getpid(), os.getppid(), 1}
    if process is not None:
        keep.add(process.pid)
    uid = os.getuid()
    for _ in range(50):  # a fork bomb refills while we kill: a few passes
        found = 0
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) in keep:
                continue
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                os.kill(int(name), signal.SIGKILL)
                found += 1
            except OSError:
                pass
        if not found:
            return
        time.sleep(0.05)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    parent = getattr(item, "parent", None)
    _current.update(item=item, bytes=0, cut=False, was_timed_out=getattr(parent, "timed_out", False))
    yield
    _current["timed_out"] = getattr(parent, "timed_out", False) and not _current["was_timed_out"]
    _reap(item)


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
            entry["message"] = (str(exc) if type(exc).__name__ == "NbCellError" else
                                f"{type(exc).__name__}: {exc}")[:KEEP]
        errors = [o for o in (getattr(item, "test_outputs", None) or []) if o.get("output_type") == "error"]
        entry["ename"] = errors[-1].get("ename", "") if errors else ""
        entry["evalue"] = str(errors[-1].get("evalue", ""))[:KEEP] if errors else ""
        entry["got"] = _streams(getattr(item, "test_outputs", None))
        entry["reports"], within = _reports(getattr(item, "test_outputs", None))
        if not within:
            entry["outcome"] = "failed"
            entry["message"] = f"ReportLimit: the cell reported more than {REPORT_LIMIT} bytes of data"
        if report.when == "call" and _current["item"] is item and _current.get("timed_out"):
            entry["outcome"], entry["timed_out"] = "failed", True
        if report.when == "call" and _current["item"] is item and _current["cut"]:
            entry["outcome"] = "failed"
            entry["message"] = f"OutputLimit: the cell printed more than {OUTPUT_LIMIT} characters"
            entry["ename"], entry["evalue"] = "", ""
        _save()


def pytest_sessionfinish(session, exitstatus):
    _save()
