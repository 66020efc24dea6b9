"""Layer normalisation, as torch's: F.layer_norm and nn.LayerNorm over the trailing ``normalized_shape`` axes.

Each sample is normalised by the mean and the biased variance of its trailing axes, then scaled by
``weight`` and shifted by ``bias`` (elementwise over ``normalized_shape``). One fused op
(``autograd.ops.layer_norm``): the forward keeps x_hat and 1/std for the backward,
dx = rstd * (gw - mean(gw) - x_hat * mean(gw * x_hat)) with gw = g * weight.
"""

from __future__ import annotations

import numbers

import numpy as np

from autograd import Tensor, ops

from . import init
from ._helpers import as_tensor, parameter
from .module import Module

__all__ = ["layer_norm", "LayerNorm"]


def _normalized_shape(owner: str, normalized_shape) -> tuple:
    """An int or a sequence of positive ints as a non-empty tuple."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if not shape or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ValueError(f"{owner}: normalized_shape must be an int or a non-empty tuple of ints, "
                         f"got {normalized_shape!r}")
    return tuple(int(n) for n in shape)


def _affine(name: str, value, shape: tuple, like: Tensor):
    """weight or bias as a Tensor of exactly ``shape`` (None stays None)."""
    if value is None:
        return None
    value = value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=like.dtype))
    if value.shape != shape:
        raise ValueError(f"layer_norm: expected {name} of the same shape as normalized_shape {shape}, "
                         f"got {name} of shape {value.shape}")
    return value


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing normalized_shape axes (biased var, as torch)."""
    x = as_tensor(input)
    shape = _normalized_shape("layer_norm", normalized_shape)
    if x.dtype.kind != "f":
        raise TypeError(f"layer_norm: expected a floating-point input, got dtype {x.dtype}")
    if x.shape[max(x.ndim - len(shape), 0):] != shape or x.ndim < len(shape):
        raise ValueError(f"layer_norm: given normalized_shape={shape}, expected input with shape "
                         f"(*, {', '.join(map(str, shape))}), but got input of shape {x.shape}")
    weight, bias = _affine("weight", weight, shape, x), _affine("bias", bias, shape, x)
    return ops.layer_norm(x, tuple(range(x.ndim - len(shape), x.ndim)), weight, bias, eps)


class LayerNorm(Module):
    """Layer normalisation over the trailing normalized_shape axes; weight (init 1) and bias (init 0) of that shape."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 *, dtype=np.float32):
        self.normalized_shape = _normalized_shape("LayerNorm", normalized_shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.weight = init.ones_(parameter(self.normalized_shape, dtype)) if elementwise_affine else None
        self.bias = parameter(self.normalized_shape, dtype) if elementwise_affine and bias else None

    def forward(self, input) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
