"""Layered (Sugiyama-style) graph layout on networkx, for process maps, Petri nets and BPMN diagrams.

No matplotlib here: the layout is plain geometry, shared by the plots (:mod:`journeylab.plotting`)
and the BPMN export of the pm4py adapter, which gives diagrams coordinates when Graphviz is not
installed - so it lives in the bottom layer, below both.

Steps: break cycles by reversing the back edges of a depth-first search that follows the
heaviest edges first; put each node on the layer of its longest path from the sources
(``networkx.topological_generations``); split edges that span several layers with dummy
nodes; order each layer by barycenter sweeps, keeping the order with the fewest
crossings; finally place nodes vertically so that heavy flows run straight.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx


@dataclass
class Layout:
    """Positions (x, y) in inches of the nodes and of the bends of the long edges."""

    pos: dict = field(default_factory=dict)          # node -> (x, y)
    layer: dict = field(default_factory=dict)        # node -> layer index
    bends: dict = field(default_factory=dict)        # (u, v) -> [(x, y), ...] through dummy nodes
    reversed: set = field(default_factory=set)       # edges drawn against the flow (loops back)
    width: float = 0.0
    height: float = 0.0


def _strongest_depth(g: nx.DiGraph, root) -> dict:
    """Depth of each node on its strongest route from ``root``: maximum bottleneck weight,
    ties broken by fewer steps. Rare shortcuts do not pull a node forward."""
    import heapq

    best = {root: (float("inf"), 0)}
    heap = [(-float("inf"), 0, 0, root)]
    tick = 1
    while heap:
        negb, depth, _, u = heapq.heappop(heap)
        if (-negb, depth) != best[u]:
            continue
        for v in g.successors(u):
            if v == u:
                continue
            cand = (min(-negb, g.edges[u, v].get("weight", 1.0)), depth + 1)
            old = best.get(v)
            if old is None or cand[0] > old[0] or (cand[0] == old[0] and cand[1] < old[1]):
                best[v] = cand
                heapq.heappush(heap, (-cand[0], cand[1], tick, v))
                tick += 1
    return {n: d for n, (_, d) in best.items()}


def _break_cycles(g: nx.DiGraph, roots: list, last=None) -> set:
    """Edges to reverse so that the graph becomes acyclic.

    Edges that go back to a node nearer the start (by strongest-route depth) are back
    edges; cycles among nodes of equal depth are broken by a DFS that follows the heaviest
    edges first.
    """
    depth = _strongest_depth(g, roots[0]) if roots else {}
    back = {(u, v) for u, v in g.edges if u in depth and v in depth and depth[v] < depth[u]
            and v != last and u not in roots}
    rest = nx.DiGraph()
    rest.add_nodes_from(g.nodes)
    rest.add_edges_from((u, v, d) for u, v, d in g.edges(data=True) if (u, v) not in back and u != v)
    state: dict = {}

    def succ(u):
        return sorted(rest.successors(u), key=lambda v: (-rest.edges[u, v].get("weight", 1), str(v)))

    order = sorted(g.nodes, key=lambda n: (depth.get(n, 10 ** 9), str(n)))
    for root in order:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ(root)))]
        while stack:
            u, it = stack[-1]
            for v in it:
                s = state.get(v)
                if s is None:
                    state[v] = 1
                    stack.append((v, iter(succ(v))))
                    break
                if s == 1:
                    back.add((u, v))
            else:
                state[u] = 2
                stack.pop()
    return back


def _crossings(layers: list[list], edges: list[tuple]) -> int:
    pos = {n: i for layer in layers for i, n in enumerate(layer)}
    by_layer: dict[int, list] = {}
    lay = {n: k for k, layer in enumerate(layers) for n in layer}
    for u, v, _w in edges:
        by_layer.setdefault(lay[u], []).append((pos[u], pos[v]))
    total = 0
    for segs in by_layer.values():
        segs.sort()
        for i in range(len(segs)):
            for j in range(i + 1, len(segs)):
                if segs[i][0] != segs[j][0] and segs[i][1] > segs[j][1]:
                    total += 1
    return total


def _ordered_fit(want: list, weights: list, heights: list, gap: float) -> list:
    """Weighted least-squares positions closest to ``want`` that keep the order top-down with gaps.

    With c_i the cumulated separation, u_i = y_i + c_i must be non-increasing: a weighted
    isotonic regression, solved by pool-adjacent-violators.
    """
    c = [0.0]
    for i in range(1, len(want)):
        c.append(c[-1] + heights[i - 1] / 2 + gap + heights[i] / 2)
    u = [w + ci for w, ci in zip(want, c)]
    blocks: list[list] = []  # [value, weight, size]
    for ui, wi in zip(u, weights):
        blocks.append([ui, wi, 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    fit = [b[0] for b in blocks for _ in range(b[2])]
    return [f - ci for f, ci in zip(fit, c)]


def layered_layout(
    nodes: list,
    edges: list[tuple],
    *,
    sizes: dict,
    first=None,
    last=None,
    layer_gap: float = 0.9,
    row_gap: float = 0.35,
    sweeps: int = 12,
) -> Layout:
    """Lay out a directed graph left to right.

    ``edges`` are ``(u, v, weight)``; ``sizes`` maps node -> (width, height) in inches;
    ``first`` / ``last`` pin a node to the first / last layer (start / end).
    """
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    for u, v, w in edges:
        if u != v:
            g.add_edge(u, v, weight=float(w))
    roots = [first] if first is not None else []
    back = _break_cycles(g, roots, last)
    dag = nx.DiGraph()
    dag.add_nodes_from(nodes)
    for u, v, d in g.edges(data=True):
        a, b = (v, u) if (u, v) in back else (u, v)
        if dag.has_edge(a, b):
            dag.edges[a, b]["weight"] += d["weight"]
        else:
            dag.add_edge(a, b, weight=d["weight"])
    layer = {}
    for k, gen in enumerate(nx.topological_generations(dag)):
        for n in gen:
            layer[n] = k
    # pull nodes without predecessors (other than first) next to their successors
    for n in reversed(list(nx.topological_sort(dag))):
        if n != first and dag.in_degree(n) == 0 and dag.out_degree(n) > 0:
            layer[n] = min(layer[s] for s in dag.successors(n)) - 1
    if first is not None:
        shift = layer[first]
        for n in layer:
            layer[n] -= shift
        for n in layer:
            if n != first and layer[n] <= 0:
                layer[n] = 1
    top = max(layer.values(), default=0)
    if last is not None:
        others = [layer[n] for n in nodes if n != last]
        layer[last] = max(others, default=0) + 1
        top = layer[last]
    # dummy nodes for long edges
    chain: dict[tuple, list] = {}
    seg_edges = []
    dummy_i = 0
    for a, b, d in dag.edges(data=True):
        la, lb = layer[a], layer[b]
        if lb <= la:  # can happen after pinning; route directly
            seg_edges.append((a, b, d["weight"]))
            continue
        prev = a
        path = []
        for k in range(la + 1, lb):
            dn = ("__dummy__", dummy_i)
            dummy_i += 1
            layer[dn] = k
            path.append(dn)
            seg_edges.append((prev, dn, d["weight"]))
            prev = dn
        seg_edges.append((prev, b, d["weight"]))
        chain[(a, b)] = path
    n_layers = top + 1
    layers: list[list] = [[] for _ in range(n_layers)]
    for n in sorted(layer, key=lambda n: (layer[n], str(n))):
        if 0 <= layer[n] < n_layers:
            layers[layer[n]].append(n)
    # initial order: DFS discovery order (heaviest first) keeps main flows together
    seen = {}
    for i, n in enumerate(nx.dfs_preorder_nodes(dag, source=first) if first in dag else []):
        seen[n] = i
    for layer_nodes in layers:
        layer_nodes.sort(key=lambda n: seen.get(n, 10 ** 6))
    preds: dict = {}
    succs: dict = {}
    for u, v, w in seg_edges:
        succs.setdefault(u, []).append((v, w))
        preds.setdefault(v, []).append((u, w))

    def sweep(order, down: bool):
        rng = range(1, n_layers) if down else range(n_layers - 2, -1, -1)
        for k in rng:
            ref = {n: i for i, n in enumerate(order[k - 1 if down else k + 1])}
            nbrs = preds if down else succs
            cur = order[k]
            bary = {}
            for i, n in enumerate(cur):
                items = [(ref[m], w) for m, w in nbrs.get(n, ()) if m in ref]
                tot = sum(w for _, w in items)
                bary[n] = sum(p * w for p, w in items) / tot if tot else float(i)
            order[k] = sorted(cur, key=lambda n: (bary[n], cur.index(n)))

    best = [list(x) for x in layers]
    best_c = _crossings(best, seg_edges)
    cur = [list(x) for x in layers]
    for i in range(sweeps):
        sweep(cur, down=(i % 2 == 0))
        c = _crossings(cur, seg_edges)
        if c < best_c:
            best, best_c = [list(x) for x in cur], c
        if best_c == 0:
            break
    layers = best
    # x: cumulative widths per layer
    dims = {n: sizes.get(n, (0.0, 0.0)) if not (isinstance(n, tuple) and n[:1] == ("__dummy__",)) else (0.0, 0.12)
            for n in layer}
    xs = []
    x = 0.0
    for k in range(n_layers):
        wmax = max((dims[n][0] for n in layers[k]), default=0.0)
        if k:
            prev_w = max((dims[n][0] for n in layers[k - 1]), default=0.0)
            x += prev_w / 2 + layer_gap + wmax / 2
        xs.append(x)
    # y: stack each layer, then pull toward weighted neighbours while keeping order and gaps
    y: dict = {}
    for k in range(n_layers):
        acc = 0.0
        for n in layers[k]:
            h = dims[n][1]
            y[n] = -(acc + h / 2)
            acc += h + row_gap
    all_nbrs: dict = {}
    for u, v, w in seg_edges:
        all_nbrs.setdefault(u, []).append((v, w))
        all_nbrs.setdefault(v, []).append((u, w))
    for _ in range(12):
        for k in list(range(n_layers)) + list(range(n_layers - 1, -1, -1)):
            order = layers[k]
            if not order:
                continue
            want, wts = [], []
            for n in order:
                items = all_nbrs.get(n, [])
                tot = sum(w for _, w in items)
                want.append(sum(y[m] * w for m, w in items) / tot if tot else y[n])
                wts.append(tot if tot else 1e-3)
            for n, v in zip(order, _ordered_fit(want, wts, [dims[n][1] for n in order], row_gap)):
                y[n] = v
    ys = [v for v in y.values()]
    top_y = max(ys) if ys else 0.0
    out = Layout()
    for n, k in layer.items():
        out.layer[n] = k
    for k in range(n_layers):
        for n in layers[k]:
            out.pos[n] = (xs[k], y[n] - top_y)
    for (a, b), path in chain.items():
        pts = [out.pos[d] for d in path]
        if (b, a) in back:  # edge was reversed: the real edge runs b -> a
            out.bends[(b, a)] = pts[::-1]
        if g.has_edge(a, b) and (a, b) not in back:
            out.bends[(a, b)] = pts
    out.reversed = set(back)
    real = [n for n in nodes]
    if real:
        out.width = max(out.pos[n][0] + sizes.get(n, (0, 0))[0] / 2 for n in real) - min(
            out.pos[n][0] - sizes.get(n, (0, 0))[0] / 2 for n in real)
        out.height = max(out.pos[n][1] + sizes.get(n, (0, 0))[1] / 2 for n in real) - min(
            out.pos[n][1] - sizes.get(n, (0, 0))[1] / 2 for n in real)
    for n in list(out.pos):
        if isinstance(n, tuple) and n[:1] == ("__dummy__",):
            del out.pos[n]
            out.layer.pop(n, None)
    return out
