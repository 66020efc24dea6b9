"""Weight initialisers as torch.nn.init, in place on a Tensor's data (dtype kept), with torch's fans.

``seed`` is an int, a ``np.random.Generator`` (which is advanced), or None for fresh entropy.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from autograd import Tensor

from ._helpers import generator

__all__ = [
    "calculate_gain", "calculate_fan_in_and_fan_out", "uniform_", "normal_", "constant_", "zeros_", "ones_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "sigmoid")


def _array(t) -> np.ndarray:
    if isinstance(t, Tensor):
        array = t._data
    elif isinstance(t, np.ndarray):
        array = t
    else:
        raise TypeError(f"init: expected a Tensor (or ndarray), got {type(t).__name__}")
    if array.dtype.kind != "f":
        raise TypeError(f"init: expected a floating-point tensor, got dtype {array.dtype}")
    return array


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (torch.nn.init.calculate_gain)."""
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(t) -> tuple[int, int]:
    """(in * prod(kernel), out * prod(kernel)) of a weight of shape (out, in, *kernel), as torch's."""
    shape = _array(t).shape
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(t, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(t)
    return fan_in if mode == "fan_in" else fan_out


def _fill(t, values):
    np.copyto(_array(t), values, casting="unsafe")
    return t


def uniform_(t, a: float = 0.0, b: float = 1.0, seed=None):
    """Fill with samples from U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a!r}, b={b!r}")
    return _fill(t, generator(seed, fresh=True).uniform(a, b, size=_array(t).shape))


def normal_(t, std: float | None = None, mean: float = 0.0, seed=None):
    """Fill with samples from N(mean, std**2); ``std=None`` means 1 / sqrt(fan_in)."""
    if std is None:
        fan_in = calculate_fan_in_and_fan_out(t)[0]
        if fan_in == 0:
            raise ValueError("normal_: std=None needs fan_in > 0")
        std = 1.0 / math.sqrt(fan_in)
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std!r}")
    return _fill(t, generator(seed, fresh=True).normal(mean, std, size=_array(t).shape))


def constant_(t, val: float):
    """Fill with ``val``."""
    _array(t).fill(val)
    return t


def zeros_(t):
    """Fill with zeros."""
    return constant_(t, 0.0)


def ones_(t):
    """Fill with ones."""
    return constant_(t, 1.0)


def xavier_uniform_(t, gain: float = 1.0, seed=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return uniform_(t, -bound, bound, seed=seed)


def xavier_normal_(t, gain: float = 1.0, seed=None):
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(t)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return normal_(t, std=std, seed=seed)


def kaiming_uniform_(t, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", seed=None):
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(t, mode)
    if _array(t).size == 0:
        return t
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(t, -bound, bound, seed=seed)


def kaiming_normal_(t, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", seed=None):
    """He normal: N(0, std**2) with std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(t, mode)
    if _array(t).size == 0:
        return t
    return normal_(t, std=calculate_gain(nonlinearity, a) / math.sqrt(fan), seed=seed)
