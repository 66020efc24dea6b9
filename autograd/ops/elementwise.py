"""Elementwise ops: arithmetic with NumPy broadcasting, unary functions, comparisons."""

from __future__ import annotations

import math

import numpy as np

from ..tensor_class import _DEFAULT_FLOAT as _FLOAT
from ..tensor_class import Tensor, _operand, _result
from . import buffers, owned, raw

METHODS = [
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "tanh", "sigmoid", "relu",
    "sin", "cos", "tan", "log10", "log2", "exp2", "square", "rsqrt",
    "leaky_relu", "elu", "abs", "clip", "clamp", "maximum", "minimum", "astype",
    "lt", "le", "gt", "ge", "eq", "ne",
]
OPERATORS = {
    "__add__": "add", "__radd__": "radd", "__sub__": "sub", "__rsub__": "rsub",
    "__mul__": "mul", "__rmul__": "rmul", "__truediv__": "div", "__rtruediv__": "rdiv",
    "__pow__": "pow", "__rpow__": "rpow", "__neg__": "neg", "__abs__": "abs",
    # Comparisons are elementwise; Tensor.__hash__ stays identity (set in the class body).
    "__lt__": "lt", "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__eq__": "eq", "__ne__": "ne",
    "__bool__": "truth",
}


_ARITHMETIC = (np.add, np.subtract, np.multiply, np.true_divide, np.power, np.maximum, np.minimum)


def _binary(op: str, forward, a, b):
    """Run a broadcasting forward, naming the op and both shapes if they do not broadcast; a big
    result goes to a reused buffer, laid out as the operand of its shape."""
    x, y = a._data, b._data
    try:
        if forward not in _ARITHMETIC or x.dtype != y.dtype or x.dtype.kind != "f" or \
                max(x.nbytes, y.nbytes) < buffers.MIN_BYTES:
            return forward(x, y)
        shape = x.shape if x.shape == y.shape else np.broadcast_shapes(x.shape, y.shape)
        like = x if x.shape == shape else y if y.shape == shape else None
        return forward(x, y, out=buffers.empty(shape, x.dtype, like))
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def add(a: Tensor, b) -> Tensor:
    """a + b; the gradient flows unchanged to both inputs."""
    b = _operand(b, a)
    return _result(_binary("add", np.add, a, b), (a, b), lambda g, out, x, y: (g, g), "+")


def sub(a: Tensor, b) -> Tensor:
    """a - b; d/da = 1, d/db = -1."""
    b = _operand(b, a)
    return _result(_binary("sub", np.subtract, a, b), (a, b), lambda g, out, x, y: (g, -g), "-")


def mul(a: Tensor, b) -> Tensor:
    """a * b; the inputs swap: d/da = b, d/db = a."""
    b = _operand(b, a)
    return _result(_binary("mul", np.multiply, a, b), (a, b), lambda g, out, x, y: (g * y, g * x), "*")


def div(a: Tensor, b) -> Tensor:
    """a / b; d/da = 1/b, d/db = -a/b**2 = -out/b."""
    b = _operand(b, a)
    return _result(_binary("div", np.true_divide, a, b), (a, b),
                   lambda g, out, x, y: (g / y, -g * out / y), "/")


def pow(a: Tensor, b) -> Tensor:
    """a ** b; d/da = b a**(b-1) (0 where b == 0), d/db = a**b log(a) (0 where a == 0)."""
    if isinstance(b, (int, float, np.integer, np.floating)) and not isinstance(b, (bool, np.bool_)):
        b = b.item() if isinstance(b, np.generic) else b  # a weak scalar, as torch's: float32 stays float32
        data = (_float_data(a) if isinstance(b, float) else a._data) ** b
        return _result(data, (a,), lambda g, out, x: (
            g * 0 if b == 0 else g * b * x ** (b - 1),), f"**{b:g}")
    b = _operand(b, a)

    def backward(g, out, x, y):
        base = g * y * x ** (y - 1)
        safe_log = (x + (raw(x) == 0)).log() if isinstance(x, Tensor) else np.log(np.where(x == 0, 1, x))
        return base, g * out * safe_log

    return _result(_binary("pow", np.power, a, b), (a, b), backward, "**")


def neg(a: Tensor) -> Tensor:
    """-a; d/da = -1."""
    return _result(-a._data, (a,), lambda g, out, x: (-g,), "neg")


def _reflected(op):
    def reflected(a: Tensor, b) -> Tensor:
        return op(_operand(b, a), a)

    reflected.__name__ = reflected.__qualname__ = "r" + op.__name__
    reflected.__doc__ = f"b {op.__name__} a for a constant b on the left, e.g. 2 - t."
    return reflected


radd, rsub, rmul, rdiv, rpow = map(_reflected, (add, sub, mul, div, pow))


# --- unary functions ------------------------------------------------------------------------
# NaN/inf outside a function's domain are returned silently, as PyTorch does (NumPy would warn):
# a tensor mixes many elements and one out-of-domain entry should not flood the log.

def _float_data(a: Tensor) -> np.ndarray:
    """The data as floats: integer and bool tensors go to float32, as PyTorch's default dtype."""
    data = a._data
    return data if data.dtype.kind == "f" else data.astype(_FLOAT)


def exp(a: Tensor) -> Tensor:
    """e**x (inf past the float range, silently); d/dx = e**x = out."""
    with np.errstate(over="ignore"):
        data = np.exp(_float_data(a))
    return _result(data, (a,), lambda g, out, x: (g * out,), "exp")


def log(a: Tensor) -> Tensor:
    """Natural log, -inf at 0 and nan below, silently (as PyTorch); d/dx = 1/x."""
    with np.errstate(divide="ignore", invalid="ignore"):
        data = np.log(_float_data(a))

    def backward(g, out, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g / x,)

    return _result(data, (a,), backward, "log")


def sqrt(a: Tensor) -> Tensor:
    """Square root, nan below 0 silently (as PyTorch); d/dx = 1 / (2 sqrt(x)), inf at 0."""
    with np.errstate(invalid="ignore"):
        data = np.sqrt(_float_data(a))

    def backward(g, out, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g / (out * 2),)

    return _result(data, (a,), backward, "sqrt")


def _call(name: str, x):
    """``x.name()`` for a Tensor (recorded, for create_graph), ``np.name(x)`` for an array."""
    return getattr(x, name)() if isinstance(x, Tensor) else getattr(np, name)(x)


def _unary(forward, a: Tensor, backward, op: str) -> Tensor:
    """``forward`` of the data as floats, out-of-domain values silently inf/nan (as torch), with ``backward``."""
    with np.errstate(all="ignore"):
        data = forward(_float_data(a))

    def quiet(g, out, x):
        with np.errstate(all="ignore"):
            return (backward(g, out, x),)

    return _result(data, (a,), quiet, op)


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
    """x * x (integers stay integers, as torch); d/dx = 2x."""
    return _result(np.square(a._data), (a,), lambda g, out, x: (g * x * 2,), "square")


def tanh(a: Tensor) -> Tensor:
    """tanh(x); d/dx = 1 - tanh(x)**2."""
    return _result(np.tanh(_float_data(a)), (a,), lambda g, out, x: (g * (1 - out * out),), "tanh")


def sigmoid(a: Tensor) -> Tensor:
    """1 / (1 + e**-x) from e**-|x|, so it never overflows; d/dx = s (1 - s)."""
    x = _float_data(a)
    e = np.exp(-np.abs(x))
    data = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return _result(data, (a,), lambda g, out, x: (g * out * (1 - out),), "sigmoid")


def relu(a: Tensor) -> Tensor:
    """max(0, x); the gradient passes where x > 0 (0 at x = 0, as PyTorch)."""
    x = a._data
    big = x.nbytes >= buffers.MIN_BYTES  # small arrays: malloc keeps them, NumPy's own allocation is faster
    data = np.maximum(x, 0, out=buffers.empty(x.shape, x.dtype, x)) if big and x.dtype.kind == "f" else \
        np.maximum(x, 0)

    def backward(g, out, x):
        if isinstance(g, Tensor):
            return (g * (raw(x) > 0),)
        if not big:
            return (np.multiply(g, np.greater(x, 0)),)
        passes = np.greater(x, 0, out=buffers.empty(x.shape, bool, x))
        into = g if owned(g) else buffers.empty(g.shape, g.dtype, g)  # asked first: a pending call holds g
        return (np.multiply(g, passes, out=into),)

    return _result(data, (a,), backward, "relu")


def leaky_relu(a: Tensor, alpha: float = 0.01) -> Tensor:
    """x for x > 0, alpha x otherwise; d/dx = 1 or alpha (alpha at 0, as PyTorch)."""
    x = _float_data(a)

    def backward(g, out, x):
        x = raw(x)
        return (g * np.where(x > 0, 1, alpha).astype(x.dtype, copy=False),)

    return _result(np.where(x > 0, x, x * alpha), (a,), backward, "leaky_relu")


def elu(a: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha (e**x - 1) otherwise; d/dx = 1, or out + alpha for x <= 0 (as PyTorch)."""
    x = _float_data(a)

    def backward(g, out, x):
        positive = raw(x) > 0
        return (g * (positive + ~positive * (out + alpha)),)

    return _result(np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), (a,), backward, "elu")


def abs(a: Tensor) -> Tensor:
    """|x|; d/dx = sign(x), 0 at 0 (as PyTorch)."""
    return _result(np.abs(a._data), (a,), lambda g, out, x: (g * np.sign(raw(x)),), "abs")


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
        x = raw(x)
        inside = (x >= lo) if lo is not None else True
        if hi is not None:
            inside = inside & (x <= hi)
        return (g * inside,)

    return _result(data, (a,), backward, "clip")


def clamp(a: Tensor, min=None, max=None) -> Tensor:
    """torch's name for clip: ``x.clamp(min=0)``."""
    return clip(a, min, max)


def _share(wins, x, y):
    """The share of the gradient that goes to ``x``: 1 where it wins, 1/2 on a tie (as torch.maximum)."""
    share = wins(x, y).astype(x.dtype if x.dtype.kind == "f" else _FLOAT)
    share += (x == y) * share.dtype.type(0.5)
    return share


def _extremum(op: str, forward, wins, a: Tensor, b) -> Tensor:
    b = _operand(b, a)
    data = _binary(op, forward, a, b)
    need_a, need_b = a.requires_grad, b.requires_grad

    def backward(g, out, x, y):
        x, y = raw(x), raw(y)
        return (g * _share(wins, x, y) if need_a else None, g * _share(wins, y, x) if need_b else None)

    return _result(data, (a, b), backward, op)


def maximum(a: Tensor, b) -> Tensor:
    """The elementwise larger of a and b; the gradient goes to the larger one, half each on a tie."""
    return _extremum("maximum", np.maximum, np.greater, a, b)


def minimum(a: Tensor, b) -> Tensor:
    """The elementwise smaller of a and b; the gradient goes to the smaller one, half each on a tie."""
    return _extremum("minimum", np.minimum, np.less, a, b)


def astype(a: Tensor, dtype) -> Tensor:
    """The data cast to ``dtype``; the gradient is cast back. A non-float result records no graph."""
    data = a._data.astype(dtype)
    if data.dtype.kind != "f":
        return Tensor(data)
    source = a._data.dtype
    return _result(data, (a,), lambda g, out, x: (g.astype(source),), "astype")


# --- comparisons: boolean tensors, never differentiated ---------------------------------------
def _comparison(name: str, symbol: str, forward):
    def compare(a: Tensor, b) -> Tensor:
        try:
            b = _operand(b, a)
        except TypeError:
            if name in ("eq", "ne"):
                return NotImplemented  # t == None, t == "x": Python falls back to identity
            raise
        return Tensor(_binary(name, forward, a, b))

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"a {symbol} b elementwise: a bool tensor, never differentiated."
    return compare


lt = _comparison("lt", "<", np.less)
le = _comparison("le", "<=", np.less_equal)
gt = _comparison("gt", ">", np.greater)
ge = _comparison("ge", ">=", np.greater_equal)
eq = _comparison("eq", "==", np.equal)
ne = _comparison("ne", "!=", np.not_equal)


def truth(a: Tensor) -> bool:
    """bool(t) for a one-element tensor; ambiguous (ValueError) for more, as NumPy and PyTorch."""
    if a._data.size != 1:
        raise ValueError(f"the truth value of a tensor of shape {a.shape} is ambiguous; "
                         "reduce it first (e.g. t.any() or t.all()) or compare one element")
    return bool(a._data.item())
