"""Process maps drawn left to right with matplotlib alone (no Graphviz needed)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path

from .._core.formatting import format_duration
from .._core.layout import layered_layout
from .._core.vocabulary import END, START
from ..exceptions import InvalidParameterError
from . import _style as st

__all__ = ["plot_process_map", "draw_graph"]

_NAME_PT = 8.5
_COUNT_PT = 8.0
_LABEL_PT = 8.0
_LOOP_ROOM = 0.5


def _cubic_route(points: list[tuple[float, float]]) -> Path:
    """A smooth route through ``points`` with horizontal tangents at each point."""
    verts = [points[0]]
    codes = [Path.MOVETO]
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        dx = (x1 - x0) * 0.5
        if abs(dx) < 0.15:
            dx = 0.15 if x1 >= x0 else -0.15
        verts += [(x0 + dx, y0), (x1 - dx, y1), (x1, y1)]
        codes += [Path.CURVE4] * 3
    return Path(verts, codes)


def _route_point(points: list[tuple[float, float]], t: float = 0.5) -> tuple[float, float]:
    """A point of the middle segment of a route, at parameter ``t`` of that cubic segment."""
    i = (len(points) - 1) // 2
    (x0, y0), (x1, y1) = points[i], points[i + 1]
    dx = (x1 - x0) * 0.5
    if abs(dx) < 0.15:
        dx = 0.15 if x1 >= x0 else -0.15
    c1, c2 = (x0 + dx, y0), (x1 - dx, y1)
    a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3
    return (a * x0 + b * c1[0] + c * c2[0] + d * x1, a * y0 + b * c1[1] + c * c2[1] + d * y1)


class _LabelSpace:
    """Greedy placement of edge labels: try a few spots along the route, avoid overlaps."""

    def __init__(self):
        self.boxes = []

    def place(self, candidates, w, h):
        for x, y in candidates:
            if all(abs(x - bx) > (w + bw) / 2 + 0.02 or abs(y - by) > (h + bh) / 2 + 0.01
                   for bx, by, bw, bh in self.boxes):
                self.boxes.append((x, y, w, h))
                return x, y
        x, y = candidates[0]
        self.boxes.append((x, y, w, h))
        return x, y


def _ports(layout, edges, sizes) -> dict:
    """Attachment points: edges leaving / entering one side of a box are spread over that side."""
    sides: dict = {}
    for e in edges:
        u, v = e[0], e[1]
        if u == v:
            continue
        (xu, yu), (xv, yv) = layout.pos[u], layout.pos[v]
        bends = layout.bends.get((u, v), [])
        forward = xv > xu
        first_next = bends[0] if bends else (xv, yv)
        last_prev = bends[-1] if bends else (xu, yu)
        sides.setdefault((u, "R" if forward else "L"), []).append((first_next[1], 0 if forward else 1, e, "out"))
        sides.setdefault((v, "L" if forward else "R"), []).append((last_prev[1], 0 if forward else 1, e, "in"))
    ports = {}
    for (n, side), items in sides.items():
        w, h = sizes[n]
        x, y = layout.pos[n]
        px = x + w / 2 if side == "R" else x - w / 2
        items.sort(key=lambda t: (-t[0], t[1]))
        k = len(items)
        span = min(h * 0.75, 0.12 * (k - 1)) if k > 1 else 0.0
        for i, (_, _, e, role) in enumerate(items):
            py = y + span / 2 - (span * i / (k - 1) if k > 1 else 0.0)
            ports[(e[0], e[1], role)] = (px, py)
    return ports


def draw_graph(ax, *, nodes, edges, sizes, first=None, last=None, draw_node, edge_style, edge_label,
               layer_gap=0.9, row_gap=0.32):
    """Lay out and draw a directed graph; ``draw_node(ax, node, x, y, w, h)`` draws a node;
    ``edge_style(edge) -> (lw, color, linestyle)``; ``edge_label(edge) -> str``. Edges are
    tuples ``(u, v, weight, ...)``. Returns the layout."""
    loops = {e[0] for e in edges if e[0] == e[1]}
    room = {n: (w, h + (_LOOP_ROOM if n in loops else 0.0)) for n, (w, h) in sizes.items()}
    layout = layered_layout(list(nodes), [(e[0], e[1], e[2]) for e in edges], sizes=room, first=first, last=last,
                            layer_gap=layer_gap, row_gap=row_gap)
    for n in loops:  # the box sits in the lower part of its reserved room, the loop above it
        x, y = layout.pos[n]
        layout.pos[n] = (x, y - _LOOP_ROOM / 2)
    ports = _ports(layout, edges, sizes)
    space = _LabelSpace()
    for n in nodes:
        x, y = layout.pos[n]
        w, h = sizes[n]
        space.boxes.append((x, y, w, h))
        draw_node(ax, n, x, y, w, h)
    for e in edges:
        u, v = e[0], e[1]
        lw, color, ls = edge_style(e)
        if u == v:
            x, y = layout.pos[u]
            w, h = sizes[u]
            top = y + h / 2
            dx = min(w * 0.3, 0.35)
            path = Path([(x + dx * 0.5, top), (x + dx * 1.2, top + 0.42), (x - dx * 1.2, top + 0.42), (x - dx * 0.5, top)],
                        [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
            spots = [(x, top + 0.44), (x + dx * 1.6, top + 0.3), (x - dx * 1.6, top + 0.3)]
        else:
            pts = [ports[(u, v, "out")], *layout.bends.get((u, v), []), ports[(u, v, "in")]]
            path = _cubic_route(pts)
            spots = [_route_point(pts, t) for t in (0.5, 0.3, 0.7, 0.18, 0.82)]
        arrow = FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=7 + 1.2 * lw, lw=lw, color=color,
                                linestyle=ls, zorder=1, shrinkA=0, shrinkB=0, joinstyle="round", capstyle="butt")
        ax.add_patch(arrow)
        label = edge_label(e)
        if label:
            lw_, lh_ = st.text_size(label, _LABEL_PT)
            mid = space.place(spots, lw_ + 0.06, lh_ + 0.02)
            ax.text(mid[0], mid[1], label, ha="center", va="center", fontsize=_LABEL_PT, color=st.INK,
                    fontfamily=st.FONT, zorder=4,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    return layout


def _fit_axes(ax, layout, sizes, pad=0.4):
    xs0 = [layout.pos[n][0] - sizes[n][0] / 2 for n in layout.pos]
    xs1 = [layout.pos[n][0] + sizes[n][0] / 2 for n in layout.pos]
    ys0 = [layout.pos[n][1] - sizes[n][1] / 2 for n in layout.pos]
    ys1 = [layout.pos[n][1] + sizes[n][1] / 2 for n in layout.pos]
    bend_y = [p[1] for pts in layout.bends.values() for p in pts]
    ax.set_xlim(min(xs0) - pad, max(xs1) + pad)
    ax.set_ylim(min(ys0 + bend_y) - pad, max(ys1 + bend_y) + pad + _LOOP_ROOM)
    ax.set_aspect("equal")
    st.blank(ax)


def plot_process_map(pm, *, ax=None, metric: str = "frequency", max_nodes: int = 50, max_edges: int = 120,
                     title: bool = True):
    """Draw a :class:`~journeylab.discovery.ProcessMap` (or any object with its ``nodes``, ``edges``,
    ``params``, ``n_cases``, ``n_activities_total`` and ``n_edges_total``) left to right.

    ``metric="frequency"``: boxes shaded by events, edges as wide as their count, labelled
    with counts. ``metric="time"``: edges coloured by their median time (red = slow),
    labelled with the median time between the two activities. The start is a green
    circle, the end a red square. With ``ax=None`` the figure is sized to the map.

    Maps beyond ``max_nodes`` activities or ``max_edges`` paths are refused: lower the
    sliders (``discover(log, activities=..., paths=...)``) instead of drawing a hairball.

    >>> import journeylab as jl
    >>> from journeylab.discovery import discover
    >>> ax = discover(jl.datasets.load_example()).plot(metric="time")
    """
    if metric not in ("frequency", "time"):
        raise InvalidParameterError(f"metric={metric!r} is not allowed; use 'frequency' or 'time'.")
    n_nodes, n_edges = len(pm.nodes), len(pm.edges)
    p = pm.params
    if n_nodes > max_nodes or n_edges > max_edges:
        what = f"{n_nodes:,} activities" if n_nodes > max_nodes else f"{n_edges:,} paths"
        limit = f"{max_nodes} activities" if n_nodes > max_nodes else f"{max_edges} paths"
        raise InvalidParameterError(
            f"this map has {what}; more than {limit} draw as an unreadable figure. Lower the sliders, e.g. "
            f"jl.discover(log, activities={min(p.get('activities', 1.0), 0.8):g}, paths={min(p.get('paths', 1.0), 0.2):g}), "
            "keep the frequent variants (journeylab.filters.filter_variants(log, coverage=0.8)), or export pm.to_dot() for Graphviz."
        )
    nodes_df = pm.nodes
    edges_df = pm.edges
    max_events = max(int(nodes_df["events"].max()), 1) if n_nodes else 1
    max_count = max(int(edges_df["count"].max()), 1) if n_edges else 1
    med = edges_df["duration_median"].dt.total_seconds()
    valid = med[med.notna() & (med > 0)]
    lo, hi = (math.log10(valid.min()), math.log10(valid.max())) if len(valid) else (0.0, 1.0)

    sizes = {START: (0.32, 0.32), END: (0.32, 0.32)}
    labels = {}
    events = dict(zip(nodes_df["activity"], nodes_df["events"]))
    for a in nodes_df["activity"]:
        name = st.wrap(a, 20)
        count = f"{int(events[a]):,}"
        nw, nh = st.text_size(name, _NAME_PT, bold=True)
        cw, ch = st.text_size(count, _COUNT_PT)
        sizes[a] = (max(nw, cw) + 0.28, nh + ch + 0.2)
        labels[a] = (name, count)

    def draw_node(ax_, n, x, y, w, h):
        if n == START:
            ax_.add_patch(Circle((x, y), w / 2, fc=st.START_COLOR, ec="white", lw=1.2, zorder=3))
            ax_.text(x, y - h / 2 - 0.06, "start", ha="center", va="top", fontsize=8, color=st.MUTED,
                     fontfamily=st.FONT)
            return
        if n == END:
            ax_.add_patch(Rectangle((x - w / 2, y - h / 2), w, h, fc=st.END_COLOR, ec="white", lw=1.2, zorder=3))
            ax_.text(x, y - h / 2 - 0.06, "end", ha="center", va="top", fontsize=8, color=st.MUTED,
                     fontfamily=st.FONT)
            return
        if metric == "frequency":
            fill = st.ramp("Blues", math.sqrt(events[n] / max_events), lo=0.08, hi=0.75)
        else:
            fill = "#f5f7fa"
        ink = st.text_color_on(fill)
        ax_.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.07",
                                     fc=fill, ec="#3e5c76" if metric == "frequency" else "#9aa5b1", lw=0.8, zorder=3))
        name, count = labels[n]
        _, ch = st.text_size(count, _COUNT_PT)
        ax_.text(x, y + ch / 2, name, ha="center", va="center", fontsize=_NAME_PT, color=ink, fontfamily=st.FONT,
                 fontweight="bold", zorder=5, linespacing=1.1)
        ax_.text(x, y - h / 2 + 0.09, count, ha="center", va="bottom", fontsize=_COUNT_PT, color=ink,
                 fontfamily=st.FONT, zorder=5, alpha=0.9)

    def edge_style(e):
        _, _, count, dur = e
        lw = 0.6 + 4.6 * math.sqrt(count / max_count)
        if metric == "frequency":
            return lw, st.ramp("Blues", math.sqrt(count / max_count), lo=0.35, hi=0.95), "-"
        if dur is None or not (dur > 0):
            return lw, st.LIGHT, (0, (3, 2))
        v = (math.log10(dur) - lo) / (hi - lo) if hi > lo else 0.5
        return lw, st.ramp("Reds", v, lo=0.3, hi=0.95), "-"

    def edge_label(e):
        _, _, count, dur = e
        if metric == "frequency":
            return f"{count:,}"
        if dur is None or np.isnan(dur):
            return ""
        return format_duration(dur)  # seconds

    edges = [(r.source, r.target, int(r.count), None if np.isnan(d) else float(d))
             for r, d in zip(edges_df.itertuples(index=False), med.to_numpy())]
    # heavy edges last so that they sit on top
    edges.sort(key=lambda e: e[2])
    nodes = [START, *nodes_df["activity"], END]
    created = ax is None
    fig, ax = st.new_axes(ax, figsize=(8, 4))
    layout = draw_graph(ax, nodes=nodes, edges=edges, sizes=sizes, first=START, last=END, draw_node=draw_node,
                        edge_style=edge_style, edge_label=edge_label)
    _fit_axes(ax, layout, sizes)
    if created:
        st.size_to_content(fig, ax)
    if title:
        mode = "frequency: labels are counts, width follows cases" if metric == "frequency" else \
            "time: labels are median times between activities (red = slow)"
        st.title(ax, f"Process map \u00b7 {n_nodes} of {pm.n_activities_total} activities \u00b7 "
                     f"{n_edges} of {pm.n_edges_total} paths \u00b7 {pm.n_cases:,} cases", mode)
    return ax
