"""The fused losses nn's cross_entropy and nll_loss call once they have checked their arguments.

Not Tensor methods: ``nn.functional.cross_entropy`` / ``nll_loss`` check the shapes, the class
indices, ``weight``, ``ignore_index`` and ``reduction`` and then call one of these ops. Each forward
runs under one ``hush``: a -inf log-probability or an inf logit gives inf or nan, as torch, silently.
"""

from __future__ import annotations

import numpy as np

from ..quiet import hush, unhush
from ..tensor_class import Tensor, _result
from .unary import _float_data


def _flat_picks(shape: tuple, index: np.ndarray) -> np.ndarray:
    """Where row n's class index[n] lies in a C-contiguous (N, C) array: n * C + index[n]. One flat take or
    update through these is 2-3x faster than the same through the pair (arange(N), index)."""
    return np.arange(shape[0]) * shape[1] + index


def nll_loss(a: Tensor, index: np.ndarray, reduction: str = "mean") -> Tensor:
    """-mean (or -sum) of a[n, index[n]] for (N, C) log-probabilities and N class indices, as one op
    (torch's nll_loss); the gradient is -1/N (or -1) at each picked entry, 0 elsewhere.
    The mean of an empty batch is nan, as torch's."""
    rows = np.arange(len(index))
    picked = a._data[rows, index]
    scale = (-1 / len(index) if len(index) else np.nan) if reduction == "mean" else -1.0
    token = hush()
    try:
        data = np.multiply(np.add.reduce(picked), scale, dtype=picked.dtype)
    finally:
        unhush(token)

    def backward(g, out, x):
        if isinstance(g, Tensor):
            picks = np.zeros(x.shape, x.dtype)
            picks[rows, index] = scale
            return (g * picks,)
        grad = np.zeros(x.shape, x.dtype)
        grad[rows, index] = g * scale
        return (grad,)

    return _result(data, (a,), backward, "nll_loss")


# At most this many classes, the softmax runs on a transposed copy of the logits: NumPy reduces along
# the last axis a row at a time, so a max or sum over 27 classes of 256 rows took 13 us, over the rows of
# the (27, 256) copy 1 us (makemore's cross entropy at batch 256: 34 -> 19 us; MLP's 10 classes at 1024:
# 90 -> 25 us). With more classes the rows are long enough and the copy costs more (1000 classes: 82 -> 131 us).
FEW_CLASSES = 32


def _by_rows(x: np.ndarray, index: np.ndarray, flat: np.ndarray) -> tuple:
    """(sum over rows of log_softmax(x)[n, index[n]], softmax(x)) for (N, C) logits, row by row."""
    shifted = np.subtract(x, np.maximum.reduce(x, axis=1, keepdims=True)) if x.size else x.copy()
    probs = np.exp(shifted)
    total = np.add.reduce(probs, axis=1, keepdims=True)
    picked = np.add.reduce(shifted.take(flat)) - np.add.reduce(np.log(total[:, 0]))
    probs /= total
    return picked, probs


def _by_columns(x: np.ndarray, index: np.ndarray, flat: np.ndarray) -> tuple:
    """``_by_rows`` on a (C, N) copy of the logits, every reduction over classes vectorised over the rows;
    the softmax comes back as an (N, C) view of it."""
    rows = x.shape[0]
    shifted = np.empty(x.shape[::-1], x.dtype)  # a copy always (the next lines write into it), which a
    np.copyto(shifted, x.T)  # captured step (autograd.compile) keeps as a buffer of its own
    np.subtract(shifted, np.maximum.reduce(shifted, axis=0), out=shifted)
    picked = np.add.reduce(shifted.take(index * rows + np.arange(rows)))
    probs = np.exp(shifted, out=shifted)
    total = np.add.reduce(probs, axis=0)
    picked -= np.add.reduce(np.log(total))
    probs /= total
    return picked, probs.T


def cross_entropy(a: Tensor, index: np.ndarray, reduction: str = "mean") -> Tensor:
    """Softmax cross entropy of (N, C) logits and N class indices as one op: -mean (or -sum) of
    log_softmax(a)[n, index[n]]; the gradient is (softmax(a) - one_hot) / N (or without the 1/N).

    ``log_softmax`` then ``nll_loss`` in one node, as the lecture's "dz = p - y": the softmax kept
    for the backward is the only array saved."""
    x = _float_data(a)
    flat = _flat_picks(x.shape, index)
    scale = (-1 / len(index) if len(index) else np.nan) if reduction == "mean" else -1.0
    token = hush()
    try:
        picked, probs = (_by_columns if 0 < x.shape[1] <= FEW_CLASSES else _by_rows)(x, index, flat)
        data = np.multiply(picked, scale, dtype=x.dtype)
    finally:
        unhush(token)

    def backward(g, out, x):
        if isinstance(g, Tensor):  # create_graph: the same formula, recorded
            picks = np.zeros(x.shape, x.dtype)
            picks.ravel()[flat] = 1
            return ((x.softmax(axis=1) - picks) * (g * -scale),)
        weight = float(g) * -scale  # a Python float keeps the logits' dtype (and skips 0-d array arithmetic)
        grad = np.multiply(probs, weight, order="C")  # the one buffer written: (p - onehot) * weight
        picks = grad.ravel()  # a view, as grad is C-contiguous (order="C": probs may be a transposed view)
        picks[flat] -= weight
        return (grad,)

    return _result(data, (a,), backward, "cross_entropy")


def _positions(ndim: int, index: np.ndarray) -> tuple:
    """The index tuple that picks one class (axis 1, or 0 for a 1-D input) at every target position."""
    if ndim == 1:
        return (index,)
    if index.ndim == 1:
        return (np.arange(len(index)), index)
    grid = np.indices(index.shape, sparse=True)
    return (grid[0], index) + tuple(grid[1:])


def picked_nll(log_probs: Tensor, index: np.ndarray, reduction: str = "mean", coef=None, ignored=None,
               total: float | None = None) -> Tensor:
    """-coef[n] * log_probs[n, index[n], ...] per target (0 where ``ignored``), summed, or divided by
    ``total`` (default: the number of targets) for the mean, or per target for reduction 'none';
    d/dx = -coef / total (or -coef) at each picked entry, 0 elsewhere.

    nll_loss's general case, for (N, C, d1, ...) or (C,) log-probabilities: ``coef`` is each
    target's weight (None: all 1; 0 where ignored), ``ignored`` a mask of the targets that count
    for nothing (their stand-in class must not turn a -inf log-probability into nan)."""
    x = log_probs._data
    pos = _positions(x.ndim, index)
    if reduction == "mean":
        total = float(index.size) if total is None else total
        scale = -1.0 / total if total else np.nan
    else:
        scale = -1.0
    token = hush()
    try:
        terms = np.asarray(x[pos])
        if coef is not None:
            terms = terms * coef
        if ignored is not None:  # 0 also where an ignored row's stand-in class 0 has a -inf log-probability
            terms = np.where(ignored, 0, terms)
        if reduction == "none":
            data = np.asarray(terms * scale, dtype=x.dtype)
            if ignored is not None:
                data = np.where(ignored, 0, data).astype(x.dtype, copy=False)  # 0, not -0.0
        else:
            data = np.asarray(np.add.reduce(terms, axis=None) * scale, dtype=x.dtype)
    finally:
        unhush(token)

    def picks(g):
        """The gradient's values at the picked entries (0 at ignored targets, which must not turn nan)."""
        values = scale * g if coef is None else scale * g * coef
        return values if ignored is None else np.where(ignored, 0, values)

    def backward(g, out, x):
        if isinstance(g, Tensor):  # create_graph: the same weights times g, recorded
            weights = np.zeros(x.shape, x.dtype)
            weights[pos] = picks(np.ones(index.shape, x.dtype))
            if reduction == "none" and x.ndim > 1:
                g = g.reshape(g.shape[:1] + (1,) + g.shape[1:])  # the class axis, to broadcast against
            return (g * Tensor(weights),)
        grad = np.zeros(x.shape, x.dtype)
        grad[pos] = picks(g if reduction == "none" else float(g))
        return (grad,)

    return _result(data, (log_probs,), backward, "nll_loss")


_BCE_EPS = 1e-12  # torch's: the denominator p (1 - p) is kept at least this large


def binary_cross_entropy(p: Tensor, y: np.ndarray) -> Tensor:
    """Elementwise -(y max(log p, -100) + (1 - y) max(log(1 - p), -100)), as torch's binary_cross_entropy,
    with torch's gradient (p - y) / max(p (1 - p), 1e-12): finite, and 0 through a sigmoid that underflowed."""
    x = p._data
    token = hush()  # log(0): -inf, clamped at -100
    try:
        data = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
        data = data.astype(x.dtype, copy=False)
    finally:
        unhush(token)

    def backward(g, out, x):
        spread = x * (1 - x)
        spread = spread.clamp(min=_BCE_EPS) if isinstance(spread, Tensor) else np.maximum(spread, _BCE_EPS)
        return (g * (x - y) / spread,)

    return _result(data, (p,), backward, "binary_cross_entropy")
