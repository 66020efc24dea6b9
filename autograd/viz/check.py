"""Finite differences for ``draw_graph(check=...)``: each leaf's ``._grad`` against central differences.

``check=True`` re-runs a Value graph op by op from its ops' records (so no function is
needed); ``check=fn`` calls ``fn()``, which must rebuild the root from the same leaf objects (works
for Values and Tensors, e.g. ``check=lambda: F.cross_entropy(model(x), y)``). Each leaf element is
nudged by +-1e-6 in place (in float64) and restored exactly; two evaluations per leaf element.
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import central_differences
from ..graph import Node, enable_grad, no_grad, topological_order
from ..value import Value

__all__ = ["leaf_checks"]

_EPS = 1e-6
# (atol, rtol) by the width of the leaf's own float type, which bounds how exact its ._grad can be.
_TOLERANCES = {8: (1e-5, 1e-3), 4: (1e-4, 1e-3), 2: (1e-2, 5e-2)}
_HOW = ("pass check=<a function of no arguments that recomputes the root from the same leaves>, "
        "e.g. check=lambda: (x + y) * z")


def _forward_of(node: Node):
    """The forward function of a recorded Value op, from its record."""
    forward = getattr(node.op, "forward", None)
    if forward is None:
        raise ValueError(f"draw_graph(check=True) re-runs a Value graph op by op and has no forward for op "
                         f"{node.op!r}; {_HOW}")
    return forward


def _replay(order: list, root_index: int):
    """evaluate() recomputing a Value graph from its leaves' current data, checked against the record."""
    if not all(isinstance(n, Value) for n in order):
        raise TypeError(f"draw_graph(check=True) re-runs Value graphs only; for a Tensor graph {_HOW}")
    index = {n: i for i, n in enumerate(order)}
    steps = [(i, _forward_of(n), [index[p] for p in n.parents]) for i, n in enumerate(order) if n.parents]
    leaves = [i for i, n in enumerate(order) if not n.parents]

    def evaluate() -> list:
        data = [None] * len(order)
        for i in leaves:
            data[i] = order[i]._data
        with no_grad():
            for i, forward, parents in steps:
                data[i] = forward(*(Value(data[p]) for p in parents))._data
        return data

    replayed = evaluate()
    for i, _, _ in steps:
        again, recorded = replayed[i], order[i]._data
        if not (again == recorded or again != again and recorded != recorded):  # equal, or both nan
            raise ValueError(f"draw_graph(check=True): re-running op {order[i].op!r} gives {again!r} but the "
                             f"graph recorded {recorded!r}, so the graph cannot be replayed; {_HOW}")
    return lambda: evaluate()[root_index]


def _rebuild(fn, root: Node, order: list):
    """evaluate() calling ``fn()``, after checking it recomputes ``root`` from the drawn leaves."""
    with enable_grad():
        again = fn()
    if not isinstance(again, Node):
        raise TypeError(f"draw_graph(check=fn): fn() must return a Value or Tensor, got {type(again).__name__}")
    if not np.allclose(np.asarray(again._data, dtype=np.float64), np.asarray(root._data, dtype=np.float64),
                       rtol=1e-5, atol=1e-8, equal_nan=True):
        raise ValueError(f"draw_graph(check=fn): fn() gives {again._data!r} but the drawn root holds {root._data!r}; "
                         "fn must recompute the root from the same leaves")
    theirs = set(topological_order([again]))
    shared = [n for n in order if not n.parents and n in theirs]
    if not shared:
        raise ValueError("draw_graph(check=fn): fn() builds its graph from none of the drawn leaves; it must "
                         "use the same leaf objects, e.g. check=lambda: (x + y) * z")

    def evaluate() -> float:
        with no_grad():
            return float(np.asarray(fn()._data, dtype=np.float64).reshape(()))

    return evaluate, set(shared)


def _number(x) -> str:
    return f"{float(x):.4g}"


def _verdict(analytic, numeric, atol: float, rtol: float) -> tuple[bool, str]:
    """Whether every element agrees, and the record text saying so (or where it does not)."""
    wrong = ~(np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric))
    if np.ndim(numeric) == 0:
        return not wrong, f"numeric {_number(numeric)} " + ("\u2260 grad " + _number(analytic) if wrong else "agrees")
    if wrong.any():
        at = np.unravel_index(int(np.argmax(np.abs(analytic - numeric) * wrong)), numeric.shape)
        return False, (f"numeric differs at {tuple(int(k) for k in at)}: "
                       f"{_number(numeric[at])} vs grad {_number(analytic[at])}")
    return True, f"numeric agrees (max diff {np.abs(analytic - numeric).max():.2g})"


def leaf_checks(order: list, root_index: int, check, names: dict) -> tuple[dict, str]:
    """Per checked leaf index: (agrees, record text); and a caption line. ``names``: leaf index -> name."""
    root = order[root_index]
    if getattr(root._data, "size", 1) != 1:
        raise ValueError(f"draw_graph(check=...) needs a scalar root, got shape {root._data.shape}")
    if check is True:
        evaluate, usable = _replay(order, root_index), None
    elif callable(check):
        evaluate, usable = _rebuild(check, root, order)
    else:
        raise TypeError(f"draw_graph(check=...) takes True (Value graphs) or a function of no arguments, got {check!r}")
    leaves = [i for i, leaf in enumerate(order)
              if not leaf.parents and leaf.requires_grad and (usable is None or leaf in usable)]
    for i in leaves:
        if order[i]._grad is None:
            raise ValueError(f"draw_graph(check=...): leaf {names.get(i, i)} has no ._grad; run root.backward() first")
    # Differences are taken in float64 (float32 cannot resolve a small nudge); the data is put back after.
    originals = {i: order[i]._data for i in leaves if isinstance(order[i]._data, np.ndarray)}
    results = {}
    try:
        for i, data in originals.items():
            order[i]._data = data.astype(np.float64)
        for i in leaves:
            atol, rtol = _TOLERANCES.get(np.asarray(originals.get(i, 0.0)).dtype.itemsize, _TOLERANCES[8])
            analytic = np.asarray(getattr(order[i]._grad, "data", order[i]._grad), dtype=np.float64)
            results[i] = _verdict(analytic, central_differences(order[i], evaluate, _EPS), atol, rtol)
    finally:
        for i, data in originals.items():
            order[i]._data = data
    bad = [names.get(i, f"leaf {i}") for i, (agrees, _) in results.items() if not agrees]
    summary = (f"gradient check: {len(bad)} of {len(results)} leaves DISAGREE ({', '.join(bad)})" if bad
               else f"gradient check: all {len(results)} leaves agree with central differences")
    return results, summary
