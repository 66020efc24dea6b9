"""Sliding windows over the last two axes: ``unfold`` (every kernel-sized patch) and its adjoint ``fold``.

Layout: unfolding an (..., H, W) tensor gives (..., out_h, out_w, kh, kw), the strided view NumPy's
``sliding_window_view`` makes of the (zero-)padded input, so the forward copies nothing. Pooling
reduces the last two axes. conv2d moves the channel axis next to the kernel axes and does one
reshape (the single im2col copy) and one matmul, whose result is already laid out by pixel:
(N, C, oh, ow, kh, kw) -> (N, oh, ow, C, kh, kw) -> (N*oh*ow, C*kh*kw) @ weight.reshape(O, -1).T.
Output sizes are PyTorch's: (N + 2P - dilation*(F - 1) - 1) // S + 1 per axis.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..tensor import Tensor, _result
from . import buffers

METHODS = ["unfold", "fold"]


class _Windows(NamedTuple):
    size: tuple  # (H, W) of the unpadded input
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    out: tuple  # (out_h, out_w)


def _pair(value, name: str, minimum: int, op: str = "unfold") -> tuple:
    pair = (value, value) if isinstance(value, (int, np.integer)) else \
        tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum
                                 for v in pair):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _windows(size, kernel_size, stride, padding, dilation) -> _Windows:
    """Validated window geometry for an input whose last two axes have ``size``."""
    kernel, stride = _pair(kernel_size, "kernel_size", 1), _pair(stride, "stride", 1)
    padding, dilation = _pair(padding, "padding", 0), _pair(dilation, "dilation", 1)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(n + 2 * p for n, p in zip(size, padding))
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"unfold: kernel {kernel[0]}x{kernel[1]} (dilation {dilation[0]}x{dilation[1]}, spanning "
            f"{span[0]}x{span[1]}) is bigger than the padded input {padded[0]}x{padded[1]} "
            f"(input {size[0]}x{size[1]}, padding {padding[0]}x{padding[1]})")
    out = tuple((n - s) // st + 1 for n, s, st in zip(padded, span, stride))
    return _Windows(tuple(size), kernel, stride, padding, dilation, out)


def _pad(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """x zero-padded on its last two axes, laid out in memory as x (so the copy runs along memory)."""
    h, w = x.shape[-2:]
    padded = buffers.empty(x.shape[:-2] + (h + 2 * ph, w + 2 * pw), x.dtype, like=x)
    padded[..., :ph, :] = padded[..., ph + h:, :] = 0
    padded[..., ph:ph + h, :pw] = padded[..., ph:ph + h, pw + w:] = 0
    padded[..., ph:ph + h, pw:pw + w] = x
    return padded


def _unfold_array(x: np.ndarray, w: _Windows) -> np.ndarray:
    (ph, pw), (dh, dw), (sh, sw) = w.padding, w.dilation, w.stride
    if ph or pw:
        x = _pad(x, ph, pw)
    span = (dh * (w.kernel[0] - 1) + 1, dw * (w.kernel[1] - 1) + 1)
    return sliding_window_view(x, span, axis=(-2, -1))[..., ::sh, ::sw, ::dh, ::dw]


def _fold_array(cols: np.ndarray, w: _Windows) -> np.ndarray:
    (h, wd), (ph, pw), (dh, dw), (sh, sw), (oh, ow) = w.size, w.padding, w.dilation, w.stride, w.out
    image = buffers.zeros(cols.shape[:-4] + (h + 2 * ph, wd + 2 * pw), cols.dtype, like=cols[..., 0, 0])
    for i in range(w.kernel[0]):  # a loop over kernel offsets; each adds one strided slice of all windows
        for j in range(w.kernel[1]):
            image[..., i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw] += cols[..., i, j]
    return image[..., ph:ph + h, pw:pw + wd] if ph or pw else image


def _unfolded(x: Tensor, w: _Windows) -> Tensor:
    def backward(g, out, v):
        return (_folded(g, w) if isinstance(g, Tensor) else _fold_array(g, w),)
    return _result(_unfold_array(x.data, w), (x,), backward, "unfold")


def _folded(cols: Tensor, w: _Windows) -> Tensor:
    def backward(g, out, v):
        return (_unfolded(g, w) if isinstance(g, Tensor) else _unfold_array(g, w),)
    return _result(_fold_array(cols.data, w), (cols,), backward, "fold")


def unfold(x: Tensor, kernel_size, stride=1, padding=0, dilation=1) -> Tensor:
    """The (..., out_h, out_w, kh, kw) windows of the zero-padded last two axes; the gradient is fold."""
    if x.ndim < 2:
        raise ValueError(f"unfold: needs a tensor of shape (..., H, W), got shape {x.shape}")
    return _unfolded(x, _windows(x.shape[-2:], kernel_size, stride, padding, dilation))


def fold(cols: Tensor, output_size, kernel_size, stride=1, padding=0, dilation=1) -> Tensor:
    """(..., out_h, out_w, kh, kw) windows added back into (..., H, W), unfold's adjoint; the gradient is unfold."""
    w = _windows(_pair(output_size, "output_size", 1, "fold"), kernel_size, stride, padding, dilation)
    if cols.ndim < 4 or cols.shape[-4:] != w.out + w.kernel:
        raise ValueError(f"fold: expected windows of shape (..., {w.out[0]}, {w.out[1]}, {w.kernel[0]}, "
                         f"{w.kernel[1]}) for output size {w.size}, got shape {cols.shape}")
    return _folded(cols, w)
