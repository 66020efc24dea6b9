"""What every op's backward closure may use: raw, expand, owned, gate.

Every op computes its forward result with NumPy and returns ``_result(data, parents, backward, op)``
where ``backward(g, out, *inputs)`` returns one gradient per input, in the output's (broadcast)
shape: the graph core reduces each to its input's shape. In a plain backward the arguments are
ndarrays; under ``create_graph=True`` they are Tensors, so closures use operators, methods that
ndarray and Tensor share (reshape, transpose, swapaxes, sum, astype, ...) and the helpers below.
"""

from __future__ import annotations

import math
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


def gate(g, weights, x=None, out=None, select: bool = True):
    """g * weights where a weight is nonzero and exactly 0 elsewhere: a select, so an inf in ``g`` where
    the weight is 0 gives 0 (as torch's relu, clamp, maximum), not inf * 0 = nan. ``weights`` is a bool
    mask or 0/share/1; ``select=False`` multiplies plainly, for ops where torch does (abs, leaky_relu).

    Under create_graph (``g`` a Tensor) it is an op of its own, torch's ``threshold_backward``: its
    gradient is gate again, and ``x`` (the input the weights came from) gets a zero gradient, so a
    second derivative through relu, abs or max is zeros, as in torch, rather than "not used"."""
    if isinstance(g, Tensor):
        weights = raw(weights)
        parents = (g,) if not isinstance(x, Tensor) else (g, x)
        return _result(gate(g._data, weights, select=select), parents, lambda h, out, *_: (
            gate(h, weights, select=select), *([_zeros_like(x)] if len(parents) == 2 else [])), "gate")
    if finite(g):  # the usual case: no inf or nan in g, so a product is a select
        return np.multiply(g, weights, out=out)
    with np.errstate(invalid="ignore"):  # inf * 0: nan, which the select turns into 0
        result = np.multiply(g, weights, out=out)
    if select:
        np.copyto(result, 0, where=np.broadcast_to(weights == 0, result.shape))
    return result


def finite(g: np.ndarray) -> bool:
    """True if g holds no inf or nan, by one sum (a sum that overflows only sends g the careful way)."""
    return math.isfinite(np.add.reduce(g, axis=None))


def _zeros_like(x: Tensor) -> Tensor:
    return Tensor(np.zeros(x.shape, x.dtype))
