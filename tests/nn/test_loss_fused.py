"""The fused cross entropy's backward: (softmax - one_hot) * scale written into one fresh buffer, through
flat (row, class) positions, for any memory layout of the logits, as torch's."""

import numpy as np
import pytest

import nn.functional as F
from autograd import Tensor, grad

DTYPES = [np.float32, np.float64]


def _logits(n, c, dtype, layout, seed=0):
    z = (np.random.default_rng(seed).standard_normal((n, c)) * 4).astype(dtype)
    return np.asfortranarray(z) if layout == "F" else z


def _expected(z, y, scale):
    """softmax(z) minus one at each row's class, times scale: the lecture's dz = (p - y) / N, in z's dtype."""
    shifted = z - z.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p * np.asarray(scale, z.dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_fused_gradient_is_softmax_minus_one_hot(dtype, layout, reduction):
    z = _logits(256, 27, dtype, layout)
    y = np.random.default_rng(1).integers(0, 27, 256)
    y[:40] = 3  # many rows of one class
    x = Tensor(z, requires_grad=True)
    F.cross_entropy(x, Tensor(y), reduction=reduction).backward()
    assert x.grad.dtype == dtype and x.grad.shape == z.shape
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    scale = 1 / 256 if reduction == "mean" else 1.0
    # p - 1 at a row's class cancels: a softmax summed in another order moves it by a few ulps of 1, not of p - 1
    np.testing.assert_allclose(x.grad.numpy(), _expected(z, y, scale), rtol=rtol, atol=8 * np.finfo(dtype).eps * scale)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("layout", ["C", "F"])
def test_loss_fused_matches_torch(dtype, layout):
    torch = pytest.importorskip("torch")
    z = _logits(32, 27, dtype, layout, seed=2)
    y = np.random.default_rng(3).integers(0, 27, 32)
    x = Tensor(z, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(y))
    loss.backward()
    t = torch.tensor(np.ascontiguousarray(z), requires_grad=True)
    expected = torch.nn.functional.cross_entropy(t, torch.from_numpy(y))
    expected.backward()
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    assert loss.item() == pytest.approx(expected.item(), rel=rtol)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol * 10, atol=rtol * 1e-2)


def test_loss_fused_backward_twice_leaves_the_saved_softmax_alone():
    """The gradient is a fresh buffer: a second backward (retain_graph) gives the same numbers again."""
    z = _logits(8, 5, np.float64, "C")
    y = np.array([0, 4, 4, 1, 2, 3, 0, 0])
    x = Tensor(z, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(y))
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    x.grad = None
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), first)
    np.testing.assert_allclose(first, _expected(z, y, 1 / 8), rtol=1e-14, atol=1e-17)


def test_loss_fused_gradient_of_the_gradient():
    """create_graph records (softmax - one_hot) * scale; the one-hot goes to the same flat positions."""
    z = _logits(6, 4, np.float64, "F", seed=5)
    y = np.array([1, 1, 0, 3, 2, 1])
    x = Tensor(z, requires_grad=True)
    (g,) = grad(F.cross_entropy(x, Tensor(y)), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), _expected(z, y, 1 / 6), rtol=1e-14, atol=1e-17)
    g.sum().backward()  # each row of (p - onehot) sums to 0 whatever x is: its gradient is 0
    np.testing.assert_allclose(x.grad.numpy(), 0, atol=1e-15)


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("classes", [1, 10, 32, 33, 100])
def test_both_softmax_layouts_agree_with_torch_and_leave_the_logits_alone(layout, classes):
    """Up to 32 classes the softmax runs on a transposed copy (ops.losses.FEW_CLASSES), above row by row."""
    torch = pytest.importorskip("torch")
    z = _logits(200, classes, np.float32, layout, seed=classes)
    before = z.copy()
    y = np.random.default_rng(4).integers(0, classes, 200)
    x = Tensor(z, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(y))
    loss.backward()
    np.testing.assert_array_equal(z, before)
    t = torch.tensor(np.ascontiguousarray(z), requires_grad=True)
    expected = torch.nn.functional.cross_entropy(t, torch.from_numpy(y))
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=8 * np.finfo(np.float32).eps / 200)
