"""Hand-written NumPy forward and backward: the limit an engine on NumPy can approach.

The same work as the engines (float32, one im2col copy and one product per convolution), with no
graph: every gradient is written out, in place where an array is fresh. The CNN keeps activations
channel-major, (C, N, H, W), as idiomatic NumPy im2col does; chainrule's conv2d lays its images out
batch-innermost, (C, H, W, N), which makes its copies and pooling faster than this version's.
It also gives makemore part 2's step and the float64 references for the scalar MLP and micrograd's demo loop.
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
        g *= lr  # every gradient here is a fresh array: scale it in place
        params[k] -= g


def mlp_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    p = {k: v.copy() for k, v in params.items()}

    def step() -> float:
        h = x @ p["W1"].T
        h += p["b1"]
        a = np.maximum(h, 0)
        z = a @ p["W2"].T
        z += p["b2"]
        loss, dz = _cross_entropy(z, y)
        dh = dz @ p["W2"]
        dh *= h > 0
        _sgd(p, {"W2": dz.T @ a, "b2": dz.sum(0), "W1": dh.T @ x, "b1": dh.sum(0)}, lr)
        return loss

    return step


# The CNN keeps activations channel-major, (C, N, H, W): the im2col columns are (C*9, N*H*W), so each
# layer is one product W (out, C*9) @ columns with the pixels along its long axis, the bias a row
# broadcast, and the next layer's windows read along memory.

def _im2col(x: np.ndarray) -> np.ndarray:
    """(C, N, H, W) -> (C*9, N*H*W): every 3x3 window of the zero-padded input, one column per pixel."""
    c, n, h, w = x.shape
    padded = np.zeros((c, n, h + 2, w + 2), x.dtype)
    padded[:, :, 1:-1, 1:-1] = x
    windows = sliding_window_view(padded, (3, 3), axis=(2, 3))  # (C, N, H, W, 3, 3)
    return windows.transpose(0, 4, 5, 1, 2, 3).reshape(c * 9, n * h * w)


def _col2im(cols: np.ndarray, shape: tuple) -> np.ndarray:
    """The adjoint of _im2col: add every window's gradient back where the window came from."""
    c, n, h, w = shape
    windows = cols.reshape(c, 3, 3, n, h, w)
    padded = np.zeros((c, n, h + 2, w + 2), cols.dtype)
    for i in range(3):
        for j in range(3):
            padded[:, :, i:i + h, j:j + w] += windows[:, i, j]
    return padded[:, :, 1:-1, 1:-1]


def _conv_forward(x, K, c):
    """x (C, N, H, W) -> (out, N, H, W) and the columns the gradients need."""
    _, n, h, w = x.shape
    cols = _im2col(x)
    y = K.reshape(len(K), -1) @ cols
    y += c[:, None]
    return y.reshape(len(K), n, h, w), cols


def _conv_backward(dy, cols, K, x_shape, need_input: bool):
    """Gradients of the kernel, the bias and (if needed) the input of _conv_forward."""
    dy = dy.reshape(len(K), -1)
    dK = (cols @ dy.T).T.reshape(K.shape)  # as the engine: OpenBLAS is faster this way round than dy @ cols.T
    dx = _col2im(K.reshape(len(K), -1).T @ dy, x_shape) if need_input else None
    return dK, dy.sum(1), dx


def _tiles(x):
    """The four views of (C, N, H, W) that hold each 2x2 window's corners."""
    c, n, h, w = x.shape
    t = x.reshape(c, n, h // 2, 2, w // 2, 2)
    return [t[:, :, :, i, :, j] for i in range(2) for j in range(2)]


def _pool_forward(x):
    a, b, c, d = _tiles(x)
    return np.maximum(np.maximum(a, b), np.maximum(c, d))


def _pool_backward(dp, x, p):
    """Route each pooled gradient to its window's maximum. After a ReLU, ties only happen at 0, where
    the ReLU's gradient is 0 anyway, so every tied corner may get it (no split needed)."""
    dx = np.empty_like(x)
    for d, t in zip(_tiles(dx), _tiles(x)):
        np.multiply(t == p, dp, out=d)
    return dx


def cnn_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float):
    p = {k: v.copy() for k, v in params.items()}
    images = x.transpose(1, 0, 2, 3)  # (1, N, 28, 28): channel-major (a view, as there is one channel)

    def step() -> float:
        c1, cols1 = _conv_forward(images, p["K1"], p["c1"])
        r1 = np.maximum(c1, 0)
        p1 = _pool_forward(r1)
        c2, cols2 = _conv_forward(p1, p["K2"], p["c2"])
        r2 = np.maximum(c2, 0)
        p2 = _pool_forward(r2)
        f = p2.transpose(1, 0, 2, 3).reshape(len(x), -1)  # flatten in torch's (C, H, W) order
        z = f @ p["W"].T
        z += p["b"]
        loss, dz = _cross_entropy(z, y)
        dp2 = (dz @ p["W"]).reshape(p2.shape[1], p2.shape[0], *p2.shape[2:]).transpose(1, 0, 2, 3)
        dc2 = _pool_backward(dp2, r2, p2)
        dc2 *= c2 > 0
        dK2, dc2b, dp1 = _conv_backward(dc2, cols2, p["K2"], p1.shape, need_input=True)
        dc1 = _pool_backward(dp1, r1, p1)
        dc1 *= c1 > 0
        dK1, dc1b, _ = _conv_backward(dc1, cols1, p["K1"], images.shape, need_input=False)
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


def makemore_step(params: dict, X: np.ndarray, Y: np.ndarray, batches: np.ndarray, lr: float):
    """makemore part 2's step (embedding, tanh layer, cross entropy, SGD), every gradient written out."""
    p = {k: v.copy() for k, v in params.items()}
    count = [0]

    def step() -> float:
        ix = batches[count[0] % len(batches)]
        count[0] += 1
        context = X[ix]
        n = len(ix)
        emb = p["C"].take(context, axis=0).reshape(n, -1)
        h = emb @ p["W1"]
        h += p["b1"]
        np.tanh(h, out=h)
        logits = h @ p["W2"]
        logits += p["b2"]
        loss, dlogits = _cross_entropy(logits, Y[ix])
        dpre = dlogits @ p["W2"].T
        square = h * h
        np.subtract(1, square, out=square)
        dpre *= square  # tanh's derivative, 1 - h**2
        demb = (dpre @ p["W1"].T).reshape(context.size, -1)
        dim = demb.shape[1]
        keys = (context.reshape(-1, 1) * dim + np.arange(dim)).ravel()
        dC = np.bincount(keys, weights=demb.ravel(), minlength=p["C"].size).reshape(p["C"].shape)
        grads = {"C": dC.astype(np.float32), "W1": emb.T @ dpre, "b1": dpre.sum(0),
                 "W2": h.T @ dlogits, "b2": dlogits.sum(0)}
        _sgd(p, grads, lr)
        return loss

    return step


def moons_reference(weights: list, X: np.ndarray, y: np.ndarray, steps: int, alpha: float = 1e-4) -> list:
    """Losses and accuracies of the first ``steps`` iterations of micrograd's demo loop, float64, by hand."""
    Ws, bs = [W.copy() for W, _ in weights], [b.copy() for _, b in weights]
    out = []
    for k in range(steps):
        acts, pre = [X], []
        for i, (W, b) in enumerate(zip(Ws, bs)):
            pre.append(acts[-1] @ W.T + b)
            acts.append(np.maximum(pre[-1], 0) if i < len(Ws) - 1 else pre[-1])
        scores = acts[-1][:, 0]
        margins = 1 - y * scores
        loss = np.maximum(margins, 0).mean() + alpha * sum((W * W).sum() + (b * b).sum() for W, b in zip(Ws, bs))
        out.append((float(loss), float(np.mean((y > 0) == (scores > 0)))))
        d = ((margins > 0) * -y / len(y))[:, None]
        lr = 1.0 - 0.9 * k / 100
        for i in reversed(range(len(Ws))):
            if i < len(Ws) - 1:
                d = d * (pre[i] > 0)
            dW, db = d.T @ acts[i] + 2 * alpha * Ws[i], d.sum(0) + 2 * alpha * bs[i]
            d = d @ Ws[i]
            Ws[i] -= lr * dW
            bs[i] -= lr * db
    return out
