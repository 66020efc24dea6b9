"""torch's factories, dtype names and random sampling: dtypes, shapes, values and errors against torch."""

import numpy as np
import pytest

import autograd as F  # the public face: factories, dtypes and sampling as torch names them
from autograd import Tensor

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:(Creating a tensor from a list|To copy construct):UserWarning")

DTYPE_NAMES = ["float32", "float64", "double", "float", "int32", "int64", "long", "bool", "int16", "int8",
               "uint8", "float16", "half"]


def _same(ours: Tensor, theirs, exact: bool | None = True) -> None:
    """Our tensor has torch's dtype, shape and values (``exact``, close to float rounding, or unchecked: None)."""
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.shape == tuple(theirs.shape)
    if exact is None:
        return
    if exact:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    else:
        scale = max(1.0, float(np.abs(theirs.numpy()).max(initial=0)))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=2e-6 * scale)


def _same_error(call, match: str | None = None) -> None:
    """``call(F)`` raises the kind of error ``call(torch)`` raises, with torch's message (or ``match``)."""
    with pytest.raises(Exception) as theirs:
        call(torch)
    kind = next(k for k in (TypeError, ValueError, RuntimeError) if isinstance(theirs.value, k))
    with pytest.raises(kind) as ours:
        call(F)
    assert (match or str(theirs.value).splitlines()[0][:60]) in str(ours.value)


# --- dtypes and torch.tensor ---------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_names_are_torchs(name):
    assert np.dtype(getattr(F, name)).name == str(getattr(torch, name)).removeprefix("torch.")
    assert F.zeros(1, dtype=getattr(F, name)).dtype == getattr(F, name)


def test_default_dtype_is_float32():
    assert F.get_default_dtype() is np.float32 and F.zeros(2).dtype == F.float


TENSOR_DATA = [
    [1, 2.0], [True, 1], [True, 2.5], [True, False], [], [[], []], 3, 2.5, True, (1, 2), [[1, 2], [3, 4]],
    np.float64(1.0), np.float32(2.0), np.int32(1), np.bool_(True), [np.float64(1.0), 2.0], [np.int32(1), 2],
    [np.int32(1)], [np.float16(1.0)], [np.array([1.0, 2.0]), np.array([3.0, 4.0])], [-2 ** 63, 2 ** 63 - 1],
    [np.array([1], np.uint8), np.array([1], np.int8)], np.array([[1.5, 2.5]]), np.array([1, 2], np.int16),
    [[0.1, 0.2], [0.3, 1e-40]],
]


@pytest.mark.parametrize("data", TENSOR_DATA, ids=repr)
def test_tensor_infers_torchs_dtype(data):
    _same(F.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("build", [
    lambda T: [T.tensor(1, dtype=T.int32), T.tensor(2, dtype=T.int32)],
    lambda T: [T.tensor(1, dtype=T.int32), 2.5],
    lambda T: [T.tensor(1, dtype=T.int32), 1],
    lambda T: [T.tensor(1.0, dtype=T.float64), 2.0],
    lambda T: [True, T.tensor(1, dtype=T.int32)],
    lambda T: [[T.tensor(1.0)], [T.tensor(2.0)]],
    lambda T: [T.ones(1), T.zeros(1)],
    lambda T: T.tensor([[1.5, 2.0]], dtype=T.float64),
])
def test_tensor_of_tensors(build):
    _same(F.tensor(build(F)), torch.tensor(build(torch)))


@pytest.mark.parametrize("data, dtype", [([1.7, -2.7], "int64"), ([1, 2], "float64"), ([0.1], "float64"),
                                         (np.array([1.5]), "float16"), ([0, 2], "bool")])
def test_tensor_dtype_argument(data, dtype):
    _same(F.tensor(data, dtype=getattr(F, dtype)), torch.tensor(data, dtype=getattr(torch, dtype)))


def test_tensor_always_copies_and_makes_a_leaf():
    array = np.array([1.0, 2.0])
    t = F.tensor(array)
    array[0] = 5.0
    assert t.numpy().tolist() == [1.0, 2.0]
    source = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    copy = F.tensor(source, requires_grad=True)
    copy.numpy()[0] = 9.0
    assert source.numpy().tolist() == [1.0, 2.0] and copy.requires_grad and copy.parents == ()
    assert not F.tensor(source).requires_grad and F.tensor(source).dtype == np.float64


@pytest.mark.parametrize("call", [
    lambda T: T.tensor("abc"), lambda T: T.tensor([1, "a"]), lambda T: T.tensor(None), lambda T: T.tensor([1, None]),
    lambda T: T.tensor([2 ** 63]), lambda T: T.tensor([T.ones(2), T.ones(2)]),
    lambda T: T.tensor([1, 2], requires_grad=True), lambda T: T.tensor([True], requires_grad=True),
], ids=["str", "str-in-list", "None", "None-in-list", "overflow", "multi-element", "int-grad", "bool-grad"])
def test_tensor_errors_match_torch(call):
    _same_error(call)


def test_ragged_lists_raise_value_error():
    _same_error(lambda T: T.tensor([[1, 2], [3]]), match="rectangular")


# --- filled tensors -----------------------------------------------------------------------
SIZES = [(2, 3), ((2, 3),), ([2, 3],), ((),), (np.int64(2),), (0,), (4,), ((1, 0, 2),)]


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
@pytest.mark.parametrize("size", SIZES, ids=repr)
def test_size_forms_shapes_and_dtypes(name, size):
    ours, theirs = getattr(F, name)(*size), getattr(torch, name)(*size)
    _same(ours, theirs, exact=True if name in ("zeros", "ones") else None)
    assert not ours.requires_grad
    grad = getattr(F, name)(*size, dtype=F.float64, requires_grad=True)
    assert grad.dtype == np.float64 and grad.requires_grad and grad.shape == ours.shape


@pytest.mark.parametrize("call", [
    lambda T: T.zeros(2.0), lambda T: T.ones((2.0, 3)), lambda T: T.zeros("a"), lambda T: T.zeros(True),
    lambda T: T.ones(-1, 2), lambda T: T.empty(-1, 2), lambda T: T.rand(2, -3), lambda T: T.full(2, 1.0),
    lambda T: T.full((-1,), 1.0), lambda T: T.zeros(2, dtype=T.long, requires_grad=True),
    lambda T: T.full((2,), 3, requires_grad=True), lambda T: T.ones_like(T.ones(2, dtype=T.int32), requires_grad=True),
    lambda T: T.rand(2, dtype=T.int64), lambda T: T.randn(2, dtype=T.int64), lambda T: T.randn_like(T.tensor([1, 2])),
    lambda T: T.rand_like(T.tensor([1, 2])),
])
def test_factory_errors_match_torch(call):
    _same_error(call)


@pytest.mark.parametrize("fill", [7, True, 1.5, -0.0, np.float64(1.5), np.int32(3)], ids=repr)
def test_full_infers_its_dtype_from_the_value(fill):
    _same(F.full((2, 3), fill), torch.full((2, 3), fill))
    _same(F.full([2], fill, dtype=F.int64), torch.full([2], fill, dtype=torch.int64))
    _same(F.full((2,), F.tensor(np.float64(2.5))), torch.full((2,), torch.tensor(2.5, dtype=torch.float64)))


@pytest.mark.parametrize("source", [[[1.5, 2.0, 3.0]], [1, 2], [True, False], np.zeros((2, 1), np.float64)], ids=repr)
def test_like_factories_take_the_inputs_shape_and_dtype(source):
    ours, theirs = F.tensor(source), torch.tensor(source)
    for name in ("zeros_like", "ones_like", "empty_like"):
        _same(getattr(F, name)(ours), getattr(torch, name)(theirs), exact=None if name == "empty_like" else True)
        _same(getattr(F, name)(ours, dtype=F.float64), getattr(torch, name)(theirs, dtype=torch.float64),
              exact=None if name == "empty_like" else True)
    _same(F.full_like(ours, -2.7), torch.full_like(theirs, -2.7))
    assert F.ones_like(ours, dtype=F.float32, requires_grad=True).requires_grad
    if ours.dtype.kind == "f":
        for name in ("rand_like", "randn_like"):
            sample = getattr(F, name)(ours, requires_grad=True)
            assert sample.shape == ours.shape and sample.dtype == ours.dtype and sample.requires_grad


# --- ranges -------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(5,), (5.0,), (0,), (1, 2.5, 0.5), (0, 1, 0.1), (-1, 1, 0.3), (0, 10, 0.7),
                                  (10, 0, -3), (0.5, 3), (0, 1, 1 / 3), (-5.5, 100.25, 0.37), (3, 3),
                                  (np.int64(4),), (True,), (2, -7.5, -0.25)], ids=repr)
def test_arange_matches_torch(args):
    _same(F.arange(*args), torch.arange(*args), exact=F.arange(*args).dtype.kind != "f")
    _same(F.arange(*args, dtype=F.float64), torch.arange(*args, dtype=torch.float64), exact=False)


def test_arange_worked_examples_and_keywords():
    assert F.arange(10, 0, -3).numpy().tolist() == [10, 7, 4, 1]
    assert F.arange(end=3).numpy().tolist() == [0, 1, 2] and F.arange(F.tensor(3)).dtype == np.int64
    _same(F.arange(0.5, 3, dtype=F.int64), torch.arange(0.5, 3, dtype=torch.int64))
    assert F.arange(3.0, requires_grad=True).requires_grad


@pytest.mark.parametrize("call", [
    lambda T: T.arange(0, 1, 0), lambda T: T.arange(0, -1, 1), lambda T: T.arange(0, 1, -0.5),
    lambda T: T.linspace(0, 1, -1), lambda T: T.eye(-1), lambda T: T.eye(2, -1),
    lambda T: T.arange(3, requires_grad=True)])
def test_range_errors_match_torch(call):
    _same_error(call)


@pytest.mark.parametrize("args", [(0, 1, 5), (0, 10, 4), (-1, 1, 11), (0, 1, 1), (0, 1, 0), (1e-3, 7.3, 101),
                                  (3, -7.5, 1000), (-3.7, 2.9, 7), (2, 2, 3)], ids=repr)
def test_linspace_matches_torch(args):
    _same(F.linspace(*args), torch.linspace(*args), exact=False)
    _same(F.linspace(*args, dtype=F.int64), torch.linspace(*args, dtype=torch.int64))
    _same(F.linspace(*args, dtype=F.float64), torch.linspace(*args, dtype=torch.float64), exact=False)


def test_linspace_worked_example_has_exact_ends():
    assert F.linspace(0, 1, 5).numpy().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    values = F.linspace(-3.7, 2.9, 7).numpy()
    assert values[0] == np.float32(-3.7) and values[-1] == np.float32(2.9)


@pytest.mark.parametrize("args", [(3,), (2, 3), (3, 2), (0,), (1, 0)])
def test_eye_matches_torch(args):
    _same(F.eye(*args), torch.eye(*args))
    _same(F.eye(*args, dtype=F.int64), torch.eye(*args, dtype=torch.int64))


# --- generators ---------------------------------------------------------------------------
def test_generator_seeding_follows_torch():
    g = F.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed() == 67280421310721
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    assert F.Generator().manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    for bad in (1.5, 2 ** 64):
        _same_error(lambda T, bad=bad: T.Generator().manual_seed(bad))
    new = g.seed()
    assert isinstance(new, int) and g.initial_seed() == new
    assert F.manual_seed(7) is F.default_generator and F.initial_seed() == 7
    assert F.manual_seed(7.9).initial_seed() == torch.manual_seed(7.9).initial_seed() == 7
    assert isinstance(F.seed(), int)


@pytest.mark.parametrize("draw", [
    lambda g: F.rand(3, 4, generator=g), lambda g: F.randn((5,), generator=g, dtype=F.float64),
    lambda g: F.randint(0, 100, (6,), generator=g), lambda g: F.randperm(10, generator=g),
    lambda g: F.normal(0.0, 2.0, (4,), generator=g), lambda g: F.normal(F.zeros(3), F.ones(3), generator=g),
    lambda g: F.multinomial(F.tensor([0.2, 0.3, 0.5]), 2, generator=g),
    lambda g: F.multinomial(F.ones(2, 5), 8, True, generator=g), lambda g: F.rand_like(F.zeros(3), generator=g),
])
def test_draws_are_reproducible_and_differ_between_seeds(draw):
    first, again = draw(F.Generator().manual_seed(0)), draw(F.Generator().manual_seed(0))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    others = [draw(F.Generator().manual_seed(s)).numpy() for s in (1, 2, 3)]
    assert any(not np.array_equal(first.numpy(), o) for o in others)
    g = F.Generator().manual_seed(0)
    state = g.get_state()
    np.testing.assert_array_equal(draw(g).numpy(), first.numpy())
    np.testing.assert_array_equal(draw(g.set_state(state)).numpy(), first.numpy())
    F.manual_seed(11)
    default = draw(None).numpy()
    F.manual_seed(11)
    np.testing.assert_array_equal(draw(None).numpy(), default)


def test_a_generator_leaves_the_default_stream_alone():
    F.manual_seed(5)
    expected = F.rand(4).numpy()
    F.manual_seed(5)
    F.rand(100, generator=F.Generator().manual_seed(1))
    np.testing.assert_array_equal(F.rand(4).numpy(), expected)


# --- distributions ------------------------------------------------------------------------
def test_rand_and_randn_distributions():
    g = F.Generator().manual_seed(0)
    u, z = F.rand(200_000, generator=g).numpy(), F.randn(200_000, generator=g).numpy()
    assert u.dtype == z.dtype == np.float32 and 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert F.rand(3, dtype=F.half).dtype == np.float16 and F.randn(2, 2, dtype=F.double).dtype == np.float64


@pytest.mark.parametrize("args, kwargs, low, high", [
    ((10, (3,)), {}, 0, 10), ((3, 10, (2, 4)), {}, 3, 10), ((), dict(low=2, high=5, size=(3,)), 2, 5),
    ((), dict(high=5, size=[3]), 0, 5), ((5, (3,)), dict(dtype="float32"), 0, 5), ((2,), dict(high=4, size=(5,)), 2, 4),
    ((-2 ** 63, 2 ** 63 - 1, (2,)), {}, -2 ** 63, 2 ** 63 - 1)])
def test_randint_forms(args, kwargs, low, high):
    theirs_kwargs = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    ours, theirs = F.randint(*args, **kwargs), torch.randint(*args, **theirs_kwargs)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.") and ours.shape == tuple(theirs.shape)
    assert low <= ours.numpy().min() and ours.numpy().max() < high


def test_randint_covers_its_range_uniformly():
    draws = F.randint(3, 8, (50_000,), generator=F.Generator().manual_seed(0)).numpy()
    counts = np.bincount(draws, minlength=8)
    assert counts[:3].sum() == 0 and np.all(np.abs(counts[3:] / 50_000 - 0.2) < 0.01)
    assert F.randint(5, (3,), dtype=F.float32, requires_grad=True).requires_grad


@pytest.mark.parametrize("call, match", [
    (lambda T: T.randint(5, 5, (2,)), None), (lambda T: T.randint(0, (2,)), None),
    (lambda T: T.randint(10, 3), "argument 'size' must be tuple of ints, not int"),
    (lambda T: T.randint(2.5, (3,)), "argument 'high' must be int, not float"), (lambda T: T.randint(3, (-1,)), None),
    (lambda T: T.randperm(-1), None), (lambda T: T.randperm(2.5), None),
    (lambda T: T.randint(5, (3,), requires_grad=True), None)])
def test_randint_and_randperm_errors_match_torch(call, match):
    _same_error(call, match)


@pytest.mark.parametrize("n", [0, 1, 10, 1000])
def test_randperm_is_a_permutation(n):
    perm = F.randperm(n, generator=F.Generator().manual_seed(n))
    _same(F.tensor(np.sort(perm.numpy())), torch.arange(n))
    assert F.randperm(n, dtype=F.float32).dtype == np.float32


@pytest.mark.parametrize("build", [
    lambda T: T.normal(0.0, 1.0, (2, 3)), lambda T: T.normal(0, 1, size=(4,)), lambda T: T.normal(T.zeros(3), 1.0),
    lambda T: T.normal(T.zeros(3)), lambda T: T.normal(T.zeros(3, dtype=T.float64), 2.0),
    lambda T: T.normal(0.0, T.ones(3)), lambda T: T.normal(T.zeros(2, 1), T.ones(3)),
    lambda T: T.normal(0.0, 1.0, (2,), dtype=T.float64), lambda T: T.normal(0.0, 1.0, (2,), requires_grad=True),
])
def test_normal_overloads_match_torchs_shapes_and_dtypes(build):
    ours, theirs = build(F), build(torch)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.") and ours.shape == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad


def test_normal_moments():
    g = F.Generator().manual_seed(0)
    x = F.normal(3.0, 2.0, (100_000,), generator=g).numpy()
    assert abs(x.mean() - 3) < 0.03 and abs(x.std() - 2) < 0.03
    y = F.normal(F.tensor([[-5.0], [5.0]]), F.tensor([0.0, 1.0, 4.0]).unsqueeze(0), generator=g).numpy()
    assert y.shape == (2, 3) and y[0, 0] == -5.0 and y[1, 0] == 5.0
    z = F.normal(F.full((50_000,), 1.0), 0.5, generator=g).numpy()
    assert abs(z.mean() - 1) < 0.01 and abs(z.std() - 0.5) < 0.01


@pytest.mark.parametrize("call, match", [
    (lambda T: T.normal(0.0, -1.0, (2,)), None), (lambda T: T.normal(T.zeros(3), -1.0), None),
    (lambda T: T.normal(T.zeros(3), -T.ones(3)), None), (lambda T: T.normal(0.0, -T.ones(3)), None),
    (lambda T: T.normal(T.zeros(3, dtype=T.int64), 1.0), None), (lambda T: T.normal(0.0, 1.0), "size is required"),
    (lambda T: T.normal(T.zeros(3), 1.0, size=(3,)), "size and dtype are only for a number mean and std"),
    (lambda T: T.normal(0.0, 1.0, (-1,)), None)])
def test_normal_errors_match_torch(call, match):
    _same_error(call, match)


# --- multinomial --------------------------------------------------------------------------
def _chi_square(counts: np.ndarray, probabilities: np.ndarray) -> float:
    expected = counts.sum() * probabilities
    return float(((counts - expected) ** 2 / expected).sum())


@pytest.mark.parametrize("build", [
    lambda T: T.multinomial(T.tensor([0.1, 0.0, 0.9]), 2), lambda T: T.multinomial(T.tensor([0.1, 0.0, 0.9]), 3),
    lambda T: T.multinomial(T.tensor([1.0, 2.0]), 5, replacement=True),
    lambda T: T.multinomial(T.tensor([[1.0, 2.0], [3.0, 0.0]]), 2),
    lambda T: T.multinomial(T.tensor([1.0, 2.0], dtype=T.float64), 1), lambda T: T.multinomial(T.zeros(0, 3), 1),
])
def test_multinomial_shapes_and_dtype(build):
    ours, theirs = build(F), build(torch)
    assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape) and not ours.requires_grad


@pytest.mark.parametrize("call", [
    lambda T: T.multinomial(T.tensor([0.5, -0.1]), 1), lambda T: T.multinomial(T.tensor([0.5, float("nan")]), 1),
    lambda T: T.multinomial(T.tensor([0.5, float("inf")]), 1), lambda T: T.multinomial(T.tensor([0.0, 0.0]), 1),
    lambda T: T.multinomial(T.tensor([[1.0, 0.0], [0.0, 0.0]]), 1, True),
    lambda T: T.multinomial(T.tensor([0.1, 0.9]), 3), lambda T: T.multinomial(T.tensor([0.1, 0.9]), 0),
    lambda T: T.multinomial(T.tensor([0.1, 0.9]), -1), lambda T: T.multinomial(T.ones(2, 2, 2), 1),
    lambda T: T.multinomial(T.tensor(1.0), 1), lambda T: T.multinomial(T.tensor([1, 2]), 1),
    lambda T: T.multinomial(T.zeros(0), 1),
], ids=["negative", "nan", "inf", "zero-sum", "zero-sum-row", "too-many", "zero-samples", "negative-samples",
        "3-d", "0-d", "integer", "no-categories"])
def test_multinomial_errors_match_torch(call):
    _same_error(call)


def test_multinomial_with_replacement_frequencies():
    weights = np.array([[1.0, 0.0, 3.0, 6.0], [5.0, 5.0, 0.0, 0.0]])  # unnormalised rows, zero categories
    draws = F.multinomial(F.tensor(weights), 60_000, True, generator=F.Generator().manual_seed(0)).numpy()
    for row, w in zip(draws, weights):
        counts = np.bincount(row, minlength=4)
        assert np.all(counts[w == 0] == 0)
        p = w / w.sum()
        assert _chi_square(counts[w > 0], p[w > 0]) < 20  # ~ chi-square, at most 2 degrees of freedom


def test_multinomial_without_replacement_draws_distinct_categories_in_sequence():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    draws = F.multinomial(F.tensor(np.tile(p, (40_000, 1))), 2, generator=F.Generator().manual_seed(0)).numpy()
    assert np.all(draws[:, 0] != draws[:, 1])
    assert _chi_square(np.bincount(draws[:, 0], minlength=4), p) < 20
    second = (p[:, None] * p[None, :] / (1 - p[:, None])).sum(0) - p ** 2 / (1 - p)  # P(second = j)
    assert _chi_square(np.bincount(draws[:, 1], minlength=4), second) < 20
    full = F.multinomial(F.tensor(np.tile(p, (100, 1))), 4, generator=F.Generator().manual_seed(1)).numpy()
    assert np.all(np.sort(full, axis=1) == np.arange(4))
    assert F.multinomial(F.tensor([0.0, 1.0, 0.0]), 1).numpy().tolist() == [1]
