"""chainrule with ``autograd.compile``: the chainrule engine's MLP, CNN and makemore steps, captured.

The steps are the chainrule engine's own (bench.engines.chainrule and .lecture), with the data each step
trains on passed as an argument, as a captured step wants it; the first calls run eagerly and record,
the timed ones replay.
"""

from __future__ import annotations

import numpy as np

import autograd
from autograd import Tensor
from nn import functional as F
from nn.optim import SGD




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
    """784-256-10 MLP with ReLU, cross entropy, SGD, captured."""
    return _captured(params, lambda x, W1, b1, W2, b2: F.linear(F.relu(F.linear(x, W1, b1)), W2, b2), x, y, lr)


def cnn_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    """The chainrule engine's CNN step, captured."""
    def forward(x, K1, c1, K2, c2, W, b):
        h = F.max_pool2d(F.relu(F.conv2d(x, K1, c1, padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, K2, c2, padding=1)), 2)
        return F.linear(h.flatten(1), W, b)
    return _captured(params, forward, x, y, lr)


def makemore_step(params: dict, X: np.ndarray, Y: np.ndarray, batches: np.ndarray, lr: float):
    """makemore part 2's step as the lecture writes it, the minibatch's rows passed in, captured."""
    C, W1, b1, W2, b2 = (autograd.tensor(params[k].copy()) for k in ("C", "W1", "b1", "W2", "b2"))
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    Xtr, Ytr = autograd.tensor(X), autograd.tensor(Y)
    minibatches = [autograd.tensor(ix) for ix in batches]
    width = X.shape[1] * params["C"].shape[1]
    count = [0]

    @autograd.compile
    def step(ix) -> float:
        emb = C[Xtr[ix]]
        h = autograd.tanh(emb.view(-1, width) @ W1 + b1)
        loss = F.cross_entropy(h @ W2 + b2, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -lr * p.grad
        return loss.item()

    def run() -> float:
        ix = minibatches[count[0] % len(minibatches)]
        count[0] += 1
        return step(ix)
    return run



