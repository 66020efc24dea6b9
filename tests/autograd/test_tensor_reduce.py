"""Reductions and softmax: gradients over every axis form, ties, stability, errors, torch parity."""

import warnings

import numpy as np
import pytest

from autograd import Tensor, grad, gradcheck, gradgradcheck
from autograd.ops import cross_entropy, nll_loss

# max/min over an axis are torch's (values, indices) pair; amax/amin are the reductions over any axes
REDUCTIONS = ["sum", "mean", "amax", "amin", "var", "logsumexp"]
AXES = [None, 0, -1, 1, (0, 2), (-1, -3), (2, 0, 1), ()]
NUMPY = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min, "var": np.var}


def _reduce(t, op, *args, **kwargs):
    """``t.op(axis, keepdims)``; var as NumPy's np.var (correction=0), since torch's default divides by n - 1
    (and var's second positional argument is torch's ``unbiased``, so its arguments go by name)."""
    if op == "var":
        kwargs = {**dict(zip(("axis", "keepdims"), args)), **kwargs, "correction": 0}
        args = ()
    return getattr(t, op)(*args, **kwargs)


def _lse(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else tuple(range(x.ndim)))


def _x(shape=(2, 3, 4), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("op", REDUCTIONS)
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_values_shapes_and_gradcheck(op, axis, keepdims):
    data = _x()
    x = Tensor(data, requires_grad=True)
    out = _reduce(x, op, axis=axis, keepdims=keepdims)
    expected = _lse(data, axis, keepdims) if op == "logsumexp" else NUMPY[op](data, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(lambda t: _reduce(t, op, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("op", REDUCTIONS)
def test_zero_d_and_size_one_axes(op):
    s = Tensor(np.array(1.5), requires_grad=True)
    for axis in (None, ()):
        out = _reduce(s, op, axis=axis)
        assert out.shape == ()
        assert gradcheck(lambda t, axis=axis: _reduce(t, op, axis=axis) * 2, s)
    with pytest.raises(ValueError, match=f"{op}: axis 0 is out of range for a tensor with 0 dimensions"):
        _reduce(s, op, 0)
    x = Tensor(_x((1, 4, 1)), requires_grad=True)
    for axis in (0, 2, (0, 2), -1):
        assert gradcheck(lambda t, axis=axis: _reduce(t, op, axis, True), x)
    assert _reduce(x, op, (0, 2)).shape == (4,)


def test_exact_gradients_of_sum_mean_var():
    data = np.array([[1.0, 2.0, 6.0], [0.0, 4.0, 8.0]])
    x = Tensor(data, requires_grad=True)
    x.sum(1).backward(gradient=np.array([2.0, 3.0]))
    assert x.grad.tolist() == [[2, 2, 2], [3, 3, 3]]
    assert x._grad.flags.writeable  # .grad is a fresh array, not a broadcast view
    x.grad += 1
    x.grad = None
    x.mean().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 1 / 6))
    x.grad = None
    x.var(axis=1, correction=0).sum().backward()  # 2 (x - mean) / n with means 3 and 4
    np.testing.assert_allclose(x.grad, [[-4 / 3, -2 / 3, 2], [-8 / 3, 0, 8 / 3]], rtol=1e-15)


def test_dim_and_keepdim_aliases():
    x = Tensor(_x(), requires_grad=True)
    for op in REDUCTIONS:
        a = _reduce(x, op, axis=(0, -1), keepdims=True)
        b = _reduce(x, op, dim=(0, -1), keepdim=True)
        c = _reduce(x, op, (0, -1), True)
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.data, c.data)
        assert b.shape == (1, 3, 1)
        with pytest.raises(TypeError, match="alias"):
            _reduce(x, op, axis=0, dim=0)
        with pytest.raises(TypeError, match="alias"):
            _reduce(x, op, keepdims=True, keepdim=True)
    np.testing.assert_array_equal(x.softmax(dim=0).data, x.softmax(axis=0).data)
    np.testing.assert_array_equal(x.log_softmax(dim=1).data, x.log_softmax(1).data)


def test_bad_axes_raise_naming_axis_and_ndim():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    for op in REDUCTIONS:
        with pytest.raises(ValueError, match=f"^{op}: axis 3 is out of range for a tensor with 2 dimensions$"):
            getattr(x, op)(3)
        with pytest.raises(ValueError, match=f"^{op}: axis -3 is out of range for a tensor with 2 dimensions$"):
            getattr(x, op)((0, -3))
        with pytest.raises(ValueError, match="repeats an axis"):
            getattr(x, op)((1, -1))
        with pytest.raises(TypeError, match="axis must be None, an int or a tuple"):
            getattr(x, op)(1.5)
    for op in ("softmax", "log_softmax"):
        with pytest.raises(ValueError, match=f"^{op}: axis 2 is out of range for a tensor with 2 dimensions$"):
            getattr(x, op)(2)
        with pytest.raises(TypeError, match="single int"):
            getattr(x, op)((0, 1))
    other = Tensor(np.full((2, 3), 2.0))  # torch: max(other) is the elementwise maximum, not a reduction
    np.testing.assert_array_equal(x.max(other), x.maximum(other))
    np.testing.assert_array_equal(x.min(other), x.minimum(other))


def test_max_min_split_the_gradient_evenly_among_ties():
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = Tensor(data, requires_grad=True)
    x.amax(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.grad = None
    x.max().backward()
    assert x.grad.tolist() == [[0, 0.5, 0.5], [0, 0, 0]]
    x.grad = None
    x.amin(axis=0, keepdims=True).backward(gradient=np.array([[4.0, 6.0, 8.0]]))
    assert x.grad.tolist() == [[4, 0, 0], [0, 6, 8]]
    x.grad = None
    x.min().backward()
    assert x.grad.tolist() == [[1, 0, 0], [0, 0, 0]]
    x.grad = None
    x.amin(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_var_ddof_and_correction():
    data = _x((3, 5))
    x = Tensor(data, requires_grad=True)
    assert x.var().item() == pytest.approx(np.var(data, ddof=1), rel=1e-14)  # torch's default: correction=1
    for kwargs in ({"ddof": 1}, {"correction": 1}, {"unbiased": True}):
        np.testing.assert_allclose(x.var(axis=1, **kwargs).data, np.var(data, axis=1, ddof=1), rtol=1e-14)
        assert gradcheck(lambda t, kwargs=kwargs: t.var(axis=0, **kwargs), x)
    np.testing.assert_allclose(x.var(unbiased=False).data, np.var(data), rtol=1e-14)
    with pytest.raises(TypeError, match="only one of"):
        x.var(ddof=1, unbiased=True)
    with pytest.raises(TypeError, match="alias"):
        x.var(ddof=1, correction=1)


def test_logsumexp_is_stable():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (np.float32, np.float64):
            x = Tensor(np.array([[1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype), requires_grad=True)
            out = x.logsumexp(axis=1)
            assert out.dtype == dtype
            np.testing.assert_allclose(out.data, [1e4 + np.log(2), -1e4 + np.log(3)], rtol=1e-6)
            out.sum().backward()
            np.testing.assert_allclose(x.grad, [[0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
        assert Tensor([-np.inf, -np.inf]).logsumexp().item() == -np.inf


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, -1, -3])
def test_softmax_gradcheck(op, axis):
    x = Tensor(_x(), requires_grad=True)
    assert gradcheck(lambda t: getattr(t, op)(axis), x)


def test_softmax_values_and_default_axis():
    data = _x((3, 4))
    x = Tensor(data)
    e = np.exp(data)
    np.testing.assert_allclose(x.softmax().data, e / e.sum(-1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(x.log_softmax().data, np.log(e / e.sum(-1, keepdims=True)), rtol=1e-13)
    np.testing.assert_allclose(x.softmax(0).data.sum(0), np.ones(4), rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_are_stable_for_huge_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4]], dtype=dtype)
    w = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0], [0.0, 1.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor(logits, requires_grad=True)
        s = x.softmax(axis=1)
        assert s.dtype == dtype
        np.testing.assert_allclose(s.data, [[1, 0, 0], [1 / 3] * 3, [1 / 3] * 3], rtol=1e-6)
        (s * w).sum().backward()
        assert np.isfinite(x.grad.numpy()).all()
        # row 0: s = e_0, so the gradient s * (w - sum(w s)) vanishes; row 2: (w - 1/3) / 3
        np.testing.assert_allclose(x.grad[0], [0, 0, 0], atol=1e-12)
        np.testing.assert_allclose(x.grad[2], [-1 / 9, 2 / 9, -1 / 9], rtol=1e-6)
        y = Tensor(logits, requires_grad=True)
        ls = y.log_softmax(axis=1)
        assert np.isfinite(ls.numpy()).all()
        np.testing.assert_allclose(ls.data[0], [0, -2e4, -1e4], rtol=1e-6)
        np.testing.assert_allclose(ls.data[1], [-np.log(3)] * 3, rtol=1e-6)
        ls.sum().backward()  # g - softmax * sum(g): row 0 gives [1 - 3, 1, 1]
        np.testing.assert_allclose(y.grad, [[-2, 1, 1], [0, 0, 0], [0, 0, 0]], atol=1e-6)


def test_second_order_through_reductions():
    x = Tensor(_x((2, 3)), requires_grad=True)
    (g,) = grad((x * x).sum(axis=1).max(), x, create_graph=True)
    (gg,) = grad((g * g).sum(), x)
    row = int(np.argmax((x.data ** 2).sum(1)))
    expected = np.zeros((2, 3))
    expected[row] = 8 * x.data[row]  # g = 2 x on the winning row; d/dx sum(g**2) = 8 x
    np.testing.assert_allclose(gg.data, expected, rtol=1e-12)


# --- PyTorch parity -------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_parity_with_torch(axis, keepdims):
    torch = pytest.importorskip("torch")
    data = _x((3, 4, 5), seed=7)
    data[0, 0, :2] = data[0, 0, 2]  # ties for max/min
    dim = tuple(range(data.ndim)) if axis is None else axis
    torch_ops = {
        "sum": lambda t: t.sum(dim=dim, keepdim=keepdims),
        "mean": lambda t: t.mean(dim=dim, keepdim=keepdims),
        "amax": lambda t: t.amax(dim=dim, keepdim=keepdims),
        "amin": lambda t: t.amin(dim=dim, keepdim=keepdims),
        "var": lambda t: t.var(dim=dim, keepdim=keepdims, correction=0),
        "var_unbiased": lambda t: t.var(dim=dim, keepdim=keepdims),
        "logsumexp": lambda t: t.logsumexp(dim=dim, keepdim=keepdims),
    }
    ours = {name: (lambda t, name=name: _reduce(t, name, axis=axis, keepdims=keepdims))
            for name in REDUCTIONS}
    ours["var_unbiased"] = lambda t: t.var(axis=axis, keepdims=keepdims, correction=1)
    if axis is not None and not isinstance(axis, tuple):
        torch_ops["softmax"] = lambda t: t.softmax(dim=axis)
        torch_ops["log_softmax"] = lambda t: t.log_softmax(dim=axis)
        ours["softmax"] = lambda t: t.softmax(axis)
        ours["log_softmax"] = lambda t: t.log_softmax(axis)
    w_rng = np.random.default_rng(8)
    for name, theirs in torch_ops.items():
        x, t = Tensor(data.copy(), requires_grad=True), torch.tensor(data.copy(), requires_grad=True)
        out, tout = ours[name](x), theirs(t)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-6, atol=1e-12, err_msg=name)
        w = w_rng.standard_normal(out.shape)
        (out * w).sum().backward()
        (tout * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-6, atol=1e-12, err_msg=name)


def test_second_order_parity_with_torch():
    torch = pytest.importorskip("torch")
    data = _x((3, 4), seed=9)
    pairs = {
        "sum": (lambda t: (t * t).sum(1) * t.sum(), lambda t: (t * t).sum(1) * t.sum()),
        "mean": (lambda t: (t * t * t).mean(0, keepdims=True), lambda t: (t * t * t).mean(0, keepdim=True)),
        "max": (lambda t: (t * t).amax(1), lambda t: (t * t).amax(1)),
        "min": (lambda t: (t * t).min(), lambda t: (t * t).amin()),
        "var": (lambda t: t.var(1, ddof=1), lambda t: t.var(1)),
        "logsumexp": (lambda t: t.logsumexp((0, 1)), lambda t: t.logsumexp((0, 1))),
        "softmax": (lambda t: t.softmax(0), lambda t: t.softmax(0)),
        "log_softmax": (lambda t: t.log_softmax(), lambda t: t.log_softmax(-1)),
    }
    rng = np.random.default_rng(10)
    for name, (ours, theirs) in pairs.items():
        x, t = Tensor(data.copy(), requires_grad=True), torch.tensor(data.copy(), requires_grad=True)
        out, tout = ours(x), theirs(t)
        w, v = rng.standard_normal(out.shape), rng.standard_normal(data.shape)
        (g,) = grad((out * w).sum(), x, create_graph=True)
        (tg,) = torch.autograd.grad((tout * torch.tensor(w)).sum(), t, create_graph=True)
        (g * v).sum().backward()
        (tg * torch.tensor(v)).sum().backward()
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-6, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-6, atol=1e-12, err_msg=name)


# --- max / min over a few positions of big arrays (pooling tiles): done view by view -------------------
TILE_CASES = [((4, 8, 6, 2, 6, 2), (3, 5)), ((300, 10), (1,)), ((40, 3, 3, 20), (1, 2))]


@pytest.mark.parametrize("shape, axes", TILE_CASES)
@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("layout", ["C", "moved"])
def test_max_min_over_small_axes_of_big_arrays_keep_ties_and_nan(shape, axes, op, keepdims, layout):
    from autograd.ops import extremes

    data = np.random.default_rng(0).integers(0, 3, shape).astype(np.float64)  # many ties
    data.ravel()[5] = np.nan
    if layout == "C":
        assert extremes._slices(data, axes) is not None  # the view-by-view path is the one under test
    else:  # the same values with the first axis innermost in memory (either path may be taken)
        data = np.moveaxis(np.ascontiguousarray(np.moveaxis(data, 0, -1)), -1, 0)
    x = Tensor(data, requires_grad=True)
    y = getattr(x, op)(axis=axes, keepdims=keepdims)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(gradient=g)
    expected = NUMPY[op](data, axis=axes, keepdims=True)
    np.testing.assert_array_equal(y.data, expected if keepdims else expected.reshape(y.shape))
    with np.errstate(invalid="ignore"):
        winners = data == expected
        share = winners / winners.sum(axis=axes, keepdims=True)
    np.testing.assert_allclose(x.grad, g.reshape(expected.shape) * share, equal_nan=True)


def test_max_over_pooling_tiles_gradcheck_and_second_order():
    x = Tensor(_x((4, 8, 6, 2, 6, 2), seed=2), requires_grad=True)
    assert gradcheck(lambda x: x.amax(axis=(3, 5)), x)
    (gx,) = grad((x.amax(axis=(3, 5)) ** 2).sum(), x, create_graph=True)
    gx.sum().backward()
    winners = x.numpy() == x.numpy().max(axis=(3, 5), keepdims=True)
    np.testing.assert_allclose(x.grad, 2 * winners)


# --- nll_loss: -mean of the picked log-probabilities, one op ---------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_nll_loss_is_the_composition(reduction):
    logp = Tensor(_x((5, 4), seed=3), requires_grad=True)
    index = np.array([0, 3, 3, 1, 2])
    out = nll_loss(logp, index, reduction)
    picked = logp.numpy()[np.arange(5), index]
    assert out.item() == pytest.approx(-(picked.mean() if reduction == "mean" else picked.sum()), rel=1e-12)
    assert gradcheck(lambda t: nll_loss(t, index, reduction), logp)
    (g,) = grad(out * out, logp, create_graph=True)  # second order through the op
    g.sum().backward()  # d/dlogp sum(2 out s onehot) = 2 s^2 N at each picked entry, s = -1/N or -1
    s = -1 / 5 if reduction == "mean" else -1.0
    expected = np.zeros((5, 4))
    expected[np.arange(5), index] = 2 * s * s * 5
    np.testing.assert_allclose(logp.grad, expected, rtol=1e-12)


# --- cross_entropy: log_softmax and nll_loss in one op -----------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_is_log_softmax_then_nll_loss(reduction):
    data, index = _x((6, 5), seed=4) * 3, np.array([0, 4, 4, 1, 2, 3])
    logits, composed = Tensor(data, requires_grad=True), Tensor(data, requires_grad=True)
    out = cross_entropy(logits, index, reduction)
    reference = nll_loss(composed.log_softmax(axis=1), index, reduction)
    assert out.op == "cross_entropy" and out.parents == (logits,)
    assert out.item() == pytest.approx(reference.item(), rel=1e-13)
    out.backward()
    reference.backward()
    np.testing.assert_allclose(logits.grad, composed.grad, rtol=1e-12, atol=1e-15)
    p = np.exp(data) / np.exp(data).sum(1, keepdims=True)  # "dz = p - y", over N for the mean
    onehot = np.eye(5)[index]
    np.testing.assert_allclose(logits.grad, (p - onehot) / (6 if reduction == "mean" else 1), rtol=1e-12)
    assert gradcheck(lambda t: cross_entropy(t, index, reduction), Tensor(data, requires_grad=True))
    assert gradgradcheck(lambda t: cross_entropy(t, index, reduction), Tensor(data, requires_grad=True))


def test_cross_entropy_op_keeps_float32_and_survives_huge_logits():
    logits = Tensor(np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]], np.float32), requires_grad=True)
    out = cross_entropy(logits, np.array([1, 2]))
    assert out.data.dtype == np.float32
    assert out.item() == pytest.approx((1e4 + np.log(3)) / 2, rel=1e-6)
    out.backward()
    assert logits.grad.dtype == np.float32
    np.testing.assert_allclose(logits.grad, [[0.5, -0.5, 0], [1 / 6, 1 / 6, -1 / 3]], atol=1e-7)
