"""Figures of chapter 8 (gradient descent, SGD and the learning rate) and its playground."""
from __future__ import annotations

from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.ticker import NullLocator

from nnbook.datasets import make_2d
from nnbook.plotting import (CLASS_COLORS, boundary_image, decision_boundary, grid_2d,
                             loss_curves, tile_images)

DIVERGED = "diverged:\nlearning rate too large"


def tangent_and_steps(loss, grad, *, w0, step, label):
    """The curve ``loss`` on [-2.2, 2.4], its tangent at ``w0`` (slope ``grad(w0)``) and the loss
    one ``step`` to either side of ``w0``: downhill (against the slope) it falls. ``label`` names
    the curve in the legend. Returns the figure."""
    ws = np.linspace(-2.2, 2.4, 400)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(ws, loss(ws), color="k", lw=2, label=label)
    ax.plot(ws, loss(w0) + (ws - w0) * grad(w0), "--", color="C0",
            label=f"tangent at $w = {w0}$: slope $L'(w) = {grad(w0):.1f}$")
    for s, color, marker in [(-step, "C2", "v"), (step, "C3", "^")]:
        ax.plot(w0 + s, loss(w0 + s), marker, color=color, ms=9,
                label=f"$w {'-' if s < 0 else '+'} {step:g}$: $L$ {'falls' if s < 0 else 'rises'} "
                      f"to {loss(w0 + s):.2f}")
    ax.plot(w0, loss(w0), "ko", ms=6)
    ax.set(xlim=(-2.2, 2.4), ylim=(-4.5, 8), xlabel="w", ylabel="L(w)",
           title="The derivative is the slope of the tangent")
    ax.legend(loc="upper center", fontsize="small")
    return fig


def batch_comparison(runs, n_samples):
    """Training loss per epoch of several runs, per unit of work (left) and per update (right).

    ``runs`` maps a label to ``{"B": batch size, "loss": losses}`` with the loss before training
    and after every epoch, on a training set of ``n_samples``. Returns the figure.
    """
    fig, (ax_work, ax_steps) = plt.subplots(1, 2, figsize=(9, 3.8))
    for (label, run), marker in zip(runs.items(), "osd^v"):
        epochs = np.arange(len(run["loss"]))
        ax_work.plot(epochs * n_samples, run["loss"], "-", marker=marker, ms=3, label=label)
        updates = epochs * int(np.ceil(n_samples / run["B"]))
        ax_steps.plot(updates[1:], run["loss"][1:], "-", marker=marker, ms=3, label=label)
    ax_work.set(xlabel="per-sample gradients (epochs × N)", ylabel="training loss",
                title="Same work: more, noisier steps win")
    ax_steps.set(xscale="log", xlabel="number of updates (log scale)", ylabel="training loss",
                 title="Per update, the exact gradient is best")
    for ax in (ax_work, ax_steps):
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


@lru_cache(maxsize=None)
def _valley_grid(loss_2d):
    t1, t2 = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-3, 3, 200))
    return t1, t2, loss_2d(np.stack([t1, t2], axis=-1))


def learning_rate_paths(fig, one, two, *, loss_1d, loss_2d, titles):
    """One frame of the learning-rate panel, drawn on ``fig``.

    ``one`` and ``two`` are :func:`nnlib.gradient_descent` results on the 1-D loss ``loss_1d``
    (left) and on the 2-D valley ``loss_2d`` (right, drawn as contours); ``titles`` are the two
    axes' titles. A diverged run is announced in red.
    """
    ax1, ax2 = fig.subplots(1, 2)
    ws = np.linspace(-2.2, 2.4, 300)
    ax1.plot(ws, loss_1d(ws), color="k", lw=1.5, label="L(w)")
    ax1.plot([one.path[0]], [loss_1d(one.path[0])], "ko", ms=7, label="start")
    ax1.plot(one.path, loss_1d(one.path), "o-", color="C3", ms=4, lw=1, label="gradient descent")
    ax1.set(xlim=(-2.2, 2.4), ylim=(-4.5, 8), xlabel="w", ylabel="L(w)")
    ax1.legend(loc="upper center", fontsize="x-small")
    ax2.contour(*_valley_grid(loss_2d), levels=[0.5, 2, 5, 10, 20, 35], colors="0.6",
                linewidths=0.8)
    ax2.plot(*two.path[0], "ko", ms=7, label="start")
    ax2.plot(0, 0, "k*", ms=10, label="minimum")
    ax2.plot(two.path[:, 0], two.path[:, 1], "o-", color="C3", ms=4, lw=1, label="gradient descent")
    ax2.set(xlim=(-5, 5), ylim=(-3, 3), xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
    ax2.legend(loc="lower right", fontsize="x-small")
    for ax, run, title in zip((ax1, ax2), (one, two), titles):
        ax.set_title(title, fontsize=10)
        if run.diverged:
            ax.text(0.5, 0.45, DIVERGED, transform=ax.transAxes, ha="center", va="center",
                    color="red", fontsize=12, fontweight="bold")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25)


def landscape_paths(landscape, runs, ends_in, minima, names):
    """A non-convex surface in 3-D (left) and as contours with gradient-descent paths (right).

    ``landscape(theta)`` is the loss on points of shape ``(..., 2)``; ``runs`` are
    :func:`nnlib.gradient_descent` results, ``ends_in[k]`` the index in ``minima`` (deepest
    first) where run ``k`` ends, ``names`` the minima's names. Returns the figure.
    """
    gx, gy = np.meshgrid(np.linspace(-3.2, 3.2, 160), np.linspace(-3.2, 3.2, 160))
    surface = landscape(np.stack([gx, gy], axis=-1))
    fig = plt.figure(figsize=(10, 4.4))
    ax3d = fig.add_subplot(1, 2, 1, projection="3d")
    ax3d.plot_surface(gx[::2, ::2], gy[::2, ::2], surface[::2, ::2], cmap="viridis", linewidth=0,
                      antialiased=True, alpha=0.9)
    ax3d.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", zlabel="loss",
             title="A non-convex loss surface")
    ax3d.view_init(elev=35, azim=-60)
    ax = fig.add_subplot(1, 2, 2)
    contours = ax.contourf(gx, gy, surface, levels=20, cmap="viridis")
    fig.colorbar(contours, ax=ax, label="loss")
    colours = [CLASS_COLORS[k] for k in (3, 1, 0)]           # one colour per minimum
    for run, k in zip(runs, ends_in):
        ax.plot(run.path[:, 0], run.path[:, 1], "-", color=colours[k], lw=1.5)
        ax.plot(*run.path[0], "o", color="white", mec="k", ms=5)
    for k, m in enumerate(minima):
        ax.plot(*m, "*", color=colours[k], mec="k", ms=16,
                label=f"{names[k]}, loss {landscape(m):.2f}")
    ax.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", aspect="equal",
           title=f"{len(runs)} starts (white), coloured by where they end")
    ax.legend(loc="lower left", fontsize="small", framealpha=0.9)
    fig.tight_layout()
    return fig


def early_stopping(history, best_epoch, model, snapshots, X, y, X_val, y_val):
    """Loss curves with the best validation epoch marked (top), and decision boundaries (bottom).

    ``snapshots`` is a list of ``(label, params)``: each list of parameter arrays is copied into
    ``model`` in turn and its decision regions are drawn over the training points ``X, y``, with
    its accuracy on ``(X_val, y_val)``. Returns the figure; ``model`` keeps the last snapshot.
    """
    fig = plt.figure(figsize=(9, 7.5))
    grid = fig.add_gridspec(2, len(snapshots), height_ratios=[1, 1.25])
    ax_loss = fig.add_subplot(grid[0, :])
    loss_curves(history, ax=ax_loss, title=f"A big network on {len(y)} points", log=True)
    ax_loss.axvline(best_epoch, color="k", ls=":",
                    label=f"best validation loss: epoch {best_epoch}")
    ax_loss.legend(fontsize="small")
    for k, (label, params) in enumerate(snapshots):
        for p, value in zip(model.params, params):
            p[...] = value
        decision_boundary(model.predict_proba, X, y, ax=fig.add_subplot(grid[1, k]),
                          resolution=100,
                          title=f"{label}: validation accuracy {model.accuracy(X_val, y_val):.2f}")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------- the playground
RES, LIM, LEVELS = 60, 1.5, 10              # map resolution, half-width of the square, grey levels
GRID_POINTS, GRID_EXTENT = grid_2d(np.array([[-LIM, -LIM], [LIM, LIM]]), resolution=RES,
                                   padding=0.0)
MAP_SIZE = 4 * (RES + 2) - 2                # a 4 x 4 mosaic of 60 x 60 maps
UNIT_CMAP = ListedColormap(plt.get_cmap("Purples")(np.linspace(0, 1, LEVELS)))
UNIT_CMAP.set_bad("0.8")


def playground_data(name, n_train=200, n_val=100):
    """``{"train": (X, y), "val": (X, y)}`` of the 2-D data set ``name`` (see
    :func:`nnbook.datasets.make_2d`), both scaled by the same factor so that every data set fills
    the same square; the validation points are fresh samples (another seed)."""
    noise = 0.05 if name == "spirals" else 0.1
    X, y = make_2d(name, n_train, noise=noise, seed=0)
    Xv, yv = make_2d(name, n_val, noise=noise, seed=1)
    scale = 1.3 / np.abs(X).max()
    return {"train": (X * scale, y), "val": (Xv * scale, yv)}


def _unit_mosaic(maps):
    # 4 units: 2 x 2 large tiles; 8 or 16 units: rows of 4 tiles; centred on a fixed canvas
    if len(maps) <= 4:
        tiles = tile_images(np.kron(maps, np.ones((2, 2))), ncols=2, gap=4)
    else:
        tiles = tile_images(maps, ncols=4, gap=2)
    canvas = np.full((MAP_SIZE, MAP_SIZE), np.nan)
    r, c = (MAP_SIZE - tiles.shape[0]) // 2, (MAP_SIZE - tiles.shape[1]) // 2
    canvas[r:r + tiles.shape[0], c:c + tiles.shape[1]] = tiles
    return canvas


def snapshot(model):
    """The pictures of one moment of training: ``(decision-region image, mosaic of unit maps)``.

    The regions are :func:`nnbook.plotting.boundary_image` of the predicted probabilities over the
    playground's square; the mosaic holds each first-hidden-layer unit's output over the square
    (scaled to the unit's peak). Both are quantised to a few levels, which keeps the web page's
    pictures small.
    """
    proba = np.round(model.predict_proba(GRID_POINTS)[:, 1] * LEVELS) / LEVELS
    act = model.hidden_outputs(GRID_POINTS)[0]                  # (RES * RES, n_units)
    maps = act.T.reshape(-1, RES, RES)
    peak = maps.max(axis=(1, 2), keepdims=True)
    maps = np.round(maps / np.where(peak > 0, peak, 1) * (LEVELS - 1)) / (LEVELS - 1)
    return boundary_image(proba, RES), _unit_mosaic(maps[:, ::-1, :])   # rows: top = high x_2


def playground_frame(fig, train, history, snapshots, epoch, *, name, max_epoch=100):
    """One frame of the playground, drawn on ``fig``, at ``epoch``.

    ``train`` = ``(X, y)`` are the training points, ``history`` the :func:`nnlib.fit` history of
    the run and ``snapshots`` a dict epoch -> :func:`snapshot` (the latest one at or before
    ``epoch`` is shown); ``name`` (the data set) starts the left title. Left: decision regions and
    points; middle: the first hidden layer's unit maps; right: the losses up to ``epoch`` on an
    axis that ends at ``max_epoch``.
    """
    gs = fig.add_gridspec(1, 3, left=0.075, right=0.98, bottom=0.22, top=0.9, wspace=0.3)
    regions, maps = snapshots[max(e for e in snapshots if e <= epoch)]
    X, y = train
    ax_b = fig.add_subplot(gs[0])
    ax_b.imshow(regions, origin="lower", extent=GRID_EXTENT, interpolation="nearest")
    points = [ax_b.scatter(*X[y == k].T, s=10, color=CLASS_COLORS[k], edgecolor="k",
                           linewidths=0.3, label=f"class {k}") for k in (0, 1)]
    ax_b.set(xlim=GRID_EXTENT[:2], ylim=GRID_EXTENT[2:], xlabel="$x_1$", ylabel="$x_2$")
    n = min(epoch, history.epochs)
    if history.diverged and epoch > history.epochs:
        status = f"diverged in epoch {history.epochs + 1}"
        ax_b.text(0, 0, DIVERGED, ha="center", va="center", color="red", fontsize=10,
                  fontweight="bold", bbox={"facecolor": "white", "alpha": 0.85})
    else:
        status = f"validation accuracy {history.val_acc[n - 1]:.2f}" if n else "before training"
    ax_b.set_title(f"{name}, epoch {epoch}: {status}", fontsize=10)
    ax_u = fig.add_subplot(gs[1])
    ax_u.imshow(maps, cmap=UNIT_CMAP, vmin=0, vmax=1, interpolation="nearest")
    ax_u.set(xticks=[], yticks=[])
    ax_u.set_title("first hidden layer: each unit's output", fontsize=10)
    ax_u.set_xlabel("dark: the unit's ReLU output is large", fontsize=9)
    ax_l = fig.add_subplot(gs[2])
    epochs = np.arange(1, n + 1)
    (train_line,) = ax_l.plot(epochs, history.train_loss[:n], color="C2", label="training loss")
    (val_line,) = ax_l.plot(epochs, history.val_loss[:n], color="C4", label="validation loss")
    ax_l.set(xlim=(0, max_epoch), ylim=(1e-3, 5), yscale="log", xlabel="epoch", ylabel="loss")
    ax_l.set_yticks([1e-3, 1e-2, 1e-1, 1], labels=["0.001", "0.01", "0.1", "1"])   # fixed ticks:
    ax_l.yaxis.set_minor_locator(NullLocator())                       # a much faster redraw
    ax_l.set_title("Loss (log scale)", fontsize=10)
    fig.legend(handles=[*points, train_line, val_line], loc="lower center", ncol=4, fontsize=9,
               frameon=False)
