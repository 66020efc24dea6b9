"""chainrule: the scalar workloads on Value; the MLP and CNN as a user writes them, with
nn.functional (linear, relu, conv2d, max_pool2d, cross_entropy) and nn.optim.SGD, as the PyTorch
adapter uses torch.nn.functional; the lecture loops (makemore's step, micrograd's demo) as the
lectures write them (bench.engines.lecture). A function the engine lacks raises MissingOp and is reported.
"""

from __future__ import annotations

import numpy as np

import autograd
from autograd import Tensor, Value
from autograd.graph import topological_order
from nn import functional as F
from nn.optim import SGD

from . import lecture, require, scalar_net

NN_FUNCTIONS = ("linear", "relu", "cross_entropy")


def count_nodes(root) -> int:
    return len(topological_order([root]))


def scalar_pass(weights: list, points: np.ndarray, targets: np.ndarray):
    """Forward and backward of the tanh MLP over all points; returns the loss Value."""
    return scalar_net.scalar_pass(Value, Value.tanh, weights, points, targets)


def chain_pass(depth: int, x0: float):
    return scalar_net.chain_pass(Value, depth, x0)


def _training_step(params: dict, forward, x: np.ndarray, y: np.ndarray, lr: float):
    """One step as a user writes it: forward, nn.functional.cross_entropy, backward, nn.optim.SGD."""
    tensors = {k: Tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    optimizer = SGD(tensors.values(), lr=lr)
    inputs = Tensor(x)

    def step() -> float:
        loss = F.cross_entropy(forward(inputs, **tensors), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()

    return step


def mlp_forward(x, W1, b1, W2, b2):
    """784-256-10 MLP with ReLU."""
    return F.linear(F.relu(F.linear(x, W1, b1)), W2, b2)


def cnn_forward(x, K1, c1, K2, c2, W, b):
    """conv(1->8) relu pool, conv(8->16) relu pool, linear(784->10)."""
    h = F.max_pool2d(F.relu(F.conv2d(x, K1, c1, padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, K2, c2, padding=1)), 2)
    return F.linear(h.flatten(1), W, b)


def mlp_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    """The MLP with cross entropy and SGD."""
    require(F, *NN_FUNCTIONS)
    return _training_step(params, mlp_forward, x, y, lr)


def cnn_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    """The CNN with cross entropy and SGD."""
    require(F, *NN_FUNCTIONS, "conv2d", "max_pool2d")
    return _training_step(params, cnn_forward, x, y, lr)


def makemore_step(params: dict, X: np.ndarray, Y: np.ndarray, batches: np.ndarray, lr: float):
    """makemore part 2's step as the lecture writes it (bench.engines.lecture), on autograd and nn.functional."""
    require(F, "cross_entropy")
    return lecture.makemore_step(autograd, F, params, X, Y, batches, lr)


def moons_step(weights: list, X: np.ndarray, y: np.ndarray):
    """One iteration of micrograd's demo loop (bench.engines.lecture) on chainrule's Value."""
    return lecture.moons_step(Value, weights, X, y)
