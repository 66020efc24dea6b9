"""Finite-difference checking of first and second derivatives, for any function of Values or Tensors."""

from __future__ import annotations

import numpy as np

from .graph import enable_grad, grad, no_grad
from .tensor_class import Tensor
from .value import Value

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with central differences."""


def _float64_leaf(x):
    if isinstance(x, Value):
        return Value(x._data, label=x.label)
    if isinstance(x, Tensor) and x.requires_grad:
        return Tensor(x._data.astype(np.float64), requires_grad=True, label=x.label)
    return x


def _prepare(name: str, inputs: tuple) -> tuple[list, list]:
    """float64 copies of the inputs and the positions of those that are checked."""
    leaves = [_float64_leaf(x) for x in inputs]
    checked = [i for i, x in enumerate(leaves) if isinstance(x, Value) or isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{name}: no input is a Value or a Tensor with requires_grad=True")
    return leaves, checked


def _scalar_objective(out, weights: dict):
    """The output as one float-valued node: non-scalar tensors are projected on fixed random weights."""
    if isinstance(out, Value) or out._data.size == 1:
        return out.sum() if isinstance(out, Tensor) else out
    if "w" not in weights:
        weights["w"] = np.random.default_rng(0).standard_normal(out.shape)
    return (out * weights["w"]).sum()


def central_differences(leaf, evaluate, eps: float):
    """(evaluate() at leaf + eps - at leaf - eps) / 2 eps for each element of ``leaf``, nudging its data
    in place and restoring it exactly; a float for a Value, an array of the leaf's shape for a Tensor."""
    if isinstance(leaf._data, float):
        center = leaf._data
        leaf._data = center + eps
        plus = evaluate()
        leaf._data = center - eps
        minus = evaluate()
        leaf._data = center
        return (plus - minus) / (2 * eps)
    data, numeric = leaf._data, np.zeros(leaf._data.shape)
    for index in np.ndindex(data.shape):
        center = data[index]
        data[index] = center + eps
        plus = evaluate()
        data[index] = center - eps
        minus = evaluate()
        data[index] = center
        numeric[index] = (plus - minus) / (2 * eps)
    return numeric


def _compare(name: str, what: str, leaves: list, checked: list, analytic: list, evaluate,
             eps: float, atol: float, rtol: float) -> bool:
    """Central differences of ``evaluate()`` at each element of each checked leaf against ``analytic``."""
    for i, derivative in zip(checked, analytic):
        numeric = np.asarray(central_differences(leaves[i], evaluate, eps))
        derivative = np.asarray(derivative, dtype=np.float64).reshape(numeric.shape)
        for index in np.ndindex(numeric.shape):
            a, n = float(derivative[index]), float(numeric[index])
            if not abs(a - n) <= atol + rtol * abs(n):
                where = "" if isinstance(leaves[i], Value) else f" at index {index}"
                raise GradcheckError(
                    f"{name}: input {i}{where}: analytic {what} {a!r} but numeric {n!r} "
                    f"(difference {abs(a - n):.3g} > atol {atol} + rtol {rtol} * |numeric|)"
                )
    return True


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare backward's gradients of ``fn(*inputs)`` with central differences, in float64.

    Inputs that are Values or Tensors with ``requires_grad`` are checked (on float64 copies);
    anything else is passed through. A non-scalar output is checked through a fixed random
    projection ``sum(out * w)``. Returns True or raises GradcheckError naming the input, the
    element, and both values.
    """
    leaves, checked = _prepare("gradcheck", inputs)
    weights: dict = {}
    objective = _scalar_objective(fn(*leaves), weights)
    objective.backward()

    def evaluate() -> float:
        with no_grad():
            out = _scalar_objective(fn(*leaves), weights)
        return float(out._data)

    analytic = []
    for i in checked:
        leaf = leaves[i]
        analytic.append(leaf._grad if isinstance(leaf, Value) else
                        np.zeros_like(leaf._data) if leaf._grad is None else leaf._grad)
    return _compare("gradcheck", "gradient", leaves, checked, analytic, evaluate, eps, atol, rtol)


def gradgradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare second derivatives of ``fn(*inputs)`` with central differences of its first derivatives.

    The first derivatives of the (projected, as gradcheck) output are taken with ``create_graph=True``
    and projected on fixed random weights to one number s(inputs); the gradient of s, which is a
    Hessian-vector product, is checked against central differences of s, in float64. Returns True or
    raises GradcheckError naming the input, the element, and both values.
    """
    leaves, checked = _prepare("gradgradcheck", inputs)
    nodes = [leaves[i] for i in checked]
    rng = np.random.default_rng(1)
    directions = [rng.standard_normal() if isinstance(x, Value) else rng.standard_normal(x.shape) for x in nodes]
    weights: dict = {}

    def projected_gradient(create_graph: bool):
        """sum_i <d objective / d input_i, direction_i>, a node under create_graph, else a float."""
        with enable_grad():
            objective = _scalar_objective(fn(*leaves), weights)
            if isinstance(objective, Tensor) and not objective.requires_grad:
                return 0.0
            grads = grad(objective, nodes, create_graph=create_graph, allow_unused=True)
            total = 0.0
            for g, d in zip(grads, directions):
                if g is not None:
                    total = total + (g * d if isinstance(g, Value) else (g * d).sum())
        return total if create_graph else float(getattr(total, "data", total))

    s = projected_gradient(True)
    found = (None,) * len(nodes)
    if isinstance(s, Value) or isinstance(s, Tensor) and s.requires_grad:
        found = grad(s, nodes, allow_unused=True)
    analytic = [(0.0 if isinstance(x, Value) else np.zeros_like(x._data)) if g is None else
                (g._data if isinstance(x, Value) else np.asarray(g._data)) for g, x in zip(found, nodes)]
    return _compare("gradgradcheck", "second derivative", leaves, checked, analytic,
                    lambda: projected_gradient(False), eps, atol, rtol)
