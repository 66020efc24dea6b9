"""Learning-rate schedulers that rescale an optimizer's lr once per epoch, as torch's StepLR and ExponentialLR."""

from __future__ import annotations

import copy
import numbers

from .base import Optimizer, _at_least

__all__ = ["LRScheduler", "StepLR", "ExponentialLR"]


class LRScheduler:
    """``step()`` once per epoch sets ``optimizer.lr`` from ``_next_lr()``; as torch's chainable schedulers it
    rescales the current lr, so a manual change of ``optimizer.lr`` carries forward."""

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
