"""Figures of chapter 2 (the perceptron): the line panel, the learning curves and the margin."""
import matplotlib.pyplot as plt
import numpy as np

from nnlib import perceptron_output
from nnbook.plotting import CLASS_COLORS, decision_line
from nnbook.widgets import Panel

LIM = (-0.5, 1.5)
FIRE, SILENT = np.array([1.0, 0.87, 0.73]), np.array([0.85, 0.91, 0.97])   # light orange / blue


def line_panel(X, targets, res=120, w1=1.0):
    """One perceptron over the points ``X`` for each data set in ``targets`` (name -> labels): the
    output-1 side shaded, its line, misclassified points ringed. Sliders: w2 and b, 7 values each
    (the web page holds every combination); w1 stays at ``w1``: multiplying w1, w2 and b by the
    same positive number moves neither the line nor its shaded side."""
    g = np.linspace(*LIM, res)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(g, g)])

    def draw(fig, w2=1.0, b=-1.5):
        fire = perceptron_output(grid, [w1, w2], b).reshape(res, res, 1) > 0
        out = perceptron_output(X, [w1, w2], b)
        for ax, (name, target) in zip(fig.subplots(1, len(targets)), targets.items()):
            ax.imshow(np.where(fire, FIRE, SILENT), origin="lower", extent=LIM + LIM,
                      interpolation="nearest")
            for k in (0, 1):
                ax.scatter(*X[target == k].T, s=90, color=CLASS_COLORS[k], edgecolor="k",
                           label=f"target {k}", zorder=3)
            bad = out != target
            ax.scatter(*X[bad].T, s=330, facecolor="none", edgecolor="k", lw=2.4,
                       label="misclassified (ringed)", zorder=4)
            ax.plot(*decision_line([w1, w2], b, xlim=LIM, ylim=LIM), color="k", lw=2)
            ax.set(xlim=LIM, ylim=LIM, xlabel="$x_1$", ylabel="$x_2$", xticks=[0, 1], yticks=[0, 1])
            ax.set_title(f"{name}: {bad.sum()} of 4 misclassified", y=1.0)   # y: no title search
        handles, labels = ax.get_legend_handles_labels()
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor=FIRE, edgecolor="0.5"))
        fig.legend(handles, labels + ["output 1 side"], loc="lower center", ncol=4, fontsize=9,
                   frameon=False)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.25, top=0.91, wspace=0.3)

    return Panel(draw, w2=(-1.0, 2.0, 0.5), b=(-2.5, 0.5, 0.5),
                 labels={"w2": "weight w2", "b": "bias b"}, figsize=(7.5, 4),
                 alt="Perceptron line and output-1 side over the AND and OR points")


def training_plot(trained, X, y_and):
    """Left: the errors per epoch of each perceptron in ``trained`` (name -> (perceptron, errors));
    right: the line of ``trained["AND"]`` after each epoch that changed it, over the AND data."""
    fig, (ax_err, ax_line) = plt.subplots(1, 2, figsize=(10, 4))
    for name, (p, errors) in trained.items():
        ax_err.plot(range(1, len(errors) + 1), errors, "o-" if name == "AND" else "s--", label=name)
    ax_err.set(xlabel="epoch", ylabel="misclassified examples (of 4)", ylim=(-0.2, 4.2), yticks=range(5),
               title="Perceptron learning: errors per epoch")
    ax_err.legend()
    p_and, errors_and = trained["AND"]
    last = errors_and.index(0)           # the first epoch without mistakes changes nothing
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, last))
    styles = [(0, (1, 1.5)), (0, (5, 2)), "-.", (0, (8, 2, 1, 2, 1, 2))]
    for epoch in range(1, last + 1):     # the line after epochs 1, 2, ..., last
        final = epoch == last            # colour and line style both tell the epochs apart
        ax_line.plot(*decision_line(*p_and.history[epoch], xlim=LIM, ylim=LIM),
                     color=colours[epoch - 1], lw=3 if final else 1.8,
                     ls="-" if final else styles[(epoch - 1) % len(styles)],
                     label=f"after epoch {epoch}" + (" (final)" if final else ""))
    for k in (0, 1):
        ax_line.scatter(*X[y_and == k].T, s=110, color=CLASS_COLORS[k], edgecolor="k",
                        label=f"AND = {k}", zorder=3)
    ax_line.set(xlim=LIM, ylim=LIM, xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
                title="The AND line, epoch by epoch")
    ax_line.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small")
    fig.tight_layout()


def margin(w, b, X, y):
    """The margin of the line ``w . x + b = 0`` on the points ``X`` with 0/1 labels ``y``: the
    smallest signed distance s (w . x + b) / |w| (s = +1 for label 1, -1 for label 0) and the
    indices of the points at that distance. Negative when a point is on the wrong side."""
    d = (2 * np.asarray(y) - 1) * (X @ np.asarray(w, float) + b) / np.linalg.norm(w)
    return d.min(), np.flatnonzero(d <= d.min() + 1e-9)


def margin_plot(X, y, lines):
    """One panel per line in ``lines`` (title -> (w, b)) over the points ``X`` with labels ``y``:
    the line, the band of points closer to it than the margin, and the closest points with their
    distance drawn as a segment perpendicular to the line. Returns the figure."""
    fig, axes = plt.subplots(1, len(lines), figsize=(4.6 * len(lines), 4.6))
    for ax, (title, (w, b)) in zip(np.atleast_1d(axes), lines.items()):
        w = np.asarray(w, float)
        d, closest = margin(w, b, X, y)
        n = np.linalg.norm(w)
        # the band |w . x + b| / |w| < d, between two lines parallel to the boundary
        g = np.linspace(*LIM, 150)
        G1, G2 = np.meshgrid(g, g)
        dist = np.abs(w[0] * G1 + w[1] * G2 + b) / n
        ax.contourf(G1, G2, dist < d, levels=[0.5, 1.5], colors=["0.85"])
        for sign in (-1, 1):
            ax.plot(*decision_line(w, b + sign * d * n, xlim=LIM, ylim=LIM), color="0.45",
                    ls="--", lw=1)
        ax.plot(*decision_line(w, b, xlim=LIM, ylim=LIM), color="k", lw=2,
                label=f"line: $w = ({w[0]:.3g}, {w[1]:.3g})$, $b = {b:.3g}$")
        for k in (0, 1):
            ax.scatter(*X[y == k].T, s=110, color=CLASS_COLORS[k], edgecolor="k",
                       label=f"AND = {k}", zorder=3)
        for i in closest:                # the foot of the perpendicular from x_i onto the line
            foot = X[i] - (X[i] @ w + b) / n ** 2 * w
            ax.plot(*np.column_stack([X[i], foot]), color=CLASS_COLORS[4], lw=2.5, zorder=4,
                    solid_capstyle="butt")
        # name the distance once, beside the first segment, off the line on the point's side
        i = closest[0]
        middle = X[i] - 0.5 * (X[i] @ w + b) / n ** 2 * w
        along = np.array([-w[1], w[0]]) / n * (1 if w[0] >= 0 else -1)
        side = (2 * y[i] - 1) * w / n    # from the line towards the point's side
        ax.annotate(f"$d = {d:.3f}$", xy=middle, xytext=middle + 0.3 * along + 0.3 * side,
                    fontsize=11,
                    ha="center", va="center", zorder=5, bbox=dict(fc="white", ec="0.6", pad=2),
                    arrowprops=dict(arrowstyle="-", color="0.3", lw=0.8))
        ax.plot([], [], color=CLASS_COLORS[4], lw=2.5, label="distance to the line")
        ax.scatter(*X[closest].T, s=320, facecolor="none", edgecolor="k", lw=1.8, zorder=4,
                   label=f"closest: distance {d:.3f}")
        ax.plot([], [], color="0.45", ls="--", lw=1, label="margin band")
        ax.set(xlim=LIM, ylim=LIM, xlabel="$x_1$", ylabel="$x_2$", aspect="equal", title=title)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=9,
                  frameon=False)
    fig.tight_layout()
    return fig
