"""torch's module-level functions: values, dtypes and gradients against torch, errors, worked examples."""

import math

import numpy as np
import pytest

import autograd.toplevel as T
from autograd import Tensor
from autograd.factories import arange, tensor
from autograd.sampling import Generator, randn

torch = pytest.importorskip("torch")

UNARY = ["exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "sin", "cos"]


def _data(shape=(3, 4), seed=0, positive=False) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.abs(x) + 0.1 if positive else x


def _pair(*arrays):
    """Leaves on the same float64 values: ours and torch's, both requiring grad."""
    return ([Tensor(a.copy(), requires_grad=True) for a in arrays],
            [torch.tensor(a.copy(), requires_grad=True) for a in arrays])


def _same(ours, theirs) -> None:
    """Same dtype, shape and values (to float rounding)."""
    theirs = theirs.detach()
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-12)


def _same_grads(ours: list, theirs: list) -> None:
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(o.grad), t.grad.numpy(), rtol=1e-6, atol=1e-12)


def _backward_both(out, their_out) -> None:
    """Backward a weighted sum (weights not all equal, so every path is checked)."""
    weights = _data(their_out.shape, seed=7)
    (out * Tensor(weights)).sum().backward()
    (their_out * torch.tensor(weights)).sum().backward()


# --- joining and selecting --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cat", "concat", "concatenate", "stack"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack_values_and_gradients(name, dim):
    arrays = [_data((2, 3), seed=s) for s in range(3)]
    ours, theirs = _pair(*arrays)
    out, their_out = getattr(T, name)(ours, dim=dim), getattr(torch, name)(theirs, dim=dim)
    _same(out, their_out)
    _backward_both(out, their_out)
    _same_grads(ours, theirs)


def test_cat_promotes_dtypes_as_torch_and_takes_tuples():
    _same(T.cat((tensor([1]), tensor([1.5]))), torch.cat((torch.tensor([1]), torch.tensor([1.5]))))
    _same(T.stack([tensor([1, 2]), tensor([3, 4])], 1), torch.stack([torch.tensor([1, 2]), torch.tensor([3, 4])], 1))
    assert T.cat([[1.0, 2.0], tensor([3.0])]).numpy().tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
        T.cat([])
    with pytest.raises(ValueError, match="non-empty"):
        T.stack([])


WHERE_OPERANDS = [
    ("tensor f64", "tensor f64"), ("tensor f32", 0.0), (1.0, 0), (1, 0), ("tensor i64", 0.5), ("tensor i64", 2),
    ("tensor i64", "0d f64"), ("tensor f32", "0d f64"), ("tensor f32", "tensor f64"), (True, False), ("0d i64", 2.5),
]


def _operand(spec, module):
    if not isinstance(spec, str):
        return spec
    values = {"tensor f64": _data((2, 3), seed=1), "tensor f32": _data((2, 3), seed=2).astype(np.float32),
              "tensor i64": np.arange(6).reshape(2, 3), "0d f64": np.array(2.5), "0d i64": np.array(3)}[spec]
    return module.from_numpy(values.copy())


@pytest.mark.parametrize("a, b", WHERE_OPERANDS, ids=str)
def test_where_values_and_dtypes(a, b):
    mask = _data((2, 3), seed=3) > 0
    _same(T.where(T.from_numpy(mask.copy()), _operand(a, T), _operand(b, T)),
          torch.where(torch.from_numpy(mask.copy()), _operand(a, torch), _operand(b, torch)))


def test_where_gradients_and_its_one_argument_form():
    mask = _data((3, 4), seed=3) > 0
    ours, theirs = _pair(_data((3, 4)), _data((1, 4), seed=1))
    out, their_out = T.where(tensor(mask), *ours), torch.where(torch.tensor(mask), *theirs)
    _same(out, their_out)
    _backward_both(out, their_out)
    _same_grads(ours, theirs)
    for got, want in zip(T.where(tensor(mask)), torch.where(torch.tensor(mask))):
        _same(got, want)
    assert T.where(tensor([True, False]), [1.0, 2.0], [3.0, 4.0]).numpy().tolist() == [1.0, 4.0]
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor, but got a tensor "
                                           "with dtype Float"):
        T.where(tensor([1.0, 0.0]), 1.0, 2.0)


@pytest.mark.parametrize("a, b, kwargs", [
    ([1.0, 2.0], [1.0, 2.0 + 1e-6], {}), ([1.0, 2.0], [1.0, 2.1], {}), ([1.0, 2.0], [1.0, 2.1], dict(rtol=0.1)),
    ([0.0], [1e-9], {}), ([0.0], [1e-7], {}), ([0.0], [1e-7], dict(atol=1e-6)), ([math.nan], [math.nan], {}),
    ([math.nan], [math.nan], dict(equal_nan=True)), ([math.inf], [math.inf], {}), ([math.inf], [-math.inf], {}),
    ([[1.0, 1.0, 1.0]] * 2, [1.0, 1.0, 1.0], {}), ([1, 2], [1, 2], {}), ([1, 2], [1, 3], {}),
])
def test_allclose_matches_torch(a, b, kwargs):
    ours = T.allclose(tensor(a), tensor(b), **kwargs)
    assert type(ours) is bool and ours == torch.allclose(torch.tensor(a), torch.tensor(b), **kwargs)


def test_allclose_errors_as_torch():
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        T.allclose(tensor([1.0]), tensor(np.array([1.0])))
    with pytest.raises(RuntimeError, match="broadcast"):
        T.allclose(tensor([[1.0, 2.0, 3.0]]), tensor([1.0, 2.0]))


@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("data", [[1.0, 0.0], [[True, False], [True, True]], [[0, 0], [0, 3]], [], 0.0],
                         ids=repr)
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (-1, True)])
def test_all_and_any_match_torch(name, data, dim, keepdim):
    ndim = np.ndim(data)
    if dim is not None and ndim < (2 if dim == -1 and keepdim else 1):
        dim = None
    kwargs = {} if dim is None else dict(dim=dim, keepdim=keepdim)
    _same(getattr(T, name)(tensor(data), **kwargs), getattr(torch, name)(torch.tensor(data), **kwargs))
    u8 = np.array([1, 2, 0], np.uint8)
    _same(getattr(T, name)(tensor(u8)), getattr(torch, name)(torch.tensor(u8)))


# --- math with gradients ----------------------------------------------------------------------
@pytest.mark.parametrize("name", UNARY)
def test_unary_math_values_and_gradients(name):
    ours, theirs = _pair(_data(positive=name in ("log", "sqrt")))
    out, their_out = getattr(T, name)(ours[0]), getattr(torch, name)(theirs[0])
    _same(out, their_out)
    _backward_both(out, their_out)
    _same_grads(ours, theirs)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt"])
def test_unary_math_converts_lists_and_integer_tensors(name):
    _same(getattr(T, name)(tensor([1.0, 4.0])), getattr(torch, name)(torch.tensor([1.0, 4.0])))
    assert getattr(T, name)([1.0, 4.0]).dtype == np.float32
    if name not in ("relu", "abs"):  # int -> float32, as torch's exp of an int64 tensor
        _same(getattr(T, name)(tensor([1, 4])), getattr(torch, name)(torch.tensor([1, 4])))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_values_and_gradients(name, dim):
    ours, theirs = _pair(_data())
    out, their_out = getattr(T, name)(ours[0], dim), getattr(torch, name)(theirs[0], dim)
    _same(out, their_out)
    _backward_both(out, their_out)
    _same_grads(ours, theirs)
    _same(getattr(T, name)(ours[0], dim=dim, dtype=np.float32), getattr(torch, name)(theirs[0], dim, torch.float32))


def test_softmax_worked_example():
    np.testing.assert_allclose(T.softmax(tensor([0.0, math.log(3.0)]), 0).numpy(), [0.25, 0.75], rtol=1e-6)


REDUCTION_CASES = [(name, kwargs) for name in ("sum", "mean", "max", "min")
                   for kwargs in ({}, dict(dim=0), dict(dim=-1, keepdim=True), dict(dim=(0, 2)))
                   if not (name in ("max", "min") and isinstance(kwargs.get("dim"), tuple))]  # torch.max: one dim


@pytest.mark.parametrize("name, kwargs", REDUCTION_CASES, ids=str)
def test_reductions_values_and_gradients(name, kwargs):
    ours, theirs = _pair(_data((2, 3, 4)))
    if name in ("max", "min") and kwargs:
        values, indices = getattr(T, name)(ours[0], **kwargs)
        their_values, their_indices = getattr(torch, name)(theirs[0], **kwargs)
        _same(indices, their_indices)
        out, their_out = values, their_values
    else:
        out, their_out = getattr(T, name)(ours[0], **kwargs), getattr(torch, name)(theirs[0], **kwargs)
    _same(out, their_out)
    _backward_both(out, their_out)
    _same_grads(ours, theirs)


def test_max_and_min_named_fields_and_two_tensor_form():
    x = tensor([[1.0, 5.0], [7.0, 2.0]])
    result = T.max(x, 1)
    assert result.values.numpy().tolist() == [5.0, 7.0] and result.indices.numpy().tolist() == [1, 0]
    assert T.min(x, dim=0, keepdim=True).indices.numpy().tolist() == [[0, 1]]
    a, b = tensor([1.0, 5.0]), tensor([3.0, 2.0])
    assert T.max(a, b).numpy().tolist() == [3.0, 5.0] and T.min(a, b).numpy().tolist() == [1.0, 2.0]
    _same(T.max(tensor([1, 5])), torch.max(torch.tensor([1, 5])))


def test_sum_and_mean_dtypes_as_torch():
    for data in ([True, True], np.array([1, 2], np.int32), [1, 2]):
        _same(T.sum(tensor(data)), torch.sum(torch.tensor(data)))
    _same(T.sum(tensor([1, 2]), dtype=np.float64), torch.sum(torch.tensor([1, 2]), dtype=torch.float64))
    _same(T.mean(tensor([1, 2]), dtype=np.float64), torch.mean(torch.tensor([1, 2]), dtype=torch.float64))
    assert T.sum([[1.0, 2.0], [3.0, 4.0]], 0).numpy().tolist() == [4.0, 6.0]


@pytest.mark.parametrize("bounds", [dict(min=-0.5), dict(max=0.3), dict(min=-0.2, max=0.2)], ids=str)
def test_clamp_values_and_gradients(bounds):
    for name in ("clamp", "clip"):
        ours, theirs = _pair(_data())
        out, their_out = getattr(T, name)(ours[0], **bounds), getattr(torch, name)(theirs[0], **bounds)
        _same(out, their_out)
        _backward_both(out, their_out)
        _same_grads(ours, theirs)
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        T.clamp(tensor([1.0]))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_values_gradients_and_ties(name):
    a, b = _data((3, 4)), _data((3, 4), seed=1)
    b[0, :2] = a[0, :2]  # ties: torch splits the gradient in half
    ours, theirs = _pair(a, b)
    out, their_out = getattr(T, name)(*ours), getattr(torch, name)(*theirs)
    _same(out, their_out)
    _backward_both(out, their_out)
    _same_grads(ours, theirs)
    _same(getattr(T, name)(tensor([1]), tensor([1.5])), getattr(torch, name)(torch.tensor([1]), torch.tensor([1.5])))


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 5))], ids=str)
def test_matmul_values_and_gradients(shapes):
    ours, theirs = _pair(*(_data(s, seed=i) for i, s in enumerate(shapes)))
    out, their_out = T.matmul(*ours), torch.matmul(*theirs)
    _same(out, their_out)
    _backward_both(out, their_out)
    _same_grads(ours, theirs)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, dict(keepdim=True), dict(dim=0), dict(dim=1, keepdim=True)], ids=str)
@pytest.mark.parametrize("data", [[[1.0, 3.0], [3.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [[1.0, math.nan], [2.0, 5.0]]],
                         ids=["plain", "ties", "nan"])
def test_argmax_argmin_match_torch(name, kwargs, data):
    _same(getattr(T, name)(tensor(data), **kwargs), getattr(torch, name)(torch.tensor(data), **kwargs))


# --- facts, conversions, shape ----------------------------------------------------------------
def test_numel_is_tensor_is_floating_point():
    x = tensor(np.zeros((2, 3, 4)))
    assert T.numel(x) == 24 and T.numel(tensor(1.0)) == 1 and T.numel([[1, 2]]) == 2
    assert T.is_tensor(x) and not T.is_tensor(np.zeros(2)) and not T.is_tensor([1.0])
    assert T.is_floating_point(x) and not T.is_floating_point(tensor([1]))


def test_from_numpy_shares_memory_and_keeps_dtype():
    for array in (np.arange(4.0), np.arange(4, dtype=np.int32), np.array([True, False])):
        t = T.from_numpy(array)
        _same(t, torch.from_numpy(array.copy()))
        array[0] = 1
        assert t.numpy()[0] == 1 and np.shares_memory(t.numpy(), array)
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got list\)"):
        T.from_numpy([1, 2])
    with pytest.raises(TypeError, match="can't convert np.ndarray"):
        T.from_numpy(np.array(["a"]))


@pytest.mark.parametrize("call", [
    lambda M, x: M.reshape(x, (4, -1)), lambda M, x: M.flatten(x), lambda M, x: M.flatten(x, 1),
    lambda M, x: M.unsqueeze(x, 1), lambda M, x: M.squeeze(M.unsqueeze(x, 0)), lambda M, x: M.squeeze(x[:1], 0),
    lambda M, x: M.transpose(x, 0, 2), lambda M, x: M.permute(x, (2, 0, 1)),
], ids=["reshape", "flatten", "flatten-1", "unsqueeze", "squeeze", "squeeze-dim", "transpose", "permute"])
def test_shape_functions_values_and_gradients(call):
    ours, theirs = _pair(_data((2, 3, 4)))
    out, their_out = call(T, ours[0]), call(torch, theirs[0])
    _same(out, their_out)
    _backward_both(out, their_out)
    _same_grads(ours, theirs)


def test_bigram_step_worked_example_matches_torch():
    """makemore's bigram step: one-hot rows times a weight matrix, softmax, negative log likelihood."""
    W = randn((5, 5), generator=Generator().manual_seed(2147483647), requires_grad=True)
    xs, ys = tensor([0, 1, 2, 3]), tensor([1, 2, 3, 4])
    tW = torch.tensor(W.numpy().copy(), requires_grad=True)

    def step(M, weights, xs, ys, one_hot):
        logits = one_hot @ weights
        counts = M.exp(logits)
        probs = counts / M.sum(counts, 1, keepdim=True)
        return -M.log(probs[M.arange(4) if M is torch else arange(4), ys]).mean()

    loss = step(T, W, xs, ys, tensor(np.eye(5, dtype=np.float32)[xs.numpy()]))
    their_loss = step(torch, tW, torch.tensor(xs.numpy()), torch.tensor(ys.numpy()),
                      torch.eye(5)[torch.tensor(xs.numpy())])
    loss.backward()
    their_loss.backward()
    assert loss.dtype == np.float32 and abs(loss.item() - their_loss.item()) < 1e-6
    np.testing.assert_allclose(np.asarray(W.grad), tW.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("kwargs", [{}, {"bins": 7}, {"bins": 5, "range": (-1.0, 1.0)}, {"density": True},
                                    {"bins": 4, "weight": "w"}], ids=["default", "bins", "range", "density", "weight"])
def test_histogram_matches_torch(kwargs):
    x = np.random.default_rng(3).standard_normal(500).astype(np.float32)
    w = np.random.default_rng(4).random(500).astype(np.float32)
    ours = dict(kwargs, weight=tensor(w)) if kwargs.get("weight") else kwargs
    theirs = dict(kwargs, weight=torch.tensor(w)) if kwargs.get("weight") else kwargs
    hist, edges = T.histogram(tensor(x), **ours)
    their = torch.histogram(torch.tensor(x), **theirs)
    np.testing.assert_allclose(hist.numpy(), their.hist.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(edges.numpy(), their.bin_edges.numpy(), rtol=1e-6, atol=1e-6)
    assert hist.dtype == edges.dtype == np.float32


def test_histogram_refuses_integer_input():
    with pytest.raises(RuntimeError, match="histogram: input dtype must be floating point, got Long"):
        T.histogram(tensor([1, 2, 3]))
