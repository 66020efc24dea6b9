"""Hand-written NumPy forward and backward: the limit an engine on NumPy can approach.

The same arrays in the same layout as the chainrule adapters (NCHW, im2col from a window view), with
no graph: every gradient is written out. It also gives the float64 reference for the scalar MLP.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross entropy of logits z (N, K) and its gradient dL/dz = (softmax - onehot) / N."""
    n = len(y)
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = -(shifted[rows, y] - np.log(s[:, 0])).mean()
    dz = e / s
    dz[rows, y] -= 1
    dz /= n
    return float(loss), dz


def _sgd(params: dict, grads: dict, lr: float) -> None:
    for k, g in grads.items():
        params[k] -= lr * g


def mlp_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    p = {k: v.copy() for k, v in params.items()}

    def step() -> float:
        h = x @ p["W1"].T + p["b1"]
        a = np.maximum(h, 0)
        z = a @ p["W2"].T + p["b2"]
        loss, dz = _cross_entropy(z, y)
        da = dz @ p["W2"]
        dh = da * (h > 0)
        _sgd(p, {"W2": dz.T @ a, "b2": dz.sum(0), "W1": dh.T @ x, "b1": dh.sum(0)}, lr)
        return loss

    return step


def _im2col(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N*H*W, C*9): every 3x3 window of the zero-padded input, one row per pixel."""
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2, w + 2), x.dtype)
    padded[:, :, 1:-1, 1:-1] = x
    windows = sliding_window_view(padded, (3, 3), axis=(2, 3))  # (N, C, H, W, 3, 3)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * 9)


def _col2im(cols: np.ndarray, shape: tuple) -> np.ndarray:
    """The adjoint of _im2col: add every window's gradient back where the window came from."""
    n, c, h, w = shape
    windows = cols.reshape(n, h, w, c, 3, 3).transpose(0, 3, 1, 2, 4, 5)
    padded = np.zeros((n, c, h + 2, w + 2), cols.dtype)
    for i in range(3):
        for j in range(3):
            padded[:, :, i:i + h, j:j + w] += windows[..., i, j]
    return padded[:, :, 1:-1, 1:-1]


def _conv_forward(x, K, c):
    n, _, h, w = x.shape
    cols = _im2col(x)
    y = cols @ K.reshape(len(K), -1).T + c
    return y.reshape(n, h, w, len(K)).transpose(0, 3, 1, 2), cols


def _conv_backward(dy, cols, K, x_shape, need_input: bool):
    """Gradients of the kernel, the bias and (if needed) the input of _conv_forward."""
    dy = dy.transpose(0, 2, 3, 1).reshape(-1, len(K))
    dK = (dy.T @ cols).reshape(K.shape)
    dx = _col2im(dy @ K.reshape(len(K), -1), x_shape) if need_input else None
    return dK, dy.sum(0), dx


def _pool_forward(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _pool_backward(dp, x, p):
    """Route each pooled gradient to the window's maximum (after a ReLU, ties only happen at 0,
    where the ReLU's gradient is 0 anyway)."""
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2)
    winners = windows == p[:, :, :, None, :, None]
    return (winners * dp[:, :, :, None, :, None]).reshape(x.shape)


def cnn_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    p = {k: v.copy() for k, v in params.items()}

    def step() -> float:
        c1, cols1 = _conv_forward(x, p["K1"], p["c1"])
        r1 = np.maximum(c1, 0)
        p1 = _pool_forward(r1)
        c2, cols2 = _conv_forward(p1, p["K2"], p["c2"])
        r2 = np.maximum(c2, 0)
        p2 = _pool_forward(r2)
        f = p2.reshape(len(x), -1)
        z = f @ p["W"].T + p["b"]
        loss, dz = _cross_entropy(z, y)
        dp2 = (dz @ p["W"]).reshape(p2.shape)
        dc2 = _pool_backward(dp2, r2, p2) * (c2 > 0)
        dK2, dc2b, dp1 = _conv_backward(dc2, cols2, p["K2"], p1.shape, need_input=True)
        dc1 = _pool_backward(dp1, r1, p1) * (c1 > 0)
        dK1, dc1b, _ = _conv_backward(dc1, cols1, p["K1"], x.shape, need_input=False)
        grads = {"W": dz.T @ f, "b": dz.sum(0), "K2": dK2, "c2": dc2b, "K1": dK1, "c1": dc1b}
        _sgd(p, grads, lr)
        return loss

    return step


def scalar_reference(weights: list, points: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """The scalar MLP's loss and the gradient of every parameter (in scalar_net.leaves order), float64."""
    acts, pre = [points], []
    for i, (W, b) in enumerate(weights):
        pre.append(acts[-1] @ W.T + b)
        acts.append(np.tanh(pre[-1]) if i < len(weights) - 1 else pre[-1])
    error = acts[-1][:, 0] - targets
    loss = float(np.sum(error * error))
    d = (2 * error)[:, None]
    grads = []
    for i in reversed(range(len(weights))):
        if i < len(weights) - 1:
            d = d * (1 - acts[i + 1] ** 2)
        grads.append(np.concatenate([(d.T @ acts[i]).ravel(), d.sum(0)]))
        d = d @ weights[i][0]
    return loss, np.concatenate(grads[::-1])
