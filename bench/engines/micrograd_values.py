"""micrograd 0.1.0: its Value class as published. Its MLP uses relu, so the scalar workload builds
the same tanh network from its Value, with a tanh op written in micrograd's own style."""

from __future__ import annotations

import math

import numpy as np
from micrograd.engine import Value

from . import lecture, scalar_net


def tanh(v: Value) -> Value:
    """tanh as micrograd writes an op: the closure captures its output (micrograd 0.1.0 has none)."""
    out = Value(math.tanh(v.data), (v,), "tanh")

    def _backward():
        v.grad += (1 - out.data ** 2) * out.grad
    out._backward = _backward
    return out


def count_nodes(root) -> int:
    """Every Value reachable from ``root`` through ``_prev`` (an iterative walk)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def scalar_pass(weights: list, points: np.ndarray, targets: np.ndarray):
    return scalar_net.scalar_pass(Value, tanh, weights, points, targets)


def chain_pass(depth: int, x0: float):
    return scalar_net.chain_pass(Value, depth, x0)


def moons_step(weights: list, X: np.ndarray, y: np.ndarray):
    """One iteration of micrograd's demo loop (bench.engines.lecture) on micrograd's Value."""
    return lecture.moons_step(Value, weights, X, y)
