"""Optimizers with per-element step sizes, as torch.optim's Adagrad, RMSprop, Adam and AdamW.

Each counts steps in ``state["step"]``: an int, or when capturable a 0-d float64 array incremented by a ufunc,
with the step-dependent factors computed by ufuncs that give bit-for-bit the eager Python values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .base import Optimizer, _at_least, _flag, _in_range, _tick

__all__ = ["Adagrad", "RMSprop", "Adam", "AdamW"]


class Adagrad(Optimizer):
    """Adagrad: a step of ``lr / sqrt(sum of g**2)``, the lr decayed as ``lr / (1 + (t - 1) * lr_decay)``."""

    hyperparameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize")
    buffers = ("step", "sum")
    required_buffers = ("step", "sum")

    def __init__(self, params: Iterable, lr: float = 0.01, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, maximize: bool = False,
                 capturable: bool = False):
        super().__init__(params, capturable=capturable, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)

    def _validate(self, hyper: dict) -> dict:
        out = super()._validate(hyper)
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            out[key] = _at_least("Adagrad", key, hyper[key])
        out["maximize"] = _flag("Adagrad", "maximize", hyper["maximize"])
        return out

    def _update(self, p, grad, state):
        if not state:
            state["step"], state["sum"] = self._zero_step(), np.full_like(p, self.initial_accumulator_value)
        if self.capturable:
            t = _tick(state)
        else:
            state["step"] += 1
            t = state["step"]
        state_sum = state["sum"]
        g = self._gradient(p, grad, self.weight_decay)
        state_sum += g * g
        if self.capturable:
            # clr = lr / (1 + (t - 1) * lr_decay) from the step array; dtype= casts it as a Python float is
            clr = np.divide(self.lr, np.add(1.0, np.multiply(np.subtract(t, 1.0), self.lr_decay)))
            p -= np.multiply(g / (np.sqrt(state_sum) + self.eps), clr, dtype=p.dtype)
            return
        clr = self.lr / (1 + (t - 1) * self.lr_decay)
        p -= g / (np.sqrt(state_sum) + self.eps) * clr


class RMSprop(Optimizer):
    """RMSprop: a step of ``lr / sqrt(v)``, v a running mean of g**2 (its variance when centered),
    optionally through a momentum buffer."""

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize")
    buffers = ("step", "square_avg", "momentum_buffer", "grad_avg")
    required_buffers = ("step", "square_avg")

    def __init__(self, params: Iterable, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, maximize: bool = False,
                 capturable: bool = False):
        super().__init__(params, capturable=capturable, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered, maximize=maximize)

    def _validate(self, hyper: dict) -> dict:
        out = super()._validate(hyper)
        out["alpha"] = _in_range("RMSprop", "alpha", hyper["alpha"], 0.0, 1.0)
        for key in ("eps", "weight_decay", "momentum"):
            out[key] = _at_least("RMSprop", key, hyper[key])
        out["centered"] = _flag("RMSprop", "centered", hyper["centered"])
        out["maximize"] = _flag("RMSprop", "maximize", hyper["maximize"])
        return out

    def _update(self, p, grad, state):
        alpha, mu = self.alpha, self.momentum
        if not state:
            state["step"], state["square_avg"] = self._zero_step(), np.zeros_like(p)
        if mu > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(p)
        if self.centered and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(p)
        if self.capturable:
            _tick(state)  # only counted: nothing below depends on the step
        else:
            state["step"] += 1
        v = state["square_avg"]
        g = self._gradient(p, grad, self.weight_decay)
        v *= alpha
        v += g * g * (1 - alpha)  # v = alpha * v + (1 - alpha) * g**2
        if self.centered:
            g_avg = state["grad_avg"]
            g_avg += (g - g_avg) * (1 - alpha)  # g_avg = alpha * g_avg + (1 - alpha) * g, as torch's lerp
            v_tilde = v - g_avg * g_avg
        else:
            v_tilde = v
        delta = g / (np.sqrt(v_tilde) + self.eps)
        if mu > 0:
            b = state["momentum_buffer"]
            b *= mu
            b += delta  # b = mu * b + g / (sqrt(v_tilde) + eps)
            delta = b
        p -= delta * self.lr


class Adam(Optimizer):
    """Adam: bias-corrected running means of g and g**2, optionally AMSGrad's running max of the latter;
    weight decay is L2 (added to g), or decoupled as AdamW's with ``decoupled_weight_decay``."""

    hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay")
    buffers = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    required_buffers = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, maximize: bool = False,
                 decoupled_weight_decay: bool = False, capturable: bool = False):
        super().__init__(params, capturable=capturable, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)

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

    def _update(self, p, grad, state):
        (beta1, beta2), lr, weight_decay = self.betas, self.lr, self.weight_decay
        if not state:
            state["step"], state["exp_avg"], state["exp_avg_sq"] = self._zero_step(), np.zeros_like(p), np.zeros_like(p)
        if self.amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        if self.capturable:
            t = _tick(state)
        else:
            state["step"] += 1
            t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if self.decoupled_weight_decay:
            p *= 1 - lr * weight_decay
            weight_decay = 0
        g = self._gradient(p, grad, weight_decay)
        m += (g - m) * (1 - beta1)  # m = beta1 * m + (1 - beta1) * g, as torch's lerp
        v *= beta2
        v += g * g * (1 - beta2)  # v = beta2 * v + (1 - beta2) * g**2
        if self.amsgrad:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])  # v_max = max(v_max, v)
        if self.capturable:
            # the bias corrections from the step array: float_power is libm's pow, as Python's ** (np.power
            # may use a SIMD pow a last bit apart); the dtype= casts match a Python float's cast to p's dtype
            root2 = np.sqrt(np.subtract(1.0, np.float_power(beta2, t)))
            denom = np.divide(np.sqrt(v), root2, dtype=p.dtype) + self.eps
            p -= np.multiply(m / denom, np.divide(lr, np.subtract(1.0, np.float_power(beta1, t))), dtype=p.dtype)
            return
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + self.eps  # sqrt(v_hat) + eps
        p -= m / denom * (lr / (1 - beta1 ** t))  # p -= lr * m_hat / (sqrt(v_hat) + eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): ``p *= 1 - lr * weight_decay`` first."""

    hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
    decoupled_weight_decay = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False,
                 capturable: bool = False):
        Optimizer.__init__(self, params, capturable=capturable, lr=lr, betas=betas, eps=eps,
                           weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def _validate(self, hyper: dict) -> dict:
        out = super()._validate({**hyper, "decoupled_weight_decay": True})
        del out["decoupled_weight_decay"]
        return out
