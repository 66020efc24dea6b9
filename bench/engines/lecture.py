"""The lecture loops written once, over the library they run on, so every engine runs the same lines.

``makemore_step`` is makemore part 2's training step over a torch-like library (torch, or chainrule's
``autograd`` with ``nn.functional``); ``moons_step`` is one pass of micrograd's demo loop over a
micrograd-like Value class. Each builder takes NumPy arrays (the same seeded weights and data for
every engine) and returns a callable running one step that returns the loss as a Python float.
"""

from __future__ import annotations

import numpy as np

from .scalar_net import _neuron, leaves, make_params


def makemore_step(lib, F, params: dict, X: np.ndarray, Y: np.ndarray, batches: np.ndarray, lr: float,
                  capture=None):
    """Embedding C[Xb] of a three-letter context, tanh hidden layer, cross entropy, and the lecture's
    update ``p.data += -lr * p.grad``; step i trains on minibatch ``batches[i % len(batches)]``.
    ``capture`` (``autograd.compile``) wraps the step, which then takes the minibatch as its argument."""
    C, W1, b1, W2, b2 = (lib.tensor(params[k].copy()) for k in ("C", "W1", "b1", "W2", "b2"))
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    Xtr, Ytr = lib.tensor(X), lib.tensor(Y)
    minibatches = [lib.tensor(ix) for ix in batches]
    width = X.shape[1] * params["C"].shape[1]
    count = [0]

    def train(ix) -> float:
        emb = C[Xtr[ix]]
        h = lib.tanh(emb.view(-1, width) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -lr * p.grad
        return loss.item()

    train = capture(train) if capture else train

    def step() -> float:
        ix = minibatches[count[0] % len(minibatches)]
        count[0] += 1
        return train(ix)

    return step


def moons_step(value, weights: list, X: np.ndarray, y: np.ndarray, alpha: float = 1e-4):
    """One iteration of micrograd's demo: a ReLU MLP (linear output) scores every point, the loss is the
    mean hinge max(0, 1 - y * score) plus alpha times the sum of squared parameters, then the gradients
    are zeroed, back-propagated and applied with a learning rate falling from 1.0 by 0.009 a step.
    Returns the loss and the accuracy of the scores before the update; ``.leaves`` holds the parameters."""
    params = make_params(value, weights)
    flat = leaves(params)
    points = [[float(v) for v in row] for row in X]
    labels = [float(v) for v in y]
    count = [0]

    def forward(x):
        for i, (W, b) in enumerate(params):
            x = [_neuron(row, bias, x) for row, bias in zip(W, b)]
            if i < len(params) - 1:
                x = [v.relu() for v in x]
        return x[0]

    def step() -> tuple[float, float]:
        scores = [forward([value(v) for v in point]) for point in points]
        margins = [(1 + -label * score).relu() for label, score in zip(labels, scores)]
        data_loss = sum(margins) * (1.0 / len(margins))
        reg_loss = alpha * sum(p * p for p in flat)
        total = data_loss + reg_loss
        accuracy = sum((label > 0) == (score.data > 0) for label, score in zip(labels, scores)) / len(labels)
        for p in flat:
            p.grad = 0.0
        total.backward()
        lr = 1.0 - 0.9 * count[0] / 100
        count[0] += 1
        for p in flat:
            p.data -= lr * p.grad
        return total.data, accuracy

    step.leaves = flat
    return step
