"""Sliding windows over the last two axes: ``unfold`` (every kernel-sized patch), its adjoint ``fold``,
and ``conv2d``, the two fused into one op with a matmul.

Layout: unfolding an (..., H, W) tensor gives (..., out_h, out_w, kh, kw), the strided view NumPy's
``sliding_window_view`` makes of the (zero-)padded input, so the forward copies nothing. Pooling
reduces the last two axes. conv2d copies the windows once into columns (C*kh*kw, oh*ow*N) and does
one matmul with the (O, C*kh*kw) weight, whose result is already laid out by pixel.
Output sizes are PyTorch's: (N + 2P - dilation*(F - 1) - 1) // S + 1 per axis.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import memory
from ..quiet import hush, unhush
from ..tensor_class import Tensor, _result
from .closure import primitive
from .linalg import _product

METHODS = ["unfold", "fold"]


class _Windows(NamedTuple):
    size: tuple  # (H, W) of the unpadded input
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    out: tuple  # (out_h, out_w)


def pair(value, name: str, op: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (each >= minimum) as a pair; else a ValueError naming ``op``."""
    values = (value, value) if isinstance(value, numbers.Integral) else \
        tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= minimum
                                   for v in values):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(values[0]), int(values[1])


def _windows(size, kernel_size, stride, padding, dilation, op: str = "unfold") -> _Windows:
    """Validated window geometry for an input whose last two axes have ``size``; errors name ``op``."""
    kernel, stride = pair(kernel_size, "kernel_size", op, 1), pair(stride, "stride", op, 1)
    padding, dilation = pair(padding, "padding", op, 0), pair(dilation, "dilation", op, 1)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(n + 2 * p for n, p in zip(size, padding))
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"{op}: kernel {kernel[0]}x{kernel[1]} (dilation {dilation[0]}x{dilation[1]}, spanning "
            f"{span[0]}x{span[1]}) is bigger than the padded input {padded[0]}x{padded[1]} "
            f"(input {size[0]}x{size[1]}, padding {padding[0]}x{padding[1]})")
    out = tuple((n - s) // st + 1 for n, s, st in zip(padded, span, stride))
    return _Windows(tuple(size), kernel, stride, padding, dilation, out)


def _pad(x: np.ndarray, ph: int, pw: int, padded: np.ndarray | None = None) -> np.ndarray:
    """x zero-padded on its last two axes, into ``padded`` if given, else into an array laid out in
    memory as x (so the copy runs along memory)."""
    h, w = x.shape[-2:]
    if padded is None:
        padded = memory.empty(x.shape[:-2] + (h + 2 * ph, w + 2 * pw), x.dtype, like=x)
    padded[..., :ph, :] = padded[..., ph + h:, :] = 0
    padded[..., ph:ph + h, :pw] = padded[..., ph:ph + h, pw + w:] = 0
    padded[..., ph:ph + h, pw:pw + w] = x
    return padded


def _unfold_array(x: np.ndarray, w: _Windows, into=None) -> np.ndarray:
    """The windows of x as a strided view (of a padded copy if ``w`` pads)."""
    (ph, pw), (dh, dw), (sh, sw) = w.padding, w.dilation, w.stride
    if ph or pw:
        x = _pad(x, ph, pw)
    span = (dh * (w.kernel[0] - 1) + 1, dw * (w.kernel[1] - 1) + 1)
    return sliding_window_view(x, span, axis=(-2, -1))[..., ::sh, ::sw, ::dh, ::dw]


def _fold_array(cols: np.ndarray, w: _Windows, into=None) -> np.ndarray:
    """Windows added back into the image they came from, unfold's adjoint."""
    (h, wd), (ph, pw), (dh, dw), (sh, sw), (oh, ow) = w.size, w.padding, w.dilation, w.stride, w.out
    image = memory.zeros(cols.shape[:-4] + (h + 2 * ph, wd + 2 * pw), cols.dtype, like=cols[..., 0, 0])
    for i in range(w.kernel[0]):  # a loop over kernel offsets; each adds one strided slice of all windows
        for j in range(w.kernel[1]):
            image[..., i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw] += cols[..., i, j]
    return image[..., ph:ph + h, pw:pw + wd] if ph or pw else image


# Each is the other's adjoint, so each is the other's backward, on arrays or (create_graph) Tensors.
_unfold = primitive("unfold", _unfold_array, adjoint=lambda h, w: _fold(h, w))
_fold = primitive("fold", _fold_array, adjoint=_unfold)


def unfold(x: Tensor, kernel_size, stride=1, padding=0, dilation=1) -> Tensor:
    """The (..., out_h, out_w, kh, kw) windows of the zero-padded last two axes; the gradient is fold."""
    if x.ndim < 2:
        raise ValueError(f"unfold: needs a tensor of shape (..., H, W), got shape {x.shape}")
    return _unfold(x, _windows(x.shape[-2:], kernel_size, stride, padding, dilation))


def fold(cols: Tensor, output_size, kernel_size, stride=1, padding=0, dilation=1) -> Tensor:
    """(..., out_h, out_w, kh, kw) windows added back into (..., H, W), unfold's adjoint; the gradient is unfold."""
    w = _windows(pair(output_size, "output_size", "fold", 1), kernel_size, stride, padding, dilation)
    if cols.ndim < 4 or cols.shape[-4:] != w.out + w.kernel:
        raise ValueError(f"fold: expected windows of shape (..., {w.out[0]}, {w.out[1]}, {w.kernel[0]}, "
                         f"{w.kernel[1]}) for output size {w.size}, got shape {cols.shape}")
    token = hush()  # overlapping windows add up: inf + -inf is nan, silently
    try:
        return _fold(cols, w)
    finally:
        unhush(token)


# --- conv2d as one op -----------------------------------------------------------------------------------
# Inside the op, images are laid out batch-innermost in memory: (C, H, W, N), seen by the user as
# the usual (N, C, H, W) view. Every window offset of a channel is then one long run along memory,
# (oh*ow*N for the im2col copy, ow*N per row for fold), and the pooling and ReLU after a conv read
# N contiguous numbers per pixel, where an (N, C, H, W) layout gives NumPy inner loops of one row.

def _batch_inner(shape: tuple, dtype) -> np.ndarray:
    """An uninitialised (N, C, H, W) array laid out in memory as (C, H, W, N)."""
    n, c, h, w = shape
    return memory.empty((c, h, w, n), dtype).transpose(3, 0, 1, 2)


def _columns(x: np.ndarray, w: _Windows, dtype) -> np.ndarray:
    """im2col of (N, C, H, W) x: (C*kh*kw, oh*ow*N), rows by channel and kernel offset, columns by
    pixel with the batch innermost, so the product's result is laid out as (O, oh, ow, N)."""
    (ph, pw), (kh, kw), (oh, ow) = w.padding, w.kernel, w.out
    n, c = x.shape[:2]
    if ph or pw:  # padded batch-innermost, whatever x's layout: the im2col copy then reads long runs
        h, wd = x.shape[2:]
        x = _pad(x, ph, pw, _batch_inner((n, c, h + 2 * ph, wd + 2 * pw), x.dtype))
    windows = _unfold_array(x, w._replace(padding=(0, 0)))  # (N, C, oh, ow, kh, kw), a view
    columns = memory.empty((c, kh, kw, oh, ow, n), dtype)
    np.copyto(columns, windows.transpose(1, 4, 5, 2, 3, 0))  # the one im2col copy
    return columns.reshape(c * kh * kw, oh * ow * n)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, dilation) -> Tensor:
    """Cross-correlation of (N, C, H, W) x with weight (O, C, kh, kw), plus bias, as one op: one im2col
    copy and one matmul forward; d/dW = g cols^T, d/db = sum g, d/dx = fold(W^T g).

    Not a Tensor method: ``nn.functional.conv2d`` checks the shapes first (stride, padding and
    dilation are pairs of ints). The result is an (N, O, oh, ow) view of (O, oh, ow, N) memory."""
    w = _windows(x.shape[-2:], weight.shape[-2:], stride, padding, dilation, "conv2d")
    n, c = x.shape[:2]
    out_channels = weight.shape[0]
    dtype = np.result_type(x._data.dtype, weight._data.dtype)
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float32)
    token = hush()  # products past the float range: inf, inf * 0: nan, silently
    try:
        columns = _columns(x._data, w, dtype)
        kernel = weight._data.reshape(out_channels, -1).astype(dtype, copy=False)
        data = np.matmul(kernel, columns, out=memory.empty((out_channels, columns.shape[1]), dtype))
        if bias is not None:
            data += bias._data.reshape(out_channels, 1)
    finally:
        unhush(token)
    oh, ow = w.out

    def as_rows(g):
        """g (N, O, oh, ow) as (O, oh*ow*N) rows, the layout of the forward's product (free when g has it)."""
        return memory.reshape(g.transpose(1, 2, 3, 0), (out_channels, -1))

    def input_grad(g, out, x, k, b=None):  # fold W^T g, seen as the (N, C, oh, ow, kh, kw) windows it came from
        windows = _product(k.reshape(out_channels, -1).T, as_rows(g), None, reuse=True)
        return _fold(windows.reshape(c, *w.kernel, oh, ow, n).transpose(5, 0, 3, 4, 1, 2), w)

    def weight_grad(g, out, x, k, b=None):  # g times the input's columns
        if isinstance(g, Tensor):  # create_graph: columns from x, recorded, so the product depends on x
            cols = x.unfold(w.kernel, w.stride, w.padding, w.dilation).permute(1, 4, 5, 2, 3, 0)
            return (as_rows(g) @ cols.reshape(columns.shape).T).reshape(k.shape)
        return _product(as_rows(g), columns.T, None).reshape(k.shape)

    def bias_grad(g, out, x, k, b):
        return g.sum(axis=(0, 2, 3))

    parents, backward = ((x, weight), (input_grad, weight_grad)) if bias is None else \
        ((x, weight, bias), (input_grad, weight_grad, bias_grad))
    return _result(data.reshape(out_channels, oh, ow, n).transpose(3, 0, 1, 2), parents, backward, "conv2d")
