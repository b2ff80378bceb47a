"""Speed of the slider panels (nnbook.widgets): milliseconds per slider move, static export size.

Two typical panels:

* ``line``: chapter 1's neuron with one input, the line ``w·x + b`` (two sliders of 41 values),
  with a title, axis labels and a legend;
* ``boundary``: a decision-boundary panel, an ``imshow`` of a small network's output over a
  150×150 grid of inputs, the XOR samples on top, a colour bar and a legend (two sliders and an
  activation dropdown).

What is measured:

1. *In process*: one slider move = setting the ipywidget's value, which runs the panel's callback
   (``update`` + redraw + PNG encoding + setting the image widget). Compared with what the same
   move costs with a plain full ``canvas.draw()``.
2. *In a Jupyter kernel* (skipped with ``--no-kernel``): the same moves inside a real ipykernel,
   where every move also sends the PNG to the front end over the widget comm. For comparison, the
   alternative of re-displaying the PNG inside an ``ipywidgets.Output`` is timed too.
3. *Static export*: the time to render every frame and the size of the HTML widget.

Usage::

    .venv/bin/python benchmarks/bench_widgets.py [--moves 80] [--no-kernel]

Each timing is reported as median and 95th percentile over ``--moves`` moves (wall clock), plus the
median process CPU time, which is less disturbed by other programs running on the machine.
"""
import argparse
import json
import time

import numpy as np

# The two panels, as source text so that the kernel benchmark can define the very same ones.
PANELS = r'''
import numpy as np
from nnbook.widgets import Choice, Panel, Slider

X_LINE = np.linspace(-3, 3, 50)


def line_setup(fig):
    ax = fig.add_subplot()
    line, = ax.plot([], [], lw=2, label="w·x + b")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set(xlim=(-3, 3), ylim=(-8, 8), title="A neuron with one input",
           xlabel="input x", ylabel="weighted sum w·x + b")
    ax.legend(loc="upper left")
    return line


def line_update(line, w, b):
    line.set_data(X_LINE, w * X_LINE + b)


def line_panel(**kw):
    return Panel(line_setup, line_update,
                 [Slider("w", -2, 2, 0.1, value=1.0, description="weight w"),
                  Slider("b", -2, 2, 0.1, value=0.0, description="bias b")], **kw)


GRID = np.linspace(-0.5, 1.5, 150)
GX, GY = np.meshgrid(GRID, GRID)
INPUTS = np.column_stack([GX.ravel(), GY.ravel()])            # (22500, 2)
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0])
W1 = np.array([[1.0, -1.0], [1.0, -1.0]])                      # 2 inputs -> 2 hidden units
B1 = np.array([-0.5, 1.5])
W2 = np.array([1.0, 1.0])
ACTS = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0)}


def boundary_setup(fig):
    ax = fig.add_subplot()
    im = ax.imshow(np.zeros((150, 150)), extent=(-0.5, 1.5, -0.5, 1.5), origin="lower",
                   cmap="RdBu_r", vmin=0, vmax=1, alpha=0.8)
    for cls, marker in ((0, "o"), (1, "s")):
        pts = XOR_X[XOR_Y == cls]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, s=80, edgecolors="k",
                   color="white" if cls == 0 else "black", label=f"class {cls}")
    ax.set(xlabel="$x_1$", ylabel="$x_2$")
    title = ax.set_title("")
    ax.legend(loc="upper right")
    fig.colorbar(im, ax=ax, label="network output")
    return im, title


def boundary_update(state, scale, bias, act):
    im, title = state
    hidden = ACTS[act](scale * 6 * (INPUTS @ W1 + B1))
    out = 1 / (1 + np.exp(-6 * (hidden @ W2 - 1.5 + bias)))          # AND of the two units
    im.set_data(out.reshape(GX.shape))
    title.set_text(f"XOR network, {act} hidden units")


def boundary_panel(**kw):
    return Panel(boundary_setup, boundary_update,
                 [Slider("scale", 0, 2, 0.1, value=1.0, description="weight scale"),
                  Slider("bias", -1, 1, 0.1, value=0.0, description="output bias"),
                  Choice("act", ["sigmoid", "tanh", "relu"], "sigmoid", description="activation")],
                 figsize=(5.5, 4.2), **kw)
'''

# Runs in process or inside a kernel: times slider moves of a live panel; prints JSON.
MEASURE = r'''
import json, time
import numpy as np

def _moves(box, n):
    """n slider moves alternating between the panel's first two sliders."""
    names = list(box.controls)[:2]
    seq = []
    for i in range(n):
        w = box.controls[names[i % 2]]
        k = round((w.max - w.min) / w.step)
        seq.append((w, w.min + ((7 * i) % (k + 1)) * w.step))
    return seq

def _time_moves(box, n):
    wall, cpu = [], []
    for w, v in _moves(box, n):
        t0, c0 = time.perf_counter(), time.process_time()
        w.value = v
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu

def _time_full_draw(panel, box, n):
    """The same moves drawn the plain way: update, full canvas.draw(), PNG, set the image."""
    from nnbook.widgets import _encode_png
    fig = panel.figure
    wall = []
    vals = dict(panel.values)
    for w, v in _moves(box, n):
        name = next(k for k, c in box.controls.items() if c is w)
        vals[name] = next(c for c in panel.controls if c.name == name).snap(v)
        t0 = time.perf_counter()
        panel.update(panel._state, **vals)
        fig.canvas.draw()
        box.image.value = _encode_png(np.array(fig.canvas.buffer_rgba()), static=False)
        wall.append(time.perf_counter() - t0)
    return wall

def _time_output_widget(panel, box, n, display):
    """The alternative: re-display the PNG inside an ipywidgets.Output on every move."""
    import ipywidgets as W
    from IPython.display import Image, clear_output
    out = W.Output()
    sliders = {k: type(c)(min=c.min, max=c.max, step=c.step, value=c.value)
               for k, c in box.controls.items() if hasattr(c, "step")}
    display(W.VBox([*sliders.values(), out]))
    wall = []
    for w, v in _moves(box, n):
        name = next(k for k, c in box.controls.items() if c is w)
        t0 = time.perf_counter()
        sliders[name].value = v            # a slider move also syncs the slider's state
        png = panel.render(**{name: next(c for c in panel.controls if c.name == name).snap(v)})
        with out:
            clear_output(wait=True)
            display(Image(data=png, format="png"))
        wall.append(time.perf_counter() - t0)
    return wall

def measure(make_panel, n, display=None, with_output=False):
    panel = make_panel(mode="live")
    t0 = time.perf_counter()
    box = panel.widget()
    first = time.perf_counter() - t0
    if display is not None:
        display(box)
    wall, cpu = _time_moves(box, n)
    res = {"first_ms": first * 1e3, "wall": wall, "cpu": cpu,
           "full_draw": _time_full_draw(make_panel(mode="live"), box, n),
           "png_bytes": len(box.image.value)}
    if with_output:
        res["output_widget"] = _time_output_widget(panel, box, n, display)
    return res
'''


def stats(ms):
    ms = np.asarray(ms) * 1e3
    return float(np.median(ms)), float(np.percentile(ms, 95))


def run_in_kernel(moves):
    """Run MEASURE inside a fresh python3 kernel; return {panel: results}."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    chunks = []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            chunks.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            chunks.append("ERROR " + "\n".join(msg["content"]["traceback"]))

    code = (PANELS + MEASURE + "\nfrom IPython.display import display\n"
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=80, help="slider moves per measurement")
    parser.add_argument("--no-kernel", action="store_true", help="skip the Jupyter kernel run")
    args = parser.parse_args()
    if args.moves < 5:
        parser.error("--moves must be at least 5")

    env = {}
    exec(PANELS + MEASURE, env)
    makers = {"line": env["line_panel"], "boundary": env["boundary_panel"]}

    print("Slider panels (nnbook.widgets), 80 dpi frames; times in ms per slider move")
    print(f"{'panel':<9} {'where':<34} {'median':>7} {'p95':>7} {'cpu med':>8}")
    local = {name: env["measure"](make, args.moves) for name, make in makers.items()}
    for name, r in local.items():
        med, p95 = stats(r["wall"])
        cpu = stats(r["cpu"])[0]
        print(f"{name:<9} {'in process (callback)':<34} {med:7.1f} {p95:7.1f} {cpu:8.1f}")
        med, p95 = stats(r["full_draw"])
        print(f"{name:<9} {'in process, plain full draw':<34} {med:7.1f} {p95:7.1f} {'':>8}")
    if not args.no_kernel:
        kern = run_in_kernel(args.moves)
        for name, r in kern.items():
            med, p95 = stats(r["wall"])
            cpu = stats(r["cpu"])[0]
            print(f"{name:<9} {'kernel: Image widget (used)':<34} {med:7.1f} {p95:7.1f} {cpu:8.1f}")
            med, p95 = stats(r["output_widget"])
            print(f"{name:<9} {'kernel: Output widget (alternative)':<34} {med:7.1f} {p95:7.1f} {'':>8}")
    for name, r in local.items():
        print(f"{name:<9} first display {r['first_ms']:.0f} ms (figure built once), "
              f"PNG per move {r['png_bytes'] / 1e3:.1f} kB")

    print("\nStatic export (the built book)")
    print(f"{'panel':<9} {'layout':<14} {'frames':>6} {'distinct':>8} {'seconds':>8} {'HTML kB':>8}")
    for name, make in makers.items():
        t0 = time.perf_counter()
        e = make(mode="static").export()
        dt = time.perf_counter() - t0
        print(f"{name:<9} {e.layout:<14} {len(e.index):6d} {len(e.frames):8d} {dt:8.2f} "
              f"{len(e.html.encode()) / 1e3:8.0f}")


if __name__ == "__main__":
    main()
