"""Op records: an op's name, its derivatives and what the tools need of it, in one object.

A node's ``op`` is its record (a plain name for ops that need nothing more). It reads as its name:
it prints, formats, compares and hashes as that string (``node.op == "+"``; ``str(node.op)`` for str's methods),
so code that shows names needs nothing else; the attributes hold the rest, so no consumer parses a
name: the overlay re-runs ``forward``, the symbolic export reads ``sympy`` and ``params``.
"""

from __future__ import annotations

__all__ = ["Op"]


class Op:
    """One op's record: ``Op(name, backward, forward=None, sympy=None, params=())``.

    ``backward`` is a tuple with one derivative ``(g, out, *inputs) -> gradient`` per input (the core
    calls only those whose input needs a gradient), or one function returning a gradient per input
    when they share work. ``forward`` applies the op to Values (to re-run a recorded graph),
    ``sympy(sp, *args)`` gives its SymPy form, ``params`` its constants (an exponent, an alpha).
    Slots, not a str subclass: the core reads ``backward`` once per node and a slot is the fastest read.
    """

    __slots__ = ("name", "backward", "forward", "sympy", "params")

    def __init__(self, name: str, backward, forward=None, sympy=None, params: tuple = ()):
        self.name, self.backward, self.forward, self.sympy, self.params = name, backward, forward, sympy, params

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return repr(self.name)

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)

    def __eq__(self, other) -> bool:
        return self.name == (other.name if isinstance(other, Op) else other)

    def __hash__(self) -> int:
        return hash(self.name)

    def __bool__(self) -> bool:
        return bool(self.name)

    def __reduce__(self):  # pickles (and deep-copies) as its name: derivatives are code, not data
        return str, (self.name,)
