"""softmax, log_softmax and logsumexp along an axis, max-shifted so they never overflow.

Each forward runs under one ``hush``: inf logits give inf - inf = nan, as torch, silently.
"""

from __future__ import annotations

import numpy as np

from ..quiet import hush, unhush
from ..tensor_class import Tensor, _result
from .extremes import _extremum, _slices
from .reduce import _axis_index, _reduction
from .shape import UNSET, resolve
from .unary import _float_data

METHODS = ["logsumexp", "softmax", "log_softmax"]


def _exp(x):
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def logsumexp(a: Tensor, axis=UNSET, keepdims=UNSET, *, dim=UNSET, keepdim=UNSET) -> Tensor:
    """log(sum(e**x)) over ``axis``, max-shifted so it never overflows; d/dx = softmax(x) over ``axis``."""
    axes, keepdims, kept = _reduction("logsumexp", a, axis, keepdims, dim, keepdim)
    x = _float_data(a)
    token = hush()
    try:
        shift = np.max(x, axis=axes, keepdims=True) if x.size else np.zeros(kept, x.dtype)
        shift = np.where(np.isfinite(shift), shift, 0)  # all -inf rows give -inf, not nan
        data = np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift
    finally:
        unhush(token)
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
    token = hush()
    try:
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        data = e / np.sum(e, axis=axis, keepdims=True)
    finally:
        unhush(token)
    return _result(data, (a,), lambda g, out, x: (
        out * (g - (g * out).sum(axis=axis, keepdims=True)),), "softmax")


def log_softmax(a: Tensor, axis=UNSET, *, dim=UNSET) -> Tensor:
    """x - logsumexp(x) along ``axis``, max-shifted (stable); the gradient is g - softmax(x) sum(g)."""
    axis = _softmax_axis("log_softmax", a, axis, dim)
    x = _float_data(a)
    token = hush()
    try:
        data = x - _extremum(np.maximum, x, (axis,), True, _slices(x, (axis,)))
        data -= np.log(np.add.reduce(np.exp(data), axis=axis, keepdims=True))
    finally:
        unhush(token)

    def backward(g, out, x):
        if isinstance(out, Tensor):  # create_graph (the core lifts out); g can be a constant Tensor in a plain pass
            return (g - out.exp() * g.sum(axis=axis, keepdims=True),)
        g = g._data if isinstance(g, Tensor) else g
        e = np.exp(out)
        e *= np.add.reduce(g, axis=axis, keepdims=True)
        return (np.subtract(g, e, out=e),)

    return _result(data, (a,), backward, "log_softmax")
