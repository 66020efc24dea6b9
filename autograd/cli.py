"""``python -m autograd grad "x*y + sin(x)" --at x=1,y=2``: the expression is parsed with ``ast``
against a whitelist and built into a Value graph, never evaluated by Python."""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import keyword
import math
import operator
import os
import re
import shlex
import sys
import unicodedata
import warnings

from .value import Value

FUNCTIONS = {
    "exp": (1, Value.exp), "log": (1, Value.log), "sqrt": (1, Value.sqrt), "tanh": (1, Value.tanh),
    "sigmoid": (1, Value.sigmoid), "relu": (1, Value.relu), "sin": (1, Value.sin), "cos": (1, Value.cos),
    "abs": (1, Value.abs), "max": (2, Value.max), "min": (2, Value.min),
}
CONSTANTS = {"pi": math.pi, "e": math.e}  # a variable of the same name given with --at wins
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.Pow: operator.pow}
SYMBOLS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
           ast.BitOr: "|", ast.BitXor: "^ (use ** for powers)", ast.BitAnd: "&", ast.Not: "not",
           ast.Invert: "~"}
CONSTRUCTS = {ast.Subscript: "subscripts", ast.Lambda: "lambdas", ast.Compare: "comparisons",
              ast.BoolOp: "and/or", ast.IfExp: "conditional expressions", ast.Starred: "starred arguments",
              ast.NamedExpr: "assignment expressions", ast.JoinedStr: "f-strings", ast.Tuple: "tuples",
              ast.List: "lists", ast.Dict: "dicts", ast.Set: "sets", ast.Slice: "slices"}
EPILOG = """\
examples:
  chainrule grad "x*y + sin(x)" --at x=1,y=2
  chainrule grad "(x+y)*z" --at x=-2 --at y=5 --at z=-4
  chainrule grad "1/(1+exp(-(w0*x0+w1*x1+w2)))" --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3 --graph neuron.svg
  python -m autograd grad "max(x, y)**2 / 2" --at x=3,y=1.5e-3 --json
  chainrule grad --at x=2 -- "-h*x"      (only an EXPR starting with -h needs the --)

EXPR: numbers, the constants pi and e, variables, + - * / ** and unary -, and the functions
exp log sqrt tanh sigmoid relu sin cos abs (one argument) and max min (two). It is parsed,
never run. A variable named pi or e in --at replaces the constant (with a note on stderr).
Every variable needs a value from --at, and every --at name must be in EXPR; gradients
are listed in --at order. Bad input (syntax, unknown names, log(-1), 1/0, overflow, a
non-finite gradient) prints one line to stderr and exits with status 1.
"""


class CliError(Exception):
    """Bad input: main() prints it as one ``error:`` line and returns 1."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one-line CliErrors."""

    def error(self, message: str):
        raise CliError(f"{message} (see --help)")


_OPTIONS = ("--at", "--graph", "--json", "--help")
COMMANDS = ("grad",)


def _dash_hint(argv: list[str]) -> str:
    """A hint when an argument before any lone -- looks like an option but is none: an EXPR such as --x."""
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("--") and arg.split("=")[0] not in _OPTIONS:
            return f"; {arg!r} is no option: an EXPR that starts with -- goes after a lone --: grad --at x=1 -- {arg!r}"
    return ""


class _Builder:
    """Walks a parsed expression iteratively and builds its Value graph, one leaf per variable."""

    def __init__(self, source: str, values: dict[str, float], shift: int):
        self.lines = [line.encode() for line in source.split("\n")]
        self.values, self.shift, self.leaves = values, shift, {}

    def where(self, node: ast.AST, back: int | None = None) -> str:
        """'at column N' of the node's start, or of ``back`` bytes before its end."""
        line, col = (node.lineno, node.col_offset) if back is None else (
            node.end_lineno, node.end_col_offset - back)
        col = len(self.lines[line - 1][:col].decode(errors="replace")) + 1
        return f"at column {col + self.shift}" if line == 1 else f"at line {line}, column {col}"

    def text(self, node: ast.AST, limit: int = 32) -> str:
        """The node's source, shortened: the label of its Value and the quote in messages."""
        if node.lineno != node.end_lineno:
            return ""
        text = self.lines[node.lineno - 1][node.col_offset: node.end_col_offset].decode(errors="replace")
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def children(self, node: ast.AST) -> list:
        """The operands of an allowed node; raises CliError for anything outside the whitelist."""
        if isinstance(node, (ast.Constant, ast.Name)):
            return []
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            return [node.operand]
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            return [node.left, node.right]
        if isinstance(node, (ast.UnaryOp, ast.BinOp)):
            raise CliError(f"operator {SYMBOLS[type(node.op)]} is not supported {self.where(node)}")
        if isinstance(node, ast.Attribute):
            where = self.where(node, len(node.attr.encode()))
            raise CliError(f"attribute access '.{node.attr}' is not allowed {where}")
        if not isinstance(node, ast.Call):
            what = CONSTRUCTS.get(type(node), f"{type(node).__name__} expressions")
            raise CliError(f"{what} are not allowed {self.where(node)}")
        if not isinstance(node.func, ast.Name):
            self.children(node.func)  # raises for an attribute such as os.system, naming it
            raise CliError(f"only the listed functions can be called, not {self.text(node.func)} "
                           f"{self.where(node)}")
        name = node.func.id
        if name not in FUNCTIONS:
            raise CliError(f"unknown function '{name}' {self.where(node)} (allowed: {', '.join(FUNCTIONS)})")
        if node.keywords:
            raise CliError(f"{name}() takes no keyword arguments {self.where(node.keywords[0])}")
        arity = FUNCTIONS[name][0]
        if len(node.args) != arity:
            plural = "s" * (arity > 1)
            got = f"got {len(node.args)} {self.where(node)}"
            raise CliError(f"{name}() takes {arity} argument{plural}, {got}")
        return list(node.args)

    def constant(self, node: ast.Name) -> bool:
        """Whether the name is pi or e as a constant, not a variable of that name given with --at."""
        return node.id in CONSTANTS and node.id not in self.values

    def leaf(self, node: ast.AST) -> Value:
        """The one shared leaf of a variable, or a new leaf for a number literal."""
        if isinstance(node, ast.Name):
            name = node.id
            if name in FUNCTIONS:
                raise CliError(f"'{name}' is a function, call it as {name}(...) {self.where(node)}")
            if self.constant(node):
                return Value(CONSTANTS[name], label=name)  # a number: a new leaf each time, no gradient row
            if name not in self.leaves:
                if name not in self.values:
                    where = self.where(node)
                    raise CliError(f"no value for variable '{name}' {where} (give it with --at {name}=...)")
                self.leaves[name] = Value(self.values[name], label=name)
            return self.leaves[name]
        number = node.value
        if type(number) not in (int, float):  # not bool (a subclass), complex, str, bytes, None, ...
            kind = type(number).__name__
            raise CliError(f"only real numbers are allowed, not {kind} {self.text(node)} {self.where(node)}")
        try:
            number = float(number)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise CliError(f"number {self.text(node)} is out of range {self.where(node)}")
        return Value(number, label=self.text(node))

    def apply(self, node: ast.AST, function, *args) -> Value:
        """Run one op; its domain errors and overflow become CliErrors pointing at the node."""
        try:
            out = function(*args)
        except (ArithmeticError, ValueError) as exc:
            raise CliError(f"{exc} {self.where(node)}") from None
        if not math.isfinite(out.data):
            raise CliError(f"overflow: {self.text(node)} is {out.data} {self.where(node)}")
        out.label = self.text(node)
        return out

    def combine(self, node: ast.AST, args: list, varying: list) -> Value:
        """The Value of a node whose operands are built (``varying``: which of them depend on a variable)."""
        if isinstance(node, (ast.Constant, ast.Name)):
            return self.leaf(node)
        if isinstance(node, ast.UnaryOp):
            return args[0] if isinstance(node.op, ast.UAdd) else self.apply(node, operator.neg, args[0])
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow) and not varying[1]:
                args[1] = args[1].data  # constant exponent: x**2 records op '**2', no exponent node
            return self.apply(node, BINARY[type(node.op)], *args)
        return self.apply(node, FUNCTIONS[node.func.id][1], *args)

    def build(self, root: ast.AST) -> Value:
        """Post-order walk with an explicit stack, so long expressions never hit the recursion limit."""
        results, varies, stack = {}, {}, [(root, None)]  # varies: does the node depend on a variable?
        while stack:
            node, kids = stack.pop()
            if kids is None:
                kids = self.children(node)
                stack.append((node, kids))
                stack.extend((kid, None) for kid in reversed(kids))
            else:
                varying = [varies.pop(kid) for kid in kids]
                varies[node] = (isinstance(node, ast.Name) and not self.constant(node)) or any(varying)
                results[node] = self.combine(node, [results.pop(kid) for kid in kids], varying)
        return results[root]


def parse_at(items: list[str]) -> dict[str, float]:
    """``["x=1,y=2", "z=-3e-2"]`` -> ``{"x": 1.0, "y": 2.0, "z": -0.03}``, in the order given."""
    values: dict[str, float] = {}
    for part in (part for item in items for part in item.split(",")):
        name, sep, number = (s.strip() for s in part.partition("="))
        name = unicodedata.normalize("NFKC", name)  # as Python normalises identifiers in the expression
        if not sep or not name.isidentifier() or keyword.iskeyword(name):
            raise CliError(f"malformed --at item {part.strip()!r}, expected name=number as in --at x=1,y=2")
        if name in FUNCTIONS:
            raise CliError(f"--at {name}: '{name}' is a function name, not a variable")
        if name in values:
            raise CliError(f"--at gives '{name}' twice")
        try:
            values[name] = float(number)
        except ValueError:
            raise CliError(f"--at {name}: {number!r} is not a number") from None
        if not math.isfinite(values[name]):
            raise CliError(f"--at {name}: {number!r} is not a finite number")
    return values


def gradients(expression: str, values: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """Build ``expression`` at ``values``, run backward; the root and the leaf of each variable."""
    source = expression.lstrip(" \t")
    if not source.strip():
        raise CliError("empty expression")
    if any("\udc80" <= c <= "\udcff" for c in source):  # bytes that were not UTF-8 (surrogate escapes)
        raise CliError("the expression is not valid UTF-8 text")
    if "\0" in source:
        raise CliError("the expression contains a NUL byte")
    try:
        with warnings.catch_warnings():  # e.g. "invalid escape sequence": the one line is our error
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        column = f" at column {exc.offset + len(expression) - len(source)}" if exc.offset else ""
        hint = " (write 2*x for a product: there is no implicit multiplication)" \
            if exc.msg == "invalid decimal literal" else ""
        raise CliError(f"syntax error: {exc.msg}{column if exc.lineno == 1 else ''}{hint}") from None
    except (ValueError, RecursionError, MemoryError):
        raise CliError("expression is too large or too deeply nested") from None
    builder = _Builder(source, values, len(expression) - len(source))
    root = builder.build(tree.body)
    unused = [name for name in values if name not in builder.leaves]
    if unused:
        raise CliError(f"--at gives a value for '{unused[0]}', which is not in the expression")
    root.backward()
    for name, leaf in builder.leaves.items():
        if not math.isfinite(leaf.grad):
            raise CliError(f"d/d{name} is {leaf.grad}: not differentiable there, or the gradient overflows")
    return root, {name: builder.leaves[name] for name in values}


def _graph_written(given: str, written: str) -> str:
    """The line saying where the picture went: its absolute path, and why when a suffix was added."""
    line = f"graph written to {os.path.abspath(written)}"
    if os.path.abspath(written) != os.path.abspath(given):
        line += " (--graph had no suffix, so SVG was added; end the name in .svg, .png or .pdf to choose)"
    return line


def run_grad(args: argparse.Namespace) -> int:
    """The ``grad`` command: print the value and each variable's gradient (or write JSON)."""
    values = parse_at(args.at or [])
    root, leaves = gradients(args.expression, values)
    for name in (name for name in values if name in CONSTANTS):
        print(f"note: {name} is the variable given with --at ({values[name]!r}), not the constant "
              f"{CONSTANTS[name]!r}", file=sys.stderr)
    if args.graph is not None:
        from .viz.draw import draw_graph
        try:
            graph = draw_graph(root, filename=args.graph)
        except Exception as exc:  # noqa: BLE001 -- graphviz, file system or format: all one line
            raise CliError(f"could not write the graph {args.graph}: {type(exc).__name__}: {exc}") from None
        print(_graph_written(args.graph, getattr(graph, "written", args.graph)), file=sys.stderr)
    if args.json:
        print(json.dumps({"value": root.data, "gradients": {n: v.grad for n, v in leaves.items()}}))
        return 0
    rows = [("value", root.data)] + [(f"d/d{name}", leaf.grad) for name, leaf in leaves.items()]
    width = max(len(label) for label, _ in rows)
    for label, number in rows:
        print(f"{label:<{width}}  {float(number)!r}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``chainrule`` / ``python -m autograd``."""
    text = {"epilog": EPILOG, "formatter_class": argparse.RawDescriptionHelpFormatter}
    parser = _Parser(prog="chainrule", description="Differentiate scalar expressions with chainrule.", **text)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    grad = commands.add_parser("grad", help="value and gradient of an expression at a point", **text,
                               description="Print the value of EXPR and its gradient for each variable.")
    grad.add_argument("expression", metavar="EXPR", help='e.g. "x*y + sin(x)"')
    grad.add_argument("--at", action="append", metavar="NAME=NUMBER[,...]",
                      help="variable values, comma separated or repeated: --at x=1,y=2 or --at x=1 --at y=2")
    grad.add_argument("--graph", metavar="PATH", help="write the compute graph, e.g. g.svg or g.png")
    grad.add_argument("--json", action="store_true", help='print {"value": ..., "gradients": {...}} instead')
    grad.set_defaults(run=run_grad)
    grad._negative_number_matcher = re.compile(r"-[^-]")  # so "-x*y" is an EXPR, as "-1" would be
    return parser


def _command_hint(argv: list[str]) -> str | None:
    """The message when argv does not start with a command: most often ``grad`` was left out."""
    before_dashes = argv[:argv.index("--")] if "--" in argv else argv
    if any(arg in COMMANDS or arg in ("-h", "--help") for arg in before_dashes):
        return None  # a command is there: argparse's own message says what else is wrong
    example = 'chainrule grad "x*y + sin(x)" --at x=1,y=2'
    if not argv:
        return f"no command given: write grad EXPR, as in {example}"
    close = difflib.get_close_matches(argv[0], COMMANDS, n=1)
    if close and not argv[0].startswith("-"):
        return f"unknown command {argv[0]!r}: did you mean {close[0]}? write {close[0]} EXPR, as in {example}"
    return f"the command is missing: write grad EXPR, as in chainrule {shlex.join(['grad', *argv])}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default sys.argv[1:]); returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        try:
            args = build_parser().parse_args(argv)
        except CliError as exc:
            raise CliError(_command_hint(argv) or f"{exc}{_dash_hint(argv)}") from None
        return args.run(args)
    except SystemExit as done:  # --help
        return done.code or 0
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback, the shell's status for SIGINT
        print("interrupted", file=sys.stderr)
        return 130
    except CliError as exc:
        message = " ".join(str(exc).split())
    except Exception as exc:  # noqa: BLE001 -- a bug, not bad input: still one line, never a traceback
        message = f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())}"
    print(f"error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":  # python -m autograd.cli, as python -m autograd
    raise SystemExit(main())
