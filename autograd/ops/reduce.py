"""Reductions (sum, mean, max, min, var, std, logsumexp, argmax, all, ...), softmax / log_softmax, nll_loss.

Axes follow NumPy: ``axis`` is None (all), an int or a tuple of ints, negative counts from the end,
``axis=()`` reduces nothing, and a 0-d tensor has no axis 0. ``dim=`` and ``keepdim=`` are accepted
as PyTorch's spellings of ``axis=`` and ``keepdims=`` (``shape.resolve``: giving both is an error).
Results follow torch: ``max(dim)`` is a (values, indices) pair, ``var`` is unbiased by default, the
sum of a bool or integer tensor is int64.
"""

from __future__ import annotations

import builtins
import collections
import itertools
import math
import operator
import warnings

import numpy as np

from ..tensor_class import Tensor, _result
from . import buffers, expand, raw
from .elementwise import _float_data, maximum, minimum
from .shape import UNSET, resolve

METHODS = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp",
           "softmax", "log_softmax", "all", "any"]  # nll_loss, cross_entropy: nn's, below

_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
MaxResult = collections.namedtuple("max", ["values", "indices"])  # repr as torch.return_types.max
MinResult = collections.namedtuple("min", ["values", "indices"])
MaxResult.__qualname__, MinResult.__qualname__ = "MaxResult", "MinResult"  # so pickle finds them


def _exp(x):
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def _axis_index(op: str, axis, ndim: int) -> int:
    try:
        index = operator.index(axis)
    except TypeError:
        hint = "; for the elementwise extremum of two tensors use maximum/minimum" \
            if op in ("max", "min") and isinstance(axis, Tensor) else ""
        raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, "
                        f"got {type(axis).__name__}{hint}") from None
    if not -ndim <= index < ndim:
        raise ValueError(f"{op}: axis {index} is out of range for a tensor with {ndim} dimensions")
    return index % ndim


def _axes(op: str, axis, ndim: int) -> tuple:
    """``axis`` as a sorted tuple of non-negative axes; None means every axis."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(sorted(_axis_index(op, a, ndim) for a in items))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: axis {tuple(axis)} repeats an axis")
    return axes


def _keepdims(op: str, keepdims, keepdim) -> bool:
    if keepdim is UNSET:  # no alias given: skip resolve, whose call costs as much as a small reduction
        return keepdims is not UNSET and bool(keepdims)
    return bool(resolve(op, False, keepdims=keepdims, keepdim=keepdim))


def _reduction(op: str, a: Tensor, axis, keepdims, dim, keepdim):
    """Normalised arguments of a reduction: axes, keepdims, and the kept-dims shape of the result."""
    axis = (None if axis is UNSET else axis) if dim is UNSET else resolve(op, None, axis=axis, dim=dim)
    axes = _axes(op, axis, a.ndim)
    kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    return axes, _keepdims(op, keepdims, keepdim), kept


def _cast(a: Tensor, dtype) -> Tensor:
    return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)


def sum(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET, dtype=None) -> Tensor:
    """Sum over ``axis`` (int64 for bool and integer tensors, as torch); d/dx = 1, broadcast back."""
    axes, keepdims, kept = _reduction("sum", a, axis, keepdims, dim, keepdim)
    if dtype is not None:
        a = _cast(a, dtype)
    shape, data = a.shape, a._data
    wide = np.int64 if data.dtype.kind in "biu" else None
    return _result(np.add.reduce(data, axis=axes, keepdims=keepdims, dtype=wide), (a,),
                   lambda g, out, x: (expand(g.reshape(kept), shape),), "sum")


def _floating(op: str, a: Tensor, message: str) -> None:
    if a.dtype.kind != "f":
        raise RuntimeError(message.format(op=op, name=_TORCH_NAMES.get(a.dtype.name, a.dtype.name)))


def mean(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET, dtype=None) -> Tensor:
    """Mean over ``axis`` (floating tensors only, as torch); d/dx = 1/n for n averaged elements, broadcast back."""
    axes, keepdims, kept = _reduction("mean", a, axis, keepdims, dim, keepdim)
    a = _cast(a, dtype)
    _floating("mean", a, "{op}(): could not infer output dtype. Input dtype must be either a floating point or "
                         "complex dtype. Got: {name}")
    count = math.prod(a.shape[i] for i in axes)
    shape, scale = a.shape, 1 / count if count else math.nan
    data = a._data
    if count and data.dtype.kind == "f" and data.itemsize >= 4:  # np.mean's own steps, without its wrappers
        data = np.true_divide(np.add.reduce(data, axis=axes, keepdims=keepdims), count)
    else:
        data = np.mean(data, axis=axes, keepdims=keepdims)
    return _result(data, (a,), lambda g, out, x: (expand(g.reshape(kept) * scale, shape),), "mean")


def _slices(x: np.ndarray, axes: tuple):
    """Index tuples that pick each position of the reduced axes, when a reduction over them is better
    done as an elementwise max of those few views: NumPy's reduce runs an inner loop per output
    element over a short axis (a 2x2 pooling tile: 20-40x slower). None when reduce is fine."""
    count = math.prod(x.shape[i] for i in axes)
    if not 1 < count <= 16 or x.size < 16 * count * count:
        return None
    kept = [abs(x.strides[i]) for i in range(x.ndim) if i not in axes and x.shape[i] > 1]
    if kept and builtins.min(abs(x.strides[i]) for i in axes) > builtins.max(kept):
        return None  # the kept axes are innermost in memory: reduce's inner loop is long and contiguous
    return list(itertools.product(*(range(n) if i in axes else (slice(None),) for i, n in enumerate(x.shape))))


def _extremum(ufunc, x: np.ndarray, axes: tuple, keepdims: bool, slices) -> np.ndarray:
    """``ufunc.reduce(x, axes)`` for np.maximum / np.minimum, as that ufunc over the views in ``slices`` if given."""
    if slices is None:
        return ufunc.reduce(x, axis=axes, keepdims=keepdims)
    first = x[slices[0]]
    data = ufunc(first, x[slices[1]], out=buffers.empty(first.shape, x.dtype, first))
    for s in slices[2:]:
        ufunc(data, x[s], out=data)
    return data.reshape(tuple(1 if i in axes else n for i, n in enumerate(x.shape))) if keepdims else data


def _first(winners: np.ndarray, axes: tuple) -> np.ndarray:
    """Only the first True of ``winners`` over ``axes`` (in row-major order of those axes)."""
    last = tuple(range(-len(axes), 0))
    moved = np.moveaxis(winners, axes, last)
    flat = moved.reshape(moved.shape[:-len(axes)] + (-1,))
    first = flat & (np.cumsum(flat, axis=-1) == 1)
    return np.moveaxis(first.reshape(moved.shape), last, axes)


def _extreme(op: str, ufunc, a: Tensor, axis, keepdims, dim, keepdim, first: bool = False) -> Tensor:
    """max or min; the gradient is split evenly among tied extremes, or all goes to the ``first``."""
    axes, keepdims, kept = _reduction(op, a, axis, keepdims, dim, keepdim)
    x = a._data
    slices = _slices(x, axes)
    dropped = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    try:
        data = _extremum(ufunc, x, axes, keepdims, slices)
    except ValueError:
        raise ValueError(f"{op}: cannot reduce over an empty axis (shape {a.shape}, axes {axes})") from None

    def backward(g, out, x):
        if isinstance(g, Tensor) or slices is None:
            winners = raw(x) == raw(out).reshape(kept)
            if first:
                return (g.reshape(kept) * _first(winners, axes).astype(raw(out).dtype),)
            with np.errstate(invalid="ignore", divide="ignore"):  # nan results: nan gradient, as torch
                share = winners / np.sum(winners, axis=axes, keepdims=True, dtype=raw(out).dtype)
            return (g.reshape(kept) * share,)
        best = out.reshape(dropped)
        if first:  # a view at a time, in order: the first winner takes what is left of g
            grad = buffers.empty(x.shape, x.dtype, x)
            left = buffers.empty(dropped, x.dtype, best)
            np.copyto(left, g.reshape(dropped))
            won = buffers.empty(dropped, bool, best)
            for k, s in enumerate(slices):
                np.equal(x[s], best, out=won)
                np.multiply(won, left, out=grad[s])
                if k + 1 < len(slices):
                    left -= grad[s]  # exactly 0 where this view won (a masked copy is 20x slower)
            return (grad,)
        # the same a view at a time: each winner gets g over its number of tied winners
        winners = [np.equal(x[s], best, out=buffers.empty(dropped, bool, best)) for s in slices]
        count = buffers.empty(dropped, out.dtype, best)
        np.copyto(count, winners[0])
        for won in winners[1:]:
            count += won
        grad = buffers.empty(x.shape, x.dtype, x)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.true_divide(g.reshape(dropped), count, out=count)
            for s, won in zip(slices, winners):
                np.multiply(won, scale, out=grad[s])
        return (grad,)

    return _result(data, (a,), backward, op)


def _select(op: str, argfn, a: Tensor, axis, keepdims: bool) -> tuple:
    """Values and int64 indices of the first extreme along one axis (torch's max(dim)); the gradient
    goes to that element only."""
    axis, x = _axis_index(op, axis, a.ndim), a._data
    try:
        index = argfn(x, axis=axis, keepdims=True)
    except ValueError:
        raise ValueError(f"{op}: cannot reduce over an empty axis (shape {a.shape}, axis {axis})") from None
    shape, kept = x.shape, index.shape

    def backward(g, out, x):
        if isinstance(g, Tensor):  # create_graph: g times a one-hot mask of the winners, recorded
            positions = np.arange(shape[axis]).reshape((-1,) + (1,) * (len(shape) - axis - 1))
            return (g.reshape(kept) * (positions == index),)
        grad = np.zeros(shape, g.dtype)
        np.put_along_axis(grad, index, g.reshape(kept), axis)
        return (grad,)

    data = np.take_along_axis(x, index, axis)
    values = _result(data if keepdims else data.squeeze(axis), (a,), backward, op)
    index = index.astype(np.int64, copy=False)
    return values, Tensor(index if keepdims else index.squeeze(axis))


def _max_or_min(op: str, a: Tensor, axis, keepdims, dim, keepdim):
    axis = resolve(op, None, axis=axis, dim=dim)
    if isinstance(axis, Tensor):  # torch: t.max(other) is the elementwise maximum
        return (maximum if op == "max" else minimum)(a, axis)
    if axis is None:
        return _extreme(op, np.maximum if op == "max" else np.minimum, a, UNSET, keepdims, UNSET, keepdim)
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{op}: dim must be a single int ({op}(dim) gives values and indices); for the "
                        f"{op}imum over several axes use a{op}(dim={tuple(axis)})")
    argfn = np.argmax if op == "max" else np.argmin
    return (MaxResult if op == "max" else MinResult)(*_select(op, argfn, a, axis, _keepdims(op, keepdims, keepdim)))


def max(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET):
    """The largest element (gradient split evenly among ties); with an int dim, (values, indices) of the
    first largest along it, as torch (gradient to that element); max(other) is maximum."""
    return _max_or_min("max", a, axis, keepdims, dim, keepdim)


def min(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET):
    """The smallest element (gradient split evenly among ties); with an int dim, (values, indices) of the
    first smallest along it, as torch (gradient to that element); min(other) is minimum."""
    return _max_or_min("min", a, axis, keepdims, dim, keepdim)


def amax(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET) -> Tensor:
    """Largest element over ``axis`` (None, int or tuple); the gradient goes to it, split evenly among ties."""
    return _extreme("amax", np.maximum, a, axis, keepdims, dim, keepdim)


def amin(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET) -> Tensor:
    """Smallest element over ``axis`` (None, int or tuple); the gradient goes to it, split evenly among ties."""
    return _extreme("amin", np.minimum, a, axis, keepdims, dim, keepdim)


def window_max(a: Tensor, axes: tuple) -> Tensor:
    """The largest element over ``axes`` (pooling windows) with torch's max-pooling gradient: all of it
    goes to the first maximum of each window, in row-major order. Not a Tensor method: max_pool2d's."""
    return _extreme("max_pool2d", np.maximum, a, axes, UNSET, UNSET, UNSET, first=True)


def _arg(op: str, argfn, a: Tensor, axis, keepdims, dim, keepdim) -> Tensor:
    axis = resolve(op, None, axis=axis, dim=dim)
    if a.dtype == np.bool_:
        raise RuntimeError(f"{op}(): does not support bool input")
    try:
        data = argfn(a._data, axis=None if axis is None else _axis_index(op, axis, a.ndim),
                     keepdims=_keepdims(op, keepdims, keepdim))
    except ValueError as error:
        raise ValueError(f"{op}: {error} (shape {a.shape})") from None
    return Tensor(np.asarray(data, dtype=np.int64))


def argmax(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET) -> Tensor:
    """The int64 index of the first largest element along ``axis`` (of the flattened tensor if None); no gradient."""
    return _arg("argmax", np.argmax, a, axis, keepdims, dim, keepdim)


def argmin(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET) -> Tensor:
    """The int64 index of the first smallest element along ``axis`` (of the flattened tensor if None); no gradient."""
    return _arg("argmin", np.argmin, a, axis, keepdims, dim, keepdim)


def _variance(op: str, a: Tensor, axis, unbiased, keepdims, dim, keepdim, correction, ddof):
    """var's and std's arguments (torch's, with NumPy's ddof=): data, axes, kept shape, 2 / (n - correction)."""
    if isinstance(axis, bool) and unbiased is UNSET:  # torch's var(unbiased)
        axis, unbiased = UNSET, axis
    axes, keepdims, kept = _reduction(op, a, axis, keepdims, dim, keepdim)
    _floating(op, a, "{op}(): std and var only support floating point and complex dtypes, got {name}")
    unbiased = unbiased if unbiased is UNSET else int(bool(unbiased))
    correction = resolve(op, 1, correction=correction, unbiased=unbiased, ddof=ddof)
    count = math.prod(a.shape[i] for i in axes)
    denominator = count - correction
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # n <= correction divides by 0: inf/nan, as torch
        data = np.var(a._data, axis=axes, ddof=builtins.min(correction, count), keepdims=keepdims)
    return data, axes, kept, 2 / denominator if denominator > 0 else math.inf


def _variance_grad(g, x, axes: tuple, kept: tuple, scale: float):
    with np.errstate(invalid="ignore"):
        return g.reshape(kept) * scale * (x - x.mean(axis=axes, keepdims=True))


def var(a: Tensor, axis=UNSET, unbiased=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET, correction=UNSET,
        ddof=UNSET) -> Tensor:
    """sum((x - mean)**2) / (n - correction) over ``axis``, correction=1 by default as torch (``unbiased=``,
    ``ddof=`` are other spellings); d/dx = 2 (x - mean) / (n - correction)."""
    data, axes, kept, scale = _variance("var", a, axis, unbiased, keepdims, dim, keepdim, correction, ddof)
    return _result(data, (a,), lambda g, out, x: (_variance_grad(g, x, axes, kept, scale),), "var")


def std(a: Tensor, axis=UNSET, unbiased=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET, correction=UNSET,
        ddof=UNSET) -> Tensor:
    """sqrt(var) with var's arguments; d/dx = (x - mean) / ((n - correction) std), 0 where std is 0 (as torch)."""
    data, axes, kept, scale = _variance("std", a, axis, unbiased, keepdims, dim, keepdim, correction, ddof)

    def backward(g, out, x):
        zero = raw(out) == 0
        return (_variance_grad(g * ~zero / (out * 2 + zero), x, axes, kept, scale),)

    return _result(np.sqrt(data), (a,), backward, "std")


def _truth(op: str, reduce, a: Tensor, axis, keepdims, dim, keepdim) -> Tensor:
    axes, keepdims, _ = _reduction(op, a, axis, keepdims, dim, keepdim)
    data = reduce(a._data, axis=axes, keepdims=keepdims)
    return Tensor(np.asarray(data, dtype=np.uint8 if a.dtype == np.uint8 else np.bool_))


def all(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET) -> Tensor:
    """Whether every element over ``axis`` is nonzero: a bool tensor (uint8 for uint8, as torch), no gradient."""
    return _truth("all", np.all, a, axis, keepdims, dim, keepdim)


def any(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET) -> Tensor:
    """Whether some element over ``axis`` is nonzero: a bool tensor (uint8 for uint8, as torch), no gradient."""
    return _truth("any", np.any, a, axis, keepdims, dim, keepdim)


def logsumexp(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET) -> Tensor:
    """log(sum(e**x)) over ``axis``, max-shifted so it never overflows; d/dx = softmax(x) over ``axis``."""
    axes, keepdims, kept = _reduction("logsumexp", a, axis, keepdims, dim, keepdim)
    x = _float_data(a)
    shift = np.max(x, axis=axes, keepdims=True) if x.size else np.zeros(kept, x.dtype)
    shift = np.where(np.isfinite(shift), shift, 0)  # all -inf rows give -inf, not nan
    with np.errstate(divide="ignore"):
        data = np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift
    if not keepdims:
        data = data.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))

    def backward(g, out, x):
        e = _exp(x - shift)  # softmax from the shifted input: exp(x - out) loses digits in float32
        return (g.reshape(kept) * (e / e.sum(axis=axes, keepdims=True)),)

    return _result(data, (a,), backward, "logsumexp")


def _softmax_axis(op: str, a: Tensor, axis, dim) -> int:
    axis = resolve(op, -1, axis=axis, dim=dim)
    if isinstance(axis, (tuple, list)) or axis is None:
        raise TypeError(f"{op}: axis must be a single int, got {axis!r}")
    return _axis_index(op, axis, a.ndim)


def softmax(a: Tensor, axis=UNSET, *, dim=UNSET) -> Tensor:
    """s = e**x / sum(e**x) along ``axis``, max-shifted (stable); the gradient is s * (g - sum(g s))."""
    axis = _softmax_axis("softmax", a, axis, dim)
    x = _float_data(a)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    data = e / np.sum(e, axis=axis, keepdims=True)
    return _result(data, (a,), lambda g, out, x: (
        out * (g - (g * out).sum(axis=axis, keepdims=True)),), "softmax")


def log_softmax(a: Tensor, axis=UNSET, *, dim=UNSET) -> Tensor:
    """x - logsumexp(x) along ``axis``, max-shifted (stable); the gradient is g - softmax(x) sum(g)."""
    axis = _softmax_axis("log_softmax", a, axis, dim)
    x = _float_data(a)
    data = x - _extremum(np.maximum, x, (axis,), True, _slices(x, (axis,)))
    data -= np.log(np.add.reduce(np.exp(data), axis=axis, keepdims=True))

    def backward(g, out, x):
        if isinstance(g, Tensor):
            return (g - out.exp() * g.sum(axis=axis, keepdims=True),)
        e = np.exp(out)
        e *= np.add.reduce(g, axis=axis, keepdims=True)
        return (np.subtract(g, e, out=e),)

    return _result(data, (a,), backward, "log_softmax")


def nll_loss(a: Tensor, index: np.ndarray, reduction: str = "mean") -> Tensor:
    """-mean (or -sum) of a[n, index[n]] for (N, C) log-probabilities and N class indices, as one op
    (torch's nll_loss); the gradient is -1/N (or -1) at each picked entry, 0 elsewhere.

    Not a Tensor method: ``nn.functional.nll_loss`` / ``cross_entropy`` check the shapes, the indices
    and ``reduction`` and then call this. The mean of an empty batch is nan, as torch's."""
    rows = np.arange(len(index))
    picked = a._data[rows, index]
    scale = (-1 / len(index) if len(index) else np.nan) if reduction == "mean" else -1.0
    data = np.multiply(np.add.reduce(picked), scale, dtype=picked.dtype)

    def backward(g, out, x):
        if isinstance(g, Tensor):
            picks = np.zeros(x.shape, x.dtype)
            picks[rows, index] = scale
            return (g * picks,)
        grad = np.zeros(x.shape, x.dtype)
        grad[rows, index] = g * scale
        return (grad,)

    return _result(data, (a,), backward, "nll_loss")


def cross_entropy(a: Tensor, index: np.ndarray, reduction: str = "mean") -> Tensor:
    """Softmax cross entropy of (N, C) logits and N class indices as one op: -mean (or -sum) of
    log_softmax(a)[n, index[n]]; the gradient is (softmax(a) - one_hot) / N (or without the 1/N).

    ``log_softmax`` then ``nll_loss`` in one node, as the lecture's "dz = p - y": the softmax kept
    for the backward is the only array saved. Not a Tensor method: ``nn.functional.cross_entropy``
    checks the shapes, the indices and ``reduction`` and then calls this."""
    x = _float_data(a)
    rows = np.arange(len(index))
    shifted = np.subtract(x, np.maximum.reduce(x, axis=1, keepdims=True)) if x.size else x.copy()
    probs = np.exp(shifted)
    total = np.add.reduce(probs, axis=1, keepdims=True)
    picked = np.add.reduce(shifted[rows, index]) - np.add.reduce(np.log(total[:, 0]))
    scale = (-1 / len(index) if len(index) else np.nan) if reduction == "mean" else -1.0
    data = np.multiply(picked, scale, dtype=x.dtype)
    probs /= total

    def backward(g, out, x):
        if isinstance(g, Tensor):  # create_graph: the same formula, recorded
            picks = np.zeros(x.shape, x.dtype)
            picks[rows, index] = 1
            return ((x.softmax(axis=1) - picks) * (g * -scale),)
        weight = float(g) * -scale  # a Python float keeps the logits' dtype (and skips 0-d array arithmetic)
        grad = np.multiply(probs, weight)
        grad[rows, index] -= weight
        return (grad,)

    return _result(data, (a,), backward, "cross_entropy")
