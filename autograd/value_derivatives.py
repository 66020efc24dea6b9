"""Local derivatives of the ops only Value has (those it shares with Tensor are in derivatives.py), and
the float math they use. Each derivative is ``(g, out, *inputs) -> one gradient per input``: floats
in a plain backward, Values under ``create_graph=True`` (so ``_cos`` and friends take either)."""

from __future__ import annotations

import math

import numpy as np

from .graph import Node

_INF = math.inf


# Math that works on floats (plain backward) and on Values (create_graph).
def _cos(x):
    return x.cos() if isinstance(x, Node) else math.cos(x)


def _sin(x):
    return x.sin() if isinstance(x, Node) else math.sin(x)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _float_pow(a: float, b: float) -> float:
    """a ** b as IEEE floats do it: inf instead of ZeroDivisionError or OverflowError."""
    try:
        return a ** b
    except (ZeroDivisionError, OverflowError):
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(a), b))


def _pow_base_grad(a, b):
    """d(a**b)/da = b * a**(b - 1), 0 where b == 0 (as PyTorch)."""
    if isinstance(a, Node) or isinstance(b, Node):
        return b * a ** (b - 1)
    return 0.0 if b == 0 else b * _float_pow(a, b - 1)


def _pow_exponent_grad(a, out):
    """d(a**b)/db = a**b * log(a); 0 where a == 0 (as PyTorch), nan for a negative base."""
    if isinstance(a, Node):
        return out * a.log()
    if a > 0:
        return out * math.log(a)
    return 0.0 if a == 0 else math.nan


def _scaled(g, share):
    """g * share, but exactly 0.0 for a share of 0 (an inf upstream gives 0, as torch, not nan); a
    Value g (create_graph) keeps its link, so a second derivative through relu is 0, not missing."""
    return g * share if share or isinstance(g, Node) else 0.0


def _route(a, b) -> float:
    """The share of a max's gradient that goes to ``a``: 1 if a wins, 0.5 on a tie, 0 if it loses."""
    a, b = (a.data if isinstance(a, Node) else a), (b.data if isinstance(b, Node) else b)
    return 1.0 if a > b else 0.5 if a == b else 0.0


# Local derivatives of the ops only Value has (the shared ones are in derivatives.py), each
# (g, out, *inputs) -> one gradient per input, on floats (plain backward) and on Values (create_graph).

def _d_sqrt(g, out, a):  # 1/(2 sqrt a), inf at 0
    return (g * 0.5 / out if out != 0 else g * _INF,)


def _d_relu(g, out, a):  # 1 where a > 0, else 0
    return (g if out > 0 else _scaled(g, 0.0),)


def _d_abs(g, out, a):  # sign(a), 0 at 0
    return (g * ((a > 0) - (a < 0)),)


def _d_sin(g, out, a):  # cos a
    return (g * _cos(a),)


def _d_cos(g, out, a):  # -sin a
    return (-g * _sin(a),)


def _d_max(g, out, a, b):  # max routes the gradient to the larger input, half each on a tie
    return _scaled(g, _route(a, b)), _scaled(g, _route(b, a))


def _d_min(g, out, a, b):  # min routes it to the smaller
    return _scaled(g, _route(b, a)), _scaled(g, _route(a, b))


def _d_pow(g, out, a, b):  # d/da = b a**(b-1), d/db = a**b log(a)
    return g * _pow_base_grad(a, b), g * _pow_exponent_grad(a, out)
