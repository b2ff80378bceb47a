"""Figures of chapter 4 (the MLP): the universal-approximation panel."""
from nnbook.widgets import Panel


def approximation_panel(x, y, fits):
    """The target ``y(x)`` and the fit of a network with h = 2**k hidden units (left), and the
    units' curves v_j tanh(w_j x + b_j) that its output adds up (right). ``fits[h]`` holds the
    chapter's results: ``"pred"``, ``"parts"`` (one column per unit) and ``"max_error"``."""
    def draw(fig, k=2):
        h, ax_fit, ax_parts = 2 ** k, *fig.subplots(1, 2)
        ax_fit.plot(x, y, color="k", lw=2, label="target f(x)")
        ax_fit.plot(x, fits[h]["pred"], color="#d62728", lw=2, label="network")
        ax_fit.set(xlim=(-3, 3), ylim=(-2.6, 2.6), xlabel="x", ylabel="y",
                   title=f"{h} hidden unit{'s' if h > 1 else ''}: largest error "
                         f"{fits[h]['max_error']:.2f}")
        ax_parts.plot(x, fits[h]["parts"], lw=1)
        ax_parts.plot([], [], color="0.4", lw=1, label="one curve per hidden unit")
        ax_parts.set(xlim=(-3, 3), ylim=(-3.5, 3.5), xlabel="x",
                     ylabel="$v_j \\tanh(w_j x + b_j)$", title="What the hidden units add up")
        for ax in (ax_fit, ax_parts):
            ax.legend(loc="lower left", fontsize="small")
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.88, wspace=0.3)

    return Panel(draw, k=(0, 5, 1), labels={"k": "k (h = 2^k units)"}, figsize=(7.5, 3.5))
