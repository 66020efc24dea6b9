"""draw_graph: any Node graph (Values or Tensors) as a graphviz.Digraph, with data and grad per node.

One record per value node (label | data | grad; big tensors as shape, dtype and min/mean/max), a
small op node between an op's inputs and its result, numbered input edges when an op has two or
more inputs (so ``a - b`` reads unambiguously and ``a + a`` shows both edges). Node ids are
topological indices, so two drawings of the same graph have the same source. The walk is the
core's iterative ``topological_order``: linear in the graph size, no recursion limit.

The chain rule made visible: ``show_local`` labels edges with local derivatives and the gradient
each carried in the last ``trace_backward`` (``upto_step`` / ``backward_frames`` replay it step by
step), ``check`` overlays finite differences, ``collapse="module"`` boxes nn.Module calls, and the
node ``detect_anomaly`` stopped at is marked red.

Pictures fit a notebook cell: at most PICTURE_INCHES (Graphviz shrinks bigger ones), drawn top to
bottom or left to right, whichever is estimated narrower. A graph of more than ``max_nodes`` nodes
(2,000) is drawn as a summary, with a warning: its nn.Module calls collapsed into boxes when that is
small enough, else the nodes nearest the root; ``max_nodes=None`` draws everything.

``draw_graph`` reads top to bottom: collect the nodes, choose what to show (a summary, module boxes,
overlays), then build the graph: caption, clusters, records, op nodes, nesting, edges; then render.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable

import graphviz

from ..graph import Node, _mode, topological_order
from .check import leaf_checks
from .flow import PATTERNS, Flow
from .labels import box_label, cluster, plain_label, quantity_text, record_label
from .modules import ModuleCalls, parameter_names
from .render import PICTURE_INCHES, Digraph, edge_label_width, label_widths, narrower_rankdir, write_rendered

__all__ = ["draw_graph", "MAX_NODES"]

MAX_NODES = 2_000  # bigger graphs are drawn as a summary: Graphviz takes minutes on tens of thousands of nodes
SUMMARY_NODES = 60  # how many nodes nearest the root a bounded summary draws

_SUM_LOOK = {"shape": "box", "style": "rounded", "fontsize": "9", "height": "0.2", "margin": "0.04,0.01",
             "color": "darkorange3", "fontcolor": "darkorange4"}
_BOX_LOOK = {"style": "rounded,filled", "fillcolor": "#dde8f8"}
_ALARM_LOOK = {"color": "red", "fontcolor": "red", "penwidth": "3"}
_CUT_LOOK = {"shape": "plaintext", "fontsize": "9", "fontcolor": "gray40"}


class _Marks:
    """Extra record fields, node and op-node attributes, and caption lines from the overlays."""

    def __init__(self, root_ids: set):
        self.notes: dict = {}
        self.looks: dict = {i: {"penwidth": "2"} for i in root_ids}
        self.op_looks: dict = {}
        self.alarms: set = set()  # nodes drawn red: wrong gradients, the anomaly
        self.caption: list = []

    def mark(self, i: int, note: str | None = None, **attrs) -> None:
        if note:
            self.notes.setdefault(i, []).append(note)
        self.looks.setdefault(i, {}).update(attrs)

    def backward_steps(self, flow: Flow, highlight: bool) -> None:
        for i, s in enumerate(flow.step):
            if s is None:  # a leaf: greyed until its first contribution arrives
                if flow.final[i] is not None and flow.final[i] > flow.upto and not flow.terms[i]:
                    self.mark(i, color="gray55", fontcolor="gray45")
                continue
            if s > flow.upto:
                self.mark(i, f"step {s}", color="gray55", fontcolor="gray45")
            elif s == flow.upto and highlight:
                self.mark(i, f"step {s}", style="filled", fillcolor="#fff2a8", penwidth="2.5")
                self.op_looks[i] = {"style": "filled", "fillcolor": "#fff2a8"}
            else:
                self.mark(i, f"step {s}")
        current = flow.current()
        self.caption.append(f"backward pass: {flow.total} steps" if flow.upto == flow.total else
                            f"backward step {flow.upto} of {flow.total}: {current.label or current.op}"
                            if current is not None else f"backward step 0 of {flow.total} (before backward)")

    def gradient_check(self, results: dict, summary: str) -> None:
        for i, (agrees, text) in results.items():
            if agrees:
                self.mark(i, text, color="forestgreen")
            else:
                self.mark(i, text, color="red", fontcolor="red", penwidth="2.5")
                self.alarms.add(i)
        self.caption.append(summary)

    def anomaly(self, i: int, op: str) -> None:
        self.mark(i, "anomaly: nan/inf here", color="red", fontcolor="red", penwidth="3", style="bold")
        self.op_looks[i] = {"color": "red", "fontcolor": "red", "penwidth": "2"}
        self.alarms.add(i)
        self.caption.append(f"detect_anomaly stopped at op {op!r}")


class _Scene:
    """What one drawing shows: the nodes in topological order (all of them, or a summary's ``order``) and,
    per node index, its depth, overlays and where it goes (``box``: the module box hiding it,
    ``cluster``: the module cluster drawing it)."""

    def __init__(self, roots: list, small: int, order: list | None = None):
        self.order = topological_order(roots) if order is None else order
        self.index = index = {node: i for i, node in enumerate(self.order)}
        self.roots, self.small = roots, small
        self.braced = True  # module boxes: the rank direction is left to right
        self.root_ids = {self.index[r] for r in roots}
        self.with_op = [i for i, node in enumerate(self.order) if node.parents]
        self.depth = depth = [0] * len(self.order)  # longest path from a leaf, one pass over the order
        for i in self.with_op:  # a summary's cut-off parents count as leaves
            depth[i] = 1 + max((depth[index[p]] for p in self.order[i].parents if p in index), default=-1)
        ops = len(self.with_op)
        self.size_line = (f"{len(self.order)} nodes, {ops} op{'s' * (ops != 1)}, "
                          f"depth {max(depth[i] for i in self.root_ids)}")
        self.names = parameter_names(self.order, self.index)
        self.marks = _Marks(self.root_ids)
        self.flow: Flow | None = None
        self.calls: ModuleCalls | None = None
        self.box, self.cluster, self.drawn = [None] * len(self.order), [None] * len(self.order), []
        self.sums: set = set()  # nodes whose gradient is a sum of fan-out contributions, shown as a Σ node


def _roots(root, collapse, check) -> list:
    """The root nodes, after checking draw_graph's arguments."""
    roots = [root] if isinstance(root, Node) else list(root) if isinstance(root, Iterable) else []
    if not roots or not all(isinstance(r, Node) for r in roots):
        raise TypeError(f"draw_graph expects a Value or Tensor (or a list of them), got {root!r}")
    if collapse not in (None, "module"):
        raise ValueError(f"draw_graph: collapse must be None or 'module', got {collapse!r}")
    if check is not False and check is not None and len(roots) != 1:
        raise ValueError("draw_graph(check=...) checks the gradients of one root; pass a single Value or Tensor")
    return roots


def _add_overlays(scene: _Scene, show_local: bool, upto_step, trace, check) -> None:
    """Backward steps and edge flow from a trace, the finite-difference check, the anomaly."""
    order, index, marks = scene.order, scene.index, scene.marks
    if show_local or upto_step is not None:
        scene.flow = Flow(order, index, scene.roots, trace, upto_step, lambda x: quantity_text(x, scene.small))
        marks.backward_steps(scene.flow, highlight=upto_step is not None)
    if check is not False and check is not None:
        marks.gradient_check(*leaf_checks(order, index[scene.roots[0]], check, {
            i: order[i].label or scene.names.get(i) or f"leaf {i}" for i, n in enumerate(order) if not n.parents}))
    broken = index.get(_mode.last_anomaly) if _mode.last_anomaly is not None else None
    if broken is not None:
        marks.anomaly(broken, order[broken].op)


def _place_module_calls(scene: _Scene) -> None:
    """Per node: the box hiding it (innermost calls) or the cluster drawing it; the calls to draw."""
    calls = scene.calls = ModuleCalls(scene.order, scene.index)
    for i, c in enumerate(calls.owner):
        if c is not None:
            (scene.cluster if calls.children[c] else scene.box)[i] = c
    owning = set(scene.box) | set(scene.cluster)
    scene.drawn = [c for c in range(len(calls.module)) if c in owning or calls.children[c]]


def _box_count(scene: _Scene) -> int:
    return sum(1 for c in scene.drawn if not scene.calls.children[c])


def _drawn_size(scene: _Scene) -> tuple[int, int]:
    """How many nodes and edges the drawing of a scene with module boxes has (a box stands for its nodes)."""
    box, order, index = scene.box, scene.order, scene.index
    ops = sum(1 for i in scene.with_op if box[i] is None)
    edges, joined = ops, set()  # each op node's edge to its result, then the input edges
    for i in scene.with_op:
        head = ("m", box[i]) if box[i] is not None else ("op", i)
        for parent in order[i].parents:
            p = index[parent]
            if box[p] is None and box[i] is None:
                edges += 1
            elif box[p] != box[i]:  # a box stands for many edges: one is drawn
                joined.add((("m", box[p]) if box[p] is not None else ("v", p), head))
    return box.count(None) + len(scene.drawn) + ops, edges + len(joined)


def _nearest(roots: list, count: int) -> set:
    """The ``count`` nodes nearest the roots, breadth first over parents: what a bounded summary draws."""
    kept, frontier = set(roots), list(roots)
    while frontier and len(kept) < count:
        following = []
        for node in frontier:
            for parent in node.parents:
                if parent not in kept and len(kept) < count:
                    kept.add(parent)
                    following.append(parent)
        frontier = following
    return kept


def _summary(scene: _Scene, collapse, max_nodes: int) -> tuple[_Scene, str | None, str]:
    """A drawing of at most about ``max_nodes`` nodes standing for a bigger graph: its module calls as boxes
    if the graph came from nn.Modules and that is small enough, else the nodes nearest the root."""
    if collapse or any(getattr(node, "_calls", None) for node in scene.order):
        _place_module_calls(scene)
        nodes, edges = _drawn_size(scene)
        if scene.drawn and nodes <= max_nodes and edges <= 2 * max_nodes:
            return scene, "module", f"its nn.Module calls collapsed into {_box_count(scene):,} boxes"
    kept = _nearest(scene.roots, min(SUMMARY_NODES, max_nodes))
    part = _Scene(scene.roots, scene.small, [node for node in scene.order if node in kept])
    part.size_line = (f"{scene.size_line}; summary: the {len(kept)} nodes nearest the root, "
                      f"{len(scene.order) - len(kept)} not drawn (draw_graph(..., max_nodes=None) draws all)")
    return part, None, f"the {len(kept)} nodes nearest the root"


def _summarise(scene: _Scene, collapse, max_nodes: int, overlays: list) -> tuple[_Scene, str | None, bool]:
    """The summary drawn for a graph of more than ``max_nodes`` nodes, with a warning unless the caller's
    ``collapse`` made it; the ``overlays`` asked for are kept only when module boxes stand for the graph."""
    total = len(scene.order)
    scene, collapse_to, shown = _summary(scene, collapse, max_nodes)
    dropped = overlays if collapse_to is None else []
    if not (collapse and collapse_to) or dropped:
        without = f" and without {' or '.join(dropped)}" if dropped else ""
        warnings.warn(f"draw_graph: the graph has {total:,} nodes, more than max_nodes={max_nodes:,}, so it is drawn "
                      f"as a summary ({shown}{without}); pass max_nodes=None to draw all {total:,} nodes (Graphviz "
                      "may take minutes on that many)", stacklevel=3)
    return scene, collapse_to, not dropped


def _caption(scene: _Scene) -> str:
    """Size, op count and depth, then the overlays' lines."""
    return "; ".join([scene.size_line, *scene.marks.caption])


def _records(scene: _Scene) -> dict:
    """(id, label, attributes) per graph part: value records, fan-out sums, module boxes."""
    order, box, cluster_of, marks, calls, flow = (
        scene.order, scene.box, scene.cluster, scene.marks, scene.calls, scene.flow)
    records = {None: [], **{c: [] for c in scene.drawn if calls.children[c]}}
    for i, value in enumerate(order):
        if box[i] is None:
            grad = flow.grad_text(i) if flow is not None else None
            label = record_label(value, scene.small, grad, marks.notes.get(i, ()), scene.names.get(i, ""))
            records[cluster_of[i]].append((f"v{i}", label, marks.looks.get(i, {})))
        if i in scene.sums:
            records[cluster_of[i]].append((f"s{i}", "\u03a3 fan-out adds", _SUM_LOOK))
    inside: dict = {}  # box -> what went wrong in it, e.g. "0.weight: numeric differs at (3, 1): ..."
    for i in sorted(marks.alarms):
        if box[i] is not None:
            what = scene.names.get(i) or order[i].label or order[i].op
            inside.setdefault(box[i], []).append(f"{what}: {marks.notes[i][-1]}")
    for c in scene.drawn:
        if not calls.children[c]:
            look = _ALARM_LOOK if c in inside else {"penwidth": "2"} if calls.out[c] in scene.root_ids else {}
            label = box_label(calls, c, order, scene.small, scene.braced, flow, inside.get(c, ()))
            records[calls.parent[c]].append((f"m{c}", label, {**_BOX_LOOK, **look}))
    return records


def _op_nodes(scene: _Scene) -> list:
    """(part, id, label, attributes) per op node not hidden in a box."""
    found = []
    for i in scene.with_op:
        if scene.box[i] is None:
            op = str(scene.order[i].op or "?")
            if scene.flow is not None and op in PATTERNS:
                op += "\n" + PATTERNS[op]
            found.append((scene.cluster[i], f"op{i}", plain_label(op), scene.marks.op_looks.get(i, {})))
    return found


def _add_nodes(parts: dict, records: dict, ops: list) -> None:
    """Each part's records, then (after a change of defaults, cheaper than attributes per node) its op nodes."""
    for c, entries in records.items():
        for name, label, attrs in entries:
            parts[c].node(name, label, **attrs)
        parts[c].attr("node", shape="ellipse", height="0.3", margin="0.04,0.02", fontsize="10")
    for c, name, label, attrs in ops:
        parts[c].node(name, label, **attrs)


def _edges(scene: _Scene) -> list:
    """(tail, head, attributes) per edge: op -> result, then input -> op (numbered, labelled from the
    trace, or into boxes); a summary's cut-off inputs come from one "not drawn" stub per op."""
    order, index, box, sums, flow = scene.order, scene.index, scene.box, scene.sums, scene.flow
    edges = [(f"op{i}", f"v{i}", {}) for i in scene.with_op if box[i] is None]
    edges += [(f"v{i}", f"s{i}", {}) for i in sorted(sums)]
    seen, cut = set(), {}
    for i in scene.with_op:
        parents = order[i].parents
        head = f"op{i}" if box[i] is None else f"m{box[i]}"
        for k, parent in enumerate(parents):
            p = index.get(parent)
            if p is None:
                cut[i] = cut.get(i, 0) + 1
                continue
            tail = f"m{box[p]}" if box[p] is not None else f"s{p}" if p in sums else f"v{p}"
            if box[p] is not None or box[i] is not None:  # a box stands for many edges: draw one
                if box[p] != box[i] and (tail, head) not in seen:
                    seen.add((tail, head))
                    edges.append((tail, head, {}))
                continue
            lines, zero = flow.edge_label(order[i], i, k) if flow is not None else ([], False)
            if len(parents) > 1:
                lines = [f"{k}: {lines[0]}" if lines else str(k)] + lines[1:]
            attrs = {"style": "dashed", "color": "gray50"} if zero else {}
            if lines:
                attrs["label"] = plain_label("\n".join(lines))
            edges.append((tail, head, attrs))
    edges += [(f"c{i}", f"op{i}", {"style": "dashed", "color": "gray60"}) for i in cut]
    scene.cut = cut
    return edges


def _rankdir(scene: _Scene, records: dict, ops: list, edges: list) -> str:
    """'TB' or 'LR', whichever is narrower, from where Graphviz will rank each node (a value two ranks
    below its op's deepest input, a leaf just above its first consumer's op) and each edge label."""
    rank = {}
    for i in scene.with_op:
        rank[f"v{i}"], rank[f"op{i}"], rank[f"s{i}"], rank[f"c{i}"] = (
            4 * scene.depth[i], 4 * scene.depth[i] - 2, 4 * scene.depth[i] + 2, 4 * scene.depth[i] - 4)
        for parent in scene.order[i].parents:
            p = scene.index.get(parent)
            if p is not None and not scene.order[p].parents:
                rank[f"v{p}"] = min(rank.get(f"v{p}", 4 * scene.depth[i]), 4 * scene.depth[i] - 4)
    items = [(rank.get(name, 0), *label_widths(str(label), name.startswith("v")))
             for entries in records.values() for name, label, _ in entries]
    items += [(rank[name], *label_widths(str(label), False)) for _, name, label, _ in ops]
    for tail, head, attrs in edges:
        if "label" in attrs:  # Graphviz gives an edge label a rank of its own, halfway along the edge
            width = edge_label_width(str(attrs["label"]))
            items.append(((rank.get(tail, 0) + rank.get(head, 0)) // 2, width, width))
    return narrower_rankdir(items)


def draw_graph(root: Node | Iterable[Node], format: str = "svg", rankdir: str | None = None,
               filename: str | os.PathLike | None = None, *, small: int = 6,
               keep_source: bool = False, graph_attr: dict | None = None, show_local: bool = False,
               upto_step: int | None = None, trace=None, check=False, collapse: str | None = None,
               max_nodes: int | None = MAX_NODES) -> graphviz.Digraph:
    """The computation graph behind ``root`` (one node or several) as a graphviz.Digraph.

    Tensors with at most ``small`` elements show their values, bigger ones min/mean/max. With
    ``filename`` the rendered picture is also written (format from its suffix, else ``format``),
    atomically; ``keep_source=True`` writes the DOT source next to it as ``<name>.gv``.
    ``show_local``: edges show local derivative and carried gradient from the last
    ``trace_backward`` (or ``trace``), nodes their backward step; ``upto_step=k`` shows the pass
    after step k. ``check=True`` (Value graphs) or ``check=fn`` (``fn()`` rebuilds the root from
    the same leaves) compares each leaf's grad with central differences, mismatches in red.
    ``collapse="module"`` draws each innermost nn.Module call as one box inside its containers.
    ``rankdir`` "TB" (top to bottom) or "LR"; by default whichever is narrower ("TB" with ``collapse``).
    A graph of more than ``max_nodes`` nodes is drawn as a summary, with a warning: its module calls
    collapsed, or the nodes nearest the root; ``max_nodes=None`` draws every node.
    """
    # Collect the nodes, then choose what to show: a summary, module boxes, overlays.
    roots = _roots(root, collapse, check)
    scene = _Scene(roots, small)
    overlays = True
    if max_nodes is not None and len(scene.order) > max_nodes:
        asked = [name for name, on in (("show_local", show_local or upto_step is not None),
                                       ("check", check is not False and check is not None)) if on]
        scene, collapse, overlays = _summarise(scene, collapse, max_nodes, asked)
    elif collapse:
        _place_module_calls(scene)
    rankdir = rankdir or ("TB" if collapse else None)
    scene.braced = rankdir is None or rankdir.upper() in ("LR", "RL")
    _add_overlays(scene, show_local and overlays, upto_step if overlays else None, trace, check if overlays else False)
    if collapse:
        boxes = _box_count(scene)
        scene.marks.caption.append(f"{boxes} module call{'s' * (boxes != 1)} collapsed into boxes")
    if scene.flow is not None:
        scene.sums = {i for i, n in enumerate(scene.flow.fan) if n > 1 and scene.box[i] is None}
    records, ops, edges = _records(scene), _op_nodes(scene), _edges(scene)
    rankdir = rankdir or _rankdir(scene, records, ops, edges)
    # Build the graph: caption, module clusters, records and op nodes, nesting, edges.
    graph = Digraph(name="autograd", format=format, graph_attr={
        "rankdir": rankdir, "size": "{},{}".format(*PICTURE_INCHES), "labelloc": "b", "fontsize": "11",
        "label": _caption(scene), **(graph_attr or {}),
    }, node_attr={"shape": "record", "fontsize": "11"}, edge_attr={"fontsize": "9"})
    calls = scene.calls
    parts = {None: graph, **{c: cluster(calls, c, scene.order) for c in scene.drawn if calls.children[c]}}
    _add_nodes(parts, records, ops)
    for c in scene.drawn:  # a call's index is below its enclosing call's: inner clusters attach first
        if calls.children[c]:
            parts[calls.parent[c]].subgraph(parts[c])
    for i, count in scene.cut.items():
        graph.node(f"c{i}", plain_label(f"\u22ef {count} input{'s' * (count != 1)} not drawn"), **_CUT_LOOK)
    for tail, head, attrs in edges:
        graph.edge(tail, head, **attrs)
    if filename is not None:
        write_rendered(graph, filename, format, keep_source)
    return graph
