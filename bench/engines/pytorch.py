"""PyTorch CPU eager mode, float32, with as many intra-op threads as NumPy's BLAS (set by the suite)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import lecture


def set_threads(n: int) -> int:
    torch.set_num_threads(n)
    return torch.get_num_threads()


def _training_step(params: dict, forward, x: np.ndarray, y: np.ndarray, lr: float):
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def step() -> float:
        loss = F.cross_entropy(forward(inputs, **tensors), labels)
        loss.backward()
        with torch.no_grad():
            for p in tensors.values():
                p -= lr * p.grad
                p.grad = None
        return loss.item()

    return step


def mlp_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    def forward(x, W1, b1, W2, b2):
        return F.linear(F.relu(F.linear(x, W1, b1)), W2, b2)

    return _training_step(params, forward, x, y, lr)


def cnn_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    def forward(x, K1, c1, K2, c2, W, b):
        h = F.max_pool2d(F.relu(F.conv2d(x, K1, c1, padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, K2, c2, padding=1)), 2)
        return F.linear(h.flatten(1), W, b)

    return _training_step(params, forward, x, y, lr)


def makemore_step(params: dict, X: np.ndarray, Y: np.ndarray, batches: np.ndarray, lr: float):
    """makemore part 2's step as the lecture writes it (bench.engines.lecture), on torch."""
    return lecture.makemore_step(torch, F, params, X, Y, batches, lr)
