"""Fast paths as ops of their own: the fused tanh and sigmoid backwards (derivatives.py's formulas computed
into one buffer), relu's threshold_backward, the unfold/fold pair, and the dispatch helpers in ops.closure."""

import numpy as np
import pytest

from autograd import Tensor, derivatives, grad
from autograd.ops import closure, unary, windows

SHAPES = [(), (7,), (3, 5), (600, 600)]  # the last is above the buffer pool's threshold
DTYPES = [np.float32, np.float64]


def _core(derivative, make, out, x):
    """Call ``derivative`` as the graph core does: the upstream gradient held in one local only (no
    argument tuple: ``f(g, *args)`` would hold it too)."""
    g = make()
    return derivative(g, out, x), g


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_fused_backward_equals_the_shared_formula_and_writes_into_an_owned_g(name, dtype, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    out = getattr(Tensor(x), name)().numpy()
    g0 = rng.standard_normal(shape).astype(dtype)
    formula = getattr(derivatives, name.upper()).each[0]
    (derivative,) = getattr(unary, f"_{name.upper()}")
    expected = formula(g0, out, x)
    result, g = _core(derivative, lambda: g0.copy(), out, x)  # owned: only the core holds it
    np.testing.assert_array_equal(result, expected)  # the same operations in the same order: bit for bit
    if shape:
        assert np.shares_memory(result, g)
    held = g0.copy()
    result, _ = _core(derivative, lambda: held, out, x)  # someone else holds g: it is left alone
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(held, g0)
    assert not np.shares_memory(result, held)


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_fused_backward_uses_the_formula_under_create_graph(name):
    x = Tensor(np.linspace(-2, 2, 6), requires_grad=True)
    (g,) = grad(getattr(x, name)().sum(), x, create_graph=True)
    assert g.requires_grad and g.op != name  # recorded from the formula's Tensor ops
    (gg,) = grad(g.sum(), x)
    t = np.tanh(x.numpy()) if name == "tanh" else 1 / (1 + np.exp(-x.numpy()))
    expected = -2 * t * (1 - t * t) if name == "tanh" else t * (1 - t) * (1 - 2 * t)
    np.testing.assert_allclose(gg.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_threshold_backward_is_an_exact_select(dtype, shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    if shape:
        x.flat[0] = 0.0  # relu'(0) = 0, as torch
        x.flat[-1] = -0.0
    g = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_array_equal(closure.threshold_backward(g, x), np.where(x > 0, g, 0))
    g = np.full(shape, np.inf, dtype)  # inf where x <= 0 gives 0, not inf * 0 = nan
    np.testing.assert_array_equal(closure.threshold_backward(g, x), np.where(x > 0, np.inf, 0).astype(dtype))


def test_threshold_backward_writes_into_the_buffer_it_is_given_and_never_into_g_otherwise():
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    g0 = np.arange(12, dtype=np.float32).reshape(3, 4) + 1
    g = g0.copy()
    assert np.shares_memory(closure.threshold_backward(g, x, into=g), g)
    np.testing.assert_array_equal(g, np.where(x > 0, g0, 0))
    held = g0.copy()
    (result,), _ = _core(unary._relu_backward, lambda: held, np.maximum(x, 0), x)
    np.testing.assert_array_equal(held, g0)
    np.testing.assert_array_equal(result, np.where(x > 0, g0, 0))


def test_threshold_backward_records_itself_under_create_graph_with_a_zero_gradient_for_x():
    torch = pytest.importorskip("torch")
    xd = np.array([-1.0, 0.0, 2.0, 3.0])
    x, tx = Tensor(xd, requires_grad=True), torch.tensor(xd, requires_grad=True)
    (g,) = grad((x.relu() ** 2).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((tx.relu() ** 2).sum(), tx, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), tg.detach().numpy())
    upstream = Tensor(np.array([5.0, 6.0, 7.0, 8.0]), requires_grad=True)
    h = closure.threshold_backward(upstream, x)
    assert h.op == "threshold_backward" and h.parents == (upstream, x)
    gu, gx = grad(h.sum(), (upstream, x))
    np.testing.assert_array_equal(gu.numpy(), [0, 0, 1, 1])  # its own adjoint
    np.testing.assert_array_equal(gx.numpy(), np.zeros(4))  # the mask's source: zeros, as torch
    (second,) = grad((g * g).sum(), x)
    (tsecond,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_array_equal(second.numpy(), tsecond.numpy())


def test_unfold_and_fold_are_adjoint_primitives_on_arrays_and_tensors():
    rng = np.random.default_rng(2)
    w = windows._windows((5, 6), (2, 3), (1, 2), (1, 0), (2, 1))
    x = rng.standard_normal((2, 3, 5, 6))
    y = rng.standard_normal(windows._unfold(x, w).shape)
    assert np.isclose(np.sum(windows._unfold(x, w) * y), np.sum(x * windows._fold(y, w)))
    xt = Tensor(x, requires_grad=True)
    cols = windows._unfold(xt, w)
    assert cols.op == "unfold"
    np.testing.assert_array_equal(cols.numpy(), windows._unfold(x, w))
    yt = Tensor(y, requires_grad=True)
    (gx,) = grad((cols * yt).sum(), xt, create_graph=True)
    assert gx.op == "fold"
    np.testing.assert_allclose(gx.numpy(), windows._fold(y, w))
    (gy,) = grad((gx * Tensor(x)).sum(), yt)  # fold's derivative is unfold
    np.testing.assert_allclose(gy.numpy(), windows._unfold(x, w))


def test_a_plain_backward_through_a_recorded_primitive_passes_arrays_on():
    for op in (lambda t: t.abs(), lambda t: t.relu()):
        x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
        (g,) = grad(op(x).sum(), x, create_graph=True)
        (g * x).sum().backward()  # the recorded gate's backward, run plainly
        assert type(x._grad) is np.ndarray
