"""The gradient of indexing with integer arrays (C[X], p[rows, Y]): the exact sums of np.add.at and torch.

Repeated indices must add up; negative ones count from the end; the result keeps the tensor's dtype and,
as both references add in the order of the index in that dtype, equals them bit for bit.
"""

import numpy as np
import pytest

from autograd import Tensor, grad
from autograd.ops.indexing import add_rows

DTYPES = [np.float32, np.float64]
# name -> (shape of the indexed tensor, index builder(rng)): each picks some elements several times
INDEXES = {
    "C[X], X (32, 3)": ((27, 10), lambda r: r.integers(0, 27, (32, 3))),
    "C[X], X (256, 3)": ((27, 10), lambda r: r.integers(0, 27, (256, 3))),
    "C[X], negative": ((27, 10), lambda r: r.integers(-27, 27, (32, 3))),
    "1-D index": ((27, 10), lambda r: r.integers(-27, 27, 100)),
    "1-D tensor, 2-D index": ((27,), lambda r: r.integers(-27, 27, (8, 5))),
    "int32 index": ((300, 3), lambda r: r.integers(-300, 300, 500).astype(np.int32)),
    "uint8 index": ((256, 2), lambda r: r.integers(0, 256, 900).astype(np.uint8)),
    "p[rows, Y]": ((6, 5), lambda r: (r.integers(-6, 6, 40), r.integers(-5, 5, 40))),
    "broadcast pair, then :": ((4, 5, 3), lambda r: (r.integers(0, 4, (7, 1)), r.integers(-5, 5, (1, 6)),
                                                     slice(None))),
    "array then ...": ((4, 5, 3), lambda r: (r.integers(0, 4, 9), Ellipsis)),
    "array on axis 1": ((4, 5, 3), lambda r: (slice(None), r.integers(-5, 5, 9))),
    "int then array": ((4, 5, 3), lambda r: (1, r.integers(0, 5, (2, 3)))),
    "array then slice": ((6, 5), lambda r: (r.integers(0, 6, 9), slice(1, 4))),
    "0-d array": ((4, 5), lambda r: np.array(-2)),
    "empty": ((4, 5), lambda r: np.zeros(0, np.int64)),
}


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _numpy_index(index):
    return index if isinstance(index, tuple) else (index,)


def _backward(shape, index, dtype, seed=0):
    """(chainrule's gradient, the upstream gradient) of sum(g * a[index]) for a of ``shape``."""
    rng = np.random.default_rng(seed)
    a = Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    out = a[index]
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(Tensor(g))
    return a.grad.numpy(), g


@pytest.mark.parametrize("name", INDEXES)
def test_indexing_gives_numpys_values_and_shape(name):
    """One signed integer array (C[X]) runs as take(axis=0), the rest as NumPy's indexing: the same result."""
    shape, build = INDEXES[name]
    index = build(np.random.default_rng(1))
    data = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    got = Tensor(data)[index].numpy()
    expected = data[index]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", INDEXES)
def test_index_gradient_is_np_add_at_exactly(name, dtype):
    shape, build = INDEXES[name]
    index = build(np.random.default_rng(1))
    got, g = _backward(shape, index, dtype)
    expected = np.zeros(shape, dtype)
    np.add.at(expected, _numpy_index(index), g)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", INDEXES)
def test_index_gradient_is_torchs_exactly(name, dtype, torch):
    shape, build = INDEXES[name]
    index = build(np.random.default_rng(1))
    got, g = _backward(shape, index, dtype)
    parts = tuple(torch.from_numpy(p.astype(np.int64)) if isinstance(p, np.ndarray) else p
                  for p in _numpy_index(index))
    a = torch.zeros(shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
    a[parts].backward(torch.from_numpy(g))
    np.testing.assert_array_equal(got, a.grad.numpy())


def test_repeated_rows_add_up():
    C = Tensor(np.zeros((3, 2)), requires_grad=True)
    C[np.array([[2, 2, 0], [2, -1, -3]])].sum().backward()
    np.testing.assert_array_equal(C.grad.numpy(), [[2, 2], [0, 0], [4, 4]])


def test_add_rows_sums_in_the_given_order():
    """In float32 the order of the additions shows: 1e8 + 1 + 1 - 1e8 is 0 added one by one, not 2."""
    values = np.array([[1e8], [1], [1], [-1e8]], np.float32)
    rows = np.array([1, 1, 1, 1])
    np.testing.assert_array_equal(add_rows(rows, values, 2), [[0], [0]])
    expected = np.zeros((2, 1), np.float32)
    np.add.at(expected, rows, values)
    np.testing.assert_array_equal(add_rows(rows, values, 2), expected)


def test_index_gradient_of_the_gradient():
    """create_graph: the scatter is recorded, and its own gradient gathers the same rows back."""
    rng = np.random.default_rng(2)
    C = Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    X = np.array([[0, 4, 4], [-1, 2, 0]])
    w = rng.standard_normal((2, 3, 3))
    (g,) = grad((C[X] ** 2 * w).sum(), C, create_graph=True)
    expected = np.zeros((5, 3))
    np.add.at(expected, X, 2 * C.numpy()[X] * w)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12)
    (g * g).sum().backward()  # d/dC sum(g**2), g = scatter(2 C[X] w): 2 g . dg/dC
    second = np.zeros((5, 3))
    np.add.at(second, X, 2 * g.numpy()[X] * 2 * w)
    np.testing.assert_allclose(C.grad.numpy(), second, rtol=1e-12)
