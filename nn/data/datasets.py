"""Toy datasets, the bundled 8x8 digits, and the IDX files MNIST comes in.

Datasets return ``(X, y)`` as NumPy arrays: X float32 of shape (n, features), y int64 class labels.
"""

from __future__ import annotations

import functools
import gzip
import math
import numbers
import os
from pathlib import Path

import numpy as np

from .._helpers import generator, positive_int

__all__ = ["make_moons", "make_circles", "make_spirals", "xor", "consecutive_ones", "load_digits",
           "load_idx", "save_idx", "load_mnist"]

_DATASETS = Path(__file__).resolve().parents[1] / "datasets"


# --- toy datasets --------------------------------------------------------------------------------

def _finish(X: np.ndarray, y: np.ndarray, noise: float, rng, shuffle: bool):
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    if shuffle:
        order = rng.permutation(len(X))
        X, y = X[order], y[order]
    return X.astype(np.float32), y.astype(np.int64)


def _sklearn_names(op: str, n, n_samples, seed, random_state, noise) -> tuple:
    """(n_out, n_in, seed, noise) from our names or scikit-learn's (n_samples, also a pair; random_state)."""
    if n_samples is not None:
        if n is not None:
            raise TypeError(f"{op}: got both n and its alias n_samples (scikit-learn's name); pass one")
        n = n_samples
    if random_state is not None:
        if seed is not None:
            raise TypeError(f"{op}: got both seed and its alias random_state (scikit-learn's name); pass one")
        seed = random_state
    if n is None:
        n = 100
    if isinstance(n, (tuple, list)):
        if len(n) != 2 or not all(isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 0 for k in n) \
                or sum(n) < 1:
            raise ValueError(f"{op}: n_samples as a pair must be two counts (outer, inner), got {n!r}")
        n_out, n_in = int(n[0]), int(n[1])
    else:
        n = positive_int(op, "n", n)
        n_out, n_in = n // 2, n - n // 2
    return n_out, n_in, seed, 0.0 if noise is None else noise


def make_moons(n: int | None = None, noise: float | None = 0.1, seed=None, shuffle: bool = True, *,
               n_samples=None, random_state=None):
    """Two interleaving half circles (scikit-learn's; its n_samples= and random_state= work): labels 0 and 1."""
    n_out, n_in, seed, noise = _sklearn_names("make_moons", n, n_samples, seed, random_state, noise)
    rng = generator(seed, fresh=True)
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _finish(X, y, noise, rng, shuffle)


def make_circles(n: int | None = None, noise: float | None = 0.05, factor: float = 0.5, seed=None,
                 shuffle: bool = True, *, n_samples=None, random_state=None):
    """A unit circle (label 0) around one of radius ``factor`` (label 1); scikit-learn's names work too."""
    n_out, n_in, seed, noise = _sklearn_names("make_circles", n, n_samples, seed, random_state, noise)
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be in [0, 1), got {factor!r}")
    rng = generator(seed, fresh=True)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _finish(X, y, noise, rng, shuffle)


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed=None, shuffle: bool = True):
    """CS231n's spirals: ``classes`` arms of n // classes points (the first n % classes arms get one more);
    ``noise`` is the standard deviation of the angle noise."""
    n = positive_int("make_spirals", "n", n)
    classes = positive_int("make_spirals", "classes", classes)
    if noise < 0:
        raise ValueError(f"make_spirals: noise must be >= 0, got {noise!r}")
    rng = generator(seed, fresh=True)
    parts, labels = [], []
    for c in range(classes):
        m = n // classes + (c < n % classes)
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, m) + (rng.normal(0.0, noise, m) if noise else 0.0)
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        labels.append(np.full(m, c))
    return _finish(np.concatenate(parts), np.concatenate(labels), 0.0, rng, shuffle)


def xor(n: int = 200, noise: float = 0.1, seed=None, shuffle: bool = True):
    """Points around the corners (0,0), (0,1), (1,0), (1,1) with Gaussian noise; label x0 XOR x1."""
    n = positive_int("xor", "n", n)
    rng = generator(seed, fresh=True)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    which = np.arange(n) % 4
    X = corners[which]
    y = (corners[which, 0] != corners[which, 1]).astype(np.int64)
    return _finish(X, y, noise, rng, shuffle)


def consecutive_ones(n_bits: int = 4):
    """Every n_bits-bit vector (in counting order, x1 the most significant), label 1 when two adjacent
    bits are both 1: the lecture's perceptron example ([0,1,1,0] -> 1, [1,0,0,1] -> 0)."""
    n_bits = positive_int("consecutive_ones", "n_bits", n_bits)
    if n_bits > 20:
        raise ValueError(f"consecutive_ones: n_bits={n_bits} would make 2**{n_bits} vectors")
    codes = np.arange(2 ** n_bits)
    X = (codes[:, None] >> np.arange(n_bits - 1, -1, -1)) & 1
    y = (X[:, :-1] & X[:, 1:]).any(axis=1) if n_bits > 1 else np.zeros(len(X), dtype=bool)
    return X.astype(np.float32), y.astype(np.int64)


# --- the digits ----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    raw = np.loadtxt(_DATASETS / "digits.csv.gz", delimiter=",", dtype=np.int64)
    return raw[:, :64].astype(np.float32), raw[:, 64].astype(np.int64)


# Source: UCI ML repository, "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak (1998),
# CC BY 4.0; the copy bundled with scikit-learn.
def load_digits(images: bool = False):
    """The 8x8 handwritten digits shipped with nn: X float32 (1797, 64), or (1797, 1, 8, 8) with ``images``,
    pixel values 0..16; y int64 labels 0..9."""
    X, y = _digits()
    X = X.copy()
    return (X.reshape(-1, 1, 8, 8) if images else X), y.copy()


# --- IDX (the MNIST file format) -----------------------------------------------------------------

# An IDX file: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per dimension,
# then the data, big-endian, in C order.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_TYPES.items()}


def load_idx(path) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed, detected from its first bytes) into an ndarray."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ValueError(f"load_idx: {path}: corrupt gzip data ({error})") from None
    if len(raw) < 4:
        raise ValueError(f"load_idx: {path}: truncated file, {len(raw)} bytes is shorter than the 4-byte "
                         "magic number")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"load_idx: {path}: bad magic number 0x{raw[:4].hex()}, an IDX file starts with "
                         "two zero bytes")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"load_idx: {path}: unknown data type code 0x{code:02x} (expected one of "
                         f"{', '.join(f'0x{c:02x}' for c in _IDX_TYPES)})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"load_idx: {path}: truncated header, {ndim} dimensions need {header} bytes, "
                         f"the file has {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[code])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        problem = "truncated data" if len(raw) < expected else f"{len(raw) - expected} unexpected trailing bytes"
        raise ValueError(f"load_idx: {path}: {problem}: shape {shape} of {dtype.name} needs {expected} bytes, "
                         f"the file has {len(raw)}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def save_idx(path, array) -> None:
    """Write an array as an IDX file, gzip-compressed when the path ends in ``.gz``."""
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"save_idx: IDX cannot store dtype {array.dtype} (uint8, int8, int16, int32, "
                        "float32 or float64)")
    if array.ndim > 255:
        raise ValueError("save_idx: at most 255 dimensions")
    raw = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes() \
        + np.ascontiguousarray(array, dtype=_IDX_TYPES[code]).tobytes()
    path = os.fspath(path)
    if path.endswith(".gz"):
        raw = gzip.compress(raw)
    with open(path, "wb") as f:
        f.write(raw)


def load_mnist(root, normalize: bool = True):
    """``X_train, y_train, X_test, y_test`` of MNIST (or Fashion-MNIST) from the four IDX files in ``root``
    (``.gz`` or not; nothing is downloaded): X float32 (n, 784), in [0, 1] if ``normalize``; y int64."""
    root = Path(root)

    def read(stem: str) -> np.ndarray:
        for name in (stem, stem + ".gz"):
            if (root / name).exists():
                return load_idx(root / name)
        raise FileNotFoundError(f"load_mnist: neither {stem} nor {stem}.gz in {root}")

    out = []
    for split in ("train", "t10k"):
        images = read(f"{split}-images-idx3-ubyte").reshape(-1, 28 * 28).astype(np.float32)
        out += [images / 255.0 if normalize else images, read(f"{split}-labels-idx1-ubyte").astype(np.int64)]
    return tuple(out)
