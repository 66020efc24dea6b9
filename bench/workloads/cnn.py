"""CNN on 1x28x28: conv(1->8) relu pool, conv(8->16) relu pool, linear(784->10), cross entropy, SGD."""

from __future__ import annotations

import numpy as np

from ..machine import matmul_gflops
from .training import batch, compare_steps, ratio_target, uniform_init

ENGINES = ("chainrule", "compiled", "numpy", "torch")
LIMIT = 0.8  # the target: time(chainrule) / time(torch)
MALLOC_SENSITIVE = True


def cnn_data(n: int, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = {"K1": uniform_init(rng, (8, 1, 3, 3), 9), "c1": uniform_init(rng, (8,), 9),
              "K2": uniform_init(rng, (16, 8, 3, 3), 72), "c2": uniform_init(rng, (16,), 72),
              "W": uniform_init(rng, (10, 784), 784), "b": uniform_init(rng, (10,), 784)}
    return (params, *batch(rng, (n, 1, 28, 28)))


def step_flops(n: int) -> float:
    """Matmul FLOPs of a step: each layer's forward and weight gradient, the input gradient of all
    but the first convolution (its input is data)."""
    conv1 = 2 * n * 28 * 28 * 8 * 9
    conv2 = 2 * n * 14 * 14 * 16 * 72
    linear = 2 * n * 784 * 10
    return 2 * conv1 + 3 * conv2 + 3 * linear


def run(ctx):
    n = ctx.settings.cnn_batch
    params, x, y = cnn_data(n)
    results = compare_steps(ctx, "cnn", f"batch {n}", "cnn_step", ctx.engines_for(ENGINES), ("numpy", "torch"),
                            (params, x, y), step_flops(n))
    size = ctx.settings.matmul_size
    ctx.notes["matmul_gflops"] = round(matmul_gflops(size), 1)
    ctx.notes["matmul_size"] = size
    for r in results:
        if r.seconds:
            r.note = r.note or f"float32 matmul peak {ctx.notes['matmul_gflops']:.0f} GFLOP/s"
    targets = [ratio_target(results, f"CNN step: chainrule <= {LIMIT}x torch", "chainrule", "torch", LIMIT)]
    return results, targets
