"""draw_graph: any Node graph (Values or Tensors) as a graphviz.Digraph, with data and grad per node.

One record per value node (label | data | grad; big tensors as shape, dtype and min/mean/max), a
small op node between an op's inputs and its result, numbered input edges when an op has two or
more inputs (so ``a - b`` reads unambiguously and ``a + a`` shows both edges). Node ids are
topological indices, so two drawings of the same graph have the same source. The walk is the
core's iterative ``topological_order``: linear in the graph size, no recursion limit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable

import graphviz
import numpy as np

from .graph import Node, topological_order

__all__ = ["GraphvizNotFoundError", "draw_graph"]

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
        x = x.data
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        return _array_text(x, small)
    return _number(x)


def _shape_text(a: np.ndarray) -> str:
    """Shape and dtype of a tensor, e.g. ``(100, 100) float32`` or ``scalar float64``."""
    return f"{tuple(a.shape) if a.ndim else 'scalar'} {a.dtype}"


def _record_label(node: Node, small: int, braced: bool) -> str:
    """The record label ``label | data ... | grad ...``; tensors add shape and dtype under the label."""
    head = [_record_text(node.label)] if node.label else []
    if isinstance(node.data, np.ndarray):
        head.append(_record_text(_shape_text(node.data)))
    fields = [r"\n".join(head)] if head else []  # no empty cell for unlabelled scalars
    fields.append("data " + _record_text(_quantity_text(node.data, small)))
    fields.append("grad " + _record_text(_quantity_text(node.grad, small)))
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


def draw_graph(root: Node | Iterable[Node], format: str = "svg", rankdir: str = "LR",
               filename: str | os.PathLike | None = None, *, small: int = 6,
               keep_source: bool = False, graph_attr: dict | None = None) -> graphviz.Digraph:
    """The computation graph behind ``root`` (one node or several) as a graphviz.Digraph.

    Tensors with at most ``small`` elements show their values, bigger ones min/mean/max. With
    ``filename`` the rendered picture is also written (format from its suffix, else ``format``),
    atomically; ``keep_source=True`` writes the DOT source next to it as ``<name>.gv``.
    """
    roots = [root] if isinstance(root, Node) else list(root) if isinstance(root, Iterable) else []
    if not roots or not all(isinstance(r, Node) for r in roots):
        raise TypeError(f"draw_graph expects a Value or Tensor (or a list of them), got {root!r}")
    order = topological_order(roots)
    index = {node: i for i, node in enumerate(order)}
    depth = _graph_depth(order, index)
    with_op = [i for i, node in enumerate(order) if node.parents]
    ops = len(with_op)
    root_ids = {index[r] for r in roots}

    graph = _Digraph(name="autograd", format=format, graph_attr={
        "rankdir": rankdir, "labelloc": "b", "fontsize": "11",
        "label": f"{len(order)} nodes, {ops} op{'s' * (ops != 1)}, depth {max(depth[i] for i in root_ids)}",
        **(graph_attr or {}),
    }, node_attr={"shape": "record", "fontsize": "11"}, edge_attr={"fontsize": "9"})
    braced = rankdir.upper() in ("LR", "RL")
    node, edge = graph.node, graph.edge
    for i, value in enumerate(order):
        node(f"v{i}", _record_label(value, small, braced), penwidth="2" if i in root_ids else None)
    # Op nodes come after a change of defaults (cheaper than attributes per node), edges after all nodes.
    graph.attr("node", shape="ellipse", height="0.3", margin="0.04,0.02", fontsize="10")
    for i in with_op:
        node(f"op{i}", graphviz.nohtml(str(order[i].op or "?").translate(_TEXT_SPECIALS)))
    graph.edges((f"op{i}", f"v{i}") for i in with_op)
    for i in with_op:
        parents = order[i].parents
        if len(parents) == 1:
            edge(f"v{index[parents[0]]}", f"op{i}")
        else:
            for k, parent in enumerate(parents):
                edge(f"v{index[parent]}", f"op{i}", label=str(k))

    if filename is not None:
        _write_rendered(graph, filename, format, keep_source)
    return graph


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
