"""Shape ops: reshape, permutations, broadcasting, squeeze, pad, joining, split, where and indexing."""

import numpy as np
import pytest

from autograd import Tensor, grad, gradcheck, no_grad


def leaf(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def second_order_matches(fn, x, seed=1, eps=1e-6):
    """Check d/dx <u, dL/dx> along v for L = sum(w * fn(x)**2), against central differences."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(np.shape(fn(Tensor(x.data)).data))
    u, v = rng.standard_normal(x.shape), rng.standard_normal(x.shape)

    def first(data, create_graph):
        t = Tensor(data, requires_grad=True)
        y = fn(t)
        (g,) = grad((y * y * w).sum(), t, create_graph=create_graph)
        return t, g

    t, g = first(x.data, True)
    (g * u).sum().backward()
    analytic = float((t.grad * v).sum())
    plus = float((first(x.data + eps * v, False)[1].data * u).sum())
    minus = float((first(x.data - eps * v, False)[1].data * u).sum())
    assert analytic == pytest.approx((plus - minus) / (2 * eps), rel=1e-5, abs=1e-7)


# --- gradients against central differences ----------------------------------------------------
CASES = {
    "reshape -1": (lambda x: x.reshape(4, -1), (2, 3, 4)),
    "reshape tuple": (lambda x: x.reshape((2, 3)), (6,)),
    "reshape 0-d to (1, 1)": (lambda x: x.reshape(1, 1), ()),
    "reshape (1,) to 0-d": (lambda x: x.reshape(()), (1,)),
    "transpose reversed": (lambda x: x.transpose(), (2, 3, 4)),
    "transpose axes": (lambda x: x.transpose(1, 2, 0), (2, 3, 4)),
    "transpose tuple, negative": (lambda x: x.transpose((-1, 0, 1)), (2, 3, 4)),
    "transpose 0-d": (lambda x: x.transpose(), ()),
    "T": (lambda x: x.T, (3, 4)),
    "T 1-D": (lambda x: x.T, (3,)),
    "permute": (lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    "swapaxes": (lambda x: x.swapaxes(0, -1), (2, 3, 4)),
    "flatten": (lambda x: x.flatten(), (2, 3, 4)),
    "flatten from 1": (lambda x: x.flatten(1), (2, 3, 4)),
    "flatten start_dim end_dim": (lambda x: x.flatten(start_dim=0, end_dim=-2), (2, 3, 4)),
    "flatten 0-d": (lambda x: x.flatten(), ()),
    "broadcast_to leading": (lambda x: x.broadcast_to((2, 3)), (3,)),
    "broadcast_to size-1": (lambda x: x.broadcast_to(3, 2, 4), (1, 4)),
    "broadcast_to from 0-d": (lambda x: x.broadcast_to((2, 3)), ()),
    "expand -1": (lambda x: x.expand(2, -1, 4), (3, 1)),
    "unsqueeze 0": (lambda x: x.unsqueeze(0), (3, 4)),
    "unsqueeze -1": (lambda x: x.unsqueeze(-1), (3, 4)),
    "unsqueeze 0-d": (lambda x: x.unsqueeze(0), ()),
    "squeeze all": (lambda x: x.squeeze(), (1, 3, 1, 4)),
    "squeeze one": (lambda x: x.squeeze(-2), (1, 3, 1, 4)),
    "squeeze tuple": (lambda x: x.squeeze((0, 2)), (1, 3, 1, 4)),
    "squeeze dim": (lambda x: x.squeeze(dim=0), (1, 3)),
    "pad int": (lambda x: x.pad(1), (2, 3)),
    "pad pair": (lambda x: x.pad((1, 2), value=5.0), (2, 3)),
    "pad per axis": (lambda x: x.pad(((0, 0), (2, 1), (0, 3))), (2, 3, 2)),
    "getitem int": (lambda x: x[1], (3, 4)),
    "getitem negative int": (lambda x: x[-1, -2], (3, 4)),
    "getitem slices": (lambda x: x[1:, ::2], (3, 4)),
    "getitem negative step": (lambda x: x[::-1, 3:0:-2], (3, 4)),
    "getitem None Ellipsis": (lambda x: x[None, ..., 1], (2, 3, 4)),
    "getitem bool mask": (lambda x: x[x.data > 0], (3, 4)),
    "getitem row mask": (lambda x: x[np.array([True, False, True])], (3, 4)),
    "getitem repeated ints": (lambda x: x[[2, 0, 2, 2]], (3, 4)),
    "getitem int arrays": (lambda x: x[np.array([0, 2, 2]), np.array([1, 1, 3])], (3, 4)),
    "getitem array and slice": (lambda x: x[:, [3, 3, 0]], (3, 4)),
    "getitem 2-D int array": (lambda x: x[np.array([[0, 1], [1, 1]])], (3, 4)),
    "getitem tensor index": (lambda x: x[Tensor(np.array([1, 1, 0]))], (3, 4)),
    "split sections": (lambda x: Tensor.concatenate([p * (i + 1) for i, p in enumerate(x.split(2, axis=1))], 1),
                       (3, 4)),
    "split indices": (lambda x: Tensor.stack([p.sum() * (i + 1) for i, p in enumerate(x.split([1, 3]))]), (4, 2)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck(name):
    fn, shape = CASES[name]
    assert gradcheck(fn, leaf(*shape))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_gradcheck(axis):
    a, b, c = leaf(2, 3, seed=1), leaf(2, 3, seed=2), Tensor(np.ones((2, 3)))
    assert gradcheck(lambda a, b: Tensor.concatenate([a, c, b], axis=axis), a, b)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack_gradcheck(axis):
    a, b = leaf(2, 3, seed=1), leaf(2, 3, seed=2)
    assert gradcheck(lambda a, b: Tensor.stack([a, b, a], axis=axis), a, b)


def test_stack_of_scalars_gradcheck():
    a, b = leaf(seed=1), leaf(seed=2)
    assert gradcheck(lambda a, b: Tensor.stack([a, b]), a, b)


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), ()), ((4,), (3, 1), (1, 4))])
def test_where_gradcheck(shapes):
    cond_shape, a_shape, b_shape = shapes
    cond = np.random.default_rng(5).random(cond_shape) > 0.5
    assert gradcheck(lambda a, b: Tensor.where(cond, a, b), leaf(*a_shape, seed=1), leaf(*b_shape, seed=2))


# --- exact values -----------------------------------------------------------------------------
def test_repeated_indices_accumulate():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[[0, 0, 1]]
    assert y.data.tolist() == [1.0, 1.0, 2.0]
    y.backward(gradient=np.ones(3))
    assert x.grad.tolist() == [2.0, 1.0, 0.0]
    assert x.grad.dtype == np.float32


def test_repeated_index_pairs_accumulate():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    x[[0, 1, 0, 0], [2, 0, 2, 2]].backward(gradient=np.array([1.0, 10.0, 100.0, 1000.0]))
    assert x.grad.tolist() == [[0, 0, 1101], [10, 0, 0]]


def test_boolean_mask_gradient():
    x = Tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    y = x[x > 0]  # a bool Tensor as the index
    assert y.data.tolist() == [1.0, 4.0]
    y.backward(gradient=np.array([10.0, 20.0]))
    assert x.grad.tolist() == [[10, 0], [0, 20]]


def test_slice_gradient_and_int_index():
    x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x[1:, 2]
    assert y.data.tolist() == [6.0, 10.0]
    y.backward(gradient=np.array([1.0, 2.0]))
    assert x.grad.tolist() == [[0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 2, 0]]


def test_scalar_element_is_a_0d_tensor():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x[1, 2]
    assert isinstance(y, Tensor) and y.shape == () and y.item() == 5.0
    y.backward()
    assert x.grad[1, 2] == 1.0 and x.grad.sum() == 1.0


def test_iterating_rows():
    x = Tensor(np.arange(6.0).reshape(3, 2))
    assert [row.data.tolist() for row in x] == [[0, 1], [2, 3], [4, 5]]


def test_broadcast_to_sums_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.broadcast_to((4, 3)).backward(gradient=np.arange(12.0).reshape(4, 3))
    assert x.grad.tolist() == [18.0, 22.0, 26.0]


def test_where_routes_gradient_exactly():
    cond = np.array([True, False, True])
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = Tensor.where(cond, a, b)
    assert y.data.tolist() == [1.0, 20.0, 3.0]
    y.backward(gradient=np.array([5.0, 6.0, 7.0]))
    assert a.grad.tolist() == [5.0, 0.0, 7.0] and b.grad.tolist() == [0.0, 6.0, 0.0]


def test_where_with_numbers_and_masked_inf_gradient_is_not_nan():
    a = Tensor([1.0, -1.0], requires_grad=True)
    y = Tensor.where(a > 0, a, 0.0)
    assert y.data.tolist() == [1.0, 0.0] and y.dtype == np.float32
    y.backward(gradient=np.array([np.inf, np.inf]))
    assert a.grad.tolist() == [np.inf, 0.0]  # the masked-out inf is a 0, never inf * 0 = nan
    b = Tensor([1.0, -1.0], requires_grad=True)
    Tensor.where(b.data < 0, 2.0, b).backward(gradient=np.array([3.0, np.inf]))
    assert b.grad.tolist() == [3.0, 0.0]


def test_pad_values_and_gradient():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    y = x.pad(((1, 0), (0, 2)), value=-1)
    assert y.data.tolist() == [[-1, -1, -1, -1], [1, 2, -1, -1]]
    y.backward(gradient=np.arange(8.0).reshape(2, 4))
    assert x.grad.tolist() == [[4.0, 5.0]]


def test_split_pieces_and_gradients():
    x = Tensor(np.arange(10.0), requires_grad=True)
    pieces = x.split([2, 3, 5])  # torch's split: the sizes of the pieces
    assert [p.data.tolist() for p in pieces] == [[0, 1], [2, 3, 4], [5, 6, 7, 8, 9]]
    Tensor.concatenate([pieces[0] * 1, pieces[2] * 3]).backward(gradient=np.ones(7))
    assert x.grad.tolist() == [1, 1, 0, 0, 0, 3, 3, 3, 3, 3]
    assert [p.shape for p in Tensor(np.zeros((2, 6))).split(2, axis=-1)] == [(2, 2)] * 3


def test_concatenate_and_stack_values_and_constants():
    a = Tensor([[1.0, 2.0]], requires_grad=True)
    y = Tensor.concatenate([a, [[3.0, 4.0]]], axis=0)
    assert y.data.tolist() == [[1, 2], [3, 4]] and y.dtype == np.float32
    s = Tensor.stack([a, a * 2], axis=-1)
    assert s.shape == (1, 2, 2) and s.data.tolist() == [[[1, 2], [2, 4]]]
    s.backward(gradient=np.ones((1, 2, 2)))
    assert a.grad.tolist() == [[3.0, 3.0]]


def test_movement_values():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert np.array_equal(x.transpose().data, x.data.T)
    assert np.array_equal(x.T.data, x.data.T)
    assert np.array_equal(x.permute(1, 0, 2).data, x.data.transpose(1, 0, 2))
    assert np.array_equal(x.swapaxes(0, 2).data, np.swapaxes(x.data, 0, 2))
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12) and x.flatten(0, 1).shape == (6, 4)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert Tensor(np.zeros((1, 3, 1))).squeeze().shape == (3,)
    assert Tensor(np.zeros((1, 3, 1))).squeeze(1).shape == (1, 3, 1)  # as torch: a non-1 axis is kept
    assert x.expand(5, -1, -1, -1).shape == (5, 2, 3, 4)
    assert Tensor(3.0).flatten().shape == (1,)


def test_float32_stays_float32():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = Tensor.concatenate([x.reshape(3, 2).T.pad(1)[1:-1, [1, 1]].flatten(), x[0]])
    assert y.dtype == np.float32
    y.backward(gradient=np.ones(y.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32 and x.grad.sum() == 7.0


def test_no_graph_without_requires_grad_or_in_no_grad():
    x = Tensor(np.ones((2, 3)))
    assert x.reshape(3, 2).op == "" and not x[0].requires_grad
    with no_grad():
        y = leaf(2, 3)[[0, 0]].T
    assert not y.requires_grad and y.parents == ()


# --- second order: each closure also records a graph under create_graph=True ------------------
@pytest.mark.parametrize("name", ["reshape -1", "transpose axes", "T", "permute", "swapaxes", "flatten from 1",
                                  "broadcast_to size-1", "expand -1", "unsqueeze -1", "squeeze all",
                                  "pad pair", "getitem slices", "getitem bool mask", "getitem repeated ints",
                                  "getitem int arrays", "split sections"])
def test_second_order(name):
    fn, shape = CASES[name]
    second_order_matches(fn, leaf(*shape))


def test_second_order_join_and_where():
    cond = np.array([[True, False, True]])
    second_order_matches(lambda x: Tensor.concatenate([x, x[:1] * 2], axis=0), leaf(2, 3))
    second_order_matches(lambda x: Tensor.stack([x, x.T.T * 3], axis=1), leaf(2, 3))
    second_order_matches(lambda x: Tensor.where(cond, x, x[::-1] * 2), leaf(2, 3))


def test_gradient_of_repeated_index_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[[0, 0, 1]]
    (g,) = grad((y * y).sum(), x, create_graph=True)  # g = [4 x0, 2 x1, 0]
    assert g.data.tolist() == [4.0, 4.0, 0.0]
    (g * Tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [4.0, 20.0, 0.0]


# --- errors -----------------------------------------------------------------------------------
def test_reshape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) .*shape \(4, 2\)"):
        Tensor(np.zeros((2, 3))).reshape(4, 2)


@pytest.mark.parametrize("call, pattern", [
    (lambda x: x.transpose(0, 1, 3), r"transpose: axis 3 is out of range for a tensor with 3 dimensions"),
    (lambda x: x.transpose((1, 2)), r"transpose: axes \(1, 2\) must list all 3 axes.*swapaxes\(1, 2\)"),
    (lambda x: x.permute(0, 0, 1), r"permute: axes \(0, 0, 1\) repeat an axis"),
    (lambda x: x.swapaxes(0, -4), r"swapaxes: axis -4 is out of range for a tensor with 3 dimensions"),
    (lambda x: x.unsqueeze(4), r"unsqueeze: axis 4 is out of range for a tensor with 4 dimensions"),
    (lambda x: x.squeeze(3), r"squeeze: axis 3 is out of range for a tensor with 3 dimensions"),
    (lambda x: x.flatten(5), r"flatten: axis 5 is out of range for a tensor with 3 dimensions"),
    (lambda x: x.flatten(2, 1), r"flatten: start axis 2 comes after end axis 1"),
    (lambda x: x.split([1, 1], axis=1),
     r"split: sizes \[1, 1\] must be non-negative and add up to 3, the length of axis 1"),
    (lambda x: x.split(1, axis=3), r"split: axis 3 is out of range for a tensor with 3 dimensions"),
    (lambda x: Tensor.stack([x, x], axis=4), r"stack: axis 4 is out of range for a tensor with 4 dimensions"),
])
def test_axis_errors_name_axis_and_ndim(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(Tensor(np.zeros((2, 3, 4))))


def test_bad_axis_is_also_an_index_error_like_numpy():
    with pytest.raises(IndexError):
        Tensor(np.zeros((2, 3))).swapaxes(0, 2)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda x: x.broadcast_to((3, 3)), ValueError, r"broadcast_to: cannot broadcast a tensor of shape \(2, 3\) "
                                                   r"to shape \(3, 3\)"),
    (lambda x: x.pad(-1), ValueError, r"pad: pad_width must be non-negative ints"),
    (lambda x: x.pad(((1, 1), (1, 1), (1, 1))), ValueError, r"pad: pad_width .*shape \(2, 3\)"),
    (lambda x: Tensor.concatenate([x, x.T]), ValueError, r"concatenate: cannot join tensors of shapes "
                                                         r"\[\(2, 3\), \(3, 2\)\] along axis 0"),
    (lambda x: Tensor.stack([x, x[0]]), ValueError, r"stack: cannot join tensors of shapes"),
    (lambda x: Tensor.concatenate([]), ValueError, r"concatenate: needs at least one tensor"),
    (lambda x: Tensor.where(np.ones(4, bool), x, 0.0), ValueError, r"where: shapes \(4,\), \(2, 3\) and \(\) "
                                                                   r"cannot be broadcast"),
    (lambda x: x[2], IndexError, r"getitem: index 2 is out of bounds .*shape \(2, 3\)"),
    (lambda x: x[[0, 5]], IndexError, r"getitem: .*out of bounds"),
    (lambda x: x[np.array([0.5])], IndexError, r"getitem: index arrays must hold integers or booleans"),
])
def test_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(Tensor(np.zeros((2, 3)), requires_grad=True))


# --- parity with PyTorch ----------------------------------------------------------------------
torch = pytest.importorskip("torch")

PARITY = {
    "reshape": ((2, 3, 4), lambda x: x.reshape(4, -1), lambda t: t.reshape(4, -1)),
    "permute": ((2, 3, 4), lambda x: x.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
    "transpose": ((3, 4), lambda x: x.T, lambda t: t.T),
    "swapaxes": ((2, 3, 4), lambda x: x.swapaxes(0, 2), lambda t: t.transpose(0, 2)),
    "flatten": ((2, 3, 4, 5), lambda x: x.flatten(1, 2), lambda t: t.flatten(1, 2)),
    "expand": ((3, 1), lambda x: x.expand(2, 3, 4), lambda t: t.expand(2, 3, 4)),
    "unsqueeze": ((2, 3), lambda x: x.unsqueeze(-2), lambda t: t.unsqueeze(-2)),
    "squeeze": ((1, 3, 1, 4), lambda x: x.squeeze(), lambda t: t.squeeze()),
    "squeeze dim": ((1, 3, 1, 4), lambda x: x.squeeze(2), lambda t: t.squeeze(2)),
    "pad": ((2, 3, 4), lambda x: x.pad(((0, 0), (1, 2), (3, 0)), value=0.5),
            lambda t: torch.nn.functional.pad(t, (3, 0, 1, 2), value=0.5)),
    "getitem slices": ((4, 5), lambda x: x[1:, ::2], lambda t: t[1:, ::2]),
    "getitem None/Ellipsis": ((2, 3, 4), lambda x: x[..., None, 1], lambda t: t[..., None, 1]),
    "getitem ints": ((5, 3), lambda x: x[[4, 0, 4, 4, 1]], lambda t: t[[4, 0, 4, 4, 1]]),
    "getitem pairs": ((5, 3), lambda x: x[[0, 1, 1], [2, 2, 2]], lambda t: t[[0, 1, 1], [2, 2, 2]]),
    "getitem mask": ((4, 5), lambda x: x[x.data > 0.2], lambda t: t[t > 0.2]),
}


def assert_parity(ours_fn, torch_fn, *arrays, seed=3):
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, t = ours_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(y.data, t.detach().numpy(), rtol=1e-6, atol=1e-12)
    seed_grad = np.random.default_rng(seed).standard_normal(t.shape)
    y.backward(gradient=seed_grad)
    t.backward(torch.from_numpy(seed_grad))
    for o, th in zip(ours, theirs):
        np.testing.assert_allclose(o.grad, th.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", list(PARITY))
def test_torch_parity(name):
    shape, ours_fn, torch_fn = PARITY[name]
    assert_parity(ours_fn, torch_fn, np.random.default_rng(7).standard_normal(shape))


def test_torch_parity_join_split_where():
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert_parity(lambda a, b: Tensor.concatenate([a, b, a], axis=1), lambda a, b: torch.cat([a, b, a], dim=1), a, b)
    assert_parity(lambda a, b: Tensor.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], dim=1), a, b)
    cond = rng.random((2, 3)) > 0.5
    assert_parity(lambda a, b: Tensor.where(cond, a, b), lambda a, b: torch.where(torch.from_numpy(cond), a, b), a, b)
    x = rng.standard_normal((7, 2))
    assert_parity(lambda x: Tensor.concatenate([p * (i + 1) for i, p in enumerate(x.split([2, 1, 4]))]),
                  lambda x: torch.cat([p * (i + 1) for i, p in enumerate(torch.split(x, [2, 1, 4]))]), x)
