"""Plotting helpers shared by the chapters.

Each function draws onto a matplotlib ``Axes`` you pass in (or a new figure when ``ax`` is None),
for example inside the ``draw`` function of a :class:`nnbook.widgets.Panel`, and returns what it
drew. Every plot gets a title, axis labels and a legend or colour bar.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from nnlib._checks import as_float_array, as_labels, choose, whole_number

#: colours for classes 0, 1, 2, ... (colour-blind friendly, from matplotlib's tab10)
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _axes(ax, figsize=(5, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def grid_2d(X, resolution: int = 150, padding: float = 0.5):
    """A regular grid covering the 2-D points ``X`` (plus ``padding``).

    Returns ``(points, extent)``: ``points`` of shape ``(resolution**2, 2)`` to feed a model, and
    ``extent = (x_min, x_max, y_min, y_max)`` for ``imshow``. Reshape model outputs on ``points``
    to ``(resolution, resolution)`` (rows are y, columns are x).
    """
    X = as_float_array(X, "X", ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 features to draw a 2-D grid, got {X.shape[1]}")
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]), (lo[0], hi[0], lo[1], hi[1])


def scatter_classes(ax, X, y, *, labels=None, s=30, edgecolor="k"):
    """Scatter 2-D points coloured by class, one legend entry per class; returns the artists."""
    X = as_float_array(X, "X", ndim=2)
    y = as_labels(y, "y", n_samples=X.shape[0])
    artists = []
    for k in np.unique(y):
        name = labels[k] if labels is not None else f"class {k}"
        artists.append(ax.scatter(*X[y == k].T, s=s, color=CLASS_COLORS[k % 10],
                                  edgecolor=edgecolor, label=name, zorder=3))
    return artists


def decision_boundary(predict_proba, X, y, *, ax=None, resolution: int = 150, padding: float = 0.5,
                      title: str = "Decision regions", labels=None, xlabel="$x_1$", ylabel="$x_2$"):
    """Shade the plane by the probability of class 1 and overlay the data points.

    ``predict_proba(points)`` must return, for points of shape ``(m, 2)``, either the probability
    of class 1 with shape ``(m,)`` or class probabilities ``(m, n_classes)`` (then each pixel is
    coloured by its most likely class). Returns the ``AxesImage``.
    """
    ax = _axes(ax)
    points, extent = grid_2d(X, resolution, padding)
    img = ax.imshow(boundary_image(predict_proba(points), resolution), origin="lower",
                    extent=extent, aspect="auto", interpolation="bilinear")
    scatter_classes(ax, X, y, labels=labels)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=extent[:2], ylim=extent[2:])
    ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
    return img


def boundary_image(proba, resolution: int):
    """RGB image (resolution, resolution, 3) of model outputs on a :func:`grid_2d` grid.

    1-D ``proba`` (probability of class 1) blends the class-0 and class-1 colours; 2-D ``proba``
    colours each pixel by its most likely class, lighter where the model is unsure.
    """
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 2 and proba.shape[1] == 1:
        proba = proba[:, 0]
    if proba.ndim == 1:
        c0, c1 = (np.array(plt.matplotlib.colors.to_rgb(c)) for c in CLASS_COLORS[:2])
        rgb = (1 - proba)[:, None] * c0 + proba[:, None] * c1
        conf = np.abs(proba - 0.5) * 2
    else:
        colors = np.array([plt.matplotlib.colors.to_rgb(c) for c in CLASS_COLORS])
        k = proba.argmax(axis=1)
        rgb = colors[k % 10]
        conf = (proba.max(axis=1) - 1 / proba.shape[1]) / (1 - 1 / proba.shape[1])
    light = 0.35 + 0.35 * conf[:, None]  # unsure pixels are paler
    rgb = 1 - light * (1 - rgb)
    return rgb.reshape(resolution, resolution, 3)


def loss_curves(history, *, ax=None, title: str = "Loss per epoch", log: bool = False):
    """Plot train (and validation) loss of a :class:`nnlib.train.History` against epochs."""
    ax = _axes(ax)
    epochs = np.arange(1, len(history.train_loss) + 1)
    ax.plot(epochs, history.train_loss, "o-", ms=3, label="training loss")
    if history.val_loss:
        ax.plot(epochs, history.val_loss, "s-", ms=3, label="validation loss")
    if log:
        ax.set_yscale("log")
    ax.set(title=title + (" (diverged)" if history.diverged else ""), xlabel="epoch", ylabel="loss")
    ax.legend()
    return ax


def accuracy_curves(history, *, ax=None, title: str = "Accuracy per epoch"):
    """Plot train (and validation) accuracy of a :class:`nnlib.train.History` against epochs."""
    ax = _axes(ax)
    epochs = np.arange(1, len(history.train_acc) + 1)
    ax.plot(epochs, history.train_acc, "o-", ms=3, label="training accuracy")
    if history.val_acc:
        ax.plot(epochs, history.val_acc, "s-", ms=3, label="validation accuracy")
    ax.set(title=title, xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    ax.legend(loc="lower right")
    return ax


def activation_curve(name: str, *, ax=None, z=None, **kwargs):
    """Plot an activation from :data:`nnlib.activations.ACTIVATIONS` and its derivative."""
    from nnlib.activations import ACTIVATIONS
    name = choose(name, list(ACTIVATIONS), "activation")
    f, grad = ACTIVATIONS[name]
    ax = _axes(ax)
    z = np.linspace(-5, 5, 401) if z is None else as_float_array(z, "z", ndim=1)
    f_line, = ax.plot(z, f(z, **kwargs), lw=2, label=f"{name}(z)")
    g_line, = ax.plot(z, grad(z, **kwargs), "--", lw=1.5, label=f"{name}'(z)")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.axvline(0, color="0.7", lw=0.8)
    ax.set(title=name, xlabel="z (weighted input)", ylabel="value")
    ax.legend(loc="upper left", fontsize="small")
    return f_line, g_line


def image_grid(images, *, image_shape, titles=None, ncols: int = 10, cmap="gray_r",
               suptitle: str = "", figsize_per=1.0):
    """Show flattened images (n, h*w) in a grid; returns the figure. ``titles`` label each image."""
    images = as_float_array(images, "images", ndim=2)
    n = images.shape[0]
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(figsize_per * ncols, figsize_per * 1.15 * nrows),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i].reshape(image_shape), cmap=cmap)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def mean_activation_per_class(activations, y, n_classes: int | None = None):
    """Average each unit's activation over the samples of each class: shape (n_classes, n_units)."""
    activations = as_float_array(activations, "activations", ndim=2)
    y = as_labels(y, "y", n_samples=activations.shape[0], n_classes=n_classes)
    k = int(y.max()) + 1 if n_classes is None else n_classes
    return np.stack([activations[y == c].mean(axis=0) if np.any(y == c)
                     else np.zeros(activations.shape[1]) for c in range(k)])


# ----------------------------------------------------------------------------- computational graphs
#: how :func:`draw_graph` names the gates of :mod:`nnlib.graph`
GATE_NAMES = {"+": "add", "*": "mul", "max": "max", "relu": "ReLU", "sigmoid": "sigmoid"}
#: colours of forward values and of gradients in :func:`draw_graph`
VALUE_COLOR, GRAD_COLOR = "#1b7a34", "#c0262d"


def _graph_label(node):
    if node.label:
        return node.label
    return {"*": "×"}.get(node.op, node.op) if node.op else "input"


def _graph_texts(node, show_grad):
    value = f"value {node.data:.4g}"
    grad = f"grad {node.grad:.4g}" if show_grad else ""
    return value.replace("-", "−"), grad.replace("-", "−")


def graph_layout(root):
    """Place the nodes of a computational graph (chapter 7) on a grid: ``(order, positions)``.

    ``order`` lists the nodes inputs first, root last (:func:`nnlib.graph.topological_order`);
    ``positions[i]`` is the ``(column, row)`` of ``order[i]``: the column is the node's depth (0
    for inputs, one more than its deepest parent), so every arrow points right; the rows of a
    column are spread evenly around 0 (larger rows are higher up).
    """
    from nnlib.graph import Value, topological_order

    if not isinstance(root, Value):
        raise TypeError(f"root must be an nnlib.graph.Value (the output of the graph), "
                        f"got {type(root).__name__}")
    order = topological_order(root)
    depth = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    columns = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    row = {}
    for nodes in columns.values():
        for i, node in enumerate(nodes):
            row[id(node)] = (len(nodes) - 1) / 2 - i
    return order, [(depth[id(n)], row[id(n)]) for n in order]


def draw_graph(root, *, ax=None, title: str = "Computational graph", show_grad: bool = True,
               dx: float = 2.4, dy: float = 1.45):
    """Draw a scalar computational graph of :class:`nnlib.graph.Value` nodes (chapter 7).

    Each node is a box with its name (or gate), its forward value in green and, after
    ``root.backward()``, its gradient d(root)/d(node) in red; an input used twice gets two arrows.
    Columns follow :func:`graph_layout`, ``dx`` and ``dy`` space them (a box is 1.6 × 0.95).
    Returns ``{"order": nodes, "value_texts": [Text], "grad_texts": [Text]}`` (in that order).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    order, grid = graph_layout(root)
    ax = _axes(ax, figsize=(8, 4.5))
    width, height = 1.6, 0.95
    centres = [(c * dx, r * dy) for c, r in grid]
    index = {id(n): i for i, n in enumerate(order)}
    value_texts, grad_texts = [], []
    for node, (cx, cy) in zip(order, centres):
        is_input = not node.parents
        box = FancyBboxPatch((cx - width / 2, cy - height / 2), width, height,
                             boxstyle="round,pad=0.02,rounding_size=0.12", lw=1.4,
                             facecolor="#eef3fb" if is_input else "#fdf6e3", edgecolor="0.3",
                             zorder=2)
        ax.add_patch(box)
        ax.text(cx, cy + 0.24, _graph_label(node), ha="center", va="center", fontsize=11,
                fontweight="bold", zorder=3)
        if node.op:
            ax.text(cx, cy + height / 2 + 0.1, f"{GATE_NAMES.get(node.op, node.op)} gate",
                    ha="center", va="bottom", fontsize=8, style="italic", color="0.35", zorder=3)
        value, grad = _graph_texts(node, show_grad)
        value_texts.append(ax.text(cx, cy - 0.06, value, ha="center", va="center", fontsize=9,
                                   color=VALUE_COLOR, zorder=3))
        grad_texts.append(ax.text(cx, cy - 0.3, grad, ha="center", va="center", fontsize=9,
                                  color=GRAD_COLOR, zorder=3))
    # Arrows run from the right edge of an input's box to the left edge of the gate's box (end
    # points computed here: clipping arrows to the boxes would make every redraw much slower).
    bend = height / 2  # how far curved arrows reach below the rows, for the axis limits
    for node in order:
        child = index[id(node)]
        (cx, cy), seen = centres[child], {}
        n_in = len(node.parents)
        for k, parent in enumerate(node.parents):
            p = index[id(parent)]
            (px, py), repeat = centres[p], seen.get(p, 0)
            seen[p] = repeat + 1
            # arrow heads of a gate's inputs meet its box side by side, first input on top
            end_y = cy + 0.25 * ((n_in - 1) / 2 - k)
            start, end, rad = (px + width / 2, py), (cx - width / 2, end_y), 0.0
            if node.parents.count(parent) > 1:     # the same input used twice: parallel arrows
                shift = 0.2 if repeat % 2 == 0 else -0.2
                start, end = (start[0], py + shift), (end[0], cy + shift)
            elif grid[child][0] - grid[p][0] > 1:  # skips a column: bend below the boxes between
                start = (px + width / 2 - 0.25, py - height / 2)
                end = (cx - width / 2 + 0.25, cy - height / 2)
                rad = 0.3
                bend = max(bend, height / 2 + 0.5 * rad * (end[0] - start[0]))
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14,
                                         connectionstyle=f"arc3,rad={rad}", lw=1.3, color="0.25",
                                         shrinkA=1, shrinkB=1, zorder=1))
    xs = [c[0] for c in centres]
    ys = [c[1] for c in centres]
    ax.set_xlim(min(xs) - width / 2 - 0.3, max(xs) + width / 2 + 0.3)
    ax.set_ylim(min(ys) - bend - 0.2, max(ys) + height / 2 + 0.4)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title)
    handles = [Line2D([], [], color=VALUE_COLOR, marker="s", ls="", label="forward value")]
    if show_grad:
        handles.append(Line2D([], [], color=GRAD_COLOR, marker="s", ls="",
                              label="gradient d(output)/d(node)"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2,
              fontsize="small", frameon=False)
    return {"order": order, "value_texts": value_texts, "grad_texts": grad_texts}


# ----------------------------------------------------------------------------- lines and networks
def decision_line(w, b, *, xlim, ylim):
    """The segment of the line ``w[0]*x1 + w[1]*x2 + b = 0`` inside a box (chapters 2 and 3).

    A two-input perceptron fires on one side of this line. ``xlim`` and ``ylim`` are ``(low,
    high)``. Returns ``(xs, ys)``, the two end points, ready for ``ax.plot(xs, ys)``; both are
    empty when the line misses the box or ``w = (0, 0)``. Example: AND, ``w = (1, 1), b = -1.5``
    in [-0.5, 1.5]² gives the segment from (0, 1.5) to (1.5, 0).
    """
    w = as_float_array(w, "w", ndim=1)
    if w.shape != (2,):
        raise ValueError(f"w must hold the 2 weights of a two-input neuron, got shape {w.shape}")
    b = float(as_float_array(b, "b", ndim=0))
    box = []
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        lim = as_float_array(lim, name, ndim=1)
        if lim.shape != (2,) or not lim[0] < lim[1]:
            raise ValueError(f"{name} must be a pair (low, high) with low < high, got {lim.tolist()}")
        box.append(lim)
    (x0, x1), (y0, y1) = box
    w1, w2 = w
    scale = max(abs(w1), abs(w2), abs(b), 1.0)
    eps = 1e-12 * scale * max(x1 - x0, y1 - y0, 1.0)
    points = []
    if abs(w2) > 1e-12 * scale:          # the line crosses the vertical edges x = x0 and x = x1
        for x in (x0, x1):
            y = -(w1 * x + b) / w2
            if y0 - eps <= y <= y1 + eps:
                points.append((x, min(max(y, y0), y1)))
    if abs(w1) > 1e-12 * scale:          # ... and the horizontal edges y = y0 and y = y1
        for y in (y0, y1):
            x = -(w2 * y + b) / w1
            if x0 - eps <= x <= x1 + eps:
                points.append((min(max(x, x0), x1), y))
    if not points:
        return np.empty(0), np.empty(0)
    pts = np.unique(np.round(np.array(points), 12), axis=0)
    if len(pts) == 1:                     # the line only touches a corner
        pts = np.vstack([pts, pts])
    # the two points farthest apart are the ends of the segment
    d = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=-1)
    i, j = np.unravel_index(np.argmax(d), d.shape)
    return pts[[i, j], 0] + 0.0, pts[[i, j], 1] + 0.0   # + 0.0 turns -0.0 into 0.0


def draw_network(sizes, *, ax=None, activations=None, title: str = "A fully connected network",
                 layer_names=None, max_neurons: int = 12):
    """Draw a fully connected network from its layer sizes (chapters 3 and 4); returns the axes.

    ``sizes`` runs from input to output, e.g. ``[5, 3, 7, 5, 1]``; each column is labelled with
    its role and size, or with ``layer_names``. ``activations``, optional, holds one 1-D array per
    layer (one input's neuron values, e.g. from ``model.layer_outputs(x)``): neurons are shaded by
    value (1 dark, 0 white) and the value is written inside. Layers wider than ``max_neurons``
    show their first and last few neurons around a "⋮".
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a list of layer sizes such as [5, 3, 7, 5, 1], got {sizes!r}")
    sizes = [whole_number(s, "each layer size") for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output layer, got {sizes}")
    whole_number(max_neurons, "max_neurons", minimum=3)
    if activations is not None:
        if len(activations) != len(sizes):
            raise ValueError(f"activations needs one array per layer ({len(sizes)}), "
                             f"got {len(activations)}")
        activations = [as_float_array(a, f"activations[{k}]", ndim=1)
                       for k, a in enumerate(activations)]
        for k, (a, n) in enumerate(zip(activations, sizes)):
            if a.shape[0] != n:
                raise ValueError(f"activations[{k}] has {a.shape[0]} values but layer {k} has "
                                 f"{n} neurons")
    if layer_names is None:
        layer_names = (["input"] + [f"hidden {k}" for k in range(1, len(sizes) - 1)] + ["output"])
    elif len(layer_names) != len(sizes):
        raise ValueError(f"layer_names needs one name per layer ({len(sizes)}), got {len(layer_names)}")
    ax = _axes(ax, figsize=(1.6 * len(sizes) + 1, 4))

    def shown(n):   # which neuron indices are drawn, None marks the "⋮"
        if n <= max_neurons:
            return list(range(n))
        half = (max_neurons - 1) // 2
        return list(range(half)) + [None] + list(range(n - (max_neurons - 1 - half), n))

    columns = [shown(n) for n in sizes]
    tallest = max(len(c) for c in columns)
    radius = 0.32
    pos = []
    for k, col in enumerate(columns):
        ys = (len(col) - 1) / 2 - np.arange(len(col))
        pos.append([(k * 2.0, y) for y in ys])
    for k in range(len(sizes) - 1):             # connections first, below the circles
        for (xa, ya), ia in zip(pos[k], columns[k]):
            for (xb, yb), ib in zip(pos[k + 1], columns[k + 1]):
                if ia is not None and ib is not None:
                    ax.plot([xa, xb], [ya, yb], color="0.6", lw=0.6, zorder=1)
    cmap = plt.get_cmap("Blues")
    for k, col in enumerate(columns):
        for (x, y), i in zip(pos[k], col):
            if i is None:
                ax.text(x, y, "⋮", ha="center", va="center", fontsize=14, zorder=3)
                continue
            face = "#eef3fb" if k == 0 else ("#fdf6e3" if k == len(sizes) - 1 else "white")
            text = None
            if activations is not None:
                v = float(activations[k][i])
                face = cmap(0.15 + 0.75 * min(max(v, 0.0), 1.0))
                text = f"{v:.2g}"
            ax.add_patch(plt.Circle((x, y), radius, facecolor=face, edgecolor="0.2", lw=1.2,
                                    zorder=2))
            if text is not None:
                v = float(activations[k][i])
                ax.text(x, y, text.replace("-", "−"), ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 else "black", zorder=3)
        ax.text(k * 2.0, -(tallest - 1) / 2 - 0.55, f"{layer_names[k]}\n({sizes[k]})",
                ha="center", va="top", fontsize=9)
    ax.set_xlim(-0.8, 2.0 * (len(sizes) - 1) + 0.8)
    ax.set_ylim(-(tallest - 1) / 2 - 1.6, (tallest - 1) / 2 + 0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title)
    return ax


def tile_images(images, ncols: int, *, gap: int = 1, fill: float = np.nan):
    """Lay equally sized images ``(n, h, w)`` side by side in one 2-D array (chapters 8 and 9).

    Image ``k`` goes to row ``k // ncols``, column ``k % ncols``; gaps and empty cells hold
    ``fill`` (NaN shows in the colour map's "bad" colour, e.g. ``cmap.set_bad("0.8")``). One
    ``imshow`` of the result shows every image on one colour scale with one colour bar, e.g.
    ``ax.imshow(tile_images(W[:, :16].T.reshape(16, 28, 28), ncols=4), cmap="RdBu_r")``.
    """
    images = as_float_array(images, "images", ndim=3, finite=False)
    ncols, gap = whole_number(ncols, "ncols"), whole_number(gap, "gap", minimum=0)
    n, h, w = images.shape
    if n == 0:
        raise ValueError("images is empty; pass at least one image of shape (h, w)")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + gap) - gap, ncols * (w + gap) - gap), fill, dtype=np.float64)
    for k in range(n):
        r, c = divmod(k, ncols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = images[k]
    return out


def hidden_unit_maps(model, points, resolution: int, layer: int = 0):
    """What each unit of hidden layer ``layer`` (0 is the first) computes over the plane.

    ``points`` are the ``resolution**2`` points of a :func:`grid_2d` grid. Returns shape
    ``(n_units, resolution, resolution)``: ``imshow(maps[j], origin="lower", extent=extent)``
    draws unit ``j``'s output the right way up (chapter 8's playground).
    """
    whole_number(resolution, "resolution")
    points = as_float_array(points, "points", ndim=2)
    if points.shape != (resolution * resolution, 2):
        raise ValueError(f"points must have shape ({resolution * resolution}, 2) for a "
                         f"{resolution}x{resolution} grid (see grid_2d), got {points.shape}")
    whole_number(layer, "layer (0 is the first hidden layer)", minimum=0)
    hidden = model.hidden_outputs(points)
    if layer >= len(hidden):
        raise ValueError(f"the model has {len(hidden)} hidden layer(s) with an activation; "
                         f"layer={layer} does not exist (count from 0)")
    act = hidden[layer]
    return act.T.reshape(act.shape[1], resolution, resolution)
