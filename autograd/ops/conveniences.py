"""torch's convenience methods written with other ops, so their gradients come from those ops:
to(dtype) and float()/long()/..., t(), mm, mv, dot, view_as, reshape_as, expand_as, type_as,
masked_fill, index_select, unbind, new_*."""

from __future__ import annotations

import numpy as np

from ..quiet import hush, unhush
from ..tensor_class import Tensor
from .shape import _axis

METHODS = ["to", "t", "mm", "mv", "dot", "view_as", "reshape_as", "expand_as", "type_as", "contiguous", "cpu",
           "masked_fill", "index_select", "unbind", "isnan", "isinf", "isfinite", "is_floating_point",
           "ndimension", "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor"]
# torch's names that are Python built-ins here: Tensor.float() is cast_float, and so on.
OPERATORS = {"type": "tensor_type",
             **{name: f"cast_{name}" for name in ("float", "double", "half", "long", "int", "bool")}}


def to(a: Tensor, *args, dtype=None, **kwargs) -> Tensor:
    """``to(dtype)`` casts (as ``astype``); ``to("cpu")`` is this tensor (there is no other device)."""
    for arg in args:
        if isinstance(arg, (str, Tensor)) or arg is None:
            device = arg.device if isinstance(arg, Tensor) else arg
            if device not in (None, "cpu"):
                raise ValueError(f"to: device {device!r} is not available; chainrule runs on the CPU ('cpu')")
            if isinstance(arg, Tensor):
                dtype = arg.dtype
        else:
            dtype = arg
    kwargs.pop("copy", None)
    device = kwargs.pop("device", None)
    if device not in (None, "cpu") or kwargs:
        raise ValueError(f"to: device {device!r} and options {sorted(kwargs)} are not supported; "
                         "chainrule runs on the CPU: use to(dtype)")
    return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)


def tensor_type(a: Tensor, dtype=None):
    """``type(dtype)`` casts; ``type()`` names the tensor type as torch does ('torch.FloatTensor')."""
    if dtype is not None:
        return a.to(dtype)
    from ..factories import torch_name  # factories imports the wired Tensor
    return f"torch.{torch_name(a.dtype)}Tensor"


def cast_float(a: Tensor) -> Tensor:
    return a.to(np.float32)


def cast_double(a: Tensor) -> Tensor:
    return a.to(np.float64)


def cast_half(a: Tensor) -> Tensor:
    return a.to(np.float16)


def cast_long(a: Tensor) -> Tensor:
    return a.to(np.int64)


def cast_int(a: Tensor) -> Tensor:
    return a.to(np.int32)


def cast_bool(a: Tensor) -> Tensor:
    return a.to(np.bool_)


def t(a: Tensor) -> Tensor:
    """The transpose of a 2-D tensor (0-D and 1-D are returned as they are), as torch's t()."""
    if a.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with at most 2 dimensions, got shape {a.shape}; use transpose(0, 1)")
    return a.transpose() if a.ndim == 2 else a


def _check_ndim(op: str, x: Tensor, ndim: int) -> None:
    if x.ndim != ndim:
        raise RuntimeError(f"{op}: expected a {ndim}-D tensor, got shape {x.shape}")


def mm(a: Tensor, b: Tensor) -> Tensor:
    """The product of two matrices (2-D only; ``@`` also batches and takes vectors)."""
    _check_ndim("mm", a, 2)
    _check_ndim("mm", b, 2)
    return a @ b


def mv(a: Tensor, v: Tensor) -> Tensor:
    """A matrix times a vector."""
    _check_ndim("mv", a, 2)
    _check_ndim("mv", v, 1)
    return a @ v


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of two 1-D tensors of the same length."""
    _check_ndim("dot", a, 1)
    _check_ndim("dot", b, 1)
    return a @ b


def view_as(a: Tensor, other: Tensor) -> Tensor:
    return a.view(other.shape)


def reshape_as(a: Tensor, other: Tensor) -> Tensor:
    return a.reshape(other.shape)


def expand_as(a: Tensor, other: Tensor) -> Tensor:
    return a.expand(*other.shape)


def type_as(a: Tensor, other: Tensor) -> Tensor:
    return a.to(other.dtype)


def contiguous(a: Tensor) -> Tensor:
    """This tensor (NumPy arrays need no contiguous copy for any op here)."""
    return a


def cpu(a: Tensor) -> Tensor:
    """This tensor: chainrule runs on the CPU."""
    return a


def masked_fill(a: Tensor, mask, value) -> Tensor:
    """``value`` where ``mask`` holds, else a; the gradient flows to a where the mask is False."""
    return Tensor.where(mask, Tensor(np.asarray(value, dtype=a.dtype)) if not isinstance(value, Tensor) else value, a)


def index_select(a: Tensor, dim: int, index) -> Tensor:
    """The entries at ``index`` (a 1-D integer tensor) along ``dim``; repeated indices add their gradients."""
    positions = np.asarray(index.numpy() if isinstance(index, Tensor) else index)
    if positions.ndim != 1 or positions.dtype.kind not in "iu":
        raise IndexError(f"index_select: index must be a 1-D integer tensor, got dtype {positions.dtype} "
                         f"and shape {positions.shape}")
    return a[(slice(None),) * _axis(dim, a.ndim, "index_select") + (positions,)]


def unbind(a: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, as a tuple (each gets its part of the gradient)."""
    axis = _axis(dim, a.ndim, "unbind")
    return tuple(a[(slice(None),) * axis + (i,)] for i in range(a.shape[axis]))


def isnan(a: Tensor) -> Tensor:
    return Tensor(np.isnan(a._data))


def isinf(a: Tensor) -> Tensor:
    return Tensor(np.isinf(a._data))


def isfinite(a: Tensor) -> Tensor:
    return Tensor(np.isfinite(a._data))


def is_floating_point(a: Tensor) -> bool:
    return a.dtype.kind == "f"


def ndimension(a: Tensor) -> int:
    return a.ndim


def _new(a: Tensor, array: np.ndarray, dtype, requires_grad: bool) -> Tensor:
    token = hush()  # new_tensor([1e300]) in float32: inf, silently, as torch
    try:
        array = array.astype(a.dtype if dtype is None else dtype, copy=False)
    finally:
        unhush(token)
    return Tensor(array, requires_grad=requires_grad)


def _size(size: tuple) -> tuple:
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size


def new_zeros(a: Tensor, *size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``size`` with this tensor's dtype (unless ``dtype``)."""
    return _new(a, np.zeros(_size(size)), dtype, requires_grad)


def new_ones(a: Tensor, *size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(a, np.ones(_size(size)), dtype, requires_grad)


def new_empty(a: Tensor, *size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(a, np.zeros(_size(size)), dtype, requires_grad)


def new_full(a: Tensor, size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(a, np.full(_size((size,)), fill_value), dtype, requires_grad)


def new_tensor(a: Tensor, data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A copy of ``data`` with this tensor's dtype (unless ``dtype``)."""
    return _new(a, np.array(data.numpy() if isinstance(data, Tensor) else data), dtype, requires_grad)
