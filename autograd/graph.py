"""The graph core: one Node type, one topological sort, one backward pass (each with a twin for plain
scalar backwards, its hot path), grad mode.

Every op creates a node holding its result, its parents (an ordered tuple) and its backward: one
derivative ``(g, out, *parents) -> gradient`` per parent, of which the core calls only those whose
parent needs a gradient (torch's needs_input_grad), or one function returning a gradient per parent
for ops whose parents' gradients share work. The arguments are "lifted": raw data
(floats or ndarrays) in a plain backward, the nodes themselves under ``create_graph=True`` so the
same closure records a differentiable graph. The closure never captures its own output node, so
building a graph creates no reference cycles and the garbage collector stays idle.
"""

from __future__ import annotations

import functools
import math
import gc
import threading

import numpy as np

from . import memory
from .quiet import hush, unhush
from .scalar_walk import scalar_backward, scalar_order

__all__ = [
    "Node", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "topological_order", "run_backward",
    "grad",
]


class _Mode(threading.local):
    """Per-thread switches. Ops read only ``record``: False (no graph), True (record), or the
    active ``detect_anomaly`` (truthy: record and check), so the hot path costs one read.
    ``anomaly`` and ``trace`` hold the active tools of debug.py, which the core calls but never imports."""

    grad_enabled = True
    anomaly = None
    record = True
    trace = None
    last_trace = None
    last_anomaly = None

    def update(self) -> None:
        self.record = (self.anomaly or True) if self.grad_enabled else False


_mode = _Mode()


def is_grad_enabled() -> bool:
    """True when ops record a graph in this thread."""
    return _mode.grad_enabled


class set_grad_enabled:
    """Context manager and decorator that switches graph recording on or off for this thread."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self._saved: list[bool] = []

    def __enter__(self):
        self._saved.append(_mode.grad_enabled)
        _mode.grad_enabled = self.mode
        _mode.update()
        return self

    def __exit__(self, *exc):
        _mode.grad_enabled = self._saved.pop()
        _mode.update()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """Nothing computed inside records a graph (inference, optimizer updates)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record graphs again, e.g. inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


def _released(*_):
    raise RuntimeError(
        "Trying to backward through the graph a second time: its saved values were freed after "
        "the first backward. Pass retain_graph=True to the first backward() to keep them."
    )


class Node:
    """A value in a computation graph: data, grad, ordered parents, op name, label, backward closure."""

    # ``_calls`` is set only on nodes an nn.Module returned: ((module, input nodes), ...), innermost
    # call first, so the renderer can group a module's nodes; plain ops never touch it.
    # ``parents`` (an ordered tuple) is a slot of Tensor and a property of Value, which keeps its at
    # most two parents in slots of its own: one object per scalar node for the garbage collector.
    __slots__ = ("op", "label", "_vjp", "_g", "_calls", "__weakref__")  # weakref: caches and hooks may watch nodes

    # Subclasses say where their raw data lives (``_raw``: a float for Value, an ndarray for
    # Tensor), how a gradient is fitted to a node (Tensor: sum_to_shape and dtype) and whether
    # interior nodes keep their .grad (Value: always, as in micrograd).
    _raw = None
    _fit_grad = None
    _hooks = None  # Tensor: the functions register_hook added, called with the node's gradient
    _stamp = math.inf  # Tensor: the in-place clock when the node was recorded (see _check_versions)

    def _seed(self, gradient, create_graph: bool):
        raise NotImplementedError

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Propagate d(self)/d(node) to every node reached and add it (+=) to the nodes' .grad."""
        if retain_graph is None:
            retain_graph = create_graph
        run_backward((self,), (self._seed(gradient, create_graph),), retain_graph, create_graph)


class inplace_clock:
    """Counts in-place changes. A changed tensor keeps the count in ``_version`` (``_rebased`` when
    its graph history was replaced); a recorded node keeps the count at its recording in ``_stamp``."""

    count = 0

    @classmethod
    def tick(cls) -> int:
        cls.count += 1
        return cls.count


def _check_versions(node) -> None:
    """Raise if an input of ``node`` (or its output) was changed in place after the node was recorded."""
    stamp = node._stamp
    for i, parent in enumerate(node.parents):
        if getattr(parent, "_rebased", 0) > stamp:
            raise RuntimeError(
                f"backward: input {i} of op {node.op!r} was changed in place by a recorded op after this op "
                f"used it, so the graph no longer leads back to the value it used; write the in-place op "
                f"out of place (y = y + 1, not y += 1) or change the tensor before its other uses")
    for i, tensor in enumerate((node, *node.parents)):
        if getattr(tensor, "_version", 0) > stamp:
            which = "its output" if i == 0 else f"input {i - 1}"
            raise RuntimeError(
                f"backward: one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {which} of op {node.op!r} (shape {tensor.shape}) was changed in place "
                f"after the op recorded it; compute a new tensor instead (y = y * 2, not y *= 2) or clone() it first")


def _run_hooks(node, g):
    """Call the node's gradient hooks in order; a hook that returns something replaces the gradient."""
    for hook in tuple(node._hooks.values()):
        result = hook(g if isinstance(g, Node) else node._wrap_grad(g))
        if result is not None:
            g = result if isinstance(g, Node) else node._fit_grad(np.asarray(getattr(result, "_data", result)))
    return g


def topological_order(roots) -> list:
    """Nodes reachable from ``roots``, every node after all its parents; iterative, no recursion."""
    order, visited = [], set()
    stack = [(root, False) for root in roots]  # (node, expanded): a leaf is never pushed twice
    append, push, pop, seen, mark = order.append, stack.append, stack.pop, visited.__contains__, visited.add
    while stack:
        node, expanded = pop()
        if expanded:  # every parent is in the order by now
            append(node)
        elif not seen(node):
            mark(node)
            parents = node.parents
            if not parents:
                append(node)
                continue
            push((node, True))
            for parent in parents:
                if not seen(parent):
                    push((parent, False))
    return order


KEEP_BYTES = 1 << 16  # a plain Tensor backward leaves gradients up to this size on the nodes it passed, and
# lets go of bigger data that only its graph holds (memory.free_unheld)


def carried_grad(node):
    """The gradient the last plain backward carried to ``node`` (an array), or None: kept on interior
    Tensor nodes up to KEEP_BYTES so a picture drawn after ``backward()`` shows it, as it shows every
    Value's. Not ``.grad``: nothing accumulates, and the next backward through the node replaces it."""
    g = getattr(node, "_g", None)  # a slot no backward has set yet
    return g if g.__class__ is np.ndarray else None


def _lift_node(node):
    return node


def _local_gradients(backward, g, out, inputs: tuple, parents: tuple) -> tuple:
    """One gradient per parent from a node's backward: a tuple of derivatives is called only for the
    parents that need a gradient (None for the others); a single function returns them all."""
    if backward.__class__ is not tuple:
        return backward(g, out, *inputs)
    return tuple(derivative(g, out, *inputs) if parent.requires_grad else None
                 for derivative, parent in zip(backward, parents))


def run_backward(roots, seeds, retain_graph: bool = False, create_graph: bool = False, inputs=None):
    """The one backward pass: walk the graph from ``roots`` in reverse topological order.

    Each node's pending gradient (slot ``_g``, reset at the start of every pass) is complete when
    the walk reaches it; it is passed to the node's closure and the returned contributions are
    fitted to each parent's shape and summed (fan-out adds). With ``inputs=None`` every node that
    keeps a gradient gets it added to ``.grad``; otherwise nothing is accumulated and the
    gradients of ``inputs`` are returned (``grad()``).
    """
    for root in roots:
        if root._vjp is _released:  # raise before a single .grad changes
            _released()
    fit = type(roots[0])._fit_grad
    trace, anomaly = _mode.trace, _mode.anomaly
    if fit is None and not create_graph and inputs is None and trace is None and anomaly is None:
        collecting = gc.isenabled()  # the walk makes no cycles: the collector would only rescan the graph
        gc.disable()
        try:
            scalar_backward(scalar_order(roots), roots, seeds, retain_graph, _released)
        finally:
            if collecting:
                gc.enable()
        return {}
    order = topological_order(roots)
    for node in order:
        node._g = None
    for root, seed in zip(roots, seeds):
        root._g = seed if root._g is None else root._g + seed
    wanted = None if inputs is None else set(inputs)
    found: dict = {}
    lift = _lift_node if create_graph else type(roots[0])._raw
    latest = inplace_clock.count  # nodes recorded before the latest in-place op get their inputs checked
    inspect = trace is not None or anomaly is not None
    big = False  # whether an interior node's data is above KEEP_BYTES (its gradient's size tells)
    saved, _mode.grad_enabled = _mode.grad_enabled, create_graph  # as set_grad_enabled, without its object
    _mode.update()
    quiet = hush()  # inf and nan flow through a backward silently, as in torch
    try:
        for node in reversed(order):
            g = node._g
            if g is None:
                continue
            parents = node.parents
            if not parents or g.__class__ is not np.ndarray:
                node._g = None
            elif g.nbytes > KEEP_BYTES:  # a smaller one stays for pictures (carried_grad); no closure writes into it
                node._g, big = None, True
            if node._hooks is not None:
                g = _run_hooks(node, g)
            if wanted is None:
                if not parents or node.retains_grad:
                    node._accumulate(g)
            elif node in wanted:
                found[node] = g
            if not parents:
                if trace is not None:
                    trace.record(node, g, None, ())
                continue
            if node._stamp < latest:
                _check_versions(node)
            backward = node._vjp
            if not retain_graph:
                node._vjp = _released
            if len(parents) == 1:  # the one parent needs a gradient, or the node would not
                grads = (backward[0](g, lift(node), lift(parents[0])),) if backward.__class__ is tuple else \
                    backward(g, lift(node), lift(parents[0]))
            elif len(parents) == 2 and backward.__class__ is tuple:  # _local_gradients, inline for the usual case
                a, b = parents
                grads = (backward[0](g, lift(node), lift(a), lift(b)) if a.requires_grad else None,
                         backward[1](g, lift(node), lift(a), lift(b)) if b.requires_grad else None)
            else:
                grads = _local_gradients(backward, g, lift(node), tuple(map(lift, parents)), parents)
            if inspect:  # debug.py's tools, called only while one is active
                if anomaly is not None:
                    anomaly.check_backward(node, grads)
                if trace is not None:
                    trace.record_step(node, backward, g, grads, lift)
            for parent, contribution in zip(parents, grads):
                if contribution is None or not parent.requires_grad:
                    continue
                if fit is not None:
                    data = parent._data  # the fit's own test, inline: most contributions fit already
                    if contribution.shape != data.shape or contribution.dtype != data.dtype:
                        contribution = fit(parent, contribution)
                previous = parent._g
                parent._g = contribution if previous is None else previous + contribution
            grads = contribution = previous = None  # so the parent's closure may own its gradient (ops.owned)
    finally:
        unhush(quiet)
        _mode.grad_enabled = saved
        _mode.update()
    if big and fit is not None and not retain_graph:  # let go of the big arrays only the graph holds
        node = parent = root = data = backward = a = b = None  # the loop's last ones, which would look held
        memory.free_unheld(order, roots, _released, KEEP_BYTES)
    return found


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple; ``.grad`` is untouched.

    As ``torch.autograd.grad``: ``grad_outputs`` seeds each output (needed for non-scalar ones),
    ``retain_graph`` defaults to ``create_graph``, and ``create_graph=True`` returns gradients that
    are graph nodes themselves, so they can be differentiated again.
    """
    single_output = isinstance(outputs, Node)
    outputs = (outputs,) if single_output else tuple(outputs)
    single_input = isinstance(inputs, Node)
    inputs = (inputs,) if single_input else tuple(inputs)
    for i, node in enumerate(inputs):
        if not isinstance(node, Node):
            raise TypeError(f"grad: input {i} must be a Tensor or Value, got {type(node).__name__}")
        if not node.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad; create it with requires_grad=True "
                               "(or call .requires_grad_() on it) before computing the outputs")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [out._seed(g, create_graph) for out, g in zip(outputs, grad_outputs)]
    found = run_backward(outputs, seeds, retain_graph, create_graph, inputs=inputs)
    result = []
    for i, node in enumerate(inputs):
        if node in found:
            g = found[node]
            result.append(g if create_graph else node._wrap_grad(g))
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError(
                f"grad: input {i} ({node!r}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return tuple(result)
