"""The Optimizer base class: parameters, per-parameter state, state_dict, the argument checks, and the
hooks ``autograd.compile`` needs to record a step and replay it (``_capture_arrays``, ``_capture_key``)."""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Iterable

import numpy as np

from autograd import Tensor, Value, capture, enable_grad
from autograd.quiet import hush, unhush

__all__ = ["Optimizer"]


def _real(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {type(value).__name__}: {value!r}")
    return float(value)


def _at_least(owner: str, name: str, value, low: float = 0.0) -> float:
    value = _real(owner, name, value)
    if not value >= low:  # also rejects nan
        raise ValueError(f"{owner}: invalid {name} {value!r}, must be >= {low:g}")
    return value


def _in_range(owner: str, name: str, value, low: float, high: float, high_open: bool = False) -> float:
    value = _real(owner, name, value)
    ok = low <= value < high if high_open else low <= value <= high
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{owner}: invalid {name} {value!r}, must be in [{low:g}, {high:g}{bracket}")
    return value


def _flag(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def _hashable(value):
    """``value`` as a hashable snapshot: lists become tuples, arrays their dtype, shape and bytes."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    return value


def _step_array(step) -> np.ndarray:
    """A step count as the 0-d float64 array a capturable optimizer increments in place (exact to 2**53)."""
    return np.array(step, dtype=np.float64)


def _tick(state: dict) -> np.ndarray:
    """Capturable mode: ``state["step"] += 1`` in place with a ufunc, so a replay repeats it; the array."""
    return np.add(state["step"], 1.0, out=state["step"])


class Optimizer:
    """Parameters (Tensors and Values in any mix), their state, and the hyper-parameters as attributes.

    A subclass writes ``_update(p, grad, state)``: torch's update of the array ``p`` in place, from ``grad``
    (read only) and a dict of buffers that starts empty. Value parameters step as one float64 vector.

    ``capturable`` (torch's name): per-step counters are 0-d float64 arrays changed by ufuncs and everything
    derived from them is array math, so a recorded step (``autograd.compile``) replays them correctly.
    """

    hyperparameters: tuple[str, ...] = ("lr",)
    buffers: tuple[str, ...] = ()  # names allowed in a parameter's state ("step": an int; capturable, a 0-d array)
    required_buffers: tuple[str, ...] = ()  # names a non-empty state must have

    def __init__(self, params: Iterable, capturable: bool = False, **hyper):
        if isinstance(params, (Tensor, Value)):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or Values, "
                            f"got a single {type(params).__name__}; wrap it in a list")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        seen = set()
        for i, p in enumerate(params):
            if not isinstance(p, (Tensor, Value)):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, "
                                "expected a Tensor or a Value")
            if isinstance(p, Tensor) and p._data.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: parameter {i} has dtype {p._data.dtype}; "
                                "only floating-point tensors can be optimized")
            if id(p) in seen:
                raise ValueError(f"{type(self).__name__}: parameter {i} appears more than once in the list")
            seen.add(id(p))
        self.params = params
        for name, value in self._validate(hyper).items():
            setattr(self, name, value)
        self._tensors = [i for i, p in enumerate(params) if isinstance(p, Tensor)]
        self._values = [i for i, p in enumerate(params) if isinstance(p, Value)]
        self._tensor_state: dict[int, dict] = {i: {} for i in self._tensors}
        self._value_state: dict = {}  # one packed float64 vector per buffer, over self._values
        self.capturable = False
        self._capture_version = 0  # bumped when the state is replaced wholesale: a recording must not replay
        if _flag(type(self).__name__, "capturable", capturable):
            self._make_capturable()
        capture.track(self)

    def _validate(self, hyper: dict) -> dict:
        """The hyper-parameters checked and normalised; raises ValueError/TypeError naming the bad one."""
        return {"lr": _at_least(type(self).__name__, "lr", hyper["lr"])}

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def _gradient(self, p: np.ndarray, grad: np.ndarray, weight_decay: float) -> np.ndarray:
        """torch's first two lines: ``g = -grad`` under maximize, then ``g = g + weight_decay * p``."""
        g = -grad if self.maximize else grad
        return g + weight_decay * p if weight_decay else g

    # --- capture (autograd.compile) ------------------------------------------------------------
    def _states(self) -> list[dict]:
        """Every per-parameter state dict: the Tensors' in parameter order, then the Values' packed one."""
        return [*self._tensor_state.values(), self._value_state]

    def _make_capturable(self) -> None:
        """From now on keep step counts in 0-d float64 arrays (existing int steps are converted)."""
        self.capturable = True
        self._capture_version += 1
        for state in self._states():
            if "step" in state and not isinstance(state["step"], np.ndarray):
                state["step"] = _step_array(state["step"])

    def _capture_arrays(self) -> list[tuple[dict, object]]:
        """Every (container, key) holding a per-parameter state array, which a step updates in place."""
        return [(state, key) for state in self._states() for key, value in state.items()
                if isinstance(value, np.ndarray)]

    def _capture_key(self) -> tuple:
        """What a step reads as Python values: the hyper-parameters, the mode, the buffers each parameter has
        and any Python scalar in them (an eager int step). A recorded step replays only while this is equal."""
        hyper = tuple((name, _hashable(getattr(self, name))) for name in self.hyperparameters)
        layout = tuple(tuple((key, None if isinstance(value, np.ndarray) else _hashable(value))
                             for key, value in state.items()) for state in self._states())
        return (type(self).__name__, self.capturable, self._capture_version, hyper, layout)

    def _zero_step(self):
        """A new state's step count: the int 0, or a 0-d float64 array when capturable."""
        return _step_array(0) if self.capturable else 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: a Tensor's ``.grad`` becomes None (zeros if not set_to_none), a Value's 0.0."""
        for p in self.params:
            if isinstance(p, Value):
                p.grad = 0.0
            elif set_to_none or p._grad is None:
                p._grad = None
            else:
                p._grad = np.zeros_like(p._data)

    def step(self, closure: Callable | None = None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # _update works on the ndarrays behind the parameters, so nothing here records a graph; it is
        # silent as torch's (an inf gradient makes inf - inf without a NumPy warning)
        params, states, update = self.params, self._tensor_state, self._update
        token = hush()
        try:
            for i in self._tensors:
                grad = params[i]._grad
                if grad is not None:
                    if type(grad) is not np.ndarray:  # a Tensor after backward(create_graph=True)
                        grad = grad._data if isinstance(grad, Tensor) else np.asarray(grad)
                    update(params[i]._data, grad, states[i])
        finally:
            unhush(token)
        if self._values:
            values = [self.params[i] for i in self._values]
            n = len(values)
            data = np.fromiter((v.data for v in values), np.float64, n)
            grad = np.fromiter((float(v.grad) for v in values), np.float64, n)
            update(data, grad, self._value_state)
            for v, x in zip(values, data.tolist()):
                v.data = x
        return loss

    # --- state ------------------------------------------------------------------------------
    def _hyper_dict(self) -> dict:
        return {name: copy.deepcopy(getattr(self, name)) for name in self.hyperparameters}

    def state_dict(self) -> dict:
        """Hyper-parameters and per-parameter state (arrays for Tensors, floats for Values, ``step`` an int
        also when capturable), all copies."""
        state: dict[int, dict] = {}
        for i in self._tensors:
            if self._tensor_state[i]:
                state[i] = {k: (int(v) if k == "step" else v.copy() if isinstance(v, np.ndarray) else v)
                            for k, v in self._tensor_state[i].items()}
        if self._value_state:
            for k, i in enumerate(self._values):
                state[i] = {name: (int(v) if name == "step" else float(v[k]) if isinstance(v, np.ndarray) else v)
                            for name, v in self._value_state.items()}
        return {"optimizer": type(self).__name__, "hyperparameters": self._hyper_dict(), "state": state}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state; everything is checked first, nothing changes on error."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"optimizer", "hyperparameters", "state"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'optimizer', "
                             "'hyperparameters' and 'state'")
        if state_dict["optimizer"] != name:
            raise ValueError(f"{name}.load_state_dict: the state dict is from {state_dict['optimizer']!r}")
        hyper = dict(state_dict["hyperparameters"])
        if set(hyper) != set(self.hyperparameters):
            missing = sorted(set(self.hyperparameters) - set(hyper))
            unexpected = sorted(set(hyper) - set(self.hyperparameters))
            raise ValueError(f"{name}.load_state_dict: hyper-parameters missing {missing}, unexpected {unexpected}")
        hyper = self._validate(hyper)
        state = state_dict["state"]
        if not isinstance(state, dict):
            raise ValueError(f"{name}.load_state_dict: 'state' must be a dict of parameter index -> buffers")
        tensor_state = {i: {} for i in self._tensors}
        for i, entry in state.items():
            if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < len(self.params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {i!r}, but the optimizer has "
                                 f"{len(self.params)} parameters")
            if not isinstance(entry, dict):
                raise ValueError(f"{name}.load_state_dict: state of parameter {i} must be a dict")
            if i in tensor_state:
                tensor_state[i] = self._checked_buffers(i, entry, self.params[i]._data)
            else:
                self._checked_buffers(i, entry, None)
        value_state = self._packed_value_state(state)
        for key, value in hyper.items():
            setattr(self, key, value)
        self._tensor_state = tensor_state
        self._value_state = value_state
        self._capture_version += 1
        if self.capturable:
            self._make_capturable()  # the loaded int steps become arrays

    def _checked_buffers(self, i: int, entry: dict, like: np.ndarray | None) -> dict:
        """A copy of parameter ``i``'s buffers, checked against the parameter (``like`` None: a Value)."""
        name = type(self).__name__
        missing = [key for key in self.required_buffers if key not in entry]
        if entry and missing:
            raise ValueError(f"{name}.load_state_dict: parameter {i}: state is missing {missing}")
        out = {}
        for key, value in entry.items():
            if key not in self.buffers:
                raise ValueError(f"{name}.load_state_dict: parameter {i}: unexpected buffer {key!r} "
                                 f"(expected some of {list(self.buffers)})")
            if key == "step":
                if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                    raise ValueError(f"{name}.load_state_dict: parameter {i}: step must be an int >= 0, "
                                     f"got {value!r}")
                out[key] = int(value)
                continue
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise ValueError(f"{name}.load_state_dict: parameter {i}: buffer {key!r} is not numeric")
            if like is None:
                if array.ndim != 0:
                    raise ValueError(f"{name}.load_state_dict: parameter {i} is a Value, so buffer {key!r} "
                                     f"must be a number, got shape {array.shape}")
                out[key] = float(array)
            else:
                if array.shape != like.shape:
                    raise ValueError(f"{name}.load_state_dict: parameter {i}: buffer {key!r} has shape "
                                     f"{array.shape}, the parameter has shape {like.shape}")
                out[key] = np.array(array, dtype=like.dtype)
        return out

    def _packed_value_state(self, state: dict) -> dict:
        """The Value parameters' per-parameter state packed into vectors (they must agree in step and keys)."""
        if not self._values:
            return {}
        entries = [state.get(i, {}) for i in self._values]
        keys = set(entries[0])
        if any(set(e) != keys for e in entries):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the Value parameters must all have the "
                             "same state buffers")
        if not keys:
            return {}
        packed = {}
        for key in keys:
            if key == "step":
                steps = {int(e["step"]) for e in entries}
                if len(steps) != 1:
                    raise ValueError(f"{type(self).__name__}.load_state_dict: the Value parameters must all "
                                     f"have the same step, got {sorted(steps)}")
                packed["step"] = steps.pop()
            else:
                packed[key] = np.array([float(e[key]) for e in entries], dtype=np.float64)
        return packed

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.hyperparameters)
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


