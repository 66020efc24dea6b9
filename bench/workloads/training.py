"""Shared by the MLP and CNN workloads: seeded data and weights, and one checked, timed comparison."""

from __future__ import annotations

import numpy as np

from ..engines import numpy_hand
from ..harness import (Context, Result, Target, build, record_times, relative_error, run_checked,
                       time_interleaved)

LR = 0.05
LOSS_RTOL = 1e-4  # float32: the engines sum in different orders


def uniform_init(rng, shape: tuple, fan_in: int) -> np.ndarray:
    """PyTorch's default Linear/Conv2d init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as float32."""
    bound = 1 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def batch(rng, shape: tuple, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Inputs in [0, 1) (like scaled pixels) and integer labels."""
    return rng.random(shape, dtype=np.float32), rng.integers(0, classes, shape[0])


def mlp_data(batch_size: int, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = {"W1": uniform_init(rng, (256, 784), 784), "b1": uniform_init(rng, (256,), 784),
              "W2": uniform_init(rng, (10, 256), 256), "b2": uniform_init(rng, (10,), 256)}
    return (params, *batch(rng, (batch_size, 784)))


def compare_steps(ctx: Context, workload: str, case: str, builder: str, engines: list, baselines: tuple,
                  data: tuple, flops: float, lr: float = LR) -> list:
    """Build every engine's training step from ``data`` (params, inputs, labels, ...) and ``lr``, check
    two steps' losses against the hand-written NumPy reference, then time the ones that agree
    together; GFLOP/s from ``flops`` per step."""
    reference = getattr(numpy_hand, builder)(*data, lr)
    expected = (reference(), reference())

    def check(losses):
        worst = max(relative_error(a, b) for a, b in zip(losses, expected))
        if not worst <= LOSS_RTOL:  # also catches nan
            return (f"losses {losses[0]:.6g}, {losses[1]:.6g} differ from NumPy's "
                    f"{expected[0]:.6g}, {expected[1]:.6g} (relative {worst:.2g} > {LOSS_RTOL:g})")
        return None

    results, steps = [], {}
    for name in engines:
        result = Result(workload, case, name)
        results.append(result)
        step = build(ctx, result, builder, *data, lr)
        if step is not None and run_checked(result, lambda step=step: (step(), step()), check):
            steps[name] = step
    ctx.progress(f"{workload} {case}: timing {', '.join(steps) or 'nothing'}")
    faults: dict = {}
    record_times(results, time_interleaved(steps, ctx.settings, faults=faults), baselines)
    for r in results:
        if r.seconds:
            r.metrics["GFLOP/s"] = flops / r.seconds / 1e9
            r.metrics["page faults/step"] = round(faults[r.engine])
    return results


def ratio_target(results: list, name: str, engine: str, baseline: str, limit: float) -> Target:
    """Target ``time(engine) <= limit * time(baseline)``, judged on the pairwise ratio of one case."""
    r = next((r for r in results if r.engine == engine), None)
    if r is None or baseline not in r.ratios:
        why = r.note if r is not None and r.note else f"{engine} against {baseline} was not timed"
        return Target(name, "-", None, why)
    return Target(name, f"{r.ratios[baseline]:.2f}x", r.ratios[baseline] <= limit)
