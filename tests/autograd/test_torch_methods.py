"""torch.Tensor's method vocabulary: dim/keepdim aliases, var/std, max(dim), argmax, view/split/chunk,
new elementwise functions, bool and integer results, indexing with ranges, lists and int64 tensors."""

import numpy as np
import pytest

from autograd import Tensor, grad, gradcheck, gradgradcheck

RTOL, ATOL = 1e-5, 1e-6  # float32


def _x(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def leaf(*shape, seed=0):
    return Tensor(_x(*shape, seed=seed, dtype=np.float64), requires_grad=True)


def _pieces(out):
    """An op's result as a list of tensors: a tuple of pieces or a (values, indices) pair keeps its items."""
    return list(out) if isinstance(out, tuple) else [out]


def parity(ours, theirs, *arrays, seed=1):
    """Run ``ours`` on Tensors and ``theirs`` on torch tensors of the same float32 arrays: the values,
    dtypes and shapes of every output match, and so do the inputs' .grad after a weighted backward."""
    torch = pytest.importorskip("torch")
    xs = [Tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    outs, touts = _pieces(ours(*xs)), _pieces(theirs(*ts))
    assert len(outs) == len(touts)
    rng = np.random.default_rng(seed)
    loss, tloss = 0, 0
    for o, t in zip(outs, touts):
        expected = t.detach().numpy()
        assert o.shape == tuple(t.shape) and o.dtype == expected.dtype, (o.shape, o.dtype, t.shape, t.dtype)
        np.testing.assert_allclose(o.numpy(), expected, rtol=RTOL, atol=ATOL)
        if o.requires_grad:
            w = rng.standard_normal(o.shape).astype(np.float32)
            loss, tloss = loss + (o * Tensor(w)).sum(), tloss + (t * torch.from_numpy(w)).sum()
    if not isinstance(loss, int):
        loss.backward()
        tloss.backward()
        for x, t in zip(xs, ts):
            if t.grad is not None:
                np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=ATOL)
    return outs


# --- 1. dim= / keepdim= beside axis= / keepdims=: one resolver, both given is an error -------------------------------
REDUCERS = ["sum", "mean", "amax", "amin", "var", "std", "logsumexp", "argmax", "argmin", "all", "any"]


@pytest.mark.parametrize("op", REDUCERS)
def test_dim_and_keepdim_are_axis_and_keepdims(op):
    x = Tensor(_x(2, 3, 4))
    a = getattr(x, op)(axis=1, keepdims=True)
    b = getattr(x, op)(dim=1, keepdim=True)
    c = getattr(x, op)(1, keepdim=True)
    assert a.shape == b.shape == c.shape == (2, 1, 4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    with pytest.raises(TypeError, match=f"^{op}: got axis= and dim=, which are aliases; pass only one of axis=, dim=$"):
        getattr(x, op)(axis=0, dim=0)
    with pytest.raises(TypeError, match=f"^{op}: got keepdims= and keepdim=, which are aliases"):
        getattr(x, op)(0, keepdims=True, keepdim=True)


@pytest.mark.parametrize("op", ["max", "min", "softmax", "log_softmax"])
def test_dim_alias_of_max_min_softmax(op):
    x = Tensor(_x(3, 4))
    a, b = getattr(x, op)(axis=1), getattr(x, op)(dim=1)
    for p, q in zip(_pieces(a), _pieces(b)):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    with pytest.raises(TypeError, match=f"^{op}: got axis= and dim=, which are aliases"):
        getattr(x, op)(axis=1, dim=1)


@pytest.mark.parametrize("call, op", [
    (lambda x: Tensor.concatenate([x, x], axis=0, dim=0), "concatenate"),
    (lambda x: Tensor.stack([x, x], axis=0, dim=0), "stack"),
    (lambda x: x.split(1, axis=0, dim=0), "split"),
    (lambda x: x.chunk(2, axis=0, dim=0), "chunk"),
    (lambda x: x.tensor_split(2, axis=0, dim=0), "tensor_split"),
    (lambda x: x.squeeze(axis=0, dim=0), "squeeze"),
    (lambda x: x.unsqueeze(axis=0, dim=0), "unsqueeze"),
])
def test_shape_ops_refuse_both_aliases(call, op):
    with pytest.raises(TypeError, match=f"^{op}: got axis= and dim=, which are aliases"):
        call(Tensor(np.zeros((2, 3))))


def test_flatten_refuses_both_aliases_and_max_dim_takes_keepdim_aliases():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match="^flatten: got start_axis= and start_dim="):
        x.flatten(0, start_dim=0)
    with pytest.raises(TypeError, match="^flatten: got end_axis= and end_dim="):
        x.flatten(end_axis=1, end_dim=1)
    assert x.flatten(start_dim=0, end_dim=1).shape == x.flatten(0, 1).shape == (6,)
    assert x.max(1, keepdims=True).values.shape == x.max(dim=1, keepdim=True).values.shape == (2, 1)
    with pytest.raises(TypeError, match="^max: got keepdims= and keepdim="):
        x.max(1, keepdims=True, keepdim=True)


def test_dim_keyword_parity_with_torch():
    data = _x(2, 3, 4, seed=2)
    parity(lambda x: x.sum(dim=(0, 2), keepdim=True) + x.mean(dim=-1, keepdim=True).sum(dim=0, keepdim=True),
           lambda t: t.sum(dim=(0, 2), keepdim=True) + t.mean(dim=-1, keepdim=True).sum(dim=0, keepdim=True), data)
    parity(lambda x: x.logsumexp(dim=1) * x.amax(dim=1), lambda t: t.logsumexp(dim=1) * t.amax(dim=1), data)
    parity(lambda x: x.softmax(dim=0) + x.log_softmax(dim=2), lambda t: t.softmax(dim=0) + t.log_softmax(dim=2), data)
    parity(lambda x: Tensor.concatenate([x, x * 2], dim=1).flatten(start_dim=1),
           lambda t: __import__("torch").cat([t, t * 2], dim=1).flatten(start_dim=1), data)
    parity(lambda x: x.unsqueeze(dim=1).squeeze(dim=1), lambda t: t.unsqueeze(dim=1).squeeze(dim=1), data)


# --- 2. var / std: unbiased by default (correction=1), with correction= / unbiased= / ddof= --------------------------
def test_var_std_worked_example():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)  # mean 2.5, squares of deviations add up to 5
    assert x.var().item() == pytest.approx(5 / 3)
    assert x.std().item() == pytest.approx((5 / 3) ** 0.5)
    for kwargs in ({"correction": 0}, {"unbiased": False}, {"ddof": 0}):
        assert x.var(**kwargs).item() == pytest.approx(1.25)
        assert x.std(**kwargs).item() == pytest.approx(1.25 ** 0.5)
    assert x.var(correction=2).item() == pytest.approx(2.5)
    assert x.var(False).item() == pytest.approx(1.25)  # torch's var(unbiased)
    rows = Tensor([[1.0, 2.0], [3.0, 7.0]])
    assert rows.var(1, False).tolist() == [0.25, 4.0]  # torch's var(dim, unbiased)
    assert rows.var(1, True, True).shape == (2, 1)
    x.var().backward()  # 2 (x - mean) / (n - 1)
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, -1 / 3, 1 / 3, 1.0], rtol=1e-6)


def test_std_gradient_is_zero_where_std_is_zero_as_torch():
    x = Tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], requires_grad=True)
    s = x.std(1)
    assert s.tolist() == [0.0, 1.0]
    s.sum().backward()  # (x - mean) / ((n - 1) std) on row 1; 0, not nan, on row 0
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5]]
    data = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], np.float32)
    parity(lambda x: x.std(1), lambda t: t.std(1), data)


@pytest.mark.parametrize("kwargs", [{"correction": 1, "unbiased": True}, {"correction": 1, "ddof": 1},
                                    {"unbiased": True, "ddof": 1}])
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_refuse_two_corrections(op, kwargs):
    names = " and ".join(f"{k}=" for k in kwargs)
    with pytest.raises(TypeError, match=f"^{op}: got {names}, which are aliases; pass only one of correction=, "
                                        "unbiased=, ddof=$"):
        getattr(Tensor([1.0, 2.0]), op)(**kwargs)


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_of_integers_raise_as_torch(op):
    with pytest.raises(RuntimeError, match=f"^{op}\\(\\): std and var only support floating point and complex "
                                           "dtypes, got Long$"):
        getattr(Tensor(np.arange(3)), op)()


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("dim, keepdim, correction", [(None, False, 1), (1, False, 1), ((0, 2), True, 0),
                                                      (-1, True, 2), (0, False, 0.5)])
def test_var_std_parity_with_torch(op, dim, keepdim, correction):
    data = _x(3, 4, 5, seed=3)
    parity(lambda x: getattr(x, op)(dim=dim, keepdim=keepdim, correction=correction),
           lambda t: getattr(t, op)(dim=dim, keepdim=keepdim, correction=correction), data)
    if correction == 1:  # the default
        parity(lambda x: getattr(x, op)(dim), lambda t: getattr(t, op)(dim), data)


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_gradcheck_and_second_order(op):
    for kwargs in ({}, {"axis": 1}, {"dim": (0, 1), "keepdim": True}, {"axis": 0, "correction": 0}):
        assert gradcheck(lambda t, kw=kwargs: getattr(t, op)(**kw), leaf(3, 4, seed=4))
        assert gradgradcheck(lambda t, kw=kwargs: getattr(t, op)(**kw), leaf(3, 4, seed=4))


# --- 3. max(dim) / min(dim): (values, indices); argmax / argmin ---------------------------------------------------
def test_max_min_with_dim_worked_example():
    x = Tensor([[1.0, 5.0, 5.0], [2.0, 0.0, 3.0]], requires_grad=True)
    v, i = x.max(1)
    assert v.tolist() == [5.0, 3.0] and i.tolist() == [1, 2] and i.dtype == np.int64
    result = x.min(dim=1, keepdim=True)
    assert result.values.tolist() == [[1.0], [0.0]] and result.indices.tolist() == [[0], [1]]
    assert result.indices.dtype == np.int64 and not result.indices.requires_grad
    (v * Tensor([10.0, 20.0])).sum().backward()  # all of it to the first maximum, as torch
    assert x.grad.tolist() == [[0.0, 10.0, 0.0], [0.0, 0.0, 20.0]]
    x.grad = None
    x.max().backward()  # without dim: the full reduction, ties share the gradient
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False), (2, True)])
def test_max_min_dim_parity_with_torch_including_ties(op, dim, keepdim):
    data = np.round(_x(3, 4, 5, seed=5), 0)  # many ties
    outs = parity(lambda x: getattr(x, op)(dim, keepdim), lambda t: getattr(t, op)(dim, keepdim), data)
    assert [o.dtype for o in outs] == [np.float32, np.int64]
    parity(lambda x: getattr(x, op)(), lambda t: getattr(t, op)(), data)
    parity(lambda x: getattr(x, "a" + op)(dim=(0, dim % 3) if dim % 3 else 0, keepdim=keepdim),
           lambda t: getattr(t, "a" + op)(dim=(0, dim % 3) if dim % 3 else 0, keepdim=keepdim), data)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim_gradcheck_and_second_order(op):
    x = leaf(3, 4, seed=6)
    assert gradcheck(lambda t: getattr(t, op)(1).values, x)
    assert gradcheck(lambda t: getattr(t, op)(dim=0, keepdim=True)[0] ** 2, x)
    assert gradgradcheck(lambda t: getattr(t, op)(1).values ** 3, x)


def test_max_min_errors_and_other_tensor():
    x = Tensor([[1.0, 4.0], [3.0, 2.0]])
    with pytest.raises(TypeError, match=r"^max: dim must be a single int .*use amax\(dim=\(0, 1\)\)$"):
        x.max(dim=(0, 1))
    with pytest.raises(ValueError, match="^min: axis 2 is out of range for a tensor with 2 dimensions$"):
        x.min(2)
    with pytest.raises(ValueError, match="max: cannot reduce over an empty axis"):
        Tensor(np.zeros((2, 0))).max(1)
    assert x.max(Tensor([[2.0, 2.0], [2.0, 2.0]])).tolist() == [[2.0, 4.0], [3.0, 2.0]]  # torch: maximum
    assert x.min(Tensor(2.5)).tolist() == [[1.0, 2.5], [2.5, 2.0]]


def test_argmax_argmin():
    x = Tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 0.0]], requires_grad=True)
    assert x.argmax().item() == 3 and x.argmax().dtype == np.int64 and x.argmax().shape == ()
    assert x.argmax(1).tolist() == [1, 0] and x.argmin(dim=1).tolist() == [0, 1]
    assert x.argmin(0, keepdim=True).tolist() == [[0, 1, 1]]
    assert not x.argmax(1).requires_grad
    with pytest.raises(ValueError, match="argmax: attempt to get argmax of an empty sequence"):
        Tensor(np.zeros((2, 0))).argmax(1)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (-1, True)])
def test_argmax_argmin_parity_with_torch(op, dim, keepdim):
    parity(lambda x: getattr(x, op)(dim=dim, keepdim=keepdim), lambda t: getattr(t, op)(dim=dim, keepdim=keepdim),
           np.round(_x(4, 5, seed=7), 0))


# --- 4. view, reshape varargs, split / chunk / tensor_split, transpose(dim0, dim1) ----------------------------------
def test_view_and_reshape_forms():
    x = Tensor(np.arange(6.0), requires_grad=True)
    assert x.view(2, 3).shape == x.view((2, 3)).shape == x.view(-1, 3).shape == x.reshape(2, -1).shape == (2, 3)
    assert x.view(-1).shape == (6,) and x.view(2, 3).op == "view"
    (x.view(3, 2) * Tensor([1.0, 10.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 10.0, 1.0, 10.0, 1.0, 10.0]
    with pytest.raises(ValueError, match=r"^view: cannot reshape a tensor of shape \(6,\) \(6 elements\) into "
                                         r"shape \(4, 2\)$"):
        x.view(4, 2)
    assert gradcheck(lambda t: t.view(2, -1).T.reshape(3, 2) ** 2, leaf(6))
    emb = Tensor(_x(32, 3, 2))
    assert emb.view(-1, 6).shape == emb.view(emb.shape[0], 6).shape == (32, 6)  # makemore's emb.view(-1, 30)


def test_split_chunk_tensor_split_worked_examples():
    x = Tensor(np.arange(5.0), requires_grad=True)
    assert [p.tolist() for p in x.split(2)] == [[0, 1], [2, 3], [4]]  # an int is the chunk size
    assert [p.tolist() for p in x.split([1, 4])] == [[0], [1, 2, 3, 4]]  # a list is the sizes
    assert [p.tolist() for p in x.split(7)] == [[0, 1, 2, 3, 4]]
    assert [p.tolist() for p in x.chunk(2)] == [[0, 1, 2], [3, 4]]
    assert [len(p) for p in Tensor(np.zeros(6)).chunk(4)] == [2, 2, 2]  # ceil(6/4) = 2: three chunks
    assert [p.tolist() for p in x.tensor_split(3)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in Tensor(np.arange(7.0)).tensor_split(3)] == [[0, 1, 2], [3, 4], [5, 6]]
    assert [p.tolist() for p in x.tensor_split([1, 3])] == [[0], [1, 2], [3, 4]]
    assert isinstance(x.split(2), tuple) and isinstance(x.chunk(2), tuple)
    a, b, c = x.split(2)
    (a.sum() + 10 * c.sum()).backward()
    assert x.grad.tolist() == [1, 1, 0, 0, 10]


@pytest.mark.parametrize("call, error, pattern", [
    (lambda x: x.split([1, 2]), ValueError, r"^split: sizes \[1, 2\] must be non-negative and add up to 5"),
    (lambda x: x.split([6, -1]), ValueError, r"^split: sizes \[6, -1\] must be non-negative"),
    (lambda x: x.split(0), ValueError, r"^split: split_size must be positive"),
    (lambda x: x.split(-1), ValueError, r"^split: split_size must be positive"),
    (lambda x: x.split(2, dim=1), ValueError, r"^split: axis 1 is out of range for a tensor with 1 dimensions"),
    (lambda x: x.chunk(0), ValueError, r"^chunk: chunks must be positive, got 0"),
    (lambda x: x.tensor_split(0), ValueError, r"^tensor_split: the number of sections must be positive, got 0"),
])
def test_split_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(Tensor(np.arange(5.0)))


@pytest.mark.parametrize("name, ours, theirs", [
    ("split size", lambda x: x.split(2, 1), lambda t: t.split(2, 1)),
    ("split sizes", lambda x: x.split([1, 3, 1], dim=1), lambda t: t.split([1, 3, 1], dim=1)),
    ("split rows", lambda x: x.split(4), lambda t: t.split(4)),
    ("chunk", lambda x: x.chunk(3, dim=1), lambda t: t.chunk(3, dim=1)),
    ("chunk fewer", lambda x: x.chunk(4, 1), lambda t: t.chunk(4, 1)),
    ("chunk more than n", lambda x: x.chunk(9), lambda t: t.chunk(9)),
    ("tensor_split sections", lambda x: x.tensor_split(3, dim=1), lambda t: t.tensor_split(3, dim=1)),
    ("tensor_split indices", lambda x: x.tensor_split([1, 4, 2, -1], 1), lambda t: t.tensor_split([1, 4, 2, -1], 1)),
    ("transpose two dims", lambda x: x.transpose(0, 1), lambda t: t.transpose(0, 1)),
    ("view", lambda x: x.view(-1, 2, 5).view(6, 5), lambda t: t.view(-1, 2, 5).view(6, 5)),
])
def test_split_chunk_view_parity_with_torch(name, ours, theirs):
    parity(ours, theirs, _x(6, 5, seed=8))


def test_split_chunk_tensor_split_gradcheck_and_tensor_arguments():
    x = leaf(4, 5, seed=9)

    def weighted(pieces):
        return Tensor.concatenate([p.flatten() * (i + 1) for i, p in enumerate(pieces)])

    assert gradcheck(lambda t: weighted(t.split(2, dim=1)), x)
    assert gradcheck(lambda t: weighted(t.split([3, 1])), x)
    assert gradcheck(lambda t: weighted(t.chunk(3, 1)), x)
    assert gradcheck(lambda t: weighted(t.tensor_split([1, 3], dim=1)), x)
    assert gradgradcheck(lambda t: weighted(t.split(2, dim=1)) ** 2, x)
    sections = [p.shape for p in x.tensor_split(Tensor(np.array(2)), dim=1)]
    assert sections == [(4, 3), (4, 2)]
    assert [p.shape for p in x.tensor_split(Tensor(np.array([1])), dim=1)] == [(4, 1), (4, 4)]


def test_transpose_two_dims_swaps_as_torch():
    x = leaf(2, 3, 4)
    assert x.transpose(1, 2).shape == (2, 4, 3) and x.transpose(-1, 0).shape == (4, 3, 2)
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)  # NumPy's full permutation still works
    assert Tensor(np.zeros((2, 3))).transpose(0, 1).shape == (3, 2)
    assert gradcheck(lambda t: t.transpose(0, 2) ** 2, x)
    assert gradgradcheck(lambda t: t.transpose(1, 0) ** 3, leaf(2, 3))


# --- 5. elementwise: sin cos tan log10 log2 exp2 rsqrt square, pow ---------------------------------------------------
UNARY = {  # name: (domain shift, derivative)
    "sin": (0.0, np.cos),
    "cos": (0.0, lambda x: -np.sin(x)),
    "tan": (0.0, lambda x: 1 / np.cos(x) ** 2),
    "log10": (3.0, lambda x: 1 / (x * np.log(10))),
    "log2": (3.0, lambda x: 1 / (x * np.log(2))),
    "exp2": (0.0, lambda x: np.exp2(x) * np.log(2)),
    "rsqrt": (3.0, lambda x: -0.5 * x ** -1.5),
    "square": (0.0, lambda x: 2 * x),
}


def test_unary_worked_values():
    x = Tensor(np.array([0.0, np.pi / 2, np.pi]))
    np.testing.assert_allclose(x.sin().numpy(), [0, 1, 0], atol=1e-15)
    np.testing.assert_allclose(x.cos().numpy(), [1, 0, -1], atol=1e-15)
    np.testing.assert_allclose(Tensor([0.0, np.pi / 4]).tan().numpy(), [0, 1], rtol=1e-6)
    assert Tensor([1.0, 100.0, 0.001]).log10().tolist() == pytest.approx([0, 2, -3])
    assert Tensor([1.0, 8.0, 0.5]).log2().tolist() == [0, 3, -1]
    assert Tensor([0.0, 3.0, -1.0]).exp2().tolist() == [1, 8, 0.5]
    assert Tensor([4.0, 0.25]).rsqrt().tolist() == [0.5, 2.0]
    assert Tensor([-3.0, 2.0]).square().tolist() == [9, 4]
    ints = Tensor(np.array([1, 4]))
    assert ints.square().dtype == np.int64 and ints.sin().dtype == np.float32 and ints.rsqrt().tolist() == [1, 0.5]
    x = Tensor([0.5, 2.0], requires_grad=True)
    x.log2().sum().backward()  # 1 / (x ln 2)
    np.testing.assert_allclose(x.grad.numpy(), [2 / np.log(2), 0.5 / np.log(2)], rtol=1e-6)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_gradient_gradcheck_and_second_order(name):
    shift, derivative = UNARY[name]
    data = np.random.default_rng(10).uniform(-1.2, 1.2, (3, 4)) + shift
    x = Tensor(data, requires_grad=True)
    getattr(x, name)().backward(gradient=np.ones((3, 4)))
    np.testing.assert_allclose(x.grad.numpy(), derivative(data), rtol=1e-12)
    assert gradcheck(lambda t: getattr(t, name)(), Tensor(data, requires_grad=True))
    assert gradgradcheck(lambda t: getattr(t, name)(), Tensor(data, requires_grad=True))


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_parity_with_torch(name):
    shift = UNARY[name][0]
    data = (np.random.default_rng(11).uniform(-1.2, 1.2, (3, 4)) + shift).astype(np.float32)
    parity(lambda x: getattr(x, name)(), lambda t: getattr(t, name)(), data)


def test_pow_forms_agree_and_match_torch():
    torch = pytest.importorskip("torch")
    data = np.abs(_x(3, 4, seed=12)) + 0.5
    x = Tensor(data)
    np.testing.assert_array_equal(x.pow(2).numpy(), (x ** 2).numpy())
    np.testing.assert_array_equal(x.pow(0.5).numpy(), (x ** 0.5).numpy())
    assert (x ** np.float64(2.0)).dtype == np.float32  # a NumPy scalar exponent is weak, as torch's
    assert (Tensor(np.array([1, 4])) ** 0.5).dtype == np.float32 and Tensor(np.array([1, 4])).pow(2).dtype == np.int64
    parity(lambda x: x.pow(2) + x ** 3 + x.pow(-0.5), lambda t: t.pow(2) + t ** 3 + t.pow(-0.5), data)
    parity(lambda x: 2 ** x + 3.0 ** x, lambda t: 2 ** t + 3.0 ** t, data)
    e = Tensor([1.0, 3.0], requires_grad=True)
    y = 2 ** e  # __rpow__; d/de = 2**e ln 2
    assert y.tolist() == [2.0, 8.0]
    y.sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), [2 * np.log(2), 8 * np.log(2)], rtol=1e-6)
    parity(lambda x, y: x ** y + x.pow(y), lambda t, u: t ** u + t.pow(u), data, data[::-1].copy())
    assert gradcheck(lambda t: 2 ** t + t.pow(3), leaf(3, 4))
    assert torch is not None


# --- 6. comparisons, bool and integer results, all / any, mean of integers -----------------------------------------
def test_comparisons_and_bool_sums_worked_example():
    t = Tensor([1.0, 3.0, -2.0, 3.0])
    assert (t == 3).tolist() == [False, True, False, True] and (t == 3).dtype == np.bool_
    assert t.eq(3).tolist() == (t == 3).tolist() and (t != 3).tolist() == [True, False, True, False]
    assert (t > 0).float().tolist() == [1.0, 1.0, 0.0, 1.0] and (t > 0).float().dtype == np.float32
    assert (t == Tensor([1.0, 3.0, -2.0, 3.0])).all().item() is True
    assert (t == 3).sum().item() == 2 and (t == 3).sum().dtype == np.int64
    assert (t > 0).any(dim=0).item() is True and (t > 5).any().item() is False
    assert Tensor(np.array([1, 2], np.int32)).sum().dtype == np.int64
    assert Tensor(np.array([200, 100], np.uint8)).sum().item() == 300
    assert t.sum(dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_bool_reductions_parity_with_torch(dtype):
    torch = pytest.importorskip("torch")
    data = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    x, t = Tensor(data), torch.from_numpy(data.copy())
    for ours, theirs in [(x.sum(), t.sum()), (x.sum(1, keepdim=True), t.sum(1, keepdim=True)),
                         (x.all(), t.all()), (x.any(dim=1), t.any(dim=1)), (x.all(0, True), t.all(0, True)),
                         *([] if dtype == np.bool_ else [(x.argmax(1), t.argmax(1))])]:
        assert ours.dtype == theirs.numpy().dtype and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError) as theirs:
        t.mean()
    with pytest.raises(RuntimeError) as ours:
        x.mean()
    assert str(ours.value) == str(theirs.value)  # "mean(): could not infer output dtype. ... Got: Long"
    if dtype == np.bool_:
        with pytest.raises(RuntimeError, match=r"^argmax\(\): does not support bool input$"):
            x.argmax()
    assert x.mean(dtype=np.float32).item() == pytest.approx(float(data.astype(np.float32).mean()))


def test_all_any_with_dim_on_floats():
    x = Tensor([[0.0, 1.0, 2.0], [3.0, 4.0, np.nan]])
    assert x.all().item() is False and x.any().item() is True
    assert x.all(dim=1).tolist() == [False, True] and x.any(0).tolist() == [True, True, True]
    assert x.all(dim=(0, 1), keepdim=True).shape == (1, 1)
    assert x.all(1).dtype == np.bool_


# --- 7. indexing with ranges, lists and int64 tensors (embedding lookups) ------------------------------------------
def test_embedding_lookup_with_an_int64_tensor():
    C = Tensor(np.arange(54.0).reshape(27, 2), requires_grad=True)
    X = Tensor(np.array([[0, 0, 5], [5, 26, 0]], np.int64))
    emb = C[X]
    assert emb.shape == (2, 3, 2) and emb[1, 1].tolist() == [52.0, 53.0]
    emb.backward(gradient=np.ones((2, 3, 2)))
    grad_rows = C.grad.numpy().sum(1) / 2  # how often each row was looked up: 0 three times, 5 twice, 26 once
    assert grad_rows[0] == 3 and grad_rows[5] == 2 and grad_rows[26] == 1 and grad_rows.sum() == 6


def test_embedding_and_range_index_parity_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    X = rng.integers(0, 27, (50, 3))
    parity(lambda C: C[Tensor(X)].view(-1, 6), lambda C: C[torch.from_numpy(X)].view(-1, 6), _x(27, 2, seed=14))
    Y = rng.integers(0, 27, 50)
    parity(lambda p: p[range(50), Tensor(Y)], lambda p: p[range(50), torch.from_numpy(Y)], _x(50, 27, seed=15))
    parity(lambda p: p[list(range(0, 50, 7)), [3] * 8], lambda p: p[list(range(0, 50, 7)), [3] * 8], _x(50, 27))
    parity(lambda p: p[range(49, -1, -3)], lambda p: p[range(49, -1, -3)], _x(50, 27))
    parity(lambda p: p[Tensor(X.astype(np.int32))], lambda p: p[torch.from_numpy(X.astype(np.int32))], _x(27, 2))


def test_tensor_index_gradcheck_and_second_order():
    X = Tensor(np.array([[1, 1, 3], [0, 3, 3]], np.int64))
    assert gradcheck(lambda C: C[X] ** 2, leaf(4, 2))
    assert gradcheck(lambda p: p[range(2), X[:, 0]] * 3, leaf(2, 4))
    assert gradgradcheck(lambda C: C[X] ** 3, leaf(4, 2))
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = grad((x[range(0, 3, 2)] ** 2).sum(), x, create_graph=True)
    assert g.tolist() == [2.0, 0.0, 6.0]
