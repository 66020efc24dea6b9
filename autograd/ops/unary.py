"""Elementwise functions of one tensor: exp, log, sqrt, trigonometry, activations, abs, clip."""

from __future__ import annotations

import math

import numpy as np

from .. import derivatives, memory
from ..quiet import hush, unhush
from ..tensor_class import _DEFAULT_FLOAT as _FLOAT
from ..tensor_class import Tensor, _result
from .closure import fused, gate, raw, threshold_backward

METHODS = [
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "tan", "log10", "log2", "exp2", "square",
    "rsqrt", "leaky_relu", "elu", "abs", "clip", "clamp",
]
OPERATORS = {"__abs__": "abs"}

# --- unary functions ------------------------------------------------------------------------
# NaN/inf outside a function's domain are returned silently, as PyTorch does (NumPy would warn):
# a tensor mixes many elements and one out-of-domain entry should not flood the log. Each forward
# that can raise a floating-point warning runs under one ``hush``; backward closures run inside the
# backward walk, which is silent as a whole (graph.py), so they need none.

def _float_data(a: Tensor) -> np.ndarray:
    """The data as floats: integer and bool tensors go to float32, as PyTorch's default dtype."""
    data = a._data
    return data if data.dtype.kind == "f" else data.astype(_FLOAT)


def exp(a: Tensor) -> Tensor:
    """e**x (inf past the float range, silently); d/dx = e**x = out."""
    token = hush()
    try:
        data = np.exp(_float_data(a))
    finally:
        unhush(token)
    return _result(data, (a,), derivatives.EXP.each, "exp")


def log(a: Tensor) -> Tensor:
    """Natural log, -inf at 0 and nan below, silently (as PyTorch); d/dx = 1/x."""
    token = hush()
    try:
        data = np.log(_float_data(a))
    finally:
        unhush(token)
    return _result(data, (a,), derivatives.LOG.each, "log")


def sqrt(a: Tensor) -> Tensor:
    """Square root, nan below 0 silently (as PyTorch); d/dx = 1 / (2 sqrt(x)), inf at 0."""
    token = hush()
    try:
        data = np.sqrt(_float_data(a))
    finally:
        unhush(token)
    return _result(data, (a,), _sqrt_backward, "sqrt")


def _sqrt_backward(g, out, x):
    return (g / (out * 2),)


def _call(name: str, x):
    """``x.name()`` for a Tensor (recorded, for create_graph), ``np.name(x)`` for an array."""
    return getattr(x, name)() if isinstance(x, Tensor) else getattr(np, name)(x)


def _unary(forward, a: Tensor, backward, op: str) -> Tensor:
    """``forward`` of the data as floats, out-of-domain values silently inf/nan (as torch), with ``backward``."""
    token = hush()
    try:
        data = forward(_float_data(a))
    finally:
        unhush(token)
    return _result(data, (a,), (backward,), op)


def sin(a: Tensor) -> Tensor:
    """sin(x); d/dx = cos(x)."""
    return _unary(np.sin, a, lambda g, out, x: g * _call("cos", x), "sin")


def cos(a: Tensor) -> Tensor:
    """cos(x); d/dx = -sin(x)."""
    return _unary(np.cos, a, lambda g, out, x: -g * _call("sin", x), "cos")


def tan(a: Tensor) -> Tensor:
    """tan(x); d/dx = 1 + tan(x)**2."""
    return _unary(np.tan, a, lambda g, out, x: g * (out * out + 1), "tan")


def log10(a: Tensor) -> Tensor:
    """Base-10 log; d/dx = 1 / (x ln 10)."""
    return _unary(np.log10, a, lambda g, out, x: g / (x * math.log(10)), "log10")


def log2(a: Tensor) -> Tensor:
    """Base-2 log; d/dx = 1 / (x ln 2)."""
    return _unary(np.log2, a, lambda g, out, x: g / (x * math.log(2)), "log2")


def exp2(a: Tensor) -> Tensor:
    """2**x; d/dx = 2**x ln 2."""
    return _unary(np.exp2, a, lambda g, out, x: g * out * math.log(2), "exp2")


def rsqrt(a: Tensor) -> Tensor:
    """1 / sqrt(x); d/dx = -1 / (2 x**1.5) = -out**3 / 2."""
    return _unary(lambda x: 1 / np.sqrt(x), a, lambda g, out, x: g * out * out * out * -0.5, "rsqrt")


def square(a: Tensor) -> Tensor:
    """x * x (integers stay integers, as torch; inf past the float range, silently); d/dx = 2x."""
    token = hush()
    try:
        data = np.square(a._data)
    finally:
        unhush(token)
    return _result(data, (a,), lambda g, out, x: (g * x * 2,), "square")


def _tanh_backward(g, out, x, into):
    """derivatives.TANH, g * (1 - out*out), on arrays: three passes into one buffer, or into g when owned."""
    scale = np.multiply(out, out, out=memory.out_like(out))
    np.subtract(1, scale, out=scale)
    return np.multiply(g, scale, out=scale if into is None else into)


_TANH = (fused(_tanh_backward, derivatives.TANH.each[0]),)


def tanh(a: Tensor) -> Tensor:
    """tanh(x); d/dx = 1 - tanh(x)**2."""
    return _result(np.tanh(_float_data(a)), (a,), _TANH, "tanh")


def _sigmoid_backward(g, out, x, into):
    """derivatives.SIGMOID, g * out * (1 - out), on arrays in the formula's order: into g when owned."""
    product = np.multiply(g, out, out=memory.out_like(out) if into is None else into)
    return np.multiply(product, np.subtract(1, out, out=memory.out_like(out)), out=product)


_SIGMOID = (fused(_sigmoid_backward, derivatives.SIGMOID.each[0]),)


def sigmoid(a: Tensor) -> Tensor:
    """1 / (1 + e**-x) from e**-|x|, so it never overflows (e**-|x| may underflow, silently); d/dx = s (1 - s)."""
    token = hush()
    try:
        x = _float_data(a)
        e = np.exp(-np.abs(x))
        data = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    finally:
        unhush(token)
    return _result(data, (a,), _SIGMOID, "sigmoid")


def _relu_backward(g, out, x):
    """threshold_backward(g, x). Not into an owned g: its result is the mask's own buffer, one buffer either way."""
    return (threshold_backward(g, x),)


def relu(a: Tensor) -> Tensor:
    """max(0, x); the gradient passes where x > 0 (0 at x = 0, as PyTorch): torch's threshold_backward."""
    x = a._data
    data = np.maximum(x, 0, out=memory.out_like(x)) if x.dtype.kind == "f" else np.maximum(x, 0)
    return _result(data, (a,), _relu_backward, "relu")


def leaky_relu(a: Tensor, alpha: float = 0.01) -> Tensor:
    """x for x > 0, alpha x otherwise; d/dx = 1 or alpha (alpha at 0, as PyTorch)."""
    x = _float_data(a)

    def backward(g, out, x):
        data = raw(x)
        return (gate(g, np.where(data > 0, 1, alpha).astype(data.dtype, copy=False), x, select=False),)

    token = hush()  # x * alpha may overflow or underflow: inf or 0, silently
    try:
        data = np.where(x > 0, x, x * alpha)
    finally:
        unhush(token)
    return _result(data, (a,), backward, "leaky_relu")


def elu(a: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha (e**x - 1) otherwise; d/dx = 1, or out + alpha for x <= 0 (as PyTorch)."""
    x = _float_data(a)

    def backward(g, out, x):
        positive = raw(x) > 0
        if isinstance(out, Tensor):  # create_graph: out + alpha is differentiated again
            return (g * (positive + ~positive * (out + alpha)),)
        return (gate(g, np.where(positive, 1, out + alpha).astype(out.dtype)),)

    token = hush()  # alpha * (e**x - 1) may overflow or underflow: inf or 0, silently
    try:
        data = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    finally:
        unhush(token)
    return _result(data, (a,), backward, "elu")


def abs(a: Tensor) -> Tensor:
    """|x|; d/dx = sign(x), 0 at 0 (as PyTorch)."""
    return _result(np.abs(a._data), (a,), lambda g, out, x: (gate(g, np.sign(raw(x)), x, select=False),), "abs")


def _bound(op: str, bound):
    if isinstance(bound, Tensor):
        if bound.requires_grad:
            raise TypeError(f"{op}: bounds are constants; for a differentiable bound use maximum/minimum")
        return bound._data
    return bound


def clip(a: Tensor, lo=None, hi=None) -> Tensor:
    """x limited to [lo, hi] (None: unbounded); the gradient passes where lo <= x <= hi (as torch.clamp)."""
    lo, hi = _bound("clip", lo), _bound("clip", hi)
    if lo is None and hi is None:
        raise ValueError("clip: at least one of lo and hi must be given")
    data = a._data
    if lo is not None:
        data = np.maximum(data, lo)
    if hi is not None:
        data = np.minimum(data, hi)

    def backward(g, out, x):
        data = raw(x)
        inside = (data >= lo) if lo is not None else np.ones(data.shape, bool)
        if hi is not None:
            inside &= data <= hi
        return (gate(g, inside, x),)

    return _result(data, (a,), backward, "clip")


def clamp(a: Tensor, min=None, max=None) -> Tensor:
    """torch's name for clip: ``x.clamp(min=0)``."""
    return clip(a, min, max)
