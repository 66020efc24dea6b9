"""Selection: where, and indexing (``t[index]``); each gradient goes back to the selected elements.

The adjoint of indexing scatters with add: an integer index array may pick an element twice.
"""

from __future__ import annotations

import numpy as np

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
        whole = part.astype(np.int64)
        if not np.array_equal(whole, part):
            raise IndexError("getitem: index arrays must hold integers or booleans, got non-integer floats")
        part = whole
    return part


def _index(index) -> tuple:
    """The index as a tuple NumPy accepts: Tensors become arrays, lists become integer or bool arrays."""
    return tuple(_index_part(p) for p in (index if isinstance(index, tuple) else (index,)))


def _scatter_array(g: np.ndarray, index: tuple, shape: tuple) -> np.ndarray:
    out = np.zeros(shape, dtype=g.dtype)
    if any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in index):
        np.add.at(out, index, g)  # integer arrays may repeat an element: its gradients must add up
    else:
        out[index] = g
    return out


def _scatter(g: Tensor, index: tuple, shape: tuple) -> Tensor:
    """Zeros of ``shape`` with g added at ``index`` (the adjoint of indexing); its gradient is h[index]."""
    return _result(_scatter_array(g._data, index, shape), (g,), lambda h, out, x: (h[index],), "scatter")


def getitem(a: Tensor, index) -> Tensor:
    """a[index] (ints, slices, None, Ellipsis, masks, integer arrays); the gradient scatters back with add."""
    index = _index(index)
    try:
        data = np.asarray(a._data[index])
    except IndexError as error:
        raise IndexError(f"getitem: {error} (indexing a tensor of shape {a.shape})") from None
    shape = a.shape

    def backward(g, out, x):
        return (_scatter(g, index, shape) if isinstance(g, Tensor) else _scatter_array(g, index, shape),)

    return _result(data, (a,), backward, "getitem")
