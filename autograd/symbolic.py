"""Symbolic export of scalar graphs: to_sympy / to_latex, to compare with a derivation by hand."""

from __future__ import annotations

from .graph import topological_order
from .value import Value

__all__ = ["to_sympy", "to_latex"]


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


def _apply(sp, op, args: list):
    """The op's SymPy form, from its record."""
    symbolic = getattr(op, "sympy", None)
    if symbolic is None:
        raise ValueError(f"to_sympy: no symbolic form for op {op!r}")
    return symbolic(sp, *args)


def to_latex(root: Value, symbols: dict | None = None) -> str:
    """The expression that computed ``root`` as LaTeX."""
    return _sympy().latex(to_sympy(root, symbols))
