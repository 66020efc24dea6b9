"""Mini-batches (DataLoader) and shuffled, optionally stratified train/validation/test splits."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator

import numpy as np

from autograd import Tensor

from .._helpers import generator, positive_int

__all__ = ["DataLoader", "train_test_split", "train_val_test_split"]


def _to_array(x, name: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x._data
    array = np.asarray(x)
    if array.ndim == 0:
        raise ValueError(f"{name} must be an array of samples, got a scalar")
    return array


# --- mini-batches ------------------------------------------------------------------------------

class DataLoader:
    """Mini-batches of ``(X_batch, y_batch)`` Tensors (X batches alone if y is None); each ``iter()`` is an
    epoch, reshuffled by a generator seeded once, so a ``seed`` fixes the whole sequence of epochs."""

    def __init__(self, X, y=None, batch_size: int = 32, shuffle: bool = True, seed=None,
                 drop_last: bool = False):
        self.X = self._as_data(X, "X", target=False)
        self.y = None if y is None else self._as_data(y, "y", target=True)
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(f"DataLoader: X has {len(self.X)} samples but y has {len(self.y)}")
        self.batch_size = positive_int("DataLoader", "batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._rng = generator(seed, fresh=True)

    @staticmethod
    def _as_data(x, name: str, target: bool) -> np.ndarray:
        """An ndarray: arrays keep their dtype; lists become float32 (integer label lists int64)."""
        if isinstance(x, Tensor):
            return x._data
        if isinstance(x, np.ndarray):
            array = x
        else:
            array = np.asarray(x)
            if array.dtype.kind == "f" or (array.dtype.kind in "iub" and not target):
                array = array.astype(np.float32)
        if array.ndim == 0:
            raise ValueError(f"DataLoader: {name} must have a sample axis, got a scalar")
        if array.dtype.kind in "iu":
            array = array.astype(np.int64, copy=False)
        elif array.dtype.kind not in "fb":
            raise TypeError(f"DataLoader: {name} must be numeric, got dtype {array.dtype}")
        return array

    @property
    def n_samples(self) -> int:
        return len(self.X)

    def __len__(self) -> int:
        """The number of batches per epoch."""
        if self.drop_last:
            return self.n_samples // self.batch_size
        return math.ceil(self.n_samples / self.batch_size)

    def __iter__(self) -> Iterator:
        n, size = self.n_samples, self.batch_size
        order = self._rng.permutation(n) if self.shuffle else None
        for b in range(len(self)):
            if order is None:
                index = slice(b * size, min((b + 1) * size, n))
            else:
                index = order[b * size:(b + 1) * size]
            xb = Tensor(self.X[index])
            yield xb if self.y is None else (xb, Tensor(self.y[index]))

    def __repr__(self) -> str:
        return (f"DataLoader({self.n_samples} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, {len(self)} batches)")


# --- splits ------------------------------------------------------------------------------------

def _split_count(n: int, size, name: str) -> int:
    """How many of n samples a split of ``size`` (a fraction in (0, 1) or a count) takes."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(f"{name} must be a fraction or a count, got {size!r}")
    if isinstance(size, numbers.Integral):
        if not 0 <= size <= n:
            raise ValueError(f"{name}={size} is not between 0 and the {n} samples")
        return int(size)
    if not 0.0 <= size < 1.0:
        raise ValueError(f"{name}={size!r} must be a fraction in [0, 1) or an int count")
    return math.ceil(size * n)


def _stratified_take(labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``count`` samples taken from each class in proportion (largest remainders round)."""
    classes, inverse = np.unique(labels, return_inverse=True)
    per_class = np.bincount(inverse.ravel(), minlength=len(classes))
    quota = per_class * count / len(labels)
    take = np.floor(quota).astype(int)
    left = count - take.sum()
    if left:
        remainder = quota - take
        order = np.lexsort((rng.random(len(classes)), -remainder))  # ties broken at random
        take[order[:left]] += 1
    chosen = [rng.permutation(np.flatnonzero(inverse == c))[:k] for c, k in enumerate(take)]
    return np.concatenate(chosen) if chosen else np.array([], dtype=int)


def _index(x, idx):
    return Tensor(x._data[idx]) if isinstance(x, Tensor) else _to_array(x, "array")[idx]


def _partition(n: int, sizes: list[int], rng, stratify) -> list[np.ndarray]:
    """Split range(n) into parts of the given sizes (the first part takes the rest), shuffled."""
    rest = np.arange(n)
    parts = []
    for size in sizes:
        if stratify is None:
            pick = rng.permutation(len(rest))[:size]
        else:
            pick = _stratified_take(stratify[rest], size, rng)
        mask = np.zeros(len(rest), dtype=bool)
        mask[pick] = True
        parts.append(rng.permutation(rest[mask]))
        rest = rest[~mask]
    return [rng.permutation(rest)] + parts


def _prepare(X, y, stratify):
    n = len(_to_array(X, "X"))
    if y is not None and len(_to_array(y, "y")) != n:
        raise ValueError(f"X has {n} samples but y has {len(_to_array(y, 'y'))}")
    if stratify is True:
        if y is None:
            raise ValueError("stratify=True needs y")
        stratify = y
    if stratify is not None and stratify is not False:
        stratify = _to_array(stratify, "stratify")
        if len(stratify) != n:
            raise ValueError(f"stratify has {len(stratify)} labels for {n} samples")
    else:
        stratify = None
    return n, stratify


def train_test_split(X, y=None, test_size=0.25, seed=None, stratify=None):
    """Shuffle and split into ``X_train, X_test, y_train, y_test`` (no y: ``X_train, X_test``), as scikit-learn's;
    ``test_size`` is a fraction (rounded up) or a count, ``stratify`` (labels, or True for y) keeps class shares."""
    n, stratify = _prepare(X, y, stratify)
    n_test = _split_count(n, test_size, "test_size")
    train, test = _partition(n, [n_test], generator(seed, fresh=True), stratify)
    out = [_index(X, train), _index(X, test)]
    if y is not None:
        out += [_index(y, train), _index(y, test)]
    return tuple(out)


def train_val_test_split(X, y=None, val_size=0.2, test_size=0.2, seed=None, stratify=None):
    """Split into ``X_train, X_val, X_test, y_train, y_val, y_test``; sizes are fractions of all samples."""
    n, stratify = _prepare(X, y, stratify)
    n_val = _split_count(n, val_size, "val_size")
    n_test = _split_count(n, test_size, "test_size")
    if n_val + n_test > n:
        raise ValueError(f"val_size and test_size take {n_val + n_test} of only {n} samples")
    train, test, val = _partition(n, [n_test, n_val], generator(seed, fresh=True), stratify)
    out = [_index(X, train), _index(X, val), _index(X, test)]
    if y is not None:
        out += [_index(y, train), _index(y, val), _index(y, test)]
    return tuple(out)
