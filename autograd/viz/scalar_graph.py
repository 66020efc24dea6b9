"""explode: a small tensor computation rebuilt out of scalar Values, drawn micrograd-style.

``explode(fn, *tensors)`` runs ``fn`` twice: on float64 Tensors, and on ``ValueArray``s (NumPy
object arrays of Values that offer the Tensor methods small examples use). Both backward passes
must give the same gradients, so a 2x2 matmul or a 3-logit softmax cross entropy can be shown as
the scalar graph a Tensor op stands for, with proof that the two agree. In Jupyter the result shows
as its picture, the input elements in a row in input order.
"""

from __future__ import annotations

import functools
import html
import math
import operator
import string
from dataclasses import dataclass

import graphviz
import numpy as np

from ..debug import BackwardTrace, trace_backward
from ..graph import Node, topological_order
from ..ops.reduce import MaxResult, MinResult
from ..tensor_class import Tensor
from ..value import Value
from .draw import draw_graph
from .labels import quantity_text

__all__ = ["explode", "Exploded", "ValueArray", "GradientMismatchError"]


class GradientMismatchError(AssertionError):
    """The scalar graph and the Tensor ops disagree on a value or a gradient."""


def _operand(x) -> np.ndarray:
    """The other side of an arithmetic op: a ValueArray's Values, a number or an array of numbers."""
    if isinstance(x, ValueArray):
        return x.values
    if isinstance(x, Node) and not isinstance(x, Value):
        raise TypeError("explode: fn mixed a Tensor into the exploded computation; write constants as numbers "
                        "or NumPy arrays, and pass every tensor fn uses as an argument of explode")
    return np.asarray(x, dtype=object) if isinstance(x, Value) else np.asarray(x)


def _elementwise(method: str, *args):
    """Apply a Value method to every element (np.frompyfunc keeps object dtype)."""
    apply = np.frompyfunc(lambda v: getattr(v, method)(*args), 1, 1)
    return lambda self: ValueArray(apply(self.values))


def _binary(op, reflected: bool = False):
    if reflected:
        return lambda self, other: ValueArray(op(_operand(other), self.values))
    return lambda self, other: ValueArray(op(self.values, _operand(other)))


def _axes(axis, dim, ndim: int) -> tuple:
    axis = dim if dim is not None else axis
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(a % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,))))


class ValueArray:
    """A NumPy object array of Values with the Tensor operators and methods small examples need."""

    __array_ufunc__ = None  # NumPy defers to the reflected operators below

    def __init__(self, values):
        self.values = np.asarray(values, dtype=object)

    shape = property(lambda self: self.values.shape)
    ndim = property(lambda self: self.values.ndim)
    size = property(lambda self: self.values.size)
    T = property(lambda self: ValueArray(self.values.T))
    data = property(lambda self: np.vectorize(lambda v: v.data, otypes=[float])(self.values))

    def __repr__(self) -> str:
        return f"ValueArray(shape={self.shape}, data={self.data.tolist()})"

    __add__, __radd__ = _binary(operator.add), _binary(operator.add, True)
    __sub__, __rsub__ = _binary(operator.sub), _binary(operator.sub, True)
    __mul__, __rmul__ = _binary(operator.mul), _binary(operator.mul, True)
    __truediv__, __rtruediv__ = _binary(operator.truediv), _binary(operator.truediv, True)
    __pow__, __rpow__ = _binary(operator.pow), _binary(operator.pow, True)
    __matmul__, __rmatmul__ = _binary(np.matmul), _binary(np.matmul, True)
    maximum, minimum = _binary(np.frompyfunc(Value.max, 2, 1)), _binary(np.frompyfunc(Value.min, 2, 1))
    __neg__ = _elementwise("__neg__")
    exp, log, sqrt, tanh, sigmoid, relu, abs = (_elementwise(m) for m in (
        "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs"))

    def leaky_relu(self, alpha: float = 0.01) -> "ValueArray":
        return _elementwise("leaky_relu", alpha)(self)

    def __getitem__(self, index) -> "ValueArray":
        return ValueArray(self.values[index])

    def __len__(self) -> int:
        return len(self.values)

    def reshape(self, *shape) -> "ValueArray":
        return ValueArray(self.values.reshape(*shape))

    def transpose(self, *axes) -> "ValueArray":
        return ValueArray(self.values.transpose(*axes))

    def item(self) -> Value:
        return self.values.item()

    def _fold(self, combine, axis, keepdims, dim) -> "ValueArray":
        """Reduce with a left fold of ``combine`` (Value, Value) -> Value over the axes (no zero start)."""
        axes, pairwise = _axes(axis, dim, self.ndim), np.frompyfunc(combine, 2, 1)
        values = self.values
        for a in reversed(axes):
            slices = [np.asarray(s, dtype=object) for s in np.moveaxis(values, a, 0)]
            total = functools.reduce(lambda x, y: np.asarray(pairwise(x, y), dtype=object), slices)
            values = np.expand_dims(total, a)
        if not keepdims:
            values = values.reshape(tuple(n for i, n in enumerate(values.shape) if i not in axes))
        return ValueArray(values)

    def sum(self, axis=None, keepdims: bool = False, *, dim=None) -> "ValueArray":
        return self._fold(operator.add, axis, keepdims, dim)

    def mean(self, axis=None, keepdims: bool = False, *, dim=None) -> "ValueArray":
        count = math.prod(self.shape[a] for a in _axes(axis, dim, self.ndim))
        return self.sum(axis, keepdims, dim=dim) / float(count)

    def amax(self, axis=None, keepdims: bool = False, *, dim=None) -> "ValueArray":
        return self._fold(Value.max, axis, keepdims, dim)

    def amin(self, axis=None, keepdims: bool = False, *, dim=None) -> "ValueArray":
        return self._fold(Value.min, axis, keepdims, dim)

    def max(self, axis=None, keepdims: bool = False, *, dim=None):
        """As Tensor.max: the largest element, or (values, indices) along one int dim."""
        return self._extreme(self.amax, np.argmax, MaxResult, axis, keepdims, dim)

    def min(self, axis=None, keepdims: bool = False, *, dim=None):
        """As Tensor.min: the smallest element, or (values, indices) along one int dim."""
        return self._extreme(self.amin, np.argmin, MinResult, axis, keepdims, dim)

    def _extreme(self, fold, arg, result, axis, keepdims, dim):
        along = dim if dim is not None else axis
        if along is None:
            return fold(axis, keepdims, dim=dim)
        indices = arg(self.data, axis=along, keepdims=keepdims)
        return result(fold(axis, keepdims, dim=dim), indices)

    def logsumexp(self, axis=None, keepdims: bool = False, *, dim=None) -> "ValueArray":
        """log(sum(e**x)), shifted by the max of the data (a constant, so gradients are unchanged)."""
        axes = _axes(axis, dim, self.ndim)
        shift = np.max(self.data, axis=axes, keepdims=True)
        total = ((self - shift).exp().sum(axis=axes, keepdims=True)).log() + shift
        return total if keepdims else total.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    def softmax(self, axis: int = -1, *, dim=None) -> "ValueArray":
        e = (self - np.max(self.data, axis=_axes(axis, dim, self.ndim), keepdims=True)).exp()
        return e / e.sum(axis=axis, keepdims=True, dim=dim)

    def log_softmax(self, axis: int = -1, *, dim=None) -> "ValueArray":
        return self - self.logsumexp(axis, keepdims=True, dim=dim)


@dataclass(repr=False)
class Exploded:
    """What explode found: the scalar root, the Values standing for each input element, both
    gradients per input (they agree), the backward trace of the scalar graph and its picture, which
    Jupyter shows in place of the object."""

    root: Value
    values: tuple
    value_grads: tuple
    tensor_grads: tuple
    trace: BackwardTrace
    graph: graphviz.Digraph

    def __repr__(self) -> str:
        shapes = ", ".join(str(v.shape) for v in self.values)
        return (f"<Exploded {self.root.label} = {self.root.data:.6g}: inputs {shapes} as "
                f"{len(topological_order([self.root]))} scalar nodes; gradients agree with the Tensor ops>")

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        return self.graph._repr_mimebundle_(include, exclude, **kwargs)

    def _repr_svg_(self) -> str:
        return self.graph.pipe(format="svg", encoding="utf-8")


def _inputs_in_a_row(graph: graphviz.Digraph, root: Value, values: tuple) -> None:
    """Keep the input elements on one rank in input order (a[0], a[1], ..., b[0], ...), so the picture's
    leaves read like the arrays: a rank=same row chained by invisible edges. Graphviz drops such flat
    edges between record nodes ("lost edge"), so these leaves are drawn as HTML tables with the same
    fields (label, data, grad), stacked as the records of the picture's direction are."""
    order = topological_order([root])
    index = {node: i for i, node in enumerate(order)}
    source = graph.source
    leaves = [v for array in values for v in array.flat if v in index and f"\tv{index[v]} [" in source]
    if len(leaves) < 2:  # a summary may not draw them all
        return
    stacked = graph.graph_attr.get("rankdir", "TB").upper() in ("TB", "BT")
    for leaf in leaves:
        fields = [leaf.label, f"data {quantity_text(leaf.data, 0)}", f"grad {quantity_text(leaf.grad, 0)}"]
        cells = ["<TD>" + html.escape(text) + "</TD>" for text in fields]
        rows = "".join(f"<TR>{cell}</TR>" for cell in cells) if stacked else "<TR>" + "".join(cells) + "</TR>"
        graph.node(f"v{index[leaf]}", label=f"<<TABLE BORDER='0' CELLBORDER='1' CELLSPACING='0'>{rows}</TABLE>>",
                   shape="plaintext")
    with graph.subgraph(name="inputs") as row:
        row.attr(rank="same")
        names = [f"v{index[leaf]}" for leaf in leaves]
        for name in names:
            row.node(name)
        for tail, head in zip(names, names[1:]):
            row.edge(tail, head, style="invis")


def _scalar(out, what: str):
    if isinstance(out, ValueArray):
        out = out.values
    if np.size(out._data if isinstance(out, Tensor) else out) != 1:
        raise ValueError(f"explode: fn must return one number (a loss); on the {what} it returned shape {out.shape}")
    return out.item() if isinstance(out, np.ndarray) else out


def explode(fn, *inputs, atol: float = 1e-6, rtol: float = 1e-5, max_elements: int = 64, **draw_options) -> Exploded:
    """Run ``fn(*inputs)`` as Tensor ops and as a graph of scalar Values, check both backward passes
    agree (else GradientMismatchError), and draw the scalar graph (``draw_options`` go to draw_graph)."""
    arrays = [np.array(x._data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    if not arrays or sum(a.size for a in arrays) > max_elements:
        raise ValueError(f"explode: expects 1 to {max_elements} input elements in all (each becomes a node), got "
                         f"{sum(a.size for a in arrays)}; raise max_elements to draw a bigger graph")
    names = [x.label if isinstance(x, Tensor) and x.label else string.ascii_lowercase[k % 26]
             for k, x in enumerate(inputs)]
    tensors = [Tensor(a.copy(), requires_grad=True, label=n) for a, n in zip(arrays, names)]
    tensor_out = _scalar(fn(*tensors), "Tensors")
    if not isinstance(tensor_out, Tensor) or not tensor_out.requires_grad:
        raise TypeError(f"explode: fn must compute its result from its arguments with their operators and "
                        f"methods, got {tensor_out!r} on Tensors")
    tensor_out.backward()
    values = tuple(np.array([Value(float(a[i]), label=name + (str(list(i)).replace(" ", "") if i else ""))
                             for i in np.ndindex(a.shape)], dtype=object).reshape(a.shape)
                   for a, name in zip(arrays, names))
    root = _scalar(fn(*(ValueArray(v) for v in values)), "Values")
    if not isinstance(root, Value):
        raise TypeError(f"explode: on the Values fn returned {type(root).__name__}, not a Value")
    root.label = root.label or "out"
    trace = trace_backward(root, show=False)
    expected = float(np.asarray(tensor_out._data))
    if not math.isclose(root.data, expected, rel_tol=rtol, abs_tol=atol):
        raise GradientMismatchError(f"explode: fn gives {expected!r} on Tensors but {root.data!r} on Values")
    value_grads = tuple(np.vectorize(lambda v: v.grad, otypes=[float])(v) for v in values)
    tensor_grads = tuple(np.zeros(a.shape) if t._grad is None else np.asarray(t._grad, dtype=np.float64)
                         for a, t in zip(arrays, tensors))
    for name, scalar, tensor in zip(names, value_grads, tensor_grads):
        close = np.isclose(scalar, tensor, rtol=rtol, atol=atol)
        if not close.all():
            at = tuple(int(i) for i in np.argwhere(~close)[0])
            raise GradientMismatchError(
                f"explode: d{root.label}/d{name}{list(at)} is {float(tensor[at])!r} from the Tensor ops but "
                f"{float(scalar[at])!r} from the scalar graph (atol {atol}, rtol {rtol})")
    graph = draw_graph(root, **draw_options)
    _inputs_in_a_row(graph, root, values)
    return Exploded(root, values, value_grads, tensor_grads, trace, graph)
