"""chainrule: the scalar workloads on Value, the MLP and CNN on Tensor ops with a plain SGD update.

The layers are written from Tensor ops here (x @ W.T + b, relu, log_softmax, unfold + matmul) until
nn's layers land; an op the engine lacks raises MissingOp and is reported, not worked around.
"""

from __future__ import annotations

import numpy as np

from autograd import Tensor, Value, no_grad
from autograd.graph import topological_order

from . import require, scalar_net

TENSOR_OPS = ("__matmul__", "T", "__add__", "__neg__", "relu", "log_softmax", "__getitem__", "mean")


def count_nodes(root) -> int:
    return len(topological_order([root]))


def scalar_pass(weights: list, points: np.ndarray, targets: np.ndarray):
    """Forward and backward of the tanh MLP over all points; returns the loss Value."""
    params = scalar_net.make_params(Value, weights)

    def run():
        loss = scalar_net.mlp_loss(Value, Value.tanh, params, points, targets)
        loss.backward()
        return loss

    run.leaves = scalar_net.leaves(params)
    return run


def chain_pass(depth: int, x0: float):
    def run():
        x = Value(x0)
        y = scalar_net.chain(x, depth)
        y.backward()
        return x, y
    return run


def _sgd(params: list, lr: float) -> None:
    with no_grad():
        for p in params:
            p.data -= lr * p.grad
            p.grad = None


def _cross_entropy(logits: Tensor, labels: np.ndarray) -> Tensor:
    logp = logits.log_softmax(axis=1)
    return -logp[np.arange(len(labels)), labels].mean()


def _linear(x: Tensor, W: Tensor, b: Tensor) -> Tensor:
    return x @ W.T + b


def _training_step(params: dict, forward, x: np.ndarray, y: np.ndarray, lr: float):
    tensors = {k: Tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    inputs = Tensor(x)

    def step() -> float:
        loss = _cross_entropy(forward(inputs, **tensors), y)
        loss.backward()
        _sgd(tensors.values(), lr)
        return loss.item()

    return step


def mlp_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    """784-256-10 MLP with ReLU, cross entropy, SGD."""
    require(Tensor, *TENSOR_OPS)

    def forward(x, W1, b1, W2, b2):
        return _linear(_linear(x, W1, b1).relu(), W2, b2)

    return _training_step(params, forward, x, y, lr)


def _conv3x3(x: Tensor, K: Tensor, c: Tensor) -> Tensor:
    """3x3 convolution, padding 1, as im2col: one window view, one copy, one matmul."""
    n, channels, h, w = x.shape
    out = K.shape[0]
    cols = x.unfold(3, padding=1).permute(0, 2, 3, 1, 4, 5).reshape(n * h * w, channels * 9)
    y = cols @ K.reshape(out, channels * 9).T + c
    return y.reshape(n, h, w, out).permute(0, 3, 1, 2)


def _maxpool2(x: Tensor) -> Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def cnn_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    """conv(1->8) relu pool, conv(8->16) relu pool, linear(784->10), cross entropy, SGD."""
    require(Tensor, *TENSOR_OPS, "unfold", "permute", "reshape", "max")

    def forward(x, K1, c1, K2, c2, W, b):
        h = _maxpool2(_conv3x3(x, K1, c1).relu())
        h = _maxpool2(_conv3x3(h, K2, c2).relu())
        return _linear(h.reshape(h.shape[0], -1), W, b)

    return _training_step(params, forward, x, y, lr)
