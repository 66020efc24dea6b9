"""Recording a step's NumPy calls, for ``autograd.compile``.

While a step is recorded, every array it works on is a ``Traced`` (an ndarray subclass): NumPy hands
each ufunc, array function and method call on one to the ``Recording``, which runs it and writes an
``Entry`` (the callable, its arguments as references to earlier results, and the result). Python
values read from an array (``bool``, ``float``, ``.item()``) become guards: a replay checks them.
"""

from __future__ import annotations

import numbers
import traceback

import numpy as np

__all__ = ["Traced", "CaptureError", "Ref", "Entry", "active", "refs", "flat", "takes_out", "user_frames", "is_static"]


class CaptureError(RuntimeError):
    """The step cannot be captured as written; the message says what to change."""


_recording = []  # the active Recording, while one runs

# NumPy callables that take out= for their result, beyond ufuncs and ufunc methods.
TAKES_OUT = {np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.prod, np.any, np.all, np.std, np.var,
              np.clip, np.cumsum, np.cumprod, np.round, np.argmax, np.argmin, np.take, np.concatenate,
              np.stack, np.ndarray.sum, np.ndarray.mean, np.ndarray.max, np.ndarray.min, np.ndarray.prod,
              np.ndarray.any, np.ndarray.all, np.ndarray.std, np.ndarray.var, np.ndarray.clip,
              np.ndarray.cumsum, np.ndarray.cumprod, np.ndarray.round, np.ndarray.argmax, np.ndarray.argmin,
              np.ndarray.take}
# Callables that change their first argument in place.
WRITE_FIRST = {np.copyto, np.put, np.put_along_axis, np.place, np.putmask, np.fill_diagonal,
                np.ndarray.__setitem__, np.ndarray.fill, np.ndarray.sort, np.ndarray.put, np.ndarray.partition}
# Callables whose answer depends only on shapes and dtypes.
STATIC = {np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory,
           np.iscomplexobj, np.isrealobj, np.min_scalar_type}


def active():
    if not _recording:
        raise CaptureError("an array of a recorded step was used after its recording ended; "
                           "copy results out of the step (or return them) instead of keeping its arrays")
    return _recording[-1]


class Ref:
    """An argument that is the result of entry ``value`` (or an input) of the recording."""

    __slots__ = ("value",)

    def __init__(self, value: int):
        self.value = value

    def __repr__(self):
        return f"v{self.value}"


class Entry:
    """One recorded call: ``func(*args, **kwargs)`` with Refs for recorded arrays; ``result`` is the
    value index it made (None for an in-place call), ``writes`` the value indices it changes in place."""

    __slots__ = ("func", "args", "kwargs", "result", "writes", "kind", "expected", "where")

    def __init__(self, func, args, kwargs, result, writes, kind="call", expected=None, where=""):
        self.func, self.args, self.kwargs, self.result = func, args, kwargs, result
        self.writes, self.kind, self.expected, self.where = writes, kind, expected, where


def _ufunc_call(self, ufunc, method, *inputs, **kwargs):
    return active().call(ufunc if method == "__call__" else getattr(ufunc, method), inputs, kwargs)


def _array_function(self, func, types, args, kwargs):
    return active().call(func, args, kwargs)


def _recorded(name: str):
    base = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        return active().call(base, (self, *args), kwargs)

    method.__name__ = name
    return method


def _converted(name: str, convert):
    def method(self, *args):
        return active().convert(self, convert, name, args)

    method.__name__ = name
    return method


def _refused(name: str):
    def method(self, *args, **kwargs):
        raise CaptureError(f"ndarray.{name} is not supported inside a captured step; "
                           "use an indexing or NumPy call that returns an array")

    return property(method) if name in ("flat", "ctypes", "data") else method


class Traced(np.ndarray):
    """An array of the step being recorded: every NumPy call on it is written to the recording."""

    __array_ufunc__ = _ufunc_call
    __array_function__ = _array_function

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return repr(self.view(np.ndarray))

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise CaptureError("an array of a recorded step cannot be pickled or deep-copied; "
                           "save after the step")

    @property
    def T(self):
        return active().call(np.transpose, (self,), {})

    @property
    def mT(self):
        return active().call(np.swapaxes, (self, -1, -2), {})

    @property
    def base(self):  # a recorded result owns its memory, as the array it stands for did
        return active().base_of(self)


for _name in ("reshape", "transpose", "swapaxes", "ravel", "flatten", "squeeze", "astype", "copy", "view",
              "__getitem__", "__setitem__", "sum", "mean", "max", "min", "argmax", "argmin", "std", "var",
              "prod", "any", "all", "cumsum", "cumprod", "clip", "dot", "fill", "take", "repeat", "nonzero",
              "round", "sort", "argsort", "diagonal", "conj", "conjugate", "trace", "put", "compress",
              "searchsorted", "partition", "argpartition", "__copy__", "__deepcopy__"):
    setattr(Traced, _name, _recorded(_name))
for _name, _convert in (("__bool__", bool), ("__float__", float), ("__int__", int), ("__index__", int),
                        ("__complex__", complex), ("item", np.ndarray.item), ("tolist", np.ndarray.tolist)):
    setattr(Traced, _name, _converted(_name, _convert))
for _name in ("flat", "ctypes", "data", "tobytes", "tofile", "resize", "byteswap", "setfield", "getfield",
              "itemset", "dump", "dumps"):
    setattr(Traced, _name, _refused(_name))


def is_static(value) -> bool:
    """True for a Python value no array data went into (shapes, dtypes, numbers written in the code)."""
    if value is None or isinstance(value, (bool, numbers.Number, str, slice, type, np.dtype, type(Ellipsis))):
        return True
    if isinstance(value, (tuple, list)):
        return all(is_static(item) for item in value)
    return False


def refs(spec) -> list:
    if isinstance(spec, Ref):
        return [spec]
    if isinstance(spec, (tuple, list)):
        return [r for s in spec for r in refs(s)]
    if isinstance(spec, dict):
        return [r for s in spec.values() for r in refs(s)]
    return []


def flat(item) -> list:
    if isinstance(item, (tuple, list)):
        return [x for s in item for x in flat(s)]
    if isinstance(item, dict):
        return [x for s in item.values() for x in flat(s)]
    return [item]


def takes_out(func) -> bool:
    if isinstance(func, np.ufunc):
        return func.nout == 1
    owner = getattr(func, "__self__", None)
    if isinstance(owner, np.ufunc):
        return func.__name__ in ("reduce", "accumulate", "reduceat", "outer")
    return func in TAKES_OUT


def user_frames() -> list:
    """The stack above chainrule and NumPy: where in the user's step a value was read."""
    frames = traceback.extract_stack()[:-3]
    return [f for f in frames if "/autograd/" not in f.filename and "/numpy/" not in f.filename
            and "/nn/" not in f.filename][-2:]
