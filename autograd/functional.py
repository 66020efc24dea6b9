"""Jacobians, Hessians and vector products of functions of Values or Tensors, as torch.autograd.functional.

``inputs`` is one Value/Tensor or a tuple (or list) of them, all of one kind, and ``f`` is called as
``f(*inputs)`` with grad mode on; it returns one node or a tuple/list of them. The inputs are never
mutated and their ``.grad`` is untouched. With ``create_graph=False`` (the default) results carry no
graph; with ``create_graph=True`` they are nodes that can be differentiated again (with respect to the
inputs, and to ``v`` when ``v`` is a node).

Tensors, as torch: ``jacobian`` of f: R^in.shape -> R^out.shape is a Tensor of shape
``out.shape + in.shape``; several inputs give a tuple over inputs, several outputs a tuple over
outputs (of tuples over inputs). ``hessian[i][j]`` has shape ``in_i.shape + in_j.shape`` (a single
Tensor for a single input). ``vjp``, ``jvp``, ``hvp`` return ``(f(x), result)``, the result shaped
like the inputs (vjp, hvp) or the outputs (jvp).

Values: a sequence of Values acts as a vector. ``jacobian`` returns an ndarray of floats of shape
``out_shape + in_shape``, where one Value has shape () (the result is then a float) and a sequence of
n Values shape (n,); ``hessian`` is ``in_shape + in_shape``. ``vjp``, ``jvp``, ``hvp`` return floats,
a float or a tuple of floats in the structure of the inputs (outputs for jvp), and f(x) likewise.
With ``create_graph=True`` the floats are Values (jacobian and hessian: an ndarray of dtype object
holding Values, or a single Value when 0-d).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .graph import enable_grad, grad
from .tensor_class import Tensor
from .value import Value

__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]


def _as_tuple(x) -> tuple[bool, tuple]:
    """(was it a tuple or list, its items as a tuple)."""
    return (True, tuple(x)) if isinstance(x, (tuple, list)) else (False, (x,))


def _kind_of(name: str, what: str, nodes: tuple, kind=None) -> type:
    """Value or Tensor, the one kind every node is; TypeError otherwise."""
    kinds = {Value if isinstance(x, Value) else Tensor if isinstance(x, Tensor) else type(x) for x in nodes}
    if len(kinds) != 1 or not kinds <= {Value, Tensor} or (kind is not None and kinds != {kind}):
        names = ", ".join(sorted(k.__name__ for k in kinds))
        expected = "Values or all Tensors" if kind is None else f"{kind.__name__}s, as the inputs"
        raise TypeError(f"{name}: {what} must be all {expected}, got {names}")
    return kinds.pop()


def _prepare(name: str, inputs, create_graph: bool) -> tuple[type, bool, tuple]:
    """The kind, whether inputs is a tuple, and the leaves f is called on (the inputs under create_graph)."""
    is_tuple, xs = _as_tuple(inputs)
    if not xs:
        raise ValueError(f"{name}: needs at least one input")
    kind = _kind_of(name, "inputs", xs)
    if kind is Value:
        return kind, is_tuple, xs if create_graph else tuple(Value(x._data) for x in xs)
    return kind, is_tuple, tuple(x if create_graph and x.requires_grad else Tensor(x._data, requires_grad=True)
                                 for x in xs)


def _call(name: str, f: Callable, kind: type, leaves: tuple) -> tuple[bool, tuple]:
    """f(*leaves) with grad mode on: (whether it returned a tuple, its outputs as a tuple)."""
    with enable_grad():
        out = f(*leaves)
    is_tuple, outs = _as_tuple(out)
    if not outs:
        raise ValueError(f"{name}: f returned no outputs")
    _kind_of(name, "the outputs of f", outs, kind)
    return is_tuple, outs


def _scalar(name: str, out_tuple: bool, outs: tuple) -> None:
    if out_tuple or isinstance(outs[0], Tensor) and outs[0].numel() != 1:
        shape = f"{len(outs)} outputs" if out_tuple else f"shape {outs[0].shape}"
        raise ValueError(f"{name}: f must return a single scalar (one Value or a one-element Tensor), got {shape}")


def _has_graph(node) -> bool:
    return isinstance(node, Value) or node.requires_grad


def _backprop(outs, seeds, leaves: tuple, create_graph: bool) -> tuple:
    """grad(outs, leaves, seeds), skipping outputs without a graph; None for a leaf nothing reaches."""
    pairs = [(o, s) for o, s in zip(outs, seeds) if o is not None and _has_graph(o)]
    if not pairs:
        return (None,) * len(leaves)
    outs, seeds = zip(*pairs)
    if any(isinstance(s, Value) for s in seeds):  # a Value seed is not kept by the core: use sum(o * s)
        outs, seeds = (sum((o * s for o, s in pairs), Value(0.0)),), (None,)
    return grad(outs, leaves, grad_outputs=seeds, retain_graph=True, create_graph=create_graph, allow_unused=True)


def _zeros_like(node, create_graph: bool):
    if isinstance(node, Value):
        return Value(0.0) if create_graph else 0.0
    return Tensor(np.zeros_like(node._data))


def _result(g, like, create_graph: bool):
    """A gradient as returned to the caller: zeros for None, a copy without graph unless create_graph."""
    if g is None:
        return _zeros_like(like, create_graph)
    if create_graph:
        return g
    return g._data if isinstance(g, Value) else Tensor(np.array(g._data))


def _pack(values, likes, is_tuple: bool, create_graph: bool):
    results = tuple(_result(v, like, create_graph) for v, like in zip(values, likes))
    return results if is_tuple else results[0]


def _vectors(name: str, v, nodes: tuple, is_tuple: bool, create_graph: bool) -> tuple:
    """``v`` as one seed per node: arrays (or Tensors under create_graph) of each node's shape, or floats/Values."""
    if v is None:
        if is_tuple or isinstance(nodes[0], Tensor) and nodes[0].numel() != 1:
            raise ValueError(f"{name}: v can be omitted only for a single one-element {type(nodes[0]).__name__}")
        return (1.0,) if isinstance(nodes[0], Value) else (np.ones_like(nodes[0]._data),)
    vs = tuple(v) if is_tuple and isinstance(v, (tuple, list)) else (v,)
    if len(vs) != len(nodes):
        raise ValueError(f"{name}: v has {len(vs)} entries for {len(nodes)} nodes")
    seeds = []
    for i, (vector, node) in enumerate(zip(vs, nodes)):
        if isinstance(node, Value):
            seeds.append(vector if create_graph and isinstance(vector, Value) else float(vector))
            continue
        if create_graph and isinstance(vector, Tensor) and vector.requires_grad:
            seeds.append(vector.astype(node.dtype) if vector.dtype != node.dtype else vector)
        else:
            seeds.append(np.asarray(vector._data if isinstance(vector, Tensor) else vector, dtype=node.dtype))
        if seeds[-1].shape != node.shape:
            raise ValueError(f"{name}: v[{i}] has shape {seeds[-1].shape} but should have shape {node.shape}")
    return tuple(seeds)


def _tensor_jacobian(out: Tensor, leaves: tuple, create_graph: bool) -> list:
    """d out / d leaf for each leaf, of shape out.shape + leaf.shape: one vjp per element of out."""
    rows: list[list] = [[] for _ in leaves]
    if _has_graph(out):
        for k in range(out.numel()):
            seed = np.zeros(out.numel(), dtype=out.dtype)
            seed[k] = 1
            for row, g, leaf in zip(rows, _backprop((out,), (seed.reshape(out.shape),), leaves, create_graph), leaves):
                row.append(_result(g, leaf, create_graph))
    blocks = []
    for row, leaf in zip(rows, leaves):
        shape = out.shape + leaf.shape
        if not row:
            blocks.append(Tensor(np.zeros(shape, dtype=leaf.dtype)))
        elif create_graph:
            blocks.append(Tensor.stack(row).reshape(shape))
        else:
            blocks.append(Tensor(np.stack([r._data for r in row]).reshape(shape)))
    return blocks


def _value_jacobian(outs: tuple, out_shape: tuple, leaves: tuple, in_shape: tuple, create_graph: bool):
    """The Jacobian of Values as an ndarray of shape out_shape + in_shape (floats, or Values under create_graph)."""
    matrix = np.empty((len(outs), len(leaves)), dtype=object if create_graph else float)
    for i, out in enumerate(outs):
        for j, (g, leaf) in enumerate(zip(_backprop((out,), (1.0,), leaves, create_graph), leaves)):
            matrix[i, j] = _result(g, leaf, create_graph)
    matrix = matrix.reshape(out_shape + in_shape)
    return matrix[()] if matrix.ndim == 0 else matrix


def _shape(is_tuple: bool, nodes: tuple) -> tuple:
    return (len(nodes),) if is_tuple else ()


def jacobian(f: Callable, inputs, create_graph: bool = False):
    """The Jacobian of ``f`` at ``inputs``: out.shape + in.shape per (output, input) pair (see the module doc)."""
    kind, in_tuple, leaves = _prepare("jacobian", inputs, create_graph)
    out_tuple, outs = _call("jacobian", f, kind, leaves)
    if kind is Value:
        return _value_jacobian(outs, _shape(out_tuple, outs), leaves, _shape(in_tuple, leaves), create_graph)
    blocks = [_tensor_jacobian(out, leaves, create_graph) for out in outs]
    per_output = [tuple(b) if in_tuple else b[0] for b in blocks]
    return tuple(per_output) if out_tuple else per_output[0]


def hessian(f: Callable, inputs, create_graph: bool = False):
    """The Hessian of a scalar ``f``: in_i.shape + in_j.shape per pair of inputs (see the module doc)."""
    kind, in_tuple, leaves = _prepare("hessian", inputs, create_graph)
    out_tuple, outs = _call("hessian", f, kind, leaves)
    _scalar("hessian", out_tuple, outs)
    grads = _backprop(outs, (None,), leaves, True)
    if kind is Value:
        shape = _shape(in_tuple, leaves)
        return _value_jacobian(tuple(Value(0.0) if g is None else g for g in grads), shape, leaves, shape,
                               create_graph)
    blocks = [_tensor_jacobian(_zeros_like(leaf, False) if g is None else g, leaves, create_graph)
              for g, leaf in zip(grads, leaves)]
    return tuple(tuple(b) for b in blocks) if in_tuple else blocks[0][0]


def vjp(f: Callable, inputs, v=None, create_graph: bool = False):
    """(f(inputs), v^T J): the vector-Jacobian product, shaped like the inputs; v may be omitted for a scalar f."""
    kind, in_tuple, leaves = _prepare("vjp", inputs, create_graph)
    out_tuple, outs = _call("vjp", f, kind, leaves)
    seeds = _vectors("vjp", v, outs, out_tuple, create_graph)
    grads = _backprop(outs, seeds, leaves, create_graph)
    return _pack(outs, outs, out_tuple, create_graph), _pack(grads, leaves, in_tuple, create_graph)


def jvp(f: Callable, inputs, v=None, create_graph: bool = False):
    """(f(inputs), J v): the Jacobian-vector product, shaped like the outputs, by the double-vjp trick.

    u -> J^T u is linear in a dummy u; its vjp with v is (J^T)^T v = J v.
    """
    kind, in_tuple, leaves = _prepare("jvp", inputs, create_graph)
    out_tuple, outs = _call("jvp", f, kind, leaves)
    seeds = _vectors("jvp", v, leaves, in_tuple, create_graph)
    dummies = tuple(Value(0.0) if kind is Value else Tensor(np.zeros_like(o._data), requires_grad=o.requires_grad)
                    for o in outs)
    with enable_grad():
        transposed = _backprop(outs, dummies, leaves, True)
        products = _backprop(transposed, seeds, dummies, create_graph)
    return _pack(outs, outs, out_tuple, create_graph), _pack(products, outs, out_tuple, create_graph)


def hvp(f: Callable, inputs, v=None, create_graph: bool = False):
    """(f(inputs), H v) for a scalar f: the gradient's vjp with v, never forming H; shaped like the inputs."""
    kind, in_tuple, leaves = _prepare("hvp", inputs, create_graph)
    out_tuple, outs = _call("hvp", f, kind, leaves)
    _scalar("hvp", out_tuple, outs)
    seeds = _vectors("hvp", v, leaves, in_tuple, create_graph)
    with enable_grad():
        grads = _backprop(outs, (None,), leaves, True)
        products = _backprop(grads, seeds, leaves, create_graph)
    return _pack(outs, outs, False, create_graph), _pack(products, leaves, in_tuple, create_graph)


def vhp(f: Callable, inputs, v=None, create_graph: bool = False):
    """(f(inputs), v^T H); the same as hvp, since the Hessian of a twice-differentiable f is symmetric."""
    return hvp(f, inputs, v, create_graph)
