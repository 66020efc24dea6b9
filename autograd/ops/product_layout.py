"""``x @ W.T`` for a few rows ``x`` and a transposed matrix, run whichever way round is faster, timed once per shape.

A linear layer's forward multiplies the batch by its weight transposed. With a few rows (a small batch)
OpenBLAS can run the same product as ``(W @ x.T).T`` up to twice as fast, or slower, depending on the
shape and on the CPU's kernel (an AMD EPYC with OpenBLAS's SkylakeX kernel: 784 -> 256 at batch 8 took
131 us one way and 69 us the other, at batch 4 the first way won; see BENCHMARKS.md). So the first
product of each shape runs both ways three times and keeps the faster, but the swapped way only if it
gives the same bits: the choice changes the speed, never a number. Not while a step is being captured
(``autograd.compile``), which must record only the step's own work.
"""

from __future__ import annotations

import time

import numpy as np

from .. import capture

__all__ = ["transposed_product"]

MAX_ROWS = 256  # more rows than this: OpenBLAS's usual way was the faster at every shape measured
MIN_WORK = 1 << 18  # rows x columns x inner length below this: a product of a few microseconds, not worth timing
GAIN = 0.9  # the swapped way must take at most this fraction of the usual way's time
_swap: dict = {}  # (rows, inner, columns, dtype) -> whether to run it as (W @ x.T).T


def transposed_product(x: np.ndarray, wt: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """x @ wt for a C-contiguous 2-D ``x`` and a transposed (F-contiguous) 2-D ``wt`` of x's float dtype,
    into ``out`` (C-contiguous) if given."""
    key = (*x.shape, wt.shape[1], x.dtype.char)
    swap = _swap.get(key)
    if swap is None:
        swap = _choose(key, x, wt)
    if not swap:
        return np.matmul(x, wt, out=out)
    flipped = np.matmul(wt.T, x.T)  # (W @ x.T): the same dot products, laid out the other way
    if out is None:
        return np.ascontiguousarray(flipped.T)
    np.copyto(out, flipped.T)
    return out


def _choose(key: tuple, x: np.ndarray, wt: np.ndarray) -> bool:
    rows, inner, columns, _ = key
    if rows > MAX_ROWS or rows * inner * columns < MIN_WORK:
        _swap[key] = False
        return False
    if capture.recording is not None:  # decided on an eager call, not inside a recorded one
        return False
    usual = swapped = float("inf")
    clock = time.perf_counter
    for _ in range(3):
        start = clock()
        plain = np.matmul(x, wt)
        middle = clock()
        flipped = np.ascontiguousarray(np.matmul(wt.T, x.T).T)
        end = clock()
        usual, swapped = min(usual, middle - start), min(swapped, end - middle)
    _swap[key] = choice = swapped < GAIN * usual and np.array_equal(plain, flipped, equal_nan=True)
    return choice
