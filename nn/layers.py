"""Tensor layers as Modules: Linear, Conv2d, pooling, Flatten, Dropout, batch norm, activations.

Parameter names, layouts, defaults and initialisation are torch.nn's, so ``model.state_dict()``
loads into the same torch model with ``torch.from_numpy``. Layers with parameters take ``dtype``
(float32 by default) and ``seed=`` (an int) or ``rng=`` (a numpy Generator) for reproducible
initialisation; with neither, NumPy's global state is used, so ``np.random.seed`` applies.
Embedding lives in ``nn.sparse`` and LayerNorm in ``nn.normalization`` (as in torch.nn); both are re-exported here.
"""

from __future__ import annotations

import math

import numpy as np

from autograd import Tensor, no_grad
from autograd.ops import UNSET, pair, resolve

from . import functional as F
from . import init
from ._helpers import parameter as _parameter
from ._helpers import positive_int as _count
from .module import Module
from .normalization import LayerNorm
from .sparse import Embedding

__all__ = [
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d",
    "ReLU", "LeakyReLU", "ELU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Identity", "Embedding", "LayerNorm",
]


def _torch_default_init(weight: Tensor, bias: Tensor | None, rng: np.random.Generator) -> None:
    """torch's reset_parameters: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), for both."""
    init.kaiming_uniform_(weight, a=math.sqrt(5), seed=rng)
    if bias is not None:
        fan_in = init.calculate_fan_in_and_fan_out(weight)[0]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound, seed=rng)


def _input(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features), both from U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, dtype=np.float32,
                 seed=None, rng=None):
        self.in_features = _count("Linear", "in_features", in_features)
        self.out_features = _count("Linear", "out_features", out_features)
        self.weight = _parameter((self.out_features, self.in_features), dtype)
        self.bias = _parameter((self.out_features,), dtype) if bias else None
        _torch_default_init(self.weight, self.bias, F._generator(seed, rng))

    def forward(self, x) -> Tensor:
        x = _input(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features} -> {self.out_features}): expected input with last "
                             f"dimension {self.in_features}, got shape {x.shape}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv2d(Module):
    """2-D convolution of (N, in_channels, H, W) inputs: weight (out, in, kh, kw), bias (out,), torch's init.

    The output is (N, out_channels, (H + 2P - F) // S + 1, (W + 2P - F) // S + 1).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, *, dtype=np.float32, seed=None, rng=None):
        self.in_channels = _count("Conv2d", "in_channels", in_channels)
        self.out_channels = _count("Conv2d", "out_channels", out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = pair(padding, "padding", "Conv2d", 0)
        self.dilation = pair(dilation, "dilation", "Conv2d", 1)
        self.weight = _parameter((self.out_channels, self.in_channels) + self.kernel_size, dtype)
        self.bias = _parameter((self.out_channels,), dtype) if bias else None
        _torch_default_init(self.weight, self.bias, F._generator(seed, rng))

    def forward(self, x) -> Tensor:
        x = _input(x)
        if x.ndim not in (3, 4) or x.shape[-3] != self.in_channels:
            raise ValueError(f"Conv2d({self.in_channels} -> {self.out_channels}, kernel_size={self.kernel_size}): "
                             f"expected input of shape (N, {self.in_channels}, H, W), got shape {x.shape}")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        return text + ("" if self.bias is not None else ", bias=False")


class _Pool2d(Module):
    _function = None

    def __init__(self, kernel_size, stride=None, padding=0):
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", name, 1)
        self.padding = pair(padding, "padding", name, 0)

    def forward(self, x) -> Tensor:
        return type(self)._function(_input(x), self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each kernel_size window (stride defaults to kernel_size), per channel."""

    _function = staticmethod(F.max_pool2d)


class AvgPool2d(_Pool2d):
    """The mean of each kernel_size window (stride defaults to kernel_size), per channel."""

    _function = staticmethod(F.avg_pool2d)


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x) -> Tensor:
        return _input(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout while training (zero with probability p, scale the rest by 1/(1-p)); identity in eval."""

    def __init__(self, p: float = 0.5, *, seed=None, rng=None):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self._rng = F._generator(seed, rng)  # private: not state; a fresh mask every call

    def forward(self, x) -> Tensor:
        return F.dropout(_input(x), self.p, self.training, rng=self._rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _BatchNorm(Module):
    """Normalise each channel with the batch's mean and biased variance while training, then scale by
    ``weight`` (gamma, init 1) and shift by ``bias`` (beta, init 0). The running averages (updated as
    torch: ``running = (1 - momentum) running + momentum batch``, the variance unbiased) normalise in
    eval mode. ``momentum=None`` keeps a cumulative average instead."""

    _shapes = ""  # the accepted input layouts, for errors
    _ndims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, *, dtype=np.float32):
        name = type(self).__name__
        self.num_features = _count(name, "num_features", num_features)
        if not eps > 0:
            raise ValueError(f"{name}: eps must be > 0, got {eps!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.eps, self.momentum = float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        c = self.num_features
        self.weight = init.ones_(_parameter((c,), dtype)) if affine else None
        self.bias = _parameter((c,), dtype) if affine else None
        if track_running_stats:
            self.running_mean = Tensor(np.zeros(c, dtype=dtype))
            self.running_var = Tensor(np.ones(c, dtype=dtype))
            self.num_batches_tracked = Tensor(np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def _check(self, x: Tensor) -> None:
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            shapes = self._shapes.format(c=self.num_features)
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input of shape {shapes}, "
                             f"got shape {x.shape}")

    def forward(self, x) -> Tensor:
        x = _input(x)
        self._check(x)
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)  # broadcasts a per-channel vector
        if self.training or not self.track_running_stats:
            count = x.numel() // self.num_features
            if self.training and count <= 1:
                raise ValueError(f"{type(self).__name__}: expected more than 1 value per channel when training, "
                                 f"got input shape {x.shape}")
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._update_running(mean._data.reshape(-1), var._data.reshape(-1), count)
            scale = (var + self.eps) ** -0.5
            if self.affine:
                scale = scale * self.weight.reshape(shape)
            out = centered * scale
        else:
            running_var = self.running_var._data
            inv_std = Tensor((running_var + running_var.dtype.type(self.eps)) ** -0.5)
            scale = self.weight * inv_std if self.affine else inv_std
            shift = -Tensor(self.running_mean._data) * scale
            out = x * scale.reshape(shape) + shift.reshape(shape)
        return out + self.bias.reshape(shape) if self.affine else out

    def _update_running(self, mean: np.ndarray, var: np.ndarray, count: int) -> None:
        with no_grad():
            self.num_batches_tracked._data += 1
            factor = 1.0 / int(self.num_batches_tracked._data) if self.momentum is None else self.momentum
            unbiased = var * (count / (count - 1))
            for running, batch in ((self.running_mean._data, mean), (self.running_var._data, unbiased)):
                running *= 1 - factor
                running += (factor * batch).astype(running.dtype, copy=False)

    def extra_repr(self) -> str:
        text = f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
        if not self.affine:
            text += ", affine=False"
        if not self.track_running_stats:
            text += ", track_running_stats=False"
        return text


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over the batch (and length) axes, per feature."""

    _shapes = "(N, {c}) or (N, {c}, L)"
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs over the batch and spatial axes, per channel."""

    _shapes = "(N, {c}, H, W)"
    _ndims = (4,)


# --- activations ----------------------------------------------------------------------------------

class ReLU(Module):
    """max(0, x)."""

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, else alpha * (e**x - 1)."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + e**-x)."""

    def forward(self, x):
        return F.sigmoid(x)


class Softmax(Module):
    """softmax along ``axis`` (``dim`` is torch's name), default -1."""

    def __init__(self, axis: int | None = UNSET, *, dim: int | None = UNSET):
        axis = resolve("Softmax", None, axis=axis, dim=dim)
        self.axis = -1 if axis is None else axis

    def forward(self, x):
        return F.softmax(x, axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    """log_softmax along ``axis`` (``dim`` is torch's name), default -1."""

    def forward(self, x):
        return F.log_softmax(x, axis=self.axis)


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x):
        return x
