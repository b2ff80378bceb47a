"""Speed of the slider panels (nnbook.widgets): milliseconds per slider move, static export time.

Two typical panels, each a plain ``draw(fig, **values)`` function:

* ``line``: chapter 1's neuron with one input, the line ``w·x + b`` (two sliders of 41 values),
  with a title, axis labels and a legend;
* ``boundary``: a decision-region panel, an ``imshow`` of a small network's output over a 150×150
  grid of inputs, the XOR samples on top, a colour bar and a legend (two sliders, a dropdown).

What is measured (wall clock, median and 95th percentile over ``--moves`` moves):

1. *In process*: one slider move = setting the ipywidget's value, which runs the panel's callback
   (``draw`` on a new figure, a full Agg draw, PNG encoding, setting the ``ipywidgets.Image``).
2. *In a Jupyter kernel* (skipped with ``--no-kernel``): the same moves inside a real ipykernel,
   where the PNG also travels to the front end over the widget comm; for comparison, the same
   draw function behind ``ipywidgets.interactive_output`` (an Output widget showing the figure).
3. *Static export*: the time to render every frame (every combination offered on the web page,
   written as PNG files into a temporary folder) of the two panels and of the panels of
   chapters 1-4 (built from ``nnbook.figures`` with the chapters' data).

Usage::

    .venv/bin/python benchmarks/bench_widgets.py [--moves 40] [--no-kernel] [--no-chapters]

For comparison, the engine before the redraw API (``setup``/``update``, blitting) measured on the
same machine, quiet: 4 ms (line) and 13 ms (boundary) per move in process, 17 ms and 32 ms for a
plain full redraw of the already built figure; a static export of 0.45 s and 0.57 s.
"""
import argparse
import json
import tempfile
import time

import numpy as np

# The two panels, as source text so that the kernel benchmark defines the very same ones.
PANELS = r'''
import numpy as np
from nnbook.widgets import Panel

X_LINE = np.linspace(-3, 3, 50)


def draw_line(fig, w=1.0, b=0.0):
    ax = fig.add_subplot()
    ax.plot(X_LINE, w * X_LINE + b, lw=2, label="w·x + b")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set(xlim=(-3, 3), ylim=(-8, 8), title="A neuron with one input",
           xlabel="input x", ylabel="weighted sum w·x + b")
    ax.legend(loc="upper left")


def line_panel(**kw):
    return Panel(draw_line, w=(-2, 2, 0.1), b=(-2, 2, 0.1),
                 labels={"w": "weight w", "b": "bias b"}, **kw)


GRID = np.linspace(-0.5, 1.5, 150)
GX, GY = np.meshgrid(GRID, GRID)
INPUTS = np.column_stack([GX.ravel(), GY.ravel()])            # (22500, 2)
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0])
W1, B1, W2 = np.array([[1.0, -1.0], [1.0, -1.0]]), np.array([-0.5, 1.5]), np.array([1.0, 1.0])
ACTS = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0)}


def draw_boundary(fig, scale=1.0, bias=0.0, act="sigmoid"):
    hidden = ACTS[act](scale * 6 * (INPUTS @ W1 + B1))
    out = 1 / (1 + np.exp(-6 * (hidden @ W2 - 1.5 + bias)))          # AND of the two units
    ax = fig.add_subplot()
    im = ax.imshow(out.reshape(GX.shape), extent=(-0.5, 1.5, -0.5, 1.5), origin="lower",
                   cmap="RdBu_r", vmin=0, vmax=1, alpha=0.8)
    for cls, marker in ((0, "o"), (1, "s")):
        pts = XOR_X[XOR_Y == cls]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, s=80, edgecolors="k",
                   color="white" if cls == 0 else "black", label=f"class {cls}")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=f"XOR network, {act} hidden units")
    ax.legend(loc="upper right")
    fig.colorbar(im, ax=ax, label="network output")


def boundary_panel(**kw):
    return Panel(draw_boundary, scale=(0, 2, 0.1), bias=(-1, 1, 0.1),
                 act=["sigmoid", "tanh", "relu"], figsize=(5.5, 4.2),
                 labels={"scale": "weight scale", "bias": "output bias", "act": "activation"}, **kw)
'''

# Runs in process or inside a kernel: times slider moves of a live panel; prints JSON.
MEASURE = r'''
import json, time

def _moves(box, n):
    """n slider moves alternating between the panel's first two sliders."""
    names = list(box.controls)[:2]
    seq = []
    for i in range(n):
        w = box.controls[names[i % 2]]
        k = round((w.max - w.min) / w.step)
        seq.append((names[i % 2], w, w.min + ((7 * i) % (k + 1)) * w.step))
    return seq

def _time_interactive_output(panel, box, n, display):
    """The alternative: the same draw function behind ipywidgets.interactive_output."""
    import ipywidgets as W
    import matplotlib.pyplot as plt
    sliders = {k: type(c)(min=c.min, max=c.max, step=c.step, value=c.value)
               for k, c in box.controls.items() if hasattr(c, "step")}
    fixed = {c.name: panel.values[c.name] for c in panel.controls if c.name not in sliders}

    def show(**values):
        fig = plt.figure(figsize=panel.figsize, dpi=panel.dpi)
        panel.draw(fig, **values, **fixed)
        plt.show()

    out = W.interactive_output(show, sliders)
    display(W.VBox([*sliders.values(), out]))
    wall = []
    for name, _, v in _moves(box, n):
        t0 = time.perf_counter()
        sliders[name].value = v
        wall.append(time.perf_counter() - t0)
    return wall

def measure(make_panel, n, display=None, with_output=False):
    panel = make_panel(mode="live")
    t0 = time.perf_counter()
    box = panel.widget()
    first = time.perf_counter() - t0
    if display is not None:
        display(box)
    wall = []
    for _, w, v in _moves(box, n):
        t0 = time.perf_counter()
        w.value = v
        wall.append(time.perf_counter() - t0)
    res = {"first_ms": first * 1e3, "wall": wall, "png_bytes": len(box.image.value),
           "continuous": box.controls[next(iter(box.controls))].continuous_update}
    if with_output:
        res["interactive_output"] = _time_interactive_output(panel, box, n, display)
    return res
'''


def stats(seconds):
    ms = np.asarray(seconds) * 1e3
    return float(np.median(ms)), float(np.percentile(ms, 95))


def run_in_kernel(moves):
    """Run MEASURE inside a fresh python3 kernel (inline backend); return {panel: results}."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    chunks = []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            chunks.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            chunks.append("ERROR " + "\n".join(msg["content"]["traceback"]))

    code = ("%matplotlib inline\n" + PANELS + MEASURE + "\nfrom IPython.display import display\n"
            "print('@@' + json.dumps({'line': measure(line_panel, %d, display, True), "
            "'boundary': measure(boundary_panel, %d, display, True)}))" % (moves, moves))
    try:
        kc.execute_interactive(code, timeout=600, output_hook=hook)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    text = "".join(chunks)
    if "@@" not in text:
        raise RuntimeError("the kernel benchmark failed:\n" + text)
    return json.loads(text.split("@@", 1)[1])


def chapter_panels():
    """The slider panels of chapters 1-4, built as the chapters build them."""
    from nnbook.datasets import logic_gate, sports_events
    from nnbook.figures import ch01, ch02, ch03, ch04
    from nnlib import MLP, fit

    distances = np.tile([1.2, 1.8, 0.9, 1.5, 1.1, 1.6], 5)
    X_events = sports_events()[0]
    X, y_and = logic_gate("AND")
    y_or, y_xor = logic_gate("OR")[1], logic_gate("XOR")[1]
    x = np.linspace(-3, 3, 100)[:, None]
    y = np.sin(2 * x) + 0.4 * x * np.cos(x)
    fits = {}
    for h in [1, 2, 4, 8, 16, 32]:
        net = MLP([1, h, 1], activation="tanh", init="he", seed=0)
        net.layers[0].b[:] = -net.layers[0].W[0] * np.linspace(-2.5, 2.5, h)
        fit(net, x, y, epochs=300, batch_size=20, lr=0.1, loss="mse", seed=0)
        W1, b1 = net.layers[0].W[0], net.layers[0].b
        fits[h] = {"pred": net.forward(x)[:, 0], "parts": net.layers[2].W[:, 0] * np.tanh(x * W1 + b1),
                   "bias": float(net.layers[2].b[0]),
                   "max_error": float(np.max(np.abs(net.forward(x) - y)))}
    return {
        "ch01 learning rate": ch01.learning_rate_panel(distances, 0.621371 * distances, 0.2, 0.621371),
        "ch01 sports": ch01.sports_panel(X_events, list("ABCDEF")),
        "ch02 perceptron line": ch02.line_panel(X, {"AND": y_and, "OR": y_or}),
        "ch03 XOR network": ch03.xor_panel(X, y_xor),
        "ch04 approximation": ch04.approximation_panel(x[:, 0], y[:, 0], fits),
    }


def export_row(name, panel):
    t0 = time.perf_counter()
    e = panel.export()
    dt = time.perf_counter() - t0
    kb = sum(len(f) for f in e.frames) / 1e3
    print(f"{name:<21} {len(e.index):6d} {len(e.frames):8d} {dt:8.2f} "
          f"{1e3 * dt / len(e.index):9.0f} {len(e.html.encode()) / 1e3:8.0f} {kb:9.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40, help="slider moves per measurement")
    parser.add_argument("--no-kernel", action="store_true", help="skip the Jupyter kernel run")
    parser.add_argument("--no-chapters", action="store_true", help="skip chapters 1-4's panels")
    parser.add_argument("--processes", type=int, default=None,
                        help="processes rendering a large static grid (default: nnbook's, 2 on 2 CPUs)")
    args = parser.parse_args()
    if args.moves < 5:
        parser.error("--moves must be at least 5")

    env = {}
    from nnbook import widgets
    exec(PANELS + MEASURE, env)
    makers = {"line": env["line_panel"], "boundary": env["boundary_panel"]}

    print("Slider panels (nnbook.widgets), 80 dpi frames; times in ms per slider move")
    print(f"{'panel':<9} {'where':<38} {'median':>7} {'p95':>7}")
    local = {name: env["measure"](make, args.moves) for name, make in makers.items()}
    for name, r in local.items():
        print(f"{name:<9} {'in process (callback: draw + PNG)':<38} "
              + "{:7.1f} {:7.1f}".format(*stats(r["wall"])))
    if not args.no_kernel:
        for name, r in run_in_kernel(args.moves).items():
            print(f"{name:<9} {'kernel: Image widget (used)':<38} "
                  + "{:7.1f} {:7.1f}".format(*stats(r["wall"])))
            print(f"{name:<9} {'kernel: interactive_output (alternative)':<38} "
                  + "{:7.1f} {:7.1f}".format(*stats(r["interactive_output"])))
    for name, r in local.items():
        print(f"{name:<9} first display {r['first_ms']:.0f} ms, PNG per move "
              f"{r['png_bytes'] / 1e3:.1f} kB, continuous_update={r['continuous']}")

    print("\nStatic export (the built book)")
    widgets.FRAMES_DIR = tempfile.mkdtemp(prefix="bench-frames-")   # not the book's frames
    widgets.PROCESSES = args.processes or widgets.PROCESSES
    print(f"(grids of {widgets.POOL_MIN} frames or more rendered by {widgets.PROCESSES} processes)")
    print(f"{'panel':<21} {'frames':>6} {'distinct':>8} {'seconds':>8} "
          f"{'ms/frame':>9} {'HTML kB':>8} {'files kB':>9}")
    seven = {"line": {"w": [-2, -1, -0.5, 0, 0.5, 2], "b": [-2, -1, -0.5, 0.5, 1, 2]},
             "boundary": {"scale": [0, 0.5, 0.8, 1.5, 1.8, 2], "bias": [-1, -0.5, -0.2, 0.2, 0.5, 1]}}
    for name, make in makers.items():         # 7 values per slider: every combination
        export_row(name, make(mode="static", static=seven[name]))
    if not args.no_chapters:
        for name, panel in chapter_panels().items():
            panel.mode = "static"
            export_row(name, panel)


if __name__ == "__main__":
    main()
