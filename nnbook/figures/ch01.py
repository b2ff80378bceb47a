"""Figures of chapter 1 (the neuron): the neuron diagram, the weight and per-pass-factor plots,
the learning-rate and sports panels."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from nnlib import delta_rule, weighted_sum
from nnbook.plotting import CLASS_COLORS
from nnbook.widgets import Panel

GO, STAY = "#0072b2", "#c8c8c8"      # blue vs hatched light grey: readable without colour vision
#: one colour, marker and line style per learning rate: the curves differ without colour vision
RATE_STYLES = [(CLASS_COLORS[0], "o", "-"), (CLASS_COLORS[1], "s", "--"),
               (CLASS_COLORS[4], "^", "-."), ("k", "D", ":")]


def pass_factor(x, lr):
    """The factor prod_i (1 - lr * x_i**2) by which one pass over the inputs ``x`` multiplies the
    gap w - w* of the delta rule (for examples without noise, y = w* x). ``lr`` may be an array."""
    lr = np.asarray(lr, dtype=float)
    return np.prod(1.0 - lr[..., None] * np.asarray(x, dtype=float) ** 2, axis=-1)


def draw_nerve_cell(ax):
    """A schematic nerve cell on ``ax``: dendrites, cell body, axon with its myelin sheath and the
    axon terminals, with the direction in which a signal travels."""
    line = dict(color="0.25", lw=1.6, solid_capstyle="round")
    rng = np.random.default_rng(1)               # fixed, slightly irregular branches
    for angle in np.radians([105, 140, 175, 210, 245]):
        end = np.array([np.cos(angle), np.sin(angle)]) * 1.35
        ax.plot([0, end[0]], [0, end[1]], **line)
        for turn in (-0.45, 0.45):               # each dendrite forks twice
            tip = end + 0.55 * np.array([np.cos(angle + turn), np.sin(angle + turn)])
            ax.plot([end[0], tip[0]], [end[1], tip[1]], **line)
            for turn2 in (-0.35, 0.35):
                a = angle + turn + turn2 + rng.normal(0, 0.08)
                ax.plot([tip[0], tip[0] + 0.3 * np.cos(a)], [tip[1], tip[1] + 0.3 * np.sin(a)],
                        color="0.25", lw=1.0)
    ax.add_patch(plt.Circle((0, 0), 0.55, facecolor="#fdf6e3", edgecolor="0.2", lw=1.5, zorder=3))
    ax.add_patch(plt.Circle((0.05, 0.05), 0.18, facecolor="#e8d9b0", edgecolor="0.4", zorder=4))
    ax.plot([0.55, 5.2], [0, 0], **line)         # the axon ...
    for x0 in np.arange(0.9, 4.9, 0.75):         # ... wrapped in segments of myelin
        ax.add_patch(plt.Rectangle((x0, -0.13), 0.6, 0.26, facecolor="#eef3fb", edgecolor="0.3",
                                   zorder=3))
    for angle in np.radians([-50, -20, 10, 40]): # the axon terminals: synapses to other cells
        tip = np.array([5.2, 0]) + 0.8 * np.array([np.cos(angle), np.sin(angle)])
        ax.plot([5.2, tip[0]], [0, tip[1]], **line)
        ax.add_patch(plt.Circle(tip, 0.09, facecolor=CLASS_COLORS[0], edgecolor="0.2", zorder=3))
    ax.annotate("", xy=(4.4, 0.75), xytext=(1.2, 0.75),
                arrowprops=dict(arrowstyle="-|>", color=CLASS_COLORS[1], lw=2))
    ax.text(2.8, 0.9, "a spike travels along the axon", ha="center", fontsize=10)
    for (x, y), text, ha in [((-2.45, 0.0), "dendrites:\ncollect signals\nfrom other cells", "right"),
                             ((0.62, -0.3), "cell body:\nadds up what\narrives", "left"),
                             ((3.5, -0.3), "axon", "center"),
                             ((5.6, -0.95), "terminals: pass the\nsignal on (synapses)", "center")]:
        ax.text(x, y, text, ha=ha, va="center" if ha == "right" else "top", fontsize=10)
    ax.set(xlim=(-4.9, 7.0), ylim=(-1.9, 2.1), title="A nerve cell, schematically")
    ax.set_aspect("equal")
    ax.axis("off")


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


def weight_curves(x, y, w0, true_w, rates):
    """The weight of the delta rule after each example of ``(x, y)`` from ``w0``, one curve per
    learning rate in ``rates`` (at most four), with the true factor ``true_w``. Returns the figure."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for lr, (color, marker, ls) in zip(rates, RATE_STYLES):
        ax.plot(delta_rule(x, y, w0=w0, lr=lr), marker=marker, ls=ls, color=color, ms=4, lw=1.3,
                label=f"η = {lr}")
    ax.axhline(true_w, color="0.6", lw=4, alpha=0.5, zorder=0, label=f"true factor {true_w:.4f}")
    ax.set(xlabel="examples seen", ylabel="weight w", ylim=(-1, 2), xlim=(0, len(x)),
           title="The weight during learning, for four learning rates")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    fig.tight_layout()
    return fig


def pass_factor_plot(x, rates, threshold, lr_max=1.6):
    """|per-pass factor| of the delta rule on the inputs ``x`` against the learning rate, on a log
    scale: below 1 the gap shrinks with every pass, above 1 it grows. The ``rates`` of the weight
    plot are marked, ``threshold`` (where the factor reaches 1) is drawn. Returns the figure."""
    lrs = np.linspace(0.0, lr_max, 801)[1:]
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.semilogy(lrs, np.abs(pass_factor(x, lrs)), color="0.2", lw=1.8,
                label="|factor per pass| = |Π(1 − ηx²)|")
    ax.axhline(1.0, color="0.4", lw=1, ls="--")
    ax.axvspan(threshold, lr_max, color=CLASS_COLORS[1], alpha=0.15, lw=0,
               label=f"diverges: η > {threshold:.3f}")
    for lr, (color, marker, _) in zip(rates, RATE_STYLES):
        ax.semilogy(lr, abs(pass_factor(x, lr)), marker=marker, color=color, ms=8, ls="",
                    mec="k", label=f"η = {lr}: {pass_factor(x, lr):+.3g}")
    ax.set(xlim=(0, lr_max), ylim=(1e-6, 1e2), xlabel="learning rate η",
           ylabel="|gap after| / |gap before|",
           title="One pass over the six distances multiplies the gap $w - w^*$ by $\\Pi(\\eta)$")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    fig.tight_layout()
    return fig


def learning_rate_panel(x, y, w0, true_w, period=None):
    """The delta rule on the examples ``(x, y)`` from ``w0``: weight and |error| per learning rate.
    ``period`` (the number of distinct examples, repeated in order) gives the per-pass factor in
    the title."""
    steps = np.arange(len(x) + 1)
    period = len(x) if period is None else period

    def draw(fig, lr=0.3):
        ws = delta_rule(x, y, w0=w0, lr=lr)
        errors = np.abs(y - ws[:-1] * x)
        ax_w, ax_e = fig.subplots(1, 2)
        ax_w.plot(steps, ws, "o-", ms=3, color=CLASS_COLORS[0])
        ax_w.axhline(true_w, color="0.3", ls=":", lw=1.2)
        ax_w.set(xlim=(0, len(x)), ylim=(-1, 2), xlabel="examples seen", ylabel="weight w",
                 title="Weight")
        ax_e.semilogy(steps[1:], np.clip(errors, 1e-12, None), "s-", ms=3, color=CLASS_COLORS[1])
        ax_e.set(xlim=(1, len(x)), ylim=(1e-9, 1e6), xlabel="example", ylabel="|y − w·x|",
                 title="Error of each example")
        factor = pass_factor(x[:period], lr)
        verdict = "diverging" if abs(factor) >= 1 else (
            "converged" if errors[-1] < 1e-3 else "still learning")
        fig.suptitle(f"η = {lr:.2f}: each pass multiplies the gap by {factor:+.3g} ({verdict}), "
                     f"w = {ws[-1]:.4g}", fontsize=10)
        fig.legend(handles=[Line2D([], [], color=CLASS_COLORS[0], marker="o", ms=3,
                                   label="weight w after each example"),
                            Line2D([], [], color="0.3", ls=":", label=f"true factor {true_w:.4f}"),
                            Line2D([], [], color=CLASS_COLORS[1], marker="s", ms=3,
                                   label="|error| of each example")],
                   loc="lower center", ncol=3, fontsize=9, frameon=False)
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.25, top=0.84, wspace=0.38)

    return Panel(draw, lr=(0.05, 1.6, 0.05), labels={"lr": "learning rate η"}, figsize=(7.5, 3.8))


def sports_panel(X, names, w1=1.0, w3=-1.0, zlim=(-6.0, 8.0)):
    """One bar per event (rows of ``X``, labelled ``names``): its weighted sum z = w·x against the
    threshold; sliders for the price weight and the threshold, 7 values each (the web page holds
    every combination); the temperature and travel-time weights stay at ``w1`` and ``w3``. Long
    bars are cut at ``zlim``."""
    lo, hi = zlim
    xs = np.arange(len(X))
    legend = [Patch(fc=GO, ec="0.2", label="go (z > threshold)"),
              Patch(fc=STAY, ec="0.2", hatch="//", label="stay home"),
              Line2D([], [], color="k", ls="--", lw=1.5, label="threshold")]

    def draw(fig, w2=-4.0, threshold=0.0):
        z = weighted_sum(X, [w1, w2, w3])
        go = z > threshold
        ax = fig.add_subplot()
        ax.bar(xs, np.clip(z, lo, hi), color=[GO if g else STAY for g in go],
               hatch=[None if g else "//" for g in go], edgecolor="0.2")
        for i, zi in enumerate(z):
            inside = zi < lo + 0.8 or zi > hi - 0.8      # a long bar: its value goes inside its end
            at = (lo + 0.2 if zi < 0 else hi - 0.2) if inside else zi + (0.2 if zi >= 0 else -0.2)
            ax.text(i, at, f"{zi:.2f}" + ("\n(cut)" if not lo <= zi <= hi else ""), ha="center",
                    va="bottom" if zi < 0 and inside or zi >= 0 and not inside else "top",
                    fontsize=9, bbox=dict(fc="white", ec="none", pad=1) if inside else None)
        ax.axhline(threshold, color="k", ls="--", lw=1.5)
        ax.axhline(0.0, color="0.4", lw=0.8)
        ax.set_xticks(xs, names, fontsize=9)
        ax.set_yticks(range(int(lo), int(hi) + 1, 2))
        ax.set(ylim=zlim, xlim=(-0.6, len(z) - 0.4), ylabel="weighted sum z = w·x")
        ax.set_title(f"Go or stay? w = ({w1:g}, {w2:g}, {w3:g}), threshold {threshold:g}", y=1.0)
        ax.legend(handles=legend, loc="upper right", fontsize="small")
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.9)

    return Panel(draw, w2=(-5.0, 1.0, 1.0), threshold=(-3.0, 3.0, 1.0), figsize=(7.5, 4),
                 alt="Weighted sum of each event against the threshold",
                 labels={"w2": "w2 (price)"})
