"""Higher-order gradients: closed forms, accumulation semantics, gradgradcheck over every op family, torch parity."""

import math

import numpy as np
import pytest

from autograd import GradcheckError, Tensor, Value, grad, gradcheck, gradgradcheck, no_grad
from autograd.ops import raw
from autograd.tensor_class import _result as tensor_result
from autograd.record import Op
from autograd.value import _result as value_result


def derivatives(f, x, n: int) -> list:
    """[f, f', ..., f^(n)] at x by repeated grad(create_graph=True); elementwise for Tensors."""
    ys = [f(x)]
    for _ in range(n):
        y = ys[-1]
        (d,) = grad(y if isinstance(y, Value) else y.sum(), x, create_graph=True)
        ys.append(d)
    return [y.data for y in ys]


def _exp_poly(x):
    """e**x (x**3 - 2x) and its first three derivatives (Leibniz: e**x sum C(n, k) p^(k))."""
    e = np.exp(x)
    return [e * (x ** 3 - 2 * x), e * (x ** 3 + 3 * x ** 2 - 2 * x - 2), e * (x ** 3 + 6 * x ** 2 + 4 * x - 4),
            e * (x ** 3 + 9 * x ** 2 + 16 * x)]


def _x_to_x(x):
    ln = np.log(x) + 1
    p = x ** x
    return [p, p * ln, p * (ln ** 2 + 1 / x), p * (ln ** 3 + 3 * ln / x - 1 / x ** 2)]


def _tanh(x):
    t = np.tanh(x)
    return [t, 1 - t * t, -2 * t * (1 - t * t), -2 * (1 - t * t) * (1 - 3 * t * t)]


def _sigmoid(x):
    s = 1 / (1 + np.exp(-x))
    return [s, s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)]


CLOSED_FORMS = {
    "tanh": (lambda x: x.tanh(), _tanh),
    "sigmoid": (lambda x: x.sigmoid(), _sigmoid),
    "x**x": (lambda x: x ** x, _x_to_x),
    "sin": (lambda x: x.sin(), lambda x: [np.sin(x), np.cos(x), -np.sin(x), -np.cos(x)]),
    "exp*poly": (lambda x: x.exp() * (x ** 3 - 2 * x), _exp_poly),
    "log": (lambda x: x.log(), lambda x: [np.log(x), 1 / x, -1 / x ** 2, 2 / x ** 3]),
    "sqrt": (lambda x: x.sqrt(), lambda x: [x ** .5, .5 * x ** -.5, -.25 * x ** -1.5, .375 * x ** -2.5]),
    "1/x": (lambda x: 1 / x, lambda x: [1 / x, -1 / x ** 2, 2 / x ** 3, -6 / x ** 4]),
}
POINTS = [0.3, 0.9, 1.7]


@pytest.mark.parametrize("name", list(CLOSED_FORMS))
def test_value_derivatives_up_to_third_order_match_closed_forms(name):
    f, closed = CLOSED_FORMS[name]
    for point in POINTS:
        np.testing.assert_allclose(derivatives(f, Value(point), 3), closed(point), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", [n for n in CLOSED_FORMS if n != "sin"])  # Tensor has no sin
def test_tensor_derivatives_up_to_third_order_match_closed_forms(name):
    f, closed = CLOSED_FORMS[name]
    x = Tensor(np.array(POINTS), requires_grad=True)
    for got, want in zip(derivatives(f, x, 3), closed(np.array(POINTS))):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_fourth_derivative_of_sin_and_mixed_partials():
    assert derivatives(lambda x: x.sin(), Value(0.4), 4)[4] == pytest.approx(math.sin(0.4), rel=1e-14)
    a, b = Value(0.5), Value(-1.5)
    f = a * a * b + (a * b).exp()  # d2f/dadb = 2a + e**(ab) (1 + ab), the same in either order
    (da,) = grad(f, a, create_graph=True)
    (db,) = grad(f, b, create_graph=True)
    want = 2 * 0.5 + math.exp(-0.75) * (1 - 0.75)
    assert grad(da, b, retain_graph=True)[0].data == pytest.approx(want, rel=1e-14)  # db shares f's graph
    assert grad(db, a)[0].data == pytest.approx(want, rel=1e-14)


# --- accumulation semantics ---------------------------------------------------------------------
def test_backward_create_graph_puts_differentiable_nodes_in_grad_and_retains_the_graph():
    x = Value(0.8)
    y = x ** 3
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.op and first.data == pytest.approx(3 * 0.64)
    y.backward(create_graph=True)  # retain_graph defaulted to True: a second pass is allowed and adds
    assert isinstance(x.grad, Value) and x.grad.data == pytest.approx(6 * 0.64)
    x.grad = 0.0
    first.backward()  # d/dx 3x**2 = 6x, added to .grad
    assert x.grad == pytest.approx(6 * 0.8)


def test_tensor_backward_create_graph_then_differentiate_the_grad():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Tensor) and g.requires_grad
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    x.grad = None
    (g * g).sum().backward()  # d/dx sum(9 x**4) = 36 x**3
    assert isinstance(x.grad, Tensor) and not x.grad.requires_grad
    np.testing.assert_allclose(x.grad, 36 * x.numpy() ** 3)


def test_grad_leaves_dot_grad_untouched_and_retains_the_graph_only_with_create_graph():
    x, w = Tensor(np.array([1.0, 2.0]), requires_grad=True), Value(1.5)
    x.grad, w.grad = np.array([7.0, 7.0]), 4.0
    y, z = (x * x).sum(), w * w * w
    (gx,) = grad(y, x, create_graph=True)
    (gw,) = grad(z, w, create_graph=True)
    grad(gx.sum(), x)
    grad(gw, w)
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])
    assert w.grad == 4.0
    grad(y, x)  # retained by the create_graph call: allowed once more, then released
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        grad(y, x)
    y2 = (x * x).sum()
    grad(y2, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        grad(y2, x)


def test_plain_grad_is_not_differentiable_and_create_graph_false_records_nothing():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = grad((x ** 3).sum(), x)
    assert not g.requires_grad and not g.parents
    v = Value(2.0)
    (gv,) = grad(v ** 3, v)
    assert gv.op == "" and gv.data == 12.0


def test_grad_outputs_tensor_is_differentiable_under_create_graph():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    u = Tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)
    (g,) = grad(x * x, x, grad_outputs=u, create_graph=True)  # 2 x u
    gx, gu = grad((g * g).sum(), [x, u])  # d/dx 4x^2u^2 = 8xu^2, d/du = 8x^2u
    np.testing.assert_allclose(gx.data, 8 * x.data * u.data ** 2)
    np.testing.assert_allclose(gu.data, 8 * x.data ** 2 * u.data)


def test_second_derivative_of_a_linear_function_is_unconnected():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = grad((3 * x).sum(), x, create_graph=True)
    assert not g.requires_grad  # as torch: the gradient of a linear function is a constant
    np.testing.assert_array_equal(g.data, [3.0, 3.0])
    v = Value(1.0)
    (gv,) = grad(v * 3.0, v, create_graph=True)
    assert grad(gv, v, allow_unused=True) == (None,)


def test_no_grad_inside_a_higher_order_computation_stops_recording():
    x = Value(0.3)
    (g,) = grad(x.tanh(), x, create_graph=True)
    with no_grad():
        h = g * 2
    assert h.op == "" and not h.parents


# --- gradgradcheck ------------------------------------------------------------------------------
def _t(*shape, positive=False, seed=[0]):  # noqa: B006 - a counter: each tensor gets fresh numbers
    seed[0] += 1
    data = np.random.default_rng(seed[0]).standard_normal(shape)
    return Tensor(np.abs(data) + 0.5 if positive else data, requires_grad=True)


TENSOR_FAMILIES = {
    "add sub mul": (lambda a, b: (a + b) * (a - b) * a, lambda: (_t(3, 4), _t(1, 4))),
    "div": (lambda a, b: a / b, lambda: (_t(3, 4), _t(4, positive=True))),
    "pow tensor exponent": (lambda a, b: a ** b, lambda: (_t(3, positive=True), _t(3))),
    "pow constant, rpow": (lambda a: a ** 3 + 2 ** a - a ** -1.5 * a.abs(), lambda: (_t(3, 4, positive=True),)),
    "exp log sqrt": (lambda a: a.exp() * a.log() + a.sqrt(), lambda: (_t(3, 2, positive=True),)),
    "tanh sigmoid": (lambda a: a.tanh() * a.sigmoid(), lambda: (_t(3, 4),)),
    "piecewise": (lambda a: (a.relu() + a.leaky_relu(0.1) + a.elu() + a.abs() + a.clip(-0.5, 0.5)) * a,
                  lambda: (_t(3, 4),)),
    "maximum minimum": (lambda a, b: a.maximum(b) * a + a.minimum(b) * b, lambda: (_t(3, 4), _t(3, 4))),
    "sum mean var": (lambda a: a.sum(0) ** 2 + a.mean(1, keepdims=True) ** 2 + a.var(axis=1, keepdims=True) ** 2,
                     lambda: (_t(3, 4),)),
    "max min reductions": (lambda a: a.amax(axis=1) ** 2 + a.min() * a.sum(), lambda: (_t(3, 4),)),
    "logsumexp": (lambda a: a.logsumexp(axis=(0, 2)) ** 2, lambda: (_t(2, 3, 4),)),
    "softmax": (lambda a: a.softmax(axis=0) * a, lambda: (_t(3, 4),)),
    "log_softmax": (lambda a: a.log_softmax() ** 2, lambda: (_t(3, 4),)),
    "reshape transpose flatten": (lambda a: (a.reshape(4, 3).T * a.transpose(1, 0).T).flatten() ** 2,
                                  lambda: (_t(3, 4),)),
    "permute unsqueeze squeeze swapaxes": (lambda a: a.permute(2, 0, 1).unsqueeze(0).squeeze().swapaxes(0, 2) ** 3,
                                           lambda: (_t(2, 3, 4),)),
    "broadcast_to expand": (lambda a: a.broadcast_to((2, 3, 4)) ** 2 * a.expand(2, -1, -1), lambda: (_t(3, 4),)),
    "slicing and integer indexing": (lambda a: a[1:, ::2] ** 2 + a[[0, 0, 2], [1, 1, 3]].sum() ** 2,
                                     lambda: (_t(3, 4),)),
    "boolean mask": (lambda a: (a[a.data > 0] ** 3).sum(), lambda: (_t(3, 4),)),
    "pad": (lambda a: a.pad(((1, 0), (2, 1))) ** 3, lambda: (_t(3, 4),)),
    "concatenate stack split": (lambda a, b: Tensor.concatenate([a, b], 1) ** 2 * Tensor.stack([a, b], 1).reshape(2, 8)
                                + b.split(2, axis=1)[1].tanh().sum(), lambda: (_t(2, 4), _t(2, 4))),
    "where": (lambda a, b: Tensor.where(a.data > 0, a ** 2, b ** 3), lambda: (_t(3, 4), _t(3, 4))),
    "matmul": (lambda a, b: (a @ b).tanh(), lambda: (_t(3, 4), _t(4, 2))),
    "matmul vector and batch": (lambda a, b, c: (a @ b) ** 2 + (b @ b) * (c @ b).sum(),
                                lambda: (_t(3, 4), _t(4), _t(2, 3, 4))),
    "unfold": (lambda a: a.unfold(2, stride=1, padding=1) ** 2, lambda: (_t(1, 2, 4, 4),)),
    "unfold dilated strided": (lambda a: a.unfold((2, 3), stride=2, padding=(1, 0), dilation=(1, 2)).tanh(),
                               lambda: (_t(2, 5, 6),)),
    "fold": (lambda a: a.fold((3, 3), 2) ** 2, lambda: (_t(2, 2, 2, 2),)),
    "astype float64": (lambda a: a.astype(np.float64) ** 3, lambda: (_t(3),)),
}


@pytest.mark.parametrize("family", list(TENSOR_FAMILIES))
def test_gradgradcheck_tensor_op_families(family):
    fn, make = TENSOR_FAMILIES[family]
    assert gradgradcheck(fn, *make())


@pytest.mark.parametrize("shapes", [((), (4,)), ((3, 4), (1, 4)), ((2, 1, 4), (3, 4)), ((4,), ())])
def test_gradgradcheck_broadcasting_arithmetic(shapes):
    a, b = _t(*shapes[0], positive=True), _t(*shapes[1], positive=True)
    assert gradgradcheck(lambda x, y: x * y / (x + y) + x ** y, a, b)


VALUE_FAMILIES = {
    "arithmetic": lambda a, b: a * b + a / b - b ** 3 + (-a) * a - 2 / b + 3 - a,
    "pow with a Value exponent": lambda a, b: a ** b * b + 2 ** (a * b),
    "x**x": lambda a, b: a ** a,
    "functions": lambda a, b: (a.exp() + a.log() + a.sqrt() + b.tanh() + b.sigmoid()) * (a.sin() + b.cos()),
    "piecewise": lambda a, b: (a.relu() * a + b.leaky_relu(0.1) * b + b.elu() * b + b.abs() * a
                               + a.max(b) * a + Value.min(a, b) * b),
}


@pytest.mark.parametrize("family", list(VALUE_FAMILIES))
def test_gradgradcheck_value_ops(family):
    assert gradgradcheck(VALUE_FAMILIES[family], Value(0.7), Value(-1.3))


def test_gradgradcheck_names_the_input_index_and_values_of_a_wrong_second_derivative():
    def square_raw(a):  # right first derivative, but its closure uses raw data: no second derivative
        return tensor_result(a.numpy() ** 2, (a,), lambda g, out, x: (g * 2 * raw(x),), "square_raw")

    x = _t(2, 3)
    assert gradcheck(square_raw, x)
    with pytest.raises(GradcheckError, match=r"gradgradcheck: input 1 at index \(0, 0\): analytic second "
                                             r"derivative 0\.0 but numeric -?\d"):
        gradgradcheck(lambda c, t: square_raw(t) * c, 3.0, x)

    def cube_wrong(a):  # d/da a**3 = 3a**2, written as 3 a * a.data: the second derivative comes out 3a, not 6a
        return value_result(a.data ** 3, Op("cube", lambda g, out, v: (g * 3 * v * getattr(v, "data", v),)), a)

    assert gradcheck(cube_wrong, Value(0.5))
    with pytest.raises(GradcheckError, match=r"gradgradcheck: input 0: analytic second derivative"):
        gradgradcheck(cube_wrong, Value(0.5))


def test_gradgradcheck_checks_float32_inputs_in_float64_and_leaves_them_alone():
    x = Tensor(np.array([[0.1, -0.4], [0.3, 0.9]], dtype=np.float32), requires_grad=True)
    before = x.numpy().copy()
    assert gradgradcheck(lambda t: (t @ t).tanh().sum() * t, x)
    assert x.dtype == np.float32 and x.grad is None
    np.testing.assert_array_equal(x.data, before)
    with pytest.raises(ValueError, match="gradgradcheck: no input"):
        gradgradcheck(lambda t: t * 2, Tensor([1.0]))


# --- parity with torch's second derivatives -------------------------------------------------------
def _softmax_ce(logits, target):
    return -logits.log_softmax(dim=1)[np.arange(len(target)), target].mean()


def _torch_softmax_ce(logits, target):
    torch = pytest.importorskip("torch")
    return -logits.log_softmax(dim=1)[torch.arange(len(target)), torch.as_tensor(target)].mean()


COMPOSITIONS = {  # f(x, w) written once for both libraries where the spelling agrees
    "tanh mlp": (lambda x, w: ((x @ w).tanh() @ w.T).sigmoid().sum(),) * 2,
    "softmax cross-entropy": (lambda x, w: _softmax_ce(x @ w, [0, 2, 1]),
                              lambda x, w: _torch_softmax_ce(x @ w, [0, 2, 1])),
    "logsumexp var": (lambda x, w: (x @ w).logsumexp(dim=1).var(correction=1) + (w ** 2).exp().mean(),) * 2,
    "pow log softmax": (lambda x, w: ((x ** 2 + 1) ** w[0, 0]).log().softmax(dim=0)[0, 1] * 3,) * 2,
    "elementwise extremes": (lambda x, w: (x.abs() * x).sqrt().sum() + (w @ w.T).relu().sum() ** 2,) * 2,
}


@pytest.mark.parametrize("name", list(COMPOSITIONS))
def test_second_derivatives_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = COMPOSITIONS[name]
    rng = np.random.default_rng(3)
    xd, wd = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    x, w = Tensor(xd, requires_grad=True), Tensor(wd, requires_grad=True)
    tx, tw = torch.tensor(xd, requires_grad=True), torch.tensor(wd, requires_grad=True)
    gx, gw = grad(ours(x, w), (x, w), create_graph=True)
    tgx, tgw = torch.autograd.grad(theirs(tx, tw), (tx, tw), create_graph=True)
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-10, atol=1e-12)
    second = grad((gx * gx).sum() + (gw.tanh() * w).sum(), (x, w))
    want = torch.autograd.grad((tgx * tgx).sum() + (tgw.tanh() * tw).sum(), (tx, tw))
    for got, expected in zip(second, want):
        np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-10, atol=1e-12)


def test_conv_from_unfold_second_derivative_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    xd, kd = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    x, k = Tensor(xd, requires_grad=True), Tensor(kd, requires_grad=True)
    tx, tk = torch.tensor(xd, requires_grad=True), torch.tensor(kd, requires_grad=True)
    cols = x.unfold(3, stride=2, padding=1).permute(0, 2, 3, 1, 4, 5).reshape(9, 18)
    ours = (cols @ k.reshape(3, -1).T).tanh().sum()
    theirs = torch.nn.functional.conv2d(tx, tk, stride=2, padding=1).tanh().sum()
    (gx,) = grad(ours, x, create_graph=True)
    (tgx,) = torch.autograd.grad(theirs, tx, create_graph=True)
    got = grad((gx ** 2).sum(), (x, k))
    want = torch.autograd.grad((tgx ** 2).sum(), (tx, tk))
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.data, t.numpy(), rtol=1e-10, atol=1e-12)
