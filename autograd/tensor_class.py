"""Tensor: a NumPy array node on the shared graph core.

This file holds construction, dtype rules and the graph-core hooks; it imports no op module: the
ops live in ``ops/`` (grouped by kind), which attaches them to the class when autograd is imported.
"""

from __future__ import annotations

import operator
import sys
from operator import attrgetter

import numpy as np

from . import memory
from .graph import Node, _mode, inplace_clock

__all__ = ["Tensor", "sum_to_shape"]

_new = object.__new__
_DEFAULT_FLOAT = np.float32


def _as_array(data, dtype=None) -> np.ndarray:
    """``data`` as an ndarray: lists and Python numbers become float32, ndarrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
    else:
        try:
            array = np.asarray(data)
        except (ValueError, TypeError) as error:
            raise TypeError(f"Tensor data must be numeric (nested lists of numbers): {error}") from None
        if array.dtype.kind in "biuf":
            array = array.astype(_DEFAULT_FLOAT if dtype is None else dtype)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor data must be numeric, got {type(data).__name__} with dtype {array.dtype}"
        )
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return array


def sum_to_shape(g, shape: tuple):
    """Reduce a broadcast gradient back to ``shape``: the adjoint of broadcasting is summation."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead))) if isinstance(g, Tensor) else np.add.reduce(g, axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if ones:
        g = g.sum(axis=ones, keepdims=True)
    return g


def _result(data: np.ndarray, parents: tuple, backward, op: str) -> "Tensor":
    """A new Tensor; it records parents and closure only if grad mode is on and a parent needs grad."""
    out = _new(Tensor)
    out._data = data if data.__class__ is np.ndarray else np.asarray(data)  # reductions give NumPy scalars
    out._grad = None
    out.label = ""
    out.retains_grad = False
    record = _mode.record
    if record:
        for p in parents:  # a loop, not any(): cheaper for the one or two parents of an op
            if p.requires_grad:
                out.parents, out._vjp, out.op, out.requires_grad = parents, backward, op, True
                out._stamp, out._hooks, out._calls = inplace_clock.count, None, ()
                if record is not True:
                    record.forward(out)
                return out
    out.parents, out._vjp, out.op, out.requires_grad, out._hooks, out._calls = (), None, "", False, None, ()
    return out


def _plain(data: np.ndarray) -> "Tensor":
    """A Tensor with no graph around ``data`` (no copy): what ``.data``, ``.grad`` and ``detach()`` give."""
    out = _new(Tensor)
    out._data, out._grad, out.label, out.retains_grad = data, None, "", False
    out.parents, out._vjp, out.op, out.requires_grad, out._hooks, out._calls = (), None, "", False, None, ()
    return out


def _operand(x, like: "Tensor") -> "Tensor":
    """Wrap a constant operand: Python numbers take the tensor's float dtype (as in PyTorch)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float, np.number, np.bool_)):  # scalars, also NumPy's
        kind = like._data.dtype.kind
        is_float = isinstance(x, (float, np.floating))
        dtype = like._data.dtype if kind == "f" or (kind in "iub" and not is_float) else _DEFAULT_FLOAT
        return _plain(np.asarray(x, dtype=dtype))
    return Tensor(np.asarray(x) if isinstance(x, np.ndarray) else _as_array(x))


_SAFE_INT = 1 << 53  # a Python int up to this is exactly a float64


def _weak_number(x) -> bool:
    """A Python float, or an int that is exactly a float64: with a float tensor NumPy takes it as a weak scalar
    (float32 stays float32), the same bits ``_operand``'s cast gives, so it may go to NumPy as it is."""
    return type(x) is float or type(x) is int and -_SAFE_INT <= x <= _SAFE_INT


def _sole_refcount() -> int:
    """The reference count ``_accumulate`` sees for an array that only the backward loop holds."""
    class Probe:
        def probe(self, g):
            return sys.getrefcount(g)

    g = np.empty(1)  # the loop's local
    return Probe().probe(g)


_SOLE = _sole_refcount()


_UFUNC_OPERATORS = {
    np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul, np.true_divide: operator.truediv,
    np.power: operator.pow, np.matmul: operator.matmul, np.negative: operator.neg,
    np.less: operator.lt, np.less_equal: operator.le, np.greater: operator.gt, np.greater_equal: operator.ge,
    np.equal: operator.eq, np.not_equal: operator.ne,
}


class _HookHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook off again."""

    def __init__(self, hooks: dict, key: int):
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


class Tensor(Node):
    """An n-dimensional array with a gradient. As in torch, ``.data`` and ``.grad`` are Tensors
    without a graph that share memory with this one; ``.numpy()`` is the ndarray itself."""

    __slots__ = ("_data", "_grad", "parents", "requires_grad", "retains_grad", "_hooks", "_stamp", "_version",
                 "_rebased")
    __hash__ = Node.__hash__  # identity: Tensors key the core's dicts even though == is elementwise
    _raw = attrgetter("_data")
    device = "cpu"

    def __init__(self, data, requires_grad: bool = False, dtype=None, label: str = ""):
        array = _as_array(data, dtype)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {array.dtype}; "
                "pass dtype=np.float32 or np.float64"
            )
        self._data = array
        self._grad = None
        self.parents = ()
        self.op = ""
        self.label = label
        self._vjp = None
        self.requires_grad = bool(requires_grad)
        self.retains_grad = False
        self._hooks = None
        self._calls = ()

    # --- torch's .data and .grad: graph-free Tensors sharing memory ----------------------
    @property
    def data(self) -> "Tensor":
        """This tensor's values as a Tensor outside the graph (shares memory; changes to it are not tracked)."""
        return _plain(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else _as_array(value)

    @property
    def grad(self):
        """The accumulated gradient as a Tensor (None before a backward reaches this leaf)."""
        g = self._grad
        return g if g is None or isinstance(g, Tensor) else _plain(g)

    @grad.setter
    def grad(self, value) -> None:
        if value is None:
            self._grad = None
            return
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"assigned grad expected to be a Tensor, an array of numbers or None, "
                            f"got {type(value).__name__}")
        if array.shape != self._data.shape:
            raise ValueError(f"assigned grad has shape {array.shape}, but the tensor has shape {self.shape}: "
                             "a gradient must have its tensor's shape")
        if array.dtype != self._data.dtype:
            raise TypeError(f"assigned grad has dtype {array.dtype}, but the tensor has dtype {self.dtype}: "
                            f"convert it first (g.to({self.dtype}))")
        self._grad = value if isinstance(value, Tensor) and value.requires_grad else array

    # --- array facts --------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors no recorded op made (torch's rule): only leaves keep .grad by default."""
        return not self.parents

    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim`` (torch's ``size``; ``.shape`` is the same tuple)."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    nelement = numel

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self):
        """Iterate over the first dimension, as torch: each item is ``t[i]`` (gradients flow)."""
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    # --- conversions --------------------------------------------------------------------
    def item(self):
        """The single element as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a number, this has shape {self.shape}")
        return self._data.item()

    def tolist(self):
        """The values as (nested) Python lists of numbers; a 0-d tensor gives a number."""
        return self._data.tolist()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shares memory, as torch's ``.numpy()`` on a detached tensor)."""
        return self._data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """np.asarray(t), plt.plot(t), plt.imshow(t): the data as an ndarray."""
        array = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return array.copy() if copy else array

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy on Tensors: operators stay in the graph (array * t is t's reflected op); other ufuncs
        (np.isnan(t), np.exp(t)) compute on the data and give a Tensor outside the graph, as torch's do."""
        operator_fn = _UFUNC_OPERATORS.get(ufunc)
        if operator_fn is not None and method == "__call__" and not kwargs:
            return operator_fn(*(_operand(x, self) for x in inputs))
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(o._data if isinstance(o, Tensor) else o for o in out)
        result = getattr(ufunc, method)(*(x._data if isinstance(x, Tensor) else x for x in inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        wrap = lambda r: _plain(r) if isinstance(r, np.ndarray) else r  # noqa: E731
        return tuple(map(wrap, result)) if isinstance(result, tuple) else wrap(result)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "biu" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, "
                            f"got dtype {self.dtype} and shape {self.shape}")
        return int(self._data.item())

    def __format__(self, spec: str) -> str:
        """f"{loss:.4f}" formats a 0-d tensor as its number, as torch."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return format(str(self), spec)

    # --- graph ----------------------------------------------------------------------------
    def detach(self) -> "Tensor":
        """The same data as a new leaf that records no graph."""
        return _plain(self._data)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Make this leaf (not) require gradients, in place; returns it."""
        if self.parents and not requires_grad:
            raise RuntimeError("requires_grad_: a tensor made by a recorded op always requires grad; "
                               "use detach() to get one that does not")
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> "Tensor":
        """Keep this interior node's gradient in ``.grad`` after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that has requires_grad=False")
        self.retains_grad = True
        return self

    def register_hook(self, hook) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if not callable(hook):
            raise TypeError(f"register_hook: expected a function hook(grad), got {type(hook).__name__}")
        if self._hooks is None:
            self._hooks = {}
        key = max(self._hooks, default=-1) + 1
        self._hooks[key] = hook
        return _HookHandle(self._hooks, key)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``, as PyTorch's default)."""
        self._grad = None

    def __repr__(self) -> str:
        if memory.freed(self._data):  # a kept loss's intermediate, let go of after backward
            body = f"<freed after backward: shape {self.shape}>"
        else:
            body = np.array2string(self._data, precision=4, separator=", ", threshold=20, edgeitems=2,
                                   prefix="Tensor(")
        extras = [f"dtype={self.dtype}"] if self.dtype != _DEFAULT_FLOAT else []
        if self.op:
            extras.append(f"op={self.op!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.label:
            extras.append(f"label={self.label!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    # --- graph-core hooks ---------------------------------------------------------------
    def _seed(self, gradient, create_graph: bool):
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no graph to walk; "
                               "create its inputs with requires_grad=True")
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward: the output has shape {self.shape}, not a scalar; pass "
                    f"gradient=<array of shape {self.shape}> (often ones) or reduce it first, e.g. .sum()"
                )
            seed = np.array(1, self._data.dtype).reshape(self._data.shape)
        else:
            if isinstance(gradient, Tensor):
                if create_graph:
                    return gradient
                gradient = gradient._data
            if np.asarray(gradient).dtype.kind not in "biuf":
                raise TypeError(f"backward: gradient must be a Tensor or an array of numbers, "
                                f"got {type(gradient).__name__}")
            seed = np.array(gradient, dtype=self.dtype)
            if seed.shape != self.shape:
                raise ValueError(f"backward: gradient has shape {seed.shape} but the output has shape {self.shape}")
        return Tensor(seed) if create_graph else seed

    def _fit_grad(self, g):
        if g.shape != self._data.shape:
            reduced = sum_to_shape(g, self._data.shape) if g.ndim >= self._data.ndim else g
            if reduced.shape != self._data.shape:  # a hook's result, or an op's bug: never broadcast it into .grad
                raise RuntimeError(f"backward: got a gradient of shape {g.shape} for a tensor of shape "
                                   f"{self.shape}; a hook must return a gradient of its tensor's shape")
            g = reduced
        if g.dtype != self._data.dtype:
            g = g.astype(self._data.dtype)
        return g

    def _accumulate(self, g) -> None:
        # .grad must own its memory: never a view, nor an array another node's gradient also holds
        # (a + b hands both the same one), since in-place ops on .grad (zero_(), +=) would reach both.
        if isinstance(g, np.ndarray) and (g.base is not None or sys.getrefcount(g) > _SOLE):
            g = g.copy()
        self._grad = g if self._grad is None else self._grad + g

    @staticmethod
    def _wrap_grad(g) -> "Tensor":
        return g if isinstance(g, Tensor) else Tensor(g)
