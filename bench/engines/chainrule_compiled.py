"""chainrule with ``autograd.compile``: the chainrule engine's MLP, CNN and makemore steps, captured.

The forwards are the chainrule engine's own (bench.engines.chainrule) and makemore's step the lectures'
(bench.engines.lecture), with the data each step trains on passed as an argument, as a captured step
wants it; the first calls run eagerly and record, the timed ones replay.
"""

from __future__ import annotations

import numpy as np

import autograd
from autograd import Tensor
from nn import functional as F
from nn.optim import SGD

from . import lecture
from .chainrule import cnn_forward, mlp_forward


def _captured(params: dict, forward, x: np.ndarray, y: np.ndarray, lr: float):
    tensors = {k: Tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    optimizer = SGD(tensors.values(), lr=lr)

    @autograd.compile
    def step(inputs, targets) -> float:
        loss = F.cross_entropy(forward(inputs, **tensors), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()

    inputs, targets = Tensor(x), Tensor(y)
    return lambda: step(inputs, targets)


def mlp_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    """The chainrule engine's MLP step, captured."""
    return _captured(params, mlp_forward, x, y, lr)


def cnn_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    """The chainrule engine's CNN step, captured."""
    return _captured(params, cnn_forward, x, y, lr)


def makemore_step(params: dict, X: np.ndarray, Y: np.ndarray, batches: np.ndarray, lr: float):
    """makemore part 2's step as the lecture writes it, the minibatch passed in, captured."""
    return lecture.makemore_step(autograd, F, params, X, Y, batches, lr, capture=autograd.compile)
