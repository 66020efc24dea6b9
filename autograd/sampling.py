"""torch's random sampling: Generator, manual_seed, rand, randn, randint, normal, multinomial, randperm.

Draws come from a ``Generator`` over NumPy's PCG64: the distributions, shapes, dtypes, errors and
seeding calls are torch's, but torch's exact random streams are not reproduced (the same seed gives
the same numbers here on every run, not the numbers torch would give).
"""

from __future__ import annotations

import numbers
import operator
import os

import numpy as np

from . import capture
from .factories import _dtype, _like, _make, _size, promote, torch_name
from .tensor_class import Tensor

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "rand", "randn", "randint",
    "normal", "multinomial", "randperm", "rand_like", "randn_like",
]

_TORCH_DEFAULT_SEED = 67280421310721  # a fresh torch.Generator's initial_seed()
class Generator:
    """torch.Generator's seeding interface over NumPy's PCG64 (fresh ones start from torch's default seed)."""

    def __init__(self, device: str = "cpu"):
        self.device = device
        self.manual_seed(_TORCH_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (negative seeds wrap to unsigned, as torch); returns self."""
        if isinstance(seed, (float, str)) or not isinstance(seed, (numbers.Integral, Tensor)):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = operator.index(seed)
        if not -2 ** 63 <= seed < 2 ** 64:
            raise ValueError("Overflow when unpacking long long")
        self._initial, self._rng = seed % 2 ** 64, None
        return self

    @property
    def rng(self) -> np.random.Generator:
        """The NumPy generator, made at the first draw (so ``import autograd`` does not load numpy.random)."""
        if self._rng is None:
            self._rng = np.random.Generator(np.random.PCG64(self._initial))
        return self._rng

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        new = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(new)
        return new

    def initial_seed(self) -> int:
        """The seed this stream started from."""
        return self._initial

    def get_state(self) -> dict:
        """The bit generator's state (a dict, where torch returns a byte tensor), for ``set_state``."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        """Resume from a state ``get_state`` returned."""
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()
default_generator.seed()  # as torch: a new process draws different numbers until manual_seed


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (``int(seed)``, as torch) and return it."""
    return default_generator.manual_seed(int(seed))


def seed() -> int:
    """Reseed the default generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator started from."""
    return default_generator.initial_seed()


def _rng(generator: Generator | None) -> np.random.Generator:
    rng = (generator or default_generator).rng
    return rng if capture.recording is None else capture.generator(rng, lambda: (generator or default_generator).rng)


def _float_dtype(op: str, dtype) -> np.dtype:
    dtype = _dtype(dtype, np.float32)
    if dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for \'{torch_name(dtype)}\': floating dtypes only')
    return dtype


def rand(*size, generator: Generator | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1), ``rand(2, 3)`` or ``rand((2, 3))``; float32 unless ``dtype``."""
    dtype = _float_dtype("check_uniform_bounds", dtype)
    work = dtype if dtype.itemsize >= 4 else np.float32  # NumPy draws float32 or float64
    draws = _rng(generator).random(_size("rand", size), work).astype(dtype, copy=False)
    return _make(np.minimum(draws, np.nextafter(dtype.type(1), dtype.type(0))), requires_grad)  # half rounds to 1


def randn(*size, generator: Generator | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, ``randn(2, 3)`` or ``randn((2, 3))``; float32 unless ``dtype``."""
    dtype = _float_dtype("normal_kernel_cpu", dtype)
    work = dtype if dtype.itemsize >= 4 else np.float32
    draws = _rng(generator).standard_normal(_size("randn", size), work)
    return _make(draws.astype(dtype, copy=False), requires_grad)


def rand_like(input, dtype=None, requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    """Uniform samples on [0, 1) of ``input``'s shape and dtype."""
    input = _like(input)
    return rand(input.shape, generator=generator, dtype=_dtype(dtype, input.dtype), requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    """Standard normal samples of ``input``'s shape and dtype."""
    input = _like(input)
    return randn(input.shape, generator=generator, dtype=_dtype(dtype, input.dtype), requires_grad=requires_grad)


def randint(*args, low=None, high=None, size=None, generator: Generator | None = None, dtype=None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``; int64."""
    if len(args) == 3 or (len(args) == 2 and size is not None):
        low, high, *rest = args
        size = rest[0] if rest else size
    elif len(args) == 2:
        high, size = args
    elif len(args) == 1:
        low, high = (None, args[0]) if high is None else (args[0], high)
    low = 0 if low is None else low
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: use randint(high, size) or randint(low, high, size)")
    for name, value in (("low", low), ("high", high)):
        if not isinstance(value, (numbers.Integral, Tensor)):
            raise TypeError(f"randint(): argument '{name}' must be int, not {type(value).__name__}")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    low, high = operator.index(low), operator.index(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    draws = _rng(generator).integers(low, high, _size("randint", (size,)), dtype=np.int64)
    return _make(draws.astype(_dtype(dtype, np.int64), copy=False), requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype``)."""
    if not isinstance(n, (numbers.Integral, Tensor)) or isinstance(n, bool):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    (n,) = _size("randperm", (n,))
    return _make(_rng(generator).permutation(n).astype(_dtype(dtype, np.int64)), requires_grad)


def normal(mean, std=1.0, size=None, *, generator: Generator | None = None, dtype=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean, std, size)`` for numbers, or elementwise over tensor ``mean``/``std``."""
    tensors = [x for x in (mean, std) if isinstance(x, (Tensor, list, tuple, np.ndarray))]
    if not tensors:
        if size is None:
            raise TypeError("normal(): with a number mean and std, size is required: normal(mean, std, size)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        shape, dtype = _size("normal", (size,)), _float_dtype("normal_kernel_cpu", dtype)
        mean_data, std_data = mean, std
    else:
        if size is not None or dtype is not None:
            raise TypeError("normal(): size and dtype are only for a number mean and std; tensors set them")
        mean, std = (_like(x) if isinstance(x, (Tensor, list, tuple, np.ndarray)) else x for x in (mean, std))
        kinds = [x.dtype for x in (mean, std) if isinstance(x, Tensor)]
        dtype = _float_dtype("normal_kernel_cpu", promote(kinds))
        mean_data, std_data = (x.numpy() if isinstance(x, Tensor) else x for x in (mean, std))
        if not isinstance(std, Tensor) and std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if isinstance(std, Tensor) and np.any(std_data < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(mean_data), np.shape(std_data))
    draws = _rng(generator).standard_normal(shape)
    return _make((mean_data + std_data * draws).astype(dtype), requires_grad)


def multinomial(input, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """Category indices drawn with probabilities proportional to each row of ``input`` (int64)."""
    input = _like(input)
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {torch_name(input.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if categories > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    weights = input.numpy().reshape(-1, categories).astype(np.float64)
    if not np.all(np.isfinite(weights) & (weights >= 0)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(weights.sum(axis=1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng, rows = _rng(generator), len(weights)
    if replacement:  # inverse CDF; one sorted search over all rows, each shifted by its row number
        cdf = np.cumsum(weights, axis=1)
        cdf /= cdf[:, -1:]
        shift = np.arange(rows)[:, None]
        found = np.searchsorted((cdf + shift).ravel(), (rng.random((rows, num_samples)) + shift).ravel(), "right")
        last = categories - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)  # rounding never picks past it
        samples = np.minimum(found.reshape(rows, num_samples) - shift * categories, last[:, None])
    else:  # an exponential race: the order of weight / Exp(1) is the order of draws without replacement
        keys = weights / rng.standard_exponential(weights.shape)
        samples = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return Tensor(samples.reshape(input.shape[:-1] + (num_samples,)).astype(np.int64))
