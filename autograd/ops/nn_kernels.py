"""Fused ops nn's layers call once they have checked their arguments: layer_norm and embedding.

Not Tensor methods. An embedding's forward is one row gather (``np.take``); its weight gradient
adds each looked-up row's gradient into that row. Rows repeat (makemore looks up the same 27
letters again and again), so the sum is one ``np.bincount`` over flattened (row, column) keys: on
makemore's shapes it measured 2-3x faster than ``np.add.at`` and faster than sorting and
``np.add.reduceat``.
"""

from __future__ import annotations

import numpy as np

from ..quiet import hush, unhush
from ..tensor_class import Tensor, _result
from .indexing import add_rows

def _input_grads(g, x_hat, rstd, weight, axes: tuple):
    """dL/dx of the normalisation (arrays or Tensors alike)."""
    gw = g if weight is None else g * weight
    mean_g = gw.mean(axis=axes, keepdims=True)
    mean_gx = (gw * x_hat).mean(axis=axes, keepdims=True)
    return rstd * (gw - mean_g - x_hat * mean_gx)


def _zeros_for(i: int):
    """The derivative that gives input ``i`` a zero gradient (arrays or Tensors alike)."""
    return lambda g, out, *inputs: inputs[i] * 0


def layer_norm(x: Tensor, axes: tuple, weight: Tensor | None, bias: Tensor | None, eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over ``axes`` (biased var) as one op; it keeps x_hat
    and 1/std: dx = rstd * (gw - mean(gw) - x_hat * mean(gw * x_hat)) with gw = g * weight."""
    data = x._data
    parents = (x,) + tuple(p for p in (weight, bias) if p is not None)
    if not data.size:  # nothing to normalise: an empty result and zero gradients (ndarray.mean would warn)
        return _result(data.copy(), parents, tuple(_zeros_for(i) for i in range(len(parents))), "layer_norm")
    token = hush()  # inf in x, or eps = 0 on a constant row: inf and nan, as torch, silently
    try:
        centered = data - data.mean(axis=axes, keepdims=True)
        rstd = 1 / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)
        x_hat = centered * rstd
        out = x_hat if weight is None else x_hat * weight._data
        if bias is not None:
            out = out + bias._data
        out = np.asarray(out, dtype=data.dtype)
    finally:
        unhush(token)

    def normalized(g, inputs):
        """x_hat and 1/std: kept from the forward, or recomputed from x, recorded, under create_graph."""
        if not isinstance(g, Tensor):
            return x_hat, rstd
        xt = inputs[0]
        c = xt - xt.mean(axis=axes, keepdims=True)
        r = ((c * c).mean(axis=axes, keepdims=True) + eps) ** -0.5
        return c * r, r

    def input_grad(g, out, *inputs):
        h, r = normalized(g, inputs)
        return _input_grads(g, h, r, inputs[1] if weight is not None else None, axes)

    def weight_grad(g, out, *inputs):
        return g * normalized(g, inputs)[0]  # the core sums the leading axes away

    def bias_grad(g, out, *inputs):
        return g

    backward = (input_grad,) + ((weight_grad,) if weight is not None else ()) + \
        ((bias_grad,) if bias is not None else ())
    return _result(out, parents, backward, "layer_norm")


def _scatter_rows(g: Tensor, index: np.ndarray, num_rows: int, factor, kept) -> Tensor:
    """The weight gradient as a recorded op (create_graph); its gradient gathers rows back, as torch's."""
    rows = g._data.reshape(index.size, g.shape[-1])
    data = add_rows(index, rows if factor is None else rows * factor, num_rows)

    def backward(h, out, x):
        picked = h[index]
        return ((picked if kept is None else picked * kept).reshape(x.shape),)

    return _result(data, (g,), backward, "embedding_backward")


def embedding(weight: Tensor, rows: np.ndarray, shape: tuple, factor=None, kept=None) -> Tensor:
    """weight[rows] as an array of ``shape`` + (dim,): one row of the 2-D weight per (flat, in-range)
    index; the gradient adds up per row, times ``factor`` (one per lookup, or None).
    ``kept`` (0/1 per lookup, for padding) also masks the recorded backward's own gradient."""
    num_rows, dim = weight.shape
    data = np.take(weight._data, rows, axis=0).reshape(shape + (dim,))

    def backward(g, out, w):
        if isinstance(g, Tensor):
            return (_scatter_rows(g, rows, num_rows, factor, kept),)
        values = g.reshape(rows.size, dim)
        return (add_rows(rows, values if factor is None else values * factor, num_rows).astype(w.dtype, copy=False),)

    return _result(data, (weight,), backward, "embedding")
