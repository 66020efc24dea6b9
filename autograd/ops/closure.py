"""What every op's backward closure may use: raw, expand, owned, fused, primitive, gate, threshold_backward.

Every op computes its forward result with NumPy and returns ``_result(data, parents, backward, op)``
where ``backward(g, out, *inputs)`` returns one gradient per input, in the output's (broadcast)
shape: the graph core reduces each to its input's shape. In a plain backward the arguments are
ndarrays; under ``create_graph=True`` they are Tensors, so closures use operators, methods that
ndarray and Tensor share (reshape, transpose, swapaxes, sum, astype, ...) and the helpers below.
Closures run inside the backward walk, whose NumPy warnings are off as a whole (graph.py): inf and
nan need no hush of their own there, while each op's forward hushes its own (``autograd.quiet``).
"""

from __future__ import annotations

import sys

import numpy as np

from .. import memory
from ..graph import _mode
from ..tensor_class import Tensor, _result


def raw(x):
    """The ndarray behind a closure argument (for masks and indices, which are not differentiated)."""
    return x._data if isinstance(x, Tensor) else x


def expand(g, shape: tuple):
    """Broadcast ``g`` to ``shape`` (a read-only view for arrays, a recorded op for Tensors)."""
    if isinstance(g, Tensor):
        return g.broadcast_to(shape)
    if g.size == 1 and len(shape) == 1 and shape[0] <= 4096:
        return np.full(shape, g.reshape(()), g.dtype)  # np.broadcast_to's Python costs more than this copy
    return np.broadcast_to(g, shape)


def _refcount(g) -> int:
    return sys.getrefcount(g)


def _sole_count() -> int:
    """The reference count ``owned`` sees for an array that only the core's loop holds."""
    def probe(g):  # stands in for owned(), called from a closure as owned() is
        return _refcount(g)

    def closure(g):
        return probe(g)

    g = np.empty(1)  # the core's local
    return closure(g)


_SOLE = _sole_count()


def owned(g) -> bool:
    """True if a closure's upstream gradient ``g`` is an array only the core holds (not a view, not a
    node's .grad, no trace keeping it): the closure may then write its result into ``g`` in place."""
    return (isinstance(g, np.ndarray) and _refcount(g) <= _SOLE and g.flags.writeable
            and (g.base is None or memory.sole_view(g)) and _mode.trace is None and _mode.anomaly is None)


def fused(kernel, formula):
    """One derivative ``(g, out, x)``, two forms of one formula: ``formula`` on Tensors (create_graph: recorded)
    and ``kernel(g, out, x, into)`` on arrays, computed into one buffer, ``into`` being g when ``owned``.
    The core must call it directly: ``owned`` counts the references of exactly that call."""
    def derivative(g, out, x):
        if isinstance(g, Tensor) or not out.ndim:  # 0-d: NumPy's results are scalars, which take no out=
            return formula(g, out, x)
        into = g if owned(g) else None  # asked before the call: its pushed arguments would hold g
        return kernel(g, out, x, into)

    return derivative


def primitive(name: str, kernel, adjoint=None):
    """``kernel(g, *args, into=None)``, linear in g, as an op of its own (as torch's threshold_backward): the
    kernel on arrays; on a Tensor g (create_graph) the kernel on its data, recorded as ``name``, with g's
    derivative ``adjoint`` (None: the op itself, as a mask is its own adjoint) and zeros for the Tensors
    in ``args``, which it only reads (as torch's threshold_backward: a second derivative through a kink is 0)."""
    def op(g, *args, **params):
        if not isinstance(g, Tensor):
            return kernel(g, *args, **params)
        params.pop("into", None)  # a recorded result is a new array
        data_args = tuple(map(raw, args))
        read = tuple(a for a in args if isinstance(a, Tensor))

        def backward(h, out, *parents):
            dg = (adjoint or op)(h, *data_args, **params)
            zeros = _zeros_like if isinstance(h, Tensor) else _zero_array
            return (dg, *map(zeros, read))

        return _result(kernel(g._data, *data_args, **params), (g, *read), backward, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = kernel.__doc__
    return op


def _gate(g, weights, x=None, into=None, select: bool = True):
    """g * weights where a weight is nonzero and exactly 0 elsewhere: a select, so an inf in ``g`` where
    the weight is 0 gives 0 (as torch's relu, clamp, maximum), not inf * 0 = nan. ``weights`` is a bool
    mask or 0/share/1, ``x`` the input they came from (read only); ``select=False`` multiplies plainly,
    for ops where torch does (abs, leaky_relu). Its own adjoint."""
    if finite(g):  # the usual case: no inf or nan in g, so a product is a select
        return np.multiply(g, weights, out=into)
    result = np.asarray(np.multiply(g, weights, out=into))  # 0-d: an array, for copyto; inf * 0: nan, selected away
    if select:
        np.copyto(result, 0, where=np.broadcast_to(weights == 0, result.shape))
    return result


gate = primitive("gate", _gate)

_BITS = {size: np.dtype(f"i{size}") for size in (2, 4, 8)}  # an integer type of each float width


def _threshold(g, x, into=None):
    """g where x > 0 and exactly 0 elsewhere (an inf in g where x <= 0 gives 0): relu's gradient. One
    select with no check of g: g's bits ANDed with words of all ones or all zeros."""
    bits = _BITS.get(g.dtype.itemsize) if g.dtype.kind == "f" and g.shape == x.shape and x.ndim else None
    if bits is None:  # a dtype or shape the bit trick does not fit (0-d: NumPy gives scalars, not arrays)
        return _gate(g, np.greater(x, 0), into=into)
    # 1 or 0; from malloc, not the pool: a mask gone by the end of the call, which the pool would keep
    # idle between steps (1 MB of the MLP's at batch 1024, 1.24x NumPy's training memory against 1.14x)
    words = np.greater(x, 0, out=np.empty_like(x, bits))
    np.negative(words, out=words)  # -1 (every bit set) or 0
    return np.bitwise_and(g.view(bits), words, out=words if into is None else into.view(bits)).view(g.dtype)


threshold_backward = primitive("threshold_backward", _threshold)


def finite(g: np.ndarray) -> bool:
    """True if g holds no inf or nan, by one sum (a sum that overflows only sends g the careful way); the
    test is NumPy's, so a captured step (autograd.compile) checks the answer, not the sum."""
    return bool(np.isfinite(np.add.reduce(g, axis=None)))


def _zero_array(x: Tensor) -> np.ndarray:  # a plain backward passes arrays on, never Tensors
    return np.zeros(x.shape, x.dtype)


def _zeros_like(x: Tensor) -> Tensor:
    return Tensor(np.zeros(x.shape, x.dtype))
