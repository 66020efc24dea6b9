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
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable

import graphviz
import numpy as np

from .graph import Node, _mode, topological_order
from .viz_check import leaf_checks
from .viz_flow import PATTERNS, Flow
from .viz_modules import ModuleCalls, parameter_names

__all__ = ["GraphvizNotFoundError", "draw_graph", "backward_frames"]

_INSTALL_HINT = (
    "Graphviz's 'dot' program is needed to render graphs but was not found on PATH. Install it: "
    "Debian/Ubuntu: sudo apt-get install graphviz | macOS: brew install graphviz | "
    "conda: conda install -c conda-forge graphviz (the graph's .source works without it)"
)
# Graphviz reads backslash escapes and HTML entities (&lt;) in any label; records also | { } < >.
_LABEL_ESCAPES = {"\\": "\\\\", "&": "&amp;", "\n": r"\n", "\r": ""}
_TEXT_SPECIALS = str.maketrans(_LABEL_ESCAPES)
_RECORD_SPECIALS = str.maketrans(_LABEL_ESCAPES | {c: "\\" + c for c in "{}|<>"})


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's ``dot`` and it is missing; the message says how to install it."""

    def __init__(self, detail: str = "") -> None:
        RuntimeError.__init__(self, f"{_INSTALL_HINT}. [{detail}]" if detail else _INSTALL_HINT)


@contextlib.contextmanager
def _explain_missing_dot():
    """Turn graphviz's terse ExecutableNotFound into GraphvizNotFoundError with install steps."""
    try:
        yield
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(str(error)) from None


class _Digraph(graphviz.Digraph):
    """A graphviz.Digraph whose render, pipe and notebook display explain a missing ``dot``."""

    def pipe(self, *args, **kwargs):
        with _explain_missing_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        with _explain_missing_dot():
            return super().render(*args, **kwargs)


def _record_text(text: str) -> str:
    """Escape text for a record label field, where | { } < > and backslash are syntax."""
    return str(text).translate(_RECORD_SPECIALS)


def _number(x) -> str:
    """A number to 4 significant digits, as in the lecture's pictures."""
    return f"{float(x):.4g}"


def _array_text(a: np.ndarray, small: int) -> str:
    """Small arrays in full, big ones as min/mean/max (shape and dtype are shown in the header)."""
    if a.size == 0:
        return "empty"
    if a.size <= small:
        return " ".join(np.array2string(a, separator=", ", formatter={"all": _number}).split())
    with np.errstate(all="ignore"):
        return f"min {_number(a.min())} mean {_number(a.mean())} max {_number(a.max())}"


def _quantity_text(x, small: int) -> str:
    """The text of a data or grad value: float, ndarray, a Node (create_graph grads) or None."""
    if isinstance(x, Node):
        x = x._data
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        return _array_text(x, small)
    return _number(x)


def _shape_text(a: np.ndarray) -> str:
    """Shape and dtype of a tensor, e.g. ``(100, 100) float32`` or ``scalar float64``."""
    return f"{tuple(a.shape) if a.ndim else 'scalar'} {a.dtype}"


def _record_label(node: Node, small: int, braced: bool, grad: str | None = None, extra=(), name: str = "") -> str:
    """The record label ``label | data ... | grad ...``; tensors add shape and dtype under the label.
    ``name`` stands in for a missing label (a module parameter's dotted name)."""
    head = [_record_text(node.label or name)] if node.label or name else []
    if isinstance(node._data, np.ndarray):
        head.append(_record_text(_shape_text(node._data)))
    fields = [r"\n".join(head)] if head else []  # no empty cell for unlabelled scalars
    fields.append("data " + _record_text(_quantity_text(node._data, small)))
    fields.append(_record_text(grad if grad is not None else "grad " + _quantity_text(node._grad, small)))
    fields += [_record_text(text) for text in extra]
    body = " | ".join(fields)
    # A record lays its fields out across the rank direction; braces flip them so they read left to right.
    return graphviz.nohtml("{ " + body + " }" if braced else body)


def _graph_depth(order: list, index: dict) -> list:
    """Longest path from a leaf to each node (leaves are 0), one pass over the topological order."""
    depth = [0] * len(order)
    for i, node in enumerate(order):
        if node.parents:
            depth[i] = 1 + max(depth[index[p]] for p in node.parents)
    return depth


_CLUSTER_FILLS = ("#f6f1fb", "#eef6ee")  # nested clusters alternate


def _placement(calls: ModuleCalls | None, count: int) -> tuple[list, list, list]:
    """Per node: the box hiding it (innermost calls) or the cluster drawing it; the calls to draw."""
    box, cluster = [None] * count, [None] * count
    if calls is None:
        return box, cluster, []
    for i, c in enumerate(calls.owner):
        if c is not None:
            (cluster if calls.children[c] else box)[i] = c
    owning = set(box) | set(cluster)
    return box, cluster, [c for c in range(len(calls.module)) if c in owning or calls.children[c]]


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
            if s is None:
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


def draw_graph(root: Node | Iterable[Node], format: str = "svg", rankdir: str = "LR",
               filename: str | os.PathLike | None = None, *, small: int = 6,
               keep_source: bool = False, graph_attr: dict | None = None, show_local: bool = False,
               upto_step: int | None = None, trace=None, check=False, collapse: str | None = None
               ) -> graphviz.Digraph:
    """The computation graph behind ``root`` (one node or several) as a graphviz.Digraph.

    Tensors with at most ``small`` elements show their values, bigger ones min/mean/max. With
    ``filename`` the rendered picture is also written (format from its suffix, else ``format``),
    atomically; ``keep_source=True`` writes the DOT source next to it as ``<name>.gv``.
    ``show_local``: edges show local derivative and carried gradient from the last
    ``trace_backward`` (or ``trace``), nodes their backward step; ``upto_step=k`` shows the pass
    after step k. ``check=True`` (Value graphs) or ``check=fn`` (``fn()`` rebuilds the root from
    the same leaves) compares each leaf's grad with central differences, mismatches in red.
    ``collapse="module"`` draws each innermost nn.Module call as one box inside its containers.
    """
    roots = [root] if isinstance(root, Node) else list(root) if isinstance(root, Iterable) else []
    if not roots or not all(isinstance(r, Node) for r in roots):
        raise TypeError(f"draw_graph expects a Value or Tensor (or a list of them), got {root!r}")
    if collapse not in (None, "module"):
        raise ValueError(f"draw_graph: collapse must be None or 'module', got {collapse!r}")
    if check is not False and check is not None and len(roots) != 1:
        raise ValueError("draw_graph(check=...) checks the gradients of one root; pass a single Value or Tensor")
    order = topological_order(roots)
    index = {node: i for i, node in enumerate(order)}
    depth = _graph_depth(order, index)
    with_op = [i for i, node in enumerate(order) if node.parents]
    root_ids = {index[r] for r in roots}
    names = parameter_names(order, index)
    marks = _Marks(root_ids)
    flow = None
    if show_local or upto_step is not None:
        flow = Flow(order, index, roots, trace, upto_step, lambda x: _quantity_text(x, small))
        marks.backward_steps(flow, highlight=upto_step is not None)
    if check is not False and check is not None:
        marks.gradient_check(*leaf_checks(order, index[roots[0]], check, {
            i: order[i].label or names.get(i) or f"leaf {i}" for i, n in enumerate(order) if not n.parents}))
    broken = index.get(_mode.last_anomaly) if _mode.last_anomaly is not None else None
    if broken is not None:
        marks.anomaly(broken, order[broken].op)
    calls = ModuleCalls(order, index) if collapse else None
    box, cluster, drawn = _placement(calls, len(order))
    if calls is not None:
        boxes = sum(1 for c in drawn if not calls.children[c])
        marks.caption.append(f"{boxes} module call{'s' * (boxes != 1)} collapsed into boxes")
    sums = {i for i, n in enumerate(flow.fan) if n > 1 and box[i] is None} if flow is not None else set()

    ops = len(with_op)
    caption = f"{len(order)} nodes, {ops} op{'s' * (ops != 1)}, depth {max(depth[i] for i in root_ids)}"
    graph = _Digraph(name="autograd", format=format, graph_attr={
        "rankdir": rankdir, "labelloc": "b", "fontsize": "11", "label": "; ".join([caption, *marks.caption]),
        **(graph_attr or {}),
    }, node_attr={"shape": "record", "fontsize": "11"}, edge_attr={"fontsize": "9"})
    braced = rankdir.upper() in ("LR", "RL")
    parts = {None: graph}
    for c in drawn:
        if calls.children[c]:
            parts[c] = _cluster(calls, c, order)
    records = {c: [] for c in parts}  # (id, label, attributes) per graph part, written before the op nodes
    for i, value in enumerate(order):
        if box[i] is None:
            grad = flow.grad_text(i) if flow is not None else None
            label = _record_label(value, small, braced, grad, marks.notes.get(i, ()), names.get(i, ""))
            records[cluster[i]].append((f"v{i}", label, marks.looks.get(i, {})))
        if i in sums:
            records[cluster[i]].append((f"s{i}", "\u03a3 fan-out adds", _SUM_LOOK))
    inside: dict = {}  # box -> what went wrong in it, e.g. "0.weight: numeric differs at (3, 1): ..."
    for i in sorted(marks.alarms):
        if box[i] is not None:
            what = names.get(i) or order[i].label or order[i].op
            inside.setdefault(box[i], []).append(f"{what}: {marks.notes[i][-1]}")
    for c in drawn:
        if not calls.children[c]:
            look = _ALARM_LOOK if c in inside else {"penwidth": "2"} if calls.out[c] in root_ids else {}
            label = _box_label(calls, c, order, small, braced, flow, inside.get(c, ()))
            records[calls.parent[c]].append((f"m{c}", label, {**_BOX_LOOK, **look}))
    for c, part in parts.items():
        for name, label, attrs in records[c]:
            part.node(name, label, **attrs)
        # Op nodes come after a change of defaults (cheaper than attributes per node).
        part.attr("node", shape="ellipse", height="0.3", margin="0.04,0.02", fontsize="10")
    for i in with_op:
        if box[i] is None:
            op = str(order[i].op or "?")
            if flow is not None and op in PATTERNS:
                op += "\n" + PATTERNS[op]
            parts[cluster[i]].node(f"op{i}", graphviz.nohtml(op.translate(_TEXT_SPECIALS)),
                                   **marks.op_looks.get(i, {}))
    for c in drawn:  # a call's index is below its enclosing call's: inner clusters attach first
        if calls.children[c]:
            parts[calls.parent[c]].subgraph(parts[c])
    _draw_edges(graph, order, index, with_op, box, sums, flow)
    if filename is not None:
        _write_rendered(graph, filename, format, keep_source)
    return graph


_SUM_LOOK = {"shape": "box", "style": "rounded", "fontsize": "9", "height": "0.2", "margin": "0.04,0.01",
             "color": "darkorange3", "fontcolor": "darkorange4"}
_BOX_LOOK = {"style": "rounded,filled", "fillcolor": "#dde8f8"}
_ALARM_LOOK = {"color": "red", "fontcolor": "red", "penwidth": "3"}


def _cluster(calls: ModuleCalls, c: int, order: list) -> graphviz.Digraph:
    """The labelled cluster of a module call that encloses other calls (its title, output shape)."""
    out = order[calls.out[c]]._data
    shape = _shape_text(out) if isinstance(out, np.ndarray) else _number(out)
    part = graphviz.Digraph(name=f"cluster_m{c}", graph_attr={
        "label": f"{calls.title(c)}\nout {shape}".translate(_TEXT_SPECIALS), "labelloc": "t",
        "style": "rounded,filled", "fillcolor": _CLUSTER_FILLS[calls.depth(c) % 2], "fontsize": "11"})
    part.attr("node", shape="record", fontsize="11")  # the root's defaults have switched to op nodes
    return part


def _box_label(calls: ModuleCalls, c: int, order: list, small: int, braced: bool, flow, extra=()) -> str:
    """One record for an innermost module call: its title, output shape, data and gradient, stacked
    across the rank direction (the opposite of value records) so a chain of boxes stays narrow."""
    i = calls.out[c]
    out = order[i]
    title, _, own = calls.title(c).partition("  # ")  # Module's repr appends its tensors after '  # '
    fields = [_record_text(title)] + ([_record_text(own)] if own else [])
    if isinstance(out._data, np.ndarray):
        fields.append("out " + _record_text(_shape_text(out._data)))
    fields.append("data " + _record_text(_quantity_text(out._data, small)))
    if flow is not None:
        fields.append(_record_text(flow.grad_text(i)))
    elif out._grad is not None:
        fields.append("grad " + _record_text(_quantity_text(out._grad, small)))
    fields += [_record_text(text) for text in extra]
    body = " | ".join(fields)
    return graphviz.nohtml(body if braced else "{ " + body + " }")


def _draw_edges(graph, order: list, index: dict, with_op: list, box: list, sums: set, flow) -> None:
    """Op -> result edges, then input -> op edges: numbered, labelled from the trace, or into boxes."""
    graph.edges((f"op{i}", f"v{i}") for i in with_op if box[i] is None)
    graph.edges((f"v{i}", f"s{i}") for i in sorted(sums))
    seen, edge = set(), graph.edge
    for i in with_op:
        parents = order[i].parents
        head = f"op{i}" if box[i] is None else f"m{box[i]}"
        for k, parent in enumerate(parents):
            p = index[parent]
            tail = f"m{box[p]}" if box[p] is not None else f"s{p}" if p in sums else f"v{p}"
            if box[p] is not None or box[i] is not None:  # a box stands for many edges: draw one
                if box[p] != box[i] and (tail, head) not in seen:
                    seen.add((tail, head))
                    edge(tail, head)
                continue
            lines, zero = flow.edge_label(order[i], i, k) if flow is not None else ([], False)
            if len(parents) > 1:
                lines = [f"{k}: {lines[0]}" if lines else str(k)] + lines[1:]
            attrs = {"style": "dashed", "color": "gray50"} if zero else {}
            if lines:
                attrs["label"] = graphviz.nohtml("\n".join(lines).translate(_TEXT_SPECIALS))
            edge(tail, head, **attrs)


def backward_frames(root: Node, trace=None, **options) -> list:
    """One picture per step of the recorded backward pass (frame 0: before it, frame k: after step k),
    for stepping through it in a notebook; ``options`` go to draw_graph."""
    trace = _mode.last_trace if trace is None else trace
    first = draw_graph(root, show_local=True, upto_step=0, trace=trace, **options)
    return [first] + [draw_graph(root, show_local=True, upto_step=k, trace=trace, **options)
                      for k in range(1, len(trace) + 1)]


def _output_path(filename: str | os.PathLike, format: str) -> tuple[str, str]:
    """Where to write and in which format: a known suffix picks the format, no suffix gets ``.format``."""
    path = os.fspath(filename)
    suffix = os.path.splitext(path)[1][1:].lower()
    if suffix in graphviz.FORMATS:
        return path, suffix
    return (path, format) if suffix else (f"{path}.{format}", format)


def _write_atomically(path: str, data: bytes) -> None:
    """Write to a fresh temporary name in the same directory, then rename: never a partial file."""
    directory, base = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{base}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write_rendered(graph: graphviz.Digraph, filename, format: str, keep_source: bool) -> None:
    """Render in memory with ``dot`` and write the picture (and, if asked, the DOT source)."""
    path, fmt = _output_path(filename, format)
    graph.format = fmt
    data = graph.pipe(format=fmt)  # raises GraphvizNotFoundError before any file is touched
    _write_atomically(path, data)
    if keep_source:
        _write_atomically(os.path.splitext(path)[0] + ".gv", graph.source.encode("utf-8"))
