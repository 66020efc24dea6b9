"""Lookups by integer index, as torch.nn.functional's and torch.nn's: one_hot, embedding and Embedding.

As torch's embedding: the row ``padding_idx`` gets no gradient, ``scale_grad_by_freq`` divides
each row's gradient by how often it occurs in the input, ``max_norm`` rescales the looked-up
rows in place first; ``sparse`` is accepted and the gradient is dense.

An embedding is one fused op, ``autograd.ops.embedding``: a row gather forward, and a weight
gradient that adds each looked-up row's gradient into that row with one ``np.bincount``.
"""

from __future__ import annotations

import numbers

import numpy as np

from autograd import Tensor, ops
from autograd.quiet import hush, unhush

from . import init
from ._helpers import generator, parameter, positive_int
from .module import Module

__all__ = ["one_hot", "embedding", "Embedding"]


def _indices(op: str, indices) -> np.ndarray:
    """The integer ndarray behind ``indices`` (a Tensor, an array, a list or an int); floats are refused."""
    data = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer indices (int64, as torch.tensor([...]) of ints makes), got dtype "
                        f"{data.dtype}; convert with .long()")
    return data


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor of shape tensor.shape + (num_classes,): 1 at each index, 0 elsewhere (-1 infers max + 1)."""
    data = _indices("one_hot", tensor)
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot: num_classes must be an int, got {type(num_classes).__name__}")
    if num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be -1 (infer it) or a count >= 0, got {num_classes}")
    if data.size == 0:
        if num_classes == -1:
            raise ValueError("one_hot: can not infer the total number of classes from an empty tensor; "
                             "pass num_classes")
    elif np.minimum.reduce(data, axis=None) < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {np.minimum.reduce(data, axis=None)}")
    else:
        largest = int(np.maximum.reduce(data, axis=None))
        if num_classes == -1:
            num_classes = largest + 1
        elif largest >= num_classes:
            raise ValueError(f"one_hot: class values must be smaller than num_classes ({num_classes}), "
                             f"got {largest}")
    out = np.zeros(data.shape + (num_classes,), dtype=np.int64)
    if data.size:
        out.reshape(-1, num_classes)[np.arange(data.size), data.ravel()] = 1
    return Tensor(out)


def _renorm(weight: np.ndarray, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    """torch's max_norm: looked-up rows whose norm exceeds max_norm are scaled down to it, in place."""
    rows = np.unique(rows)
    token = hush()  # a norm past the float range is inf (its row then scales to 0), silently
    try:
        norms = np.linalg.norm(weight[rows], ord=norm_type, axis=1)
        big = norms > max_norm
        if big.any():
            weight[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(weight.dtype)
    finally:
        unhush(token)


def embedding(input, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """weight[input]: row i of the (num_embeddings, dim) weight per index i; the gradient adds up per row."""
    idx = _indices("embedding", input)
    if not isinstance(weight, Tensor):
        weight = Tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    num_rows, dim = weight.shape
    if idx.size and (np.minimum.reduce(idx, axis=None) < 0 or np.maximum.reduce(idx, axis=None) >= num_rows):
        bad = idx[(idx < 0) | (idx >= num_rows)].ravel()[0]
        raise IndexError(f"embedding: index {bad} out of range for {num_rows} embeddings")
    if padding_idx is not None:
        padding_idx = _padding_index("embedding", padding_idx, num_rows)
    flat = idx.ravel().astype(np.intp, copy=False)
    if max_norm is not None:
        _renorm(weight._data, flat, max_norm, norm_type)
    factor = kept = None  # per lookup: the gradient's scale, and 0/1 for padding
    if padding_idx is not None:
        kept = (flat != padding_idx).astype(weight.dtype)[:, None]
    if scale_grad_by_freq:
        factor = (1 / np.bincount(flat, minlength=num_rows)[flat]).astype(weight.dtype)[:, None]
    if kept is not None:
        factor = kept if factor is None else factor * kept

    return ops.embedding(weight, flat, idx.shape, factor, kept)


def _padding_index(owner: str, padding_idx, num_embeddings: int) -> int:
    """padding_idx as a row number in [0, num_embeddings) (negative counts from the end, as torch)."""
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral) \
            or not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{owner}: padding_idx must be within num_embeddings ({num_embeddings}), got {padding_idx!r}")
    return int(padding_idx) % num_embeddings


class Embedding(Module):
    """A lookup table: weight (num_embeddings, embedding_dim) from N(0, 1) as torch; row padding_idx zeroed."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, *, dtype=np.float32, seed=None, rng=None):
        self.num_embeddings = positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = positive_int("Embedding", "embedding_dim", embedding_dim)
        self.padding_idx = None if padding_idx is None else \
            _padding_index("Embedding", padding_idx, self.num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = parameter(shape, dtype)
            init.normal_(self.weight, std=1.0, seed=generator(seed, rng))
            if self.padding_idx is not None:
                self.weight._data[self.padding_idx] = 0
        else:
            data = np.array(_weight._data if isinstance(_weight, Tensor) else _weight)
            if data.shape != shape:
                raise ValueError(f"Embedding: _weight must have shape {shape}, got {data.shape}")
            self.weight = Tensor(data, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> "Embedding":
        """An Embedding holding a copy of the 2-D ``embeddings``; ``freeze`` keeps it out of training."""
        data = embeddings._data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {data.shape}")
        return cls(data.shape[0], data.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=data, _freeze=freeze, dtype=data.dtype)

    def forward(self, input) -> Tensor:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2.0:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text + (", sparse=True" if self.sparse else "")
