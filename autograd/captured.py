"""``autograd.compile(step)``: a training step recorded once and replayed as plain NumPy calls.

The eager engine pays Python for every node (making it, sorting the graph, calling its closure);
a hand-written NumPy step pays only for the NumPy calls. A captured step runs eagerly once (lazy state
is made), records its NumPy calls the second time (recording.py), then replays them (replay.py), as
tinygrad's TinyJit and CUDA graphs do. A recording is kept per argument signature and grad mode (up to
``KEPT`` of them); each replay first checks what its recording assumed: the module settings, optimizer
hyper-parameters, the arrays Tensors and optimizers hold, the Python numbers the step's code reads by
name. A Python value read from the data (``if loss.item() > 10``) is checked where it is read; where it
differs, what the replay changed is put back and the step runs eagerly (for good, with a warning, when
that happens on most calls). The first replay of each recording is checked against an eager run.
"""

from __future__ import annotations

import dis
import functools
import warnings

import numpy as np

from . import capture
from .graph import is_grad_enabled
from .quiet import hush, unhush
from .recording import Recording
from .replay import Failed, Stale, write
from .step_state import (differs, outputs_differ, rebuild, restore, snapshot, template, undo_list,
                         used_optimizers)
from .tensor_class import Tensor
from .tracing import CaptureError

__all__ = ["compile", "CapturedStep", "CaptureError"]

MAX_RECORDINGS = 8  # per step, as torch.compile's cache limit: past it the step runs eagerly
KEPT = 4  # recordings kept per argument signature
_EAGER = "eager"  # in place of a recording: this signature runs eagerly (its recording could not be kept)


def compile(step=None, *, max_recordings: int = MAX_RECORDINGS):
    """Capture ``step`` (a function: forward, backward, optimizer update): returns a callable that runs
    it eagerly once, records it the second time and replays the recording after that. Usable as a
    decorator, with or without arguments."""
    if step is None:
        return functools.partial(compile, max_recordings=max_recordings)
    if not callable(step):
        raise TypeError(f"compile: expected a function to capture, got {type(step).__name__}")
    return CapturedStep(step, max_recordings)


class _Tape:
    """One recording made runnable: the replay function, what it returns, and the state it may undo."""

    def __init__(self, recording: Recording, replay, source: str, template, undo: list, draws: list):
        self.recording, self.replay, self.source, self.template = recording, replay, source, template
        self.undo, self.draws, self.checked = undo, draws, False
        self.runs = self.failures = 0
        self.names = self.values = ()


def _python_values(step) -> tuple:
    """(places, values): the Python numbers and strings the step's own code reads by name, from its
    globals and its closure (``lr`` in ``p.data += -lr * p.grad``): a replay is valid while they hold."""
    code = getattr(step, "__code__", None)
    if code is None:
        return (), ()
    places = [(step.__globals__, name) for name in _global_names(code) if name in step.__globals__]
    places += [(cell, None) for cell in step.__closure__ or ()]
    kept = []
    for owner, name in places:
        try:
            value = owner[name] if name is not None else owner.cell_contents
        except ValueError:  # an empty cell
            continue
        if value is None or type(value) in (bool, int, float, str):
            kept.append((owner, name))
    return tuple(kept), _read(kept)


def _global_names(code) -> list:
    """The names ``code`` (and the comprehensions in it) loads as globals, not its attribute names."""
    names = [i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")]
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            names += _global_names(const)
    return list(dict.fromkeys(names))


def _read(places) -> tuple:
    return tuple(owner[name] if name is not None else owner.cell_contents for owner, name in places)


class CapturedStep:
    """What ``autograd.compile`` returns: call it as the step. ``recordings`` counts recordings made,
    ``replays`` replays run; ``source`` is the replayed code of the latest recording."""

    def __init__(self, step, max_recordings: int):
        self.step, self.max_recordings = step, max_recordings
        self.recordings = self.replays = 0
        self._tapes: dict = {}
        self._seen: set = set()
        self._eager_only = False
        self.source = ""
        functools.update_wrapper(self, step)

    def __call__(self, *args, **kwargs):
        names = sorted(kwargs)
        if names:  # keywords by name, in one order, after the positional arguments
            args = args + tuple(kwargs[k] for k in names)
        if self._eager_only:
            return self._eager(args, names)
        key = _signature(args, names)
        tapes = self._tapes.setdefault(key, [])
        for tape in tapes:  # a few recordings per signature: train() and eval() alternate, say
            if tape is _EAGER:
                return self._eager(args, names)
            try:
                return self._replay(tape, args, names)
            except Stale:
                continue
            except Failed as failed:  # state was put back: this call takes another path, eagerly
                self._failed(tape, failed.entry)
                return self._eager(args, names)
        if key not in self._seen:  # the first run makes lazy state (optimizer buffers) eagerly
            self._seen.add(key)
            return self._eager(args, names)
        if self.recordings >= self.max_recordings:
            self._give_up(f"it was recorded {self.recordings} times (its Python path or settings keep changing)", 3)
            return self._eager(args, names)
        if len(tapes) >= KEPT:
            tapes.pop()
        return self._record(key, args, names)

    def _eager(self, args, names):
        if not names:
            return self.step(*args)
        return self.step(*args[:-len(names)], **dict(zip(names, args[-len(names):])))

    def _failed(self, tape, entry: int) -> None:
        """A value read from the data differed from the recording's: fine now and then (a rare branch);
        when it differs on most calls the replay only costs time, so the step runs eagerly."""
        tape.failures += 1
        if tape.failures >= 3 and tape.failures > tape.runs:
            where = tape.recording.entries[entry].where
            self._give_up(f"a Python value it reads from the data changes on most calls ({where}); "
                          "return such values (loss.item()) from the step instead of using them inside it", 4)

    def _give_up(self, why: str, stacklevel: int) -> None:
        """Run eagerly from now on, saying why; the warning points at the caller of the step."""
        warnings.warn(f"compile: {self.step.__name__} runs eagerly from now on: {why}", RuntimeWarning,
                      stacklevel=stacklevel)
        self._eager_only = True

    # --- recording ------------------------------------------------------------------------
    def _record(self, key, args, names):
        self.recordings += 1
        recording = Recording(Tensor)
        legacy = _legacy_state()
        keys = {id(o): o._capture_key() for o in capture.tracked() if not getattr(o, "capturable", True)}
        with recording:
            recording.arg_position, recording.arg_sources = {}, []
            traced = tuple(_argument(recording, a, i) for i, a in enumerate(args))
            result = self._eager(traced, names)
            returned: list = []
            shape = template(recording, result, returned)
        if not recording.entries:
            raise CaptureError(f"compile: {self.step.__name__} did no NumPy work on Tensors, so there is nothing to "
                               "replay (a Value graph is plain Python: run it without compile)")
        recording.optimizers = used_optimizers(recording)
        draws = [e.func[0] for e in recording.entries if e.kind == "draw"]
        if legacy != _legacy_state() and not draws:
            raise CaptureError("the step draws from NumPy's global random state (np.random.*), which a replay "
                               "cannot repeat; draw with autograd's functions (randn, randint, ...) or pass a "
                               "numpy Generator (rng=)")
        outputs = {r[1] for r in returned if isinstance(r, tuple)}
        raw = [recording.entries[r[1]].expected if isinstance(r, tuple) else recording.arrays[r] for r in returned]
        del result, traced
        replaced = recording.replaced()
        if replaced:  # a replay would read the tensor the step let go of: this signature runs eagerly
            self._tapes[key].insert(0, _EAGER)
            shape_of = ", ".join(f"{t.label or 'a tensor'} of shape {t.shape}" for t in replaced[:3])
            warnings.warn(f"compile: {self.step.__name__} replaces tensors it reads ({shape_of}) instead of changing "
                          "them in place (as `self.running_mean = (1 - m) * self.running_mean + m * mean` does), so "
                          "a replay would read the old ones; it runs eagerly. Update them in place (with "
                          "no_grad(): self.running_mean.mul_(1 - m).add_(m * mean)) to capture it",
                          RuntimeWarning, stacklevel=3)
            return rebuild(shape, raw)
        unready = [o for o in recording.optimizers if id(o) in keys and o._capture_key() != keys[id(o)]]
        for optimizer in unready:  # its step count is a Python int: count in an array, and record again
            optimizer._make_capturable()
        if not unready:
            replay, source = write(recording, outputs, returned)
            self.source = source
            tape = _Tape(recording, replay, source, shape, undo_list(recording, outputs), draws)
            tape.names, tape.values = _python_values(self.step)
            self._tapes[key].insert(0, tape)
        return rebuild(shape, raw)  # copies: the recording's arrays are the replays' buffers

    # --- replaying ------------------------------------------------------------------------
    def _replay(self, tape: _Tape, args, names):
        arrays = args  # the replay takes each argument's array itself
        if tape.names and _read(tape.names) != tape.values:
            raise Stale
        if not tape.checked:
            return self._check(tape, args, names, arrays)
        saved = [a.copy() for a in tape.undo] if tape.undo else None
        if saved is not None:
            legacy = np.random.get_state()
            states = [resolve().bit_generator.state for resolve in tape.draws]
        token = hush()  # silent, as the eager ops are
        try:
            raw = tape.replay(*arrays)
        except Failed:
            if saved is not None:
                for array, copy in zip(tape.undo, saved):
                    np.copyto(array, copy)
                for resolve, state in zip(tape.draws, states):
                    resolve().bit_generator.state = state
                np.random.set_state(legacy)
            raise
        finally:
            unhush(token)
        self.replays += 1
        tape.runs += 1
        return rebuild(tape.template, raw)

    def _check(self, tape: _Tape, args, names, arrays):
        """The first replay, against an eager run from the same state: a recording that missed some
        work (a value computed outside NumPy's view) would differ here. Returns the eager result."""
        before = snapshot(tape)
        token = hush()
        try:
            raw = tape.replay(*arrays)
        except Failed:
            restore(before)
            raise
        finally:
            unhush(token)
        replayed = snapshot(tape), [np.array(r, copy=True) if isinstance(r, np.ndarray) else r for r in raw]
        restore(before)
        result = self._eager(args, names)
        eager = snapshot(tape)
        what = differs(replayed[0], eager) or outputs_differ(tape.template, replayed[1], result)
        if what:
            self._eager_only = True
            warnings.warn(f"compile: the replay of {self.step.__name__} differs from its eager run ({what}), so it "
                          "runs eagerly from now on: the step reads something the recording cannot see change "
                          "(a global rebound between calls, a Python counter); pass such values as arguments",
                          RuntimeWarning, stacklevel=4)
        tape.checked = True
        return result


# --- helpers ----------------------------------------------------------------------------------
def _legacy_state() -> tuple:
    """NumPy's global random state (np.random.seed's), comparable with ==."""
    name, key, pos, has_gauss, cached = np.random.get_state()
    return key.tobytes(), pos, has_gauss, cached


def _signature(args, names) -> tuple:
    """What a recording is for: the grad mode, each argument's kind, shape and dtype (a Python value's
    value, another object's identity), and the keyword names."""
    key = [is_grad_enabled(), *names]
    for x in args:
        if isinstance(x, Tensor):
            data = x._data
            key.append((data.shape, data.dtype, x.requires_grad, x.__class__))
        elif isinstance(x, np.ndarray):
            key.append((x.shape, x.dtype, x.__class__))
        elif x is None or isinstance(x, (bool, int, float, str)):
            key.append((x.__class__, x))
        else:
            key.append(id(x))
    return tuple(key)


def _argument(recording: Recording, x, i: int):
    """Argument i as the recording sees it; its array is an input the replay is given (``a0``, ...)."""
    if isinstance(x, Tensor):
        array = Tensor.__dict__["_data"].slot.__get__(x)  # the array itself, not its recorded stand-in
        read = "._data"
    elif isinstance(x, np.ndarray):
        array, read = x, ""
    else:
        return x
    if id(array) not in recording.index:
        recording.argument(array)
        recording.arg_position[recording.index[id(array)]] = len(recording.arg_sources)
        recording.arg_sources.append((i, read))
    return x if read else recording.traced[recording.index[id(array)]]
