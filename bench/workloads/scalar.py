"""Scalar engine: a 2-16-16-1 tanh MLP of Values over 2-D points, forward + backward, garbage collector on."""

from __future__ import annotations

import gc

import numpy as np

from ..engines import numpy_hand
from ..harness import Result, Target, build, record_times, run_checked, time_interleaved

ENGINES = ("chainrule", "micrograd")
MALLOC_SENSITIVE = False
SIZES = (2, 16, 16, 1)
RTOL = 1e-9  # float64 on both sides
SPEEDUP = 15.0  # target (issue 18): chainrule's nodes/s over micrograd's


def scalar_data(points: int, seed: int = 0) -> tuple[list, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = [(rng.normal(0, 1 / np.sqrt(nin), (nout, nin)), rng.normal(0, 0.1, nout))
               for nin, nout in zip(SIZES, SIZES[1:])]
    x = rng.normal(size=(points, 2))
    return weights, x, np.where(x[:, 0] * x[:, 1] > 0, 1.0, -1.0)


def run(ctx):
    weights, x, y = scalar_data(ctx.settings.scalar_points)
    loss, grads = numpy_hand.scalar_reference(weights, x, y)
    case = f"{'-'.join(map(str, SIZES))} tanh, {len(x)} points"
    results, passes, nodes = [], {}, {}
    for name in ctx.engines_for(ENGINES):
        result = Result("scalar", case, name)
        results.append(result)
        run_pass = build(ctx, result, "scalar_pass", weights, x, y)
        if run_pass is None:
            continue

        def check(root, name=name, run_pass=run_pass):
            nodes[name] = ctx.engine(name).count_nodes(root)
            got = np.array([v.grad for v in run_pass.leaves])
            error = max(abs(root.data - loss) / abs(loss), np.max(np.abs(got - grads)) / np.max(np.abs(grads)))
            return None if error <= RTOL else f"loss or gradients differ from NumPy's (relative {error:.2g})"

        if run_checked(result, run_pass, check):
            passes[name] = run_pass
    assert gc.isenabled(), "the scalar target is defined with the garbage collector on"
    ctx.progress(f"scalar: timing {', '.join(passes) or 'nothing'}")
    record_times(results, time_interleaved(passes, ctx.settings, collect=True), ("micrograd",))
    for r in results:
        if r.seconds:
            r.metrics = {"nodes": nodes[r.engine], "nodes/s": nodes[r.engine] / r.seconds}
    return results, [_target(results, nodes)]


def _target(results: list, nodes: dict) -> Target:
    """nodes/s ratio from the pairwise time ratio: (n_c / t_c) / (n_m / t_m) = (n_c / n_m) / (t_c / t_m)."""
    name = f"scalar: chainrule nodes/s >= {SPEEDUP:g}x micrograd (gc on)"
    r = next((r for r in results if r.engine == "chainrule"), None)
    if r is None or "micrograd" not in r.ratios:
        return Target(name, "-", None, r.note if r is not None and r.note else "chainrule against micrograd not timed")
    speedup = nodes["chainrule"] / nodes["micrograd"] / r.ratios["micrograd"]
    r.metrics["nodes/s vs micrograd"] = speedup
    return Target(name, f"{speedup:.1f}x", speedup >= SPEEDUP)
