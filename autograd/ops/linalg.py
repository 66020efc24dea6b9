"""Linear algebra: matmul with NumPy's semantics (1-D promotion, broadcast batch axes)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _operand, _result

METHODS = ["matmul"]
OPERATORS = {"__matmul__": "matmul", "__rmatmul__": "rmatmul"}


def _check_matmul(a_shape: tuple, b_shape: tuple) -> None:
    """Raise before anything is recorded if NumPy's matmul rules reject the shapes."""
    message = f"matmul: shapes {a_shape} and {b_shape} are not aligned"
    if not a_shape or not b_shape:
        raise ValueError(f"{message}: a 0-d operand has no axis to contract (use * to scale)")
    if a_shape[-1] != b_shape[-2 if len(b_shape) > 1 else 0]:
        raise ValueError(message)
    try:
        np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ValueError(f"{message}: batch axes {a_shape[:-2]} and {b_shape[:-2]} do not broadcast") from None


def _grad_left(g, x, y):
    """dL/dx = g @ y^T; batch axes x lacks are summed by the core (faster than copying y to fold them)."""
    return g @ y.swapaxes(-1, -2)


def _grad_right(g, x, y):
    """dL/dy = x^T @ g; for a matrix y, x's and g's batch axes fold into rows: one product, no big sum."""
    if y.ndim == 2 and x.ndim > 2:
        return x.reshape(-1, x.shape[-1]).T @ g.reshape(-1, g.shape[-1])
    return x.swapaxes(-1, -2) @ g


def matmul(a: Tensor, b) -> Tensor:
    """a @ b as numpy.matmul; d/da = g @ b^T, d/db = a^T @ g (1-D operands promoted, batch axes summed)."""
    b = _operand(b, a)
    _check_matmul(a.shape, b.shape)
    data = np.asarray(np.matmul(a.data, b.data))
    need_a, need_b = a.requires_grad, b.requires_grad
    a_vector, b_vector = a.ndim == 1, b.ndim == 1

    def backward(g, out, x, y):
        # promote 1-D operands as matmul does: x to a row (1, k), y to a column (k, 1)
        if a_vector or b_vector:
            shape = g.shape + (1,) if b_vector else g.shape
            g = g.reshape(shape[:-1] + (1,) + shape[-1:] if a_vector else shape)
            x = x.reshape(1, -1) if a_vector else x
            y = y.reshape(-1, 1) if b_vector else y
        ga = _grad_left(g, x, y) if need_a else None
        gb = _grad_right(g, x, y) if need_b else None
        if a_vector and ga is not None:
            ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if b_vector and gb is not None:
            gb = gb.reshape(gb.shape[:-1])
        return ga, gb

    return _result(data, (a, b), backward, "@")


def rmatmul(a: Tensor, b) -> Tensor:
    """b @ a for a constant or array b on the left (the reflected operator)."""
    return matmul(_operand(b, a), a)
