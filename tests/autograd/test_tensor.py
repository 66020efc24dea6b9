"""Tensor: construction and dtype rules, attributes, factories, gradient flow, broadcasting, memory."""

import gc
import itertools
import operator
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import autograd
from autograd import Tensor, gradcheck, no_grad

SHAPES = [(), (4,), (3, 4), (1, 4), (2, 1, 4)]
BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
          "pow": operator.pow}


def _away_from_zero(rng, shape):
    """Values in +-[0.5, 1.5]: safe denominators."""
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


# --- construction and dtype rules ---------------------------------------------------------
@pytest.mark.parametrize("data", [[1, 2, 3], [1.0, 2.0], 3, 2.5, [[1, 2], [3, 4]], True])
def test_lists_and_python_numbers_become_float32(data):
    t = Tensor(data)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float32))


def test_ndarrays_keep_their_dtype():
    assert Tensor(np.array([1.0, 2.0])).dtype == np.float64
    assert Tensor(np.float64(2.0)).dtype == np.float64
    assert Tensor(np.array([1, 2], dtype=np.int64)).dtype == np.int64
    assert Tensor(np.array([1.0], dtype=np.float32)).dtype == np.float32
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64


def test_integer_tensors_cannot_require_grad():
    Tensor(np.array([1, 2]))  # allowed as data
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.array([1, 2]), requires_grad=True)


@pytest.mark.parametrize("bad", ["abc", None, [[1, 2], [3]], {"a": 1}, np.array(["x"]), [1, "a"]])
def test_non_numeric_data_raises_type_error(bad):
    with pytest.raises(TypeError, match="numeric"):
        Tensor(bad)


def test_attributes():
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True, label="x")
    assert isinstance(x.numpy(), np.ndarray)
    assert x.grad is None
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == np.float32 and x.numel() == 6
    assert x.requires_grad and x.label == "x" and x.op == "" and x.parents == ()
    np.testing.assert_array_equal(x.T.data, [[1, 4], [2, 5], [3, 6]])
    assert x.T.shape == (3, 2)


def test_item_numpy_detach():
    assert Tensor([[2.5]]).item() == 2.5
    assert isinstance(Tensor(3).item(), float)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        Tensor([1.0, 2.0]).item()
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.numpy() is x.data.numpy()
    y = (x * 2).detach()
    assert not y.requires_grad and y.parents == () and y.op == ""
    np.testing.assert_array_equal(y.data, [2.0, 4.0])


def test_factories():
    z, o = autograd.zeros((2, 3)), autograd.ones(4)
    assert z.shape == (2, 3) and z.dtype == np.float32 and not z.numpy().any()
    assert o.shape == (4,) and (o.numpy() == 1).all()
    assert not z.requires_grad and autograd.zeros(2, requires_grad=True).requires_grad
    a = autograd.randn(3, 4, generator=autograd.Generator().manual_seed(7))
    b = autograd.randn((3, 4), generator=autograd.Generator().manual_seed(7))
    assert a.shape == (3, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = autograd.randn(3, 4, generator=autograd.Generator().manual_seed(8))
    assert not np.array_equal(a.numpy(), c.numpy())
    r = autograd.arange(5, dtype=np.float32)
    assert r.dtype == np.float32
    np.testing.assert_array_equal(r.numpy(), [0, 1, 2, 3, 4])


# --- gradient flow ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("const", [2, 2.0, np.float64(2.0), np.float32(2.0), np.array([2.0, 2.0]),
                                   [2.0, 2.0], Tensor([2.0, 2.0])])
def test_constants_on_either_side_give_tensors_that_require_grad(name, const):
    f = BINARY[name]
    x = Tensor(np.array([1.5, 3.0]), requires_grad=True)
    if isinstance(const, list):
        right, left = f(x, const), f(Tensor(const), x)
    else:
        right, left = f(x, const), f(const, x)
    for y in (right, left):
        assert isinstance(y, Tensor) and y.requires_grad and y.op != ""
    a = np.array([1.5, 3.0])
    np.testing.assert_allclose(right.data, f(a, 2.0), rtol=1e-6)
    np.testing.assert_allclose(left.data, f(2.0, a), rtol=1e-6)
    right.sum().backward()
    expected = {"add": [1, 1], "sub": [1, 1], "mul": [2, 2], "div": [0.5, 0.5], "pow": 2 * a}[name]
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6)


def test_operations_on_constants_record_nothing():
    y = Tensor([1.0]) * 3 + Tensor([2.0])
    assert not y.requires_grad and y.parents == () and y.op == ""


def test_no_grad_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (x * 2).exp().sum()
    assert not y.requires_grad and y.parents == () and y.op == ""
    z = x * 2
    assert z.requires_grad and z.parents[0] is x


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match=r"shape \(2,\), not a scalar; pass gradient="):
        y.backward()
    y.backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])


def test_gradient_of_the_wrong_shape_raises():
    y = Tensor([1.0, 2.0], requires_grad=True) * 3
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        y.backward(gradient=np.ones(3))


def test_gradients_accumulate_over_two_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 11.0])


def test_second_backward_without_retain_graph_names_the_fix():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        y.backward()


def test_a_plus_a_keeps_both_edges():
    a = Tensor([3.0], requires_grad=True)
    b = a + a
    c = b + b
    c.backward(gradient=np.ones(1, dtype=np.float32))
    np.testing.assert_array_equal(a.grad, [4.0])


def test_deep_chain_has_no_recursion_limit():
    x = Tensor([0.5], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0])


# --- broadcasting -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shape_a, shape_b", list(itertools.product(SHAPES, SHAPES)))
def test_binary_ops_broadcast_gradcheck(name, shape_a, shape_b):
    rng = np.random.default_rng(len(shape_a) * 10 + len(shape_b))
    a = Tensor(_away_from_zero(rng, shape_a), requires_grad=True)
    if name == "pow":
        a = Tensor(np.abs(a.numpy()), requires_grad=True)  # a positive base
    b = Tensor(_away_from_zero(rng, shape_b), requires_grad=True)
    assert gradcheck(BINARY[name], a, b)
    out = BINARY[name](a, b)
    out.backward(gradient=np.ones(out.shape))
    assert a.grad.shape == shape_a and b.grad.shape == shape_b


@pytest.mark.parametrize("name", BINARY)
def test_broadcasting_mismatch_names_op_and_shapes(name):
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        BINARY[name](a, b)


def test_gradient_dtype_equals_data_dtype():
    x32 = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    x64 = Tensor(np.array([[3.0], [4.0]]), requires_grad=True)
    y = x32 * np.float64(2.0) + x64 * x32 + np.array([1.0, 1.0])
    y.sum().backward()
    assert x32.grad.dtype == np.float32 and x32.grad.shape == (2,)
    assert x64.grad.dtype == np.float64 and x64.grad.shape == (2, 1)
    np.testing.assert_array_equal(x32.grad, [2 * 2 + 7, 2 * 2 + 7])
    np.testing.assert_array_equal(x64.grad, [[3.0], [3.0]])
    z = Tensor([1.0, 2.0], requires_grad=True)
    (z.sum() * 3).backward()
    assert z.grad.dtype == np.float32


@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       name=st.sampled_from(["add", "sub", "mul", "div"]),
       dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_broadcast_gradients_have_each_inputs_shape_and_dtype(shapes, name, dtype, seed):
    shape_a, shape_b = shapes.input_shapes
    rng = np.random.default_rng(seed)
    a = Tensor(_away_from_zero(rng, shape_a).astype(dtype), requires_grad=True)
    b = Tensor(_away_from_zero(rng, shape_b).astype(dtype), requires_grad=True)
    out = BINARY[name](a, b)
    assert out.shape == shapes.result_shape
    out.backward(gradient=np.ones(out.shape, dtype=dtype))
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    assert a.grad.dtype == dtype and b.grad.dtype == dtype
    assert gradcheck(BINARY[name], a, b)


# --- memory -----------------------------------------------------------------------------------
def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_training_steps_release_their_graphs():
    rng = np.random.default_rng(0)
    w1 = Tensor(rng.standard_normal((8, 16)) * 0.3, requires_grad=True)
    b1 = Tensor(np.zeros(16), requires_grad=True)
    w2 = Tensor(rng.standard_normal((16, 1)) * 0.3, requires_grad=True)
    x, y = Tensor(rng.standard_normal((32, 8))), Tensor(rng.standard_normal((32, 1)))

    def step():
        hidden = (x @ w1 + b1).tanh()
        loss = ((hidden @ w2 - y) ** 2).mean()
        loss.backward()
        for p in (w1, b1, w2):
            p.data -= 0.01 * p.grad
            p.grad = None
        return loss.item()

    first = step()
    for _ in range(50):
        step()
    gc.collect()
    gc.disable()  # graphs must be freed by reference counting alone: no cycles
    try:
        before = _rss_bytes()
        for _ in range(1000):
            last = step()
        grown = _rss_bytes() - before
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert grown < 4 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB over 1000 steps"
    assert unreachable == 0, f"{unreachable} objects were only collectable as cycles"
    assert last < first
