"""A recording written out as one Python function of NumPy calls, the step a hand would write.

Each entry becomes a line. A result that goes to the same array every time is written there (``out=``,
the array the recording made), so the replay allocates almost nothing; a view of such an array is kept
from the recording. The function first checks what the recording took for granted (which arrays the
Tensors and optimizers hold, the modules' settings) and raises ``Stale`` if any changed, and it raises
``Failed`` where a Python value read from the data differs from the recorded one.
"""

from __future__ import annotations

import numpy as np

from .recording import OUTSIDE
from .tracing import Ref, refs

__all__ = ["Stale", "Failed", "write", "settings"]


class Stale(Exception):
    """Something the recording assumed no longer holds (checked before any work): record again."""


class Failed(Exception):
    """A Python value read from the data differs from the recording's: the step takes another path."""

    def __init__(self, entry: int):
        super().__init__(entry)
        self.entry = entry


_SCALARS = (bool, int, float, str, type(None))


def settings(module) -> tuple:
    """A module's Python settings (training, p, eps, ...): a replay is valid while these are unchanged."""
    found = [(k, v) for k, v in vars(module).items() if type(v) in _SCALARS and k != "training"]
    return ((("training", module.training),) if hasattr(module, "training") else ()) + tuple(found)


def _same(a, b) -> bool:
    if a == b:
        return True
    return isinstance(a, float) and isinstance(b, float) and a != a and b != b  # nan read twice


class _Writer:
    def __init__(self, recording, outputs: set):
        self.r, self.outputs = recording, outputs
        self.names: dict = {"Stale": Stale, "Failed": Failed, "_same": _same}
        self.ids: dict = {}
        self.local = {}  # value -> local name, for results a replay makes afresh
        for entry in recording.entries:
            if entry.kind in ("fresh", "draw"):
                self.local[entry.result] = f"v{entry.result}"
            elif entry.kind == "tuple":
                for v in entry.result:
                    self.local[v] = f"v{v}"

    def const(self, obj, prefix="c") -> str:
        key = id(obj)
        if key not in self.ids:
            name = f"{prefix}{len(self.ids)}"
            self.ids[key] = name
            self.names[name] = obj
        return self.ids[key]

    def value(self, v: int) -> str:
        if v in self.local:
            return self.local[v]
        if self.r.kinds[v] == "arg":
            return f"a{self.r.arg_position[v]}"
        return self.const(self.r.arrays[v], "k")

    def spec(self, item) -> str:
        if isinstance(item, Ref):
            return self.value(item.value)
        if isinstance(item, tuple):
            return "(" + "".join(self.spec(x) + ", " for x in item) + ")"
        if isinstance(item, list):
            return "[" + ", ".join(self.spec(x) for x in item) + "]"
        if isinstance(item, dict):
            return "{" + ", ".join(f"{k!r}: {self.spec(v)}" for k, v in item.items()) + "}"
        if item is None or isinstance(item, (bool, str)) or (isinstance(item, int) and type(item) is int):
            return repr(item)
        if type(item) is float and item == item and abs(item) != float("inf"):
            return repr(item)
        return self.const(item)

    def call(self, entry, extra: str = "") -> str:
        args = [self.spec(a) for a in entry.args]
        args += [f"{k}={self.spec(v)}" for k, v in entry.kwargs.items()]
        if extra:
            args.append(extra)
        if entry.kind == "draw":
            resolve, method = entry.func
            return f"{self.const(resolve, 'r')}().{method}({', '.join(args)})"
        return f"{self.const(entry.func, 'f')}({', '.join(args)})"

    def line(self, i: int, entry) -> str:
        kind = entry.kind
        if kind == "out":
            return self.call(entry, f"out={self.value(entry.result)}")
        if kind in ("fresh", "draw"):
            return f"{self.local[entry.result]} = {self.call(entry)}"
        if kind == "tuple":
            return f"{', '.join(self.local[v] for v in entry.result)}, = {self.call(entry)}"
        if kind == "guard":
            if i in self.outputs:
                return f"o{i} = {self.call(entry)}"
            return f"if not _same({self.call(entry)}, {self.const(entry.expected, 'e')}): raise Failed({i})"
        return self.call(entry)


_COPIES = (np.ndarray.copy, np.copy)


def prune(recording, returned: list) -> dict:
    """Mark the entries nothing needs ("skip") and return copies that may be aliases instead: a copy of
    an array the step made and never uses again (``.grad`` takes its own copy of a gradient)."""
    r, entries = recording, recording.entries
    needed = {v for t, name, v in r.bindings.values() if isinstance(v, int)}
    needed |= {v for _, _, v in r.state_bindings} | {v for v in returned if isinstance(v, int)}
    needed |= {e.result for i, e in enumerate(entries) if ("guard", i) in returned}

    def need(v):
        while v not in needed:
            needed.add(v)
            if v not in r.view_source:
                break
            v = r.view_source[v]

    for v in list(needed):
        needed.discard(v)
        need(v)
    def root(v):
        while v in r.view_source:
            v = r.view_source[v]
        return v

    used_later: set = set()
    aliases: dict = {}
    for i in range(len(entries) - 1, -1, -1):
        e = entries[i]
        results = e.result if isinstance(e.result, tuple) else (e.result,)
        live = e.kind in ("guard", "draw") or any(v in needed for v in results if v is not None) or \
            any(root(w) in needed or r.kinds[root(w)] in OUTSIDE for w in e.writes)
        if not live:
            e.kind = "skip"
            continue
        used = [x.value for x in refs(e.args) + refs(e.kwargs)]
        if e.func in _COPIES and e.kind == "fresh" and len(used) == 1 and used[0] in r.owns \
                and used[0] not in used_later and used[0] not in needed:
            aliases[e.result] = used[0]
            e.kind = "skip"
            need(used[0])
            continue
        for v in used:
            need(v)
            used_later.add(v)
    return aliases


def write(recording, outputs: set, returned: list) -> tuple:
    """(the replay function, its source): ``replay(*argument_arrays)`` returns the arrays and Python values
    listed in ``returned`` (value indices, or ("guard", entry) for a value read with ``.item()``)."""
    aliases = prune(recording, returned)
    w = _Writer(recording, outputs)
    for copy, source in aliases.items():
        w.local[copy] = w.value(source)
    body = []
    for tensor, name, value in recording.slot_reads.values():  # checked before any work
        t = w.const(tensor, "t")
        body.append(f"if {t}.{name} is not {'None' if value is None else w.value(value)}: raise Stale")
    for container, key, array in recording.states:
        body.append(f"if {w.const(container, 's')}[{w.spec(key)}] is not {w.const(array, 'k')}: raise Stale")
    for owner in list(recording.modules.values()) + recording.optimizers:  # their Python settings
        names = [k for k, _ in settings(owner)]
        if hasattr(owner, "_capture_key"):  # an optimizer: its hyper-parameters
            names = ["capturable", *owner.hyperparameters]
        if names:
            o = w.const(owner, "m")
            now = w.const(tuple(getattr(owner, k) for k in names), "e")
            body.append(f"if ({''.join(f'{o}.{k}, ' for k in names)}) != {now}: raise Stale")
    for i, entry in enumerate(recording.entries):
        if entry.kind != "skip":
            line = w.line(i, entry)
            check = line.rsplit("raise", 1)[0]
            if not (entry.kind == "guard" and body and check == body[-1].rsplit("raise", 1)[0]):  # made twice
                body.append(line)
    for tensor, name, target in recording.bindings.values():
        if recording.slot_reads.get((id(tensor), name), (None, None, -1))[2] == target:
            continue  # still the array it read
        text = "None" if target is None else w.value(target) if isinstance(target, int) else w.const(target)
        body.append(f"{w.const(tensor, 't')}.{name} = {text}")
    for container, key, value in recording.state_bindings:
        body.append(f"{w.const(container, 's')}[{w.spec(key)}] = {w.value(value)}")
    results = [f"o{r[1]}" if isinstance(r, tuple) else w.value(r) for r in returned]
    body.append(f"return ({''.join(r + ', ' for r in results)})")
    arguments = ", ".join(f"i{i}" for i in range(1 + max((i for i, _ in recording.arg_sources), default=-1)))
    body[:0] = [f"a{k} = i{i}{read}" for k, (i, read) in enumerate(recording.arg_sources)]
    source = f"def replay({arguments}{', ' if arguments else ''}*rest):\n" + "".join(f"    {line}\n" for line in body)
    namespace = dict(w.names)
    exec(compile(source, "<captured step>", "exec"), namespace)
    return namespace["replay"], source

