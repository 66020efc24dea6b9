"""SGD with momentum, dampening, Nesterov momentum and weight decay, as torch.optim.SGD."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .base import Optimizer, _at_least, _flag, _in_range

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``, g through a (Nesterov) momentum buffer if asked.

    It counts no steps, so ``capturable`` changes nothing in the update (accepted for a uniform API)."""

    hyperparameters = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    buffers = ("momentum_buffer",)

    def __init__(self, params: Iterable, lr: float = 0.1, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, maximize: bool = False, capturable: bool = False):
        super().__init__(params, capturable=capturable, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)

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

    def _update(self, p, grad, state):
        mu, tau = self.momentum, self.dampening
        g = self._gradient(p, grad, self.weight_decay)
        if mu:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = np.array(g, dtype=p.dtype)  # b = g
            else:
                b *= mu
                b += (1 - tau) * g if tau else g  # b = mu * b + (1 - tau) * g
            g = g + mu * b if self.nesterov else b
        p -= self.lr * g
