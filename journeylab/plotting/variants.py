"""The variant explorer: one row per variant, coloured activity chips, share on the side."""

from __future__ import annotations

from collections import Counter

from matplotlib.patches import FancyBboxPatch, Patch, Rectangle

from .._core.formatting import format_duration
from ..exceptions import InvalidParameterError
from . import _style as st

__all__ = ["plot_variants"]

_CHIP = 0.2
_GAP = 0.04
_ROW = 0.3


def plot_variants(var, *, ax=None, max_rows: int = 20, max_chips: int = 40, legend: bool = True,
                  title: bool = True):
    """Draw a :class:`~journeylab.discovery.Variants` as a trace explorer.

    Each row is a variant, most frequent first: a chip per event, coloured by activity
    (legend below), then a bar with the share of cases, the case count and the median
    case duration. Variants longer than ``max_chips`` events are cut with ``+n``.

    >>> import journeylab as jl
    >>> from journeylab.discovery import variants
    >>> ax = variants(jl.datasets.load_example()).plot()
    """
    if not isinstance(max_rows, int) or max_rows < 1 or not isinstance(max_chips, int) or max_chips < 2:
        raise InvalidParameterError("max_rows must be >= 1 and max_chips >= 2 (whole numbers).")
    table = var.table.head(max_rows)
    if table.empty:
        raise InvalidParameterError("there is no variant to draw; the selection is empty.")
    weight = Counter()
    for v, c in zip(table["variant"], table["count"]):
        for a in v:
            weight[a] += int(c)
    order = [a for a, _ in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))]
    colors = st.activity_colors(order)
    longest = min(int(table["length"].max()), max_chips)
    header = "activities in order (one chip per event)"
    chips_w = max(longest * (_CHIP + _GAP), st.text_size(header, 8)[0] + 0.2)
    left = 0.55
    bar_x = left + chips_w + 0.35
    bar_w = 1.5
    max_share = float(table["share"].max())
    created = ax is None
    fig, ax = st.new_axes(ax, figsize=(8, 4))
    n = len(table)
    for i, rec in enumerate(table.itertuples(index=False)):
        y = -i * _ROW
        if i % 2 == 0:
            ax.add_patch(Rectangle((0, y - _ROW / 2), bar_x + bar_w + 2.6, _ROW, fc="#f4f6f8", ec="none", zorder=0))
        ax.text(left - 0.12, y, f"#{i + 1}", ha="right", va="center", fontsize=8, color=st.MUTED, fontfamily=st.FONT)
        seq = list(rec.variant)
        cut = len(seq) > max_chips
        shown = seq[: max_chips - 1] if cut else seq
        for j, a in enumerate(shown):
            x = left + j * (_CHIP + _GAP)
            ax.add_patch(FancyBboxPatch((x, y - _CHIP / 2), _CHIP, _CHIP, boxstyle="round,pad=0,rounding_size=0.04",
                                        fc=colors[a], ec="white", lw=0.5, zorder=2))
        if cut:
            x = left + (max_chips - 1) * (_CHIP + _GAP)
            ax.text(x + _CHIP / 2, y, f"+{len(seq) - len(shown)}", ha="center", va="center", fontsize=8,
                    color=st.MUTED, fontfamily=st.FONT)
        length = rec.share / max_share * bar_w if max_share > 0 else 0
        ax.add_patch(Rectangle((bar_x, y - _CHIP / 2), length, _CHIP, fc="#4e79a7", ec="none", zorder=2))
        dur = format_duration(rec.duration_median, missing="")
        ax.text(bar_x + bar_w + 0.1, y, f"{rec.share:.1%}  ({int(rec.count):,})" + (f"  \u00b7 {dur}" if dur else ""),
                ha="left", va="center", fontsize=8, color=st.INK, fontfamily=st.FONT)
    top = _ROW * 0.9
    ax.text(left, top, header, ha="left", va="bottom", fontsize=8,
            color=st.MUTED, fontfamily=st.FONT)
    ax.text(bar_x, top, "share of cases  (cases)  \u00b7 median duration", ha="left", va="bottom", fontsize=8,
            color=st.MUTED, fontfamily=st.FONT)
    ax.set_xlim(0, bar_x + bar_w + 2.6)
    ax.set_ylim(-(n - 0.5) * _ROW - 0.05, top + 0.3)
    ax.set_aspect("equal")
    st.blank(ax)
    if legend:
        handles = [Patch(fc=colors[a], ec="none", label=a) for a in order]
        ncol = max(1, min(4, int((bar_x + bar_w + 2.6) // 2.4)))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, 0), ncol=ncol, frameon=False, fontsize=8,
                  handlelength=1.0, handleheight=1.0, columnspacing=1.2, borderaxespad=0.3)
    if created:
        ncol = max(1, min(4, int((bar_x + bar_w + 2.6) // 2.4)))
        rows_legend = -(-len(order) // ncol) if legend else 0
        st.size_to_content(fig, ax, top=0.45, bottom=0.15 + 0.2 * rows_legend)
    if title:
        covered = int(table["count"].sum())
        st.title(ax, f"Variants \u00b7 top {n} of {var.n_variants:,} \u00b7 {covered:,} of {var.n_cases:,} cases "
                     f"({covered / var.n_cases:.1%})" if var.n_cases else "Variants")
    return ax
