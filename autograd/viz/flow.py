"""What a recorded backward pass says about a drawn graph, for ``draw_graph(show_local=True)``.

Reads a BackwardTrace (recorded by the core during ``trace_backward``, never recomputed): each
node's step and gradient, each edge's local derivative and the contribution it carried, and which
contributions a node has received by a given step (fan-out sums them). Linear in the graph size.
"""

from __future__ import annotations

import numpy as np

from ..graph import Node, _mode

__all__ = ["Flow", "PATTERNS"]

# How each op passes the gradient on, named on its op node.
PATTERNS = {"+": "distributes", "*": "swaps", "max": "routes", "min": "routes", "relu": "routes",
            "maximum": "routes", "minimum": "routes"}
_NO_TRACE = ("draw_graph(show_local=True) labels edges from a recorded backward pass, and no recorded pass "
             "reached this graph: run autograd.trace_backward(root) in place of root.backward() (the same "
             "backward, recording each step), or pass trace=<a BackwardTrace>")


def _scalar(x) -> bool:
    return np.ndim(getattr(x, "data", x)) == 0


class Flow:
    """The trace seen after step ``upto`` (default: all); ``show`` writes a number or array as text."""

    def __init__(self, order: list, index: dict, roots: list, trace, upto, show):
        trace = _mode.last_trace if trace is None else trace
        if trace is None or not any(r in trace.step_of for r in roots):
            raise ValueError(_NO_TRACE)
        total = len(trace)
        upto = total if upto is None else upto
        if isinstance(upto, bool) or not isinstance(upto, int) or not 0 <= upto <= total:
            raise ValueError(f"upto_step must be an int from 0 to {total} (the recorded backward pass has "
                             f"{total} steps), got {upto!r}")
        self.upto, self.total, self.trace, self.show = upto, total, trace, show
        self.step = [trace.step_of.get(node) for node in order]
        self.grad = [None if s is None else trace.steps[s - 1]["upstream"] for s in self.step]
        self.terms = [[] for _ in order]  # (step, contribution) received by step upto, per node
        self.fan = [0] * len(order)       # edges that send the node a gradient in the whole pass
        self.edge: dict = {}
        for i, node in enumerate(order):
            s = self.step[i]
            for k, parent in enumerate(node.parents if s is not None else ()):
                local, carried = trace.edges.get((node, k), (None, None))
                self.edge[(i, k)] = (local, carried if s <= upto else None)
                if carried is not None:
                    self.fan[index[parent]] += 1
                    if s <= upto:
                        self.terms[index[parent]].append((s, carried))

    def current(self):
        """The node whose step is ``upto`` (None before the first step)."""
        return self.trace.steps[self.upto - 1]["node"] if self.upto else None

    def grad_text(self, i: int) -> str:
        """'grad 3 = 1 + 2' for a node whose gradient is a sum, 'grad so far ...' before its step."""
        if self.step[i] is None:
            return "grad None"
        terms = [c for _, c in sorted(self.terms[i], key=lambda t: t[0])]
        if self.step[i] <= self.upto:
            text = "grad " + self.show(self.grad[i])
        elif terms:
            text = "grad so far " + self.show(sum(terms[1:], terms[0]))
        else:
            return "grad pending"
        if len(terms) > 1:
            shown = [self.show(c) for c in terms] if all(map(_scalar, terms)) else None
            text += " = " + (" + ".join(f"({t})" if t.startswith("-") else t for t in shown) if shown
                             else f"sum of {len(terms)}")
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
