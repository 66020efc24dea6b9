"""Classification losses as torch's: cross_entropy and nll_loss, on class indices or class probabilities.

``target`` is integer class indices of shape (N,) (or (N, d1, ...)), or (cross_entropy only)
float class probabilities of the logits' shape. ``weight`` (C,) scales each class's term; targets
equal to ``ignore_index`` count for nothing; the mean over class indices divides by the summed
weights of the kept targets (nan if none is kept), the mean over probability targets by the
number of positions. ``label_smoothing`` e gives (1 - e) * nll + e / C * sum_c weight[c] *
-log_softmax(x)[c] (class indices), or the targets (1 - e) q + e / C (probabilities).

The plain case (no weight, nothing ignored, no smoothing) of (N, C) logits is one fused autograd
op whose gradient is (softmax - one_hot) / N, the lecture's "dz = p - y"; the rest is
log_softmax, one picking op (``autograd.ops.picked_nll``) and, for smoothing, a few composed Tensor ops,
following torch's formulas term by term. The NumPy work on targets and weights is hushed as the
ops' is: an inf class weight gives inf or nan, as torch, without a warning.
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from autograd import Tensor
from autograd.ops import cross_entropy as _fused_cross_entropy
from autograd.ops import nll_loss as _fused_nll_loss
from autograd.ops import picked_nll
from autograd.quiet import hush, unhush

from ._helpers import as_tensor, check_reduction, reduce, target_like

__all__ = ["cross_entropy", "nll_loss"]


def _ignore_matches(data: np.ndarray, ignore_index: int) -> bool:
    """True if ``ignore_index`` is a value ``data``'s integer dtype can hold (else nothing can equal it)."""
    low, high = _int_range(data.dtype)
    return low <= ignore_index <= high


@functools.lru_cache(maxsize=None)
def _int_range(dtype: np.dtype) -> tuple:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _class_indices(op: str, target, scores: Tensor, noun: str, ignore_index: int = -100):
    """(validated class indices, mask of the ignored ones or None); ignored entries become class 0."""
    if type(ignore_index) is not int and (isinstance(ignore_index, bool)
                                          or not isinstance(ignore_index, numbers.Integral)):
        raise TypeError(f"{op}: ignore_index must be an int, got {ignore_index!r}")
    data = target._data if isinstance(target, Tensor) else np.asarray(target)
    expected = scores.shape[:1] + scores.shape[2:] if scores.ndim > 1 else ()
    if data.shape != expected:
        hint = f" (class indices) or {scores.shape} (class probabilities, as floats)" \
            if data.ndim == scores.ndim and op == "cross_entropy" else ""
        raise ValueError(f"{op}: target has shape {data.shape} but {noun} have shape {scores.shape}; "
                         f"expected {expected}{hint}")
    if data.dtype.kind == "f":
        token = hush()  # nan and inf cast to int64 would warn before the error below
        try:
            whole = data.astype(np.int64)
        finally:
            unhush(token)
        if not np.array_equal(whole, data):
            raise ValueError(f"{op}: class indices must be integers, got non-integer values in the target")
        data = whole
    elif data.dtype.kind == "b":
        data = data.astype(np.intp)
    elif data.dtype.kind not in "iu":
        raise TypeError(f"{op}: class indices must be integers, got dtype {data.dtype}")
    classes = scores.shape[1] if scores.ndim > 1 else scores.shape[0]
    if data.dtype.kind == "i" and data.itemsize >= 4:  # seen as unsigned, a negative index is >= 2**31:
        data_range = data.view(data.dtype.str.replace("i", "u"))  # one pass checks both ends
        bad = data.size and np.maximum.reduce(data_range, axis=None) >= classes
    else:
        bad = data.size and (np.minimum.reduce(data, axis=None) < 0 or np.maximum.reduce(data, axis=None) >= classes)
    if bad:
        outside = (data < 0) | (data >= classes)
        if _ignore_matches(data, ignore_index):
            outside &= data != ignore_index
        if outside.any():
            raise ValueError(f"{op}: class index {data[outside].ravel()[0]} out of range for {classes} classes")
    ignored = None
    # the default -100 costs nothing unless it occurs
    if (bad or 0 <= ignore_index < classes) and _ignore_matches(data, ignore_index):
        ignored = data == ignore_index
        if ignored.any():
            data = np.where(ignored, 0, data)
        else:
            ignored = None
    return data.astype(np.intp, copy=False), ignored


def _class_weight(op: str, weight, classes: int, dtype, differentiable: bool = False):
    """The per-class weight as an array (or, for a probability target, a Tensor that may need grad)."""
    if weight is None:
        return None
    if isinstance(weight, str):
        raise TypeError(f"{op}: weight must hold one weight per class, got the string {weight!r}; "
                        f"pass reduction={weight!r} by keyword")
    if isinstance(weight, Tensor) and weight.requires_grad and not differentiable:
        raise ValueError(f"{op}: weight cannot require grad for class-index targets (torch does not "
                         "differentiate it either); pass weight.detach()")
    data = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if data.shape != (classes,):
        raise ValueError(f"{op}: weight should be defined either for all {classes} classes or no classes, "
                         f"got weight of shape {data.shape}")
    if differentiable and isinstance(weight, Tensor) and weight.requires_grad:
        return weight
    return data.astype(dtype, copy=False)


def _target_weights(index: np.ndarray, ignored, weight, dtype, mean: bool) -> tuple:
    """Each target's weight (weight[t], 0 where ignored; None when every weight is 1) and, for the mean,
    torch's denominator: the summed weights of the non-ignored targets (their count without weights)."""
    if weight is None and ignored is None:
        return None, float(index.size) if mean else None
    token = hush()  # an inf weight: inf * 0 is nan, silently
    try:
        coef = None if weight is None else weight[index]
        if ignored is not None:
            kept = ~ignored
            coef = kept.astype(dtype) if coef is None else coef * kept
        total = float(np.add.reduce(coef, axis=None, dtype=np.float64)) if mean else None
    finally:
        unhush(token)
    return coef, total


def nll_loss(input, target, weight=None, *, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-weight[t] * input[n, t] per target t, for (N, C) (or (N, C, d1, ...), or (C,)) log-probabilities, as torch."""
    log_probs = as_tensor(input)
    if log_probs.ndim == 0:
        raise ValueError("nll_loss: log_probs must have a class axis, got a 0-d tensor")
    check_reduction("nll_loss", reduction)
    index, ignored = _class_indices("nll_loss", target, log_probs, "log_probs", ignore_index)
    classes = log_probs.shape[1 if log_probs.ndim > 1 else 0]
    weight = _class_weight("nll_loss", weight, classes, log_probs.dtype)
    if weight is None and ignored is None and log_probs.ndim == 2 and reduction != "none":
        return _fused_nll_loss(log_probs, index, reduction)  # the usual case: one op
    return _picked_nll(log_probs, index, ignored, weight, reduction)


def _picked_nll(log_probs: Tensor, index: np.ndarray, ignored, weight, reduction: str) -> Tensor:
    """-weight[t] * log_probs[.., t, ..] per target (0 if ignored), reduced over the kept targets' weights."""
    coef, total = _target_weights(index, ignored, weight, log_probs.dtype, reduction == "mean")
    return picked_nll(log_probs, index, reduction, coef, ignored, total)


def _check_smoothing(label_smoothing) -> float:
    if label_smoothing == 0.0 and type(label_smoothing) is float:  # the default, checked cheaply
        return 0.0
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing!r}")
    return float(label_smoothing)


def _class_shape(logits: Tensor) -> tuple:
    """The shape a per-class vector takes to broadcast along the class axis of ``logits``."""
    return (logits.shape[0],) if logits.ndim == 1 else (1, logits.shape[1]) + (1,) * (logits.ndim - 2)


def _probability_loss(logits: Tensor, target, weight, ignore_index: int, reduction: str, smoothing: float):
    """-sum_c weight[c] q[c] log_softmax(x)[c] for class probabilities q (smoothed: (1 - e) q + e / C)."""
    if ignore_index >= 0:
        raise ValueError(f"cross_entropy: ignore_index is not supported for class-probability (float) targets, "
                         f"got ignore_index={ignore_index}")
    axis = 1 if logits.ndim > 1 else 0
    classes = logits.shape[axis]
    probs = target_like("cross_entropy", target, logits, "logits")
    weight = _class_weight("cross_entropy", weight, classes, logits.dtype, differentiable=True)
    if smoothing:
        probs = probs * (1 - smoothing) + smoothing / classes
    terms = logits.log_softmax(axis=axis) * probs
    if weight is not None:
        terms = terms * as_tensor(weight).reshape(_class_shape(logits))
    return reduce("cross_entropy", -terms.sum(axis=axis), reduction)


def cross_entropy(input, target, weight=None, *, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross entropy of (N, C) (or (N, C, d1, ...), or (C,)) logits and class indices or probabilities."""
    logits = as_tensor(input)
    if logits.ndim == 0:
        raise ValueError("cross_entropy: logits must have a class axis, got a 0-d tensor")
    check_reduction("cross_entropy", reduction)
    smoothing = _check_smoothing(label_smoothing) if label_smoothing else 0.0
    data = target._data if isinstance(target, Tensor) else np.asarray(target)
    if data.dtype.kind == "f" and data.shape == logits.shape:
        return _probability_loss(logits, target, weight, ignore_index, reduction, smoothing)
    if data.dtype.kind in "iu" and data.shape == logits.shape and logits.ndim > 1:
        raise ValueError(f"cross_entropy: target has shape {data.shape} with integer dtype but logits have shape "
                         f"{logits.shape}; expected class indices of shape {logits.shape[:1] + logits.shape[2:]}, "
                         f"or one-hot / probabilities as floats of shape {logits.shape}")
    index, ignored = _class_indices("cross_entropy", target, logits, "logits", ignore_index)
    axis = 1 if logits.ndim > 1 else 0
    classes = logits.shape[axis]
    if weight is not None:
        weight = _class_weight("cross_entropy", weight, classes, logits.dtype)
    elif ignored is None and not smoothing and logits.ndim == 2 and reduction != "none":
        return _fused_cross_entropy(logits, index, reduction)  # the usual case: one op, "dz = p - y"
    log_probs = logits.log_softmax(axis=axis)
    loss = _picked_nll(log_probs, index, ignored, weight, reduction)
    if not smoothing:
        return loss
    weighted = log_probs if weight is None else log_probs * Tensor(weight.reshape(_class_shape(logits)))
    smooth = -weighted.sum(axis=axis)
    if ignored is not None:
        smooth = Tensor.where(ignored, 0.0, smooth)
    if reduction == "mean":
        total = _target_weights(index, ignored, weight, logits.dtype, True)[1]
        smooth = smooth.sum() * (1.0 / total if total else np.nan)
    elif reduction == "sum":
        smooth = smooth.sum()
    return loss * (1 - smoothing) + smooth * (smoothing / classes)
