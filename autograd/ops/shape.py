"""Shape and movement ops: reshape, permutations, broadcasting, padding, joining, splitting.

Each backward is the op's adjoint: a reshape reshapes back, a permutation applies the inverse one,
a broadcast sums (the core's ``sum_to_shape`` does that), a join hands each input its slice.
Also the argument helpers every op module uses: ``resolve`` (aliases such as axis=/dim=) and ``_axis``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import memory
from ..tensor_class import Tensor, _operand, _result
from .indexing import getitem

METHODS = ["reshape", "view", "transpose", "T", "permute", "swapaxes", "flatten", "broadcast_to", "expand",
           "unsqueeze", "squeeze", "pad", "split", "chunk", "tensor_split"]
STATIC = ["concatenate", "stack"]

AxisError = getattr(np, "exceptions", np).AxisError  # a ValueError and an IndexError, as in NumPy
UNSET = object()


def resolve(op: str, default, **given):
    """The one of some aliased arguments that was given (``axis=``/``dim=``, ``keepdims=``/``keepdim=``, ...),
    or ``default`` if none was; giving two of them is a TypeError naming both."""
    found = UNSET
    for value in given.values():  # a loop, not comprehensions: every reduction calls this twice
        if value is not UNSET:
            if found is not UNSET:
                passed = " and ".join(f"{name}=" for name, v in given.items() if v is not UNSET)
                raise TypeError(f"{op}: got {passed}, which are aliases; pass only one of "
                                f"{', '.join(name + '=' for name in given)}")
            found = value
    return default if found is UNSET else found


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
        data = memory.reshape(a._data, shape)
    except ValueError:
        raise ValueError(f"{op}: cannot reshape a tensor of shape {a.shape} ({a._data.size} elements) "
                         f"into shape {shape}") from None
    source = a.shape
    return _result(data, (a,), lambda g, out, x: (g.reshape(source),), op)


def reshape(a: Tensor, *shape) -> Tensor:
    """a with a new shape (same elements in C order, one -1 inferred); the gradient is reshaped back."""
    return _reshaped(a, _shape_args(shape), "reshape")


def view(a: Tensor, *shape) -> Tensor:
    """torch's view: as reshape (varargs or a tuple, one -1 inferred); the gradient is reshaped back."""
    return _reshaped(a, _shape_args(shape), "view")


def _permute(a: Tensor, perm: tuple, op: str) -> Tensor:
    inverse = tuple(int(i) for i in np.argsort(perm))
    return _result(a._data.transpose(perm), (a,), lambda g, out, x: (g.transpose(inverse),), op)


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
    """torch's transpose(dim0, dim1) swaps two axes; else NumPy's (axes reversed, or permuted as listed)."""
    if len(axes) == 2 and not isinstance(axes[0], (tuple, list)):
        return _permute(a, _swap(a.ndim, *axes, "transpose"), "transpose")
    perm = _permutation(axes, a.ndim, "transpose") if axes else tuple(range(a.ndim))[::-1]
    return _permute(a, perm, "transpose")


T = property(transpose, doc="The tensor with its axes reversed, ``transpose()``.")


def permute(a: Tensor, *axes) -> Tensor:
    """a with its axes in the order ``axes`` (torch's permute); the gradient is permuted back."""
    return _permute(a, _permutation(axes, a.ndim, "permute"), "permute")


def _swap(ndim: int, axis1, axis2, op: str) -> tuple:
    perm = list(range(ndim))
    i, j = _axis(axis1, max(ndim, 1), op), _axis(axis2, max(ndim, 1), op)  # torch allows 0 / -1 on a 0-d tensor
    if ndim:
        perm[i], perm[j] = j, i
    return tuple(perm)


def swapaxes(a: Tensor, axis1: int, axis2: int) -> Tensor:
    """a with two axes exchanged; the gradient exchanges them back."""
    return _permute(a, _swap(a.ndim, axis1, axis2, "swapaxes"), "swapaxes")


def flatten(a: Tensor, start_axis=UNSET, end_axis=UNSET, *, start_dim=UNSET, end_dim=UNSET) -> Tensor:
    """a with axes start_axis..end_axis merged into one (a 0-d tensor becomes shape (1,))."""
    start = _axis(resolve("flatten", 0, start_axis=start_axis, start_dim=start_dim), max(a.ndim, 1), "flatten")
    end = _axis(resolve("flatten", -1, end_axis=end_axis, end_dim=end_dim), max(a.ndim, 1), "flatten")
    if start > end:
        raise ValueError(f"flatten: start axis {start} comes after end axis {end}")
    shape = a.shape[:start] + (math.prod(a.shape[start:end + 1]),) + a.shape[end + 1:]
    return _reshaped(a, shape, "flatten")


def broadcast_to(a: Tensor, *shape) -> Tensor:
    """a repeated along new leading and size-1 axes (a view); the gradient sums the copies back."""
    shape = _shape_args(shape)
    try:
        data = np.broadcast_to(a._data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast a tensor of shape {a.shape} to shape {shape}") from None
    # The core reduces every gradient to its input's shape: the adjoint of broadcasting is that sum.
    return _result(data, (a,), lambda g, out, x: (g,), "broadcast_to")


def expand(a: Tensor, *sizes) -> Tensor:
    """torch's expand: broadcast_to where -1 keeps an existing axis's size; the gradient sums back."""
    sizes = _shape_args(sizes)
    lead = len(sizes) - a.ndim
    return broadcast_to(a, tuple(a.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes)))


def unsqueeze(a: Tensor, axis=UNSET, *, dim=UNSET) -> Tensor:
    """a with a new size-1 axis at ``axis`` (in range -ndim-1..ndim); the gradient drops it."""
    axis = _axis(resolve("unsqueeze", None, axis=axis, dim=dim), a.ndim + 1, "unsqueeze")
    return _reshaped(a, a.shape[:axis] + (1,) + a.shape[axis:], "unsqueeze")


def squeeze(a: Tensor, axis=UNSET, *, dim=UNSET) -> Tensor:
    """a without its size-1 axes (or only those in ``axis``; as torch, others are left alone)."""
    axis = resolve("squeeze", None, axis=axis, dim=dim)
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
    data[inner] = a._data
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
        data = join([t._data for t in tensors], axis=axis)
    except ValueError:
        raise ValueError(f"{op}: cannot join tensors of shapes {[t.shape for t in tensors]} "
                         f"along axis {axis}") from None
    return _result(data, tuple(tensors), tuple(_piece(p) for p in pieces), op)


def _piece(piece):
    """The derivative of a join for the input at ``piece``: that slice of the gradient."""
    return lambda g, out, *xs: g[piece]


def concatenate(tensors, axis=UNSET, *, dim=UNSET) -> Tensor:
    """The tensors joined along an existing axis; each gets back its slice of the gradient."""
    axis = resolve("concatenate", 0, axis=axis, dim=dim)
    tensors = _tensors(tensors, "concatenate")
    axis = _axis(axis, tensors[0].ndim, "concatenate")
    bounds = np.cumsum([0] + [t.shape[axis] if t.ndim > axis else 0 for t in tensors]).tolist()
    lead = (slice(None),) * axis
    return _join("concatenate", np.concatenate, tensors, axis,
                 [lead + (slice(s, e),) for s, e in zip(bounds, bounds[1:])])


def stack(tensors, axis=UNSET, *, dim=UNSET) -> Tensor:
    """The tensors joined along a new axis; each gets back its slice of the gradient."""
    axis = resolve("stack", 0, axis=axis, dim=dim)
    tensors = _tensors(tensors, "stack")
    axis = _axis(axis, tensors[0].ndim + 1, "stack")
    return _join("stack", np.stack, tensors, axis, [(slice(None),) * axis + (i,) for i in range(len(tensors))])


def _pieces(a: Tensor, axis: int, bounds: list) -> tuple:
    """The slices of ``a`` between consecutive ``bounds`` along ``axis``, each a view whose gradient scatters back."""
    lead = (slice(None),) * axis
    return tuple(getitem(a, lead + (slice(s, e),)) for s, e in zip(bounds[:-1], bounds[1:]))


def _sizes(value) -> list | int:
    """An int (also a 0-d int Tensor) as itself, a sequence (also a 1-D Tensor) as a list of ints."""
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray) and value.ndim == 0 or isinstance(value, (int, np.integer)):
        return int(value)
    return [int(n) for n in value]


def split(a: Tensor, split_size_or_sections, axis=UNSET, *, dim=UNSET) -> tuple:
    """torch's split: pieces of ``size`` (an int; the last may be smaller) or of the listed sizes."""
    axis = _axis(resolve("split", 0, axis=axis, dim=dim), a.ndim, "split")
    length, sizes = a.shape[axis], _sizes(split_size_or_sections)
    if isinstance(sizes, int):
        if sizes < 0 or sizes == 0 and length:
            raise ValueError(f"split: split_size must be positive (0 only for an empty axis), got {sizes}")
        sizes = [sizes] * (-(-length // sizes)) if length else [0]
        sizes[-1] = length - sum(sizes[:-1])
    elif sum(sizes) != length or any(n < 0 for n in sizes):
        raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {length}, the length of axis "
                         f"{axis}")
    return _pieces(a, axis, np.cumsum([0, *sizes]).tolist())


def chunk(a: Tensor, chunks: int, axis=UNSET, *, dim=UNSET) -> tuple:
    """torch's chunk: split into pieces of ceil(n / chunks) along the axis (so maybe fewer than ``chunks``)."""
    axis = _axis(resolve("chunk", 0, axis=axis, dim=dim), a.ndim, "chunk")
    if int(chunks) <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    length = a.shape[axis]
    if not length:  # as torch: ``chunks`` empty pieces
        return _pieces(a, axis, [0] * (int(chunks) + 1))
    return split(a, -(-length // int(chunks)), axis)


def tensor_split(a: Tensor, indices_or_sections, axis=UNSET, *, dim=UNSET) -> tuple:
    """NumPy's array_split (as torch.tensor_split): ``n`` near-equal sections, the first n % sections
    one longer, or the pieces cut before each index."""
    axis = _axis(resolve("tensor_split", 0, axis=axis, dim=dim), a.ndim, "tensor_split")
    length, cut = a.shape[axis], _sizes(indices_or_sections)
    if isinstance(cut, int):
        if cut <= 0:
            raise ValueError(f"tensor_split: the number of sections must be positive, got {cut}")
        size, extra = divmod(length, cut)
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (cut - extra)).tolist()
    else:
        bounds = [0, *cut, length]  # slices between them, as NumPy's: a cut before an earlier one gives an empty piece
    return _pieces(a, axis, bounds)
