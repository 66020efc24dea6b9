"""Symbolic export: the engine's gradients equal sympy's derivatives of the exported expression."""

import math

import pytest

from autograd import Value
from autograd.symbolic import to_latex, to_sympy

sp = pytest.importorskip("sympy")


def _neuron():
    w0, x0, w1, x1, w2 = (Value(v, label=n) for v, n in zip((2.0, -1.0, -3.0, -2.0, -3.0),
                                                            ("w0", "x0", "w1", "x1", "w2")))
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    return f, (w0, x0, w1, x1, w2)


def test_sigmoid_neuron_gradients_match_sympy():
    f, leaves = _neuron()
    f.backward()
    expr = to_sympy(f)
    point = {sp.Symbol(v.label, real=True): v.data for v in leaves}
    assert float(expr.subs(point)) == pytest.approx(f.data, rel=1e-14)
    for v in leaves:
        derivative = sp.diff(expr, sp.Symbol(v.label, real=True))
        assert float(derivative.subs(point)) == pytest.approx(v.grad, rel=1e-12), v.label


def test_every_value_op_exports():
    x, y = Value(0.7, label="x"), Value(1.3, label="y")
    out = (x.exp() + x.log() + x.sqrt() + x.tanh() + x.sigmoid() + x.relu() + x.abs() + x.sin() + x.cos()
           + x ** 3 + x ** y + x / y - y + (-x) + x.max(y) + Value.min(x, y) + x.leaky_relu(0.2) + x.elu())
    out.backward()
    expr = to_sympy(out)
    point = {sp.Symbol("x", real=True): 0.7, sp.Symbol("y", real=True): 1.3}
    assert float(expr.subs(point)) == pytest.approx(out.data, rel=1e-12)
    assert float(sp.diff(expr, sp.Symbol("x", real=True)).subs(point)) == pytest.approx(x.grad, rel=1e-10)


def test_log_one_plus_squared_residual_and_latex():
    w, x, y = Value(0.5, label="w"), Value(3.0, label="x"), Value(-1.0, label="y")
    loss = (1 + (w * x - y) ** 2).log()
    expr = to_sympy(loss)
    W, X, Y = sp.symbols("w x y", real=True)
    assert sp.simplify(expr - sp.log(1 + (W * X - Y) ** 2)) == 0
    assert to_latex(loss) == sp.latex(sp.log((W * X - Y) ** 2 + 1))
    assert math.isclose(float(sp.diff(expr, W).subs({W: 0.5, X: 3.0, Y: -1.0})), 2 * 2.5 * 3 / (1 + 2.5 ** 2))
