"""x @ W.T run either way round (autograd/ops/product_layout.py): the choice changes the speed, never a value."""

import numpy as np
import pytest

import autograd
from autograd import Tensor, capture
from autograd.ops import product_layout
from nn import functional as F


@pytest.fixture
def fresh_choices(monkeypatch):
    """An empty table of choices, so each test times (or forces) its own."""
    monkeypatch.setattr(product_layout, "_swap", {})
    return product_layout._swap


@pytest.mark.parametrize("rows, inner, columns", [(1, 784, 256), (8, 784, 256), (16, 300, 300), (64, 256, 784),
                                                  (300, 64, 64), (5, 7, 3)])
@pytest.mark.parametrize("swap", [False, True])
def test_both_ways_give_numpys_product_bit_for_bit(fresh_choices, rows, inner, columns, swap):
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, inner)).astype(np.float32)
    w = rng.standard_normal((columns, inner)).astype(np.float32)
    fresh_choices[(rows, inner, columns, "f")] = swap
    expected = x @ w.T
    got = product_layout.transposed_product(x, w.T, None)
    assert got.flags.c_contiguous and got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    out = np.full((rows, columns), np.nan, np.float32)
    assert product_layout.transposed_product(x, w.T, out) is out
    np.testing.assert_array_equal(out, expected)


def test_a_linear_layer_times_each_shape_once_and_gives_the_same_values(fresh_choices):
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((256, 784)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(256, np.float32), requires_grad=True)
    for rows in (8, 8, 512, 2):
        x = rng.standard_normal((rows, 784)).astype(np.float32)
        y = F.linear(Tensor(x), w, b)
        np.testing.assert_array_equal(y.numpy(), x @ w.numpy().T)
        y.sum().backward()
    assert sorted(fresh_choices) == [(2, 784, 256, "f"), (8, 784, 256, "f"), (512, 784, 256, "f")]
    assert fresh_choices[(512, 784, 256, "f")] is False  # too many rows: never timed
    assert fresh_choices[(2, 784, 256, "f")] is False  # too little work: never timed


def test_the_user_written_transpose_takes_the_same_path(fresh_choices):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((8, 300)), rng.standard_normal((300, 300))
    got = (Tensor(x) @ Tensor(w).T).numpy()
    np.testing.assert_array_equal(got, x @ w.T)
    assert (8, 300, 300, "d") in fresh_choices


def test_nothing_is_timed_while_a_step_is_recorded(fresh_choices, monkeypatch):
    monkeypatch.setattr(capture, "recording", object())  # stands for an active recording
    x = np.ones((8, 784), np.float32)
    w = np.ones((256, 784), np.float32)
    np.testing.assert_array_equal(product_layout.transposed_product(x, w.T, None), x @ w.T)
    assert fresh_choices == {}  # decided later, on an eager call


def test_a_compiled_step_replays_the_chosen_way(fresh_choices):
    rng = np.random.default_rng(2)
    w = Tensor(rng.standard_normal((256, 784)).astype(np.float32), requires_grad=True)
    x = Tensor(rng.standard_normal((8, 784)).astype(np.float32))

    def step(inputs):
        loss = F.linear(inputs, w).square().mean()
        w.grad = None
        loss.backward()
        return loss.item()

    eager = [step(x) for _ in range(3)]
    compiled = autograd.compile(step)
    assert [compiled(x) for _ in range(3)] == eager
