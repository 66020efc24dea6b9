"""Optimizers with torch.optim's update equations, and two learning-rate schedulers.

Parameters may be Tensors and Values in any mix. A Tensor's ``.data`` is updated in place; its state
buffers are arrays of its shape and dtype. All Value parameters of an optimizer are updated together
as one packed float64 vector (a Value's ``.grad`` is always a number, so they always step together)
and written back as floats; ``state_dict()`` reports their state per parameter, as floats.

Conventions shared with torch: ``maximize`` negates the gradient first, ``weight_decay`` then adds
``weight_decay * param`` (AdamW instead shrinks the parameter by ``1 - lr * weight_decay``), a
Tensor whose ``.grad`` is None is skipped, and ``.grad`` arrays are never modified.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np

from autograd import Tensor, Value, enable_grad
from autograd.ops import buffers

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "LRScheduler", "StepLR", "ExponentialLR"]


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


def _grad_array(grad) -> np.ndarray:
    """A Tensor parameter's gradient as an ndarray (it is a Tensor after backward(create_graph=True))."""
    return grad._data if isinstance(grad, Tensor) else np.asarray(grad)


class Optimizer:
    """Holds the parameters, their per-parameter state, and the hyper-parameters as attributes.

    Subclasses list their hyper-parameter names in ``hyperparameters``, check them in
    ``_validate`` and implement ``_update(data, grad, state)``: change ``data`` in place from
    ``grad`` (read only) and the ``state`` dict of buffers, which starts empty.
    """

    hyperparameters: tuple[str, ...] = ("lr",)
    buffers: tuple[str, ...] = ()  # names allowed in a parameter's state ("step" is an int)
    required_buffers: tuple[str, ...] = ()  # names a non-empty state must have

    def __init__(self, params: Iterable, **hyper):
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

    def _validate(self, hyper: dict) -> dict:
        """The hyper-parameters checked and normalised; raises ValueError/TypeError naming the bad one."""
        return {"lr": _at_least(type(self).__name__, "lr", hyper["lr"])}

    def _update(self, data: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

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
        # _update works on the ndarrays behind the parameters, so nothing here records a graph
        params, states, update = self.params, self._tensor_state, self._update
        for i in self._tensors:
            grad = params[i]._grad
            if grad is not None:
                update(params[i]._data, grad if type(grad) is np.ndarray else _grad_array(grad), states[i])
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
        """Hyper-parameters and per-parameter state (arrays for Tensors, floats for Values), all copies."""
        state: dict[int, dict] = {}
        for i in self._tensors:
            if self._tensor_state[i]:
                state[i] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                            for k, v in self._tensor_state[i].items()}
        if self._value_state:
            for k, i in enumerate(self._values):
                state[i] = {name: (float(v[k]) if isinstance(v, np.ndarray) else v)
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


def _effective_grad(data: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool):
    """``-grad`` under maximize, plus ``weight_decay * data``; a new array whenever it differs from grad."""
    if weight_decay:
        g = np.multiply(data, weight_decay)
        if maximize:
            g -= grad
        else:
            g += grad
        return g
    if maximize:
        return np.negative(grad)
    return grad


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, dampening and weight decay.

    As torch.optim.SGD: ``b = g`` on the first step, then ``b = momentum * b + (1 - dampening) * g``;
    nesterov uses ``g + momentum * b``, otherwise ``b``; then ``param -= lr * that``.
    """

    hyperparameters = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")

    def __init__(self, params: Iterable, lr: float = 0.1, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, maximize: bool = False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov, maximize=maximize)

    def _validate(self, hyper: dict) -> dict:
        out = super()._validate(hyper)
        out["momentum"] = _at_least("SGD", "momentum", hyper["momentum"])
        out["dampening"] = _in_range("SGD", "dampening", hyper["dampening"], 0.0, 1.0)
        out["weight_decay"] = _at_least("SGD", "weight_decay", hyper["weight_decay"])
        out["nesterov"] = _flag("SGD", "nesterov", hyper["nesterov"])
        out["maximize"] = _flag("SGD", "maximize", hyper["maximize"])
        if out["nesterov"] and (out["momentum"] <= 0 or out["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={out['momentum']!r}, dampening={out['dampening']!r}")
        return out

    buffers = ("momentum_buffer",)

    def _update(self, data, grad, state):
        g = _effective_grad(data, grad, self.weight_decay, self.maximize)
        owned = g is not grad  # a scratch array we may overwrite
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=data.dtype)
            else:
                buf *= self.momentum
                if self.dampening:
                    buf += (1 - self.dampening) * g
                else:
                    buf += g
            if self.nesterov:
                if owned:
                    g += self.momentum * buf
                else:
                    g = self.momentum * buf
                    g += grad
                    owned = True
            else:
                g, owned = buf, False
        if owned:
            g *= self.lr
            data -= g
        elif g.nbytes >= buffers.MIN_BYTES:  # lr * g into a reused buffer: no fresh big temporary per step
            data -= np.multiply(g, self.lr, out=buffers.empty(g.shape, g.dtype, g))
        else:
            data -= g * self.lr


class Adagrad(Optimizer):
    """Adagrad as torch.optim.Adagrad: ``sum += g**2``, ``param -= clr * g / (sqrt(sum) + eps)``,
    with ``clr = lr / (1 + (step - 1) * lr_decay)``."""

    hyperparameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize")

    def __init__(self, params: Iterable, lr: float = 0.01, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, maximize: bool = False):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)

    def _validate(self, hyper: dict) -> dict:
        out = super()._validate(hyper)
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            out[key] = _at_least("Adagrad", key, hyper[key])
        out["maximize"] = _flag("Adagrad", "maximize", hyper["maximize"])
        return out

    buffers = ("step", "sum")
    required_buffers = ("step", "sum")

    def _update(self, data, grad, state):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(data, self.initial_accumulator_value)
        state["step"] += 1
        g = _effective_grad(data, grad, self.weight_decay, self.maximize)
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        total = state["sum"]
        scratch = np.multiply(g, g)
        total += scratch
        np.sqrt(total, out=scratch)
        scratch += self.eps
        np.divide(g, scratch, out=scratch)
        scratch *= clr
        data -= scratch


class RMSprop(Optimizer):
    """RMSprop as torch.optim.RMSprop: ``v = alpha * v + (1 - alpha) * g**2``; centered subtracts the
    squared running mean of g; ``param -= lr * g / (sqrt(v) + eps)``, or through a momentum buffer."""

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize")

    def __init__(self, params: Iterable, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, maximize: bool = False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered, maximize=maximize)

    def _validate(self, hyper: dict) -> dict:
        out = super()._validate(hyper)
        out["alpha"] = _in_range("RMSprop", "alpha", hyper["alpha"], 0.0, 1.0)
        for key in ("eps", "weight_decay", "momentum"):
            out[key] = _at_least("RMSprop", key, hyper[key])
        out["centered"] = _flag("RMSprop", "centered", hyper["centered"])
        out["maximize"] = _flag("RMSprop", "maximize", hyper["maximize"])
        return out

    buffers = ("step", "square_avg", "momentum_buffer", "grad_avg")
    required_buffers = ("step", "square_avg")

    def _update(self, data, grad, state):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(data)
        if self.momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(data)
        if self.centered and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(data)
        state["step"] += 1
        g = _effective_grad(data, grad, self.weight_decay, self.maximize)
        square_avg = state["square_avg"]
        scratch = np.multiply(g, g)
        scratch *= 1 - self.alpha
        square_avg *= self.alpha
        square_avg += scratch
        if self.centered:
            grad_avg = state["grad_avg"]
            np.subtract(g, grad_avg, out=scratch)  # lerp towards g, as torch
            scratch *= 1 - self.alpha
            grad_avg += scratch
            np.multiply(grad_avg, grad_avg, out=scratch)
            np.subtract(square_avg, scratch, out=scratch)
            np.sqrt(scratch, out=scratch)
        else:
            np.sqrt(square_avg, out=scratch)
        scratch += self.eps
        np.divide(g, scratch, out=scratch)
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += scratch
            np.multiply(buf, self.lr, out=scratch)
        else:
            scratch *= self.lr
        data -= scratch


class Adam(Optimizer):
    """Adam as torch.optim.Adam: bias-corrected moments, optional AMSGrad (max of the second moment),
    L2 weight decay added to the gradient, or decoupled (AdamW) when ``decoupled_weight_decay``."""

    hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay")

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)

    def _validate(self, hyper: dict) -> dict:
        name = type(self).__name__
        out = super()._validate(hyper)
        betas = hyper["betas"]
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable) or len(tuple(betas)) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        out["betas"] = tuple(_in_range(name, f"beta{k + 1}", b, 0.0, 1.0, high_open=True)
                             for k, b in enumerate(tuple(betas)))
        out["eps"] = _at_least(name, "eps", hyper["eps"])
        out["weight_decay"] = _at_least(name, "weight_decay", hyper["weight_decay"])
        for key in ("amsgrad", "maximize", "decoupled_weight_decay"):
            out[key] = _flag(name, key, hyper[key])
        return out

    buffers = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    required_buffers = ("step", "exp_avg", "exp_avg_sq")

    def _update(self, data, grad, state):
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(data)
            state["exp_avg_sq"] = np.zeros_like(data)
        if self.amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(data)
        state["step"] += 1
        step = state["step"]
        if self.weight_decay and self.decoupled_weight_decay:
            data *= 1 - self.lr * self.weight_decay
            g = np.negative(grad) if self.maximize else grad
        else:
            g = _effective_grad(data, grad, self.weight_decay, self.maximize)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        scratch = np.subtract(g, exp_avg)  # exp_avg.lerp_(g, 1 - beta1), as torch
        scratch *= 1 - beta1
        exp_avg += scratch
        np.multiply(g, g, out=scratch)
        scratch *= 1 - beta2
        exp_avg_sq *= beta2
        exp_avg_sq += scratch
        step_size = self.lr / (1 - beta1 ** step)
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
        second = exp_avg_sq
        if self.amsgrad:
            second = np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
        np.sqrt(second, out=scratch)
        scratch /= bias_correction2_sqrt
        scratch += self.eps
        np.divide(exp_avg, scratch, out=scratch)
        scratch *= step_size
        data -= scratch


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): ``param *= 1 - lr * weight_decay`` first."""

    hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
    decoupled_weight_decay = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        Optimizer.__init__(self, params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                           amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def _validate(self, hyper: dict) -> dict:
        out = super()._validate({**hyper, "decoupled_weight_decay": True})
        del out["decoupled_weight_decay"]
        return out


# --- learning-rate schedulers -----------------------------------------------------------------

class LRScheduler:
    """Base scheduler: ``step()`` once per epoch sets ``optimizer.lr`` from ``_next_lr()``.

    As torch's chainable schedulers, each step rescales the optimizer's current lr, so a manual change
    of ``optimizer.lr`` carries forward.
    """

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0
        self._last_lr = [float(optimizer.lr)]

    def _next_lr(self) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and update the optimizer's lr."""
        self.last_epoch += 1
        self.optimizer.lr = self._next_lr()
        self._last_lr = [float(self.optimizer.lr)]

    def get_last_lr(self) -> list[float]:
        """The lr set by the last step, as a one-element list (torch returns one per parameter group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {k: copy.deepcopy(v) for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        expected = set(self.state_dict())
        if set(state_dict) != expected:
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected keys {sorted(expected)}, "
                             f"got {sorted(state_dict)}")
        for key, value in state_dict.items():
            setattr(self, key, copy.deepcopy(value))


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        if isinstance(step_size, bool) or not isinstance(step_size, numbers.Integral) or step_size < 1:
            raise ValueError(f"StepLR: invalid step_size {step_size!r}, must be an int >= 1")
        self.step_size = int(step_size)
        self.gamma = _at_least("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        lr = self.optimizer.lr
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        self.gamma = _at_least("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        return self.optimizer.lr * self.gamma
