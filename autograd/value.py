"""Value: a scalar node, micrograd's engine on the shared graph core.

Each op computes its float result and records its op: a record (record.py) with its name, its
local derivative ``(g, out, *inputs) -> one gradient per input`` and its forms for the tools. The
derivatives use only arithmetic (or the ``_cos``-style helpers), so they work on floats in a plain
backward and on Values under ``create_graph=True``; those Tensor shares are in derivatives.py.
"""

from __future__ import annotations

import functools
import math
import numbers
from operator import attrgetter

import numpy as np

from . import derivatives
from .graph import Node, _local_gradients, _mode
from .record import Op
from .value_derivatives import (_d_abs, _d_cos, _d_max, _d_min, _d_pow, _d_relu, _d_sin, _d_sqrt, _exp,
                                _float_pow, _pow_base_grad)

__all__ = ["Value"]

_new = object.__new__


def _result(data: float, op: Op, a: "Value", b: "Value | None" = None) -> "Value":
    """A new Value made by ``op`` from ``a`` (and ``b``); it records them only while grad mode is on."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._g = None  # the backward's scratch slot: scalar_walk.scalar_order reads it on every node
    record = _mode.record
    if record:  # one assignment per slot: a tuple-unpacking assignment costs this hot path 15%
        out._a = a
        out._b = b
        out._vjp = op.backward
        out.op = op
        if record is not True:
            record.forward(out)
    else:
        out._a = None
        out._b = None
        out._vjp = None
        out.op = ""
    return out


def _alpha(op: str, alpha) -> float:
    if not isinstance(alpha, numbers.Real):
        raise TypeError(f"{op}: alpha must be a real number, got {type(alpha).__name__}: {alpha!r}")
    return alpha


def _value(x) -> "Value":
    return x if isinstance(x, Value) else Value(x)


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
            if type(data) is int:  # before the numbers.Real check, which is slow (1 + v, sum(values))
                data = float(data)
            elif isinstance(data, Value):
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
        self._g = None

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
        return str(self.op)

    def _backward(self) -> None:
        """micrograd's manual step: push this node's ``.grad`` into its parents' ``.grad`` (adds)."""
        if self._vjp is None:
            return
        parents = self.parents
        grads = _local_gradients(self._vjp, self.grad, self.data, tuple(p.data for p in parents), parents)
        for parent, g in zip(parents, grads):
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
        return _result(self.data + other.data, _ADD, self, other)

    def __sub__(self, other) -> "Value":
        """a - b; d/da = 1, d/db = -1."""
        if not isinstance(other, Value):
            other = Value(other)
        return _result(self.data - other.data, _SUB, self, other)

    def __mul__(self, other) -> "Value":
        """a * b; the inputs swap: d/da = b, d/db = a."""
        if not isinstance(other, Value):
            other = Value(other)
        return _result(self.data * other.data, _MUL, self, other)

    def __truediv__(self, other) -> "Value":
        """a / b; d/da = 1/b, d/db = -a/b**2 = -out/b."""
        other = _value(other)
        if other.data == 0:
            raise ZeroDivisionError(f"div: division by zero ({self.data!r} / {other.data!r})")
        return _result(self.data / other.data, _DIV, self, other)

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
            return _result(data, _POW, self, other)
        return _result(data, _power(b), self)

    def __neg__(self) -> "Value":
        """-a; d/da = -1."""
        return _result(-self.data, _NEG, self)

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
        return _result(_exp(self.data), _EXP, self)

    def log(self) -> "Value":
        """Natural log; d/dx = 1/x. Defined for x > 0."""
        if self.data <= 0:
            raise ValueError(f"log: {self.data!r} is outside its domain x > 0")
        return _result(math.log(self.data), _LOG, self)

    def sqrt(self) -> "Value":
        """Square root; d/dx = 1 / (2 sqrt(x)), inf at 0. Defined for x >= 0."""
        if self.data < 0:
            raise ValueError(f"sqrt: {self.data!r} is outside its domain x >= 0")
        return _result(math.sqrt(self.data), _SQRT, self)

    def tanh(self) -> "Value":
        """tanh(x); d/dx = 1 - tanh(x)**2."""
        return _result(math.tanh(self.data), _TANH, self)

    def sigmoid(self) -> "Value":
        """1 / (1 + e**-x), computed without overflow; d/dx = s (1 - s)."""
        x = self.data
        s = 1.0 / (1.0 + _exp(-x)) if x >= 0 else _exp(x) / (1.0 + _exp(x))
        return _result(s, _SIGMOID, self)

    def relu(self) -> "Value":
        """max(0, x); the gradient passes where x > 0 (0 at x = 0, as PyTorch)."""
        x = self.data
        return _result(x if x > 0 else 0.0, _RELU, self)

    def leaky_relu(self, alpha: float = 0.01) -> "Value":
        """x for x > 0, alpha x otherwise; d/dx = 1 or alpha."""
        x = self.data
        return _result(x if x > 0 else alpha * x, _leaky_relu(_alpha("leaky_relu", alpha)), self)

    def elu(self, alpha: float = 1.0) -> "Value":
        """x for x > 0, alpha (e**x - 1) otherwise; d/dx = 1 or out + alpha."""
        alpha = _alpha("elu", alpha)
        x = self.data
        return _result(x if x > 0 else alpha * math.expm1(x), _elu(alpha), self)

    def abs(self) -> "Value":
        """|x|; d/dx = sign(x), 0 at 0 (as PyTorch)."""
        return _result(abs(self.data), _ABS, self)

    __abs__ = abs

    def sin(self) -> "Value":
        """sin(x); d/dx = cos(x)."""
        return _result(math.sin(self.data), _SIN, self)

    def cos(self) -> "Value":
        """cos(x); d/dx = -sin(x)."""
        return _result(math.cos(self.data), _COS, self)

    def max(self, other) -> "Value":
        """The larger of two values; the gradient routes to it (split evenly on a tie, as torch.maximum)."""
        self, other = _value(self), _value(other)
        return _result(max(self.data, other.data), _MAX, self, other)

    def min(self, other) -> "Value":
        """The smaller of two values; the gradient routes to it (split evenly on a tie, as torch.minimum)."""
        self, other = _value(self), _value(other)
        return _result(min(self.data, other.data), _MIN, self, other)


# --- the records of Value's ops: name, derivatives, the op on Values (to re-run a graph), SymPy form ---
_ADD = Op("+", derivatives.ADD.all, Value.__add__, lambda sp, a, b: a + b)
_SUB = Op("-", derivatives.SUB.all, Value.__sub__, lambda sp, a, b: a - b)
_MUL = Op("*", derivatives.MUL.all, Value.__mul__, lambda sp, a, b: a * b)
_DIV = Op("/", derivatives.DIV.all, Value.__truediv__, lambda sp, a, b: a / b)
_POW = Op("**", _d_pow, Value.__pow__, lambda sp, a, b: a ** b)
_NEG = Op("neg", derivatives.NEG.all, Value.__neg__, lambda sp, a: -a)
_EXP = Op("exp", derivatives.EXP.all, Value.exp, lambda sp, a: sp.exp(a))
_LOG = Op("log", derivatives.LOG.all, Value.log, lambda sp, a: sp.log(a))
_SQRT = Op("sqrt", _d_sqrt, Value.sqrt, lambda sp, a: sp.sqrt(a))
_TANH = Op("tanh", derivatives.TANH.all, Value.tanh, lambda sp, a: sp.tanh(a))
_SIGMOID = Op("sigmoid", derivatives.SIGMOID.all, Value.sigmoid, lambda sp, a: 1 / (1 + sp.exp(-a)))
_RELU = Op("relu", _d_relu, Value.relu, lambda sp, a: sp.Max(0, a))
_ABS = Op("abs", _d_abs, Value.abs, lambda sp, a: sp.Abs(a))
_SIN = Op("sin", _d_sin, Value.sin, lambda sp, a: sp.sin(a))
_COS = Op("cos", _d_cos, Value.cos, lambda sp, a: sp.cos(a))
_MAX = Op("max", _d_max, Value.max, lambda sp, a, b: sp.Max(a, b))
_MIN = Op("min", _d_min, Value.min, lambda sp, a, b: sp.Min(a, b))


@functools.lru_cache(maxsize=256)
def _power(b: float) -> Op:
    """The record of ``a ** b`` for a constant b (one per exponent, shared by its nodes)."""
    def base(g, out, a):
        return (g * _pow_base_grad(a, b),)

    def symbolic(sp, a):
        return a ** (sp.Integer(int(b)) if float(b).is_integer() else sp.Float(b))

    return Op(f"**{b:g}", base, lambda a: a ** b, symbolic, (b,))


@functools.lru_cache(maxsize=256)
def _leaky_relu(alpha: float) -> Op:
    """The record of leaky_relu with this alpha: d/dx = 1 for x > 0, else alpha."""
    def slope(g, out, a):
        return (g if a > 0 else g * alpha,)

    return Op(f"leaky_relu({alpha:g})", slope, lambda a: a.leaky_relu(alpha),
              lambda sp, a: sp.Piecewise((a, a > 0), (sp.nsimplify(alpha, rational=True) * a, True)), (alpha,))


@functools.lru_cache(maxsize=256)
def _elu(alpha: float) -> Op:
    """The record of elu with this alpha: d/dx = 1 for x > 0, else out + alpha."""
    def slope(g, out, a):
        return (g if a > 0 else g * (out + alpha),)

    def symbolic(sp, a):
        return sp.Piecewise((a, a > 0), (sp.nsimplify(alpha, rational=True) * (sp.exp(a) - 1), True))

    return Op(f"elu({alpha:g})", slope, lambda a: a.elu(alpha), symbolic, (alpha,))
