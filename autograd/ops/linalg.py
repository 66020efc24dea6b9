"""Linear algebra: matmul with NumPy's semantics (1-D promotion, broadcast batch axes), and linear (x W^T + b).

Each forward runs under one ``hush``: a product past the float range is inf, inf * 0 in a sum nan, silently.
"""

from __future__ import annotations

import numpy as np

from .. import memory
from ..quiet import hush, unhush
from ..tensor_class import Tensor, _operand, _result
from .product_layout import transposed_product

METHODS = ["matmul", "linear"]
OPERATORS = {"__matmul__": "matmul", "__rmatmul__": "rmatmul"}


def _check_matmul(a_shape: tuple, b_shape: tuple) -> None:
    """Raise before anything is recorded if NumPy's matmul rules reject the shapes."""
    message = f"matmul: shapes {a_shape} and {b_shape} are not aligned"
    if not a_shape or not b_shape:
        raise ValueError(f"{message}: a 0-d operand has no axis to contract (use * to scale)")
    if a_shape[-1] != b_shape[-2 if len(b_shape) > 1 else 0]:
        raise ValueError(message)
    if len(a_shape) < 3 and len(b_shape) < 3:  # no batch axes (np.broadcast_shapes costs 2 us)
        return
    try:
        np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ValueError(f"{message}: batch axes {a_shape[:-2]} and {b_shape[:-2]} do not broadcast") from None


def _transposed(a) -> bool:
    """True for a 2-D array laid out column by column (a transposed view, such as ``W.T``)."""
    return isinstance(a, np.ndarray) and a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous


def _product(a, b, like, reuse: bool = False):
    """a @ b laid out as ``like`` (the operand whose gradient this is): a transposed operand gets
    (b^T a^T)^T, the same numbers in its own memory order, so the gradient is never re-copied across.
    So does a long product with few rows against a transposed b (a conv's weight gradient g @ cols^T):
    OpenBLAS runs that 1.5-2x faster with the operands swapped.
    ``reuse``: the product goes to a reused buffer (it is no leaf's .grad, which must own its memory)."""
    if not (isinstance(a, np.ndarray) and a.ndim == b.ndim == 2):
        return a @ b
    if _transposed(like) or (like is not None and _transposed(b) and a.flags.c_contiguous
                             and a.shape[0] < b.shape[1] and a.shape[1] > 4 * b.shape[1]):
        return _product(b.T, a.T, None, reuse).T
    into = memory.out((a.shape[0], b.shape[1]), a.dtype) if reuse and a.dtype == b.dtype else None
    return a @ b if into is None else np.matmul(a, b, out=into)


def _grad_left(g, x, y, reuse: bool = False):
    """dL/dx = g @ y^T; batch axes x lacks are summed by the core (faster than copying y to fold them)."""
    return _product(g, y.swapaxes(-1, -2), x, reuse)


def _grad_right(g, x, y, reuse: bool = False):
    """dL/dy = x^T @ g; for a matrix y, x's and g's batch axes fold into rows: one product, no big sum."""
    if y.ndim == 2 and x.ndim >= 2:
        return _product(x.reshape(-1, x.shape[-1]).T, g.reshape(-1, g.shape[-1]), y, reuse)
    return x.swapaxes(-1, -2) @ g


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul; a big product of two float matrices goes to a reused buffer."""
    if a.ndim == b.ndim == 2 and a.dtype == b.dtype and a.dtype.kind == "f":
        out = memory.out((a.shape[0], b.shape[1]), a.dtype)
        if _transposed(b) and a.flags.c_contiguous:  # x @ W.T: a small batch may run faster the other way round
            return transposed_product(a, b, out)
        return np.matmul(a, b, out=out)  # an array, as 2-D products are
    return np.asarray(a @ b)


def matmul(a: Tensor, b) -> Tensor:
    """a @ b as numpy.matmul; d/da = g @ b^T, d/db = a^T @ g (1-D operands promoted, batch axes summed)."""
    token = hush()
    try:
        if isinstance(a, Tensor):
            b = _operand(b, a)
        else:  # rmatmul's constant on the left
            a = _operand(a, b)
        _check_matmul(a.shape, b.shape)
        data = _matmul(a._data, b._data)
    finally:
        unhush(token)
    reuse_a, reuse_b = bool(a.parents), bool(b.parents)  # interior nodes: their gradient is a temporary
    a_vector, b_vector = a.ndim == 1, b.ndim == 1

    def promoted(g, x, y):
        """g, x, y with 1-D operands promoted as matmul does: x to a row (1, k), y to a column (k, 1)."""
        if a_vector or b_vector:
            shape = g.shape + (1,) if b_vector else g.shape
            g = g.reshape(shape[:-1] + (1,) + shape[-1:] if a_vector else shape)
            x = x.reshape(1, -1) if a_vector else x
            y = y.reshape(-1, 1) if b_vector else y
        return g, x, y

    def left(g, out, x, y):
        ga = _grad_left(*promoted(g, x, y), reuse_a)
        return ga.reshape(ga.shape[:-2] + ga.shape[-1:]) if a_vector else ga

    def right(g, out, x, y):
        gb = _grad_right(*promoted(g, x, y), reuse_b)
        return gb.reshape(gb.shape[:-1]) if b_vector else gb

    return _result(data, (a, b), (left, right), "@")


def rmatmul(a: Tensor, b) -> Tensor:
    """b @ a for a constant or array b on the left (the reflected operator)."""
    return matmul(b, a)


def linear(x: Tensor, weight, bias=None) -> Tensor:
    """x @ weight.T + bias (torch's F.linear) as one op; d/dx = g W, d/dW = g^T x (rows folded), d/db = sum g.

    One node instead of three: the bias is added into the product in place and the weight's
    gradient comes out in the weight's own layout, so neither costs a copy of a weight-sized array.
    """
    token = hush()  # also over the operands' casts (1e300 to float32: inf)
    try:
        if not isinstance(weight, Tensor):
            weight = _operand(weight, x)
        if bias is not None and not isinstance(bias, Tensor):
            bias = _operand(bias, x)
        xs, ws = x._data.shape, weight._data.shape
        if len(ws) != 2 or not xs or xs[-1] != ws[1]:
            raise ValueError(f"linear: input of shape {xs} does not match weight of shape {ws} "
                             "(expected weight (out_features, in_features) and input (..., in_features))")
        if bias is not None and bias._data.shape != ws[:1]:
            raise ValueError(f"linear: bias must have shape ({ws[0]},) for weight of shape {ws}, "
                             f"got {bias._data.shape}")
        data = _matmul(x._data, weight._data.T)
        if bias is not None:
            if bias._data.dtype == data.dtype:
                data += bias._data  # the product is a fresh array: no second one for the sum
            else:
                data = data + bias._data
    finally:
        unhush(token)
    reuse_x = bool(x.parents)
    rows, features = ws
    flat = len(xs) == 2  # no batch axes to fold into rows

    def input_grad(g, out, x, w, b=None):
        return _product(g, w, None, reuse_x)

    def weight_grad(g, out, x, w, b=None):
        return g.T @ x if flat else g.reshape(-1, rows).T @ x.reshape(-1, features)

    def bias_grad(g, out, x, w, b):
        g = g if flat else g.reshape(-1, rows)
        return g.sum(axis=0) if isinstance(g, Tensor) else np.add.reduce(g, axis=0)  # ndarray.sum costs more

    if bias is None:
        return _result(data, (x, weight), (input_grad, weight_grad), "linear")
    return _result(data, (x, weight, bias), (input_grad, weight_grad, bias_grad), "linear")
