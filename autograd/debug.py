"""Debugging tools on the core: ``detect_anomaly`` and ``BackwardTrace`` / ``trace_backward``.

The core knows neither: it keeps the active objects in ``graph._mode`` and, only while one is
active, calls ``anomaly.check_forward(node)`` on each new node and, per backward step,
``anomaly.check_backward(...)`` and ``trace.record_step(...)``. This module imports the core, never
the other way round.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

from .graph import Node, _local_gradients, _mode

__all__ = ["detect_anomaly", "AnomalyError", "BackwardTrace", "trace_backward", "register_internal"]

# Folders whose frames are library code: an anomaly names the innermost frame outside all of them.
internal_paths: list[str] = [os.path.dirname(os.path.abspath(__file__))]


def register_internal(path: str | os.PathLike) -> None:
    """Treat code under ``path`` (a package's folder) as library code when naming where an op was created."""
    path = os.path.abspath(os.fspath(path))
    if path not in internal_paths:
        internal_paths.append(path)


def _is_internal(filename: str) -> bool:
    return any(filename == p or filename.startswith(p + os.sep) for p in internal_paths)


def _user_frame() -> str:
    """'file:line' of the innermost caller outside the registered packages (where the user created an op)."""
    frame = sys._getframe(1)
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame = frame.f_back
    return "<unknown>" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _finite(x) -> bool:
    """True if a float, an array or a node's data holds no nan or inf."""
    if isinstance(x, Node):
        x = x._data
    return math.isfinite(x) if isinstance(x, float) else bool(np.isfinite(x).all())


def _describe(node) -> str:
    shapes = ", ".join(str(getattr(p._data, "shape", "scalar")) for p in node.parents) or "none"
    return f"op {node.op!r} (input shapes {shapes})"


class AnomalyError(FloatingPointError):
    """An op produced nan or inf under ``detect_anomaly``; ``.node`` is the offending node."""

    def __init__(self, message: str, node):
        super().__init__(message)
        self.node = node


class detect_anomaly:
    """Raise ``AnomalyError`` at the first op whose result or gradient holds nan or inf.

    The error names the op, its input shapes and the file and line of user code that created it;
    ``draw_graph`` marks that node. Slower: every op is checked and its origin recorded.
    """

    def __init__(self):
        self.origins: dict = {}
        self._saved: list = []

    def __enter__(self):
        self._saved.append(_mode.anomaly)
        _mode.anomaly = self
        _mode.update()
        return self

    def __exit__(self, *exc):
        _mode.anomaly = self._saved.pop()
        _mode.update()
        return False

    def forward(self, node) -> None:
        """Called by ops on each new node: remember where it was made, raise if its value is not finite."""
        self.origins[node] = where = _user_frame()
        if not _finite(node._data):
            _mode.last_anomaly = node
            raise AnomalyError(f"detect_anomaly: {_describe(node)} produced nan or inf in its forward "
                               f"result, created at {where}", node)

    def backward(self, node, parent, index: int, contribution) -> None:
        """Raise if the gradient ``node``'s backward sends to its input ``index`` is not finite."""
        if not _finite(contribution):
            _mode.last_anomaly = node
            raise AnomalyError(
                f"detect_anomaly: the backward of {_describe(node)} produced nan or inf in the gradient "
                f"for its input {index}, created at {self.origins.get(node, '<before detect_anomaly>')}", node)

    def check_backward(self, node, grads) -> None:
        """Called by the core after each backward step: check every contribution it returned."""
        for i, contribution in enumerate(grads):
            if contribution is not None:
                self.backward(node, node.parents[i], i, contribution)


class BackwardTrace:
    """The steps of one recorded backward pass: node, op, upstream gradient, local derivatives,
    contributions to each parent, in the order the core ran them."""

    def __init__(self):
        self.steps: list[dict] = []
        self.step_of: dict = {}
        self.edges: dict = {}

    def record(self, node, g, local, contributions) -> None:
        self.step_of[node] = len(self.steps) + 1
        for i, c in enumerate(contributions):
            self.edges[(node, i)] = (None if local is None else local[i], c)
        self.steps.append({"step": len(self.steps) + 1, "node": node, "op": str(node.op) or "leaf",
                           "upstream": g, "local": local, "contributions": contributions})

    def record_step(self, node, backward, g, grads, lift) -> None:
        """Called by the core after each op's backward: record its local derivatives (scalar graphs:
        the closure again with an upstream gradient of 1) and what each parent actually receives,
        fitted to its shape, None where the core skips it."""
        parents = node.parents
        local = _local_gradients(backward, 1.0, lift(node), tuple(map(lift, parents)), parents) \
            if isinstance(g, float) else None
        fit = type(node)._fit_grad
        self.record(node, g, local, tuple(
            None if c is None or not p.requires_grad else c if fit is None else fit(p, c)
            for p, c in zip(node.parents, grads)))

    def __enter__(self):
        self._saved = _mode.trace
        _mode.trace = self
        return self

    def __exit__(self, *exc):
        _mode.trace = self._saved
        _mode.last_trace = self
        return False

    def __len__(self) -> int:
        """The number of backward steps: ops whose backward ran (leaves run none); frames are this + 1."""
        return sum(1 for s in self.steps if s["node"].parents)

    def names(self) -> dict:
        """Node -> the name the picture gives it: its label, else its dotted module parameter name
        ('layers.1.neurons.0.b'), else None."""
        from .viz.modules import parameter_names  # the renderer's own naming; imported late, viz loads graphviz
        order = [s["node"] for s in reversed(self.steps)]  # the core records in reverse topological order
        found = parameter_names(order, {node: i for i, node in enumerate(order)})
        return {node: node.label or found.get(i) for i, node in enumerate(order)}

    def table(self) -> str:
        """The steps as a text table. Steps are numbered over the ops; each leaf follows with step '-'
        (it runs no backward of its own) and the gradient it ended with."""
        def show(x):
            if x is None:
                return "-"
            data = x._data if isinstance(x, Node) else x
            if isinstance(data, float) or np.ndim(data) == 0:
                return f"{float(data):.4g}"
            return f"array{np.shape(data)}"

        names = self.names()
        ops = [s for s in self.steps if s["node"].parents]
        leaves = [s for s in self.steps if not s["node"].parents]
        rows = [("step", "node", "op", "upstream", "local", "contributions")]
        for k, s in enumerate(ops, 1):
            rows.append((str(k), names[s["node"]] or "-", s["op"], show(s["upstream"]),
                         ", ".join(show(v) for v in s["local"]) if s["local"] else "-",
                         ", ".join(show(c) for c in s["contributions"]) or "-"))
        rows += [("-", names[s["node"]] or "-", "leaf", show(s["upstream"]), "-", "-") for s in leaves]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)

    __str__ = table


def trace_backward(root, gradient=None, retain_graph: bool = True, show: bool = True) -> BackwardTrace:
    """Run ``root.backward()`` while recording each step; print the table (``show``) and return the trace.

    For scalar graphs each step also records the op's local derivatives (its closure called with an
    upstream gradient of 1). ``draw_graph(root, show_local=True)`` labels edges from this trace.
    """
    with BackwardTrace() as trace:
        root.backward(gradient, retain_graph=retain_graph)
    if show:
        print(trace.table())
    return trace
