"""The scalar workloads written once over any micrograd-style Value class, so both engines build
the same graph, node for node."""

from __future__ import annotations

import numpy as np


def make_params(value, weights: list) -> list:
    """The network's parameters as Values: a list of (rows of weight Values, bias Values) per layer."""
    return [([[value(float(w)) for w in row] for row in W], [value(float(v)) for v in b]) for W, b in weights]


def leaves(params: list) -> list:
    """The parameter Values in a fixed order (W1 rows, b1, W2 rows, b2, ...)."""
    return [v for W, b in params for v in [w for row in W for w in row] + b]


def mlp_loss(value, tanh, params: list, points: np.ndarray, targets: np.ndarray):
    """Sum of squared errors of the tanh MLP (linear last layer) over the points.

    Every neuron is ``b + w0*x0 + w1*x1 + ...`` (left to right), the error ``out + (-target)``.
    """
    total = None
    for point, target in zip(points, targets):
        x = [value(float(v)) for v in point]
        for i, (W, b) in enumerate(params):
            x = [_neuron(row, bias, x) for row, bias in zip(W, b)]
            if i < len(params) - 1:
                x = [tanh(v) for v in x]
        error = x[0] + float(-target)
        total = error * error if total is None else total + error * error
    return total


def _neuron(row, bias, x):
    act = bias
    for w, xi in zip(row, x):
        act = act + w * xi
    return act


def scalar_pass(value, tanh, weights: list, points: np.ndarray, targets: np.ndarray):
    """A callable running forward and backward of the tanh MLP over all points; ``.leaves`` in order."""
    params = make_params(value, weights)

    def run():
        loss = mlp_loss(value, tanh, params, points, targets)
        loss.backward()
        return loss

    run.leaves = leaves(params)
    return run


def chain_pass(value, depth: int, x0: float):
    """A callable building the deep chain from a fresh leaf and differentiating it; returns (x, y)."""
    def run():
        x = value(x0)
        y = chain(x, depth)
        y.backward()
        return x, y
    return run


def chain(x, depth: int):
    """x -> x * 1.0001 + 0.001, ``depth`` times."""
    for _ in range(depth):
        x = x * 1.0001 + 0.001
    return x


def chain_expected(x0: float, depth: int) -> tuple[float, float]:
    """The chain's output and d(output)/dx in closed form: a^n x0 + b (a^n - 1) / (a - 1), and a^n."""
    a, b = 1.0001, 0.001
    scale = a ** depth
    return scale * x0 + b * (scale - 1) / (a - 1), scale
