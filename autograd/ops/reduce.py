"""Reductions: sum, mean, var, std, argmax, argmin, all, any (max and min are in ``extremes``).

Axes follow NumPy: ``axis`` is None (all), an int or a tuple of ints, negative counts from the end,
``axis=()`` reduces nothing, and a 0-d tensor has no axis 0. ``dim=`` and ``keepdim=`` are accepted
as PyTorch's spellings of ``axis=`` and ``keepdims=`` (``shape.resolve``: giving both is an error).
Results follow torch: ``max(dim)`` is a (values, indices) pair, ``var`` is unbiased by default, the
sum of a bool or integer tensor is int64. Floating-point reductions run under one ``hush``: a sum
that overflows is inf, the mean of nothing nan, a variance of too few elements inf or nan, silently.
"""

from __future__ import annotations

import collections
import math
import operator

import numpy as np

from ..quiet import hush, unhush
from ..tensor_class import Tensor, _result
from .closure import expand, raw
from .shape import UNSET, resolve

METHODS = ["sum", "mean", "argmax", "argmin", "var", "std", "all", "any"]

_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
MaxResult = collections.namedtuple("max", ["values", "indices"])  # repr as torch.return_types.max
MinResult = collections.namedtuple("min", ["values", "indices"])
MaxResult.__qualname__, MinResult.__qualname__ = "MaxResult", "MinResult"  # so pickle finds them


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
    token = hush()
    try:
        data = np.add.reduce(data, axis=axes, keepdims=keepdims, dtype=wide)
    finally:
        unhush(token)
    return _result(data, (a,), lambda g, out, x: (expand(g.reshape(kept), shape),), "sum")


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
    token = hush()
    try:
        if data.itemsize >= 4 or not count:  # np.mean's own steps without its wrappers; 0 / 0 is nan, as torch
            data = np.true_divide(np.add.reduce(data, axis=axes, keepdims=keepdims), count)
        else:  # float16: np.mean sums in float32
            data = np.mean(data, axis=axes, keepdims=keepdims)
    finally:
        unhush(token)
    return _result(data, (a,), lambda g, out, x: (expand(g.reshape(kept) * scale, shape),), "mean")


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


def _variance(op: str, a: Tensor, axis, unbiased, keepdims, dim, keepdim, correction, ddof, root: bool = False):
    """var's and std's arguments (torch's, with NumPy's ddof=): the variance (its square root if
    ``root``), axes, kept shape, 2 / (n - correction)."""
    if isinstance(axis, bool) and unbiased is UNSET:  # torch's var(unbiased)
        axis, unbiased = UNSET, axis
    axes, keepdims, kept = _reduction(op, a, axis, keepdims, dim, keepdim)
    _floating(op, a, "{op}(): std and var only support floating point and complex dtypes, got {name}")
    unbiased = unbiased if unbiased is UNSET else int(bool(unbiased))
    correction = resolve(op, 1, correction=correction, unbiased=unbiased, ddof=ddof)
    count = math.prod(a.shape[i] for i in axes)
    denominator = count - correction
    x = a._data
    token = hush()
    try:
        if denominator > 0:
            data = np.var(x, axis=axes, ddof=correction, keepdims=keepdims)
        elif count:  # torch divides by max(0, n - correction): inf for a spread, else nan (np.var would warn)
            data = np.true_divide(np.var(x, axis=axes, keepdims=keepdims), 0)
        else:  # nothing to average: 0 / 0, nan
            data = np.true_divide(np.add.reduce(x, axis=axes, keepdims=keepdims), 0)
        if root:
            data = np.sqrt(data)
    finally:
        unhush(token)
    return data, axes, kept, 2 / denominator if denominator > 0 else math.inf


def _variance_grad(g, x, axes: tuple, kept: tuple, scale: float):
    centered = x - x.mean(axis=axes, keepdims=True) if raw(x).size else x  # empty: np.mean would warn
    return g.reshape(kept) * scale * centered


def var(a: Tensor, axis=UNSET, unbiased=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET, correction=UNSET,
        ddof=UNSET) -> Tensor:
    """sum((x - mean)**2) / (n - correction) over ``axis``, correction=1 by default as torch (``unbiased=``,
    ``ddof=`` are other spellings); d/dx = 2 (x - mean) / (n - correction)."""
    data, axes, kept, scale = _variance("var", a, axis, unbiased, keepdims, dim, keepdim, correction, ddof)
    return _result(data, (a,), lambda g, out, x: (_variance_grad(g, x, axes, kept, scale),), "var")


def std(a: Tensor, axis=UNSET, unbiased=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET, correction=UNSET,
        ddof=UNSET) -> Tensor:
    """sqrt(var) with var's arguments; d/dx = (x - mean) / ((n - correction) std), 0 where std is 0 (as torch)."""
    data, axes, kept, scale = _variance("std", a, axis, unbiased, keepdims, dim, keepdim, correction, ddof, True)

    def backward(g, out, x):
        zero = raw(out) == 0
        return (_variance_grad(g * ~zero / (out * 2 + zero), x, axes, kept, scale),)

    return _result(data, (a,), backward, "std")


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
