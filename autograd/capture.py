"""Hooks the captured step (``autograd.compile``) needs from stateful objects elsewhere.

nn's optimizers and modules hold state a captured step reads and writes; they ``track`` themselves
here so a recording can find it, and random draws go through ``generator`` so a replay draws afresh.
Outside a recording each hook is one global test.
"""

from __future__ import annotations

import weakref

__all__ = ["track", "tracked", "generator", "note_call"]

_tracked: "weakref.WeakSet" = weakref.WeakSet()
recording = None  # the active recording (compile.py's Recording), else None


def track(obj) -> None:
    """Register a stateful object (an optimizer): a recording swaps the arrays it names in
    ``obj._capture_arrays()`` and guards on ``obj._capture_key()``."""
    _tracked.add(obj)


def tracked() -> list:
    return list(_tracked)


def generator(rng, resolve=None):
    """``rng`` itself, or while a step is recorded a stand-in whose draws a replay repeats from
    ``resolve()`` (the generator the step would use then; ``rng`` itself if not given)."""
    return rng if recording is None else recording.generator(rng, resolve)


def note_call(module) -> None:
    """Called by ``nn.Module.__call__`` while recording: the module's settings guard the replay."""
    if recording is not None:
        recording.note_module(module)
