"""max, min, amax, amin and max pooling's window_max; the gradient goes to the extreme elements.

Reductions over a few short axes (a pooling tile) run as an elementwise max of views, which NumPy
does far faster than a reduce whose inner loop is the short axis.
"""

from __future__ import annotations

import builtins
import itertools
import math

import numpy as np

from .. import memory
from ..tensor_class import Tensor, _result
from .closure import finite, fused, gate, raw
from .elementwise import maximum, minimum
from .reduce import MaxResult, MinResult, _axis_index, _keepdims, _reduction
from .shape import UNSET, resolve

METHODS = ["max", "min", "amax", "amin"]


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
    data = ufunc(first, x[slices[1]], out=memory.empty(first.shape, x.dtype, first))
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

    def spread(g, out, x):
        """g to the extremes, from masks of the whole input: on Tensors (create_graph) and where no views help."""
        winners = raw(x) == raw(out).reshape(kept)
        if first:
            return gate(g.reshape(kept), _first(winners, axes).astype(raw(out).dtype), x)
        # nan results: nan gradient, as torch's amax (silently: the backward walk is hushed)
        share = winners / np.sum(winners, axis=axes, keepdims=True, dtype=raw(out).dtype)
        return g.reshape(kept) * share  # torch's amax and max() multiply too: an inf there gives nan

    def spread_by_views(g, out, x, into):
        """The same on arrays, a view of the reduced axes at a time when that is faster (a pooling tile)."""
        if slices is None:
            return spread(g, out, x)
        best = out.reshape(dropped)
        if first:  # in order: the first winner takes what is left of g
            grad = memory.empty(x.shape, x.dtype, x)
            left = memory.empty(dropped, x.dtype, best)
            np.copyto(left, g.reshape(dropped))
            won = memory.empty(dropped, bool, best)
            clean = finite(left)
            for k, s in enumerate(slices):
                np.equal(x[s], best, out=won)
                np.multiply(won, left, out=grad[s]) if clean else gate(left, won, into=grad[s])
                if k + 1 < len(slices):
                    left -= grad[s]  # exactly 0 where this view won (a masked copy is 20x slower)
            return grad
        # each winner gets g over its number of tied winners
        winners = [np.equal(x[s], best, out=memory.empty(dropped, bool, best)) for s in slices]
        count = memory.empty(dropped, out.dtype, best)
        np.copyto(count, winners[0])
        for won in winners[1:]:
            count += won
        grad = memory.empty(x.shape, x.dtype, x)
        scale = np.true_divide(g.reshape(dropped), count, out=count)
        for s, won in zip(slices, winners):
            np.multiply(won, scale, out=grad[s])
        return grad

    return _result(data, (a,), (fused(spread_by_views, spread),), op)


def _select(op: str, argfn, a: Tensor, axis, keepdims: bool) -> tuple:
    """Values and int64 indices of the first extreme along one axis (torch's max(dim)); the gradient
    goes to that element only."""
    axis, x = _axis_index(op, axis, a.ndim), a._data
    try:
        index = argfn(x, axis=axis, keepdims=True)
    except ValueError:
        raise ValueError(f"{op}: cannot reduce over an empty axis (shape {a.shape}, axis {axis})") from None
    shape, kept = x.shape, index.shape

    def one_hot(g, out, x):  # g times a one-hot mask of the winners (recorded under create_graph)
        positions = np.arange(shape[axis]).reshape((-1,) + (1,) * (len(shape) - axis - 1))
        return gate(g.reshape(kept), positions == index, x)

    def put(g, out, x, into):  # the same on arrays, without the mask
        grad = np.zeros(shape, g.dtype)
        np.put_along_axis(grad, index, g.reshape(kept), axis)
        return grad

    data = np.take_along_axis(x, index, axis)
    values = _result(data if keepdims else data.squeeze(axis), (a,), (fused(put, one_hot),), op)
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
