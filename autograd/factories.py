"""torch's tensor factories and dtype names, so lecture code runs with ``import autograd as torch``.

Dtype names are NumPy scalar types (``float`` is float32 as ``torch.float``; ``int`` is int32, ``long``
int64). Random sampling is in ``sampling.py``.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator

import numpy as np

from .tensor_class import Tensor

__all__ = [
    "float32", "float64", "double", "float", "int32", "int64", "long", "bool", "int16", "int8", "uint8",
    "float16", "half", "get_default_dtype", "tensor", "zeros", "ones", "empty", "full", "zeros_like",
    "ones_like", "full_like", "empty_like", "arange", "linspace", "eye",
]

# Python's types: this module's names float, int and bool are torch's dtypes (defined at the end).
_bool, _int, _float = builtins.bool, builtins.int, builtins.float
_PYTHON_DTYPES = {_bool: np.dtype(np.bool_), _int: np.dtype(np.int64), _float: np.dtype(np.float32)}
_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_GRAD_ERROR = "Only Tensors of floating point and complex dtype can require gradients"


def get_default_dtype() -> type:
    """The dtype of float tensors made from Python floats: float32, as torch."""
    return np.float32


def torch_name(dtype) -> str:
    """torch's name for a dtype in its error messages (``Long`` for int64)."""
    return _TORCH_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)


def promote(dtypes) -> np.dtype:
    """torch's promotion: the highest category (bool < integer < float) wins, NumPy's rule inside it."""
    dtypes = [np.dtype(d) for d in dtypes]
    for kinds in ("f", "iu", "b"):
        chosen = [d for d in dtypes if d.kind in kinds]
        if chosen:
            return np.result_type(*chosen)
    return np.dtype(np.float32)


def _dtype(dtype, default) -> np.dtype:
    """``dtype`` as a NumPy dtype, or ``default`` when None (never ``or``: NumPy 1's dtypes are falsy)."""
    return np.dtype(default if dtype is None else dtype)


def _make(array: np.ndarray, requires_grad: bool) -> Tensor:
    """A leaf Tensor on ``array``; torch's error if a non-float one should require grad."""
    if requires_grad and array.dtype.kind != "f":
        raise RuntimeError(_GRAD_ERROR)
    return Tensor(array, requires_grad=requires_grad)


def _scan(data, found: set):
    """``data`` with Tensor leaves replaced by their element; each leaf's torch dtype is added to ``found``."""
    kind = type(data)
    if kind in _PYTHON_DTYPES:
        found.add(_PYTHON_DTYPES[kind])
        return data
    if isinstance(data, (list, tuple)):
        kinds = set(map(type, data))
        if kinds <= _PYTHON_DTYPES.keys():  # plain Python numbers: NumPy reads the list in C
            found.update(_PYTHON_DTYPES[k] for k in kinds)
            return data
        return [_scan(item, found) for item in data]
    if isinstance(data, Tensor):
        if data.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        found.add(data.dtype)
        return data.numpy().reshape(())
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "biuf":
        found.add(data.dtype)
        return data
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    raise RuntimeError(f"Could not infer dtype of {kind.__name__}")


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new leaf holding a copy of ``data`` with torch.tensor's dtype rules (ints -> int64, floats -> float32)."""
    if isinstance(data, Tensor):
        data = data.numpy()
    if isinstance(data, (np.ndarray, np.generic)):
        if data.dtype.kind not in "biuf":
            raise TypeError(f"can't convert np.ndarray of type {data.dtype}: only bool, integer and float dtypes")
        array = np.array(data, dtype=dtype)
    else:
        found = set()
        plain = _scan(data, found)
        try:
            array = np.array(plain, dtype=promote(found) if dtype is None else dtype)
        except OverflowError:
            raise ValueError("Overflow when unpacking long long") from None
        except ValueError as error:
            raise ValueError(f"expected a rectangular nested sequence: {error}") from None
    return _make(array, requires_grad)


def _size(op: str, size: tuple) -> tuple:
    """A shape from ``(2, 3)`` varargs or one tuple/list, with torch's errors."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for position, n in enumerate(size):
        if isinstance(n, _bool) or not isinstance(n, (numbers.Integral, Tensor)):
            detail = f"not {type(n).__name__}" if len(size) == 1 else \
                f"but found element of type {type(n).__name__} at pos {position}"
            raise TypeError(f"{op}(): argument 'size' (position 1) must be tuple of ints, {detail}")
    size = tuple(operator.index(n) for n in size)
    negative = [n for n in size if n < 0]
    if negative:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: {list(size)}")
    return size


def _fill_dtype(value) -> np.dtype:
    """torch.full's dtype for a fill value: bool, int64 or float32 by the value's kind."""
    kind = np.asarray(value.numpy() if isinstance(value, Tensor) else value).dtype.kind
    return np.dtype(np.bool_ if kind == "b" else np.int64 if kind in "iu" else np.float32)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros, ``zeros(2, 3)`` or ``zeros((2, 3))``; float32 unless ``dtype``."""
    return _make(np.zeros(_size("zeros", size), _dtype(dtype, np.float32)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones, ``ones(2, 3)`` or ``ones((2, 3))``; float32 unless ``dtype``."""
    return _make(np.ones(_size("ones", size), _dtype(dtype, np.float32)), requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor, ``empty(2, 3)``; float32 unless ``dtype``."""
    return _make(np.empty(_size("empty", size), _dtype(dtype, np.float32)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``fill_value``; the dtype follows the value's kind (int -> int64) unless ``dtype``."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _make(np.full(_size("full", (size,)), value, _dtype(dtype, _fill_dtype(fill_value))), requires_grad)


def _like(input) -> Tensor:
    return input if isinstance(input, Tensor) else tensor(input)


def zeros_like(input, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``input``'s shape and (unless ``dtype``) its dtype."""
    input = _like(input)
    return _make(np.zeros(input.shape, _dtype(dtype, input.dtype)), requires_grad)


def ones_like(input, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``input``'s shape and (unless ``dtype``) its dtype."""
    input = _like(input)
    return _make(np.ones(input.shape, _dtype(dtype, input.dtype)), requires_grad)


def empty_like(input, dtype=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``input``'s shape and (unless ``dtype``) its dtype."""
    input = _like(input)
    return _make(np.empty(input.shape, _dtype(dtype, input.dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``input``'s shape and (unless ``dtype``) its dtype (2.7 in an int tensor is 2)."""
    input = _like(input)
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _make(np.full(input.shape, value, _dtype(dtype, input.dtype)), requires_grad)


def _number(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, dtype=None, requires_grad: bool = False) -> Tensor:
    """``start, start + step, ...`` below ``end``: int64 if every argument is an integer, else float32."""
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    integral = builtins.all(isinstance(x, numbers.Integral) for x in (start, end, step))
    dtype = _dtype(dtype, np.int64 if integral else np.float32)
    work = np.float64 if dtype.kind == "f" else np.int64  # torch accumulates in double or int64
    if work(step) == 0:  # a fractional step for an integer dtype is 0 too
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    length = math.ceil((_float(end) - _float(start)) / _float(step))
    values = work(start) + work(step) * np.arange(length, dtype=work)  # torch's start + step * i
    return _make(values.astype(dtype), requires_grad)


def linspace(start, end, steps: int, *, dtype=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 unless ``dtype``)."""
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _dtype(dtype, np.float32)
    work = dtype.type if dtype.kind == "f" else np.float64  # torch's step type
    first, last = (np.asarray(_number(x)).astype(dtype).astype(work) for x in (start, end))
    index = np.arange(steps).astype(work)
    step = (last - first) / work(builtins.max(steps - 1, 1))
    # torch's formula: from the start for the first half, back from the end for the second (symmetric ends)
    values = np.where(index < steps // 2, first + step * index, last - step * (work(steps - 1) - index))
    values[:1] = first  # one step is just the start
    return _make(values.astype(dtype), requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, requires_grad: bool = False) -> Tensor:
    """An ``n`` by ``m`` (default ``n``) matrix with ones on the diagonal."""
    for name, value in (("n", n), ("m", n if m is None else m)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    return _make(np.eye(n, m, dtype=_dtype(dtype, np.float32)), requires_grad)




# torch's dtype names; they shadow Python's float, int and bool in this module, hence builtins above.
float32 = float = np.float32
float64 = double = np.float64
float16 = half = np.float16
int64 = long = np.int64
int32 = int = np.int32
int16 = np.int16
int8 = np.int8
uint8 = np.uint8
bool = np.bool_
