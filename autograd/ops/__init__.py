"""Tensor ops grouped by kind, attached to Tensor here (``tensor_class`` knows no op module).

elementwise (arithmetic of two tensors, comparisons), unary (functions of one), reduce, extremes
(max, min, pooling's window_max), softmax, shape (movement), indexing, linalg, windows (unfold,
fold, conv2d), inplace, conveniences; and the fused kernels nn calls as public functions: losses
(cross_entropy, nll_loss, picked_nll) and nn_kernels (layer_norm, embedding). ``closure`` holds
what the ops' backward closures share.
"""

from __future__ import annotations

from ..tensor_class import Tensor
from ..unsupported import refusals
from . import conveniences, elementwise, extremes, indexing, inplace, linalg, reduce, shape, softmax, unary, windows
from .closure import expand, owned, raw
from .extremes import window_max
from .losses import binary_cross_entropy, cross_entropy, nll_loss, picked_nll
from .nn_kernels import embedding, layer_norm
from .shape import UNSET, resolve
from .windows import conv2d, pair

__all__ = ["binary_cross_entropy", "cross_entropy", "nll_loss", "picked_nll", "conv2d", "window_max", "layer_norm",
           "embedding", "pair", "resolve", "UNSET", "raw", "expand", "owned"]


def _wire() -> None:
    """Attach the ops to Tensor as methods, static methods and operators."""
    for name, refusal in refusals().items():  # torch names chainrule lacks: calling one says what to use
        setattr(Tensor, name, refusal)
    for module in (elementwise, unary, reduce, extremes, softmax, shape, indexing, linalg, windows, inplace,
                   conveniences):
        for name in getattr(module, "METHODS", ()):
            setattr(Tensor, name, getattr(module, name))
        for name in getattr(module, "STATIC", ()):
            setattr(Tensor, name, staticmethod(getattr(module, name)))
        for dunder, name in getattr(module, "OPERATORS", {}).items():
            setattr(Tensor, dunder, getattr(module, name))


_wire()
