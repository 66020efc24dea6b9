"""Reused memory for the big arrays the hot ops make (activations, their gradients, im2col columns).

glibc hands big freed blocks back to the OS, so a training step that makes the same arrays every
time page-faults every one of them afresh (a CNN step here: 3,900 faults, 2.3x slower). The hot ops
therefore write their results (``out=``) into blocks kept here: a block is handed out again once
no array refers to it any more, which its reference count tells exactly (every view of a block
refers to it, also views of views). Small arrays come from malloc's free lists, which it keeps.
"""

from __future__ import annotations

import bisect
import math
import sys
import threading

import numpy as np

__all__ = ["out", "out_like", "broadcast_out", "empty", "empty_like", "zeros", "reshape", "release"]

# Below this, malloc's own recycling wins: glibc keeps freed blocks of this size (its mmap threshold rises
# to the largest block a process frees), hands back the one freed last, still in cache, and costs no
# Python. Pooling from 128 KB made the MLP step at batch 128 about 4% slower than malloc (1.10x -> 1.06x
# the hand-written NumPy step without the pool); what page-faults is the churn of multi-megabyte arrays.
MIN_BYTES = 1 << 20
CAPACITY = 256 << 20  # idle blocks beyond this many bytes held are released

_lock = threading.Lock()
_blocks: dict[int, list] = {}  # size in bytes -> blocks of that size
_sizes: list = []  # the sizes, ascending
_held = 0


def _free_count() -> int:
    """A block's reference count, seen in ``_take``'s loop, when nothing but the pool refers to it."""
    blocks = [np.empty(1, np.uint8)]
    for block in blocks:
        return sys.getrefcount(block)


_FREE = _free_count()


def _take(nbytes: int) -> np.ndarray:
    """An idle block of at least ``nbytes`` (the smallest, at most twice that), else a new one: a
    block freed by one array then also serves the next, smaller one, as malloc's memory would."""
    global _held
    with _lock:
        for size in _sizes[bisect.bisect_left(_sizes, nbytes):bisect.bisect_right(_sizes, 2 * nbytes)]:
            for block in _blocks[size]:
                if sys.getrefcount(block) == _FREE:
                    return block[:nbytes]
        block = np.empty(nbytes, np.uint8)
        if nbytes not in _blocks:
            bisect.insort(_sizes, nbytes)
            _blocks[nbytes] = []
        _blocks[nbytes].append(block)
        _held += nbytes
        if _held > CAPACITY:
            _release_idle()
        return block


def _release_idle() -> None:
    global _held
    for size, blocks in _blocks.items():
        kept = []
        for block in blocks:
            if sys.getrefcount(block) == _FREE:
                _held -= size
            else:
                kept.append(block)
        blocks[:] = kept


def _viewed_count() -> int:
    """A block's reference count, seen by ``sole_view``, when one view and the pool refer to it."""
    blocks = [np.empty(8, np.uint8)]
    return _base_refcount(blocks[0][:4])


def _base_refcount(a: np.ndarray) -> int:
    base = a.base
    return sys.getrefcount(base)


_VIEWED = _viewed_count()


def sole_view(a: np.ndarray) -> bool:
    """True if ``a`` is a view of one of the pool's blocks that nothing else refers to."""
    if _base_refcount(a) != _VIEWED:  # counted first: a local holding the base would add one
        return False
    base = a.base
    return isinstance(base, np.ndarray) and any(block is base for block in _blocks.get(base.nbytes, ()))


def release() -> None:
    """Give every idle block back to malloc."""
    with _lock:
        _release_idle()


def out(shape: tuple, dtype, like: np.ndarray | None = None) -> np.ndarray | None:
    """Where a result of ``shape`` goes (``out=`` of a ufunc or matmul): a reused block laid out as
    ``like`` if it is big, else None, so NumPy allocates it from malloc's free lists."""
    itemsize = dtype.itemsize if isinstance(dtype, np.dtype) else np.dtype(dtype).itemsize
    if math.prod(shape) * itemsize < MIN_BYTES:
        return None
    return empty(shape, dtype, like)


def out_like(a: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray | None:
    """``out`` for a result of a's shape, laid out as a, of a's dtype or ``dtype`` (an np.dtype): a reused
    block if big, else None; the cheapest test, for the hot elementwise ops."""
    dtype = a.dtype if dtype is None else dtype
    if a.size * dtype.itemsize < MIN_BYTES:
        return None
    return empty(a.shape, dtype, a)


def empty_like(a: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """An uninitialised array of a's shape, laid out as a, of a's dtype or ``dtype`` (an np.dtype): a reused
    block if big, else NumPy's."""
    dtype = a.dtype if dtype is None else dtype
    if a.size * dtype.itemsize < MIN_BYTES:
        return np.empty_like(a, dtype)
    return empty(a.shape, dtype, a)


def broadcast_out(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """``out`` for an elementwise result of x and y of one float dtype (NumPy's broadcasting), laid out
    as the operand of the result's shape; None (malloc) for a small one, decided before any shape work."""
    if max(x.nbytes, y.nbytes) < MIN_BYTES:  # the result is at least as big as either operand
        return None
    shape = x.shape if x.shape == y.shape else np.broadcast_shapes(x.shape, y.shape)
    return empty(shape, x.dtype, x if x.shape == shape else y if y.shape == shape else None)


def empty(shape: tuple, dtype, like: np.ndarray | None = None) -> np.ndarray:
    """An uninitialised array of ``shape``; its axes are laid out in memory in the order of ``like``'s
    (an array of the same number of dimensions), so elementwise work on both runs along memory."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if like is None or like.flags.c_contiguous or like.ndim != len(shape):  # row-major
        return np.empty(shape, dtype) if nbytes < MIN_BYTES else _take(nbytes).view(dtype).reshape(shape)
    if nbytes < MIN_BYTES:
        return np.empty_like(like, dtype, shape=shape)
    order = sorted(range(len(shape)), key=lambda i: -abs(like.strides[i]))  # outer first
    out = _take(nbytes).view(dtype).reshape(tuple(shape[i] for i in order))
    return out.transpose(np.argsort(order))


def zeros(shape: tuple, dtype, like: np.ndarray | None = None) -> np.ndarray:
    """``empty`` filled with zeros."""
    out = empty(shape, dtype, like)
    out.fill(0)
    return out


def reshape(x: np.ndarray, shape: tuple) -> np.ndarray:
    """``x.reshape(shape)``; when that has to copy a big array, the copy goes to a reused block (a Tensor
    under create_graph reshapes as it does, recorded)."""
    if x.__class__ is not np.ndarray or x.flags.c_contiguous or x.nbytes < MIN_BYTES:
        return x.reshape(shape)
    try:
        return np.reshape(x, shape, copy=False)
    except TypeError:  # NumPy < 2.1 has no copy=
        return x.reshape(shape)
    except ValueError:  # a copy is needed (or the shape is wrong: the reshape below says so)
        out = empty(x.shape, x.dtype)
        np.copyto(out, x)
        return out.reshape(shape)
