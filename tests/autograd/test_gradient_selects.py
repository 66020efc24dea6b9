"""Ops that route a gradient select it (as torch) instead of multiplying by a 0/1 mask: an inf
arriving where the mask is 0 gives 0, not inf * 0 = nan; and second derivatives through them are zeros."""

import subprocess
import sys

import numpy as np
import pytest

import autograd
import nn.functional as F
from autograd import Tensor, Value, grad

torch = pytest.importorskip("torch")

X = np.array([-1.0, 0.0, 4.0, 2.5])


@pytest.mark.parametrize("fn", [
    lambda M, x: x.clip(0.0).sqrt(),                                  # the "safe sqrt" idiom
    lambda M, x: x.relu().sqrt(),
    lambda M, x: x.clamp(min=0.5, max=3.0).sqrt() * 0 + (x.clamp(min=0.0) - 0.0).sqrt(),
    lambda M, x: M.maximum(x, M.zeros(4, dtype=x.dtype)).sqrt(),
    lambda M, x: (M.minimum(x, M.zeros(4, dtype=x.dtype)) * -1 + 0).sqrt(),
    lambda M, x: x.reshape(2, 2).max(1).values.clip(0.0).sqrt(),
    lambda M, x: F.max_pool2d(x.reshape(1, 1, 2, 2), 2).clip(0.0).sqrt() if M is autograd else
    torch.nn.functional.max_pool2d(x.reshape(1, 1, 2, 2), 2).clip(0.0).sqrt(),
    # torch multiplies in these, and so does chainrule, to give its numbers (nan where inf meets 0)
    lambda M, x: x.abs().sqrt(),
    lambda M, x: x.reshape(2, 2).amax(1).sqrt(),
    lambda M, x: F.leaky_relu(x, 0.0).sqrt() if M is autograd else torch.nn.functional.leaky_relu(x, 0.0).sqrt(),
], ids=["clip", "relu", "clamp", "maximum", "minimum", "max-dim", "max_pool2d", "abs", "amax", "leaky0"])
def test_an_infinite_gradient_where_the_mask_is_zero_gives_zero_as_torch(fn):
    x, tx = Tensor(X.copy(), requires_grad=True), torch.tensor(X.copy(), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        fn(autograd, x).sum().backward()
    fn(torch, tx).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_the_reported_reproducer():
    x = Tensor([-1.0, 4.0], requires_grad=True)
    x.clip(0.0).sqrt().sum().backward()
    assert x.grad.tolist() == [0.0, 0.25]


@pytest.mark.parametrize("op", ["relu", "max", "min"])
def test_value_forms_give_zero_too(op):
    winner, loser = Value(0.0), Value(-1.0 if op != "min" else 3.0)
    out = {"relu": lambda: loser.relu(), "max": lambda: Value.max(winner, loser),
           "min": lambda: Value.min(winner, loser)}[op]()
    out.sqrt().backward()  # d sqrt/dx at 0 is inf
    assert loser.grad == 0.0


@pytest.mark.parametrize("name", ["relu", "abs", "leaky_relu"])
def test_second_derivative_through_a_kink_is_zero_as_torch(name):
    x, tx = Tensor(X.copy(), requires_grad=True), torch.tensor(X.copy(), requires_grad=True)
    f = {"relu": lambda t: t.relu(), "abs": lambda t: t.abs(),
         "leaky_relu": lambda t: t.leaky_relu(0.1) if isinstance(t, Tensor) else torch.nn.functional.leaky_relu(t, 0.1)}
    (g1,) = grad(f[name](x).sum(), x, create_graph=True)
    (tg1,) = torch.autograd.grad(f[name](tx).sum(), tx, create_graph=True)
    (g2,) = grad(g1.sum(), x)
    (tg2,) = torch.autograd.grad(tg1.sum(), tx)
    np.testing.assert_array_equal(g1.numpy(), tg1.detach().numpy())
    np.testing.assert_array_equal(g2.numpy(), (tg2 + torch.zeros_like(tx)).detach().numpy())  # torch: a ZeroTensor


def test_the_command_line_reproducer_gives_zero_not_nan():
    done = subprocess.run([sys.executable, "-m", "autograd", "grad", "relu(y)**tanh(z)", "--at", "y=-0.5,z=1.9617"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "nan" not in done.stdout
    dy = next(line for line in done.stdout.splitlines() if line.startswith("d/dy"))
    assert float(dy.split()[-1]) == 0.0
