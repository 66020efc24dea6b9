"""torch's module-level functions (torch.cat, torch.exp, torch.max, ...) as thin wrappers over Tensor methods.

Each calls the Tensor method, so gradients flow exactly as through the method. Lists and numbers
are converted with ``tensor(...)`` (torch.tensor's dtype rules); tensors of different dtypes are
promoted as torch does (an integer and a float32 tensor give float32, not NumPy's float64).
"""

from __future__ import annotations

import builtins
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from .factories import promote, tensor, torch_name
from .tensor_class import Tensor

__all__ = [
    "cat", "concat", "concatenate", "stack", "where", "allclose", "all", "any", "exp", "log", "tanh", "sigmoid",
    "relu", "abs", "sqrt", "sin", "cos", "softmax", "log_softmax", "matmul", "sum", "mean", "max", "min",
    "clamp", "clip", "maximum", "minimum", "argmax", "argmin", "numel", "is_tensor", "is_floating_point",
    "from_numpy", "reshape", "flatten", "unsqueeze", "squeeze", "transpose", "permute", "histogram", "cuda", "device",
]

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _tensor(x) -> Tensor:
    """``x`` itself if a Tensor, else ``tensor(x)``."""
    return x if isinstance(x, Tensor) else tensor(x)


def _cast(x: Tensor, dtype) -> Tensor:
    """``x`` as ``dtype`` through the recorded cast (gradients flow back), or ``x`` when it already is."""
    return x if dtype is None or x.dtype == np.dtype(dtype) else x.astype(dtype)


def _result_dtype(tensors: list) -> np.dtype:
    """torch's result dtype: tensors with dimensions decide; a 0-d one only if its category is higher."""
    shaped = [t.dtype for t in tensors if t.ndim]
    zero_d = [t.dtype for t in tensors if not t.ndim]
    if not shaped or not zero_d:
        return promote(shaped or zero_d)
    low, high = promote(shaped), promote(zero_d)
    return high if _CATEGORY[high.kind] > _CATEGORY[low.kind] else low


def _promoted(items) -> list:
    """The items as Tensors of one dtype, promoted as torch (so cat of int64 and float32 is float32)."""
    tensors = [_tensor(x) for x in items]
    dtype = _result_dtype(tensors)
    return [_cast(t, dtype) for t in tensors]


def _number_like(value, like: Tensor) -> Tensor:
    """A number beside a tensor, as torch: the tensor's dtype unless the number is of a higher kind (float)."""
    own = tensor(value).dtype
    return tensor(value, like.dtype if _CATEGORY[own.kind] <= _CATEGORY[like.dtype.kind] else own)


# --- joining and selecting --------------------------------------------------------------------
def cat(tensors, dim: int = 0) -> Tensor:
    """The tensors joined along existing axis ``dim``; each gets its slice of the gradient."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    return Tensor.concatenate(_promoted(tensors), axis=dim)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """The tensors joined along a new axis ``dim``; each gets its slice of the gradient."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack expects a non-empty TensorList")
    return Tensor.stack(_promoted(tensors), axis=dim)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other``; ``where(condition)`` is the tuple of its indices."""
    condition = _tensor(condition)
    if input is None and other is None:
        return tuple(Tensor(index.astype(np.int64)) for index in np.nonzero(condition.numpy()))
    if condition.dtype != np.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{torch_name(condition.dtype)}")
    pair = [_tensor(x) if isinstance(x, (list, tuple, np.ndarray)) else x for x in (input, other)]
    numbers = [not isinstance(x, Tensor) for x in pair]
    if builtins.all(numbers):
        dtype = tensor(pair).dtype  # the two numbers' common dtype (1 and 0.5 give float32)
        pair = [tensor(x, dtype) for x in pair]
    elif builtins.any(numbers):
        like = pair[numbers.index(False)]
        pair = [_number_like(x, like) if number else x for x, number in zip(pair, numbers)]
    input, other = _promoted(pair)
    return Tensor.where(condition.numpy(), input, other)


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if ``|input - other| <= atol + rtol * |other|`` everywhere (broadcasting); dtypes must match."""
    a, b = _tensor(input), _tensor(other)
    if a.dtype != b.dtype:
        raise RuntimeError(f"{torch_name(a.dtype)} did not match {torch_name(b.dtype)}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"allclose: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
    return builtins.bool(np.all(np.isclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol, equal_nan=equal_nan)))


def _truth(reduce, input, dim, keepdim: bool) -> Tensor:
    """A bool tensor (uint8 for uint8 input, as torch) of ``reduce`` over ``dim``."""
    x = _tensor(input)
    axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    result = reduce(x.numpy(), axis=axis, keepdims=keepdim)
    return Tensor(np.asarray(result, dtype=np.uint8 if x.dtype == np.uint8 else np.bool_))


def all(input, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every element (over ``dim``) is nonzero, as a bool tensor."""
    return _truth(np.all, input, dim, keepdim)


def any(input, dim=None, keepdim: bool = False) -> Tensor:
    """Whether some element (over ``dim``) is nonzero, as a bool tensor."""
    return _truth(np.any, input, dim, keepdim)


# --- elementwise math -------------------------------------------------------------------------
def _unary(name: str):
    def function(input) -> Tensor:
        return getattr(_tensor(input), name)()

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"torch.{name}(input): the Tensor method {name}, so gradients flow."
    return function


exp, log, tanh, sigmoid, relu, abs, sqrt, sin, cos = map(
    _unary, ["exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "sin", "cos"])


def clamp(input, min=None, max=None) -> Tensor:
    """``input`` limited to [min, max] (either may be None); the gradient passes inside the range."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return _tensor(input).clamp(min=min, max=max)


clip = clamp


def maximum(input, other) -> Tensor:
    """The elementwise larger of two tensors (dtypes promoted as torch); ties split the gradient."""
    a, b = _promoted((input, other))
    return a.maximum(b)


def minimum(input, other) -> Tensor:
    """The elementwise smaller of two tensors (dtypes promoted as torch); ties split the gradient."""
    a, b = _promoted((input, other))
    return a.minimum(b)


def matmul(input, other) -> Tensor:
    """The matrix product ``input @ other`` with NumPy's (and torch's) batching rules."""
    return _tensor(input).matmul(_tensor(other))


# --- reductions -------------------------------------------------------------------------------
def softmax(input, dim: int, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (cast to ``dtype`` first if given)."""
    return _cast(_tensor(input), dtype).softmax(dim=dim)


def log_softmax(input, dim: int, dtype=None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably (cast to ``dtype`` first if given)."""
    return _cast(_tensor(input), dtype).log_softmax(dim=dim)


def sum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum over ``dim`` (all elements by default), cast to ``dtype`` first if given."""
    return _cast(_tensor(input), dtype).sum(dim=dim, keepdim=keepdim)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean over ``dim`` (all elements by default), cast to ``dtype`` first if given."""
    return _cast(_tensor(input), dtype).mean(dim=dim, keepdim=keepdim)


def max(input, dim=None, keepdim: bool = False):
    """``max(t)``: the largest element; ``max(t, dim)``: (values, indices); ``max(a, b)``: ``maximum``."""
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    x = _tensor(input)
    return x.max() if dim is None else x.max(dim=dim, keepdim=keepdim)


def min(input, dim=None, keepdim: bool = False):
    """``min(t)``: the smallest element; ``min(t, dim)``: (values, indices); ``min(a, b)``: ``minimum``."""
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    x = _tensor(input)
    return x.min() if dim is None else x.min(dim=dim, keepdim=keepdim)


def argmax(input, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The int64 index of the first largest element (of the flattened tensor when ``dim`` is None)."""
    return Tensor(np.argmax(_tensor(input).numpy(), axis=dim, keepdims=keepdim).astype(np.int64))


def argmin(input, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The int64 index of the first smallest element (of the flattened tensor when ``dim`` is None)."""
    return Tensor(np.argmin(_tensor(input).numpy(), axis=dim, keepdims=keepdim).astype(np.int64))


# --- facts and conversions --------------------------------------------------------------------
def numel(input) -> int:
    """The number of elements."""
    return _tensor(input).numpy().size


def is_tensor(obj) -> bool:
    """True if ``obj`` is a Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True if the tensor's dtype is a floating-point one."""
    return input.dtype.kind == "f"


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A Tensor sharing ``ndarray``'s memory and dtype (writes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype.kind not in "biuf":
        raise TypeError(f"can't convert np.ndarray of type {ndarray.dtype}. The only supported types are: "
                        "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")
    return Tensor(ndarray)


# --- shape ------------------------------------------------------------------------------------
def reshape(input, shape) -> Tensor:
    """The elements in a new shape (one -1 is inferred)."""
    return _tensor(input).reshape(tuple(shape))


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions ``start_dim`` to ``end_dim`` merged into one."""
    return _tensor(input).flatten(start_dim=start_dim, end_dim=end_dim)


def unsqueeze(input, dim: int) -> Tensor:
    """A new axis of length 1 at ``dim``."""
    return _tensor(input).unsqueeze(dim=dim)


def squeeze(input, dim=None) -> Tensor:
    """Axes of length 1 removed (only ``dim`` if given)."""
    return _tensor(input).squeeze(dim=dim)


def transpose(input, dim0: int, dim1: int) -> Tensor:
    """Dimensions ``dim0`` and ``dim1`` swapped (torch's transpose; not NumPy's permutation)."""
    return _tensor(input).swapaxes(dim0, dim1)


def permute(input, dims) -> Tensor:
    """The dimensions reordered as ``dims``."""
    return _tensor(input).permute(*dims)


class Histogram(NamedTuple):
    """What ``histogram`` returns, with torch's field names."""

    hist: Tensor
    bin_edges: Tensor


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False) -> Histogram:
    """Counts of ``input``'s values in ``bins`` equal bins (or at the given edges), as torch.histogram."""
    x = _tensor(input)
    if x.dtype.kind != "f":
        raise RuntimeError(f"histogram: input dtype must be floating point, got {torch_name(x.dtype)}")
    edges = bins.numpy() if isinstance(bins, Tensor) else bins
    w = None if weight is None else _tensor(weight).numpy()
    hist, edges = np.histogram(x.numpy(), bins=edges, range=range, weights=w, density=density)
    return Histogram(Tensor(hist.astype(x.dtype)), Tensor(edges.astype(x.dtype)))


# torch.cuda.is_available() is how lecture code picks its device: here there is only the CPU.
cuda = SimpleNamespace(is_available=lambda: False, device_count=lambda: 0)


def device(kind: str = "cpu") -> str:
    """torch.device("cpu"): the name, accepted by ``Tensor.to``; any other device is refused."""
    if str(kind).split(":")[0] != "cpu":
        raise ValueError(f"device: {kind!r} is not available; chainrule runs on the CPU ('cpu')")
    return "cpu"
