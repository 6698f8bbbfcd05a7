"""Process models: a process tree as an outline, or a Petri net left to right."""

from __future__ import annotations

from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

from ..exceptions import InvalidParameterError
from . import _style as st
from .process_map import _fit_axes, draw_graph

__all__ = ["plot_model"]

_SYMBOL = {"sequence": "\u2192", "choice": "\u00d7", "parallel": "+", "loop": "\u21ba", "or": "\u2228"}
_OP_COLOR = {"sequence": "#4e79a7", "choice": "#f28e2b", "parallel": "#59a14f", "loop": "#b07aa1", "or": "#9c755f"}
_NAME_PT = 8.0


def _tree_rows(node, depth, rows, out):
    """Assign a row to each leaf (outline order) and a depth to each node; returns the node's y."""
    if not node["children"]:
        y = -len(rows) * 0.34
        rows.append(node)
        out.append((node, depth, y))
        return y
    ys = [_tree_rows(c, depth + 1, rows, out) for c in node["children"]]
    y = (ys[0] + ys[-1]) / 2
    out.append((node, depth, y))
    node["_kids_y"] = ys
    return y


def _plot_tree(model, ax, max_leaves):
    root = model.tree_structure()
    rows, placed = [], []
    _tree_rows(root, 0, rows, placed)
    if len(rows) > max_leaves:
        raise InvalidParameterError(
            f"the process tree has {len(rows)} leaves; more than {max_leaves} draw as an unreadable figure. "
            "Raise noise= (e.g. discover_model(log, noise=0.2)), keep the frequent variants (journeylab.filters.filter_variants(log, coverage=0.8)), "
            "or export model.to_bpmn('model.bpmn') for a BPMN modeler."
        )
    step = 0.42
    created = ax is None
    fig, ax = st.new_axes(ax, figsize=(8, 4))
    ys_of = {id(n): (d, y) for n, d, y in placed}
    max_x = 0.0
    for node, depth, y in placed:
        x = depth * step
        if node["children"]:
            color = _OP_COLOR.get(node["operator"], st.EDGE)
            # elbow connectors to the children
            xm = x + step * 0.55
            kids = node["_kids_y"]
            ax.plot([x + 0.13, xm], [y, y], color=st.LIGHT, lw=1.1, zorder=1, solid_capstyle="butt")
            ax.plot([xm, xm], [min(kids), max(kids)], color=st.LIGHT, lw=1.1, zorder=1)
            for c in node["children"]:
                cd, cy = ys_of[id(c)]
                ax.plot([xm, cd * step - (0.0 if c["children"] else 0.02)], [cy, cy], color=st.LIGHT, lw=1.1, zorder=1)
            ax.add_patch(Circle((x, y), 0.13, fc=color, ec="white", lw=1, zorder=3))
            ax.text(x, y, _SYMBOL.get(node["operator"], "?"), ha="center", va="center", fontsize=9, color="white",
                    fontweight="bold", fontfamily=st.FONT, zorder=4)
        elif node["label"] is None:
            ax.add_patch(Rectangle((x - 0.02, y - 0.08), 0.16, 0.16, fc="#3e4c59", ec="none", zorder=3))
            ax.text(x + 0.22, y, "\u03c4 (skip)", ha="left", va="center", fontsize=8, color=st.MUTED,
                    fontfamily=st.FONT, fontstyle="italic")
            max_x = max(max_x, x + 0.9)
        else:
            label = st.wrap(node["label"], 64, 1)
            w, h = st.text_size(label, _NAME_PT)
            ax.add_patch(FancyBboxPatch((x - 0.02, y - 0.13), w + 0.28, 0.26, boxstyle="round,pad=0,rounding_size=0.05",
                                        fc="#dbe9f6", ec="#3e5c76", lw=0.7, zorder=3))
            ax.text(x + 0.08, y, label, ha="left", va="center", fontsize=_NAME_PT, color=st.INK, fontfamily=st.FONT,
                    zorder=4)
            max_x = max(max_x, x + w + 0.4)
    legend = "   ".join(f"{_SYMBOL[k]} {k}" for k in ("sequence", "choice", "parallel", "loop"))
    top = 0.45
    ax.text(0, top, legend + "   \u25a0 silent step", ha="left", va="bottom", fontsize=8, color=st.MUTED,
            fontfamily=st.FONT)
    ax.set_xlim(-0.3, max(max_x, 5.5) + 0.2)
    ax.set_ylim(-len(rows) * 0.34 - 0.1, top + 0.35)
    ax.set_aspect("equal")
    st.blank(ax)
    if created:
        st.size_to_content(fig, ax)
    return ax


def _plot_net(model, ax, max_nodes):
    net = model.net_structure()
    n_nodes = len(net["places"]) + len(net["transitions"])
    if n_nodes > max_nodes:
        raise InvalidParameterError(
            f"the Petri net has {n_nodes} places and transitions; more than {max_nodes} draw as an unreadable figure. "
            "Raise noise=, keep the frequent variants (journeylab.filters.filter_variants(log, coverage=0.8)), or export model.to_pnml('model.pnml')."
        )
    sizes, kind = {}, {}
    for p in net["places"]:
        sizes[p["id"]] = (0.26, 0.26)
        kind[p["id"]] = p
    for t in net["transitions"]:
        if t["label"] is None:
            sizes[t["id"]] = (0.1, 0.34)
        else:
            label = st.wrap(t["label"], 20)
            w, h = st.text_size(label, _NAME_PT, bold=False)
            sizes[t["id"]] = (w + 0.24, h + 0.18)
        kind[t["id"]] = t
    first = next((p["id"] for p in net["places"] if p["initial"]), None)
    last = next((p["id"] for p in net["places"] if p["final"]), None)

    def draw_node(ax_, n, x, y, w, h):
        k = kind[n]
        if "initial" in k:
            fc = "#e8f5ee" if k["initial"] else ("#fbeaea" if k["final"] else "white")
            ax_.add_patch(Circle((x, y), w / 2, fc=fc, ec=st.EDGE, lw=1.0, zorder=3))
            if k["initial"]:
                ax_.add_patch(Circle((x, y), 0.04, fc=st.INK, ec="none", zorder=4))
            if k["final"]:
                ax_.add_patch(Circle((x, y), w / 2 - 0.04, fc="none", ec=st.EDGE, lw=0.8, zorder=4))
        elif k["label"] is None:
            ax_.add_patch(Rectangle((x - w / 2, y - h / 2), w, h, fc="#3e4c59", ec="none", zorder=3))
        else:
            ax_.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.04",
                                         fc="#dbe9f6", ec="#3e5c76", lw=0.7, zorder=3))
            ax_.text(x, y, st.wrap(k["label"], 20), ha="center", va="center", fontsize=_NAME_PT, color=st.INK,
                     fontfamily=st.FONT, zorder=5, linespacing=1.1)

    edges = [(u, v, 1.0) for u, v in net["arcs"]]
    created = ax is None
    fig, ax = st.new_axes(ax, figsize=(8, 4))
    layout = draw_graph(ax, nodes=list(sizes), edges=edges, sizes=sizes, first=first, last=last,
                        draw_node=draw_node, edge_style=lambda e: (0.9, st.EDGE, "-"), edge_label=lambda e: "",
                        layer_gap=0.45, row_gap=0.22)
    _fit_axes(ax, layout, sizes)
    if created:
        st.size_to_content(fig, ax)
    return ax


def plot_model(model, *, ax=None, kind: str | None = None, max_leaves: int = 120, max_nodes: int = 200,
               title: bool = True):
    """Draw a :class:`~journeylab.discovery.Model` (anything with its ``tree_structure()``,
    ``net_structure()``, ``tree``, ``algorithm``, ``quality``, ``n_variants`` and ``n_cases``).

    ``kind="tree"`` (default for the inductive miner): the process tree as an outline,
    root on the left, one row per activity, operators as coloured circles
    (sequence, exclusive choice, parallel, loop). ``kind="net"``: the Petri net left to
    right (places as circles, the initial one with a token; silent transitions as black bars).

    >>> import journeylab as jl
    >>> from journeylab.discovery import discover_model
    >>> ax = discover_model(jl.datasets.load_example()).plot()
    """
    if kind is None:
        kind = "tree" if model.tree is not None else "net"
    if kind not in ("tree", "net"):
        raise InvalidParameterError(f"kind={kind!r} is not allowed; use 'tree' or 'net'.")
    if kind == "tree" and model.tree is None:
        raise InvalidParameterError(
            f"this {model.algorithm} model has no process tree; draw its Petri net with kind='net'."
        )
    ax = _plot_tree(model, ax, max_leaves) if kind == "tree" else _plot_net(model, ax, max_nodes)
    if title:
        q = model.quality
        sub = (f"fitness {q['log_fitness']:.3f} \u00b7 precision {q['precision']:.3f} \u00b7 "
               f"{model.n_variants:,} variants, {model.n_cases:,} cases") if q["log_fitness"] == q["log_fitness"] \
            else f"{model.n_variants:,} variants, {model.n_cases:,} cases"
        st.title(ax, f"{model.algorithm.capitalize()} miner \u00b7 "
                     f"{'process tree' if kind == 'tree' else 'Petri net'}", sub)
    return ax
