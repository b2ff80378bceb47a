"""Slider panels: one small API for the interactive figures of every chapter.

A *panel* is a matplotlib figure plus a few named controls (a weight, a bias, a learning rate,
the name of a dataset, ...). You describe it with two functions and a list of controls:

``setup(fig)``
    Called once. Create the axes and the artists (lines, images, texts) on the given
    :class:`matplotlib.figure.Figure`, set titles, labels, legends and *fixed* axis limits, and
    return anything you need later (the "state": an artist, a tuple, a dict).
``update(state, **values)``
    Called for every slider move with the state and one keyword argument per control. Change the
    artists only (``set_data``, ``set_ydata``, ``set_text``, ``set_array``, ...). It must set every
    value-dependent property each time, so that a frame depends only on the values, never on the
    previous slider position.

Example (chapter 1: a neuron with one input draws the line ``y = w x + b``)::

    import numpy as np
    from nnbook.widgets import Slider, Choice, Panel

    x = np.linspace(-3, 3, 50)

    def setup(fig):
        ax = fig.add_subplot()
        line, = ax.plot([], [], label="w·x + b")
        ax.set(xlim=(-3, 3), ylim=(-8, 8), title="A neuron with one input",
               xlabel="input x", ylabel="weighted sum")
        ax.legend(loc="upper left")
        return line

    def update(line, w, b):
        line.set_data(x, w * x + b)

    Panel(setup, update,
          [Slider("w", -2, 2, 0.1, value=1.0, description="weight w"),
           Slider("b", -2, 2, 0.1, value=0.0, description="bias b")],
          figsize=(6, 4)).show()

Two modes, chosen by the environment variable ``NNLIB_WIDGETS`` (``make book`` sets ``static``;
the default is ``live``) or by ``Panel(..., mode=...)``:

``live`` (a running Jupyter kernel)
    ipywidgets sliders/dropdowns above an ``ipywidgets.Image``. The figure is built once; a slider
    move calls ``update``, redraws the Agg canvas and sends the PNG bytes to the image (measured in
    ``benchmarks/bench_widgets.py``: a few milliseconds for a line plot).
``static`` (the built book, no kernel)
    The frames are rendered when the book is built and embedded as base64 PNGs in a small,
    self-contained HTML/JS widget (range inputs, value labels and an ``<img>`` whose source is
    swapped; no external scripts). When the product of the control sizes is at most
    ``max_frames`` every combination is precomputed; otherwise one control moves at a time while
    the others return to their defaults (a caption on the page says so), and long sliders are
    thinned evenly. ``static_values={"w": [...]}`` picks the static values of a slider by hand.

Both modes render a frame through the same function (:meth:`Panel.render_rgba`), so the static
frame for given values is pixel-identical to what the live panel shows for them. The PNGs carry no
timestamp or software metadata: a rebuild gives identical bytes.

Speed. The figure is built once. The artists that ``update`` changes (found by calling it once
with the default values) are redrawn over a cached picture of everything else, which is what makes
a slider move cost milliseconds instead of a full redraw. So: create every artist in ``setup``,
fix the axis limits there, and only *change* artists in ``update``. An ``update`` that also adds
artists or moves axis limits still draws correctly, just more slowly (a full redraw per move);
give such artists explicit colours, or matplotlib's colour cycle changes them on every call.
The figure is a plain :class:`matplotlib.figure.Figure` (not ``plt.figure``), so notebooks show
it once, inside the panel, and no pyplot figure is left open.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
import numbers
import os
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox
from PIL import Image as _PILImage

__all__ = ["Slider", "Choice", "Panel", "StaticExport", "widget_mode"]

MODES = ("live", "static")
ENV_VAR = "NNLIB_WIDGETS"

_panel_counter = itertools.count()


def widget_mode() -> str:
    """The default panel mode: the value of ``NNLIB_WIDGETS`` (``"live"`` or ``"static"``).

    Unset or empty means ``"live"``. ``make book`` sets ``NNLIB_WIDGETS=static``.
    """
    raw = os.environ.get(ENV_VAR, "").strip().lower()
    if raw == "":
        return "live"
    if raw not in MODES:
        raise ValueError(f"environment variable {ENV_VAR}={raw!r} is not a panel mode; "
                         f"use one of {MODES} (or leave it unset for 'live')")
    return raw


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _decimals(*xs: float) -> int:
    """The fewest decimals (at most 10) that write every number in ``xs`` exactly."""
    for d in range(11):
        if all(abs(round(x, d) - x) <= 1e-9 * max(1.0, abs(x)) for x in xs):
            return d
    return 10


def _check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{kind} name {name!r} must be a valid Python identifier such as 'w' or "
                         "'learning_rate': it becomes a keyword argument of your update function")
    return name


class Slider:
    """A numeric slider ``min, min + step, ..., max`` starting at ``value``.

    Parameters
    ----------
    name : str
        The keyword under which ``update`` receives the value (a Python identifier).
    min, max, step : numbers
        The range and its step; ``max - min`` must be a whole number of steps.
    value : number
        The starting (default) value; it must lie on the grid.
    description : str, optional
        The label shown next to the slider (defaults to ``name``).

    If ``min``, ``max``, ``step`` and ``value`` are all ``int``, the slider is an integer slider
    and ``update`` receives ``int`` values; otherwise it receives ``float`` values rounded to the
    decimals of the step (so ``0.1 * 3`` arrives as ``0.3``).
    """

    def __init__(self, name: str, min: float, max: float, step: float, value: float,
                 description: str | None = None):
        self.name = _check_name("Slider", name)
        for label, x in (("min", min), ("max", max), ("step", step), ("value", value)):
            if not _is_number(x) or not math.isfinite(x):
                raise TypeError(f"Slider {name!r}: {label} must be a finite number, got {x!r}")
        if not min < max:
            raise ValueError(f"Slider {name!r}: min ({min}) must be smaller than max ({max})")
        if not step > 0:
            raise ValueError(f"Slider {name!r}: step must be positive, got {step}")
        n_steps = (max - min) / step
        if abs(n_steps - round(n_steps)) > 1e-6:
            raise ValueError(f"Slider {name!r}: the range max - min = {max - min:g} is not a whole "
                             f"number of steps of {step:g}; choose a step that divides it")
        if not min <= value <= max:
            raise ValueError(f"Slider {name!r}: value {value} lies outside [{min}, {max}]")
        self.is_int = all(isinstance(x, numbers.Integral) for x in (min, max, step, value))
        self.min, self.max, self.step = min, max, step
        self.decimals = 0 if self.is_int else _decimals(min, max, step)
        self.description = name if description is None else str(description)
        self._n = int(round(n_steps)) + 1
        self.value = self.snap(value)

    def __repr__(self) -> str:
        return (f"Slider({self.name!r}, {self.min!r}, {self.max!r}, {self.step!r}, "
                f"value={self.value!r})")

    def __len__(self) -> int:
        return self._n

    def _at(self, i: int) -> float | int:
        if self.is_int:
            return int(self.min + i * self.step)
        return round(self.min + i * self.step, self.decimals) + 0.0  # + 0.0 turns -0.0 into 0.0

    @property
    def values(self) -> list:
        """Every value of the slider, in order (``len(slider)`` of them)."""
        return [self._at(i) for i in range(self._n)]

    def value_at(self, i: int) -> float | int:
        """The ``i``-th value of the slider (``i`` from 0 to ``len(slider) - 1``)."""
        return self._at(i)

    def index(self, value: float) -> int:
        """The grid index of ``value``; ValueError if it is outside the range or off the grid."""
        if not _is_number(value):
            raise TypeError(f"Slider {self.name!r}: expected a number, got {value!r}")
        pos = (value - self.min) / self.step
        i = int(round(pos))
        if not 0 <= i < self._n or abs(pos - i) > 1e-6:
            raise ValueError(f"Slider {self.name!r}: {value!r} is not one of its values "
                             f"{self.min:g}, {self._at(1):g}, ..., {self.max:g} "
                             f"(step {self.step:g})")
        return i

    def snap(self, value: float) -> float | int:
        """``value`` as the exact grid value (removes float noise such as 0.30000000000000004)."""
        return self._at(self.index(value))

    def format(self, value: float) -> str:
        """The label text for ``value`` (as many decimals as the step has)."""
        return f"{value:.{self.decimals}f}"


class Choice:
    """A categorical control (a dropdown), e.g. a dataset name or an activation function.

    Parameters
    ----------
    name : str
        The keyword under which ``update`` receives the chosen option.
    options : sequence
        The options, at least one, no duplicates. ``update`` receives the option itself; its
        label is ``str(option)``.
    value : optional
        The starting option (defaults to the first one).
    description : str, optional
        The label shown next to the dropdown (defaults to ``name``).
    """

    def __init__(self, name: str, options: Sequence, value: Any = None,
                 description: str | None = None):
        self.name = _check_name("Choice", name)
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
            raise TypeError(f"Choice {name!r}: options must be a list or tuple of options, "
                            f"got {options!r}")
        options = list(options)
        if not options:
            raise ValueError(f"Choice {name!r}: give at least one option")
        labels = [str(o) for o in options]
        if len(set(labels)) != len(labels):
            raise ValueError(f"Choice {name!r}: options must have distinct labels, got {labels}")
        self.options = options
        self.labels = labels
        self.description = name if description is None else str(description)
        self.value = options[0] if value is None else value
        self.index(self.value)

    def __repr__(self) -> str:
        return f"Choice({self.name!r}, {self.options!r}, value={self.value!r})"

    def __len__(self) -> int:
        return len(self.options)

    @property
    def values(self) -> list:
        """The options, in order."""
        return list(self.options)

    def value_at(self, i: int) -> Any:
        """The ``i``-th option."""
        return self.options[i]

    def index(self, value: Any) -> int:
        """The position of ``value`` among the options; ValueError if it is not one of them."""
        for i, o in enumerate(self.options):
            try:
                same = o is value or bool(o == value)
            except (TypeError, ValueError):
                same = False
            if same:
                return i
        raise ValueError(f"Choice {self.name!r}: {value!r} is not one of the options {self.labels}")

    def snap(self, value: Any) -> Any:
        return self.options[self.index(value)]

    def format(self, value: Any) -> str:
        return self.labels[self.index(value)]


Control = Slider | Choice


@dataclass
class StaticExport:
    """What the static mode embeds in the page (see :meth:`Panel.export`).

    Attributes
    ----------
    layout : str
        ``"grid"`` (every combination) or ``"one-at-a-time"`` (one control moves, the others sit
        at their defaults).
    values : dict
        For each control name, the list of values the static page offers.
    defaults : dict
        The starting value of each control.
    frames : list of bytes
        The distinct PNG frames (identical frames are stored once).
    index : dict
        Maps a tuple of values (in control order) to its position in ``frames``.
    html : str
        The self-contained HTML/JS widget.
    note : str
        The caption shown under the figure ("" when the static page offers every value).
    """

    layout: str
    values: dict
    defaults: dict
    frames: list
    index: dict
    html: str
    note: str

    def frame(self, **values) -> bytes:
        """The PNG bytes of the frame for the given values (defaults for the missing ones)."""
        unknown = set(values) - set(self.values)
        if unknown:
            raise ValueError(f"unknown control name(s) {sorted(unknown)}")
        key = tuple(values.get(k, self.defaults[k]) for k in self.values)
        if key not in self.index:
            raise ValueError(f"the static page has no frame for {dict(zip(self.values, key))}")
        return self.frames[self.index[key]]


class Panel:
    """An interactive figure: controls + ``setup``/``update`` drawing code (see the module doc).

    Parameters
    ----------
    setup : callable ``setup(fig) -> state``
        Builds the axes and artists on a fresh :class:`matplotlib.figure.Figure`.
    update : callable ``update(state, **values)``
        Updates the artists for the given control values.
    controls : list of Slider / Choice
        The controls, in display order; their names must be distinct.
    figsize : (width, height) in inches, default (6, 4)
    dpi : int, default 80
        Pixels per inch of the rendered frames (80 dpi and 6×4 inches give 480×320 pixels).
    mode : "live" or "static", optional
        Overrides ``NNLIB_WIDGETS``.
    static_values : dict, optional
        ``{"w": [-2, -1, 0, 1, 2]}``: the values of a slider on the static page (each on the
        slider's grid; the default value is always added).
    max_frames : int, default 81
        Frame budget of the static page (lowered automatically when large frames would not fit
        in ``max_bytes``). Every combination is precomputed if there are at most this many;
        otherwise one control moves at a time and long sliders are thinned evenly.
    max_bytes : int, default 2_000_000
        Size limit of the static HTML; a larger export raises ValueError with advice.
    continuous_update : bool, optional
        Live mode: redraw while the slider is dragged (True) or on release (False). By default it
        is True when a frame renders in under 100 ms.
    alt : str, optional
        Text alternative of the figure (defaults to the figure's axes titles).
    """

    def __init__(self, setup: Callable[[Figure], Any], update: Callable[..., Any],
                 controls: Sequence[Control], *, figsize: tuple[float, float] = (6, 4),
                 dpi: int = 80, mode: str | None = None, static_values: dict | None = None,
                 max_frames: int = 81, max_bytes: int = 2_000_000,
                 continuous_update: bool | None = None, alt: str | None = None):
        if not callable(setup) or not callable(update):
            raise TypeError("Panel(setup, update, controls): setup and update must be functions")
        if isinstance(controls, (Slider, Choice)):
            controls = [controls]
        controls = list(controls)
        if not controls:
            raise ValueError("Panel needs at least one Slider or Choice")
        for c in controls:
            if not isinstance(c, (Slider, Choice)):
                raise TypeError(f"controls must be Slider or Choice objects, got {c!r}")
        names = [c.name for c in controls]
        if len(set(names)) != len(names):
            raise ValueError(f"control names must be distinct, got {names}")
        if (not isinstance(figsize, (tuple, list)) or len(figsize) != 2
                or not all(_is_number(s) and s > 0 for s in figsize)):
            raise ValueError("figsize must be (width, height) in inches, both positive, "
                             f"got {figsize!r}")
        if not _is_number(dpi) or not 10 <= dpi <= 400:
            raise ValueError(f"dpi must be a number between 10 and 400, got {dpi!r}")
        if mode is None:
            mode = widget_mode()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not isinstance(max_frames, int) or max_frames < 1:
            raise ValueError(f"max_frames must be a positive int, got {max_frames!r}")
        if not isinstance(max_bytes, int) or max_bytes < 10_000:
            raise ValueError(f"max_bytes must be an int of at least 10_000, got {max_bytes!r}")
        self.setup, self.update = setup, update
        self.controls = controls
        self.figsize, self.dpi, self.mode = tuple(figsize), dpi, mode
        self.max_frames, self.max_bytes = max_frames, max_bytes
        self.continuous_update = continuous_update
        self.alt = alt
        self.static_values = self._check_static_values(static_values or {})
        self._fig: Figure | None = None
        self._state: Any = None
        self._redraw: _Redrawer | None = None
        self.values = {c.name: c.value for c in controls}

    # ----------------------------------------------------------------- rendering (both modes)
    def _check_static_values(self, static_values: dict) -> dict:
        if not isinstance(static_values, dict):
            raise TypeError("static_values must be a dict {name: [values]}, "
                            f"got {static_values!r}")
        by_name = {c.name: c for c in self.controls}
        out = {}
        for name, vals in static_values.items():
            if name not in by_name:
                raise ValueError(f"static_values names {name!r}, which is not a control of this "
                                 f"panel ({list(by_name)})")
            c = by_name[name]
            if isinstance(vals, (str, bytes)) or not isinstance(vals, (Sequence, np.ndarray)):
                raise TypeError(f"static_values[{name!r}] must be a list of values")
            idx = sorted({c.index(v) for v in vals} | {c.index(c.value)})
            out[name] = idx
        return out

    def _values_for(self, values: dict) -> dict:
        unknown = set(values) - {c.name for c in self.controls}
        if unknown:
            raise ValueError(f"unknown control name(s) {sorted(unknown)}; this panel has "
                             f"{[c.name for c in self.controls]}")
        return {c.name: c.snap(values.get(c.name, c.value)) for c in self.controls}

    @property
    def figure(self) -> Figure:
        """The panel's figure (created, set up and prepared for fast redraws on first use)."""
        if self._fig is None:
            fig = Figure(figsize=self.figsize, dpi=self.dpi)
            FigureCanvasAgg(fig)
            state = self.setup(fig)
            self._fig, self._state = fig, state
            self._redraw = _Redrawer(fig, lambda: self.update(
                state, **{c.name: c.value for c in self.controls}))
        return self._fig

    def render_rgba(self, **values) -> np.ndarray:
        """Draw the frame for ``values`` (defaults for missing names).

        Returns a new uint8 array of shape ``(height, width, 4)`` (RGBA). Live and static mode
        both render through this method, so equal values give equal pixels.
        """
        vals = self._values_for(values)
        fig = self.figure
        self.update(self._state, **vals)
        self._redraw()
        return np.array(fig.canvas.buffer_rgba())

    def render(self, **values) -> bytes:
        """The PNG bytes of the frame for ``values`` (fast compression, as in live mode)."""
        return _encode_png(self.render_rgba(**values), static=False)

    def close(self) -> None:
        """Drop the figure (it is rebuilt on the next render)."""
        self._fig, self._state, self._redraw = None, None, None

    # ----------------------------------------------------------------- live mode
    def widget(self):
        """Live mode: an ``ipywidgets.VBox`` of the controls above the rendered figure.

        The returned box has the attributes ``controls`` (name → ipywidget) and ``image``
        (the ``ipywidgets.Image`` whose ``value`` holds the PNG bytes of the current frame).
        """
        import ipywidgets as W

        first = self.render(**self.values)     # builds the figure on first use
        start = time.perf_counter()
        first = self.render(**self.values)     # a typical slider move, timed
        elapsed = time.perf_counter() - start
        continuous = (elapsed < 0.1 if self.continuous_update is None
                      else bool(self.continuous_update))
        style = {"description_width": "initial"}
        wctl = {}
        for c in self.controls:
            if isinstance(c, Slider):
                cls = W.IntSlider if c.is_int else W.FloatSlider
                kw = {} if c.is_int else {"readout_format": f".{c.decimals}f"}
                w = cls(min=c.min, max=c.max, step=c.step, value=self.values[c.name],
                        description=c.description, continuous_update=continuous, style=style,
                        layout=W.Layout(width="420px"), **kw)
            else:
                w = W.Dropdown(options=list(zip(c.labels, range(len(c)))),
                               value=c.index(self.values[c.name]), description=c.description,
                               style=style)
            wctl[c.name] = w
        image = W.Image(value=first, format="png")
        errors = W.Output()

        def on_change(_change=None):
            vals = {}
            for c in self.controls:
                v = wctl[c.name].value
                vals[c.name] = c.snap(v) if isinstance(c, Slider) else c.options[v]
            try:
                png = self.render(**vals)
            except Exception:  # show the student's error under the figure instead of losing it
                errors.outputs = ()
                errors.append_stderr(traceback.format_exc())
                return
            if errors.outputs:
                errors.outputs = ()
            self.values = vals
            image.value = png

        for w in wctl.values():
            w.observe(on_change, names="value")
        box = W.VBox([*wctl.values(), image, errors])
        box.controls, box.image = wctl, image
        return box

    # ----------------------------------------------------------------- static mode
    def _plan(self, budget: int) -> tuple[str, list[list[int]]]:
        """The layout and, per control, the grid indices the static page offers (<= budget)."""
        chosen = [self.static_values.get(c.name, list(range(len(c)))) for c in self.controls]
        if math.prod(len(ix) for ix in chosen) <= budget:
            return "grid", chosen

        def total(ixs):
            return 1 + sum(len(ix) - 1 for ix in ixs)

        stride = [1] * len(self.controls)
        while total(chosen) > budget:
            # thin the longest automatic slider a little more
            cand = [k for k, c in enumerate(self.controls) if isinstance(c, Slider)
                    and c.name not in self.static_values and len(chosen[k]) > 3]
            if not cand:
                raise ValueError(
                    f"the static page of this panel needs {total(chosen)} frames, more than its "
                    f"budget of {budget} (max_frames={self.max_frames}, "
                    f"max_bytes={self.max_bytes}); "
                    "pass fewer values with static_values={name: [...]}, or use a smaller "
                    "figsize/dpi")
            k = max(cand, key=lambda j: len(chosen[j]))
            stride[k] += 1
            c = self.controls[k]
            chosen[k] = _thin(len(c), c.index(c.value), stride[k])
        return "one-at-a-time", chosen

    def export(self) -> StaticExport:
        """Render the static frames and build the HTML widget (see :class:`StaticExport`).

        The frame budget is ``max_frames``, lowered when the default frame's size shows that so
        many frames would not fit in 80 % of ``max_bytes``.
        """
        default = tuple(c.index(c.value) for c in self.controls)
        frames: list[bytes] = []
        seen: dict[bytes, int] = {}
        index_by_idx: dict[tuple, int] = {}

        def add(combo):
            vals = {c.name: c.value_at(i) for c, i in zip(self.controls, combo)}
            png = _encode_png(self.render_rgba(**vals), static=True)
            if png not in seen:
                seen[png] = len(frames)
                frames.append(png)
            index_by_idx[combo] = seen[png]

        add(default)
        per_frame = 4 * len(frames[0]) / 3 + 64          # base64 plus JSON overhead
        budget = max(1, min(self.max_frames, int(0.8 * self.max_bytes / per_frame)))
        layout, chosen = self._plan(budget)
        if layout == "grid":
            combos = list(itertools.product(*chosen))
        else:
            combos = []
            for k, ix in enumerate(chosen):
                for i in ix:
                    combos.append(default[:k] + (i,) + default[k + 1:])
        for combo in combos:
            if combo not in index_by_idx:
                add(combo)
        alt = self.alt if self.alt is not None else self._default_alt()
        self.close()

        notes = []
        if layout == "one-at-a-time":
            notes.append("On this page one control moves at a time; the others return to their "
                         "starting values. Run the notebook to combine them freely.")
        for c, ix in zip(self.controls, chosen):
            if len(ix) < len(c):
                notes.append(f"{c.description} offers {len(ix)} of its {len(c)} values here.")
        note = " ".join(notes)
        html_text = self._html(layout, chosen, list(default), frames, index_by_idx, note, alt)
        if len(html_text.encode()) > self.max_bytes:
            raise ValueError(
                f"the static page of this panel is {len(html_text.encode()) / 1e6:.2f} MB "
                f"({len(frames)} frames), over max_bytes={self.max_bytes}; use fewer frames "
                "(static_values=..., max_frames=...) or a smaller figsize/dpi")
        values = {c.name: [c.value_at(i) for i in ix] for c, ix in zip(self.controls, chosen)}
        index = {tuple(c.value_at(i) for c, i in zip(self.controls, combo)): f
                 for combo, f in index_by_idx.items()}
        defaults = {c.name: c.value for c in self.controls}
        return StaticExport(layout, values, defaults, frames, index, html_text, note)

    def to_html(self) -> str:
        """The static mode's self-contained HTML/JS widget (renders every frame)."""
        return self.export().html

    def _html(self, layout, chosen, default, frames, index_by_idx, note, alt) -> str:
        digest = hashlib.sha1(b"".join(frames)).hexdigest()[:8]
        pid = f"nnlib-panel-{digest}-{next(_panel_counter)}"
        # position of each control's default within its offered values
        start = [ix.index(d) for ix, d in zip(chosen, default)]
        first = index_by_idx[tuple(default)]
        labels = [[c.format(c.value_at(i)) for i in ix] for c, ix in zip(self.controls, chosen)]
        keys = {",".join(str(ix.index(i)) for ix, i in zip(chosen, combo)): f
                for combo, f in index_by_idx.items()}
        data = {"frames": [base64.b64encode(f).decode("ascii") if j != first else ""
                           for j, f in enumerate(frames)],
                "keys": keys, "labels": labels, "start": start,
                "oneAtATime": layout == "one-at-a-time"}
        payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
        rows = []
        for k, c in enumerate(self.controls):
            cid = f"{pid}-c{k}"
            label = html.escape(c.description)
            if isinstance(c, Slider):
                ctl = (f'<input type="range" id="{cid}" min="0" max="{len(chosen[k]) - 1}" '
                       f'step="1" value="{start[k]}" style="width:260px;vertical-align:middle">'
                       f'<output id="{pid}-o{k}" for="{cid}" style="margin-left:.6em;'
                       f'font-variant-numeric:tabular-nums">'
                       f'{html.escape(labels[k][start[k]])}</output>')
            else:
                opts = "".join(f'<option value="{j}"{" selected" if j == start[k] else ""}>'
                               f"{html.escape(t)}</option>" for j, t in enumerate(labels[k]))
                ctl = f'<select id="{cid}">{opts}</select>'
            rows.append(f'<div style="margin:.15em 0"><label for="{cid}" '
                        f'style="display:inline-block;min-width:9em">{label}</label>{ctl}</div>')
        w, h = _PILImage.open(io.BytesIO(frames[first])).size
        alt = html.escape(alt, quote=True)
        src = "data:image/png;base64," + base64.b64encode(frames[first]).decode("ascii")
        caption = (f'<p style="font-size:.85em;opacity:.75;margin:.2em 0">{html.escape(note)}</p>'
                   if note else "")
        n = len(self.controls)
        return (
            f'<div class="nnlib-panel" id="{pid}" style="margin:.5em 0">'
            f'{"".join(rows)}'
            f'<img id="{pid}-img" src="{src}" width="{w}" height="{h}" alt="{alt}" '
            f'style="max-width:100%;height:auto;display:block">{caption}</div>\n'
            f"<script>(function () {{\n"
            f"var d = {payload};\n"
            f'var pid = "{pid}", n = {n};\n'
            f"{_JS}}})();</script>"
        )

    def _default_alt(self) -> str:
        fig = self.figure
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        names = ", ".join(c.description for c in self.controls)
        return (" / ".join(titles) + " — " if titles else "") + f"interactive figure ({names})"

    # ----------------------------------------------------------------- display
    def show(self) -> None:
        """Display the panel: ipywidgets in live mode, the precomputed HTML widget when static."""
        from IPython.display import HTML, display

        if self.mode == "static":
            display(HTML(self.to_html()))
        else:
            display(self.widget())

    def _ipython_display_(self) -> None:
        self.show()


# The static widget's script (runs once per panel; `d`, `pid` and `n` are defined before it).
_JS = """var root = document.getElementById(pid);
var img = document.getElementById(pid + "-img");
if (!root || !img) { return; }
var firstSrc = img.getAttribute("src");
var inputs = [], outs = [];
for (var k = 0; k < n; k++) {
  inputs.push(document.getElementById(pid + "-c" + k));
  outs.push(document.getElementById(pid + "-o" + k));
  if (!inputs[k]) { return; }
}
function show(changed) {
  var pos = [];
  for (var k = 0; k < n; k++) {
    if (d.oneAtATime && k !== changed) { inputs[k].value = String(d.start[k]); }
    var i = parseInt(inputs[k].value, 10);
    if (isNaN(i) || i < 0 || i >= d.labels[k].length) { i = d.start[k]; }
    pos.push(i);
    if (outs[k]) { outs[k].textContent = d.labels[k][i]; }
  }
  var f = d.keys[pos.join(",")];
  if (f === undefined) { return; }
  img.setAttribute("src", d.frames[f] ? "data:image/png;base64," + d.frames[f] : firstSrc);
}
inputs.forEach(function (el, k) {
  el.addEventListener("input", function () { show(k); });
  el.addEventListener("change", function () { show(k); });
});
"""


class _Redrawer:
    """Fast, history-independent redraws of a figure whose ``update`` changes a few artists.

    Drawing a whole figure costs tens of milliseconds, mostly tick labels and text layout that
    never change. So, once, right after ``setup``, the figure is drawn, ``update`` is called with
    the default values, and the artists it touched (lines, images, collections, texts of the
    axes, or the figure's suptitle and texts) become the *dynamic* artists. Each frame is then the cached *background* (the figure without
    the dynamic artists and whatever its axes draw above them) with those artists drawn on top, in
    their z-order. If ``update`` changes anything else (an axis limit, an axis label), matplotlib
    marks the figure stale and the background is redrawn first. Either way a frame is the same
    function of the figure's state, whatever was shown before it.

    Within one axes the drawing order is exactly matplotlib's, so a frame equals a full redraw.
    Across axes, one axes' redrawn artists are painted after the others' background; that differs
    from a full redraw only where axes touch (a spine's anti-aliased edge over a neighbour's tick
    label: a few pixels).
    """

    def __init__(self, fig: Figure, update_defaults: Callable[[], None]):
        from matplotlib.axes import Axes
        from matplotlib.axis import Axis
        from matplotlib.figure import SubFigure
        from matplotlib.spines import Spine

        self.fig = fig
        self._containers = (Axes, SubFigure)
        self._fixed = (Axis, Spine)
        fig.canvas.draw()
        for _, children in self._groups():
            for child in children:
                child.stale = False
        update_defaults()
        self.dynamic = [c for _, children in self._groups() for c in children
                        if c.stale and not isinstance(c, self._fixed)]
        self.redrawn: list = []
        self.background = None
        self.rebuilds = 0                       # how often the background had to be redrawn

    def _groups(self) -> list:
        """(parent, children in drawing order): each axes, then the figure's own artists
        (suptitle, figure texts and legends, which matplotlib draws after the axes)."""
        fig = self.fig
        groups = []
        for ax in sorted(fig.axes, key=lambda a: a.zorder):
            groups.append((ax, sorted((c for c in ax.get_children() if c is not ax.patch),
                                      key=lambda c: c.zorder)))
        own = [c for c in fig.get_children()
               if c is not fig.patch and not isinstance(c, self._containers)]
        groups.append((fig, sorted(own, key=lambda c: c.zorder)))
        return groups

    def _overlay(self) -> list:
        """The artists drawn over the background, in drawing order.

        In each axes (and among the figure's own artists): the dynamic artists, and every artist
        matplotlib draws after one of them (higher z-order) that overlaps the region the dynamic
        artist may paint (its clip box, or the whole figure if it is not clipped). A title above
        the axes, for instance, stays in the background; a legend inside them is redrawn.
        """
        dyn = {id(a) for a in self.dynamic}
        renderer = self.fig.canvas.get_renderer()
        out = []
        for _, children in self._groups():
            regions = []
            for c in children:
                if id(c) in dyn:
                    clipped = c.get_clip_on() and c.get_clip_box() is not None
                    regions.append(c.get_clip_box() if clipped else self.fig.bbox)
                    out.append(c)
                elif regions:
                    if isinstance(c, self._fixed[0]):
                        # an axis stays in the background unless it draws inside the axes
                        if _axis_draws_inside(c):
                            out.append(c)
                    elif _overlaps_any(c, renderer, regions):
                        out.append(c)
        return out

    def __call__(self) -> None:
        fig, canvas = self.fig, self.fig.canvas
        if self.background is None or fig.stale:
            overlay = self._overlay()
            keep = {id(a) for a in overlay}
            for a in self.redrawn:
                if id(a) not in keep:
                    a.set_animated(False)
            for a in overlay:
                a.set_animated(True)
            self.redrawn = overlay
            canvas.draw()                       # everything except the animated overlay
            self.rebuilds += 1
            self.background = canvas.copy_from_bbox(fig.bbox)
        else:
            canvas.restore_region(self.background)
        renderer = canvas.get_renderer()
        for a in self.redrawn:
            if a.get_figure() is not None:      # skip artists that update removed
                a.draw(renderer)
        # drawing the overlay may mark its parents stale; only update's changes should count
        fig.stale = False
        for ax in fig.axes:
            ax.stale = False


def _overlaps_any(artist, renderer, regions) -> bool:
    """Whether ``artist``'s window extent (2 px margin) may touch any of the display-space boxes."""
    try:
        ext = artist.get_window_extent(renderer)
    except Exception:  # an artist without a usable extent is treated as overlapping
        return True
    if not np.all(np.isfinite(ext.extents)):
        return True
    x0, y0, x1, y1 = ext.extents
    box = Bbox.from_extents(x0 - 2, y0 - 2, x1 + 2, y1 + 2)
    return any(box.overlaps(r) for r in regions)


def _axis_draws_inside(axis) -> bool:
    """True if a matplotlib Axis draws inside the axes area (visible grid lines or inward ticks)."""
    ticks = axis.get_major_ticks(1) + axis.get_minor_ticks(1)
    for tick in ticks:
        if tick.gridline.get_visible() or tick.get_tickdir() in ("in", "inout"):
            return True
    return False


def _thin(n: int, default: int, stride: int) -> list[int]:
    """Every ``stride``-th index of ``range(n)`` counted from ``default``, plus both ends."""
    ix = set(range(default % stride, n, stride)) | {0, n - 1, default}
    return sorted(ix)


def _encode_png(rgba: np.ndarray, *, static: bool) -> bytes:
    """PNG bytes of an RGBA frame, without metadata (identical input → identical bytes).

    Opaque frames are stored as RGB. ``static=False`` (live mode) compresses lightly, for speed;
    ``static=True`` compresses more, for a smaller page. Both are lossless: the pixels are equal.
    """
    height, width = rgba.shape[:2]
    im = _PILImage.frombuffer("RGBA", (width, height), np.ascontiguousarray(rgba),
                              "raw", "RGBA", 0, 1)
    if np.all(rgba[..., 3] == 255):
        im = im.convert("RGB")
    buf = io.BytesIO()
    im.save(buf, format="png", compress_level=6 if static else 1)
    return buf.getvalue()
