"""Figures of chapter 3 (XOR): the two-layer network panel and the polynomial boundary."""
import matplotlib.pyplot as plt
import numpy as np

from nnbook.figures.ch02 import FIRE, LIM, SILENT
from nnbook.plotting import CLASS_COLORS, decision_line
from nnbook.widgets import Panel

JITTER = np.array([[0, 0], [-0.05, 0.05], [0.05, -0.05], [0, 0]])


def _step(z):
    return (z > 0).astype(float)


def xor_panel(X, y, res=120):
    """The network y = f(v_OR h_OR + v_AND h_AND + c) with hidden neurons h = f(x1 + x2 + b) on
    the XOR points ``X, y``: the input plane (left) and the hidden space (right)."""
    g = np.linspace(*LIM, res)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(g, g)])

    def draw(fig, b_or=-0.5, b_and=-1.5, v_or=1.0, v_and=-1.0, c=-0.5):
        W1, b1, v = np.ones((2, 2)), np.array([b_or, b_and]), np.array([v_or, v_and])
        fire = _step(_step(grid @ W1 + b1) @ v + c).reshape(res, res, 1) > 0
        H = _step(X @ W1 + b1)                       # the points in hidden space
        bad = _step(H @ v + c) != y
        ax_in, ax_h = fig.subplots(1, 2)
        ax_in.imshow(np.where(fire, FIRE, SILENT), origin="lower", extent=LIM + LIM,
                     interpolation="nearest")
        ax_in.plot(*decision_line([1, 1], b_or, xlim=LIM, ylim=LIM), "--", color="#9467bd", lw=2,
                   label="$h_{OR}$ line")
        ax_in.plot(*decision_line([1, 1], b_and, xlim=LIM, ylim=LIM), "-.", color="#2ca02c",
                   lw=2, label="$h_{AND}$ line")
        # (0,1) and (1,0) often land on the same hidden point: shift them apart a little
        for ax, P in ((ax_in, X), (ax_h, H + JITTER)):
            for k in (0, 1):
                ax.scatter(*P[y == k].T, s=90, color=CLASS_COLORS[k], edgecolor="k",
                           label=f"XOR = {k}", zorder=3)
        ax_in.scatter(*X[bad].T, s=320, facecolor="none", edgecolor="#d62728", lw=2.2,
                      label="misclassified", zorder=4)
        (out_line,) = ax_h.plot(*decision_line(v, c, xlim=LIM, ylim=LIM), color="k", lw=2)
        ax_in.set(xlim=LIM, ylim=LIM, xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
                  title=f"Input space: {bad.sum()} of 4 misclassified")
        ax_h.set(xlim=LIM, ylim=LIM, xlabel="$h_{OR}$", ylabel="$h_{AND}$", aspect="equal",
                 title="Hidden space")
        handles, labels = ax_in.get_legend_handles_labels()
        fig.legend(handles + [out_line], labels + ["output line"], loc="lower center", ncol=4,
                   fontsize=8.5, frameon=False)
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.27, top=0.92, wspace=0.35)

    return Panel(draw, b_or=(-2.0, 1.0, 0.5), b_and=(-2.5, 0.5, 0.5), v_or=(-2.0, 2.0, 0.5),
                 v_and=(-2.0, 2.0, 0.5), c=(-1.5, 1.5, 0.25), figsize=(7.5, 4.4),
                 static={"b_or": [-2, 1], "b_and": [-2.5, 0.5], "v_or": [-2, 2], "v_and": [2],
                         "c": [1.5]},
                 labels={"b_or": "b of h_OR", "b_and": "b of h_AND", "v_or": "v_OR (output)",
                         "v_and": "v_AND (output)", "c": "c (output bias)"})


def polynomial_boundary(p, X, y, level=0.4):
    """The region ``p(x1, x2) > level`` and its boundary curve, with the XOR points ``X, y``."""
    G1, G2 = np.meshgrid(np.linspace(*LIM, 300), np.linspace(*LIM, 300))
    fig, ax = plt.subplots(figsize=(5, 4.4))
    ax.contourf(G1, G2, p(G1, G2) > level, levels=[-0.5, 0.5, 1.5], colors=[SILENT, FIRE])
    ax.contour(G1, G2, p(G1, G2), levels=[level], colors="k", linewidths=2)
    for k in (0, 1):
        ax.scatter(*X[y == k].T, s=110, color=CLASS_COLORS[k], edgecolor="k",
                   label=f"XOR = {k}", zorder=3)
    ax.plot([], [], "k", lw=2, label=f"$x_1 + x_2 - 2x_1x_2 = {level}$")
    ax.fill_between([], [], color=FIRE, label=f"output 1 ($p > {level}$)")
    ax.set(xlim=LIM, ylim=LIM, xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
           title="A polynomial boundary solves XOR")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize="small")
    fig.tight_layout()
