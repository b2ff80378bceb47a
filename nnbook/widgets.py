"""Slider panels: an interactive figure is a draw function and its controls.

Example (chapter 1: a neuron with one input draws the line ``y = w x + b``)::

    import numpy as np
    from nnbook.widgets import Panel

    x = np.linspace(-3, 3, 50)

    def draw(fig, w=1.0, b=0.0):       # the defaults are the starting values
        ax = fig.add_subplot()
        ax.plot(x, w * x + b, label="w·x + b")
        ax.set(xlim=(-3, 3), ylim=(-8, 8), title="A neuron with one input",
               xlabel="input x", ylabel="weighted sum")
        ax.legend(loc="upper left")

    Panel(draw, w=(-2, 2, 0.1), b=(-2, 2, 0.1), labels={"w": "weight w", "b": "bias b"})

Each keyword that is not an option of :class:`Panel` is a control, passed to ``draw`` under its
name: ``(min, max, step)`` is a slider, a list of options or of ``(label, value)`` pairs a
dropdown. Every frame is ``draw(fig, **values)`` on a new, empty Figure, so it depends only on the
values. The mode comes from ``NNBOOK_WIDGETS`` (``live``, the default, or ``static``, which
``make book`` sets) or ``Panel(..., mode=...)``. ``live``: ipywidgets controls above an
``ipywidgets.Image`` of each frame's PNG, an error in ``draw`` shown under it. ``static``: every
combination of the offered values (all of a control's, or ``static={"lr": [...]}``) is rendered
at build time (a large grid by two forked processes) into its own PNG in ``FRAMES_DIR``
(``NNBOOK_FRAMES_DIR``; ``_build/frames/panel-frames``, copied next to the pages by
``html_extra_path``), named by its content hash; the page's script swaps the ``<img>`` source
(from ``file://`` and HTTP alike). A grid over ``max_frames`` (the build budget) fails, naming
the panel and its frame count. Both modes render through :meth:`Panel.render_rgba`: a static
frame is pixel-identical to the live one, and the PNGs carry no metadata.
"""
from __future__ import annotations

import hashlib
import html
import inspect
import io
import itertools
import json
import math
import multiprocessing
import numbers
import os
import sys
import time
import traceback
from dataclasses import dataclass

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser
from PIL import Image as _PILImage

from nnlib._checks import choose, positive_number, real_number, whole_number

__all__ = ["Panel", "StaticExport", "widget_mode"]

MODES = ("live", "static")
ENV_VAR = "NNBOOK_WIDGETS"
MAX_STEPS = 10_000          # the most grid steps a slider may have
PROCESSES = min(2, os.cpu_count() or 1) if "fork" in multiprocessing.get_all_start_methods() else 1
POOL_MIN, _JOB = 100, None  # static grids of POOL_MIN or more frames: rendered by PROCESSES processes
# a forked process parses math text anew, as matplotlib reopens its fonts (its parsed math keeps
if hasattr(os, "register_at_fork"):  # the kernel's: two processes at one file offset, bad glyphs)
    os.register_at_fork(after_in_child=MathTextParser._parse_cached.cache_clear)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES_DIR = os.environ.get("NNBOOK_FRAMES_DIR") or os.path.join(_ROOT, "_build", "frames", "panel-frames")
FRAMES_URL = "../panel-frames/"   # from a chapter page (chapters/*.html) to the frame files
_panel_counter = itertools.count()


def widget_mode() -> str:
    """The default panel mode: ``NNBOOK_WIDGETS`` (``"live"`` when unset, or ``"static"``)."""
    raw = os.environ.get(ENV_VAR, "").strip()
    return choose(raw, MODES, f"panel mode in the environment variable {ENV_VAR}") if raw else "live"


def _decimals(*xs: float) -> int:
    """The fewest decimals (at most 10) that write every number in ``xs`` exactly."""
    return next((d for d in range(11)
                 if all(abs(round(x, d) - x) <= 1e-9 * max(1.0, abs(x)) for x in xs)), 10)


class _Control:
    """One control: a slider over ``min, min + step, ..., max`` or a list of options."""

    def __init__(self, name: str, spec, default, label: str):
        self.name, self.label = name, str(label)
        self.is_slider = (isinstance(spec, tuple) and len(spec) == 3
                          and all(isinstance(v, numbers.Real) for v in spec))
        if self.is_slider:
            lo, hi, step = (real_number(v, f"{name}'s {k}") for k, v in zip(("min", "max", "step"), spec))
            if not lo < hi:
                raise ValueError(f"{name}=(min, max, step) needs min < max, got {spec}")
            positive_number(step, f"{name}'s step")
            n = (hi - lo) / step
            if n > MAX_STEPS:
                raise ValueError(f"{name}=(min, max, step) has {n:.3g} steps, more than the "
                                 f"{MAX_STEPS} a slider can offer; choose a larger step")
            if abs(n - round(n)) > 1e-6:
                raise ValueError(f"{name}: max - min = {hi - lo:g} is not a whole number of steps "
                                 f"of {step:g}; choose a step that divides it")
            self.is_int = all(isinstance(v, numbers.Integral) for v in spec)
            self.min, self.max, self.step = spec
            self.decimals = 0 if self.is_int else _decimals(lo, hi, step)
            self.options = [int(spec[0] + i * spec[2]) if self.is_int
                            else round(lo + i * step, self.decimals) + 0.0  # + 0.0: no -0.0
                            for i in range(int(round(n)) + 1)]
            self.labels = [f"{v:.{self.decimals}f}" for v in self.options]
        elif isinstance(spec, (list, tuple)) and spec:
            pairs = all(isinstance(o, tuple) and len(o) == 2 and isinstance(o[0], str) for o in spec)
            self.labels = [o[0] if pairs else str(o) for o in spec]
            self.options = [o[1] if pairs else o for o in spec]
            if len(set(self.labels)) != len(self.labels):
                raise ValueError(f"{name}'s options need distinct labels, got {self.labels}")
        else:
            raise TypeError(f"control {name} must be (min, max, step) for a slider or a non-empty "
                            f"list of options for a dropdown, got {spec!r}")
        if default is inspect.Parameter.empty:
            self.start = (len(self.options) - 1) // 2 if self.is_slider else 0
        else:
            self.start = self.index(default, f"the default of {name} in draw")

    def __len__(self) -> int:
        return len(self.options)

    def index(self, value, what: str = "") -> int:
        """The position of ``value`` on the grid or among the options, else a ValueError."""
        what = what or f"value of {self.name}"
        if self.is_slider:
            real_number(value, what)
            pos = (value - self.min) / self.step
            if 0 <= round(pos) < len(self.options) and abs(pos - round(pos)) <= 1e-6:
                return int(round(pos))
            raise ValueError(f"{what} is {value!r}, not one of the slider's values "
                             f"{self.labels[0]}, {self.labels[1]}, ..., {self.labels[-1]}")
        for i, o in enumerate(self.options):
            try:
                if o is value or bool(o == value):
                    return i
            except (TypeError, ValueError):    # arrays and the like compare elementwise
                pass
        raise ValueError(f"{what} is {value!r}, not one of the options {self.labels}")


@dataclass
class StaticExport:
    """What the static page shows (see :meth:`Panel.export`): ``values`` maps each control to
    its offered values, ``defaults`` to its starting value; ``frames`` holds the distinct PNGs,
    ``index`` maps a tuple of values (in control order) to a position in ``frames``; ``html`` is
    the widget and ``note`` its caption ("" when every value is offered)."""

    values: dict; defaults: dict; frames: list; index: dict; html: str; note: str  # noqa: E702

    def frame(self, **values) -> bytes:
        """The PNG bytes of the frame for ``values`` (starting values for the missing names)."""
        if set(values) - set(self.values):
            raise ValueError(f"unknown control name(s) {sorted(set(values) - set(self.values))}; use {list(self.values)}")
        key = tuple(values.get(k, self.defaults[k]) for k in self.values)
        if key not in self.index:
            raise ValueError(f"the static page has no frame for {dict(zip(self.values, key))}")
        return self.frames[self.index[key]]


class Panel:
    """An interactive figure: ``draw(fig, **values)`` and its controls (see the module doc).

    ``draw``'s defaults are the starting values (on the grid, or among the options); without one
    a slider starts at its middle value, a dropdown at its first option. ``labels`` describe the
    controls (default: their names); ``static={"lr": [...]}`` chooses a slider's values on the
    static page (the starting value is always added); ``figsize`` and ``dpi`` size the frames
    (6×4 inches at 80 dpi are 480×320 pixels); ``alt`` is the text alternative, followed on the page by
    each frame's values ("… for w = 1.0, b = 0.2"; default: the axes titles); ``max_frames`` is the static page's frame budget; ``mode``
    overrides ``NNBOOK_WIDGETS``. Controls: ``name=(min, max, step)`` (a slider of ints when all
    three are ints), ``name=[options]`` or ``name=[(label, value), ...]``.

    ``render(**values)`` gives a frame's PNG bytes, ``render_rgba(**values)`` its pixels,
    ``export()`` the static page (:class:`StaticExport`), ``widget()`` the live ipywidgets box.
    A panel displays itself as a cell's last expression, or with ``show()``.
    """

    def __init__(self, draw, *, labels=None, static=None, figsize=(6, 4), dpi=80, alt=None,
                 max_frames=1000, mode=None, **controls):
        if not callable(draw):
            raise TypeError(f"Panel's first argument must be a function draw(fig, ...), got {draw!r}")
        if not controls:
            raise ValueError("Panel needs at least one control, e.g. Panel(draw, w=(-2, 2, 0.1))")
        params = inspect.signature(draw).parameters
        any_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
        first = next(iter(params.values()), None)
        for name in controls:
            p = params.get(name)
            if (p is None and not any_kw) or p is first or (
                    p is not None and p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL)):
                raise TypeError(f"draw must accept the control {name!r} as a keyword: define "
                                f"draw(fig, {name}=...)")
        missing = [n for n, p in list(params.items())[1:] if p.default is p.empty and n not in
                   controls and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if missing:
            raise TypeError(f"draw's parameter(s) {missing} are not controls and have no default; "
                            "give them a default or make them controls")
        labels = {choose(k, list(controls), "control in labels"): v for k, v in (labels or {}).items()}
        self.draw = draw
        self.controls = [_Control(name, spec, params[name].default if name in params
                                  else inspect.Parameter.empty, labels.get(name, name))
                         for name, spec in controls.items()]
        if (not isinstance(figsize, (tuple, list)) or len(figsize) != 2):
            raise ValueError(f"figsize must be (width, height) in inches, got {figsize!r}")
        self.figsize = tuple(positive_number(s, "figsize") for s in figsize)
        self.dpi = positive_number(dpi, "dpi")
        self.max_frames = whole_number(max_frames, "max_frames")
        self.mode = widget_mode() if mode is None else choose(mode, MODES, "mode")
        self.alt, self.static = alt, {}
        for name, vals in (static or {}).items():
            name = choose(name, list(controls), "control in static")
            c = self.controls[list(controls).index(name)]
            if isinstance(vals, (str, bytes)) or not hasattr(vals, "__iter__"):
                raise TypeError(f"static[{name!r}] must be a list of {name}'s values, got {vals!r}")
            self.static[name] = sorted({c.index(v, f"a static value of {name}") for v in vals}
                                       | {c.start})
        self.values = {c.name: c.options[c.start] for c in self.controls}
        self._titles, self._canvas = [], None   # the last frame's titles; the reused canvas

    def _values_for(self, values: dict) -> dict:
        names = [c.name for c in self.controls]
        values = {choose(k, names, "control"): v for k, v in values.items()}
        return {c.name: c.options[c.index(values[c.name])] if c.name in values
                else self.values[c.name] for c in self.controls}

    def render_rgba(self, **values) -> np.ndarray:
        """Draw the frame for ``values`` (current values for missing names): a new uint8 RGBA
        array ``(height, width, 4)``. Live and static mode both render through this method."""
        vals = self._values_for(values)
        # a new Figure for every frame, on one canvas: its renderer keeps the text caches (faster,
        # same pixels); titles sit atop their axes without matplotlib's search for labels above
        with rc_context({"axes.titley": 1.0}):
            fig = Figure(figsize=self.figsize, dpi=self.dpi)
            canvas = self._canvas = self._canvas or FigureCanvasAgg(fig)
            canvas.figure = fig
            fig.set_canvas(canvas)
            self.draw(fig, **vals)
            canvas.draw()
        self._titles = [t for t in [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes] if t]
        return np.array(canvas.buffer_rgba())

    def render(self, **values) -> bytes:
        """The PNG bytes of the frame for ``values`` (light compression, as in live mode)."""
        return _encode_png(self.render_rgba(**values), static=False)

    # ----------------------------------------------------------------- live mode
    def widget(self):
        """Live mode: an ``ipywidgets.VBox`` of the controls, the image and an error area; its
        ``controls`` (name → ipywidget) and ``image`` (the current frame's PNG) let tests move them."""
        import ipywidgets as W

        for _ in range(2):      # the first frame may pay for loading fonts: then time another
            start = time.perf_counter()
            first = self.render()
            continuous = time.perf_counter() - start < 0.1
            if continuous:
                break
        style, wctl = {"description_width": "initial"}, {}
        for c in self.controls:
            i = c.index(self.values[c.name])
            if c.is_slider:
                cls = W.IntSlider if c.is_int else W.FloatSlider
                kw = {} if c.is_int else {"readout_format": f".{c.decimals}f"}
                wctl[c.name] = cls(min=c.min, max=c.max, step=c.step, value=c.options[i],
                                   description=c.label, continuous_update=continuous,
                                   style=style, layout=W.Layout(width="420px"), **kw)
            else:
                wctl[c.name] = W.Dropdown(options=list(zip(c.labels, range(len(c)))), value=i,
                                          description=c.label, style=style)
        image, errors = W.Image(value=first, format="png"), W.Output()

        def on_change(_change=None):
            vals = {c.name: c.options[c.index(wctl[c.name].value) if c.is_slider
                                      else wctl[c.name].value] for c in self.controls}
            try:
                png = self.render(**vals)
            except Exception:   # show the learner's error under the figure instead of losing it
                errors.outputs = ()
                errors.append_stderr(traceback.format_exc())
                return
            errors.outputs = ()
            self.values, image.value = vals, png

        for w in wctl.values():
            w.observe(on_change, names="value")
        box = W.VBox([*wctl.values(), image, errors])
        box.controls, box.image = wctl, image
        return box

    # ----------------------------------------------------------------- static mode
    def export(self) -> StaticExport:
        """Render every combination of the offered values into ``FRAMES_DIR`` (see the module doc).

        A grid of more than ``max_frames`` frames (the build budget) is an error naming the panel.
        """
        chosen = [self.static.get(c.name, list(range(len(c)))) for c in self.controls]
        count, alt, t0 = math.prod(len(ix) for ix in chosen), self.alt, time.perf_counter()
        name = getattr(self.draw, "__qualname__", None) or getattr(
            getattr(self.draw, "func", None), "__qualname__", repr(self.draw))
        if count > self.max_frames:
            raise ValueError(f"the static page of the panel {name}({', '.join(c.name for c in self.controls)}) "
                             f"needs {count} frames ({' x '.join(str(len(ix)) for ix in chosen)}), "
                             f"over its build budget max_frames={self.max_frames}; offer fewer "
                             "values with static={name: [...]} or raise max_frames")
        frames, seen, flat, index = [], {}, [], {}
        os.makedirs(FRAMES_DIR, exist_ok=True)
        combos = [{c.name: c.options[i] for c, i in zip(self.controls, combo)}
                  for combo in itertools.product(*chosen)]
        if alt is None:                                  # the first frame's titles
            self.render_rgba(**combos[0])
            alt = " / ".join(self._titles) or "interactive figure"
        for vals, png in zip(combos, self._frames(combos, len(chosen[-1]))):
            if png not in seen:
                seen[png] = len(frames)
                frames.append(png)
                _write_frame(png)
            flat.append(seen[png])
            index[tuple(vals.values())] = seen[png]
        with open(os.path.join(FRAMES_DIR, os.pardir, os.pardir, "panel-export.tsv"), "a") as log:  # for the record
            log.write(f"{name}\t{count}\t{len(frames)}\t{time.perf_counter() - t0:.1f}\n")
        note = " ".join(f"{c.label} offers {len(ix)} of its {len(c)} values here."
                        for c, ix in zip(self.controls, chosen) if len(ix) < len(c))
        html_text = self._html(chosen, frames, flat, note, alt)
        return StaticExport({c.name: [c.options[i] for i in ix] for c, ix in zip(self.controls, chosen)},
                            {c.name: c.options[c.start] for c in self.controls}, frames, index,
                            html_text, note)

    def _frames(self, combos, run):
        """Each combination's PNG, in order; a large grid by ``PROCESSES`` forked processes (no pickling
        of ``draw``), in blocks of whole runs of the last control (one training run, one process)."""
        if PROCESSES < 2 or len(combos) < POOL_MIN:
            return (_encode_png(self.render_rgba(**v), static=True) for v in combos)
        global _JOB
        _JOB, size = (self, combos), max(run, len(combos) // (8 * PROCESSES) // run * run)
        with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
            blocks = pool.imap(_render_block, [(i, i + size) for i in range(0, len(combos), size)])
            return [png for block in blocks for png in block]

    def _html(self, chosen, frames, flat, note, alt) -> str:
        files = [_frame_name(f) for f in frames]
        pid = f"nnbook-panel-{hashlib.sha1(''.join(files).encode()).hexdigest()[:8]}-{next(_panel_counter)}"
        start = [ix.index(c.start) for c, ix in zip(self.controls, chosen)]
        labels = [[c.labels[i] for i in ix] for c, ix in zip(self.controls, chosen)]
        data = {"files": files, "flat": flat, "labels": labels, "start": start, "url": FRAMES_URL,
                "alt": alt, "names": [c.label for c in self.controls]}   # alt: "<alt> for w = 1.0, ..."
        start_alt = f"{alt} for " + ", ".join(f"{n} = {lab[i]}" for n, lab, i in zip(data["names"], labels, start))
        payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
        rows = []
        for k, c in enumerate(self.controls):
            cid = f"{pid}-c{k}"
            if c.is_slider:
                ctl = (f'<input type="range" id="{cid}" min="0" max="{len(chosen[k]) - 1}" '
                       f'step="1" value="{start[k]}" aria-valuetext="{html.escape(labels[k][start[k]])}" '
                       'style="width:260px;max-width:55%;vertical-align:middle">'
                       f'<output id="{pid}-o{k}" for="{cid}" style="margin-left:.6em;'
                       f'font-variant-numeric:tabular-nums">{html.escape(labels[k][start[k]])}'
                       "</output>")
            else:
                opts = "".join(f'<option value="{j}"{" selected" if j == start[k] else ""}>'
                               f"{html.escape(t)}</option>" for j, t in enumerate(labels[k]))
                ctl = f'<select id="{cid}">{opts}</select>'
            rows.append(f'<div style="margin:.15em 0"><label for="{cid}" style="display:inline-'
                        f'block;min-width:9em">{html.escape(c.label)}</label>{ctl}</div>')
        first = frames[flat[sum(s * math.prod(len(ix) for ix in chosen[k + 1:]) for k, s in enumerate(start))]]
        w, h = _PILImage.open(io.BytesIO(first)).size
        caption = (f'<p style="font-size:.85em;opacity:.75;margin:.2em 0">{html.escape(note)}</p>'
                   if note else "")
        return (f'<div class="nnbook-panel" id="{pid}" style="margin:.5em 0">{"".join(rows)}'
                f'<img id="{pid}-img" src="{FRAMES_URL}{_frame_name(first)}" width="{w}" height="{h}" '
                f'alt="{html.escape(start_alt, quote=True)}" '
                f'style="max-width:100%;height:auto;display:block">'
                f'<p id="{pid}-err" role="alert" hidden style="border:1px dashed #b00;color:#b00;'
                f'padding:1em;max-width:{w}px">frame not built</p>{caption}</div>\n'
                f'<script>(function () {{\nvar d = {payload};\n'
                f'var pid = "{pid}", n = {len(self.controls)};\n{_JS}}})();</script>')

    # ----------------------------------------------------------------- display
    def show(self) -> None:
        """Display the panel: ipywidgets in live mode, the precomputed HTML widget when static."""
        from IPython.display import HTML, display

        display(HTML(self.export().html) if self.mode == "static" else self.widget())

    def _ipython_display_(self) -> None:
        self.show()


# The static widget's script (runs once per panel; `d`, `pid` and `n` are defined before it):
# a control change sets the image's source to that combination's frame file, then preloads the
# frames one step away on every control (a small cache; also when the pointer or focus enters the
# panel, so the first move is preloaded too); a missing file shows "frame not built".
_JS = """var root = document.getElementById(pid), img = document.getElementById(pid + "-img");
var err = document.getElementById(pid + "-err"), inputs = [], outs = [], cache = {}, order = [];
if (!root || !img || !err) { return; }
for (var k = 0; k < n; k++) {
  inputs.push(document.getElementById(pid + "-c" + k));
  outs.push(document.getElementById(pid + "-o" + k));
  if (!inputs[k]) { return; } }
function url(pos) { var f = 0;
  for (var k = 0; k < n; k++) { f = f * d.labels[k].length + pos[k]; } return d.url + d.files[d.flat[f]]; }
function preload(u) { if (cache[u]) { return; }
  var im = new Image(); im.src = u; cache[u] = im; order.push(u);
  if (order.length > 64) { delete cache[order.shift()]; } }
img.addEventListener("error", function () { img.style.display = "none"; err.hidden = false;
  err.textContent = "frame not built: " + img.getAttribute("src"); });
img.addEventListener("load", function () { img.style.display = "block"; err.hidden = true; });
function show() {
  var pos = [];
  for (var k = 0; k < n; k++) {
    var i = parseInt(inputs[k].value, 10);
    if (isNaN(i) || i < 0 || i >= d.labels[k].length) { i = d.start[k]; }
    pos.push(i);
    if (outs[k]) { outs[k].textContent = d.labels[k][i]; }
    inputs[k].setAttribute("aria-valuetext", d.labels[k][i]); }
  img.alt = d.alt + " for " + pos.map(function (i, k) { return d.names[k] + " = " + d.labels[k][i]; }).join(", ");
  var u = url(pos);
  if (img.getAttribute("src") !== u) { img.setAttribute("src", u); }
  for (k = 0; k < n; k++) {
    [-1, 1].forEach(function (s) { var p = pos.slice(); p[k] += s;
      if (p[k] >= 0 && p[k] < d.labels[k].length) { preload(url(p)); } }); } }
inputs.forEach(function (el) { el.addEventListener("input", show); el.addEventListener("change", show); });
root.addEventListener("pointerenter", show); root.addEventListener("focusin", show);   // preload
"""


def _render_block(span) -> list:         # in a forked process: nothing to the kernel's streams
    sys.stdout = sys.stderr = open(os.devnull, "w")
    panel, combos = _JOB
    return [_encode_png(panel.render_rgba(**v), static=True) for v in combos[slice(*span)]]


def _frame_name(png: bytes) -> str:
    """A frame's file name: its content hash (stable across rebuilds, shared by equal frames)."""
    return hashlib.sha256(png).hexdigest()[:20] + ".png"


def _write_frame(png: bytes) -> None:
    """Write a frame into ``FRAMES_DIR`` atomically (two kernels may write the same file)."""
    path = os.path.join(FRAMES_DIR, _frame_name(png))
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(png)
        os.replace(tmp, path)


def _encode_png(rgba: np.ndarray, *, static: bool) -> bytes:
    """Lossless PNG bytes of an RGBA frame without metadata (RGB when opaque); ``static=True``
    compresses harder (smaller files), ``static=False`` faster (live mode)."""
    im = _PILImage.fromarray(np.ascontiguousarray(rgba if (rgba[..., 3] < 255).any() else rgba[..., :3]))
    buf = io.BytesIO()
    im.save(buf, format="png", compress_level=6 if static else 1)
    return buf.getvalue()
