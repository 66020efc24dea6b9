"""Elementwise ops: arithmetic with NumPy broadcasting, and the unary functions."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _operand, _result
from . import raw

METHODS = ["add", "sub", "mul", "div", "pow", "neg"]
OPERATORS = {
    "__add__": "add", "__radd__": "radd", "__sub__": "sub", "__rsub__": "rsub",
    "__mul__": "mul", "__rmul__": "rmul", "__truediv__": "div", "__rtruediv__": "rdiv",
    "__pow__": "pow", "__rpow__": "rpow", "__neg__": "neg",
}


def _binary(op: str, forward, a, b):
    """Run a broadcasting forward, naming the op and both shapes if they do not broadcast."""
    try:
        return forward(a.data, b.data)
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
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        return _result(a.data ** b, (a,), lambda g, out, x: (
            g * 0 if b == 0 else g * b * x ** (b - 1),), f"**{b:g}")
    b = _operand(b, a)

    def backward(g, out, x, y):
        base = g * y * x ** (y - 1)
        safe_log = (x + (raw(x) == 0)).log() if isinstance(x, Tensor) else np.log(np.where(x == 0, 1, x))
        return base, g * out * safe_log

    return _result(_binary("pow", np.power, a, b), (a, b), backward, "**")


def neg(a: Tensor) -> Tensor:
    """-a; d/da = -1."""
    return _result(-a.data, (a,), lambda g, out, x: (-g,), "neg")


def radd(a: Tensor, b) -> Tensor:
    return add(_operand(b, a), a)


def rsub(a: Tensor, b) -> Tensor:
    return sub(_operand(b, a), a)


def rmul(a: Tensor, b) -> Tensor:
    return mul(_operand(b, a), a)


def rdiv(a: Tensor, b) -> Tensor:
    return div(_operand(b, a), a)


def rpow(a: Tensor, b) -> Tensor:
    return pow(_operand(b, a), a)

