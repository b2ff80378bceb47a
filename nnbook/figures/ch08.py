"""Figures of chapter 8 (gradient descent, SGD and the learning rate) and its playground."""
from __future__ import annotations

from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.ticker import NullLocator

from matplotlib.patches import FancyArrowPatch, Rectangle

from nnbook.datasets import make_2d
from nnbook.plotting import (CLASS_COLORS, boundary_image, decision_boundary, grid_2d,
                             loss_curves, tile_images)
from nnlib import SoftmaxCrossEntropy, evaluate

DIVERGED = "diverged:\nlearning rate too large"


def tangent_and_steps(loss, grad, *, w0, step, label):
    """The curve ``loss`` on [-2.2, 2.4], its tangent at ``w0`` (slope ``grad(w0)``) and the loss
    one ``step`` to either side of ``w0``: downhill (against the slope) it falls. ``label`` names
    the curve in the legend. Returns the figure."""
    ws = np.linspace(-2.2, 2.4, 400)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(ws, loss(ws), color="k", lw=2, label=label)
    ax.plot(ws, loss(w0) + (ws - w0) * grad(w0), "--", color="0.45",
            label=f"tangent at $w = {w0}$: slope $L'(w) = {grad(w0):.1f}$")
    for s, color, marker in [(-step, CLASS_COLORS[0], "v"), (step, CLASS_COLORS[1], "^")]:
        ax.plot(w0 + s, loss(w0 + s), marker, color=color, ms=9,
                label=f"$w {'-' if s < 0 else '+'} {step:g}$: $L$ {'falls' if s < 0 else 'rises'} "
                      f"to {loss(w0 + s):.2f}")
    ax.plot(w0, loss(w0), "ko", ms=6)
    ax.set(xlim=(-2.2, 2.4), ylim=(-4.5, 8), xlabel="w", ylabel="L(w)",
           title="The derivative is the slope of the tangent")
    ax.legend(loc="upper center", fontsize="small")
    return fig


def sgd_curve(model, X, y, X_val, y_val, *, batch_size, lr, updates, every, seed=0):
    """The mini-batch SGD loop of section 8.3, run for ``updates`` steps, with the validation loss
    recorded every ``every`` updates (instead of once per epoch). Returns an array of rows
    ``(updates so far, samples seen so far, validation loss)``, starting before the first step;
    a run whose loss is no longer finite records ``inf``."""
    rng, loss_fn = np.random.default_rng(seed), SoftmaxCrossEntropy()
    done, seen, rows = 0, 0, [(0, 0, evaluate(model, X_val, y_val)[0])]
    with np.errstate(all="ignore"):
        while done < updates:
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                loss_fn.forward(model.forward(X[idx]), y[idx])
                model.backward(loss_fn.backward())
                for p, g in zip(model.params, model.grads):
                    p -= lr * g
                done, seen = done + 1, seen + len(idx)
                if done % every == 0 or done == updates:
                    val = evaluate(model, X_val, y_val)[0]
                    rows.append((done, seen, val if np.isfinite(val) else np.inf))
                if done == updates:
                    break
    return np.array(rows)


def batch_comparison(by_samples, by_updates):
    """Validation loss of mini-batch SGD for several batch sizes, each at its own tuned learning
    rate: against the number of samples seen (left, one budget of samples for all) and against
    the number of updates (right, one budget of updates for all).

    ``by_samples`` and ``by_updates`` map a batch size to ``(lr, curve)``, ``curve`` as returned
    by :func:`sgd_curve`. Returns the figure.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    styles = ["-", "--", "-.", ":", "-"]
    for ax, runs, column, xlabel in [(axes[0], by_samples, 1, "samples seen (per-sample gradients)"),
                                     (axes[1], by_updates, 0, "updates (SGD steps)")]:
        for k, (B, (lr, curve)) in enumerate(runs.items()):
            ax.plot(curve[:, column], curve[:, 2], styles[k % 5], marker="osd^v"[k % 5], ms=3.5,
                    color=CLASS_COLORS[[0, 1, 2, 4, 7][k % 5]], label=f"B = {B}, η = {lr:g}")
        ax.set(xlabel=xlabel, xlim=(0, runs and max(c[-1, column] for _, c in runs.values())))
        ax.legend(fontsize=9, title="batch size, tuned η", title_fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set(ylabel="validation loss", ylim=(0, 0.75),
                title="Same number of samples: small batches get further")
    axes[1].set_title("Same number of updates: large batches get further")
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
    ax1.legend(loc="upper center", fontsize=9)
    ax2.contour(*_valley_grid(loss_2d), levels=[0.5, 2, 5, 10, 20, 35], colors="0.6",
                linewidths=0.8)
    ax2.plot(*two.path[0], "ko", ms=7, label="start")
    ax2.plot(0, 0, "k*", ms=10, label="minimum")
    ax2.plot(two.path[:, 0], two.path[:, 1], "o-", color="C3", ms=4, lw=1, label="gradient descent")
    ax2.set(xlim=(-5, 5), ylim=(-3, 3), xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
    ax2.legend(loc="lower right", fontsize=9)
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
    contours = ax.contourf(gx, gy, surface, levels=20, cmap="Greys", alpha=0.8)   # low = light
    fig.colorbar(contours, ax=ax, label="loss")
    colours = [CLASS_COLORS[0], CLASS_COLORS[1], "k"]     # one colour and line style per minimum
    styles = ["-", "--", ":"]
    for run, k in zip(runs, ends_in):
        ax.plot(run.path[:, 0], run.path[:, 1], styles[k], color=colours[k], lw=1.8)
        ax.plot(*run.path[0], "o", color="white", mec="k", ms=5)
    for k, m in enumerate(minima):
        ax.plot(*m, "*", color=colours[k], mec="k", ms=16, ls=styles[k],
                label=f"{names[k]}, loss {landscape(m):.2f}")
    ax.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", aspect="equal",
           title=f"{len(runs)} starts (white dots): colour and line\nstyle tell the minimum each one reaches")
    ax.legend(loc="lower left", fontsize="small", framealpha=0.9)
    fig.tight_layout()
    return fig


def loss_curve_cases(cases, histories, end_losses):
    """The four typical loss curves in a 2 x 2 grid with one legend below them.

    ``cases`` are ``(title, lr, epochs)``; ``histories[title]`` is the run's :func:`nnlib.fit`
    history (training loss: the mean over each epoch's batches) and ``end_losses[title]`` the
    training loss measured at each epoch's end (dotted). Returns the figure.
    """
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.2))
    for ax, (title, lr, epochs) in zip(axes.ravel(), cases):
        loss_curves(histories[title], ax=ax, title=f"{title}\n(lr = {lr:g}, {epochs} epochs)")
        ax.plot(np.arange(1, epochs + 1), end_losses[title], "k:", lw=1.8)
        ax.get_legend().remove()
        ax.set_ylim(0, 3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    labels = ["training loss (History: mean over the epoch's batches)", "validation loss",
              "training loss at the epoch's end"]
    fig.legend(axes[0, 0].lines, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
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


def line_landscape(alphas, paths):
    """The loss along straight lines through weight space (after Li et al. 2018).

    ``paths`` is a list of ``(title, start label, end label, losses)``, ``losses`` an array
    ``(len(alphas), 2)`` of training and validation loss at ``(1 - a) * start + a * end`` for each
    ``a`` in ``alphas``. One panel per path; the end points are marked. Returns the figure.
    """
    fig, axes = plt.subplots(1, len(paths), figsize=(10, 3.9), sharey=True)
    for ax, (title, start, end, losses) in zip(np.atleast_1d(axes), paths):
        ax.plot(alphas, losses[:, 0], "-", color=CLASS_COLORS[0], label="training loss")
        ax.plot(alphas, losses[:, 1], "--", color=CLASS_COLORS[1], label="validation loss")
        for a in (0, 1):
            ax.axvline(a, color="0.6", lw=0.8, ls=":")
        ax.set_xticks([0, 0.5, 1], labels=[f"0\n{start}", "0.5", f"1\n{end}"])
        ax.set(xlabel=r"position on the line $\alpha$", title=title, xlim=(alphas[0], alphas[-1]))
        ax.legend(fontsize=9, loc="upper center")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("loss (cross-entropy)")
    fig.tight_layout()
    return fig


def polynomial_fits(train, val, fits, table):
    """Model selection with polynomials: fits of a few degrees over the data (left), training and
    validation error against the degree (right, log scale).

    ``train`` and ``val`` are ``(x, y)``; ``fits`` maps a degree to a function x -> prediction;
    ``table`` is an array of rows ``(degree, training MSE, validation MSE)``. Returns the figure.
    """
    fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(10, 4))
    xs = np.linspace(-1, 1, 400)
    ax.plot(*val, ".", color="0.75", ms=4, label="validation points")
    ax.plot(*train, "o", color="k", ms=5, label="training points")
    for (degree, predict), style, colour in zip(fits.items(), ["-", "--", "-."],
                                                [CLASS_COLORS[0], CLASS_COLORS[1], CLASS_COLORS[4]]):
        ax.plot(xs, predict(xs), style, color=colour, lw=1.8, label=f"degree {degree}")
    ax.set(ylim=(-2, 2), xlabel="x", ylabel="y", title="Polynomials fitted by least squares")
    ax.legend(fontsize=9, loc="lower right", ncol=2)
    ax_err.plot(table[:, 0], table[:, 1], "o-", color=CLASS_COLORS[0], label="training error")
    ax_err.plot(table[:, 0], table[:, 2], "s--", color=CLASS_COLORS[1], label="validation error")
    best = table[np.argmin(table[:, 2])]
    ax_err.plot(best[0], best[2], "*", color="k", ms=14, label=f"best validation: degree {best[0]:g}")
    ax_err.set(yscale="log", xlabel="degree of the polynomial", ylabel="mean squared error",
               title="Underfitting (left), overfitting (right)")
    ax_err.legend(fontsize=9, loc="upper left")
    ax_err.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def weight_decay_comparison(model, runs, X, y, X_val, y_val):
    """Weight decay on the overfitting network: validation loss per epoch for each λ (top) and
    the decision regions at the end of training (bottom).

    ``runs`` maps λ to ``(history, params)``; the parameters are copied into ``model`` in turn.
    Returns the figure; ``model`` keeps the last run's weights.
    """
    fig = plt.figure(figsize=(11, 7))
    grid = fig.add_gridspec(2, len(runs), height_ratios=[1, 1.1])
    ax_loss = fig.add_subplot(grid[0, :])
    styles = ["-", "--", "-.", ":"]
    colours = [CLASS_COLORS[k] for k in (0, 1, 4, 7)]
    for k, (lam, (history, params)) in enumerate(runs.items()):
        epochs = np.arange(1, history.epochs + 1)
        ax_loss.plot(epochs, history.val_loss, styles[k % 4], color=colours[k % 4], lw=1.6,
                     label=f"λ = {lam:g}")
    ax_loss.set(xlabel="epoch", ylabel="validation loss",
                title="Validation loss of the big network for several weight decays λ")
    ax_loss.legend(fontsize=9, ncol=len(runs), loc="upper center")
    ax_loss.grid(alpha=0.3)
    for k, (lam, (history, params)) in enumerate(runs.items()):
        for p, value in zip(model.params, params):
            p[...] = value
        ax = fig.add_subplot(grid[1, k])
        decision_boundary(model.predict_proba, X, y, ax=ax, resolution=80,
                          title=f"λ = {lam:g}: validation acc. {model.accuracy(X_val, y_val):.2f}")
        ax.title.set_fontsize(10)
        if k:
            ax.set_ylabel("")
        legend = ax.get_legend()
        if legend is not None and k:
            legend.remove()
    fig.tight_layout()
    return fig


def parallelism_diagram():
    """Data parallelism (left: every worker holds the whole model and a shard of the batch; the
    gradients are averaged) and model parallelism (right: each worker holds some layers; the
    activations travel between them). Returns the figure."""
    fig, (ax_d, ax_m) = plt.subplots(1, 2, figsize=(10, 4))

    def box(ax, x, y, w, h, text, colour):
        ax.add_patch(Rectangle((x, y), w, h, facecolor=colour, edgecolor="k", lw=1))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9)

    def arrow(ax, a, b, text="", left=False):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color="k", lw=1))
        if text:
            ax.text((a[0] + b[0]) / 2 + (-0.15 if left else 0.15), (a[1] + b[1]) / 2, text,
                    fontsize=8, va="center", ha="right" if left else "left")

    light, mid = "#c6dbef", "#fdd0a2"
    box(ax_d, 0.5, 8.2, 9, 1.2, "mini-batch of B samples", "0.92")
    for k in range(4):
        x = 0.3 + 2.4 * k
        arrow(ax_d, (x + 1, 8.2), (x + 1, 7.1))
        box(ax_d, x, 5.0, 2.0, 2.1, f"worker {k + 1}\nwhole model\nB/4 samples", light)
        arrow(ax_d, (x + 1, 5.0), (5, 3.1))
    box(ax_d, 2.5, 1.9, 5, 1.2, "mean of the 4 gradients", mid)
    arrow(ax_d, (5, 1.9), (5, 0.9))
    ax_d.text(5, 0.5, "one SGD step, sent back to every copy", ha="center", fontsize=9)
    ax_d.set_title("Data parallelism: split the batch")
    box(ax_m, 3.0, 8.6, 4.0, 1.0, "the whole mini-batch", "0.92")
    for k in range(3):
        y0 = 6.2 - 2.7 * k
        box(ax_m, 3.0, y0, 4.0, 1.6, f"worker {k + 1}: layer {k + 1}\n(its weights only)", light)
        top = 8.6 if k == 0 else y0 + 2.7
        arrow(ax_m, (4.3, top), (4.3, y0 + 1.6), "activations" if k else "", left=True)
        if k:
            arrow(ax_m, (5.7, y0 + 1.6), (5.7, top), "gradients")
    ax_m.text(5, 0.15, "the workers wait for each other, layer by layer", ha="center", fontsize=9)
    ax_m.set_title("Model parallelism: split the network")
    for ax in (ax_d, ax_m):
        ax.set(xlim=(0, 10), ylim=(0, 10))
        ax.axis("off")
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


def playground_frame(fig, train, history, snapshots, epoch, *, name, max_epoch=100,
                     train_loss=None):
    """One frame of the playground, drawn on ``fig``, at ``epoch``.

    ``train`` = ``(X, y)`` are the training points, ``history`` the :func:`nnlib.fit` history of
    the run and ``snapshots`` a dict epoch -> :func:`snapshot` (the latest one at or before
    ``epoch`` is shown); ``name`` (the data set) starts the first title. Top left: decision
    regions and points; top right: the first hidden layer's unit maps; bottom: the losses up to
    ``epoch`` on an axis that ends at ``max_epoch``. ``train_loss`` (one value per epoch, e.g.
    measured at each epoch's end) replaces ``history.train_loss``, the running mean of the epoch.
    """
    gs = fig.add_gridspec(2, 2, left=0.08, right=0.98, bottom=0.1, top=0.94, wspace=0.15,
                          hspace=0.42, height_ratios=[1.35, 1])
    regions, maps = snapshots[max(e for e in snapshots if e <= epoch)]
    X, y = train
    ax_b = fig.add_subplot(gs[0, 0])
    ax_b.imshow(regions, origin="lower", extent=GRID_EXTENT, interpolation="nearest")
    points = [ax_b.scatter(*X[y == k].T, s=16, color=CLASS_COLORS[k], edgecolor="k",
                           linewidths=0.4, marker="os"[k], label=f"class {k}") for k in (0, 1)]
    ax_b.set(xlim=GRID_EXTENT[:2], ylim=GRID_EXTENT[2:], xlabel="$x_1$", ylabel="$x_2$",
             xticks=[-1, 0, 1], yticks=[-1, 0, 1])
    n = min(epoch, history.epochs)
    if history.diverged and epoch > history.epochs:
        status = f"diverged in epoch {history.epochs + 1}"
        ax_b.text(0, 0, DIVERGED, ha="center", va="center", color="red", fontsize=12,
                  fontweight="bold", bbox={"facecolor": "white", "alpha": 0.85})
    else:
        status = f"validation accuracy {history.val_acc[n - 1]:.2f}" if n else "before training"
    ax_b.set_title(f"{name}, epoch {epoch}:\n{status}", fontsize=11)
    ax_b.legend(handles=points, loc="upper right", fontsize=9, framealpha=0.9)
    ax_u = fig.add_subplot(gs[0, 1])
    ax_u.imshow(maps, cmap=UNIT_CMAP, vmin=0, vmax=1, interpolation="nearest")
    ax_u.set(xticks=[], yticks=[])
    ax_u.set_title("first hidden layer:\neach unit's output over the same square", fontsize=11)
    ax_u.set_xlabel("white: output 0; dark: the unit's largest output", fontsize=10)
    ax_l = fig.add_subplot(gs[1, :])
    epochs = np.arange(1, n + 1)
    train_values = history.train_loss if train_loss is None else train_loss
    ax_l.plot(epochs, train_values[:n], "-", color=CLASS_COLORS[0], lw=2,
              label="training loss" + ("" if train_loss is None else " (at each epoch's end)"))
    ax_l.plot(epochs, history.val_loss[:n], "--", color=CLASS_COLORS[1], lw=2,
              label="validation loss")
    ax_l.set(xlim=(0, max_epoch), ylim=(1e-3, 5), yscale="log", xlabel="epoch", ylabel="loss")
    ax_l.set_yticks([1e-3, 1e-2, 1e-1, 1], labels=["0.001", "0.01", "0.1", "1"])   # fixed ticks:
    ax_l.yaxis.set_minor_locator(NullLocator())                       # a much faster redraw
    ax_l.set_title("Loss (log scale)", fontsize=11)
    ax_l.legend(loc="lower left", fontsize=10, ncol=2)
