"""In-place ops and item assignment with torch's rules, and clone.

Outside a graph (grad mode off, or nothing involved requires grad) an in-place op changes the
array in place and stamps the tensor's version, so a backward that saved it raises instead of
using the new values. Inside a graph (a non-leaf, or a right-hand side that requires grad) the op
is recorded out of place and the tensor takes the new node's place, keeping its memory, while a
snapshot keeps the old value and history. A leaf that requires grad changes only under no_grad.
Copying a result into a narrower dtype (float64 into float32) gives inf past its range, silently, as
torch; a constant out of range (``fill_(1e300)`` on float32) warns as NumPy does (torch refuses it).
"""

from __future__ import annotations

import operator

import numpy as np

from ..graph import _mode, inplace_clock, no_grad
from ..quiet import hush, unhush
from ..tensor_class import Tensor, _new, _operand, _result, _weak_number
from .closure import raw
from .indexing import _index

METHODS = ["add_", "sub_", "mul_", "div_", "zero_", "fill_", "clamp_", "copy_", "clone"]
OPERATORS = {"__iadd__": "add_", "__isub__": "sub_", "__imul__": "mul_", "__itruediv__": "div_",
             "__setitem__": "setitem"}


def _needs_graph(t: Tensor, others: tuple) -> bool:
    return bool(_mode.record) and (t.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others))


def _check_leaf(t: Tensor, name: str) -> None:
    if t.requires_grad and not t.parents and _mode.grad_enabled:
        raise RuntimeError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place operation; do it under "
            "`with no_grad():` (as optimizer updates are), or change p.data instead")


def _snapshot(t: Tensor) -> Tensor:
    """A new node holding ``t``'s current value (copied) and history."""
    old = _new(Tensor)
    old._data, old._grad, old.label, old.retains_grad = t._data.copy(), None, t.label, False
    old.parents, old._vjp, old.op, old.requires_grad = t.parents, t._vjp, t.op, t.requires_grad
    old._hooks, old._calls = None, ()
    if t.parents:
        old._stamp = t._stamp
    return old


def _redirect(t: Tensor, old: Tensor, others: tuple) -> None:
    """Nodes in the right-hand side's graph that used ``t`` now use its snapshot (``t[i] += v`` reads t)."""
    stack, seen = [o for o in others if isinstance(o, Tensor) and o.parents], set()
    while stack:
        node = stack.pop()
        if node is t or node in seen:
            continue
        seen.add(node)
        if any(p is t for p in node.parents):
            node.parents = tuple(old if p is t else p for p in node.parents)
        stack.extend(p for p in node.parents if p.parents)


def _target(t: Tensor, name: str, data: np.ndarray) -> np.ndarray:
    """The array ``data`` will be copied into, after torch's checks: same shape, a dtype that casts
    (no float into an int tensor), memory of its own (a NumPy scalar or a read-only result gets some)."""
    if data.shape != t.shape:
        raise RuntimeError(f"{name}: output with shape {t.shape} doesn't match the broadcast shape {data.shape}")
    if not np.can_cast(data.dtype, t.dtype, casting="same_kind"):
        raise RuntimeError(f"{name}: result type {data.dtype} can't be cast to the desired output type {t.dtype}; "
                           f"convert the tensor first (t = t.to({data.dtype}))")
    return _writable(t, name)


def _writable(t: Tensor, name: str) -> np.ndarray:
    """t's array, ready to be written: a NumPy scalar or a read-only result first gets memory of its own."""
    target = t._data
    if not isinstance(target, np.ndarray) or not target.flags.writeable:
        if isinstance(target, np.ndarray) and target.size > 1 and 0 in target.strides:
            raise RuntimeError(f"{name}: more than one element of this tensor refers to the same memory (an "
                               "expand/broadcast_to view); clone() it before changing it in place")
        t._data = target = np.array(target)
    return target


def _apply(t: Tensor, name: str, op, *others) -> Tensor:
    """Run the out-of-place ``op(t, *others)`` and make ``t`` hold its result, in place; every check
    (and the op itself) runs before anything changes."""
    _check_leaf(t, name)
    if not _needs_graph(t, others):
        with no_grad():
            result = op(t, *others)
        _copy(_target(t, name, result._data), result._data)
        t._version = inplace_clock.tick()
        return t
    old = _snapshot(t)
    result = op(old, *others)
    target = _target(t, name, result._data)
    _redirect(t, old, others)
    _copy(target, result._data)
    t.parents, t._vjp, t.op, t.requires_grad = result.parents, result._vjp, result.op, True
    t._stamp = result._stamp
    t._rebased = inplace_clock.tick()
    return t


def _direct(t: Tensor, ufunc, other) -> bool:
    """The usual update outside a graph (``p.data -= lr * p.grad``) as one NumPy call writing into t's
    array: a float tensor and a tensor of its dtype or a Python number, broadcasting to its shape.
    False (nothing changed) for anything else, which the general path handles or refuses."""
    target = t._data
    if _weak_number(other):
        value = other
    elif isinstance(other, Tensor) and other._data.dtype == target.dtype:
        value = other._data
    else:
        return False
    if not isinstance(target, np.ndarray) or target.dtype.kind != "f" or not target.flags.writeable:
        return False
    token = hush()
    try:
        ufunc(target, value, out=target)
    except ValueError:  # does not broadcast to t's shape: raised before anything is written
        return False
    finally:
        unhush(token)
    t._version = inplace_clock.tick()
    return True


def _elementwise(t: Tensor, name: str, ufunc, op, other) -> Tensor:
    """t = op(t, other) in place: one ufunc call when no graph is involved, else the general path."""
    _check_leaf(t, name)
    if not _needs_graph(t, (other,)) and _direct(t, ufunc, other):
        return t
    return _apply(t, name, op, other)


def _copy(target: np.ndarray, data: np.ndarray) -> None:
    """data into target, cast as same_kind allows: float64 past float32's range is inf, silently, as torch."""
    token = hush()
    try:
        np.copyto(target, data, casting="same_kind")
    finally:
        unhush(token)


def add_(a: Tensor, other, alpha=1) -> Tensor:
    """a += alpha * other, in place."""
    if alpha == 1:
        return _elementwise(a, "add_", np.add, operator.add, other)
    return _apply(a, "add_", lambda x, y: x + y * alpha, other)


def sub_(a: Tensor, other, alpha=1) -> Tensor:
    """a -= alpha * other, in place."""
    if alpha == 1:
        return _elementwise(a, "sub_", np.subtract, operator.sub, other)
    return _apply(a, "sub_", lambda x, y: x - y * alpha, other)


def mul_(a: Tensor, other) -> Tensor:
    """a *= other, in place."""
    return _elementwise(a, "mul_", np.multiply, operator.mul, other)


def div_(a: Tensor, other) -> Tensor:
    """a /= other, in place (true division: an integer tensor cannot hold the result)."""
    return _elementwise(a, "div_", np.true_divide, operator.truediv, other)


def clamp_(a: Tensor, min=None, max=None) -> Tensor:
    """Clamp a to [min, max] in place."""
    return _apply(a, "clamp_", lambda x: x.clamp(min, max))


def fill_(a: Tensor, value) -> Tensor:
    """Every element set to ``value`` (a number or a one-element tensor), in place."""
    if isinstance(value, Tensor) and value.numel() != 1:
        raise RuntimeError(f"fill_: the value must be a number or a one-element tensor, got shape {value.shape}")
    return _apply(a, "fill_", _broadcast_value, value.reshape(()) if isinstance(value, Tensor) else value)


def zero_(a: Tensor) -> Tensor:
    """Every element set to 0, in place."""
    return fill_(a, 0)


def copy_(a: Tensor, src) -> Tensor:
    """a's values replaced by ``src``'s (broadcast to a's shape, cast to a's dtype), in place."""
    return _apply(a, "copy_", _broadcast_value, src)


def _broadcast_value(x: Tensor, value) -> Tensor:
    """``value`` cast to x's dtype and broadcast to x's shape (the gradient flows to value only)."""
    v = _operand(value, x)
    if v.dtype != x.dtype:
        v = v.astype(x.dtype)
    return v if v.shape == x.shape else v.broadcast_to(x.shape)


def _put(a: Tensor, index: tuple, v: Tensor) -> Tensor:
    """a with a[index] = v, out of place; the gradient goes to v at index and to a elsewhere."""
    data = a._data.copy()
    _assign(data, index, v._data)
    keep = np.ones(a.shape, dtype=bool)
    keep[index] = False

    def backward(g, out, x, y):
        if isinstance(g, Tensor):
            return Tensor.where(keep, g, 0), g[index]
        return np.where(keep, g, 0), np.asarray(g[index])

    return _result(data, (a, v), backward, "setitem")


def setitem(a: Tensor, index, value) -> None:
    """a[index] = value; recorded (gradients to both) when either is part of a graph."""
    index = _index(index)
    _check_leaf(a, "setitem")
    if _needs_graph(a, (value,)):
        _apply(a, "setitem", lambda x, v: _put(x, index, _operand(v, x)), value)
        return
    _assign(_writable(a, "setitem"), index, raw(value))
    a._version = inplace_clock.tick()


def _assign(array: np.ndarray, index: tuple, value) -> None:
    """array[index] = value, with an error naming setitem and the shapes."""
    try:
        array[index] = value
    except (IndexError, ValueError) as error:
        raise type(error)(f"setitem: {error} (assigning into a tensor of shape {array.shape})") from None


def clone(a: Tensor) -> Tensor:
    """A copy with its own memory; the gradient flows back unchanged."""
    return _result(a._data.copy(), (a,), lambda g, out, x: (g,), "clone")


