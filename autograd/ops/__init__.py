"""Tensor ops grouped by kind: elementwise, reduce, shape (movement and indexing), linalg (matmul, windows).

Every op computes its forward result with NumPy and returns ``_result(data, parents, backward, op)``
where ``backward(g, out, *inputs)`` returns one gradient per input, in the output's (broadcast)
shape: the graph core reduces each to its input's shape. In a plain backward the arguments are
ndarrays; under ``create_graph=True`` they are Tensors, so closures use operators, methods that
ndarray and Tensor share (reshape, transpose, swapaxes, sum, astype, ...) and the helpers below.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def raw(x):
    """The ndarray behind a closure argument (for masks and indices, which are not differentiated)."""
    return x.data if isinstance(x, Tensor) else x


def expand(g, shape: tuple):
    """Broadcast ``g`` to ``shape`` (a read-only view for arrays, a recorded op for Tensors)."""
    return g.broadcast_to(shape) if isinstance(g, Tensor) else np.broadcast_to(g, shape)
