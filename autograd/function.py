"""autograd.Function: torch's way to define an op by its forward and its backward.

``forward(ctx, *args)`` computes the result (nothing inside is recorded); ``backward(ctx, grad)``
returns one gradient per argument (None for those that need none). The result is an ordinary
node of the graph, named after the class: it is drawn, traced, gradchecked and differentiated
again under ``create_graph=True`` when ``backward`` is written with Tensor (or Value) ops.
"""

from __future__ import annotations

import numpy as np

from .graph import Node, no_grad
from .record import Op
from .tensor_class import Tensor, _plain
from .tensor_class import _result as _tensor_result
from .value import Value
from .value import _result as _value_result

__all__ = ["Function", "FunctionCtx"]

_OUT = -1  # the index save_for_backward records for the forward's own result


class FunctionCtx:
    """What forward leaves for backward: ``save_for_backward(*tensors)``, ``saved_tensors``,
    ``needs_input_grad`` (one bool per argument), and any attribute forward sets on it."""

    def __init__(self, args: tuple):
        self.needs_input_grad = tuple(isinstance(a, Node) and bool(a.requires_grad) for a in args)
        self._args = args  # forward's arguments, only until forward returns
        self._saved: tuple = ()
        self._bound = None

    def save_for_backward(self, *tensors) -> None:
        """Keep these (arguments, the result, or other tensors) for backward."""
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._bound is None:
            raise RuntimeError("saved_tensors is read in backward, after save_for_backward in forward")
        out, inputs = self._bound
        return tuple(out if kind == _OUT else inputs[kind] if isinstance(kind, int) else kind[0]
                     for kind in self._saved)

    def _resolve(self, out) -> None:
        """Replace each saved argument or result by its place, so ctx holds no node of the graph: the
        backward then sees them as the core passes them (the nodes themselves under create_graph)."""
        places = {id(a): i for i, a in enumerate(self._args) if isinstance(a, Node)}
        self._saved = tuple(_OUT if t is out else places.get(id(t), (t,)) for t in self._saved)
        self._args = None


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``; call ``Fn.apply(*args)``."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args):
        raise NotImplementedError("a Function subclass defines forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs):
        raise NotImplementedError("a Function subclass defines backward(ctx, grad) returning one gradient per input")

    @classmethod
    def apply(cls, *args):
        """Run forward on ``args`` and record the result with ``backward`` as its local derivative."""
        nodes = [a for a in args if isinstance(a, Node)]
        kinds = {type(a) for a in nodes}
        if len(kinds) > 1:
            raise TypeError(f"{cls.__name__}.apply: mixes Values and Tensors; pass one kind")
        ctx = FunctionCtx(args)
        with no_grad():
            out = cls.forward(ctx, *args)
        scalar = kinds == {Value} or (not nodes and isinstance(out, Value))
        if isinstance(out, (tuple, list)):
            raise NotImplementedError(f"{cls.__name__}.forward returned {len(out)} results; a Function here "
                                      "returns one Tensor or Value")
        ctx._resolve(out)
        positions = [i for i, a in enumerate(args) if isinstance(a, Node)]
        vjp = _vjp(cls, ctx, positions, [a.shape if isinstance(a, Tensor) else () for a in nodes], scalar)
        if scalar:
            if len(nodes) > 2:
                raise NotImplementedError(f"{cls.__name__}.apply: a Value op takes at most two Value inputs, "
                                          f"got {len(nodes)}; use Tensors")
            data = float(out.data if isinstance(out, Value) else out)
            return _value_result(data, Op(cls.__name__, vjp), *nodes) if nodes else Value(data)
        data = out._data if isinstance(out, Tensor) else np.asarray(out)
        return _tensor_result(data, tuple(nodes), vjp, Op(cls.__name__, vjp))


def _vjp(cls, ctx: FunctionCtx, positions: list, shapes: list, scalar: bool):
    """The core's closure for a Function: wrap what the core passes, call backward, unwrap its gradients."""
    name = cls.__name__

    def vjp(g, out, *inputs):
        lifted = isinstance(g, Node)  # create_graph: the core passes the nodes themselves
        wrap = (lambda x: x) if lifted else (Value if scalar else _plain)
        ctx._bound = (wrap(out), {i: wrap(x) for i, x in zip(positions, inputs)})
        try:
            grads = cls.backward(ctx, wrap(g))
        finally:
            ctx._bound = None
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(ctx.needs_input_grad):
            raise RuntimeError(f"{name}.backward returned {len(grads)} gradients but forward took "
                               f"{len(ctx.needs_input_grad)} arguments; return one per argument (None for none)")
        picked = []
        for i, shape in zip(positions, shapes):
            grad = grads[i]
            if grad is not None and not lifted:
                grad = grad.data if scalar and isinstance(grad, Value) else getattr(grad, "_data", grad)
                if not scalar:
                    grad = np.asarray(grad)
                    _check_shape(name, i, grad.shape, shape)
            picked.append(grad)
        return tuple(picked)

    return vjp


def _check_shape(name: str, i: int, got: tuple, shape: tuple) -> None:
    """A gradient must have its argument's shape, or one that sums back to it (broadcasting)."""
    try:
        fits = got == shape or np.broadcast_shapes(got, shape) == got
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{name}.backward returned a gradient of shape {got} for argument {i}, "
                           f"which has shape {shape}")
