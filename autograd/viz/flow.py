"""What a recorded backward pass says about a drawn graph, for ``draw_graph(show_local=True)``.

Reads a BackwardTrace (recorded by the core during ``trace_backward``, never recomputed): each
op's step and gradient, each edge's local derivative and the contribution it carried, and which
contributions a node has received by a given step (fan-out sums them). Steps are numbered over the
ops only: a leaf runs no backward of its own, its gradient is complete after the last step that
sends to it. Linear in the graph size.
"""

from __future__ import annotations

import numpy as np

from ..graph import Node, _mode

__all__ = ["Flow", "PATTERNS", "op_steps"]

# How each op passes the gradient on, named on its op node.
PATTERNS = {"+": "distributes", "*": "swaps", "max": "routes", "min": "routes", "relu": "routes",
            "maximum": "routes", "minimum": "routes"}
_NO_TRACE = ("draw_graph(show_local=True) labels edges from a recorded backward pass, and no recorded pass "
             "reached this graph: run autograd.trace_backward(root) in place of root.backward() (the same "
             "backward, recording each step), or pass trace=<a BackwardTrace>")


def _scalar(x) -> bool:
    return np.ndim(getattr(x, "data", x)) == 0


def op_steps(trace) -> list:
    """The trace's steps that ran an op's backward, in the order they ran: step k is ``op_steps(trace)[k - 1]``."""
    return [s for s in trace.steps if s["node"].parents]


class Arrivals:
    """Per node of a trace: the contributions it received, as (op step, contribution), and the op step
    after which its gradient is complete (``final``; 0 for the pass's roots, which are seeded)."""

    def __init__(self, trace):
        self.ops = op_steps(trace)
        self.number = {s["node"]: k for k, s in enumerate(self.ops, 1)}
        self.received: dict = {}
        self.final = {s["node"]: 0 for s in trace.steps}
        for k, s in enumerate(self.ops, 1):
            node = s["node"]
            for i, parent in enumerate(node.parents):
                carried = trace.edges.get((node, i), (None, None))[1]
                if carried is not None:
                    self.received.setdefault(parent, []).append((k, carried))
                    self.final[parent] = k


class Flow:
    """The trace seen after op step ``upto`` (default: all); ``show`` writes a number or array as text.
    When ``upto`` is given (stepping through the pass), complete gradients are marked final."""

    def __init__(self, order: list, index: dict, roots: list, trace, upto, show):
        trace = _mode.last_trace if trace is None else trace
        if trace is None or not any(r in trace.step_of for r in roots):
            raise ValueError(_NO_TRACE)
        arrivals = Arrivals(trace)
        total = len(arrivals.ops)
        self.stepping = upto is not None
        upto = total if upto is None else upto
        if isinstance(upto, bool) or not isinstance(upto, int) or not 0 <= upto <= total:
            raise ValueError(f"upto_step must be an int from 0 to {total} (the recorded backward pass has "
                             f"{total} steps), got {upto!r}")
        self.upto, self.total, self.trace, self.show, self.ops = upto, total, trace, show, arrivals.ops
        self.step = [arrivals.number.get(node) for node in order]  # leaves: None, no step of their own
        self.final = [arrivals.final.get(node) for node in order]
        self.grad = [None if node not in trace.step_of else trace.steps[trace.step_of[node] - 1]["upstream"]
                     for node in order]
        self.terms = [[(s, c) for s, c in arrivals.received.get(node, ()) if s <= upto] for node in order]
        self.fan = [0] * len(order)       # drawn edges that send the node a gradient in the whole pass
        self.edge: dict = {}
        for i, node in enumerate(order):
            s = self.step[i]
            for k, parent in enumerate(node.parents if s is not None else ()):
                local, carried = trace.edges.get((node, k), (None, None))
                self.edge[(i, k)] = (local, carried if s <= upto else None)
                if carried is not None:
                    self.fan[index[parent]] += 1

    def current(self):
        """The node whose step is ``upto`` (None before the first step)."""
        return self.ops[self.upto - 1]["node"] if self.upto else None

    def grad_text(self, i: int) -> str:
        """'grad 3 = 1 + 2' for a node whose gradient is a sum, 'grad so far ...' while contributions are
        missing, and, when stepping, 'final' once all have arrived ('seed' for the root)."""
        final = self.final[i]
        if final is None:
            return "grad None"
        terms = [c for _, c in self.terms[i]]
        if final <= self.upto:
            text = "grad " + self.show(self.grad[i])
        elif terms:
            text = "grad so far " + self.show(sum(terms[1:], terms[0]))
        else:
            return "grad pending"
        if len(terms) > 1:
            shown = [self.show(c) for c in terms] if all(map(_scalar, terms)) else None
            text += " = " + (" + ".join(f"({t})" if t.startswith("-") else t for t in shown) if shown
                             else f"sum of {len(terms)}")
        if self.stepping and final <= self.upto:
            text += " (seed)" if final == 0 and not terms else " (final)"
        return text

    def edge_label(self, node: Node, i: int, k: int) -> tuple[list, bool]:
        """Lines for the edge from input k into node i's op, and whether it carried exactly zero."""
        local, carried = self.edge.get((i, k), (None, None))
        lines = []
        if local is not None:
            other = node.parents[1 - k] if node.op == "*" and len(node.parents) == 2 else None
            named = f"{other.label} = " if other is not None and other.label else ""  # mul swaps its inputs
            lines.append(f"local {named}{self.show(local)}")
        if carried is not None:
            lines.append("carries " + self.show(carried))
        return lines, carried is not None and not np.any(getattr(carried, "data", carried))
