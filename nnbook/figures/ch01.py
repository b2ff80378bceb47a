"""Figures of chapter 1 (the neuron): the neuron diagram, the learning-rate and sports panels."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from nnlib import delta_rule, weighted_sum
from nnbook.widgets import Panel

GO, STAY = "#0072b2", "#c8c8c8"      # blue vs hatched light grey: readable without colour vision


def draw_neuron(ax):
    """Draw a neuron with three inputs on ``ax``: inputs, weights, sum, activation, output."""
    for k, y in enumerate([1.6, 0.0, -1.6]):
        ax.add_patch(plt.Circle((0, y), 0.38, facecolor="#eef3fb", edgecolor="0.2"))
        ax.text(0, y, f"$x_{k + 1}$", ha="center", va="center", fontsize=13)
        ax.annotate("", xy=(2.55, 0.35 * y / 1.6), xytext=(0.4, y),
                    arrowprops=dict(arrowstyle="->", color="0.3", lw=1.3))
        ax.text(1.35, 0.62 * y + 0.18, f"$w_{k + 1}$", fontsize=12, color="#c0262d")
    ax.add_patch(plt.Circle((3.1, 0), 0.6, facecolor="#fdf6e3", edgecolor="0.2"))
    ax.text(3.1, 0, r"$\Sigma$", ha="center", va="center", fontsize=18)
    ax.text(3.1, -0.95, "weighted sum\n$z = \\sum_i w_i x_i$", ha="center", va="top", fontsize=10)
    ax.add_patch(plt.Rectangle((4.7, -0.5), 1.4, 1.0, facecolor="white", edgecolor="0.2"))
    zz = np.linspace(-1, 1, 50)
    ax.plot(4.8 + 0.6 * (zz + 1), -0.3 + 0.6 * (zz > 0), color="#1f77b4", lw=2)
    ax.text(5.4, -0.95, "activation\n$f(z)$", ha="center", va="top", fontsize=10)
    for x0, x1 in [(3.7, 4.7), (6.1, 7.4)]:
        ax.annotate("", xy=(x1, 0), xytext=(x0, 0), arrowprops=dict(arrowstyle="->", lw=1.3))
    ax.text(7.5, 0, "output $y$", va="center", fontsize=12)
    ax.text(0, 2.35, "inputs\n(dendrites)", ha="center", fontsize=10)
    ax.text(6.75, 0.35, "(axon)", ha="center", fontsize=10)
    ax.set(xlim=(-0.8, 9.0), ylim=(-2.3, 3.0), title="An artificial neuron with three inputs")
    ax.set_aspect("equal")
    ax.axis("off")


def learning_rate_panel(x, y, w0, true_w):
    """The delta rule on the examples ``(x, y)`` from ``w0``: weight and |error| per learning rate."""
    steps = np.arange(len(x) + 1)

    def draw(fig, lr=0.3):
        ws = delta_rule(x, y, w0=w0, lr=lr)
        errors = np.abs(y - ws[:-1] * x)
        ax_w, ax_e = fig.subplots(1, 2)
        ax_w.plot(steps, ws, "o-", ms=3, color="#1f77b4", label="weight w")
        ax_w.axhline(true_w, color="k", ls=":", lw=1, label="true factor")
        ax_w.set(xlim=(0, len(x)), ylim=(-1, 2), xlabel="examples seen", ylabel="weight w",
                 title="Weight")
        ax_e.semilogy(steps[1:], np.clip(errors, 1e-12, None), "o-", ms=3, color="#d62728",
                      label="|error| of each example")
        ax_e.set(xlim=(1, len(x)), ylim=(1e-9, 1e3), xlabel="example", ylabel="|y − w·x|",
                 title="Error")
        for ax in (ax_w, ax_e):
            ax.legend(loc="upper right", fontsize="small")
        if not np.all(np.isfinite(errors)) or errors[-6:].mean() > errors[:6].mean():
            verdict = "diverging: the error grows with every pass"
        else:
            verdict = f"{'converged to' if errors[-1] < 1e-3 else 'still learning,'} w = {ws[-1]:.4f}"
        fig.suptitle(f"Learning rate η = {lr:.2f}: {verdict}")
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.15, top=0.8, wspace=0.38)

    return Panel(draw, lr=(0.05, 1.6, 0.05), labels={"lr": "learning rate η"}, figsize=(7.5, 3.4))


def sports_panel(X, names, zlim=(-6.0, 8.0)):
    """One bar per event (rows of ``X``, labelled ``names``): its weighted sum z = w·x against the
    threshold; sliders for the three weights and the threshold. Long bars are cut at ``zlim``."""
    lo, hi = zlim

    def draw(fig, w1=1.0, w2=-4.0, w3=-1.0, threshold=0.0):
        z = weighted_sum(X, [w1, w2, w3])
        ax = fig.add_subplot()
        for i, zi in enumerate(z):
            go = zi > threshold
            ax.bar(i, np.clip(zi, lo, hi), color=GO if go else STAY, hatch=None if go else "//",
                   edgecolor="0.2")
            inside = zi < lo + 0.8 or zi > hi - 0.8      # a long bar: its value goes inside its end
            at = (lo + 0.2 if zi < 0 else hi - 0.2) if inside else zi + (0.2 if zi >= 0 else -0.2)
            ax.text(i, at, f"{zi:.2f}" + ("\n(cut)" if not lo <= zi <= hi else ""), ha="center",
                    va="bottom" if zi < 0 and inside or zi >= 0 and not inside else "top",
                    fontsize=9, bbox=dict(fc="white", ec="none", pad=1) if inside else None)
        line = ax.axhline(threshold, color="k", ls="--", lw=1.5, label="threshold")
        ax.axhline(0.0, color="0.4", lw=0.8)
        ax.set_xticks(range(len(z)), names, fontsize=9)
        ax.set(ylim=zlim, xlim=(-0.6, len(z) - 0.4), ylabel="weighted sum z = w·x",
               title="Go or stay? One bar per event")
        ax.legend(handles=[Patch(fc=GO, ec="0.2", label="go (z > threshold)"),
                           Patch(fc=STAY, ec="0.2", hatch="//", label="stay home"), line],
                  loc="upper right", fontsize="small")
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.9)

    return Panel(draw, w1=(-1.0, 2.0, 0.5), w2=(-5.0, 1.0, 0.5), w3=(-3.0, 1.0, 0.5),
                 threshold=(-3.0, 3.0, 0.5), figsize=(7.5, 4),
                 static={"w1": [-1, 2], "w2": [-5, -2, 1], "w3": [-3, 1], "threshold": [-3, -1, 2]},
                 labels={"w1": "w1 (temperature)", "w2": "w2 (price)", "w3": "w3 (travel time)"})
