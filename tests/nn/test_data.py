import gzip
import struct

import numpy as np
import pytest

from autograd import Tensor
from nn import data

# --- DataLoader ----------------------------------------------------------------------------------------


def _dataset(n=103):
    X = np.arange(n, dtype=np.float64)[:, None] * np.ones((1, 3))  # row i is [i, i, i]
    y = np.arange(n) % 5
    return X, y


def test_batch_count_and_shapes():
    X, y = _dataset()
    loader = data.DataLoader(X, y, batch_size=10, seed=0)
    assert len(loader) == 11
    batches = list(loader)
    assert len(batches) == 11
    assert [xb.shape for xb, _ in batches] == [(10, 3)] * 10 + [(3, 3)]
    assert all(isinstance(xb, Tensor) and isinstance(yb, Tensor) for xb, yb in batches)
    assert batches[0][0].dtype == np.float64 and batches[0][1].dtype == np.int64


def test_drop_last():
    X, y = _dataset()
    loader = data.DataLoader(X, y, batch_size=10, drop_last=True, seed=0)
    assert len(loader) == 10
    assert [xb.shape[0] for xb, _ in loader] == [10] * 10
    assert len(data.DataLoader(X[:9], y[:9], batch_size=10, drop_last=True)) == 0
    assert len(data.DataLoader(X[:20], y[:20], batch_size=10, drop_last=True)) == 2


def test_each_epoch_is_a_permutation_and_pairs_stay_aligned():
    X, y = _dataset()
    loader = data.DataLoader(X, y, batch_size=16, seed=1)
    for _ in range(2):
        seen = []
        for xb, yb in loader:
            rows = xb.numpy()[:, 0].astype(int)
            np.testing.assert_array_equal(yb.data, rows % 5)
            seen.extend(rows)
        assert sorted(seen) == list(range(103))


def _epoch_order(loader):
    return np.concatenate([xb.data[:, 0] for xb, _ in loader]).astype(int)


def test_reshuffles_every_epoch_reproducibly():
    X, y = _dataset()
    loader = data.DataLoader(X, y, batch_size=8, seed=3)
    e1, e2, e3 = (_epoch_order(loader) for _ in range(3))
    assert not np.array_equal(e1, e2) and not np.array_equal(e2, e3)
    assert not np.array_equal(e1, np.arange(103))
    again = data.DataLoader(X, y, batch_size=8, seed=3)
    for expected in (e1, e2, e3):
        np.testing.assert_array_equal(_epoch_order(again), expected)
    other = data.DataLoader(X, y, batch_size=8, seed=4)
    assert not np.array_equal(_epoch_order(other), e1)


def test_no_shuffle_keeps_order():
    X, y = _dataset()
    loader = data.DataLoader(X, y, batch_size=8, shuffle=False)
    np.testing.assert_array_equal(_epoch_order(loader), np.arange(103))
    np.testing.assert_array_equal(_epoch_order(loader), np.arange(103))


def test_dtypes():
    X = [[0.5, 1.0], [2.0, 3.0], [1.0, 1.0]]
    loader = data.DataLoader(X, [0, 1, 1], batch_size=3, shuffle=False)
    xb, yb = next(iter(loader))
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    xb, yb = next(iter(data.DataLoader([[0, 1], [1, 0]], [0.5, 1.5], batch_size=2)))
    assert xb.dtype == np.float32 and yb.dtype == np.float32
    Xf = np.ones((4, 2), dtype=np.float64)
    yf = np.array([0.1, 0.2, 0.3, 0.4])
    xb, yb = next(iter(data.DataLoader(Xf, yf, batch_size=4)))
    assert xb.dtype == np.float64 and yb.dtype == np.float64
    xb, yb = next(iter(data.DataLoader(Tensor(Xf), np.array([0, 1, 2, 3], dtype=np.int32), batch_size=2)))
    assert yb.dtype == np.int64


def test_without_labels_and_errors():
    batches = list(data.DataLoader(np.zeros((5, 2)), batch_size=2))
    assert [b.shape for b in batches] == [(2, 2), (2, 2), (1, 2)]
    with pytest.raises(ValueError, match="5 samples but y has 4"):
        data.DataLoader(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(np.zeros((5, 2)), np.zeros(5), batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(np.zeros((5, 2)), np.zeros(5), batch_size=2.5)


# --- splits --------------------------------------------------------------------------------------------


def test_train_test_split_sizes_disjoint_aligned():
    X, y = _dataset(10)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(X_test) == 3 and len(X_train) == 7  # ceil(0.25 * 10)
    rows = np.concatenate([X_train[:, 0], X_test[:, 0]]).astype(int)
    assert sorted(rows) == list(range(10))
    np.testing.assert_array_equal(y_train, X_train[:, 0].astype(int) % 5)
    np.testing.assert_array_equal(y_test, X_test[:, 0].astype(int) % 5)
    again = data.train_test_split(X, y, test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[1], X_test)
    assert len(data.train_test_split(X, y, test_size=4)[1]) == 4


def test_train_test_split_stratified():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(100)[:, None]
    _, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=5, stratify=True)
    np.testing.assert_array_equal(np.bincount(y_test), [12, 6, 2])
    np.testing.assert_array_equal(np.bincount(y_train), [48, 24, 8])
    np.testing.assert_array_equal(y[X_test[:, 0]], y_test)


def test_train_val_test_split():
    X, y = data.make_moons(100, seed=0)
    X_tr, X_va, X_te, y_tr, y_va, y_te = data.train_val_test_split(X, y, val_size=0.2, test_size=0.1, seed=1)
    assert (len(X_tr), len(X_va), len(X_te)) == (70, 20, 10)
    assert (len(y_tr), len(y_va), len(y_te)) == (70, 20, 10)
    allx = np.concatenate([X_tr, X_va, X_te])
    assert len(np.unique(allx, axis=0)) == 100
    _, _, _, _, y_va, y_te = data.train_val_test_split(X, y, 0.2, 0.2, seed=1, stratify=y)
    np.testing.assert_array_equal(np.bincount(y_va), [10, 10])
    np.testing.assert_array_equal(np.bincount(y_te), [10, 10])
    with pytest.raises(ValueError, match="samples"):
        data.train_val_test_split(X, y, val_size=60, test_size=50)


def test_split_errors_and_tensors():
    with pytest.raises(ValueError, match="3 samples but y has 2"):
        data.train_test_split(np.zeros((3, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(np.zeros((3, 1)), np.zeros(3), test_size=1.5)
    X_train, X_test = data.train_test_split(Tensor(np.zeros((8, 2))), test_size=0.5)
    assert isinstance(X_train, Tensor) and X_test.shape == (4, 2)


# --- generated datasets ----------------------------------------------------------------------------------


def test_make_moons():
    X, y = data.make_moons(101, noise=0.0, seed=0)
    assert X.shape == (101, 2) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50, 51])
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-6)
    Xa, ya = data.make_moons(50, noise=0.1, seed=2)
    Xb, yb = data.make_moons(50, noise=0.1, seed=2)
    np.testing.assert_array_equal(Xa, Xb)
    assert not np.array_equal(Xa, data.make_moons(50, noise=0.1, seed=3)[0])


def test_make_circles():
    X, y = data.make_circles(200, noise=0.0, factor=0.3, seed=0)
    assert X.shape == (200, 2)
    np.testing.assert_array_equal(np.bincount(y), [100, 100])
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3, rtol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        data.make_circles(10, factor=1.0)


def test_make_spirals():
    X, y = data.make_spirals(301, classes=3, noise=0.0, seed=0)
    assert X.shape == (301, 2)
    np.testing.assert_array_equal(np.bincount(y), [101, 100, 100])
    assert np.hypot(*X.T).max() == pytest.approx(1.0)
    X, y = data.make_spirals(100, classes=5, seed=0)
    assert set(y.tolist()) == {0, 1, 2, 3, 4}


def test_xor():
    X, y = data.xor(100, noise=0.0, seed=0)
    assert X.shape == (100, 2)
    np.testing.assert_array_equal(y, (X[:, 0] != X[:, 1]).astype(int))
    np.testing.assert_array_equal(np.bincount(y), [50, 50])
    X, y = data.xor(400, noise=0.1, seed=0)
    np.testing.assert_array_equal(y, (np.round(X[:, 0]) != np.round(X[:, 1])).astype(int))
    with pytest.raises(ValueError, match="noise"):
        data.xor(10, noise=-1.0)


def test_consecutive_ones_matches_the_lecture():
    X, y = data.consecutive_ones()
    assert X.shape == (16, 4) and y.shape == (16,)
    assert len({tuple(r) for r in X.astype(int)}) == 16
    labels = {tuple(r): label for r, label in zip(X.astype(int).tolist(), y.tolist())}
    assert labels[(0, 1, 1, 0)] == 1 and labels[(0, 0, 1, 0)] == 0
    assert labels[(1, 1, 0, 0)] == 1 and labels[(1, 0, 0, 1)] == 0
    assert labels[(1, 1, 1, 1)] == 1 and labels[(1, 0, 1, 0)] == 0
    assert y.sum() == 8  # 16 minus the 8 (a Fibonacci number) with no adjacent ones
    # The lecture's two-perceptron network computes exactly these labels.
    z1 = X @ np.array([1, 2, 1, 0]) - 2.5 > 0
    z2 = X @ np.array([0, 0, 1, 1]) - 1.5 > 0
    np.testing.assert_array_equal((z1 | z2).astype(int), y)
    X3, y3 = data.consecutive_ones(3)
    np.testing.assert_array_equal(y3, [0, 0, 0, 1, 0, 0, 1, 1])


# --- digits --------------------------------------------------------------------------------------------


def test_load_digits():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    counts = np.bincount(y)
    np.testing.assert_array_equal(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    assert counts.sum() == 1797
    assert y[0] == 0 and y[1] == 1
    np.testing.assert_array_equal(X[0, :16], [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0])
    assert X.sum() == 561718
    X[:] = -1  # a copy: the next call is unaffected
    images, _ = data.load_digits(images=True)
    assert images.shape == (1797, 1, 8, 8) and images[0, 0, 1, 3] == 15


# --- IDX ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(24).reshape(2, 3, 4) * 3 - (0 if dtype == np.uint8 else 20)).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    data.save_idx(path, array)
    out = data.load_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_idx_hand_written_bytes(tmp_path):
    # magic 0x00000B02: int16, 2 dimensions (2, 3); big-endian values
    raw = bytes([0, 0, 0x0B, 2]) + struct.pack(">II", 2, 3) + struct.pack(">6h", 1, -2, 300, 4, 5, -600)
    (tmp_path / "plain").write_bytes(raw)
    (tmp_path / "packed").write_bytes(gzip.compress(raw))
    for name in ("plain", "packed"):
        np.testing.assert_array_equal(data.load_idx(tmp_path / name), [[1, -2, 300], [4, 5, -600]])
    labels = bytes([0, 0, 8, 1]) + struct.pack(">I", 4) + bytes([7, 2, 1, 0])  # an MNIST label file
    (tmp_path / "labels").write_bytes(labels)
    np.testing.assert_array_equal(data.load_idx(tmp_path / "labels"), [7, 2, 1, 0])


@pytest.mark.parametrize("raw, match", [
    (b"\x00\x00", "truncated file"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad magic"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown data type code 0x07"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated header"),
    (b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + b"\x00" * 5, "truncated data"),
    (b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00" * 6, "2 unexpected trailing bytes"),
])
def test_idx_errors(tmp_path, raw, match):
    path = tmp_path / "bad.idx"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=match):
        data.load_idx(path)
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(ValueError, match=match):
        data.load_idx(path)


def test_idx_corrupt_gzip_and_unsupported_dtype(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 100) + bytes(100))[:30])
    with pytest.raises(ValueError, match="gzip"):
        data.load_idx(path)
    with pytest.raises(TypeError, match="int64"):
        data.save_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


def test_load_mnist_from_small_files(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    data.save_idx(tmp_path / "train-images-idx3-ubyte.gz", train)
    data.save_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([5, 0, 4, 1, 9], dtype=np.uint8))
    data.save_idx(tmp_path / "t10k-images-idx3-ubyte", test)
    data.save_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([7, 2, 1], dtype=np.uint8))
    X_train, y_train, X_test, y_test = data.load_mnist(tmp_path)
    assert X_train.shape == (5, 784) and X_test.shape == (3, 784) and X_train.dtype == np.float32
    np.testing.assert_allclose(X_train[1], train[1].ravel() / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_train, [5, 0, 4, 1, 9])
    assert y_test.dtype == np.int64
    with pytest.raises(FileNotFoundError, match="train-images"):
        data.load_mnist(tmp_path / "nowhere")
