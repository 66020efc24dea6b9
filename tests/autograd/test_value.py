"""The scalar engine: worked examples from the lectures, every op's gradient, bad input."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import GradcheckError, Value, gradcheck, no_grad


def test_x_plus_y_times_z_lecture_example():
    # seed 001: q = x + y, f = q z; df/dx = df/dq * dq/dx = z * 1 (upstream times local)
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    f = q * z
    f.backward()
    assert f.data == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)
    assert q.grad == -4.0


def test_sigmoid_neuron_lecture_example():
    w0, x0, w1, x1, w2 = (Value(v) for v in (2.0, -1.0, -3.0, -2.0, -3.0))
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    f.backward()
    assert f.data == pytest.approx(0.7310585786300049, abs=1e-15)
    expected = {w0: -0.19661193324148185, x0: 0.3932238664829637, w1: -0.3932238664829637,
                x1: -0.5898357997244456, w2: 0.19661193324148185}
    for node, value in expected.items():
        assert node.grad == pytest.approx(value, rel=1e-12)
    assert round(f.data, 4) == 0.7311
    assert [round(n.grad, 4) for n in (w0, x0, w1, x1, w2)] == [-0.1966, 0.3932, -0.3932, -0.5898, 0.1966]


def test_sigmoid_op_gives_the_same_neuron_gradients():
    w0, x0, w1, x1, w2 = (Value(v) for v in (2.0, -1.0, -3.0, -2.0, -3.0))
    f = (w0 * x0 + w1 * x1 + w2).sigmoid()
    f.backward()
    assert f.data == pytest.approx(0.7310585786300049, abs=1e-15)
    assert w0.grad == pytest.approx(-0.19661193324148185, rel=1e-12)
    assert x1.grad == pytest.approx(-0.5898357997244456, rel=1e-12)


def test_d_equals_2a_plus_b_times_3c_through_intermediates():
    # seed 000: z1 = 2a, z2 = 3c, z3 = b z2, d = z1 + z3: dd/da = 2, dd/db = 3c, dd/dc = 3b
    a, b, c = Value(1.5), Value(-2.0), Value(4.0)
    z1, z2 = 2 * a, 3 * c
    z3 = b * z2
    d = z1 + z3
    d.backward()
    assert d.data == 2 * 1.5 + (-2.0) * 12.0
    assert (a.grad, b.grad, c.grad) == (2.0, 12.0, -6.0)
    assert (z1.grad, z3.grad, z2.grad) == (1.0, 1.0, -2.0)


def test_log_one_plus_squared_residual_chain_rule():
    # seed 004: L = log(1 + (w x - y)^2); dL/dw = 2 (wx - y) x / (1 + (wx - y)^2)
    w, x, y = Value(0.5), Value(3.0), Value(-1.0)
    loss = (1 + (w * x - y) ** 2).log()
    loss.backward()
    r = 0.5 * 3.0 + 1.0
    assert loss.data == pytest.approx(math.log(1 + r * r), rel=1e-15)
    assert w.grad == pytest.approx(2 * r * 3.0 / (1 + r * r), rel=1e-14)
    assert x.grad == pytest.approx(2 * r * 0.5 / (1 + r * r), rel=1e-14)
    assert y.grad == pytest.approx(-2 * r / (1 + r * r), rel=1e-14)


def test_gradient_flow_patterns():
    x, y = Value(3.0), Value(-2.0)
    (x + y).backward()
    assert (x.grad, y.grad) == (1.0, 1.0)  # add distributes
    x, y = Value(3.0), Value(-2.0)
    (x * y).backward()
    assert (x.grad, y.grad) == (-2.0, 3.0)  # mul swaps
    x, y = Value(3.0), Value(-2.0)
    Value.max(x, y).backward()
    assert (x.grad, y.grad) == (1.0, 0.0)  # max routes
    x = Value(3.0)
    (x * 2 + x * 5).backward()
    assert x.grad == 7.0  # copy adds


def test_max_min_ties_split_evenly_like_torch_maximum():
    x, y = Value(2.0), Value(2.0)
    x.max(y).backward()
    assert (x.grad, y.grad) == (0.5, 0.5)
    x, y = Value(1.0), Value(5.0)
    Value.min(x, y).backward()
    assert (x.grad, y.grad) == (1.0, 0.0)
    x = Value(-1.0)
    m = Value.max(x, 0.0)
    m.backward()
    assert m.data == 0.0 and x.grad == 0.0


def test_a_plus_a_keeps_both_edges():
    a = Value(3.0)
    b = a + a
    assert b.parents == (a, a)
    c = b + b
    c.backward()
    assert c.data == 12.0 and a.grad == 4.0 and b.grad == 2.0


def test_repeated_backward_accumulates_like_pytorch():
    a = Value(3.0)
    y = a * a * a
    y.backward(retain_graph=True)
    assert a.grad == 27.0
    y.backward()
    assert a.grad == 54.0  # micrograd gives 72: its intermediate grads pile up


def test_backward_twice_without_retain_graph_raises():
    a = Value(3.0)
    y = (a * a).tanh()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    assert y.op == "tanh" and len(y.parents) == 1  # the graph can still be drawn


def test_zero_grad():
    a = Value(2.0)
    (a * a).backward()
    a.zero_grad()
    assert a.grad == 0.0


def test_no_grad_records_nothing_and_is_a_decorator():
    a = Value(2.0)
    with no_grad():
        b = a * 3
    assert b.parents == () and b.op == "" and b.data == 6.0

    @no_grad()
    def f(v):
        return v * v

    c = f(a)
    assert c.parents == ()
    d = a * a
    assert d.parents == (a, a)


def test_one_million_deep_chain_differentiates_iteratively():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0000001 ** 1_000_000, rel=1e-9)


def test_numpy_scalars_mix_on_either_side():
    a = Value(2.0)
    for out in (np.float64(3.0) * a, a * np.float64(3.0), np.float32(3.0) * a, np.int64(3) * a):
        assert isinstance(out, Value) and out.data == 6.0
    assert isinstance(np.float64(1.0) - a, Value) and (np.float64(1.0) - a).data == -1.0
    assert (2 ** a).data == 4.0 and (1 / a).data == 0.5 and (1 - a).data == -1.0


@pytest.mark.parametrize("op", [
    lambda a: a.exp(), lambda a: a.log(), lambda a: a.sqrt(), lambda a: a.tanh(), lambda a: a.sigmoid(),
    lambda a: a.relu(), lambda a: a.leaky_relu(), lambda a: a.leaky_relu(0.2), lambda a: a.elu(),
    lambda a: a.elu(0.5), lambda a: a.abs(), lambda a: a.sin(), lambda a: a.cos(), lambda a: -a,
    lambda a: a ** 3, lambda a: a ** -1.5, lambda a: a ** 0.5, lambda a: 2 ** a, lambda a: a ** a,
    lambda a: 1 / a, lambda a: 3 - a, lambda a: a - 3, lambda a: a + 1, lambda a: a * a,
], ids=["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky", "leaky0.2", "elu", "elu0.5", "abs",
        "sin", "cos", "neg", "pow3", "pow-1.5", "pow0.5", "rpow", "pow_self", "rdiv", "rsub", "sub",
        "add", "square"])
@pytest.mark.parametrize("x", [0.7, 2.3])
def test_unary_ops_gradcheck(op, x):
    assert gradcheck(op, Value(x))


@pytest.mark.parametrize("x", [-0.7, -2.3])
def test_ops_on_negative_side_gradcheck(x):
    for op in (lambda a: a.relu(), lambda a: a.leaky_relu(), lambda a: a.elu(), lambda a: a.abs(),
               lambda a: a.sigmoid(), lambda a: a.tanh(), lambda a: a ** 3, lambda a: a ** -2):
        assert gradcheck(op, Value(x))


def test_binary_ops_gradcheck():
    for op in (lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
               lambda a, b: a ** b, lambda a, b: a.max(b), lambda a, b: Value.min(a, b)):
        assert gradcheck(op, Value(1.3), Value(-0.4))
        assert gradcheck(op, Value(0.6), Value(2.1))


def test_gradients_at_kinks_match_pytorch():
    for op, expected in ((lambda a: a.relu(), 0.0), (lambda a: a.abs(), 0.0),
                         (lambda a: a.leaky_relu(0.1), 0.1), (lambda a: a.elu(2.0), 2.0),
                         (lambda a: a ** 0, 0.0), (lambda a: a ** 2, 0.0)):
        a = Value(0.0)
        op(a).backward()
        assert a.grad == expected
    a = Value(0.0)
    a.sqrt().backward()
    assert a.grad == math.inf
    a, b = Value(0.0), Value(2.0)
    (a ** b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_gradcheck_reports_a_wrong_gradient():
    a = Value(0.5)
    wrong = Value(0.0)

    def f(x):
        y = x.tanh()
        y._vjp = lambda g, out, v: (g * 2.0,)  # a deliberately wrong local derivative
        return y + wrong * 0

    with pytest.raises(GradcheckError, match="input 0: analytic gradient 2.0 but numeric 0.78"):
        gradcheck(f, a)


def test_exp_and_sigmoid_do_not_overflow():
    assert Value(1000.0).exp().data == math.inf
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


@pytest.mark.parametrize("bad", ["abc", None, [1.0], {"a": 1}, 1 + 2j])
def test_bad_data_raises_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_numpy_scalars_and_zero_d_arrays_are_accepted():
    assert Value(np.float32(1.5)).data == 1.5 and type(Value(np.float32(1.5)).data) is float
    assert Value(np.array(2.0)).data == 2.0
    assert Value(True).data == 1.0


@pytest.mark.parametrize("make, error, message", [
    (lambda: Value(-1.0).log(), ValueError, "log: -1.0 is outside its domain x > 0"),
    (lambda: Value(0.0).log(), ValueError, "log: 0.0 is outside its domain x > 0"),
    (lambda: Value(-4.0).sqrt(), ValueError, "sqrt: -4.0 is outside its domain x >= 0"),
    (lambda: Value(0.0) ** -1, ZeroDivisionError, r"pow: 0.0 \*\* -1"),
    (lambda: Value(0.0) ** Value(-2.0), ZeroDivisionError, r"pow: 0.0 \*\* -2.0"),
    (lambda: Value(-8.0) ** (1 / 3), ValueError, "negative base -8.0"),
    (lambda: Value(1.0) / 0, ZeroDivisionError, r"div: division by zero \(1.0 / 0.0\)"),
    (lambda: 1 / Value(0.0), ZeroDivisionError, "div: division by zero"),
    (lambda: Value(1.0) ** "2", TypeError, "exponent must be a number"),
])
def test_domain_errors_name_the_op_and_value(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_failing_op_records_nothing():
    a = Value(-1.0)
    with pytest.raises(ValueError):
        a.log()
    b = a * 2
    b.backward()
    assert a.grad == 2.0


def test_repr_is_useful():
    a = Value(2.0, label="a")
    b = (a * 3).tanh()
    assert repr(a) == "Value(data=2, grad=0, label='a')"
    assert "op='tanh'" in repr(b)


_FUNCS = ["exp", "tanh", "sigmoid", "sin", "cos", "relu", "abs", "elu"]
_BINOPS = ["+", "-", "*"]


@st.composite
def expressions(draw, depth=4):
    """A random expression over three variables, as nested tuples."""
    if depth == 0 or draw(st.booleans()) and depth < 4:
        return ("var", draw(st.integers(0, 2)))
    kind = draw(st.sampled_from(["func", "binop", "const"]))
    if kind == "func":
        return ("func", draw(st.sampled_from(_FUNCS)), draw(expressions(depth - 1)))
    if kind == "const":
        return ("const", draw(st.floats(-2, 2)), draw(expressions(depth - 1)))
    return ("binop", draw(st.sampled_from(_BINOPS)), draw(expressions(depth - 1)), draw(expressions(depth - 1)))


_KINKED = ("relu", "abs")  # not differentiable at 0: finite differences there straddle the kink


def _build(tree, xs, kinks=None):
    """The expression on ``xs``; the inputs of relu and abs are appended to ``kinks`` if given."""
    kind = tree[0]
    if kind == "var":
        return xs[tree[1]]
    if kind == "func":
        inner = _build(tree[2], xs, kinks)
        if kinks is not None and tree[1] in _KINKED:
            kinks.append(float(inner.data))
        return getattr(inner, tree[1])()
    if kind == "const":
        return tree[1] * _build(tree[2], xs, kinks)
    a, b = _build(tree[2], xs, kinks), _build(tree[3], xs, kinks)
    return a + b if tree[1] == "+" else a - b if tree[1] == "-" else a * b


@settings(max_examples=60, deadline=None)
@given(tree=expressions(), values=st.lists(st.floats(-1.5, 1.5).filter(lambda v: abs(v) > 0.05),
                                           min_size=3, max_size=3))
def test_random_expressions_match_finite_differences(tree, values):
    kinks = []
    _build(tree, [Value(v) for v in values], kinks)
    assume(all(abs(v) > 1e-3 for v in kinks))  # relu(x0 - x1) at x0 == x1: no derivative to check
    xs = [Value(v) for v in values]
    assert gradcheck(lambda *v: _build(tree, v), *xs, atol=1e-4, rtol=1e-3)


def test_a_scalar_node_is_one_object_for_the_garbage_collector():
    """Parents live in slots, not a tuple, and rules are shared functions: the collector tracks one
    object per op (micrograd: a Value, a set, a closure and its cell), so it has half as much to scan."""
    import gc

    a = Value(0.5)
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        x = a
        for _ in range(10_000):
            x = (x * a).tanh()
        grown = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert 20_000 <= grown < 20_100
    assert x.parents[0].parents == (x.parents[0].parents[0], a) and a.parents == ()
