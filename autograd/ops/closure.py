"""What every op's backward closure may use: raw, expand, owned.

Every op computes its forward result with NumPy and returns ``_result(data, parents, backward, op)``
where ``backward(g, out, *inputs)`` returns one gradient per input, in the output's (broadcast)
shape: the graph core reduces each to its input's shape. In a plain backward the arguments are
ndarrays; under ``create_graph=True`` they are Tensors, so closures use operators, methods that
ndarray and Tensor share (reshape, transpose, swapaxes, sum, astype, ...) and the helpers below.
"""

from __future__ import annotations

import sys

import numpy as np

from .. import memory
from ..graph import _mode
from ..tensor_class import Tensor


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
