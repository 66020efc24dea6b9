"""Shape and movement ops: reshape, permutations, broadcasting, padding, joining, where, indexing.

Each backward is the op's adjoint: a reshape reshapes back, a permutation applies the inverse one,
a broadcast sums (the core's ``sum_to_shape`` does that), a slice or gather scatters with add.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor, _operand, _result
from . import buffers, raw

METHODS = ["reshape", "transpose", "T", "permute", "swapaxes", "flatten", "broadcast_to", "expand",
           "unsqueeze", "squeeze", "pad", "split"]
STATIC = ["concatenate", "stack", "where"]
OPERATORS = {"__getitem__": "getitem"}

AxisError = getattr(np, "exceptions", np).AxisError  # a ValueError and an IndexError, as in NumPy


def _axis(axis, ndim: int, op: str) -> int:
    """``axis`` in range(ndim), counting from the end if negative; else an error naming both."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or not -ndim <= axis < ndim:
        raise AxisError(f"{op}: axis {axis!r} is out of range for a tensor with {ndim} dimensions")
    return int(axis) % ndim


def _shape_args(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _reshaped(a: Tensor, shape: tuple, op: str) -> Tensor:
    try:
        data = buffers.reshape(a.data, shape)
    except ValueError:
        raise ValueError(f"{op}: cannot reshape a tensor of shape {a.shape} ({a.size} elements) "
                         f"into shape {shape}") from None
    source = a.shape
    return _result(data, (a,), lambda g, out, x: (g.reshape(source),), op)


def reshape(a: Tensor, *shape) -> Tensor:
    """a with a new shape (same elements in C order, one -1 inferred); the gradient is reshaped back."""
    return _reshaped(a, _shape_args(shape), "reshape")


def _permute(a: Tensor, perm: tuple, op: str) -> Tensor:
    inverse = tuple(int(i) for i in np.argsort(perm))
    return _result(a.data.transpose(perm), (a,), lambda g, out, x: (g.transpose(*inverse),), op)


def _permutation(axes: tuple, ndim: int, op: str) -> tuple:
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if len(axes) != ndim:
        hint = f"; to swap two axes use swapaxes{tuple(axes)}" if len(axes) == 2 else ""
        raise ValueError(f"{op}: axes {tuple(axes)} must list all {ndim} axes of a tensor with "
                         f"{ndim} dimensions{hint}")
    perm = tuple(_axis(axis, ndim, op) for axis in axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(f"{op}: axes {tuple(axes)} repeat an axis; they must be a permutation of {ndim} axes")
    return perm


def transpose(a: Tensor, *axes) -> Tensor:
    """a with its axes permuted (reversed if none are given); the gradient is permuted back."""
    perm = _permutation(axes, a.ndim, "transpose") if axes else tuple(range(a.ndim))[::-1]
    return _permute(a, perm, "transpose")


T = property(transpose, doc="The tensor with its axes reversed, ``transpose()``.")


def permute(a: Tensor, *axes) -> Tensor:
    """a with its axes in the order ``axes`` (torch's permute); the gradient is permuted back."""
    return _permute(a, _permutation(axes, a.ndim, "permute"), "permute")


def swapaxes(a: Tensor, axis1: int, axis2: int) -> Tensor:
    """a with two axes exchanged; the gradient exchanges them back."""
    perm = list(range(a.ndim))
    i, j = _axis(axis1, a.ndim, "swapaxes"), _axis(axis2, a.ndim, "swapaxes")
    perm[i], perm[j] = j, i
    return _permute(a, tuple(perm), "swapaxes")


def flatten(a: Tensor, start_axis: int = 0, end_axis: int = -1, *, start_dim: int | None = None,
            end_dim: int | None = None) -> Tensor:
    """a with axes start_axis..end_axis merged into one (a 0-d tensor becomes shape (1,))."""
    start = _axis(start_axis if start_dim is None else start_dim, max(a.ndim, 1), "flatten")
    end = _axis(end_axis if end_dim is None else end_dim, max(a.ndim, 1), "flatten")
    if start > end:
        raise ValueError(f"flatten: start axis {start} comes after end axis {end}")
    shape = a.shape[:start] + (math.prod(a.shape[start:end + 1]),) + a.shape[end + 1:]
    return _reshaped(a, shape, "flatten")


def broadcast_to(a: Tensor, *shape) -> Tensor:
    """a repeated along new leading and size-1 axes (a view); the gradient sums the copies back."""
    shape = _shape_args(shape)
    try:
        data = np.broadcast_to(a.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast a tensor of shape {a.shape} to shape {shape}") from None
    # The core reduces every gradient to its input's shape: the adjoint of broadcasting is that sum.
    return _result(data, (a,), lambda g, out, x: (g,), "broadcast_to")


def expand(a: Tensor, *sizes) -> Tensor:
    """torch's expand: broadcast_to where -1 keeps an existing axis's size; the gradient sums back."""
    sizes = _shape_args(sizes)
    lead = len(sizes) - a.ndim
    return broadcast_to(a, tuple(a.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes)))


def unsqueeze(a: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """a with a new size-1 axis at ``axis`` (in range -ndim-1..ndim); the gradient drops it."""
    axis = _axis(axis if dim is None else dim, a.ndim + 1, "unsqueeze")
    return _reshaped(a, a.shape[:axis] + (1,) + a.shape[axis:], "unsqueeze")


def squeeze(a: Tensor, axis=None, *, dim=None) -> Tensor:
    """a without its size-1 axes (or only those in ``axis``; as torch, others are left alone)."""
    axis = axis if dim is None else dim
    axes = range(a.ndim) if axis is None else axis if isinstance(axis, (tuple, list)) else (axis,)
    drop = {i for i in (_axis(ax, max(a.ndim, 1), "squeeze") for ax in axes) if a.ndim and a.shape[i] == 1}
    return _reshaped(a, tuple(n for i, n in enumerate(a.shape) if i not in drop), "squeeze")


def pad(a: Tensor, pad_width, value: float = 0) -> Tensor:
    """a surrounded by ``value`` (NumPy's pad_width: int, pair, pair per axis); the gradient is the inside."""
    widths = np.asarray(pad_width)
    try:
        if widths.dtype.kind not in "iu" or (widths < 0).any():
            raise ValueError
        widths = np.broadcast_to(widths, (a.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width must be non-negative ints, one (before, after) pair per axis of "
                         f"a tensor of shape {a.shape}, got {pad_width!r}") from None
    inner = tuple(slice(int(b), int(b) + n) for n, (b, _) in zip(a.shape, widths))
    data = np.full(tuple(n + int(b) + int(e) for n, (b, e) in zip(a.shape, widths)), value, dtype=a.dtype)
    data[inner] = a.data
    return _result(data, (a,), lambda g, out, x: (g[inner],), "pad")


def _tensors(items, op: str) -> list:
    items = list(items)
    if not items:
        raise ValueError(f"{op}: needs at least one tensor")
    like = next((x for x in items if isinstance(x, Tensor)), None)
    like = Tensor(items[0]) if like is None else like
    return [_operand(x, like) for x in items]


def _join(op: str, join, tensors: list, axis: int, pieces: list) -> Tensor:
    """``join`` of the tensors' data along ``axis``; each tensor's gradient is g[its piece]."""
    try:
        data = join([t.data for t in tensors], axis=axis)
    except ValueError:
        raise ValueError(f"{op}: cannot join tensors of shapes {[t.shape for t in tensors]} "
                         f"along axis {axis}") from None
    pieces = [p if t.requires_grad else None for p, t in zip(pieces, tensors)]
    return _result(data, tuple(tensors), lambda g, out, *xs: tuple(
        None if p is None else g[p] for p in pieces), op)


def concatenate(tensors, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """The tensors joined along an existing axis; each gets back its slice of the gradient."""
    tensors = _tensors(tensors, "concatenate")
    axis = _axis(axis if dim is None else dim, tensors[0].ndim, "concatenate")
    bounds = np.cumsum([0] + [t.shape[axis] if t.ndim > axis else 0 for t in tensors]).tolist()
    lead = (slice(None),) * axis
    return _join("concatenate", np.concatenate, tensors, axis,
                 [lead + (slice(s, e),) for s, e in zip(bounds, bounds[1:])])


def stack(tensors, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """The tensors joined along a new axis; each gets back its slice of the gradient."""
    tensors = _tensors(tensors, "stack")
    axis = _axis(axis if dim is None else dim, tensors[0].ndim + 1, "stack")
    return _join("stack", np.stack, tensors, axis, [(slice(None),) * axis + (i,) for i in range(len(tensors))])


def split(a: Tensor, indices_or_sections, axis: int = 0, *, dim: int | None = None) -> list:
    """NumPy's split: ``n`` equal sections or pieces cut before each index, as a list of slices of a."""
    axis = _axis(axis if dim is None else dim, a.ndim, "split")
    length = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or length % sections:
            raise ValueError(f"split: axis {axis} of length {length} does not split into {sections} equal sections")
        bounds = [i * (length // sections) for i in range(sections + 1)]
    else:
        bounds = [0, *(int(i) for i in indices_or_sections), length]
    lead = (slice(None),) * axis
    return [getitem(a, lead + (slice(s, e),)) for s, e in zip(bounds[:-1], bounds[1:])]


def where(condition, a, b) -> Tensor:
    """a where condition holds, else b (broadcasting); the gradient goes to the chosen input."""
    mask = np.asarray(raw(condition), dtype=bool)
    if not isinstance(a, Tensor):
        a = _operand(a, b) if isinstance(b, Tensor) else Tensor(a)
    b = _operand(b, a)
    try:
        data = np.where(mask, a.data, b.data)
    except ValueError:
        raise ValueError(f"where: shapes {mask.shape}, {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None
    need_a, need_b = a.requires_grad, b.requires_grad

    def backward(g, out, x, y):
        select = where if isinstance(g, Tensor) else np.where
        return select(mask, g, 0) if need_a else None, select(mask, 0, g) if need_b else None

    return _result(data, (a, b), backward, "where")


def _index_part(part):
    if isinstance(part, Tensor):
        part = part.data
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
    return _result(_scatter_array(g.data, index, shape), (g,), lambda h, out, x: (h[index],), "scatter")


def getitem(a: Tensor, index) -> Tensor:
    """a[index] (ints, slices, None, Ellipsis, masks, integer arrays); the gradient scatters back with add."""
    index = _index(index)
    try:
        data = np.asarray(a.data[index])
    except IndexError as error:
        raise IndexError(f"getitem: {error} (indexing a tensor of shape {a.shape})") from None
    shape = a.shape

    def backward(g, out, x):
        return (_scatter(g, index, shape) if isinstance(g, Tensor) else _scatter_array(g, index, shape),)

    return _result(data, (a,), backward, "getitem")
