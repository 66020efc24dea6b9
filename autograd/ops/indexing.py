"""Selection: where, and indexing (``t[index]``); each gradient goes back to the selected elements.

The adjoint of indexing scatters with add: an integer index array may pick an element twice.
"""

from __future__ import annotations

import math

import numpy as np

from ..quiet import hush, unhush
from ..tensor_class import Tensor, _operand, _result
from .closure import raw

STATIC = ["where"]
OPERATORS = {"__getitem__": "getitem"}


def where(condition, a, b) -> Tensor:
    """a where condition holds, else b (broadcasting); the gradient goes to the chosen input."""
    mask = np.asarray(raw(condition), dtype=bool)
    if not isinstance(a, Tensor):
        a = _operand(a, b) if isinstance(b, Tensor) else Tensor(a)
    b = _operand(b, a)
    try:
        data = np.where(mask, a._data, b._data)
    except ValueError:
        raise ValueError(f"where: shapes {mask.shape}, {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None

    def chosen(g, out, x, y):
        return (where if isinstance(g, Tensor) else np.where)(mask, g, 0)

    def other(g, out, x, y):
        return (where if isinstance(g, Tensor) else np.where)(mask, 0, g)

    return _result(data, (a, b), (chosen, other), "where")


def _index_part(part):
    if isinstance(part, Tensor):
        part = part._data
    elif isinstance(part, range):
        part = np.arange(part.start, part.stop, part.step, dtype=np.int64)
    elif isinstance(part, list):
        part = np.asarray(part) if part else np.zeros(0, np.int64)
    if isinstance(part, np.ndarray) and part.dtype.kind == "f":
        # float32 is the default dtype of Tensor([0, 1]); accept such arrays when they hold integers
        token = hush()  # nan and inf cast to int64 would warn before the error below
        try:
            whole = part.astype(np.int64)
        finally:
            unhush(token)
        if not np.array_equal(whole, part):
            raise IndexError("getitem: index arrays must hold integers or booleans, got non-integer floats")
        part = whole
    return part


def _index(index) -> tuple:
    """The index as a tuple NumPy accepts: Tensors become arrays, lists become integer or bool arrays."""
    return tuple(_index_part(p) for p in (index if isinstance(index, tuple) else (index,)))


def add_rows(rows: np.ndarray, values: np.ndarray, num_rows: int) -> np.ndarray:
    """Zeros of (num_rows, width) with values[m] (M, width) added into row rows[m] (M non-negative ints).

    The adjoint of a row gather. One 1-D ``np.add.at`` over flat (row, column) keys: NumPy runs it in a
    fast loop (the 2-D form walks a slow general one, 2-6x the time), and it adds in the order given,
    in the values' dtype, as torch's index and embedding backwards do, so the sums are theirs bit for bit."""
    width = values.shape[1]
    keys = rows[:, None] * width + np.arange(width)
    out = np.zeros(num_rows * width, values.dtype)
    np.add.at(out, keys.ravel(), values.ravel())
    return out.reshape(num_rows, width)


def _whole(part) -> bool:
    return part is Ellipsis or (isinstance(part, slice) and part == slice(None))


def _leading_rows(index: tuple, shape: tuple):
    """For an index of k integer arrays followed only by ``:`` or ``...`` (C[X], p[rows, Y]): the flat
    number in shape[:k] of each picked (i0, ..., ik-1), non-negative, as intp, and k; else None."""
    k = 0
    while k < len(index) and isinstance(index[k], np.ndarray) and index[k].dtype.kind in "iu":
        k += 1
    if k == 0 or not all(_whole(p) for p in index[k:]):
        return None
    if k > 1:
        return np.ravel_multi_index(np.broadcast_arrays(*index[:k]), shape[:k], mode="wrap").ravel(), k
    rows = index[0].astype(np.intp, copy=False).ravel()
    if rows.size and np.minimum.reduce(rows) < 0:
        rows = rows % shape[0]  # the forward accepted it, so it lies in [-n, n)
    return rows, k


def _scatter_array(g: np.ndarray, index: tuple, shape: tuple) -> np.ndarray:
    if not any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in index):
        out = np.zeros(shape, dtype=g.dtype)
        out[index] = g
        return out
    leading = _leading_rows(index, shape)  # integer arrays may repeat an element: its gradients add up
    if leading is not None:
        rows, k = leading
        num_rows, width = math.prod(shape[:k]), math.prod(shape[k:])
        return add_rows(rows, g.reshape(rows.size, width), num_rows).reshape(shape)
    out = np.zeros(shape, dtype=g.dtype)
    np.add.at(out, index, g)
    return out


def _scatter(g: Tensor, index: tuple, shape: tuple) -> Tensor:
    """Zeros of ``shape`` with g added at ``index`` (the adjoint of indexing); its gradient is h[index]."""
    return _result(_scatter_array(g._data, index, shape), (g,), lambda h, out, x: (h[index],), "scatter")


def getitem(a: Tensor, index) -> Tensor:
    """a[index] (ints, slices, None, Ellipsis, masks, integer arrays); the gradient scatters back with add."""
    index = _index(index)
    try:
        if len(index) == 1 and isinstance(index[0], np.ndarray) and index[0].dtype.kind == "i":
            data = a._data.take(index[0], axis=0)  # C[X], Xtr[ix]: as a[X], 2-4x faster than fancy indexing
        else:
            data = np.asarray(a._data[index])
    except IndexError as error:
        raise IndexError(f"getitem: {error} (indexing a tensor of shape {a.shape})") from None
    shape = a.shape

    def backward(g, out, x):
        return (_scatter(g, index, shape) if isinstance(g, Tensor) else _scatter_array(g, index, shape),)

    return _result(data, (a,), backward, "getitem")
