"""Optimizers with torch.optim's update equations, and two learning-rate schedulers.

Parameters may be Tensors and Values in any mix; a Tensor's array and its state buffers are updated in
place, and ``.grad`` is never modified.
"""

from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .base import Optimizer
from .schedulers import ExponentialLR, LRScheduler, StepLR
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "LRScheduler", "StepLR", "ExponentialLR"]
