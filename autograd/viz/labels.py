"""The text draw_graph writes: numbers, arrays, value records, module boxes and clusters, escaped for Graphviz."""

from __future__ import annotations

import graphviz
import numpy as np

from ..graph import Node, carried_grad
from ..memory import freed
from .modules import ModuleCalls

__all__ = ["quantity_text", "record_label", "box_label", "cluster", "plain_label"]

# Graphviz reads backslash escapes and HTML entities (&lt;) in any label; records also | { } < >.
_LABEL_ESCAPES = {"\\": "\\\\", "&": "&amp;", "\n": r"\n", "\r": ""}
_TEXT_SPECIALS = str.maketrans(_LABEL_ESCAPES)
_RECORD_SPECIALS = str.maketrans(_LABEL_ESCAPES | {c: "\\" + c for c in "{}|<>"})
_CLUSTER_FILLS = ("#f6f1fb", "#eef6ee")  # nested clusters alternate


def plain_label(text: str) -> str:
    """Escape text for a plain (non-record) label: an op node, an edge, a cluster title."""
    return graphviz.nohtml(str(text).translate(_TEXT_SPECIALS))


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


def quantity_text(x, small: int) -> str:
    """The text of a data or grad value: float, ndarray, a Node (create_graph grads) or None; the data
    a backward let go of (memory.free_unheld) says so; its shape and dtype are in the header."""
    if isinstance(x, Node):
        x = x._data
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        if freed(x):
            return "freed after backward"
        return _array_text(x, small)
    return _number(x)


def _shape_text(a: np.ndarray) -> str:
    """Shape and dtype of a tensor, e.g. ``(100, 100) float32`` or ``scalar float64``."""
    return f"{tuple(a.shape) if a.ndim else 'scalar'} {a.dtype}"


def record_label(node: Node, small: int, grad: str | None = None, extra=(), name: str = "") -> str:
    """The record label ``label | data ... | grad ...``; tensors add shape and dtype under the label.
    ``name`` stands in for a missing label (a module parameter's dotted name)."""
    head = [_record_text(node.label or name)] if node.label or name else []
    if isinstance(node._data, np.ndarray):
        head.append(_record_text(_shape_text(node._data)))
    fields = [r"\n".join(head)] if head else []  # no empty cell for unlabelled scalars
    fields.append("data " + _record_text(quantity_text(node._data, small)))
    if grad is None:
        grad = "grad " + quantity_text(node._grad if node._grad is not None else carried_grad(node), small)
    fields.append(_record_text(grad))
    fields += [_record_text(text) for text in extra]
    # A record lays its fields out across the rank direction; braces flip them: left to right they read
    # side by side, top to bottom they stack, so a top-to-bottom picture stays narrow.
    return graphviz.nohtml("{ " + " | ".join(fields) + " }")


def cluster(calls: ModuleCalls, c: int, order: list) -> graphviz.Digraph:
    """The labelled cluster of a module call that encloses other calls (its title, output shape)."""
    out = order[calls.out[c]]._data
    shape = _shape_text(out) if isinstance(out, np.ndarray) else _number(out)
    part = graphviz.Digraph(name=f"cluster_m{c}", graph_attr={
        "label": f"{calls.title(c)}\nout {shape}".translate(_TEXT_SPECIALS), "labelloc": "t",
        "style": "rounded,filled", "fillcolor": _CLUSTER_FILLS[calls.depth(c) % 2], "fontsize": "11"})
    part.attr("node", shape="record", fontsize="11")  # the root's defaults have switched to op nodes
    return part


def box_label(calls: ModuleCalls, c: int, order: list, small: int, braced: bool, flow, extra=()) -> str:
    """One record for an innermost module call: its title, output shape, data and gradient, side by side
    (``braced`` when the rank direction is left to right) so a chain of boxes stays narrow."""
    i = calls.out[c]
    out = order[i]
    title, _, own = calls.title(c).partition("  # ")  # Module's repr appends its tensors after '  # '
    fields = [_record_text(title)] + ([_record_text(own)] if own else [])
    if isinstance(out._data, np.ndarray):
        fields.append("out " + _record_text(_shape_text(out._data)))
    fields.append("data " + _record_text(quantity_text(out._data, small)))
    if flow is not None:
        fields.append(_record_text(flow.grad_text(i)))
    elif out._grad is not None:
        fields.append("grad " + _record_text(quantity_text(out._grad, small)))
    fields += [_record_text(text) for text in extra]
    body = " | ".join(fields)
    return graphviz.nohtml(body if braced else "{ " + body + " }")
