"""Figures of chapter 7 (backpropagation): computational graphs with the gradient on every arrow,
and the forward and backward flow through a small multi-layer perceptron.

Forward values are blue and gradients a dark orange (a colour-blind safe pair, unlike green and
red); every number also says in words which of the two it is.
"""
from __future__ import annotations

import copy

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from nnlib import Dense, SoftmaxCrossEntropy, softmax
from nnbook.plotting import CLASS_COLORS, draw_graph, graph_layout

#: forward values (the palette's blue) and gradients (its orange, darkened so that text is legible)
FORWARD_COLOR, BACKWARD_COLOR = CLASS_COLORS[0], "#b85000"


def _num(v):
    return f"{float(v) + 0.0:.3g}".replace("-", "−")     # + 0.0 turns -0.0 into 0.0


def graph(root, *, ax=None, title="Computational graph", edge_grads=True, dx=2.4, dy=1.45):
    """:func:`nnbook.plotting.draw_graph` in this chapter's colours, and, with ``edge_grads``, the
    gradient each gate sends back along each arrow (``← 3``: upstream gradient times the local
    gradient), so that add distributing, mul switching and max routing show on the arrows. The
    local gradients are the ones :class:`nnlib.Value` recorded in the forward pass (its
    ``_local``, d(node)/d(parent) for each parent); the arrows' geometry repeats draw_graph's.

    ``root`` is the output :class:`nnlib.Value` after ``backward()``. Returns ``draw_graph``'s dict
    plus ``"edge_texts"``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5))
    drawn = draw_graph(root, ax=ax, title=title, dx=dx, dy=dy)
    for t in drawn["value_texts"]:
        t.set_color(FORWARD_COLOR)
    for t in drawn["grad_texts"]:
        t.set_color(BACKWARD_COLOR)
        t.set_fontweight("bold")
    edge_texts = []
    if edge_grads:
        order, grid = graph_layout(root)
        width, height = 1.6, 0.95                   # draw_graph's box size
        centre = {id(n): (c * dx, r * dy) for n, (c, r) in zip(order, grid)}
        column = {id(n): c for n, (c, _) in zip(order, grid)}
        for node in order:
            cx, cy = centre[id(node)]
            n_in, seen = len(node.parents), {}
            for k, (parent, local) in enumerate(zip(node.parents, node._local)):
                px, py = centre[id(parent)]
                repeat = seen.get(id(parent), 0)
                seen[id(parent)] = repeat + 1
                # the arrow's end points, as draw_graph draws them
                start = np.array([px + width / 2, py])
                end = np.array([cx - width / 2, cy + 0.25 * ((n_in - 1) / 2 - k)])
                rad = 0.0
                if node.parents.count(parent) > 1:
                    shift = 0.2 if repeat % 2 == 0 else -0.2
                    start, end = np.array([start[0], py + shift]), np.array([end[0], cy + shift])
                elif column[id(node)] - column[id(parent)] > 1:
                    start = np.array([px + width / 2 - 0.25, py - height / 2])
                    end = np.array([cx - width / 2 + 0.25, cy - height / 2])
                    rad = 0.3
                d = end - start
                mid = (start + end) / 2 + 0.5 * rad * np.array([d[1], -d[0]])   # arc3 midpoint
                edge_texts.append(ax.text(
                    *mid, f"← {_num(local * node.grad)}", ha="center", va="center", fontsize=9,
                    color=BACKWARD_COLOR, fontweight="bold", zorder=4,
                    bbox=dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="none")))
    handles = [Line2D([], [], color=FORWARD_COLOR, marker="s", ls="", label="forward value"),
               Line2D([], [], color=BACKWARD_COLOR, marker="s", ls="",
                      label="gradient d(output)/d(node)")]
    if edge_grads:
        handles.append(Line2D([], [], color=BACKWARD_COLOR, marker=r"$\leftarrow$", ms=11, ls="",
                              label="gradient sent back along the arrow"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles),
              fontsize="small", frameon=False, handletextpad=0.3, columnspacing=1.2)
    return {**drawn, "edge_texts": edge_texts}


def _flow(model, x, label):
    """Forward values and backward gradients of ``model`` for one sample (a copy: the model's own
    gradients stay as they were)."""
    model = copy.deepcopy(model)
    loss_fn = SoftmaxCrossEntropy()
    outs = model.layer_outputs(x)
    loss = loss_fn.forward(outs[-1], np.array([label]))
    grads, grad = [], loss_fn.backward()
    for layer in reversed(model.layers):     # what Sequential.backward does, keeping each gradient
        grads.append(grad)
        grad = layer.backward(grad, need_input_grad=True)
    grads.append(grad)
    grads = grads[::-1]                       # grads[i]: dL/d(input of layer i); last: dL/d(logits)
    return model, [x] + outs, grads, loss


def backward_flow(model, x, label, *, title="Forward values and backward gradients, one sample"):
    """A Dense → activation → Dense network drawn with, for the single sample ``x`` (shape
    ``(1, n_in)``) of class ``label``: above each neuron its forward values (blue), below it the
    gradients of the loss (orange), and the loss node on the right. Units whose ReLU is off
    (z ≤ 0) are drawn dashed and grey: they pass no gradient back. Returns the figure.
    """
    model, values, grads, loss = _flow(model, np.atleast_2d(np.asarray(x, dtype=float)), label)
    if not (len(model.layers) == 3 and isinstance(model.layers[0], Dense)
            and isinstance(model.layers[2], Dense)):
        raise ValueError("backward_flow draws a Dense → activation → Dense network")
    act = type(model.layers[1]).__name__
    x0, z1, h, z2 = (v[0] for v in values)
    gx, gz1, gh, gz2 = (g[0] for g in grads)
    p = softmax(values[-1])[0]
    sizes = [len(x0), len(z1), len(z2)]
    cols, spacing = [0.0, 4.2, 8.4], 2.3
    ys = [(n - 1) / 2 * spacing - np.arange(n) * spacing for n in sizes]
    fig, ax = plt.subplots(figsize=(11, 8))
    r = 0.3
    for a in range(2):                                   # connections, below the neurons
        for ya in ys[a]:
            for yb in ys[a + 1]:
                ax.plot([cols[a] + r, cols[a + 1] - r], [ya, yb], color="0.82", lw=0.8, zorder=1)
    loss_xy = (12.2, 0.0)
    for yb in ys[2]:
        ax.plot([cols[2] + r, loss_xy[0] - 0.45], [yb, loss_xy[1]], color="0.82", lw=0.8, zorder=1)

    def neuron(cx, cy, above, below, active=True, target=False):
        ax.add_patch(plt.Circle((cx, cy), r, facecolor="white" if active else "0.88",
                                edgecolor="0.15" if active else "0.55", lw=2.2 if target else 1.3,
                                ls="-" if active else "--", zorder=2))
        ax.text(cx, cy + r + 0.06, above, ha="center", va="bottom", fontsize=9,
                color=FORWARD_COLOR, zorder=3, linespacing=1.15)
        ax.text(cx, cy - r - 0.06, below, ha="center", va="top", fontsize=9,
                color=BACKWARD_COLOR, fontweight="bold", zorder=3, linespacing=1.15)

    for i, cy in enumerate(ys[0]):
        neuron(cols[0], cy, f"x{i + 1} = {_num(x0[i])}", f"∂L/∂x{i + 1} = {_num(gx[i])}")
    for j, cy in enumerate(ys[1]):
        on = act != "ReLU" or z1[j] > 0
        neuron(cols[1], cy, f"z = {_num(z1[j])}\nh = {_num(h[j])}",
               f"∂L/∂h = {_num(gh[j])}\nδ = ∂L/∂z = {_num(gz1[j])}", active=on)
    for k, cy in enumerate(ys[2]):
        is_target = k == label
        neuron(cols[2], cy, f"z = {_num(z2[k])}\np = {_num(p[k])}",
               f"δ = p − y = {_num(gz2[k])}", target=is_target)
        if is_target:
            ax.text(cols[2] + r + 0.15, cy, "target class\n(y = 1)", ha="left",
                    va="center", fontsize=8, color="0.25", zorder=3,
                    bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none"))
    ax.add_patch(plt.Rectangle((loss_xy[0] - 0.45, -0.35), 0.9, 0.7, facecolor="#fdf6e3",
                               edgecolor="0.15", lw=1.3, zorder=2))
    ax.text(*loss_xy, "L", ha="center", va="center", fontsize=12, fontweight="bold", zorder=3)
    ax.text(loss_xy[0], 0.42, f"L = −ln {_num(p[label])} = {_num(loss)}", ha="center",
            va="bottom", fontsize=9, color=FORWARD_COLOR)
    ax.text(loss_xy[0], -0.42, "∂L/∂L = 1", ha="center", va="top", fontsize=9,
            color=BACKWARD_COLOR, fontweight="bold")

    top, bottom = ys[1][0] + 1.45, ys[1][-1] - 1.75
    ax.add_patch(FancyArrowPatch((-0.3, top), (12.5, top), arrowstyle="-|>", mutation_scale=18,
                                 lw=2, color=FORWARD_COLOR))
    ax.text(6.1, top + 0.12, f"forward:  Z = AW + b,  A = {act}(Z),  p = softmax(z),  "
            "L = −ln p_y", ha="center", va="bottom", fontsize=10, color=FORWARD_COLOR)
    ax.add_patch(FancyArrowPatch((12.5, bottom), (-0.3, bottom), arrowstyle="-|>",
                                 mutation_scale=18, lw=2, color=BACKWARD_COLOR))
    ax.text(6.1, bottom - 0.12, "backward:  δ = p − y,   ∂L/∂A = δ Wᵀ,   δ = ∂L/∂A ⊙ f′(Z);"
            "   each weight: ∂L/∂W = Aᵀ δ,   ∂L/∂b = δ",
            ha="center", va="top", fontsize=10, color=BACKWARD_COLOR)
    names = [f"input ({sizes[0]})", f"hidden: Dense + {act} ({sizes[1]})",
             f"output logits ({sizes[2]})", "loss"]
    for cx, name in zip(cols + [loss_xy[0]], names):
        ax.text(cx, top - 0.3, name, ha="center", va="top", fontsize=9.5, color="0.2",
                style="italic")
    if act == "ReLU" and np.any(z1 <= 0):
        ax.text(cols[1], bottom + 0.25, "grey, dashed: ReLU off (z ≤ 0), passes no gradient back",
                ha="center", va="bottom", fontsize=8.5, color="0.35")
    ax.set_xlim(-1.1, 13.2)
    ax.set_ylim(bottom - 0.8, top + 0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title)
    fig.tight_layout()
    return fig
