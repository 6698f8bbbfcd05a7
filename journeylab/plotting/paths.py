"""Paths into or out of an activity, drawn as a Sankey-style flow chart."""

from __future__ import annotations

from collections import defaultdict

from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from .._core.vocabulary import END, START
from ..exceptions import InvalidParameterError
from . import _style as st

__all__ = ["plot_paths"]

_NODE_W = 0.14
_COL_GAP = 2.5
_NODE_GAP = 0.1
_MIN_SLOT = 0.3


def _band(ax, x0, y0_top, y0_bot, x1, y1_top, y1_bot, color):
    """A filled band between two vertical spans, with smooth horizontal ends."""
    mx = (x0 + x1) / 2
    verts = [(x0, y0_top), (mx, y0_top), (mx, y1_top), (x1, y1_top), (x1, y1_bot), (mx, y1_bot), (mx, y0_bot),
             (x0, y0_bot), (x0, y0_top)]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4, Path.CURVE4,
             Path.CLOSEPOLY]
    ax.add_patch(PathPatch(Path(verts, codes), fc=color, ec="none", alpha=0.42, zorder=1))


def plot_paths(result, *, ax=None, height: float = 4.5, title: bool = True):
    """Draw a :class:`~journeylab.discovery.Paths` as a flow chart, one column per step.

    Columns are steps away from the anchor (left to right in time); a bar is an
    activity at that step, as tall as the occurrences that pass through it; bands are
    the flows between consecutive steps, coloured by the activity they lead to. Only the
    paths in the table are drawn (the ``top`` of :func:`~journeylab.paths`).

    >>> import journeylab as jl
    >>> from journeylab.discovery import paths
    >>> ax = paths(jl.datasets.load_example(), anchor="decide").plot()
    """
    table = result.table
    if table.empty:
        raise InvalidParameterError("there is no path to draw; the selection is empty.")
    if not (isinstance(height, (int, float)) and height > 1):
        raise InvalidParameterError(f"height={height!r} must be a number of inches > 1.")
    steps = result.steps
    n_cols = steps + 1
    nxt = result.direction == "next"
    # column index of each element: anchor at 0 (next) or at `steps` (previous)
    placed = []
    for path, count in zip(table["path"], table["count"]):
        cols = range(len(path)) if nxt else range(n_cols - len(path), n_cols)
        placed.append((list(zip(cols, path)), int(count)))
    total = sum(c for _, c in placed)
    value: dict = defaultdict(int)
    links: dict = defaultdict(int)
    for seq, c in placed:
        for k, a in seq:
            value[(k, a)] += c
        for (k0, a0), (k1, a1) in zip(seq[:-1], seq[1:]):
            links[((k0, a0), (k1, a1))] += c
    acts = sorted({a for (_, a) in value if a not in (START, END)}, key=lambda a: -sum(v for (k, b), v in value.items()
                                                                                    if b == a))
    colors = st.activity_colors([result.anchor] + [a for a in acts if a != result.anchor])
    colors[START] = colors[END] = "#9aa5b1"
    max_nodes = max(sum(1 for (k, _) in value if k == col) for col in range(n_cols))
    usable = max(height - (_NODE_GAP + _MIN_SLOT) * (max_nodes - 1), height * 0.4)
    scale = usable / total
    # node positions per column: the anchor column first; then, moving away from it, each
    # column ordered by the mean position of the bars it connects to (fewer crossings);
    # "case starts / ends" always last
    pos = {}
    anchor_col = 0 if nxt else n_cols - 1
    cols = range(n_cols) if nxt else range(n_cols - 1, -1, -1)
    for col in cols:
        items = [key for key in value if key[0] == col]
        if col == anchor_col:
            items.sort(key=lambda key: (-value[key], key[1]))
        else:
            prev = col - 1 if nxt else col + 1
            bary = {}
            for key in items:
                num = den = 0.0
                for (a, b), c in links.items():
                    other = a if b == key else (b if a == key else None)
                    if other is not None and other[0] == prev:
                        num += c * (pos[other][1] + pos[other][2]) / 2
                        den += c
                bary[key] = num / den if den else 0.0
            items.sort(key=lambda key: (key[1] in (START, END), -bary[key], -value[key], key[1]))
        used = sum(max(value[k] * scale, _MIN_SLOT) for k in items) + _NODE_GAP * (len(items) - 1)
        y = used / 2  # centre the column vertically
        for key in items:
            h = value[key] * scale
            slot = max(h, _MIN_SLOT)  # small bars keep room for their label
            top = y - (slot - h) / 2
            pos[key] = (col * _COL_GAP, top, top - h)  # x, top, bottom
            y -= slot + _NODE_GAP
    created = ax is None
    fig, ax = st.new_axes(ax, figsize=(8, 4))
    # bands: stack outgoing links by target position, incoming by source position
    out_off = defaultdict(float)
    in_off = defaultdict(float)
    ordered = sorted(links.items(), key=lambda kv: (kv[0][0][0], -pos[kv[0][0]][1], -pos[kv[0][1]][1]))
    in_order = sorted(links, key=lambda lk: (lk[1][0], -pos[lk[1]][1], -pos[lk[0]][1]))
    in_start = {}
    for lk in in_order:
        in_start[lk] = in_off[lk[1]]
        in_off[lk[1]] += links[lk] * scale
    for (src, dst), c in ordered:
        h = c * scale
        xs, ts, _ = pos[src]
        xd, td, _ = pos[dst]
        y0 = ts - out_off[src]
        y1 = td - in_start[(src, dst)]
        out_off[src] += h
        _band(ax, xs + _NODE_W, y0, y0 - h, xd, y1, y1 - h, colors.get(dst[1], "#9aa5b1"))
    for (col, a), (x, top, bot) in pos.items():
        ax.add_patch(Rectangle((x, bot), _NODE_W, top - bot, fc=colors.get(a, "#9aa5b1"), ec="none", zorder=2))
        label = a if a not in (START, END) else ("case ends" if a == END else "case starts")
        share = value[(col, a)] / result.n_occurrences
        text = f"{st.wrap(label, 26, 2)}\n{value[(col, a)]:,} ({share:.0%})"
        right_side = col < n_cols - 1
        ax.text(x + (_NODE_W + 0.06 if right_side else -0.06), (top + bot) / 2, text,
                ha="left" if right_side else "right", va="center", fontsize=8, color=st.INK, fontfamily=st.FONT,
                zorder=4, linespacing=1.1,
                bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.75})
    for col in range(n_cols):
        k = col if nxt else col - steps
        head = result.anchor if k == 0 else (f"+{k}" if k > 0 else f"{k}")
        ax.text(col * _COL_GAP + _NODE_W / 2, max(t for (_, t, _) in pos.values()) + 0.25, st.wrap(head, 28, 2) if k == 0 else f"step {head}",
                ha="center", va="bottom", fontsize=8.5, color=st.INK if k == 0 else st.MUTED, fontfamily=st.FONT,
                fontweight="bold" if k == 0 else "normal")
    ax.set_xlim(-1.6 if not nxt else -0.3, (n_cols - 1) * _COL_GAP + (_NODE_W + 1.9 if nxt else 0.5))
    low = min(b for (_, _, b) in pos.values())
    high = max(t for (_, t, _) in pos.values())
    ax.set_ylim(low - 0.3, high + 0.75)  # the content, not the nominal height: no empty bands
    ax.set_aspect("equal")
    st.blank(ax)
    if created:
        st.size_to_content(fig, ax, top=0.45)
    if title:
        way = "after" if nxt else "before"
        st.title(ax, f"Top {len(table)} paths {way} '{result.anchor}' \u00b7 {result.coverage:.0%} of "
                     f"{result.n_occurrences:,} occurrences")
    return ax
