"""Elementwise Tensor ops: gradients (gradcheck), kinks, ties, domains, comparisons, torch parity."""

import warnings

import numpy as np
import pytest

from autograd import Tensor, grad, gradcheck

UNARY = {
    "exp": lambda t: t.exp(),
    "log": lambda t: t.log(),
    "sqrt": lambda t: t.sqrt(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
    "leaky_relu": lambda t: t.leaky_relu(),
    "leaky_relu_0.2": lambda t: t.leaky_relu(0.2),
    "elu": lambda t: t.elu(),
    "elu_0.5": lambda t: t.elu(alpha=0.5),
    "abs": lambda t: t.abs(),
    "clip": lambda t: t.clip(-0.5, 0.7),
    "clip_lo": lambda t: t.clip(lo=-0.5),
    "clip_hi": lambda t: t.clip(hi=0.7),
    "neg": lambda t: -t,
    "astype": lambda t: t.astype(np.float32) * 1.0,
}
POSITIVE_ONLY = {"log", "sqrt"}


def _inputs(name, shape=(3, 4), seed=0):
    """Random float64 inputs kept 0.05 away from the op's kinks and inside its domain."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.05, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if name in POSITIVE_ONLY:
        x = np.abs(x)
    if name.startswith("clip"):
        x = np.where(np.abs(x + 0.5) < 0.05, x + 0.1, x)
        x = np.where(np.abs(x - 0.7) < 0.05, x + 0.1, x)
    return x


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
def test_unary_gradcheck(name, shape):
    x = Tensor(_inputs(name, shape), requires_grad=True)
    tolerance = {"eps": 1e-2, "atol": 1e-4} if name == "astype" else {}  # float32 rounding
    assert gradcheck(UNARY[name], x, **tolerance)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (2, 3)), ((2, 1, 4), (1, 4))])
def test_maximum_minimum_gradcheck(op, shape_a, shape_b):
    rng = np.random.default_rng(1)
    a = Tensor(rng.standard_normal(shape_a), requires_grad=True)
    b = Tensor(rng.standard_normal(shape_b), requires_grad=True)
    assert gradcheck(lambda a, b: getattr(a, op)(b), a, b)


def _grad_of(fn, values, **kwargs):
    x = Tensor(np.array(values, dtype=np.float64), requires_grad=True)
    fn(x, **kwargs).sum().backward()
    return x.grad


AT_KINKS = [-1.0, 0.0, 1.0, 2.0, 3.0]


def test_gradients_at_kinks_follow_pytorch():
    assert _grad_of(Tensor.relu, AT_KINKS).tolist() == [0, 0, 1, 1, 1]
    assert _grad_of(Tensor.abs, AT_KINKS).tolist() == [-1, 0, 1, 1, 1]
    assert _grad_of(Tensor.leaky_relu, AT_KINKS, alpha=0.1).tolist() == [0.1, 0.1, 1, 1, 1]
    elu = _grad_of(Tensor.elu, AT_KINKS, alpha=0.5)
    np.testing.assert_allclose(elu, [0.5 * np.exp(-1), 0.5, 1, 1, 1], rtol=1e-15)
    assert _grad_of(Tensor.clip, AT_KINKS, lo=0.0, hi=2.0).tolist() == [0, 1, 1, 1, 0]  # bounds inclusive
    assert _grad_of(Tensor.clip, AT_KINKS, lo=1.0).tolist() == [0, 0, 1, 1, 1]
    assert _grad_of(Tensor.clip, AT_KINKS, hi=1.0).tolist() == [1, 1, 1, 0, 0]
    assert _grad_of(Tensor.clamp, AT_KINKS, min=0.0, max=2.0).tolist() == [0, 1, 1, 1, 0]


def test_clip_values_and_reversed_bounds():
    x = Tensor(np.array(AT_KINKS), requires_grad=True)
    assert x.clip(0.0, 2.0).data.tolist() == [0, 0, 1, 2, 2]
    y = x.clip(2.0, 1.0)  # as NumPy and torch: everything becomes hi, and no gradient passes
    assert y.data.tolist() == [1, 1, 1, 1, 1]
    y.sum().backward()
    assert x.grad.tolist() == [0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="clip"):
        x.clip()
    with pytest.raises(TypeError, match="maximum/minimum"):
        x.clip(Tensor(0.0, requires_grad=True), 1.0)


def test_maximum_minimum_split_ties_evenly_like_torch():
    a = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    b = Tensor(np.array(2.0), requires_grad=True)
    a.maximum(b).sum().backward()
    assert a.grad.tolist() == [[0, 1, 1], [0.5, 0.5, 0.5]]
    assert b.grad.tolist() == 1 + 0.5 * 3
    a.grad, b.grad = None, None
    a.minimum(b).sum().backward()
    assert a.grad.tolist() == [[1, 0, 0], [0.5, 0.5, 0.5]]
    assert b.grad.tolist() == 2 + 0.5 * 3
    c = Tensor([1.0, 5.0], requires_grad=True)
    d = c.maximum(2.0)  # a constant other
    assert d.data.tolist() == [2.0, 5.0]
    d.sum().backward()
    assert c.grad.tolist() == [0, 1]


def test_no_warnings_and_pytorch_values_outside_domains_and_ranges():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor(np.array([-1.0, 0.0, 4.0]), requires_grad=True)
        log, sqrt = x.log(), x.sqrt()
        assert np.isnan(log.numpy()[0]) and log.numpy()[1] == -np.inf and log.numpy()[2] == np.log(4.0)
        assert np.isnan(sqrt.numpy()[0]) and sqrt.numpy()[1:].tolist() == [0.0, 2.0]
        log.sum().backward()
        assert x.grad.tolist() == [-1.0, np.inf, 0.25]
        x.grad = None
        sqrt.sum().backward()
        assert np.isnan(x.grad.numpy()[0]) and x.grad[1:].tolist() == [np.inf, 0.25]
        big = Tensor(np.array([-1000.0, 1000.0]), requires_grad=True)
        assert big.exp().numpy().tolist() == [0.0, np.inf]
        s = big.sigmoid()
        assert s.numpy().tolist() == [0.0, 1.0]
        s.sum().backward()
        assert big.grad.tolist() == [0.0, 0.0]
        assert big.tanh().numpy().tolist() == [-1.0, 1.0]
        assert big.elu().numpy().tolist() == [-1.0, 1000.0]
        x32 = Tensor(np.array([-100.0, 100.0], dtype=np.float32))
        s32 = x32.sigmoid()
        assert s32.dtype == np.float32 and 0 <= s32.numpy()[0] < 1e-40 and s32.numpy()[1] == 1.0


def test_float32_stays_float32_and_integers_become_float32():
    x = Tensor([0.5, 1.5], requires_grad=True)
    for name, fn in UNARY.items():
        assert fn(x).dtype == np.float32, name
    ints = Tensor(np.array([1, 2]))
    for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "elu", "leaky_relu"):
        assert UNARY[name](ints).dtype == np.float32, name


def test_astype_casts_the_gradient_back():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 4.0]
    i = x.astype(np.int64)
    assert i.dtype == np.int64 and not i.requires_grad and i.parents == ()


def test_second_derivatives_through_create_graph():
    x = Tensor(np.array([-0.7, 0.3, 1.2]), requires_grad=True)
    checks = {  # f, f''
        "exp": (lambda t: t.exp(), np.exp),
        "tanh": (lambda t: t.tanh(), lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
        "sigmoid": (lambda t: t.sigmoid(),
                    lambda v: (s := 1 / (1 + np.exp(-v))) * (1 - s) * (1 - 2 * s)),
        "log": (lambda t: (t + 2).log(), lambda v: -1 / (v + 2) ** 2),
        "sqrt": (lambda t: (t + 2).sqrt(), lambda v: -0.25 * (v + 2) ** -1.5),
        "elu": (lambda t: t.elu(0.5), lambda v: np.where(v > 0, 0.0, 0.5 * np.exp(v))),
    }
    for name, (f, second) in checks.items():
        (g,) = grad(f(x).sum(), x, create_graph=True)
        (gg,) = grad(g.sum(), x)
        np.testing.assert_allclose(gg.numpy(), second(x.numpy()), rtol=1e-12, err_msg=name)


# --- comparisons --------------------------------------------------------------------------------
def test_comparisons_are_elementwise_bool_tensors_without_gradient():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    results = {"<": x < 2, "<=": x <= 2, ">": x > 2, ">=": x >= 2, "==": x == 2, "!=": x != 2}
    expected = {"<": [1, 0, 0], "<=": [1, 1, 0], ">": [0, 0, 1], ">=": [0, 1, 1],
                "==": [0, 1, 0], "!=": [1, 0, 1]}
    for op, result in results.items():
        assert isinstance(result, Tensor) and result.dtype == bool, op
        assert not result.requires_grad and result.parents == (), op
        assert result.data.tolist() == [bool(v) for v in expected[op]], op
    assert (2 < x).data.tolist() == [False, False, True]  # reflected
    assert (np.float64(2.0) >= x).data.tolist() == [True, True, False]
    assert (np.array([3.0, 2.0, 1.0]) == x).data.tolist() == [False, True, False]
    assert (x.lt(Tensor([2.0, 2.0, 4.0]))).data.tolist() == [True, False, True]
    with pytest.raises(ValueError, match=r"lt: shapes \(3,\) and \(2,\) cannot be broadcast"):
        _ = x < Tensor([1.0, 2.0])


def test_tensors_hash_by_identity_and_compare_with_non_numbers():
    x, y = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    assert hash(x) != hash(y) and len({x, y}) == 2
    assert {x: "x", y: "y"}[y] == "y"
    assert (x == None) is False and (x != "abc") is True  # noqa: E711 - the operator is under test
    with pytest.raises(TypeError):
        _ = x < "abc"


def test_truth_value_of_tensors():
    assert bool(Tensor(1.0)) and not bool(Tensor([0.0]))
    assert bool(Tensor(2.0) > 1)
    with pytest.raises(ValueError, match=r"shape \(2,\) is ambiguous"):
        bool(Tensor([1.0, 2.0]))


# --- PyTorch parity -------------------------------------------------------------------------------
def test_parity_with_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    torch_ops = {
        "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "tanh": torch.tanh,
        "sigmoid": torch.sigmoid, "relu": torch.relu, "leaky_relu": tf.leaky_relu,
        "leaky_relu_0.2": lambda t: tf.leaky_relu(t, 0.2), "elu": tf.elu,
        "elu_0.5": lambda t: tf.elu(t, alpha=0.5), "abs": torch.abs,
        "clip": lambda t: t.clamp(-0.5, 0.7), "clip_lo": lambda t: t.clamp(min=-0.5),
        "clip_hi": lambda t: t.clamp(max=0.7), "neg": torch.neg,
        "astype": lambda t: t.float() * 1.0,
    }
    for name, fn in UNARY.items():
        x = _inputs(name, (4, 5), seed=3)
        x[0, :3] = [0.0, 1e-3, -1e-3] if name not in POSITIVE_ONLY else [1e-3, 5.0, 0.5]
        _compare(torch, fn, torch_ops[name], [x], name, rtol=1e-6 if name != "astype" else 1e-6)
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    a[0, 0] = b[0]  # a tie
    binary = {
        "add": (lambda p, q: p + q, lambda p, q: p + q),
        "sub": (lambda p, q: p - q, lambda p, q: p - q),
        "mul": (lambda p, q: p * q, lambda p, q: p * q),
        "div": (lambda p, q: p / q, lambda p, q: p / q),
        "pow": (lambda p, q: p.abs() ** q, lambda p, q: p.abs() ** q),
        "pow_const": (lambda p, q: p ** 3 * q, lambda p, q: p ** 3 * q),
        "maximum": (lambda p, q: p.maximum(q), torch.maximum),
        "minimum": (lambda p, q: p.minimum(q), torch.minimum),
    }
    for name, (ours, theirs) in binary.items():
        _compare(torch, ours, theirs, [a, b], name, rtol=1e-6)


def _compare(torch, ours, theirs, arrays, name, rtol):
    weights = np.random.default_rng(5)
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    out, tout = ours(*xs), theirs(*ts)
    w = weights.standard_normal(out.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=1e-12, err_msg=name)
    (out * w).sum().backward()
    (tout * torch.tensor(w, dtype=tout.dtype)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=rtol, atol=1e-12, err_msg=name)


_PROMOTIONS = {  # (left, right): torch's result dtype where NumPy's rule gives another
    "int64 * 0.5": (([1, 3], "int64"), 0.5),
    "0.5 * int64": (0.5, ([1, 3], "int64")),
    "int64 / 2": (([1, 3], "int64"), 2),
    "1 / int64": (1, ([1, 3], "int64")),
    "int64 / int64": (([1, 3], "int64"), ([2, 4], "int64")),
    "bool / bool": (([True, True], "bool"), ([True, True], "bool")),
    "int64 - float32": (([1, 3], "int64"), ([0.5, 2.0], "float32")),
    "int32 + float64": (([1, 3], "int32"), ([0.5, 2.0], "float64")),
    "float32 * float64(0-d)": (([1.5, 3.0], "float32"), (0.25, "float64")),
    "float64(0-d) * float32": ((0.25, "float64"), ([1.5, 3.0], "float32")),
    "int32 * int64(0-d)": (([1, 3], "int32"), (7, "int64")),
    "bool + int64(0-d)": (([True, False], "bool"), (7, "int64")),
    "uint8 + int64(0-d)": (([1, 3], "uint8"), (7, "int64")),
    "int64 + 1": (([1, 3], "int64"), 1),
    "int32 max float32": (([1, 3], "int32"), ([2.5, 0.5], "float32")),
}


@pytest.mark.parametrize("case", _PROMOTIONS)
def test_mixed_dtypes_promote_as_torch(case):
    """An integer operand takes the float one's dtype, integer division gives float32, a 0-d tensor does not widen."""
    torch = pytest.importorskip("torch")
    sides = _PROMOTIONS[case]
    ours = [Tensor(np.array(*side)) if isinstance(side, tuple) else side for side in sides]
    theirs = [torch.tensor(side[0], dtype=getattr(torch, side[1])) if isinstance(side, tuple) else side
              for side in sides]
    operator = case.split()[1]
    apply = {"*": lambda a, b: a * b, "/": lambda a, b: a / b, "-": lambda a, b: a - b, "+": lambda a, b: a + b,
             "max": lambda a, b: a.maximum(b) if isinstance(a, Tensor) else torch.maximum(a, b)}[operator]
    got, expected = apply(*ours), apply(*theirs)
    assert str(got.dtype) == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
