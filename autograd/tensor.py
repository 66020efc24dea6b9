"""Tensor: a NumPy array node on the shared graph core.

This file holds construction, dtype rules and the graph-core hooks; the ops live in ``ops/``
(grouped by kind) and are wired onto the class at the bottom of this file.
"""

from __future__ import annotations

import numpy as np

from .graph import Node, _mode

__all__ = ["Tensor", "sum_to_shape"]

_new = object.__new__
_DEFAULT_FLOAT = np.float32


def _as_array(data, dtype=None) -> np.ndarray:
    """``data`` as an ndarray: lists and Python numbers become float32, ndarrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
    else:
        try:
            array = np.asarray(data)
        except (ValueError, TypeError) as error:
            raise TypeError(f"Tensor data must be numeric (nested lists of numbers): {error}") from None
        if array.dtype.kind in "biuf":
            array = array.astype(_DEFAULT_FLOAT)
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
    out.data = data
    out.grad = None
    out.label = ""
    out.retains_grad = False
    record = _mode.record
    if record:
        for p in parents:  # a loop, not any(): cheaper for the one or two parents of an op
            if p.requires_grad:
                out.parents, out._backward, out.op, out.requires_grad = parents, backward, op, True
                if record is not True:
                    record.forward(out)
                return out
    out.parents, out._backward, out.op, out.requires_grad = (), None, "", False
    return out


def _operand(x, like: "Tensor") -> "Tensor":
    """Wrap a constant operand: Python numbers take the tensor's float dtype (as in PyTorch)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float, np.number, np.bool_)):  # scalars, also NumPy's
        kind = like.data.dtype.kind
        is_float = isinstance(x, (float, np.floating))
        dtype = like.data.dtype if kind == "f" or (kind in "iub" and not is_float) else _DEFAULT_FLOAT
        return Tensor(np.asarray(x, dtype=dtype))
    return Tensor(np.asarray(x) if isinstance(x, np.ndarray) else _as_array(x))


class Tensor(Node):
    """An n-dimensional array with a gradient; ``.grad`` is an ndarray of the data's shape, or None."""

    __slots__ = ("parents", "requires_grad", "retains_grad")
    __array_ufunc__ = None  # NumPy defers to Tensor's reflected operators: array * Tensor is a Tensor
    __hash__ = Node.__hash__  # identity: Tensors key the core's dicts even though == is elementwise

    def __init__(self, data, requires_grad: bool = False, dtype=None, label: str = ""):
        array = _as_array(data, dtype)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {array.dtype}; "
                "pass dtype=np.float32 or np.float64"
            )
        self.data = array
        self.grad = None
        self.parents = ()
        self.op = ""
        self.label = label
        self._backward = None
        self.requires_grad = bool(requires_grad)
        self.retains_grad = False

    # --- factories ----------------------------------------------------------------------
    @staticmethod
    def zeros(shape, requires_grad: bool = False, dtype=_DEFAULT_FLOAT) -> "Tensor":
        return Tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def ones(shape, requires_grad: bool = False, dtype=_DEFAULT_FLOAT) -> "Tensor":
        return Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def randn(*shape, seed=None, requires_grad: bool = False, dtype=_DEFAULT_FLOAT) -> "Tensor":
        """Standard normal samples; ``seed`` makes them reproducible."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        data = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
        return Tensor(data, requires_grad=requires_grad)

    @staticmethod
    def arange(*args, requires_grad: bool = False, dtype=_DEFAULT_FLOAT) -> "Tensor":
        return Tensor(np.arange(*args, dtype=dtype), requires_grad=requires_grad)

    # --- array facts --------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a number, this has shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shares memory, as torch's ``.numpy()`` on a detached tensor)."""
        return self.data

    def detach(self) -> "Tensor":
        """The same data as a new leaf that records no graph."""
        return Tensor(self.data)

    def retain_grad(self) -> "Tensor":
        """Keep this interior node's gradient in ``.grad`` after backward (leaves always keep theirs)."""
        self.retains_grad = True
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``, as PyTorch's default)."""
        self.grad = None

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", threshold=20, edgeitems=2,
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
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: the output has shape {self.shape}, not a scalar; pass "
                    f"gradient=<array of shape {self.shape}> (often ones) or reduce it first, e.g. .sum()"
                )
            seed = np.array(1, self.data.dtype).reshape(self.data.shape)
        else:
            if isinstance(gradient, Tensor):
                if create_graph:
                    return gradient
                gradient = gradient.data
            seed = np.array(gradient, dtype=self.dtype)
            if seed.shape != self.shape:
                raise ValueError(f"backward: gradient has shape {seed.shape} but the output has shape {self.shape}")
        return Tensor(seed) if create_graph else seed

    def _fit_grad(self, g):
        if g.shape != self.data.shape:
            g = sum_to_shape(g, self.data.shape)
        if g.dtype != self.data.dtype:
            g = g.astype(self.data.dtype)
        return g

    def _accumulate(self, g) -> None:
        if isinstance(g, np.ndarray) and g.base is not None:
            g = g.copy()  # never keep a view of another array (or of a reused buffer) as .grad
        self.grad = g if self.grad is None else self.grad + g

    @staticmethod
    def _wrap_grad(g) -> "Tensor":
        return g if isinstance(g, Tensor) else Tensor(g)


def _wire_ops() -> None:
    """Attach the ops in ``ops/`` to Tensor as methods and operators."""
    from .ops import elementwise, linalg, reduce, shape, windows

    for module in (elementwise, reduce, shape, linalg, windows):
        for name in module.METHODS:
            setattr(Tensor, name, getattr(module, name))
        for name in getattr(module, "STATIC", ()):
            setattr(Tensor, name, staticmethod(getattr(module, name)))
        for dunder, name in getattr(module, "OPERATORS", {}).items():
            setattr(Tensor, dunder, getattr(module, name))


_wire_ops()
