"""Figures of chapter 4 (the MLP): activation sizes through a deep stack, the training budget of
the width comparison, and the universal-approximation panel."""
import matplotlib.pyplot as plt
import numpy as np

from nnbook.plotting import CLASS_COLORS
from nnbook.widgets import Panel

STYLES = [dict(color=CLASS_COLORS[0], ls="-", marker="o"),
          dict(color=CLASS_COLORS[1], ls="--", marker="s"),
          dict(color=CLASS_COLORS[2], ls="-.", marker="^"),
          dict(color=CLASS_COLORS[4], ls=":", marker="D")]


def activation_scales(stds):
    """One panel per activation: the standard deviation of each hidden layer's output, one line
    per weight variance. ``stds[activation][label]`` is the list of per-layer values."""
    fig, axes = plt.subplots(1, len(stds), figsize=(10, 4), sharey=True)
    for ax, (activation, rows) in zip(np.atleast_1d(axes), stds.items()):
        for style, (label, values) in zip(STYLES, rows.items()):
            ax.semilogy(range(1, len(values) + 1), values, ms=5, lw=1.8, label=label, **style)
        ax.axhline(1.0, color="0.6", lw=1, zorder=0)
        name = {"relu": "ReLU"}.get(activation, activation)
        ax.set(xlabel="layer", title=f"{name}: {len(values)} layers of 256 units",
               xticks=range(1, len(values) + 1))
    np.atleast_1d(axes)[0].set_ylabel("std of the layer's outputs (log scale)")
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False,
               title="variance of the initial weights", title_fontsize=9)
    fig.suptitle("The same inputs of unit size, pushed through random networks", fontsize=11)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def width_budget(histories, mark):
    """Training-loss curves (log scale) of the width comparison run for longer: ``histories[h]``
    is the :class:`nnlib.History` of the network with h hidden units; a dotted line marks the
    epoch ``mark`` at which the table stopped. Each curve is labelled at its end."""
    fig, ax = plt.subplots(figsize=(7.5, 4))
    colours = [CLASS_COLORS[0], CLASS_COLORS[1], "0.15"]
    ends = {h: float(np.median(hist.train_loss[-100:])) for h, hist in histories.items()}
    label_at, previous = {}, None          # label heights, at least a factor 1.5 apart
    for h in sorted(ends, key=ends.get):
        label_at[h] = ends[h] if previous is None else max(ends[h], previous * 1.5)
        previous = label_at[h]
    for colour, (h, history) in zip(colours, histories.items()):
        loss = history.train_loss
        ax.semilogy(range(1, len(loss) + 1), loss, lw=1.2, color=colour, label=f"{h} hidden units")
        ax.text(len(loss) * 1.015, label_at[h], f"{h} units", va="center", fontsize=9, color=colour)
    ax.axvline(mark, color="0.4", ls=":", lw=1.5, label=f"epoch {mark} (the table above)")
    ax.set(xlabel="epoch", ylabel="training loss (log scale)",
           xlim=(0, len(loss) * 1.12),
           title="More units need more training before they pay off")
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return fig


def approximation_panel(x, y, fits, n_show=8):
    """The target ``y(x)`` and the fit of a network with h = 2**k hidden units (left), and the
    units' curves v_j tanh(w_j x + b_j) (right: the ``n_show`` largest), the output bias c and
    their sum, which is the network's output. ``fits[h]`` holds the chapter's results:
    ``"pred"``, ``"parts"`` (one column per unit), ``"bias"`` and ``"max_error"``."""
    def draw(fig, k=2):
        h, ax_fit, ax_parts = 2 ** k, *fig.subplots(1, 2)
        parts, c = fits[h]["parts"], fits[h]["bias"]
        ax_fit.plot(x, y, color="k", lw=2, label="target f(x)")
        ax_fit.plot(x, fits[h]["pred"], color=CLASS_COLORS[1], lw=2.2, ls="--", label="network")
        ax_fit.set(xlim=(-3, 3), ylim=(-2.6, 2.6), xlabel="x", ylabel="y",
                   title=f"{h} hidden unit{'s' if h > 1 else ''}: largest error "
                         f"{fits[h]['max_error']:.2f}")
        largest = np.argsort(-np.abs(parts).max(axis=0))[:n_show]
        ax_parts.plot(x, parts[:, largest], lw=1.2)
        ax_parts.plot([], [], color="0.5", lw=1.2,
                      label=(f"the {n_show} largest of {h} units" if h > n_show
                             else "one curve per hidden unit"))
        ax_parts.axhline(c, color="0.3", ls=":", lw=1.8, label=f"output bias c ({c:.2f})")
        ax_parts.plot(x, parts.sum(axis=1) + c, color="k", ls="--", lw=2,
                      label="all curves + c: the output")
        ax_parts.set(xlim=(-3, 3), ylim=(-3.5, 3.5), xlabel="x",
                     ylabel="$v_j \\tanh(w_j x + b_j)$", title="What the output neuron adds up")
        for ax, ncol in ((ax_fit, 1), (ax_parts, 1)):
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=ncol, fontsize=9,
                      frameon=False)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.32, top=0.92, wspace=0.3)

    return Panel(draw, k=(0, 5, 1), labels={"k": "k (h = 2^k units)"}, figsize=(8.5, 4.3))
