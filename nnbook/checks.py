"""Check cells that report data instead of asserting: ``report(name, value)``.

A check cell of an exercise computes a result of the learner's code and reports it::

    from nnbook.checks import report
    report("softmax of three rows", softmax(Z))            # compared with the reference, allclose
    report("decisions at threshold 0", decide(z, 0.0))     # integers and booleans: exactly
    report("test accuracy", accuracy, at_least=0.9)        # a threshold, not equality
    report("predicted classes", y_hat, agree=0.95)         # at least 95 % of the entries equal

``report`` prints one line and publishes the value as plain data (numbers, strings, numeric numpy
arrays, lists and dicts of them; MIME type :data:`MIME`). It never decides a grade: the grader
(``tools/grade.py``) reads the reported data from outside the learner's process, validates it
(:func:`decode`) and compares it (:func:`judge`) with what the reference solution reports for the
same name in a clean run of its own. Whatever an answer does to its interpreter, it can only
change the data it reports. The judging options (``rtol``, ``atol``, ``at_least``, ``at_most``,
``agree``, ``kind``, ``finite``) are taken from the reference run, never from the learner's.

Self-check: in an exercise notebook, the generator stores the reference's reports of the visible
checks in the check cells' metadata (``nnlib.expected``). When ``report`` finds the notebook file
(``NNBOOK_NOTEBOOK``, Jupyter's ``JPY_SESSION_NAME``/``__session__``, VS Code, or Colab), it
compares locally and prints ``✓ name`` or the reason. Hidden checks' data never leaves the grader.
"""
from __future__ import annotations

import base64
import json
import math
import os
import sys

import numpy as np

MIME = "application/vnd.nnbook.report+json"
#: Limits of one reported value (checked on arrival by :func:`decode`).
MAX_ENTRIES = 4_000_000
MAX_ITEMS = 10_000
MAX_STRING = 10_000
MAX_DEPTH = 8
_DTYPES = {"b": "b1", "i": "i8", "u": "i8", "f": "f8"}
_KIND_WORDS = {"b1": "booleans", "i8": "integers", "f8": "floats"}
_OPTIONS = ("rtol", "atol", "at_least", "at_most", "agree", "kind", "finite", "relu_net_accuracy",
            "mlp_accuracy")
_ACTIVATIONS = {"relu": lambda h: np.maximum(h, 0.0), "identity": lambda h: h, "tanh": np.tanh,
                "sigmoid": lambda h: 1.0 / (1.0 + np.exp(-h))}


class ReportError(ValueError):
    """A reported value that is not plain data (or breaks a limit); the message says why."""


# ---------------------------------------------------------------------------------- encoding
def encode(value, depth: int = 0):
    """``value`` as JSON-ready plain data; :class:`ReportError` for anything else."""
    if depth > MAX_DEPTH:
        raise ReportError("nested too deeply")
    if value is None:
        return {"n": None}
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ReportError(f"a string of {len(value)} characters (at most {MAX_STRING})")
        return {"s": value}
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS or not all(isinstance(k, str) for k in value):
            raise ReportError("a dict needs string keys (and at most 10,000 of them)")
        return {"d": {k: encode(v, depth + 1) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            array = None
        if array is None or array.dtype.kind not in _DTYPES:
            if len(value) > MAX_ITEMS:
                raise ReportError(f"a list of {len(value)} items (at most {MAX_ITEMS})")
            return {"l": [encode(v, depth + 1) for v in value]}
        value = array
    if isinstance(value, (bool, int, float, np.generic, np.ndarray)) and not isinstance(value, complex):
        array = np.asarray(value)
        kind = array.dtype.kind
        if kind not in _DTYPES:
            raise ReportError(f"an array of dtype {array.dtype} (numbers or booleans are needed)")
        if array.size > MAX_ENTRIES:
            raise ReportError(f"an array of {array.size} entries (at most {MAX_ENTRIES})")
        if kind in "iu" and array.size and (array.max() > np.iinfo(np.int64).max):
            raise ReportError("an integer too large for 64 bits")
        code = _DTYPES[kind]
        data = np.ascontiguousarray(array, dtype="<" + code if code != "b1" else "b1").tobytes()
        return {"a": [code, list(array.shape), base64.b64encode(data).decode("ascii")]}
    raise ReportError(f"a {type(value).__name__} (report numbers, strings, numeric arrays, "
                      "or lists and dicts of them)")


def decode(data, depth: int = 0):
    """Validate data as it arrives (from a process that is not trusted) and rebuild the value:
    numpy arrays (0-d for a scalar), strings, None, lists and dicts. :class:`ReportError` when
    it is anything else."""
    if depth > MAX_DEPTH or not isinstance(data, dict) or len(data) != 1:
        raise ReportError("not a reported value")
    (tag, body), = data.items()
    if tag == "n" and body is None:
        return None
    if tag == "s" and isinstance(body, str) and len(body) <= MAX_STRING:
        return body
    if tag == "l" and isinstance(body, list) and len(body) <= MAX_ITEMS:
        return [decode(v, depth + 1) for v in body]
    if tag == "d" and isinstance(body, dict) and len(body) <= MAX_ITEMS:
        return {str(k): decode(v, depth + 1) for k, v in body.items()}
    if tag == "a" and isinstance(body, list) and len(body) == 3:
        code, shape, text = body
        if code not in _KIND_WORDS or not isinstance(shape, list) or len(shape) > 8 \
                or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape) \
                or not isinstance(text, str):
            raise ReportError("a malformed array")
        size = math.prod(shape)
        if size > MAX_ENTRIES:
            raise ReportError(f"an array of {size} entries (at most {MAX_ENTRIES})")
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise ReportError("a malformed array") from None
        dtype = np.dtype("b1" if code == "b1" else "<" + code)
        if len(raw) != size * dtype.itemsize:
            raise ReportError("a malformed array (its data does not fit its shape)")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    raise ReportError("not a reported value")


def message(name: str, value, against=None, **options) -> dict:
    """The data ``report`` publishes: ``{"name", "value", "judge"}`` (and ``against``: what the
    value is judged against instead of the reference's value, e.g. test images and labels)."""
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise TypeError(f"report() got unknown options {sorted(unknown)}; use {', '.join(_OPTIONS)}")
    msg = {"name": str(name), "value": encode(value), "judge": options}
    if against is not None:
        msg["against"] = encode(against)
    return msg


def _relu_net_accuracy(params, data, target: float, what: str) -> str | None:
    """The project's parameters ``{"W1", "b1", "W2", "b2"}`` as the network X -> Dense -> ReLU ->
    Dense, run by :func:`_mlp_accuracy` on the reference's held-out images ``data['X']``."""
    keys = ("W1", "b1", "W2", "b2")
    if not isinstance(params, dict) or not all(isinstance(params.get(k), np.ndarray) for k in keys):
        return f"{what} is {_describe(params)}; the dict of parameters W1, b1, W2, b2 is expected"
    net = {"layers": [{"W": params["W1"], "b": params["b1"]}, {"act": "relu"},
                      {"W": params["W2"], "b": params["b2"]}]}
    return _mlp_accuracy(net, data, target, what, images="held-out images")


def network_data(model, X=None) -> dict:
    """An nnlib network (``Sequential``/``MLP``) as plain data for the ``mlp_accuracy`` judge:
    ``{"layers": [{"W", "b"} or {"act": name}, ...]}`` (and ``"X"``: inputs of the learner's own)."""
    layers = []
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "W") and hasattr(layer, "b"):
            layers.append({"W": np.asarray(layer.W), "b": np.asarray(layer.b)})
        else:
            layers.append({"act": type(layer).__name__.lower()})
    data = {"layers": layers}
    if X is not None:
        data["X"] = np.asarray(X, dtype=float)
    return data


def _mlp_accuracy(net, data, target: float, what: str, images: str = "images") -> str | None:
    """The learner's network (:func:`network_data`), run here by the judge on the images of
    ``data["X"]`` (or the learner's own ``net["X"]``), scored against the labels ``data["y"]``."""
    layers = net.get("layers") if isinstance(net, dict) else None
    X = net.get("X", data.get("X")) if isinstance(net, dict) else None
    y = data["y"]
    if not isinstance(layers, list) or not isinstance(X, np.ndarray) or X.ndim != 2 or len(X) != len(y):
        return f"{what} is not a network with {len(y):,} inputs to classify"
    H = X.astype(float)
    with np.errstate(all="ignore"):
        for layer in layers:
            if not isinstance(layer, dict):
                return f"{what} is not a network"
            if "act" in layer:
                if layer["act"] not in _ACTIVATIONS:
                    return f"{what} uses the layer {layer['act']!r}, which the grader cannot run"
                H = _ACTIVATIONS[layer["act"]](H)
                continue
            W, b = layer.get("W"), layer.get("b")
            if not (isinstance(W, np.ndarray) and isinstance(b, np.ndarray) and W.ndim == 2
                    and W.shape[0] == H.shape[1] and b.shape == (W.shape[1],)):
                return f"{what} has layers whose shapes do not fit together"
            H = H @ W.astype(float) + b.astype(float)
    if H.ndim != 2 or not np.all(np.isfinite(H)):
        return f"{what} gives outputs that are not finite (nan or inf)"
    accuracy = float(np.mean(np.argmax(H, axis=1) == y))
    if accuracy < target:
        return f"{what} classifies {accuracy:.2%} of {len(y):,} {images} correctly; the target is {target:.0%}"
    return None


# ---------------------------------------------------------------------------------- judging
def _describe(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)[:6]}"
    words = _KIND_WORDS.get(value.dtype.str.lstrip("<>=|"), str(value.dtype))
    if value.ndim == 0:
        return {"booleans": "a boolean", "integers": "an integer", "floats": "a float"}.get(words, words)
    return f"an array of shape {tuple(value.shape)} of {words}"


def _mine(value) -> str:
    """The learner's own value, shown when it is small (it is theirs, never the reference's)."""
    if isinstance(value, np.ndarray) and value.size <= 6:
        shown = np.array2string(value, precision=6, separator=", ", threshold=6)
        return f" (yours: {shown})"
    return ""


def _scalar(value) -> str:
    x = value.reshape(-1)[0]
    return f"{float(x):.6g}" if value.dtype.kind == "f" else str(x.item())


def _entries(n: int) -> str:
    return f"{n:,} {'entry' if n == 1 else 'entries'}"


def judge(got, expected, options: dict | None = None, name: str = "result") -> str | None:
    """None when ``got`` (the learner's decoded value) passes against ``expected`` (the
    reference's) under ``options`` (the reference's judging options); else the reason, in terms
    of the learner's result."""
    options = options or {}
    what = f"your result for {name!r}"
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"{what} is {_describe(got)}; a dict with keys {sorted(expected)} is expected"
        for key in expected:
            why = judge(got[key], expected[key], options, f"{name}, {key}")
            if why:
                return why
        return None
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return f"{what} is {_describe(got)}; a list of {len(expected)} items is expected"
        for i, (g, e) in enumerate(zip(got, expected)):
            why = judge(g, e, options, f"{name} (item {i})")
            if why:
                return why
        return None
    if expected is None or isinstance(expected, str):
        if isinstance(got, np.ndarray) or got != expected:
            return f"{what} is {_describe(got)}{_mine(got) if isinstance(got, np.ndarray) else ''}" \
                   + (f" ({got!r})" if isinstance(got, str) and len(got) < 60 else "") \
                   + ", which differs from the reference"
        return None
    if not isinstance(got, np.ndarray):
        return f"{what} is {_describe(got)}; {_describe(expected)} is expected"
    floats = got.dtype.kind == "f"
    if floats and not options.get("finite") is False:
        bad = ~np.isfinite(got)
        if bad.any():
            kinds = "NaN" if np.isnan(got).any() else "inf"
            where = f" at {_entries(int(bad.sum()))} of {got.size:,}" if got.size > 1 else ""
            return f"{what} is not finite ({kinds}{where})"
    bounds = [(k, options[k]) for k in ("at_least", "at_most") if options.get(k) is not None]
    if bounds:
        if got.dtype.kind not in "bif":
            return f"{what} is {_describe(got)}; a number is expected"
        for key, limit in bounds:
            low = np.asarray(got < limit if key == "at_least" else got > limit)
            if low.any():
                word = "below" if key == "at_least" else "above"
                if got.size == 1:
                    return f"{what} is {_scalar(got)}, {word} the required {limit:g}"
                return f"{what} is {word} the required {limit:g} at {_entries(int(low.sum()))} of {got.size:,}"
        return None
    if got.shape != expected.shape:
        return (f"{what} has shape {tuple(got.shape)}; the reference's has shape {tuple(expected.shape)}"
                if got.ndim or expected.ndim else f"{what} is {_describe(got)}")
    if options.get("kind", True) and got.dtype.kind != expected.dtype.kind:
        return f"{what} is {_describe(got)}; {_describe(expected)} is expected"
    if options.get("agree") is not None:
        same = np.asarray(got == expected) if got.dtype.kind != "f" else np.isclose(got, expected)
        rate = float(same.mean()) if same.size else 1.0
        if rate < options["agree"]:
            return (f"{what} agrees with the reference at {rate:.1%} of its {_entries(got.size)}; "
                    f"at least {options['agree']:.0%} is required")
        return None
    if expected.dtype.kind == "f" or got.dtype.kind == "f":
        rtol, atol = options.get("rtol", 1e-5), options.get("atol", 1e-8)
        e, g = expected.astype(float), got.astype(float)
        ok = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    else:
        e, g = expected, got
        ok = np.asarray(g == e)
    if ok.all():
        return None
    if got.size == 1:
        return f"{what}, {_scalar(got)}, differs from the reference"
    wrong = int((~ok).sum())
    text = f"{what} differs from the reference at {wrong:,} of {_entries(got.size)}"
    if e.dtype.kind == "f":
        with np.errstate(all="ignore"):
            diff = np.where(ok, 0.0, np.abs(g - e))
            rel = np.where(ok | (e == 0), 0.0, diff / np.abs(e))
        text += f"; largest difference {float(np.nanmax(diff)):.2g}"
        if rel.max() > 0:
            text += f", largest relative error {float(np.nanmax(rel)):.2g}"
    return text + _mine(got)


def judge_data(got_msg, reference_msg) -> str | None:
    """:func:`judge` on a learner's report message (decoded and validated here) and the
    reference's; the options come from the reference only."""
    name = reference_msg["name"]
    try:
        got = decode(got_msg.get("value") if isinstance(got_msg, dict) else None)
    except ReportError as exc:
        return f"your result for {name!r} is not plain data: {exc}"
    options = reference_msg.get("judge") or {}
    expected = decode(reference_msg["against"] if "against" in reference_msg else reference_msg["value"])
    if options.get("mlp_accuracy") is not None:
        return _mlp_accuracy(got, expected, options["mlp_accuracy"], f"your result for {name!r}")
    if options.get("relu_net_accuracy") is not None:
        return _relu_net_accuracy(got, expected, options["relu_net_accuracy"], f"your result for {name!r}")
    return judge(got, expected, options, name)


# ---------------------------------------------------------------------------------- self-check
_EXPECTED: dict = {}


def _notebook_path():
    path = os.environ.get("NNBOOK_NOTEBOOK") or os.environ.get("JPY_SESSION_NAME")
    main = sys.modules.get("__main__")
    for attr in ("__session__", "__vsc_ipynb_file__"):
        path = path or getattr(main, attr, None)
    return path


def _load_notebook():
    path = _notebook_path()
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return path, json.load(f)
    if "google.colab" in sys.modules:  # Colab keeps the notebook in the browser: ask for it
        try:
            from google.colab import _message
            return "colab", _message.blocking_request("get_ipynb", timeout_sec=10)["ipynb"]
        except Exception:
            return None, None
    return None, None


def expected(name: str):
    """The reference's report ``name`` stored in this exercise notebook, or None."""
    if "cells" not in _EXPECTED:
        cells = {}
        try:
            _, nb = _load_notebook()
        except (OSError, ValueError):
            nb = None
        for cell in (nb or {}).get("cells", []):
            info = cell.get("metadata", {}).get("nnlib", {})
            for msg in info.get("expected", []) if isinstance(info, dict) else []:
                cells[msg.get("name")] = msg
        _EXPECTED["cells"] = cells
    return _EXPECTED["cells"].get(str(name))


def report(name: str, value, against=None, **options) -> None:
    """Report ``value`` under ``name`` (see the module docstring); prints one line."""
    msg = message(name, value, against, **options)
    grading = os.environ.get("NNBOOK_GRADING") == "1"
    ref = None if grading else expected(name)
    if ref is not None and ref.get("stored") is False:
        ref = None
    if against is not None and not grading:  # judged against data the cell itself holds (test images)
        ref = dict(ref or msg, against=msg["against"], judge=(ref or msg)["judge"])
    if ref is not None:
        why = judge_data(msg, ref)
        line = f"✓ {name}" if why is None else f"✗ {why}"
    else:
        line = f"· {name}: {_describe(decode(msg['value']))}"
    print(line)
    try:
        from IPython import get_ipython
        from IPython.display import publish_display_data
    except ImportError:
        return
    if get_ipython() is not None:
        publish_display_data({MIME: msg, "text/plain": ""})
