"""MLP 784-256-10, ReLU, cross entropy, SGD, float32: one training step at several batch sizes."""

from __future__ import annotations

from .training import compare_steps, mlp_data, ratio_target

ENGINES = ("chainrule", "compiled", "numpy", "torch")
MALLOC_SENSITIVE = True
# time(chainrule) / time(baseline) limits from the issue, per batch size
LIMITS = {8: {"numpy": 1.15, "torch": 0.8}, 128: {"numpy": 1.05, "torch": 0.8}, 1024: {"numpy": 1.05}}
CAPTURED_LIMIT = 1.03  # time(compiled) / time(numpy): a captured step at hand-written NumPy's speed


def step_flops(n: int) -> float:
    """Matmul FLOPs of a step: forward, both weight gradients, the hidden layer's input gradient."""
    forward = 2 * n * (784 * 256 + 256 * 10)
    return forward + 2 * n * (784 * 256 + 256 * 10) + 2 * n * 256 * 10


def run(ctx):
    results, targets = [], []
    for n in ctx.settings.mlp_batches:
        params, x, y = mlp_data(n)
        case = compare_steps(ctx, "mlp", f"batch {n}", "mlp_step", ctx.engines_for(ENGINES), ("numpy", "torch"),
                             (params, x, y), step_flops(n))
        results += case
        for baseline, limit in LIMITS.get(n, {}).items():
            targets.append(ratio_target(case, f"MLP step, batch {n}: chainrule <= {limit}x {baseline}",
                                        "chainrule", baseline, limit))
        targets.append(ratio_target(case, f"MLP step, batch {n}: compiled <= {CAPTURED_LIMIT}x numpy",
                                    "compiled", "numpy", CAPTURED_LIMIT))
    return results, targets
