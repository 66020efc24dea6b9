"""Local derivatives that Value and Tensor share, each formula written once (as PyTorch's derivatives.yaml).

A formula is an expression in ``g`` (the upstream gradient), ``out`` (the op's result) and the
inputs: floats or ndarrays in a plain backward, Values or Tensors under ``create_graph=True``, so
it uses operators only. Each op's formulas are compiled into two forms of the same code: ``each``,
one function per input, for Tensors (the core calls only those whose input needs a gradient), and
``all``, one function returning every input's gradient, for Values, which always need them all (one
call per node instead of one per input: the scalar engine's backward is about 5% faster).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ADD", "SUB", "MUL", "DIV", "NEG", "EXP", "LOG", "TANH", "SIGMOID"]


class Derivatives(NamedTuple):
    each: tuple  # one function (g, out, *inputs) -> gradient per input
    all: object  # one function (g, out, *inputs) -> (gradient per input)


def _compile(op: str, inputs: str, *formulas: str) -> Derivatives:
    """Both forms of ``formulas`` (one per input named in ``inputs``) as functions of (g, out, *inputs)."""
    arguments = f"g, out, {inputs}"
    source = "".join(f"def each{i}({arguments}):\n    return {f}\n" for i, f in enumerate(formulas))
    source += f"def all({arguments}):\n    return ({', '.join(formulas)},)\n"
    functions: dict = {}
    exec(compile(source, f"<derivatives of {op}>", "exec"), {}, functions)
    return Derivatives(tuple(functions[f"each{i}"] for i in range(len(formulas))), functions["all"])


ADD = _compile("a + b", "a, b", "g", "g")  # add distributes the gradient unchanged
SUB = _compile("a - b", "a, b", "g", "-g")
MUL = _compile("a * b", "a, b", "g * b", "g * a")  # mul swaps its inputs
DIV = _compile("a / b", "a, b", "g / b", "-g * out / b")  # d/db = -a / b**2 = -out / b
NEG = _compile("-a", "a", "-g")
EXP = _compile("exp", "a", "g * out")  # e**a = out
LOG = _compile("log", "a", "g / a")
TANH = _compile("tanh", "a", "g * (1 - out * out)")  # 1 - tanh(a)**2
SIGMOID = _compile("sigmoid", "a", "g * out * (1 - out)")  # s (1 - s)
