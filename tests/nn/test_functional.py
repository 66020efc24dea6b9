"""nn.functional: activations, conv2d, pooling, dropout and losses, against torch and central differences."""

import re

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor, Value, grad, gradcheck, gradgradcheck
from autograd.graph import topological_order

REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def array(*shape, seed=0, scale=1.0, away=0.0):
    """Standard normal samples, optionally pushed at least ``away`` from 0 (off the kinks of relu, abs, max)."""
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    return x + np.sign(x) * away if away else x


def leaf(data):
    return Tensor(np.array(data, dtype=np.float64), requires_grad=True)


def tleaf(torch, data):
    return torch.tensor(np.array(data, dtype=np.float64), requires_grad=True)


def backward_both(torch, out, tout, seed=99):
    """Backpropagate the same random upstream gradient through our output and torch's."""
    assert out.shape == tuple(tout.shape)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    (out * g).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()


def close(ours, theirs, rtol=1e-6, atol=1e-12):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours.data if isinstance(ours, Tensor) else ours, theirs, rtol=rtol, atol=atol)


# --- activations -------------------------------------------------------------------------------

ACTIVATIONS = {
    "relu": (F.relu, lambda t, x: t.nn.functional.relu(x)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda t, x: t.nn.functional.leaky_relu(x, 0.2)),
    "leaky_relu_default": (F.leaky_relu, lambda t, x: t.nn.functional.leaky_relu(x)),
    "elu": (lambda x: F.elu(x, 0.7), lambda t, x: t.nn.functional.elu(x, 0.7)),
    "tanh": (F.tanh, lambda t, x: t.tanh(x)),
    "sigmoid": (F.sigmoid, lambda t, x: t.sigmoid(x)),
    "softmax_dim": (lambda x: F.softmax(x, dim=1), lambda t, x: t.softmax(x, dim=1)),
    "softmax_default_last": (F.softmax, lambda t, x: t.softmax(x, dim=-1)),
    "log_softmax_axis0": (lambda x: F.log_softmax(x, axis=0), lambda t, x: t.log_softmax(x, dim=0)),
    "log_softmax_default": (F.log_softmax, lambda t, x: t.log_softmax(x, dim=-1)),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_torch_values_and_gradients(torch, name):
    ours, theirs = ACTIVATIONS[name]
    data = array(3, 5, scale=3, away=0.05)
    x, tx = leaf(data), tleaf(torch, data)
    out, tout = ours(x), theirs(torch, tx)
    close(out, tout)
    backward_both(torch, out, tout)
    close(x.grad, tx.grad.numpy())


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradcheck_and_float32(name):
    fn = ACTIVATIONS[name][0]
    assert gradcheck(fn, leaf(array(2, 3, away=0.1)))
    assert fn(Tensor(np.ones((2, 3), np.float32))).dtype == np.float32


def test_activations_take_values():
    assert F.relu(Value(-2.0)).data == 0.0
    assert F.leaky_relu(Value(-2.0), 0.1).data == pytest.approx(-0.2)
    assert F.elu(Value(-1.0)).data == pytest.approx(np.expm1(-1.0))
    assert F.sigmoid(Value(0.0)).data == 0.5
    assert F.tanh(Value(0.5)).data == pytest.approx(np.tanh(0.5))


def test_softmax_rejects_both_axis_and_dim_as_the_tensor_method_does():
    message = "softmax: got axis= and dim=, which are aliases"
    with pytest.raises(TypeError, match=message):
        F.softmax(Tensor(np.ones((2, 3))), axis=0, dim=1)
    with pytest.raises(TypeError, match=message):
        Tensor(np.ones((2, 3))).softmax(axis=0, dim=1)
    with pytest.raises(TypeError, match="Softmax: got axis= and dim=, which are aliases"):
        nn.Softmax(axis=0, dim=1)


def test_softmax_is_stable_for_huge_logits():
    out = F.softmax(Tensor(np.array([[1e4, 0.0, -1e4]], np.float32)))
    np.testing.assert_array_equal(out.data, [[1.0, 0.0, 0.0]])
    assert np.isfinite(F.log_softmax(Tensor(np.array([[1e4, 0.0, -1e4]], np.float32))).data).all()


# --- conv2d ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("stride, padding, expected", [
    (1, 0, 5), (2, 0, 3), (1, 1, 7), (2, 1, 4), (3, 1, 3),
    (3, 0, 2),  # the lecture's "doesn't fit" case: (7 - 3)/3 + 1 = 2.33; as torch, the last column is dropped
])
def test_conv_output_size_is_the_lecture_formula(stride, padding, expected):
    out = F.conv2d(Tensor(np.zeros((1, 1, 7, 7))), Tensor(np.zeros((1, 1, 3, 3))), stride=stride, padding=padding)
    assert out.shape == (1, 1, expected, expected)
    assert expected == (7 + 2 * padding - 3) // stride + 1


@pytest.mark.parametrize("size", [3, 5, 7])
def test_padding_half_the_filter_preserves_the_size(size):
    x = Tensor(np.zeros((2, 3, 32, 32), np.float32))
    out = F.conv2d(x, Tensor(np.zeros((10, 3, size, size), np.float32)), padding=(size - 1) // 2)
    assert out.shape == (2, 10, 32, 32)


CONV_CASES = [
    dict(stride=1, padding=0),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(0, 2)),
    dict(stride=(1, 3), padding=(2, 1)),
    dict(stride=3, padding=1),
    dict(stride=1, padding=1, dilation=2),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch_values_and_gradients(torch, case, bias):
    x, w, b = array(2, 3, 9, 8, seed=1), array(4, 3, 3, 2, seed=2), array(4, seed=3)
    X, W, B = leaf(x), leaf(w), leaf(b) if bias else None
    TX, TW, TB = tleaf(torch, x), tleaf(torch, w), tleaf(torch, b) if bias else None
    out = F.conv2d(X, W, B, **case)
    tout = torch.nn.functional.conv2d(TX, TW, TB, **case)
    close(out, tout)
    backward_both(torch, out, tout)
    close(X.grad, TX.grad)
    close(W.grad, TW.grad)
    if bias:
        close(B.grad, TB.grad)


def test_conv2d_unbatched_input_matches_torch(torch):
    x, w = array(3, 6, 6, seed=4), array(2, 3, 3, 3, seed=5)
    out = F.conv2d(leaf(x), leaf(w), padding=1)
    close(out, torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1))
    assert out.shape == (2, 6, 6)


@pytest.mark.parametrize("case", CONV_CASES[:4], ids=str)
def test_conv2d_gradcheck(case):
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **case),
                     leaf(array(2, 2, 5, 6, seed=6)), leaf(array(3, 2, 3, 2, seed=7)), leaf(array(3, seed=8)))


def test_conv2d_is_one_op_laid_out_batch_innermost():
    x = Tensor(array(2, 3, 8, 8, seed=9).astype(np.float32), requires_grad=True)
    w = Tensor(np.zeros((4, 3, 3, 3), np.float32), requires_grad=True)
    out = F.conv2d(x, w, Tensor(np.zeros(4, np.float32)), padding=1)
    assert [node.op for node in topological_order([out])] == ["", "", "", "conv2d"]
    assert out.shape == (2, 4, 8, 8) and out.numpy().transpose(1, 2, 3, 0).flags.c_contiguous
    pooled = F.max_pool2d(F.relu(out), 2)  # the layers after a conv keep its layout: no copies
    assert pooled.numpy().transpose(1, 2, 3, 0).flags.c_contiguous


@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[5]], ids=str)
def test_conv2d_equals_unfold_then_matmul(case):
    """The fused op against the same convolution written with unfold, permute and matmul."""
    x, w, b = array(2, 3, 7, 6, seed=10), array(4, 3, 3, 2, seed=11), array(4, seed=12)
    X, W, B = leaf(x), leaf(w), leaf(b)
    X2, W2, B2 = leaf(x), leaf(w), leaf(b)
    out = F.conv2d(X, W, B, **case)
    cols = X2.unfold((3, 2), case["stride"], case["padding"], case.get("dilation", 1))  # (N, C, oh, ow, kh, kw)
    n, _, oh, ow = cols.shape[:4]
    composed = (cols.permute(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, -1) @ W2.reshape(4, -1).T + B2)
    composed = composed.reshape(n, oh, ow, 4).permute(0, 3, 1, 2)
    np.testing.assert_allclose(out.data, composed.data, rtol=1e-12, atol=1e-12)
    seed = array(*out.shape, seed=13)
    out.backward(seed)
    composed.backward(seed)
    for ours, theirs in ((X, X2), (W, W2), (B, B2)):
        np.testing.assert_allclose(ours.grad, theirs.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[5]], ids=str)
def test_conv2d_second_derivatives(case):
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **case),
                         leaf(array(1, 2, 5, 5, seed=14)), leaf(array(2, 2, 3, 3, seed=15)), leaf(array(2, seed=16)))


def test_conv2d_second_derivative_matches_torch(torch):
    x, w = array(2, 2, 6, 5, seed=17), array(3, 2, 3, 3, seed=18)
    X, W = leaf(x), leaf(w)
    TX, TW = tleaf(torch, x), tleaf(torch, w)
    (gx,) = grad((F.conv2d(X, W, stride=2, padding=1).tanh() ** 2).sum(), X, create_graph=True)
    (tgx,) = torch.autograd.grad((torch.nn.functional.conv2d(TX, TW, stride=2, padding=1).tanh() ** 2).sum(), TX,
                                 create_graph=True)
    got = grad((gx * gx).sum(), (X, W))
    want = torch.autograd.grad((tgx * tgx).sum(), (TX, TW))
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.data, t.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_keeps_float32():
    out = F.conv2d(Tensor(np.ones((1, 2, 5, 5), np.float32)), Tensor(np.ones((3, 2, 3, 3), np.float32)),
                   Tensor(np.ones(3, np.float32)))
    assert out.dtype == np.float32


def test_conv2d_errors_name_the_shapes():
    w = Tensor(np.zeros((10, 3, 5, 5)))
    with pytest.raises(ValueError, match=re.escape("conv2d: input of shape (2, 4, 8, 8) has 4 channels but weight "
                                                   "of shape (10, 3, 5, 5) expects 3")):
        F.conv2d(Tensor(np.zeros((2, 4, 8, 8))), w)
    with pytest.raises(ValueError, match=re.escape("expected an input of shape (N, C, H, W) (or unbatched (C, H, W)),"
                                                   " got shape (8, 8)")):
        F.conv2d(Tensor(np.zeros((8, 8))), w)
    with pytest.raises(ValueError, match=r"conv2d: kernel 5x5 .* bigger than the padded input 4x4"):
        F.conv2d(Tensor(np.zeros((1, 3, 4, 4))), w)
    with pytest.raises(ValueError, match=re.escape("bias must have shape (10,)")):
        F.conv2d(Tensor(np.zeros((1, 3, 8, 8))), w, Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="stride must be an int >= 1 or a pair"):
        F.conv2d(Tensor(np.zeros((1, 3, 8, 8))), w, stride=0)
    with pytest.raises(ValueError, match=re.escape("weight must have shape (out_channels, in_channels, kh, kw)")):
        F.conv2d(Tensor(np.zeros((1, 3, 8, 8))), Tensor(np.zeros((3, 5, 5))))


# --- pooling ----------------------------------------------------------------------------------------

POOL_CASES = [  # (input H, W, kernel_size, stride, padding): tiled fast path, overlaps, padding, leftovers
    (8, 6, 2, None, 0), (8, 6, (2, 3), None, 0), (7, 7, 2, None, 0), (7, 6, 3, 2, 1), (6, 6, 3, 1, 0),
    (5, 8, (3, 2), (1, 2), (1, 0)), (6, 6, 2, 1, 1),
]


@pytest.mark.parametrize("h, w, kernel, stride, padding", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_torch_values_and_gradients(torch, h, w, kernel, stride, padding, kind):
    data = array(2, 3, h, w, seed=10)  # continuous values: no ties, where torch would pick one element
    x, tx = leaf(data), tleaf(torch, data)
    ours = F.max_pool2d if kind == "max" else F.avg_pool2d
    theirs = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    out, tout = ours(x, kernel, stride, padding), theirs(tx, kernel, stride, padding)
    close(out, tout)
    backward_both(torch, out, tout)
    close(x.grad, tx.grad)


def test_max_pool_padding_counts_as_minus_infinity(torch):
    data = -np.abs(array(1, 1, 4, 4, seed=11)) - 1  # all negative: zero padding would win every border window
    out = F.max_pool2d(Tensor(data), 3, stride=2, padding=1)
    close(out, torch.nn.functional.max_pool2d(torch.from_numpy(data), 3, stride=2, padding=1))
    assert (out.data < -1).all()


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_gradcheck(kind):
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    assert gradcheck(lambda x: fn(x, 2), leaf(array(1, 2, 4, 4, seed=12)))
    assert gradcheck(lambda x: fn(x, 3, 2, 1), leaf(array(1, 2, 5, 5, seed=13)))


def test_max_pool_gives_a_tied_window_gradient_to_its_first_maximum():
    x = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[1, 0], [0, 0]]]])  # row-major first, as torch
    x = Tensor(np.array([[[[0, 3, 3], [3, 1, 3]]]], np.float32), requires_grad=True)
    F.max_pool2d(x, (2, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0, 1, 0], [0, 0, 0]]]])


@pytest.mark.parametrize("h, w, kernel, stride, padding", POOL_CASES)
@pytest.mark.parametrize("layout", ["contiguous", "batch-innermost"])
def test_max_pool_ties_match_torch(torch, h, w, kernel, stride, padding, layout):
    data = np.random.default_rng(14).integers(0, 3, (2, 3, h, w)).astype(np.float64)  # ties in most windows
    x, tx = leaf(data), tleaf(torch, data)
    if layout == "batch-innermost":  # as a conv's output is laid out
        x = Tensor(np.ascontiguousarray(data.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2), requires_grad=True)
    out, tout = F.max_pool2d(x, kernel, stride, padding), torch.nn.functional.max_pool2d(tx, kernel, stride, padding)
    close(out, tout)
    backward_both(torch, out, tout)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-14, atol=1e-15)  # overlaps sum in another order


def test_max_pool_second_derivative_with_ties_matches_torch(torch):
    data = np.random.default_rng(15).integers(0, 3, (1, 2, 4, 4)).astype(np.float64)
    x, tx = leaf(data), tleaf(torch, data)
    (gx,) = grad((F.max_pool2d(x, 2) ** 3).sum(), x, create_graph=True)
    (tgx,) = torch.autograd.grad((torch.nn.functional.max_pool2d(tx, 2) ** 3).sum(), tx, create_graph=True)
    np.testing.assert_array_equal(gx.data, tgx.detach().numpy())
    (ggx,) = grad((gx * gx).sum(), x)
    (tggx,) = torch.autograd.grad((tgx * tgx).sum(), tx)
    np.testing.assert_allclose(ggx.data, tggx.numpy(), rtol=1e-12)


def test_pooling_defaults_keeps_float32_and_takes_unbatched_input():
    x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 4, 4))
    out = F.max_pool2d(x, 2)
    assert out.shape == (1, 2, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [[[5, 7], [13, 15]]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).data, [[[2.5, 4.5], [10.5, 12.5]]])


def test_pooling_errors():
    x = Tensor(np.zeros((1, 1, 6, 6)))
    with pytest.raises(ValueError, match=re.escape("max_pool2d: padding (2, 2) must be at most half the kernel size")):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=re.escape("avg_pool2d: expected an input of shape (N, C, H, W) or (C, H, W), "
                                                   "got shape (6, 6)")):
        F.avg_pool2d(Tensor(np.zeros((6, 6))), 2)
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        F.max_pool2d(x, 0)


# --- dropout ----------------------------------------------------------------------------------------

def test_dropout_zeroes_with_probability_p_and_preserves_the_mean():
    x = Tensor(np.ones(200_000, np.float32), requires_grad=True)
    out = F.dropout(x, p=0.3, seed=0)
    dropped = out.numpy() == 0
    assert out.dtype == np.float32
    assert dropped.mean() == pytest.approx(0.3, abs=0.005)
    np.testing.assert_array_equal(out.numpy()[~dropped], np.float32(1 / 0.7))
    assert out.numpy().mean() == pytest.approx(1.0, abs=0.01)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.numpy())  # the gradient is the same scaled mask


def test_dropout_eval_p0_p1_and_invalid_p():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.data, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)
    for p in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\]"):
            F.dropout(x, p)


def test_dropout_seed_fixes_the_mask_and_rng_advances():
    x = Tensor(np.ones((50, 50)))
    np.testing.assert_array_equal(F.dropout(x, seed=3).data, F.dropout(x, seed=3).data)
    rng = np.random.default_rng(0)
    assert not np.array_equal(F.dropout(x, rng=rng).data, F.dropout(x, rng=rng).data)
    np.random.seed(5)
    first = F.dropout(x).data
    np.random.seed(5)
    np.testing.assert_array_equal(F.dropout(x).data, first)  # np.random.seed applies without seed/rng


def test_dropout_gradcheck():
    assert gradcheck(lambda x: F.dropout(x, 0.4, seed=1), leaf(array(4, 5)))


# --- regression and margin losses ---------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_match_torch(torch, name, reduction):
    p, t = array(4, 3, seed=20), array(4, 3, seed=21)
    P, T, TP, TT = leaf(p), leaf(t), tleaf(torch, p), tleaf(torch, t)
    out = getattr(F, name)(P, T, reduction=reduction)
    tout = getattr(torch.nn.functional, name)(TP, TT, reduction=reduction)
    close(out, tout)
    backward_both(torch, out, tout)
    close(P.grad, TP.grad)
    close(T.grad, TT.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "hinge_loss"])
def test_regression_and_hinge_losses_gradcheck(name, reduction):
    target = np.sign(array(3, 2, seed=23)) if name == "hinge_loss" else array(3, 2, seed=23)
    assert gradcheck(lambda p: getattr(F, name)(p, target, reduction=reduction), leaf(array(3, 2, seed=22) * 0.5))


def test_mse_and_l1_take_values_for_the_scalar_network():
    preds = [Value(1.0), Value(-2.0), Value(0.5)]
    loss = F.mse_loss(preds, [0.0, 0.0, 1.0])
    assert isinstance(loss, Value) and loss.data == pytest.approx((1 + 4 + 0.25) / 3)
    loss.backward()
    assert [p.grad for p in preds] == pytest.approx([2 / 3, -4 / 3, -1 / 3])
    assert F.mse_loss(Value(3.0), 1.0, reduction="sum").data == 4.0
    assert F.l1_loss(preds, np.array([0.0, 0.0, 1.0]), reduction="sum").data == pytest.approx(3.5)
    assert [v.data for v in F.l1_loss(preds, [0, 0, 0], reduction="none")] == [1.0, 2.0, 0.5]


def test_regression_loss_shape_mismatch_is_an_error_not_a_broadcast():
    with pytest.raises(ValueError, match=re.escape("mse_loss: pred has shape (32, 1) but target has shape (32,); "
                                                   "they must match")):
        F.mse_loss(Tensor(np.zeros((32, 1))), np.zeros(32))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.mse_loss(Tensor(np.zeros(3)), np.zeros(3), reduction="avg")
    with pytest.raises(ValueError, match="got 2 predictions but 3 targets"):
        F.mse_loss([Value(1.0), Value(2.0)], [1, 2, 3])


def test_hinge_loss_on_tensors_and_on_values_agree():
    scores, y = [2.0, 0.5, -0.3, -3.0], [1, 1, 1, -1]
    t = leaf(scores)
    loss = F.hinge_loss(t, y)
    assert loss.item() == pytest.approx((0 + 0.5 + 1.3 + 0) / 4)  # relu(1 - y * score)
    loss.backward()
    values = [Value(s) for s in scores]
    vloss = F.hinge_loss(values, y)
    assert isinstance(vloss, Value) and vloss.data == pytest.approx(loss.item())
    vloss.backward()
    np.testing.assert_allclose([v.grad for v in values], t.grad)
    np.testing.assert_allclose(t.grad, [0, -0.25, -0.25, 0])
    assert F.hinge_loss(values, np.array(y), reduction="sum").data == pytest.approx(1.8)
    assert [v.data for v in F.hinge_loss(values, y, reduction="none")] == pytest.approx([0, 0.5, 1.3, 0])


def test_hinge_loss_wants_plus_minus_one_labels():
    with pytest.raises(ValueError, match=r"labels must be -1 or \+1, got values \[0.0, 1.0\]; .* y \* 2 - 1"):
        F.hinge_loss([Value(1.0), Value(2.0)], [0, 1])


# --- binary cross entropy -------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(torch, reduction, weighted):
    p = 0.05 + 0.9 * np.random.default_rng(30).random((5, 3))
    y = np.random.default_rng(31).random((5, 3))  # soft labels too
    w = np.random.default_rng(32).random((5, 3)) if weighted else None
    P, TP = leaf(p), tleaf(torch, p)
    out = F.binary_cross_entropy(P, y, reduction, weight=w)
    tout = torch.nn.functional.binary_cross_entropy(TP, torch.from_numpy(y), reduction=reduction,
                                                    weight=None if w is None else torch.from_numpy(w))
    close(out, tout)
    backward_both(torch, out, tout)
    close(P.grad, TP.grad)


def test_binary_cross_entropy_clamps_the_log_at_minus_100_like_torch(torch):
    p, y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    P = leaf(p)
    out = F.binary_cross_entropy(P, y, reduction="none")
    close(out, torch.nn.functional.binary_cross_entropy(torch.from_numpy(p), torch.from_numpy(y), reduction="none"))
    np.testing.assert_array_equal(out.data, [100, 100, 0, 0])
    out.sum().backward()
    assert np.isfinite(P.grad).all()  # no 0/0 where the log was clamped (torch gives a huge finite value)
    out32 = F.binary_cross_entropy(Tensor(np.float32([0, 1e-45])), np.float32([1, 1]), "none")
    assert out32.dtype == np.float32 and np.allclose(out32.data, 100)


def test_binary_cross_entropy_rejects_probabilities_outside_0_1():
    for bad in (1.5, -0.1, np.nan):
        with pytest.raises(ValueError, match=r"binary_cross_entropy: every prob must be in \[0, 1\]"):
            F.binary_cross_entropy(Tensor([0.5, bad]), [1.0, 0.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("extra", ["plain", "weight", "pos_weight"])
def test_binary_cross_entropy_with_logits_matches_torch(torch, reduction, extra):
    x = array(4, 3, seed=33, scale=4)
    x[0, 0] = 0.0  # the kink of max(x, 0) and |x|: the gradient must still be sigmoid(0) - y
    y = (np.random.default_rng(34).random((4, 3)) > 0.5).astype(float)
    kwargs = {}
    if extra == "weight":
        kwargs["weight"] = np.random.default_rng(35).random((4, 3))
    if extra == "pos_weight":
        kwargs["pos_weight"] = np.array([0.5, 2.0, 3.0])
    X, TX = leaf(x), tleaf(torch, x)
    out = F.binary_cross_entropy_with_logits(X, y, reduction, **kwargs)
    tout = torch.nn.functional.binary_cross_entropy_with_logits(
        TX, torch.from_numpy(y), reduction=reduction, **{k: torch.from_numpy(v) for k, v in kwargs.items()})
    close(out, tout)
    backward_both(torch, out, tout)
    close(X.grad, TX.grad)


def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits(torch):
    x = np.float32([1e4, -1e4, 1e4, -1e4])
    y = np.float32([1, 0, 0, 1])
    X = Tensor(x, requires_grad=True)
    out = F.binary_cross_entropy_with_logits(X, y, reduction="none")
    np.testing.assert_array_equal(out.data, [0, 0, 1e4, 1e4])
    close(out, torch.nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(x), torch.from_numpy(y),
                                                                     reduction="none"))
    out.sum().backward()
    np.testing.assert_array_equal(X.grad, [0, 0, 1, -1])  # sigmoid(x) - y


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_gradcheck(name, reduction):
    y = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.9]])
    x = 0.1 + 0.8 * np.random.default_rng(36).random((2, 3)) if name == "binary_cross_entropy" \
        else array(2, 3, seed=36, away=0.1)
    assert gradcheck(lambda p: getattr(F, name)(p, y, reduction=reduction), leaf(x))


# --- cross entropy and nll ---------------------------------------------------------------------------------

CE_SHAPES = [(5, 4), (3, 4, 2, 3), (4,)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_cross_entropy_matches_torch(torch, reduction, shape, kind):
    logits = array(*shape, seed=40, scale=2)
    classes = shape[1] if len(shape) > 1 else shape[0]
    if kind == "indices":
        target = np.random.default_rng(41).integers(0, classes, size=shape[:1] + shape[2:] if len(shape) > 1 else ())
    else:
        target = np.random.default_rng(41).random(shape)
        target /= target.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    X, TX = leaf(logits), tleaf(torch, logits)
    out = F.cross_entropy(X, target, reduction=reduction)
    tout = torch.nn.functional.cross_entropy(TX, torch.from_numpy(np.asarray(target)), reduction=reduction)
    close(out, tout)
    backward_both(torch, out, tout)
    close(X.grad, TX.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(torch, reduction):
    log_probs = np.log(np.random.default_rng(42).dirichlet(np.ones(6), size=5))
    target = np.array([0, 5, 2, 2, 1])
    X, TX = leaf(log_probs), tleaf(torch, log_probs)
    out = F.nll_loss(X, target, reduction=reduction)
    tout = torch.nn.functional.nll_loss(TX, torch.from_numpy(target), reduction=reduction)
    close(out, tout)
    backward_both(torch, out, tout)
    close(X.grad, TX.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_and_nll_gradcheck(reduction):
    target = np.array([2, 0, 1])
    probs = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [1.0, 0.0, 0.0]])
    assert gradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction), leaf(array(3, 3, seed=43)))
    assert gradcheck(lambda x: F.cross_entropy(x, probs, reduction=reduction), leaf(array(3, 3, seed=44)))
    assert gradcheck(lambda x: F.cross_entropy(x, target[:2].reshape(1, 2), reduction=reduction),
                     leaf(array(1, 3, 2, seed=45)))
    assert gradcheck(lambda x: F.nll_loss(x, target, reduction=reduction), leaf(array(3, 3, seed=46)))


def test_cross_entropy_is_stable_for_huge_logits(torch):
    logits = np.float32([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    X = Tensor(logits, requires_grad=True)
    out = F.cross_entropy(X, [0, 0], reduction="none")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [0, 2e4])
    close(out, torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.tensor([0, 0]), reduction="none"))
    F.cross_entropy(X, [0, 0]).backward()
    np.testing.assert_array_equal(X.grad, np.float32([[0, 0, 0], [-0.5, 0.5, 0]]))  # (softmax - one_hot) / N


def test_cross_entropy_accepts_whole_float_indices():
    logits = Tensor(array(3, 4, seed=47))
    expected = F.cross_entropy(logits, np.array([1, 3, 0])).item()
    assert F.cross_entropy(logits, Tensor([1, 3, 0])).item() == expected  # Tensor([...]) is float32


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64])
def test_class_index_range_is_checked_for_every_integer_dtype(dtype):
    logits = Tensor(np.zeros((3, 300)))  # more classes than an int8 / uint8 holds
    assert F.cross_entropy(logits, np.array([0, 5, 100], dtype)).item() == pytest.approx(np.log(300))
    with pytest.raises(ValueError, match=re.escape(f"class index {np.iinfo(dtype).max} out of range")):
        F.cross_entropy(Tensor(np.zeros((3, 4))), np.array([0, np.iinfo(dtype).max, 1], dtype))
    if np.iinfo(dtype).min < 0:
        with pytest.raises(ValueError, match=re.escape("class index -1 out of range for 300 classes")):
            F.cross_entropy(logits, np.array([0, -1, 1], dtype))


def test_cross_entropy_errors_name_the_shapes_and_the_bad_index():
    logits = Tensor(np.zeros((4, 10)))
    with pytest.raises(ValueError, match=re.escape("cross_entropy: target has shape (3,) but logits have shape "
                                                   "(4, 10); expected (4,)")):
        F.cross_entropy(logits, np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=re.escape("cross_entropy: class index 12 out of range for 10 classes")):
        F.cross_entropy(logits, np.array([1, 2, 12, 3]))
    with pytest.raises(ValueError, match=re.escape("class index -1 out of range for 10 classes")):
        F.cross_entropy(logits, np.array([1, -1, 2, 3]))
    with pytest.raises(ValueError, match=re.escape("expected (4,) (class indices) or (4, 10) (class probabilities")):
        F.cross_entropy(logits, np.zeros((3, 10)))
    with pytest.raises(ValueError, match="or one-hot / probabilities as floats of shape"):
        F.cross_entropy(logits, np.zeros((4, 10), dtype=np.int64))
    with pytest.raises(ValueError, match="class indices must be integers"):
        F.cross_entropy(logits, np.array([0.5, 1, 2, 3]))
    with pytest.raises(ValueError, match=re.escape("nll_loss: target has shape (4, 1) but log_probs have shape "
                                                   "(4, 10); expected (4,)")):
        F.nll_loss(logits, np.zeros((4, 1), dtype=np.int64))


# --- the lecture's output-layer deltas (seed 003) -----------------------------------------------------------

def test_softmax_cross_entropy_delta_is_p_minus_y():
    z = leaf(array(4, 3, seed=50))
    y = np.array([2, 0, 1, 1])
    F.cross_entropy(z, y, reduction="sum").backward()
    np.testing.assert_allclose(z.grad, F.softmax(Tensor(z.data)).data - np.eye(3)[y], atol=1e-12)


def test_sigmoid_binary_cross_entropy_delta_is_h_minus_y():
    s = array(6, seed=51)
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    h = 1 / (1 + np.exp(-s))
    for loss in (lambda z: F.binary_cross_entropy(F.sigmoid(z), y, "sum"),
                 lambda z: F.binary_cross_entropy_with_logits(z, y, reduction="sum")):
        z = leaf(s)
        loss(z).backward()
        np.testing.assert_allclose(z.grad, h - y, atol=1e-12)


def test_mse_delta_is_g_prime_times_h_minus_y():
    s, y = array(5, seed=52), array(5, seed=53)
    h = leaf(s)
    (0.5 * F.mse_loss(h, y, reduction="sum")).backward()  # J = 1/2 sum (h - y)**2
    np.testing.assert_allclose(h.grad, s - y, atol=1e-12)
    z = leaf(s)
    (0.5 * F.mse_loss(F.sigmoid(z), y, "sum")).backward()
    out = 1 / (1 + np.exp(-s))
    np.testing.assert_allclose(z.grad, out * (1 - out) * (out - y), atol=1e-12)


def test_cross_entropy_of_an_empty_batch_is_nan_as_torch():
    logits = Tensor(np.zeros((0, 5), np.float32), requires_grad=True)
    loss = F.cross_entropy(logits, np.zeros(0, int))
    assert np.isnan(loss.item())
    loss.backward()
    assert logits.grad.shape == (0, 5)
    assert F.cross_entropy(logits, np.zeros(0, int), reduction="sum").item() == 0.0
