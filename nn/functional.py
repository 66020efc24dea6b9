"""Functional forms: activations, softmax, convolution and pooling, dropout, and the losses.

Everything here composes autograd ops, so every gradient comes from the ops' own closures: a
convolution is one ``unfold`` view plus one matmul, pooling is a reshape (or ``unfold``) plus a
reduction, and the losses are written as their formulas. Names and arguments follow
torch.nn.functional; float32 inputs give float32 results. The losses a scalar network needs
(``hinge_loss``, ``mse_loss``, ``l1_loss``) also take Values or lists of Values.
``cross_entropy`` / ``nll_loss`` live in ``nn.losses``, ``one_hot`` / ``embedding`` in ``nn.sparse``
and ``layer_norm`` in ``nn.normalization``; all are re-exported here.
"""

from __future__ import annotations

import numbers

import numpy as np

from autograd import Tensor, Value
from autograd import ops
from autograd.ops import UNSET
from autograd.ops import conv2d as _conv2d
from autograd.ops import pair as _pair
from autograd.ops import window_max as _window_max
from autograd.quiet import hush, unhush

from ._helpers import REDUCTIONS as _REDUCTIONS  # noqa: F401  (kept importable under its old name)
from ._helpers import as_tensor as _as_tensor
from ._helpers import check_reduction as _check_reduction
from ._helpers import generator as _generator
from ._helpers import reduce as _reduce
from ._helpers import target_like as _target
from .losses import cross_entropy, nll_loss
from .normalization import layer_norm
from .sparse import embedding, one_hot

__all__ = [
    "relu", "leaky_relu", "elu", "tanh", "sigmoid", "softmax", "log_softmax",
    "linear", "conv2d", "max_pool2d", "avg_pool2d", "dropout",
    "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "hinge_loss", "one_hot", "embedding", "layer_norm",
]

# --- small helpers ----------------------------------------------------------------------------


def _is_scalar_graph(x) -> bool:
    """True for a Value or a non-empty list/tuple of Values: the scalar (micrograd) notation."""
    return isinstance(x, Value) or (isinstance(x, (list, tuple)) and len(x) > 0 and isinstance(x[0], Value))


def _scalar_pairs(op: str, pred, target) -> tuple[list, list]:
    """A scalar graph's outputs and targets as two equally long lists (Values and floats)."""
    preds = [pred] if isinstance(pred, Value) else list(pred)
    if isinstance(target, Tensor):
        target = target._data
    targets = [t if isinstance(t, Value) else float(t) for t in
               (target if isinstance(target, (list, tuple)) else np.asarray(target, dtype=float).ravel().tolist())]
    if len(preds) != len(targets):
        raise ValueError(f"{op}: got {len(preds)} predictions but {len(targets)} targets")
    return preds, targets


def _reduce_values(op: str, losses: list, reduction: str):
    _check_reduction(op, reduction)
    if reduction == "none":
        return losses
    total = sum(losses[1:], losses[0])
    return total * (1.0 / len(losses)) if reduction == "mean" else total


# --- activations ----------------------------------------------------------------------------------
# Each works on a Tensor or a Value: both define the method.

def relu(x):
    """max(0, x); the gradient passes where x > 0."""
    return x.relu()


def leaky_relu(x, negative_slope: float = 0.01):
    """x for x > 0, else negative_slope * x."""
    return x.leaky_relu(negative_slope)


def elu(x, alpha: float = 1.0):
    """x for x > 0, else alpha * (e**x - 1)."""
    return x.elu(alpha)


def tanh(x):
    """tanh(x); d/dx = 1 - tanh(x)**2."""
    return x.tanh()


def sigmoid(x):
    """1 / (1 + e**-x); d/dx = s (1 - s)."""
    return x.sigmoid()


def softmax(x: Tensor, axis=UNSET, *, dim=UNSET) -> Tensor:
    """e**x / sum(e**x) along ``axis`` (default -1; ``dim`` is torch's name), max-shifted so it never overflows."""
    return _as_tensor(x).softmax(axis, dim=dim)


def log_softmax(x: Tensor, axis=UNSET, *, dim=UNSET) -> Tensor:
    """x - logsumexp(x) along ``axis`` (default -1), stable for huge logits."""
    return _as_tensor(x).log_softmax(axis, dim=dim)


# --- linear, convolution and pooling -----------------------------------------------------------------

def linear(x, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias for weight (out_features, in_features), as torch: one op, no transposed copy."""
    return _as_tensor(x).linear(weight, bias)


def _image_batch(op: str, x: Tensor) -> tuple[Tensor, bool]:
    """(N, C, H, W) input, adding a batch axis to an unbatched (C, H, W) one as torch does."""
    if x.ndim == 4:
        return x, False
    if x.ndim == 3:
        return x.reshape((1,) + x.shape), True
    raise ValueError(f"{op}: expected an input of shape (N, C, H, W) (or unbatched (C, H, W)), got shape {x.shape}")


def _unfold(op: str, x: Tensor, kernel, stride, padding, dilation=(1, 1)) -> Tensor:
    try:
        return x.unfold(kernel, stride, padding, dilation)
    except ValueError as error:  # the kernel does not fit: say so under this op's name
        raise ValueError(str(error).replace("unfold:", f"{op}:", 1)) from None


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1) -> Tensor:
    """2-D cross-correlation of (N, C, H, W) with weight (out, C, kh, kw), as torch: out size (H + 2P - F) // S + 1.

    One op: one copy of the windows into columns (C*kh*kw, oh*ow*N) and one matmul with the
    flattened weight, a single large product whose long axis is the pixels. The result is an
    (N, out, oh, ow) view of memory laid out (out, oh, ow, N); the ops after it (relu, pooling,
    the next conv) keep that layout, so no layer copies an activation to reorder it.
    """
    x, weight = _as_tensor(x), _as_tensor(weight)
    stride, padding = _pair(stride, "stride", "conv2d", 1), _pair(padding, "padding", "conv2d", 0)
    dilation = _pair(dilation, "dilation", "conv2d", 1)
    if weight.ndim != 4:
        raise ValueError("conv2d: weight must have shape (out_channels, in_channels, kh, kw), "
                         f"got shape {weight.shape}")
    out_channels, in_channels, kh, kw = weight.shape
    batch, unbatched = _image_batch("conv2d", x)
    n, channels = batch.shape[:2]
    if channels != in_channels:
        raise ValueError(f"conv2d: input of shape {x.shape} has {channels} channels but weight of shape "
                         f"{weight.shape} expects {in_channels}")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"conv2d: bias must have shape ({out_channels},) for weight of shape {weight.shape}, "
                         f"got {bias.shape}")
    out = _conv2d(batch, weight, None if bias is None else _as_tensor(bias), stride, padding, dilation)
    return out.reshape(out.shape[1:]) if unbatched else out


def _pool_geometry(op: str, x: Tensor, kernel_size, stride, padding):
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected an input of shape (N, C, H, W) or (C, H, W), got shape {x.shape}")
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else _pair(stride, "stride", op, 1)
    padding = _pair(padding, "padding", op, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    return kernel, stride, padding


def _tiles(x: Tensor, kernel, stride, padding):
    """x as (..., H/kh, kh, W/kw, kw) when the windows tile it exactly (a view, no unfold), else None."""
    h, w = x.shape[-2:]
    if stride == kernel and padding == (0, 0) and h % kernel[0] == 0 and w % kernel[1] == 0:
        return x.reshape(x.shape[:-2] + (h // kernel[0], kernel[0], w // kernel[1], kernel[1]))
    return None


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0) -> Tensor:
    """The largest value of each window (stride defaults to the kernel size; padding counts as -inf).

    The gradient goes to each window's maximum; where several tie, all of it goes to the first in
    row-major order, as torch's. Non-overlapping windows that tile the input are a reshape and a max
    over two axes.
    """
    x = _as_tensor(x)
    kernel, stride, padding = _pool_geometry("max_pool2d", x, kernel_size, stride, padding)
    tiles = _tiles(x, kernel, stride, padding)
    if tiles is not None:
        return _window_max(tiles, (tiles.ndim - 3, tiles.ndim - 1))
    if padding != (0, 0):
        x = x.pad(((0, 0),) * (x.ndim - 2) + ((padding[0],) * 2, (padding[1],) * 2), value=-np.inf)
    windows = _unfold("max_pool2d", x, kernel, stride, 0)
    return _window_max(windows, (windows.ndim - 2, windows.ndim - 1))


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0) -> Tensor:
    """The mean of each window (stride defaults to the kernel size; zero padding is counted, as torch)."""
    x = _as_tensor(x)
    kernel, stride, padding = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding)
    tiles = _tiles(x, kernel, stride, padding)
    if tiles is not None:
        return tiles.mean(axis=(-3, -1))
    return _unfold("avg_pool2d", x, kernel, stride, padding).mean(axis=(-2, -1))


# --- dropout ------------------------------------------------------------------------------------------

def dropout(x: Tensor, p: float = 0.5, training: bool = True, seed=None, rng=None) -> Tensor:
    """Inverted dropout: each element is zeroed with probability p and the rest scaled by 1 / (1 - p).

    The expected value is unchanged, so nothing is rescaled at test time (``training=False`` is
    the identity). The gradient is the same mask. ``seed`` fixes the mask; ``rng`` (a Generator)
    is advanced, giving a fresh mask per call.
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = _as_tensor(x)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    draw = np.float32 if dtype == np.float32 else np.float64
    mask = (_generator(seed, rng).random(x.shape, dtype=draw) >= p).astype(dtype)
    token = hush()  # 1 / (1 - p) past float16's range: inf, silently
    try:
        mask *= dtype.type(1 / (1 - p))
    finally:
        unhush(token)
    return x * Tensor(mask)


# --- regression losses --------------------------------------------------------------------------------

def mse_loss(pred, target, reduction: str = "mean"):
    """Mean (or sum, or none) of (pred - target)**2. Takes Tensors, or a Value / list of Values."""
    if _is_scalar_graph(pred):
        preds, targets = _scalar_pairs("mse_loss", pred, target)
        return _reduce_values("mse_loss", [(p - t) ** 2 for p, t in zip(preds, targets)], reduction)
    pred = _as_tensor(pred)
    diff = pred - _target("mse_loss", target, pred)
    return _reduce("mse_loss", diff * diff, reduction)


def l1_loss(pred, target, reduction: str = "mean"):
    """Mean (or sum, or none) of |pred - target|. Takes Tensors, or a Value / list of Values."""
    if _is_scalar_graph(pred):
        preds, targets = _scalar_pairs("l1_loss", pred, target)
        return _reduce_values("l1_loss", [(p - t).abs() for p, t in zip(preds, targets)], reduction)
    pred = _as_tensor(pred)
    return _reduce("l1_loss", (pred - _target("l1_loss", target, pred)).abs(), reduction)


def hinge_loss(scores, y, reduction: str = "mean"):
    """The max-margin loss relu(1 - y * score) for labels y in {-1, +1}, averaged (micrograd's moons demo).

    ``scores`` is a Tensor, or a list of Values (one per sample, as the scalar MLP gives them).
    """
    labels = np.asarray(y._data if isinstance(y, Tensor) else
                        [float(v._data) if isinstance(v, Value) else v for v in y] if isinstance(y, (list, tuple))
                        else y, dtype=float)
    if not np.isin(labels, (-1.0, 1.0)).all():
        found = np.unique(labels)[:5].tolist()
        raise ValueError(f"hinge_loss: labels must be -1 or +1, got values {found}; for 0/1 labels pass y * 2 - 1")
    if _is_scalar_graph(scores):
        preds, targets = _scalar_pairs("hinge_loss", scores, labels)
        return _reduce_values("hinge_loss", [(1 + -t * s).relu() for s, t in zip(preds, targets)], reduction)
    scores = _as_tensor(scores)
    margin = 1 - _target("hinge_loss", labels, scores, "scores") * scores
    return _reduce("hinge_loss", margin.relu(), reduction)


# --- binary classification losses -----------------------------------------------------------------------

def binary_cross_entropy(prob, target, reduction: str = "mean", *, weight=None) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1], each log clamped at -100 (as torch).

    Its gradient with respect to the logit of a sigmoid output is p - y (the lecture's output delta).
    """
    prob = _as_tensor(prob)
    target = _target("binary_cross_entropy", target, prob, "prob")
    data = prob._data
    inside = (data >= 0) & (data <= 1)
    if not inside.all():
        bad = data[~inside].ravel()[0]
        raise ValueError(f"binary_cross_entropy: every prob must be in [0, 1], got {bad!r}; apply sigmoid first, "
                         "or pass the logits to binary_cross_entropy_with_logits")
    if target.requires_grad:
        raise NotImplementedError("binary_cross_entropy: the derivative for target is not implemented (as in torch); "
                                  "pass target.detach(), or use binary_cross_entropy_with_logits")
    loss = ops.binary_cross_entropy(prob, target._data)
    if weight is not None:
        loss = loss * _as_tensor(weight)
    return _reduce("binary_cross_entropy", loss, reduction)


def binary_cross_entropy_with_logits(logits, target, reduction: str = "mean", *, weight=None,
                                     pos_weight=None) -> Tensor:
    """Binary cross entropy of sigmoid(x), stable for any x: max(x, 0) - x y + log(1 + e**-|x|).

    The gradient is sigmoid(x) - y (``maximum`` splits a tie at x = 0 evenly, which makes it exact
    there too). ``pos_weight`` scales the positive term: (1 - y) x + (1 + (pw - 1) y) softplus(-x).
    """
    x = _as_tensor(logits)
    y = _target("binary_cross_entropy_with_logits", target, x, "logits")
    log_term = (1 + (-x.abs()).exp()).log()
    if pos_weight is None:
        loss = x.maximum(0) - x * y + log_term
    else:
        scale = 1 + (_as_tensor(pos_weight) - 1) * y
        loss = (1 - y) * x + scale * ((-x).maximum(0) + log_term)
    if weight is not None:
        loss = loss * _as_tensor(weight)
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)
