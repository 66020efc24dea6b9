"""Finite-difference checking of gradients, for any function of Values or Tensors."""

from __future__ import annotations

import numpy as np

from .graph import no_grad
from .tensor import Tensor
from .value import Value

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central differences."""


def _float64_leaf(x):
    if isinstance(x, Value):
        return Value(x.data, label=x.label)
    if isinstance(x, Tensor) and x.requires_grad:
        return Tensor(x.data.astype(np.float64), requires_grad=True, label=x.label)
    return x


def _scalar_objective(out, weights: dict):
    """The output as one float-valued node: non-scalar tensors are projected on fixed random weights."""
    if isinstance(out, Value) or out.data.size == 1:
        return out.sum() if isinstance(out, Tensor) else out
    if "w" not in weights:
        weights["w"] = np.random.default_rng(0).standard_normal(out.shape)
    return (out * weights["w"]).sum()


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare backward's gradients of ``fn(*inputs)`` with central differences, in float64.

    Inputs that are Values or Tensors with ``requires_grad`` are checked (on float64 copies);
    anything else is passed through. A non-scalar output is checked through a fixed random
    projection ``sum(out * w)``. Returns True or raises GradcheckError naming the input, the
    element, and both values.
    """
    leaves = [_float64_leaf(x) for x in inputs]
    checked = [i for i, x in enumerate(leaves) if isinstance(x, Value) or isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Value or a Tensor with requires_grad=True")
    weights: dict = {}
    objective = _scalar_objective(fn(*leaves), weights)
    objective.backward()

    def evaluate() -> float:
        with no_grad():
            out = _scalar_objective(fn(*leaves), weights)
        return float(out.data)

    for i in checked:
        leaf = leaves[i]
        if isinstance(leaf, Value):
            analytic, original = np.array([leaf.grad]), None
        else:
            analytic = np.zeros_like(leaf.data) if leaf.grad is None else leaf.grad
            original = leaf.data.copy()
        for index in np.ndindex(analytic.shape):
            if original is None:
                center = leaf.data
                leaf.data = center + eps
                plus = evaluate()
                leaf.data = center - eps
                minus = evaluate()
                leaf.data = center
            else:
                center = original[index]
                leaf.data[index] = center + eps
                plus = evaluate()
                leaf.data[index] = center - eps
                minus = evaluate()
                leaf.data[index] = center
            numeric = (plus - minus) / (2 * eps)
            a = float(analytic[index])
            if not abs(a - numeric) <= atol + rtol * abs(numeric):
                where = "" if original is None else f" at index {index}"
                raise GradcheckError(
                    f"gradcheck: input {i}{where}: analytic gradient {a!r} but numeric {numeric!r} "
                    f"(difference {abs(a - numeric):.3g} > atol {atol} + rtol {rtol} * |numeric|)"
                )
    return True
