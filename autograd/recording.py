"""One recording of a step: the values it reads and makes, and the calls between them (see tracing.py).

A value is an array the step used, numbered in order: an argument's data, a Tensor's ``_data`` or
``_grad`` read from outside the step (``slot``), any other array from outside (``const``), a new
array (``make``), a random draw (``draw``) or a call's result (``call``). While recording, Tensor's
two array slots and NumPy's array constructors are swapped for recording ones; ``close`` puts back
every swapped thing, also after an error.
"""

from __future__ import annotations

import sys
import traceback

import numpy as np

from . import capture, memory
from .tracing import (STATIC, WRITE_FIRST, CaptureError, Entry, Ref, Traced, _recording, flat, is_static, refs,
                      takes_out, user_frames)

__all__ = ["Recording"]

_MAKERS = ("zeros", "ones", "empty", "full")
_FILLS = {"zeros": 0, "ones": 1}
_ADOPTERS = ("asarray", "asanyarray", "ascontiguousarray", "array")
_SLOTS = ("_data", "_grad")


class _Slot:
    """Stands in for Tensor's ``_data`` / ``_grad`` slot while recording: reads and writes go through it."""

    def __init__(self, recording, name: str, slot):
        self.recording, self.name, self.slot = recording, name, slot

    def __get__(self, tensor, owner=None):
        if tensor is None:
            return self
        return self.recording.read_slot(tensor, self.name, self.slot.__get__(tensor, owner))

    def __set__(self, tensor, value):
        self.recording.write_slot(tensor, self.name, self.slot, value)


class _Draws:
    """Stands in for a numpy Generator while recording: each draw is recorded, and a replay draws again
    from ``resolve()`` (the generator as the step would find it then)."""

    def __init__(self, recording, resolve):
        self._recording, self._resolve = recording, resolve

    def __getattr__(self, method: str):
        def draw(*args, **kwargs):
            return self._recording.draw(self._resolve, method, args, kwargs)
        return draw


def _loop_refs() -> int:
    """The reference count ``Recording.replaced`` sees for a Tensor only its own tuples hold."""
    class Probe:
        slot_reads = {}

    probe = Probe()
    probe.slot_reads = {0: (object(), "_data", 0)}
    for tensor, _, _ in list(probe.slot_reads.values()):
        return sys.getrefcount(tensor) - 1


_LOOP_REFS = _loop_refs()
OUTSIDE = ("slot", "state", "arg")  # the kinds of value whose array lives on after the step


class Recording:
    def __init__(self, tensor_type):
        self.tensor_type = tensor_type
        self.kinds: list = []  # per value: "arg", "slot", "const", "make", "draw", "call", "view"
        self.arrays: list = []  # per value: the array it was while recording (a replay's buffer)
        self.index: dict = {}  # id(array or its Traced) -> value
        self.traced: dict = {}  # value -> its Traced
        self.entries: list = []
        self.slot_reads: dict = {}  # (id(tensor), name) -> (tensor, name, value or None)
        self.bindings: dict = {}  # (id(tensor), name) -> (tensor, name, value or None or array)
        self.born: set = set()  # ids of Tensors made while recording
        self.keep: list = []  # objects whose ids the dicts use
        self.modules: dict = {}
        self.conversions: dict = {}  # id(python value) -> entry index
        self._undo: list = []
        self.out_values: set = set()
        self.inside = 0  # > 0 while NumPy itself runs
        self.view_source: dict = {}  # view value -> the value it looks into
        self.owns: set = set()  # values whose array is the step's own (not a view, not from outside)
        self.states: list = []  # (container, key, array): optimizer state swapped for the recording

    # --- values ------------------------------------------------------------------------------
    def _new(self, kind: str, array: np.ndarray) -> Traced:
        value = len(self.kinds)
        self.kinds.append(kind)
        self.arrays.append(array)
        traced = array.view(Traced)
        self.traced[value] = traced
        self.index[id(array)] = self.index[id(traced)] = value
        self.keep.append(traced)
        return traced

    def value_of(self, array) -> int:
        value = self.index.get(id(array))
        if value is None:
            if isinstance(array, Traced):
                raise CaptureError("an array from another recording reached this one")
            self._new("const", array)
            value = self.index[id(array)]
        return value

    def base_of(self, traced):
        value = self.index.get(id(traced))
        return None if value is not None and self.kinds[value] in ("call", "make", "draw") else \
            np.ndarray.base.__get__(traced)

    def argument(self, array: np.ndarray) -> Traced:
        return self._new("arg", array)

    # --- encoding arguments ----------------------------------------------------------------
    def _encode(self, item):
        """(the plain object to call with, the spec a replay rebuilds it from)."""
        if isinstance(item, np.ndarray):
            value = self.value_of(item)
            return self.arrays[value] if isinstance(item, Traced) else item, Ref(value)
        if isinstance(item, (tuple, list)):
            pairs = [self._encode(x) for x in item]
            return type(item)(p for p, _ in pairs), type(item)(s for _, s in pairs)
        if isinstance(item, dict):
            pairs = {k: self._encode(v) for k, v in item.items()}
            return {k: p for k, (p, _) in pairs.items()}, {k: s for k, (_, s) in pairs.items()}
        return item, item

    def call(self, func, args, kwargs):
        plain_args, arg_spec = self._encode(tuple(args))
        plain_kwargs, kwarg_spec = self._encode(dict(kwargs))
        result = self._run(func, plain_args, plain_kwargs)
        writes = self._writes(func, arg_spec, kwarg_spec)
        used = [s.value for s in refs(arg_spec) + refs(kwarg_spec)]
        if isinstance(result, np.generic):
            result = np.asarray(result)
        if isinstance(result, np.ndarray):
            for given, plain in zip(flat(tuple(args)) + flat(dict(kwargs)),
                                    flat(plain_args) + flat(plain_kwargs)):
                if result is plain:  # out=, or a call that returns its argument
                    if writes:
                        self.entries.append(Entry(func, arg_spec, kwarg_spec, None, writes))
                    return given
            source = next((v for v in used if np.may_share_memory(result, self.arrays[v])), None)
            if source is not None and not writes:  # a view: free if its source stays where it is
                traced = self._new("view", result)
                value = self.index[id(traced)]
                self.view_source[value] = source
                if not (self._stable(source) and all(v == source for v in used)):
                    self.kinds[value] = "call"
                    self.entries.append(Entry(func, arg_spec, kwarg_spec, value, writes, kind="fresh"))
                return traced
            traced = self._new("call", result)
            value = self.index[id(traced)]
            self.owns.add(value)
            out = "out" not in kwargs and takes_out(func)
            if out:
                self.out_values.add(value)
            self.entries.append(Entry(func, arg_spec, kwarg_spec, value, writes, kind="out" if out else "fresh"))
            return traced
        if result is None:
            self.entries.append(Entry(func, arg_spec, kwarg_spec, None, writes))
            return None
        if isinstance(result, tuple) and all(isinstance(r, (np.ndarray, np.generic)) for r in result):
            results = tuple(self._new("call", np.asarray(r)) for r in result)
            self.owns.update(self.index[id(r)] for r in results)
            self.entries.append(Entry(func, arg_spec, kwarg_spec, tuple(self.index[id(r)] for r in results),
                                      writes, kind="tuple"))
            return results
        if func in STATIC or not used:
            return result
        return self._guard(func, arg_spec, kwarg_spec, result)

    def _run(self, func, args, kwargs):
        """Call NumPy itself: what it makes inside (np.empty in a Generator) is not the step's."""
        self.inside += 1
        try:
            return func(*args, **kwargs)
        finally:
            self.inside -= 1

    def _stable(self, value: int) -> bool:
        """True if a replay finds this value in the same array every time (so views of it can be kept)."""
        return self.kinds[value] in ("slot", "state", "const", "make", "view") or value in self.out_values

    def _writes(self, func, arg_spec, kwarg_spec) -> tuple:
        writes = refs(kwarg_spec.get("out", ()))
        method = getattr(func, "__name__", "")
        if (func in WRITE_FIRST or (method == "at" and isinstance(getattr(func, "__self__", None), np.ufunc))) \
                and arg_spec and isinstance(arg_spec[0], Ref):
            writes = writes + [arg_spec[0]]
        for w in writes:
            if self.kinds[w.value] == "const":
                raise CaptureError(f"the step writes into an array that is neither a Tensor's nor one it made "
                                   f"({getattr(func, '__name__', func)} at\n"
                                   f"{''.join(traceback.format_list(user_frames()))}); a replay could not "
                                   "know what the array holds: keep it in a Tensor")
        return tuple(w.value for w in writes)

    # --- Python values read from arrays: guards ----------------------------------------------
    def convert(self, traced, convert, name, args):
        plain = self.arrays[self.value_of(traced)]
        result = convert(plain, *args)
        return self._guard(convert, (Ref(self.index[id(traced)]), *args), {}, result, name)

    def _guard(self, func, arg_spec, kwarg_spec, result, name=""):
        frames = user_frames()
        place = f" at {frames[-1].filename}:{frames[-1].lineno}: {frames[-1].line}" if frames else ""
        self.entries.append(Entry(func, arg_spec, kwarg_spec, None, (), kind="guard", expected=result,
                                  where=f"{name or getattr(func, '__name__', func)}(){place}"))
        self.conversions[id(result)] = len(self.entries) - 1
        self.keep.append(result)
        return result

    # --- random draws and new arrays -------------------------------------------------------
    def generator(self, rng, resolve=None):
        return _Draws(self, resolve or (lambda: rng))

    def draw(self, resolve, method, args, kwargs):
        plain_args, arg_spec = self._encode(tuple(args))
        plain_kwargs, kwarg_spec = self._encode(dict(kwargs))
        result = np.asarray(self._run(getattr(resolve(), method), plain_args, plain_kwargs))
        traced = self._new("draw", result)
        self.owns.add(self.index[id(traced)])
        self.entries.append(Entry((resolve, method), arg_spec, kwarg_spec, self.index[id(traced)], (),
                                  kind="draw"))
        return traced

    def _maker(self, name, original):
        def make(*args, **kwargs):
            if self.inside:
                return original(*args, **kwargs)
            like = name.endswith("_like")  # made from a prototype's shape and layout, never its data
            rest = (args[1:], tuple(v for k, v in kwargs.items() if k != "prototype")) if like else \
                (args, tuple(kwargs.values()))
            if not is_static(rest):
                return self.call(original, args, kwargs)
            if like and isinstance(args[0] if args else kwargs.get("prototype"), Traced):
                prototype = args[0] if args else kwargs.pop("prototype")
                args = (self.arrays[self.index[id(prototype)]], *args[1:])
            traced = self._new("make", original(*args, **kwargs))
            self.owns.add(self.index[id(traced)])
            name_ = name[:-5] if like else name
            if name_ in _FILLS or name_ == "full":
                fill = _FILLS.get(name_, args[1] if len(args) > 1 else kwargs.get("fill_value"))
                self.entries.append(Entry(np.ndarray.fill, (Ref(self.index[id(traced)]), fill), {},
                                          None, (self.index[id(traced)],), kind="make"))
            return traced
        return make

    def _adopter(self, original):
        def adopt(*args, **kwargs):
            if not self.inside and any(isinstance(x, Traced) for x in flat(args)):
                return self.call(original, args, kwargs)
            return original(*args, **kwargs)
        return adopt

    # --- Tensor slots --------------------------------------------------------------------
    def read_slot(self, tensor, name, array):
        if array is None or isinstance(array, Traced) or not isinstance(array, np.ndarray):
            key = (id(tensor), name)
            if array is None and id(tensor) not in self.born and key not in self.bindings:
                self.slot_reads.setdefault(key, (tensor, name, None))
            return array
        value = self.index.get(id(array))
        if value is None:
            if id(tensor) in self.born:  # a constant the step made (a Python number as a Tensor)
                self._new("const", array)
                return self.traced[self.index[id(array)]]
            self._new("slot", array)
            value = self.index[id(array)]
            self.slot_reads.setdefault((id(tensor), name), (tensor, name, value))
            self.keep.append(tensor)
        return self.traced[value]

    def write_slot(self, tensor, name, slot, value):
        if name == "_data":
            try:
                slot.__get__(tensor)
            except AttributeError:  # a Tensor being made
                self.born.add(id(tensor))
        self.keep.append(tensor)
        self._undo.append((tensor, slot))
        slot.__set__(tensor, value)
        if id(tensor) not in self.born:
            target = None if value is None else self.value_of(value) if isinstance(value, np.ndarray) else value
            self.bindings[(id(tensor), name)] = (tensor, name, target)

    def note_module(self, module):
        self.modules.setdefault(id(module), module)

    # --- open and close --------------------------------------------------------------------
    def __enter__(self):
        if _recording:
            raise CaptureError("a captured step called another captured step while recording; "
                               "capture the outer step only")
        self._saved = [(self.tensor_type, name, self.tensor_type.__dict__[name]) for name in _SLOTS]
        self._saved += [(np, name, getattr(np, name)) for name in _MAKERS + _ADOPTERS]
        self._saved += [(np, name + "_like", getattr(np, name + "_like")) for name in _MAKERS]
        for owner, name, original in self._saved:
            if owner is np:
                patched = self._adopter(original) if name in _ADOPTERS else self._maker(name, original)
                setattr(np, name, patched)
            else:
                setattr(owner, name, _Slot(self, name, original))
        _recording.append(self)
        capture.recording = self
        self._pool, memory.MIN_BYTES = memory.MIN_BYTES, float("inf")  # the recording's arrays are the buffers
        for owner in capture.tracked():  # optimizers: their state arrays are read through the recording
            for container, key in getattr(owner, "_capture_arrays", list)():
                array = container[key]
                self.states.append((container, key, array))
                container[key] = self._new("state", array) if id(array) not in self.index else \
                    self.traced[self.index[id(array)]]
        return self

    def __exit__(self, *exc):
        _recording.pop()
        capture.recording = None
        memory.MIN_BYTES = self._pool
        for owner, name, original in self._saved:
            setattr(owner, name, original)
        self.state_bindings = []
        for container, key, array in self.states:
            now = container[key]
            if isinstance(now, Traced):
                container[key] = self.arrays[self.index[id(now)]]
                if container[key] is not array:
                    self.state_bindings.append((container, key, self.index[id(now)]))
        for tensor, slot in self._undo:  # no Traced outlives the recording
            array = slot.__get__(tensor)
            if isinstance(array, Traced):
                slot.__set__(tensor, self.arrays[self.index[id(array)]])
        self._undo, self.keep = [], []  # ids need not stay unique now; what holds a Tensor is counted next
        return False

    def outside_written(self, upto: int | None = None) -> list:
        """The arrays from outside the step (a Tensor's, an optimizer's, an argument's) that its entries
        (the first ``upto``) change in place, each once, in order."""
        written = {}
        for entry in self.entries[:upto]:
            for v in entry.writes:
                if self.kinds[v] in OUTSIDE:
                    written.setdefault(v, self.arrays[v])
        return list(written.values())

    def replaced(self) -> list:
        """The Tensors the step read from outside that nothing outside holds any more: state the step
        replaced (``self.running_mean = f(self.running_mean)``) where a replay would read the old one."""
        ours: dict = {}
        for tensor, _, _ in [*self.slot_reads.values(), *self.bindings.values()]:
            ours[id(tensor)] = ours.get(id(tensor), 0) + 1
        lost = []
        for tensor, _, _ in list(self.slot_reads.values()):
            if sys.getrefcount(tensor) - ours[id(tensor)] <= _LOOP_REFS:
                lost.append(tensor)
        return lost
