"""binary_cross_entropy's gradient is torch's (p - y) / max(p (1 - p), 1e-12): finite everywhere, and 0 (not
-inf) through a float32 sigmoid that underflowed (the audit's reproducer at z = -92)."""

import numpy as np
import pytest

import autograd
import nn.functional as F
from autograd import Tensor, gradcheck

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("z", [-103.0, -95.0, -92.0, -90.0, -88.0, -80.0, -20.0, 0.0, 3.0, 16.0, 20.0])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_through_a_float32_sigmoid_the_gradient_is_finite_and_torchs(z, y):
    x = Tensor(np.array([z], np.float32), requires_grad=True)
    tx = torch.tensor([z], requires_grad=True)
    F.binary_cross_entropy(x.sigmoid(), autograd.tensor([y])).backward()
    torch.nn.functional.binary_cross_entropy(tx.sigmoid(), torch.tensor([y])).backward()
    assert np.isfinite(x.grad.numpy()).all()
    # torch's float32 sigmoid flushes results below 1e-38 to 0; ours keeps the subnormal: the gradients then
    # differ below 1e-27, far under float32 resolution of the loss
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-27)


def test_values_weights_and_reductions_match_torch_and_finite_differences():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.integers(0, 2, (4, 3)).astype(np.float64)
    w = rng.uniform(0.5, 2.0, (4, 3))
    for reduction in ("mean", "sum", "none"):
        ours = F.binary_cross_entropy(Tensor(p), y, reduction=reduction, weight=w)
        theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y), reduction=reduction,
                                                          weight=torch.tensor(w))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert gradcheck(lambda q: F.binary_cross_entropy(q, y, weight=w), Tensor(p, requires_grad=True))


def test_a_target_that_needs_grad_is_refused_as_torch():
    p, y = Tensor([0.3, 0.6]), Tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="the derivative for target is not implemented"):
        F.binary_cross_entropy(p, y)
