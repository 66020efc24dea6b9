"""What a captured step reads, changes and returns: snapshots of it, putting it back, comparing two runs.

``captured.py`` uses these around the first replay of a recording (checked against an eager run from the
same state) and when a guard fails part-way through a replay (what the replay changed is put back).
"""

from __future__ import annotations

import numpy as np

from . import capture
from .tensor_class import Tensor
from .tracing import Traced

__all__ = ["template", "rebuild", "used_optimizers", "undo_list", "snapshot", "restore", "outputs_differ",
           "differs"]


def template(recording, result, returned: list):
    """The step's result with arrays replaced by positions in ``returned`` (what a replay fills in)."""
    if isinstance(result, Tensor):
        data = Tensor.__dict__["_data"].slot.__get__(result)
        if id(result) not in recording.born or not isinstance(data, np.ndarray):
            return ("object", result)
        returned.append(recording.index[id(data)])
        return ("tensor", len(returned) - 1)
    if isinstance(result, Traced):
        returned.append(recording.index[id(result)])
        return ("array", len(returned) - 1)
    if id(result) in recording.conversions:
        entry = recording.conversions[id(result)]
        returned.append(("guard", entry))
        return ("python", len(returned) - 1)
    if isinstance(result, (tuple, list)):
        return (type(result), [template(recording, x, returned) for x in result])
    if isinstance(result, dict):
        return (dict, {k: template(recording, v, returned) for k, v in result.items()})
    return ("object", result)


def rebuild(template, raw):
    kind, item = template
    if kind == "tensor":
        return Tensor(np.array(raw[item], copy=True))
    if kind == "array":
        return np.array(raw[item], copy=True)
    if kind == "python":
        return raw[item]
    if kind == "object":
        return item
    if kind is dict:
        return {k: rebuild(v, raw) for k, v in item.items()}
    return kind(rebuild(x, raw) for x in item)


def used_optimizers(recording) -> list:
    written = {id(recording.arrays[v]) for e in recording.entries for v in e.writes}
    return [owner for owner in capture.tracked() if hasattr(owner, "_capture_key")
            and any(id(p._data) in written for p in getattr(owner, "params", ()))]


def undo_list(recording, outputs: set) -> list:
    """The outside arrays a replay changes before its last guard: put back if that guard fails."""
    guards = [i for i, e in enumerate(recording.entries) if e.kind == "guard" and i not in outputs]
    return recording.outside_written(guards[-1]) if guards else []


def snapshot(tape) -> dict:
    r = tape.recording
    arrays = {id(a): (a, a.copy()) for a in r.outside_written()}
    slots = {(id(t), name): (t, name, getattr(t, name)) for t, name, _ in r.bindings.values()}
    copies = {key: (t, name, None if a is None else np.array(a, copy=True)) for key, (t, name, a) in slots.items()}
    states = {(id(c), k): (c, k, c[k]) for c, k, _ in r.states}
    draws = [(resolve, resolve().bit_generator.state) for resolve in tape.draws]
    return {"arrays": arrays, "slots": slots, "copies": copies, "states": states, "draws": draws,
            "legacy": np.random.get_state()}


def restore(snapshot: dict) -> None:
    for array, copy in snapshot["arrays"].values():
        np.copyto(array, copy)
    for key, (t, name, a) in snapshot["slots"].items():
        if getattr(t, name) is not a:  # rebound by the run: back to (a copy of) what it held
            setattr(t, name, snapshot["copies"][key][2])
    for c, k, a in snapshot["states"].values():
        c[k] = a
    for resolve, state in snapshot["draws"]:
        resolve().bit_generator.state = state
    np.random.set_state(snapshot["legacy"])


def outputs_differ(template, raw: list, result) -> str:
    """What the eager step returned where the replay returned ``raw`` differently ("" if nothing)."""
    kind, item = template
    if kind in ("tensor", "array", "python"):
        value = result.numpy() if isinstance(result, Tensor) else result
        try:
            same = np.allclose(np.asarray(raw[item], dtype=float), np.asarray(value, dtype=float), rtol=1e-5,
                               atol=1e-8, equal_nan=True)
        except (TypeError, ValueError):
            same = raw[item] == value
        return "" if same else "the returned value"
    if kind == "object":
        same = item is result or (isinstance(item, (int, float, str, bool)) and item == result)
        return "" if same or item is None else "the returned value (not computed by NumPy: a Value graph?)"
    pairs = zip(item.values(), result.values()) if kind is dict else zip(item, result)
    return next((d for t, r in pairs if (d := outputs_differ(t, raw, r))), "")


def differs(replayed: dict, eager: dict) -> str:
    pairs = [(f"array {i}", replayed["arrays"][k][1], eager["arrays"][k][0])
             for i, k in enumerate(replayed["arrays"])]
    pairs += [(f"{name} of a Tensor", replayed["copies"][k][2], eager["copies"][k][2])
              for k, (t, name, _) in replayed["copies"].items() if k in eager["copies"]]
    for what, a, b in pairs:
        if (a is None) != (b is None):
            return what
        if a is not None and not np.allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=True):
            return what
    return ""
