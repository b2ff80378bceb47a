"""Figures of chapter 3 (XOR): the two-layer network panel, XOR learned from random starts, the
polynomial boundary, the volume near the surface of a cube and the pairwise distances of random
points."""
import matplotlib.pyplot as plt
import numpy as np

from nnbook.figures.ch02 import FIRE, LIM, SILENT
from nnbook.plotting import CLASS_COLORS, decision_line
from nnbook.widgets import Panel

JITTER = np.array([[0, 0], [-0.05, 0.05], [0.05, -0.05], [0, 0]])


def _step(z):
    return (z > 0).astype(float)


def xor_panel(X, y, res=120, b_or=-0.5, v_or=1.0):
    """The network y = f(v_OR h_OR + v_AND h_AND + c) with hidden neurons h = f(x1 + x2 + b) on
    the XOR points ``X, y``: the input plane (left) and the hidden space (right). Sliders (7 values
    each): the AND neuron's bias, its output weight v_AND and the output bias c; the OR neuron
    keeps ``b_or`` and ``v_or``."""
    g = np.linspace(*LIM, res)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(g, g)])
    W1 = np.ones((2, 2))
    or_line = decision_line([1, 1], b_or, xlim=LIM, ylim=LIM)

    def draw(fig, b_and=-1.5, v_and=-1.0, c=-0.5):
        b1, v = np.array([b_or, b_and]), np.array([v_or, v_and])
        fire = _step(_step(grid @ W1 + b1) @ v + c).reshape(res, res, 1) > 0
        H = _step(X @ W1 + b1)                       # the points in hidden space
        bad = _step(H @ v + c) != y
        ax_in, ax_h = fig.subplots(1, 2)
        ax_in.imshow(np.where(fire, FIRE, SILENT), origin="lower", extent=LIM + LIM,
                     interpolation="nearest")
        ax_in.plot(*or_line, "--", color="#9467bd", lw=2, label=f"$h_{{OR}}$ line (b = {b_or:g})")
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
        for ax, (xl, yl) in ((ax_in, ("$x_1$", "$x_2$")), (ax_h, ("$h_{OR}$", "$h_{AND}$"))):
            ax.set(xlim=LIM, ylim=LIM, xlabel=xl, ylabel=yl, aspect="equal", xticks=[0, 1],
                   yticks=[0, 1])
        ax_in.set_title(f"Input space: {bad.sum()} of 4 misclassified", y=1.0)
        ax_h.set_title(f"Hidden space: output line (v_OR = {v_or:g})", y=1.0)
        handles, labels = ax_in.get_legend_handles_labels()
        fig.legend(handles + [out_line], labels + ["output line"], loc="lower center", ncol=3,
                   fontsize=8.5, frameon=False)
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.27, top=0.92, wspace=0.35)

    return Panel(draw, b_and=(-2.5, 0.5, 0.5), v_and=(-1.5, 1.5, 0.5), c=(-1.5, 1.5, 0.5),
                 figsize=(7.5, 4.4), alt="XOR network: input space and hidden space",
                 labels={"b_and": "b of h_AND", "v_and": "v_AND (output)", "c": "c (output bias)"})


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
    ax.fill_between([], [], color=SILENT, label=f"output 0 ($p \\leq {level}$)")
    ax.set(xlim=LIM, ylim=LIM, xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
           title="A polynomial boundary solves XOR")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=9)
    fig.tight_layout()


def xor_runs(histories, solved, title=None):
    """Training-loss curves of XOR runs from different random starts: ``histories[seed]`` is the
    :class:`nnlib.History` of one run, ``solved[seed]`` whether it got all four points right.
    Runs that learned XOR are thin solid lines, stuck runs thick dashed ones."""
    fig, ax = plt.subplots(figsize=(7.5, 4))
    styles = {True: dict(color=CLASS_COLORS[0], lw=1.2, ls="-", alpha=0.75),
              False: dict(color=CLASS_COLORS[1], lw=2.6, ls="--")}
    for ok in (True, False):
        seeds = [s for s in histories if solved[s] == ok]
        for i, s in enumerate(seeds):
            loss = histories[s].train_loss
            ax.semilogy(range(1, len(loss) + 1), loss, **styles[ok],
                        label=(f"{'learned XOR' if ok else 'stuck'} ({len(seeds)} runs)"
                               if i == 0 else None))
    ax.set(xlabel="epoch", ylabel="training loss (squared error, log scale)",
           title=title or f"XOR from {len(histories)} random starts")
    ax.legend(loc="lower left", fontsize=9)
    fig.tight_layout()
    return fig


def distance_histograms(dist):
    """Small multiples: for each dimension ``d``, the histogram of the pairwise distances
    ``dist[d]`` divided by their mean, each panel with its own height scale."""
    dims = list(dist)
    fig, axes = plt.subplots(1, len(dims), figsize=(10, 3.2), sharex=True)
    bins = np.linspace(0, 2.5, 101)
    for ax, d in zip(axes, dims):
        r = dist[d] / dist[d].mean()
        ax.hist(r, bins=bins, color=CLASS_COLORS[0], alpha=0.85)
        ax.axvline(1, color="k", lw=1, ls=":")
        ax.set(title=f"d = {d}", xlabel="distance / mean distance")
        ax.tick_params(labelsize=9)
    axes[0].set_ylabel("number of pairs")
    fig.suptitle("Pairwise distances of 200 random points in $[0,1]^d$ concentrate at the mean",
                 fontsize=11)
    fig.tight_layout()
    return fig


def hidden_spaces(nets, seeds, X, y, solved):
    """The four XOR points in the hidden space of trained 2-2-1 networks ``nets[seed]``, one panel
    per seed, with the output neuron's line (output 0.5); points that (almost) coincide share a
    label. Class 0 is a hollow circle and class 1 a filled square, so coinciding points of
    different classes both stay visible."""
    lim = (-0.15, 1.15)
    fig, axes = plt.subplots(1, len(seeds), figsize=(3.8 * len(seeds), 4.3))
    for ax, seed in zip(np.atleast_1d(axes), seeds):
        H = nets[seed].hidden_outputs(X)[0]
        out = [layer for layer in nets[seed].layers if hasattr(layer, "W")][-1]
        ax.scatter(*H[y == 0].T, s=260, facecolor="none", edgecolor=CLASS_COLORS[0], lw=2.5,
                   label="XOR = 0", zorder=3)
        ax.scatter(*H[y == 1].T, s=90, marker="s", color=CLASS_COLORS[1], edgecolor="k",
                   label="XOR = 1", zorder=4)
        done = set()
        for i, h in enumerate(H):
            if i in done:
                continue
            group = [j for j in range(len(H)) if np.linalg.norm(H[j] - h) < 0.05]
            done.update(group)
            text = " and ".join(f"({int(X[j, 0])}, {int(X[j, 1])})" for j in group)
            right = h[0] > 0.6
            ax.annotate(text, h, xytext=(-12 if right else 12, -18), textcoords="offset points",
                        ha="right" if right else "left", fontsize=9)
        ax.plot(*decision_line(out.W[:, 0], out.b[0], xlim=lim, ylim=lim), color="k", lw=1.5,
                ls="--", label="output neuron's line (output 0.5)")
        ax.set(xlim=lim, ylim=lim, xlabel="$h_1$", ylabel="$h_2$",
               title=f"seed {seed}: {'learned XOR' if solved[seed] else 'stuck'}")
        ax.set_box_aspect(1)
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle("The four XOR points in the hidden space of trained networks", fontsize=11)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.2, top=0.86, wspace=0.3)
    return fig


def shell_volume(dims, thicknesses=(0.01, 0.05, 0.1), marked=()):
    """The share of the unit cube [0, 1]^d that lies within ``t`` of its surface, 1 - (1 - 2t)^d,
    against the dimension d (``dims``, a log axis), one curve per shell thickness ``t``; the
    dimensions in ``marked`` get a dot on the curve of t = 0.05. Returns the figure."""
    dims = np.asarray(dims, dtype=float)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    styles = [(CLASS_COLORS[0], "-"), (CLASS_COLORS[1], "--"), (CLASS_COLORS[4], ":")]
    for t, (color, ls) in zip(thicknesses, styles):
        ax.semilogx(dims, 1 - (1 - 2 * t) ** dims, color=color, ls=ls, lw=2,
                    label=f"within {t:g} of the surface")
    if marked:
        d = np.asarray(marked, dtype=float)
        ax.semilogx(d, 1 - 0.9 ** d, "o", color=CLASS_COLORS[1], mec="k", ms=6, ls="",
                    label="the dimensions of the table")
    ax.set(xlabel="dimension d (log scale)", ylabel="share of the cube's volume", ylim=(0, 1.03),
           xlim=(dims.min(), dims.max()),
           title="Almost all of a high-dimensional cube lies close to its surface")
    ax.legend(loc="lower right", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
