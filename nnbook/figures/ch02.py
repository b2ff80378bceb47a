"""Figures of chapter 2 (the perceptron): the line panel and the learning curves."""
import matplotlib.pyplot as plt
import numpy as np

from nnlib import perceptron_output
from nnbook.plotting import CLASS_COLORS, decision_line
from nnbook.widgets import Panel

LIM = (-0.5, 1.5)
FIRE, SILENT = np.array([1.0, 0.87, 0.73]), np.array([0.85, 0.91, 0.97])   # light orange / blue


def line_panel(X, targets, res=120):
    """One perceptron over the points ``X`` for each data set in ``targets`` (name -> labels): the
    output-1 side shaded, its line, misclassified points ringed. Sliders: w1, w2 and b."""
    g = np.linspace(*LIM, res)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(g, g)])

    def draw(fig, w1=1.0, w2=1.0, b=-1.5):
        fire = perceptron_output(grid, [w1, w2], b).reshape(res, res, 1) > 0
        out = perceptron_output(X, [w1, w2], b)
        for ax, (name, target) in zip(fig.subplots(1, len(targets)), targets.items()):
            ax.imshow(np.where(fire, FIRE, SILENT), origin="lower", extent=LIM + LIM,
                      interpolation="nearest")
            for k in (0, 1):
                ax.scatter(*X[target == k].T, s=90, color=CLASS_COLORS[k], edgecolor="k",
                           label=f"target {k}", zorder=3)
            bad = out != target
            ax.scatter(*X[bad].T, s=330, facecolor="none", edgecolor="#d62728", lw=2.2,
                       label="misclassified", zorder=4)
            ax.plot(*decision_line([w1, w2], b, xlim=LIM, ylim=LIM), color="k", lw=2)
            ax.set(xlim=LIM, ylim=LIM, xlabel="$x_1$", ylabel="$x_2$",
                   title=f"{name}: {bad.sum()} of 4 misclassified")
        handles, labels = ax.get_legend_handles_labels()
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor=FIRE, edgecolor="0.5"))
        fig.legend(handles, labels + ["output 1 side"], loc="lower center", ncol=4, fontsize=8,
                   frameon=False)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.25, top=0.91, wspace=0.3)

    return Panel(draw, w1=(-1.0, 2.0, 0.25), w2=(-1.0, 2.0, 0.25), b=(-2.5, 1.0, 0.25),
                 labels={"w1": "weight w1", "w2": "weight w2", "b": "bias b"}, figsize=(7.5, 4),
                 static={"w1": [-1, 0, 1.5, 2], "w2": [-1, 0, 1.5, 2], "b": [-2.5, -1, -0.5, 1]})


def training_plot(trained, X, y_and):
    """Left: the errors per epoch of each perceptron in ``trained`` (name -> (perceptron, errors));
    right: the line of ``trained["AND"]`` after each epoch that changed it, over the AND data."""
    fig, (ax_err, ax_line) = plt.subplots(1, 2, figsize=(10, 4))
    for name, (p, errors) in trained.items():
        ax_err.plot(range(1, len(errors) + 1), errors, "o-", label=name)
    ax_err.set(xlabel="epoch", ylabel="misclassified examples (of 4)", ylim=(-0.2, 4.2),
               title="Perceptron learning: errors per epoch")
    ax_err.legend()
    p_and, errors_and = trained["AND"]
    last = errors_and.index(0)           # the first epoch without mistakes changes nothing
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, last))
    for epoch in range(1, last + 1):     # the line after epochs 1, 2, ..., last
        final = epoch == last
        ax_line.plot(*decision_line(*p_and.history[epoch], xlim=LIM, ylim=LIM),
                     color=colours[epoch - 1], lw=3 if final else 1.5,
                     label=f"after epoch {epoch}" + (" (final)" if final else ""))
    for k in (0, 1):
        ax_line.scatter(*X[y_and == k].T, s=110, color=CLASS_COLORS[k], edgecolor="k",
                        label=f"AND = {k}", zorder=3)
    ax_line.set(xlim=LIM, ylim=LIM, xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
                title="The AND line, epoch by epoch")
    ax_line.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small")
    fig.tight_layout()
