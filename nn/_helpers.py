"""Small helpers shared by nn's functional forms and layers: argument checks, reductions, random generators."""

from __future__ import annotations

import numbers

import numpy as np

from autograd import Tensor, capture

REDUCTIONS = ("mean", "sum", "none")


def as_tensor(x) -> Tensor:
    """``x`` itself if it is a Tensor, else a new constant Tensor of it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def check_reduction(op: str, reduction: str) -> None:
    """A ValueError naming ``op`` unless ``reduction`` is 'mean', 'sum' or 'none'."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def reduce(op: str, loss, reduction: str):
    """The mean, the sum, or (for 'none') the elementwise losses themselves."""
    check_reduction(op, reduction)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def generator(seed=None, rng=None, *, fresh: bool = False) -> np.random.Generator:
    """The numpy Generator for ``rng`` or else ``seed`` (an int, or a Generator used as it is); with neither,
    one seeded from NumPy's global state, so ``np.random.seed`` applies, or from fresh entropy if ``fresh``."""
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        return capture.generator(rng)
    if isinstance(seed, np.random.Generator):
        return capture.generator(seed)
    if seed is None:
        def make():
            return np.random.default_rng(None if fresh else np.random.randint(0, 2 ** 31 - 1))
    elif isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}: {seed!r}")
    else:
        def make():
            return np.random.default_rng(seed)
    rng = make()
    return rng if capture.recording is None else capture.generator(rng, make)


def positive_int(owner: str, name: str, value) -> int:
    """``value`` as an int if it is a positive integer, else a ValueError naming ``owner`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def parameter(shape: tuple, dtype) -> Tensor:
    """A zero-filled leaf Tensor that requires grad (a layer's parameter before initialisation)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"parameters must be floating point, got dtype {dtype}")
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=True)


def target_like(op: str, target, like: Tensor, what: str = "pred") -> Tensor:
    """The target as a Tensor of ``like``'s shape and float dtype (a target that needs grad is kept)."""
    if isinstance(target, Tensor) and target.requires_grad:
        t = target
    else:
        data = target._data if isinstance(target, Tensor) else np.asarray(target)
        t = Tensor(np.asarray(data, dtype=like.dtype))
    if t.shape != like.shape:
        raise ValueError(f"{op}: {what} has shape {like.shape} but target has shape {t.shape}; they must match "
                         f"(reshape one of them, e.g. {what}.reshape(-1), instead of relying on broadcasting)")
    return t
