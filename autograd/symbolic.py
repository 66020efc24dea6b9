"""Symbolic export of scalar graphs: to_sympy / to_latex, to compare with a derivation by hand."""

from __future__ import annotations

import re

from .graph import topological_order
from .value import Value

__all__ = ["to_sympy", "to_latex"]

_PARAMETER = re.compile(r"^(leaky_relu|elu)\((.+)\)$")


def _sympy():
    try:
        import sympy
    except ImportError:
        raise ImportError("to_sympy needs sympy: pip install 'chainrule[dev]' or pip install sympy") from None
    return sympy


def to_sympy(root: Value, symbols: dict | None = None):
    """The expression that computed ``root`` as a sympy expression of its labelled leaves.

    Labelled leaves become symbols (``symbols`` maps label -> sympy Symbol to reuse your own);
    unlabelled leaves are constants. Differentiate the result with ``sympy.diff`` and compare.
    """
    sp = _sympy()
    symbols = dict(symbols or {})
    expr: dict = {}
    for node in topological_order([root]):
        if not node.parents:
            if node.label:
                expr[node] = symbols.setdefault(node.label, sp.Symbol(node.label, real=True))
            else:
                expr[node] = sp.nsimplify(node.data, rational=True) if float(node.data).is_integer() \
                    else sp.Float(node.data)
            continue
        args = [expr[p] for p in node.parents]
        expr[node] = _apply(sp, node.op, args)
    return expr[root]


def _apply(sp, op: str, args: list):
    a = args[0]
    b = args[1] if len(args) > 1 else None
    binary = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
              "**": lambda: a ** b, "max": lambda: sp.Max(a, b), "min": lambda: sp.Min(a, b)}
    unary = {"neg": lambda: -a, "exp": lambda: sp.exp(a), "log": lambda: sp.log(a), "sqrt": lambda: sp.sqrt(a),
             "tanh": lambda: sp.tanh(a), "sigmoid": lambda: 1 / (1 + sp.exp(-a)), "relu": lambda: sp.Max(0, a),
             "abs": lambda: sp.Abs(a), "sin": lambda: sp.sin(a), "cos": lambda: sp.cos(a)}
    if op in binary:
        return binary[op]()
    if op in unary:
        return unary[op]()
    if op.startswith("**"):
        exponent = float(op[2:])
        return a ** (sp.Integer(int(exponent)) if exponent.is_integer() else sp.Float(exponent))
    match = _PARAMETER.match(op)
    if match:
        alpha = sp.nsimplify(float(match.group(2)), rational=True)
        if match.group(1) == "leaky_relu":
            return sp.Piecewise((a, a > 0), (alpha * a, True))
        return sp.Piecewise((a, a > 0), (alpha * (sp.exp(a) - 1), True))
    raise ValueError(f"to_sympy: no symbolic form for op {op!r}")


def to_latex(root: Value, symbols: dict | None = None) -> str:
    """The expression that computed ``root`` as LaTeX."""
    return _sympy().latex(to_sympy(root, symbols))
