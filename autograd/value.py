"""Value: a scalar node, micrograd's engine on the shared graph core.

Each op computes its float result and hands the core a closure ``(g, out, *inputs) -> grads``
with its local derivative. The closures use only arithmetic (or the ``_cos``-style helpers), so
the same closure works on floats in a plain backward and on Values under ``create_graph=True``.
"""

from __future__ import annotations

import math
import numbers
from operator import attrgetter

import numpy as np

from .graph import Node, _mode

__all__ = ["Value"]

_new = object.__new__
_INF = math.inf


def _result(data: float, parents: tuple, backward, op: str) -> "Value":
    """A new Value; it records its parents and closure only while grad mode is on."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    record = _mode.record
    if record:  # one assignment per slot: a tuple-unpacking assignment costs this hot path 15%
        out._a = parents[0]
        out._b = parents[1] if len(parents) == 2 else None
        out._vjp = backward
        out.op = op
        if record is not True:
            record.forward(out)
    else:
        out._a = None
        out._b = None
        out._vjp = None
        out.op = ""
    return out


def _value(x) -> "Value":
    return x if isinstance(x, Value) else Value(x)


# Math that works on floats (plain backward) and on Values (create_graph).
def _cos(x):
    return x.cos() if isinstance(x, Value) else math.cos(x)


def _sin(x):
    return x.sin() if isinstance(x, Value) else math.sin(x)


def _log(x):
    return x.log() if isinstance(x, Value) else math.log(x)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _float_pow(a: float, b: float) -> float:
    """a ** b as IEEE floats do it: inf instead of ZeroDivisionError or OverflowError."""
    try:
        return a ** b
    except (ZeroDivisionError, OverflowError):
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(a), b))


def _pow_base_grad(a, b):
    """d(a**b)/da = b * a**(b - 1), 0 where b == 0 (as PyTorch)."""
    if isinstance(a, Value) or isinstance(b, Value):
        return b * a ** (b - 1)
    return 0.0 if b == 0 else b * _float_pow(a, b - 1)


def _pow_exponent_grad(a, out):
    """d(a**b)/db = a**b * log(a); 0 where a == 0 (as PyTorch), nan for a negative base."""
    if isinstance(a, Value):
        return out * a.log()
    if a > 0:
        return out * math.log(a)
    return 0.0 if a == 0 else math.nan


def _scaled(g, share):
    """g * share, but exactly 0.0 for a share of 0 (an inf upstream gives 0, as torch, not nan); a
    Value g (create_graph) keeps its link, so a second derivative through relu is 0, not missing."""
    return g * share if share or g.__class__ is Value else 0.0


def _route(a, b) -> float:
    """The share of a max's gradient that goes to ``a``: 1 if a wins, 0.5 on a tie, 0 if it loses."""
    a, b = (a.data if isinstance(a, Value) else a), (b.data if isinstance(b, Value) else b)
    return 1.0 if a > b else 0.5 if a == b else 0.0


# Local derivatives, (g, out, *inputs) -> one gradient per input. Ops without parameters share one
# function each, so building a node allocates no closure (fewer objects for the garbage collector).

def _ADD(g, out, a, b):  # a + b: add distributes the gradient unchanged
    return (g, g)

def _SUB(g, out, a, b):  # a - b
    return (g, -g)

def _MUL(g, out, a, b):  # a * b: mul swaps its inputs
    return (g * b, g * a)

def _DIV(g, out, a, b):  # a / b: 1/b and -a/b**2 = -out/b
    return (g / b, -g * out / b)

def _NEG(g, out, a):  # -a
    return (-g,)

def _EXP(g, out, a):  # e**a
    return (g * out,)

def _LOG(g, out, a):  # log a: 1/a
    return (g / a,)

def _SQRT(g, out, a):  # sqrt a: 1/(2 sqrt a), inf at 0
    return (g * 0.5 / out if out != 0 else g * _INF,)

def _TANH(g, out, a):  # tanh a: 1 - tanh(a)**2
    return (g * (1 - out * out),)

def _SIGMOID(g, out, a):  # sigmoid a: s(1 - s)
    return (g * out * (1 - out),)

def _RELU(g, out, a):  # relu a: 1 where a > 0, else 0
    return (g if out > 0 else _scaled(g, 0.0),)

def _ABS(g, out, a):  # |a|: sign(a), 0 at 0
    return (g * ((a > 0) - (a < 0)),)

def _SIN(g, out, a):  # sin a: cos a
    return (g * _cos(a),)

def _COS(g, out, a):  # cos a: -sin a
    return (-g * _sin(a),)


def _MAX(g, out, a, b):  # max routes the gradient to the larger input, split on a tie
    return _scaled(g, _route(a, b)), _scaled(g, _route(b, a))


def _MIN(g, out, a, b):  # min routes it to the smaller
    return _scaled(g, _route(b, a)), _scaled(g, _route(a, b))


class Value(Node):
    """A scalar with a gradient. ``.data`` and ``.grad`` are floats; every node keeps its ``.grad``."""

    __slots__ = ("data", "grad", "_a", "_b")  # _a, _b: the parents, None where absent (no tuple per node)
    requires_grad = True
    retains_grad = True
    _raw = attrgetter("data")
    # The names generic code (renderer, gradcheck) reads on any node, Tensor's slots, are data and grad here.
    _data = property(attrgetter("data"), lambda self, v: setattr(self, "data", v))
    _grad = property(attrgetter("grad"), lambda self, v: setattr(self, "grad", v))
    __array_ufunc__ = None  # so np.float64(3.0) * Value(2.0) defers to Value.__rmul__

    def __init__(self, data, label: str = ""):
        if type(data) is not float:
            if isinstance(data, Value):
                data = data.data
            elif isinstance(data, numbers.Real) or (isinstance(data, np.ndarray) and data.ndim == 0
                                                    and data.dtype.kind in "biuf"):
                data = float(data)
            elif isinstance(data, Node) and np.size(data._data) == 1 and np.asarray(data._data).dtype.kind in "biuf":
                data = float(data._data)  # a one-element Tensor: its number, as float(t)
            else:
                raise TypeError(f"Value expects a real number, got {type(data).__name__}: {data!r}")
        self.data = data
        self.grad = 0.0
        self._a = None
        self._b = None
        self.op = ""
        self.label = label
        self._vjp = None

    @property
    def parents(self) -> tuple:
        """The inputs of the op that made this Value, in order (``a + a`` lists ``a`` twice)."""
        a = self._a
        if a is None:
            return ()
        b = self._b
        return (a,) if b is None else (a, b)

    # --- micrograd's names -------------------------------------------------------------------
    @property
    def _prev(self) -> set:
        """micrograd's set of parents."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        """micrograd's op string ('' for leaves)."""
        return self.op

    def _backward(self) -> None:
        """micrograd's manual step: push this node's ``.grad`` into its parents' ``.grad`` (adds)."""
        if self._vjp is None:
            return
        grads = self._vjp(self.grad, self.data, *(p.data for p in self.parents))
        for parent, g in zip(self.parents, grads):
            parent.grad += g

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data:.6g}, grad={self._grad_text()}{label}{op})"

    def _grad_text(self) -> str:
        return f"{self.grad:.6g}" if isinstance(self.grad, float) else repr(self.grad)

    # --- graph-core hooks ---------------------------------------------------------------
    def _seed(self, gradient, create_graph: bool):
        seed = 1.0 if gradient is None else float(_value(gradient).data)
        return Value(seed) if create_graph else seed

    def _accumulate(self, g) -> None:
        self.grad = self.grad + g

    @staticmethod
    def _wrap_grad(g) -> "Value":
        return g if isinstance(g, Value) else Value(g)

    def zero_grad(self) -> None:
        """Reset this node's gradient to 0.0."""
        self.grad = 0.0

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return self.data

    # Comparisons look at the data (ordering only: == stays identity so Values can key dicts).
    def __lt__(self, other):
        return self.data < _value(other).data

    def __le__(self, other):
        return self.data <= _value(other).data

    def __gt__(self, other):
        return self.data > _value(other).data

    def __ge__(self, other):
        return self.data >= _value(other).data

    # --- arithmetic ---------------------------------------------------------------------
    def __add__(self, other) -> "Value":
        """a + b; the gradient is distributed unchanged to both inputs."""
        if not isinstance(other, Value):
            other = Value(other)
        return _result(self.data + other.data, (self, other), _ADD, "+")

    def __sub__(self, other) -> "Value":
        """a - b; d/da = 1, d/db = -1."""
        if not isinstance(other, Value):
            other = Value(other)
        return _result(self.data - other.data, (self, other), _SUB, "-")

    def __mul__(self, other) -> "Value":
        """a * b; the inputs swap: d/da = b, d/db = a."""
        if not isinstance(other, Value):
            other = Value(other)
        return _result(self.data * other.data, (self, other), _MUL, "*")

    def __truediv__(self, other) -> "Value":
        """a / b; d/da = 1/b, d/db = -a/b**2 = -out/b."""
        other = _value(other)
        if other.data == 0:
            raise ZeroDivisionError(f"div: division by zero ({self.data!r} / {other.data!r})")
        return _result(self.data / other.data, (self, other),
                       _DIV, "/")

    def __pow__(self, other) -> "Value":
        """a ** b for a number or Value b; d/da = b a**(b-1), d/db = a**b log(a)."""
        a, b = self.data, other.data if isinstance(other, Value) else other
        if not isinstance(b, numbers.Real):
            raise TypeError(f"pow: exponent must be a number or a Value, got {type(other).__name__}")
        if a == 0 and b < 0:
            raise ZeroDivisionError(f"pow: 0.0 ** {b!r} is undefined (division by zero)")
        if a < 0 and b != int(b):
            raise ValueError(f"pow: negative base {a!r} with non-integer exponent {b!r} is undefined")
        data = _float_pow(a, b)
        if isinstance(other, Value):
            return _result(data, (self, other), lambda g, out, a, b: (
                g * _pow_base_grad(a, b), g * _pow_exponent_grad(a, out)), "**")
        return _result(data, (self,), lambda g, out, a: (g * _pow_base_grad(a, b),), f"**{b:g}")

    def __neg__(self) -> "Value":
        """-a; d/da = -1."""
        return _result(-self.data, (self,), _NEG, "neg")

    def __radd__(self, other) -> "Value":
        return Value(other) + self

    def __rsub__(self, other) -> "Value":
        return Value(other) - self

    def __rmul__(self, other) -> "Value":
        return Value(other) * self

    def __rtruediv__(self, other) -> "Value":
        return Value(other) / self

    def __rpow__(self, other) -> "Value":
        return Value(other) ** self

    # --- functions ----------------------------------------------------------------------
    def exp(self) -> "Value":
        """e**x; d/dx = e**x."""
        return _result(_exp(self.data), (self,), _EXP, "exp")

    def log(self) -> "Value":
        """Natural log; d/dx = 1/x. Defined for x > 0."""
        if self.data <= 0:
            raise ValueError(f"log: {self.data!r} is outside its domain x > 0")
        return _result(math.log(self.data), (self,), _LOG, "log")

    def sqrt(self) -> "Value":
        """Square root; d/dx = 1 / (2 sqrt(x)), inf at 0. Defined for x >= 0."""
        if self.data < 0:
            raise ValueError(f"sqrt: {self.data!r} is outside its domain x >= 0")
        return _result(math.sqrt(self.data), (self,),
                       _SQRT, "sqrt")

    def tanh(self) -> "Value":
        """tanh(x); d/dx = 1 - tanh(x)**2."""
        return _result(math.tanh(self.data), (self,), _TANH, "tanh")

    def sigmoid(self) -> "Value":
        """1 / (1 + e**-x), computed without overflow; d/dx = s (1 - s)."""
        x = self.data
        s = 1.0 / (1.0 + _exp(-x)) if x >= 0 else _exp(x) / (1.0 + _exp(x))
        return _result(s, (self,), _SIGMOID, "sigmoid")

    def relu(self) -> "Value":
        """max(0, x); the gradient passes where x > 0 (0 at x = 0, as PyTorch)."""
        x = self.data
        return _result(x if x > 0 else 0.0, (self,), _RELU, "relu")

    def leaky_relu(self, alpha: float = 0.01) -> "Value":
        """x for x > 0, alpha x otherwise; d/dx = 1 or alpha."""
        x = self.data
        return _result(x if x > 0 else alpha * x, (self,),
                       lambda g, out, a: (g if a > 0 else g * alpha,), f"leaky_relu({alpha:g})")

    def elu(self, alpha: float = 1.0) -> "Value":
        """x for x > 0, alpha (e**x - 1) otherwise; d/dx = 1 or out + alpha."""
        x = self.data
        return _result(x if x > 0 else alpha * math.expm1(x), (self,),
                       lambda g, out, a: (g if a > 0 else g * (out + alpha),), f"elu({alpha:g})")

    def abs(self) -> "Value":
        """|x|; d/dx = sign(x), 0 at 0 (as PyTorch)."""
        return _result(abs(self.data), (self,), _ABS, "abs")

    __abs__ = abs

    def sin(self) -> "Value":
        """sin(x); d/dx = cos(x)."""
        return _result(math.sin(self.data), (self,), _SIN, "sin")

    def cos(self) -> "Value":
        """cos(x); d/dx = -sin(x)."""
        return _result(math.cos(self.data), (self,), _COS, "cos")

    def max(self, other) -> "Value":
        """The larger of two values; the gradient routes to it (split evenly on a tie, as torch.maximum)."""
        self, other = _value(self), _value(other)
        return _result(max(self.data, other.data), (self, other), _MAX, "max")

    def min(self, other) -> "Value":
        """The smaller of two values; the gradient routes to it (split evenly on a tie, as torch.minimum)."""
        self, other = _value(self), _value(other)
        return _result(min(self.data, other.data), (self, other), _MIN, "min")

