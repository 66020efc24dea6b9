"""Elementwise ops of two tensors: arithmetic with NumPy broadcasting, maximum/minimum, comparisons; and astype.

Each op runs its NumPy work, the cast of a constant operand included, under one ``hush``: 1 / 0,
inf - inf, an overflowing product and 1e300 cast to float32 give inf or nan silently, as torch.
"""

from __future__ import annotations

import numpy as np

from .. import derivatives, memory
from ..quiet import hush, unhush
from ..tensor_class import _DEFAULT_FLOAT as _FLOAT
from ..graph import _mode
from ..tensor_class import Tensor, _operand, _plain, _result, _weak_number
from .closure import gate, raw
from .unary import _float_data

METHODS = ["add", "sub", "mul", "div", "pow", "neg", "maximum", "minimum", "astype", "lt", "le", "gt", "ge", "eq", "ne"]
OPERATORS = {
    "__add__": "add", "__radd__": "radd", "__sub__": "sub", "__rsub__": "rsub",
    "__mul__": "mul", "__rmul__": "rmul", "__truediv__": "div", "__rtruediv__": "rdiv",
    "__pow__": "pow", "__rpow__": "rpow", "__neg__": "neg",
    # Comparisons are elementwise; Tensor.__hash__ stays identity (set in the class body).
    "__lt__": "lt", "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__eq__": "eq", "__ne__": "ne",
    "__bool__": "truth",
}


_ARITHMETIC = (np.add, np.subtract, np.multiply, np.true_divide, np.power, np.maximum, np.minimum)


_KIND = {"b": 0, "u": 1, "i": 1, "f": 2}  # torch's categories: bool, integer, float


def _promoted(forward, x: np.ndarray, y: np.ndarray) -> tuple:
    """x and y cast as torch's type promotion has it where NumPy's differs: a 0-d tensor does not widen a tensor
    of its kind (float32 * a float64 0-d is float32), an integer (or bool) operand takes the float operand's
    dtype (int64 * float32 is float32, not float64), and true division of integers is float32 (torch's
    default float; NumPy's float64)."""
    float_x, float_y = x.dtype.kind == "f", y.dtype.kind == "f"
    if not (float_x or float_y) and forward is np.true_divide:
        return x.astype(_FLOAT), y.astype(_FLOAT)
    if _KIND[x.dtype.kind] == _KIND[y.dtype.kind] and (x.ndim == 0) != (y.ndim == 0):  # a 0-d operand of the
        return (x.astype(y.dtype), y) if x.ndim == 0 else (x, y.astype(x.dtype))  # same kind does not widen
    if float_x and not float_y:
        return x, y.astype(x.dtype)
    if float_y and not float_x:
        return x.astype(y.dtype), y
    return x, y


def _binary(op: str, forward, a: Tensor, b: Tensor):
    """Run a broadcasting forward, naming the op and both shapes if they do not broadcast; a big
    result goes to a reused buffer, laid out as the operand of its shape. The caller hushes."""
    x, y = a._data, b._data
    if x.dtype != y.dtype or forward is np.true_divide and x.dtype.kind != "f":
        x, y = _promoted(forward, x, y)
    try:
        if forward not in _ARITHMETIC or x.dtype != y.dtype or x.dtype.kind != "f":
            return forward(x, y)
        return forward(x, y, out=memory.broadcast_out(x, y))
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _with_number(forward, a: Tensor, b, reflected: bool = False):
    """a (op) b, or b (op) a, as a Tensor outside the graph, for a Python number b and a float tensor no graph
    records (``-lr * p.grad``): b goes to NumPy as it is, a weak scalar (float32 stays float32, as in torch
    and as the general path's cast gives, bit for bit), with no Tensor made for it. None if that does not apply."""
    if not _weak_number(b) or a._data.dtype.kind != "f" or (a.requires_grad and _mode.record):
        return None
    x = a._data
    token = hush()
    try:
        return _plain(forward(b, x, out=memory.out_like(x)) if reflected else forward(x, b, out=memory.out_like(x)))
    finally:
        unhush(token)


def _arithmetic(op: str, forward, a: Tensor, b):
    """(b as a Tensor, forward on both arrays), silent as torch (quiet.py): the four operators' forward."""
    token = hush()
    try:
        b = _operand(b, a)
        return b, _binary(op, forward, a, b)
    finally:
        unhush(token)


def _operator(name: str, forward, formulas: str, symbol: str, doc: str):
    """One of the four arithmetic operators: a number outside a graph takes ``_with_number``, the rest the
    general path (b as a Tensor, recorded with the derivatives ``derivatives.<formulas>``, read per call)."""
    def op(a: Tensor, b) -> Tensor:
        plain = _with_number(forward, a, b)
        if plain is not None:
            return plain
        b, data = _arithmetic(name, forward, a, b)
        return _result(data, (a, b), getattr(derivatives, formulas).each, symbol)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


add = _operator("add", np.add, "ADD", "+", "a + b; the gradient flows unchanged to both inputs.")
sub = _operator("sub", np.subtract, "SUB", "-", "a - b; d/da = 1, d/db = -1.")
mul = _operator("mul", np.multiply, "MUL", "*", "a * b; the inputs swap: d/da = b, d/db = a.")
div = _operator("div", np.true_divide, "DIV", "/", "a / b; d/da = 1/b, d/db = -a/b**2 = -out/b.")


def pow(a: Tensor, b) -> Tensor:
    """a ** b; d/da = b a**(b-1) (0 where b == 0), d/db = a**b log(a) (0 where a == 0)."""
    token = hush()
    try:
        if isinstance(b, (int, float, np.integer, np.floating)) and not isinstance(b, (bool, np.bool_)):
            b = b.item() if isinstance(b, np.generic) else b  # a weak scalar, as torch's: float32 stays float32
            data = (_float_data(a) if isinstance(b, float) else a._data) ** b
            return _result(data, (a,), (lambda g, out, x: g * 0 if b == 0 else g * b * x ** (b - 1),), f"**{b:g}")
        b = _operand(b, a)
        data = _binary("pow", np.power, a, b)
    finally:
        unhush(token)
    return _result(data, (a, b), _POW, "**")


def _power_base(g, out, x, y):  # d(x**y)/dx = y x**(y-1)
    return g * y * x ** (y - 1)


def _power_exponent(g, out, x, y):  # d(x**y)/dy = x**y log(x), 0 where x == 0
    safe_log = (x + (raw(x) == 0)).log() if isinstance(x, Tensor) else np.log(np.where(x == 0, 1, x))
    return g * out * safe_log


_POW = (_power_base, _power_exponent)


def neg(a: Tensor) -> Tensor:
    """-a; d/da = -1."""
    return _result(-a._data, (a,), derivatives.NEG.each, "neg")


def _reflected(name: str, forward, backward, symbol: str):
    """The op ``name`` with a constant b on the left, e.g. 2 - t: the tensor-tensor path, swapped."""
    def reflected(a: Tensor, b) -> Tensor:
        plain = _with_number(forward, a, b, reflected=True)
        if plain is not None:
            return plain
        token = hush()
        try:
            b = _operand(b, a)
            data = _binary(name, forward, b, a)
        finally:
            unhush(token)
        return _result(data, (b, a), backward, symbol)

    reflected.__name__ = reflected.__qualname__ = "r" + name
    reflected.__doc__ = f"b {name} a for a constant b on the left, e.g. 2 - t."
    return reflected


radd = _reflected("add", np.add, derivatives.ADD.each, "+")
rsub = _reflected("sub", np.subtract, derivatives.SUB.each, "-")
rmul = _reflected("mul", np.multiply, derivatives.MUL.each, "*")
rdiv = _reflected("div", np.true_divide, derivatives.DIV.each, "/")
rpow = _reflected("pow", np.power, _POW, "**")


def _share(wins, x, y):
    """The share of the gradient that goes to ``x``: 1 where it wins, 1/2 on a tie (as torch.maximum)."""
    share = wins(x, y).astype(x.dtype if x.dtype.kind == "f" else _FLOAT)
    share += (x == y) * share.dtype.type(0.5)
    return share


def _extremum(op: str, forward, wins, a: Tensor, b) -> Tensor:
    token = hush()  # maximum never warns, but a constant's cast may (1e300 to float32: inf)
    try:
        b = _operand(b, a)
        data = _binary(op, forward, a, b)
    finally:
        unhush(token)
    return _result(data, (a, b), (
        lambda g, out, x, y: gate(g, _share(wins, raw(x), raw(y)), x),
        lambda g, out, x, y: gate(g, _share(wins, raw(y), raw(x)), y)), op)


def maximum(a: Tensor, b) -> Tensor:
    """The elementwise larger of a and b; the gradient goes to the larger one, half each on a tie."""
    return _extremum("maximum", np.maximum, np.greater, a, b)


def minimum(a: Tensor, b) -> Tensor:
    """The elementwise smaller of a and b; the gradient goes to the smaller one, half each on a tie."""
    return _extremum("minimum", np.minimum, np.less, a, b)


def astype(a: Tensor, dtype) -> Tensor:
    """The data cast to ``dtype`` (past its range: inf, as torch; nan to an integer: whatever NumPy gives,
    silently); the gradient is cast back. A non-float result records no graph."""
    token = hush()
    try:
        data = a._data.astype(dtype)
    finally:
        unhush(token)
    if data.dtype.kind != "f":
        return Tensor(data)
    source = a._data.dtype
    return _result(data, (a,), lambda g, out, x: (g.astype(source),), "astype")


# --- comparisons: boolean tensors, never differentiated ---------------------------------------
def _comparison(name: str, symbol: str, forward):
    def compare(a: Tensor, b) -> Tensor:
        token = hush()  # comparisons never warn, but a constant's cast may (1e300 to float32: inf)
        try:
            try:
                b = _operand(b, a)
            except TypeError:
                if name in ("eq", "ne"):
                    return NotImplemented  # t == None, t == "x": Python falls back to identity
                raise
            return Tensor(_binary(name, forward, a, b))
        finally:
            unhush(token)

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
