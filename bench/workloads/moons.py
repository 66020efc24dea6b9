"""micrograd's demo loop: a 2-16-16-1 ReLU MLP of Values on two moons, mean hinge loss plus 1e-4 times
the squared weights, SGD with a falling rate; one timed unit is one iteration, garbage collector on.

Both engines run the same lines (bench.engines.lecture) from the same weights (uniform in [-1, 1],
biases 0, as micrograd's Neuron) and are checked against a float64 NumPy version of the loop.
"""

from __future__ import annotations

import gc

import numpy as np

from ..engines import numpy_hand
from ..harness import Result, Target, build, record_times, relative_error, run_checked, time_interleaved

ENGINES = ("chainrule", "micrograd")
MALLOC_SENSITIVE = False
SIZES = (2, 16, 16, 1)
CHECKED = 3  # iterations checked against NumPy before timing
RTOL = 1e-9  # float64 on every side
SPEEDUP = 15.0  # the target for micrograd's demo net: chainrule this many times faster


def make_moons(points: int, rng, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, labels -1 (upper, centred at 0) and 1 (lower, centred at (1, 0.5)),
    with Gaussian noise: the data set of micrograd's demo (scikit-learn's make_moons, written here)."""
    upper = points // 2
    angles = np.concatenate([np.linspace(0, np.pi, upper), np.linspace(0, np.pi, points - upper)])
    lower = np.arange(points) >= upper
    x = np.where(lower, 1 - np.cos(angles), np.cos(angles))
    y = np.where(lower, 0.5 - np.sin(angles), np.sin(angles))
    X = np.stack([x, y], axis=1) + rng.normal(0, noise, (points, 2))
    return X, np.where(lower, 1.0, -1.0)


def moons_data(points: int, seed: int = 0) -> tuple[list, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = [(rng.uniform(-1, 1, (nout, nin)), np.zeros(nout)) for nin, nout in zip(SIZES, SIZES[1:])]
    return (weights, *make_moons(points, rng))


def run(ctx):
    weights, X, y = moons_data(ctx.settings.moons_points)
    expected = numpy_hand.moons_reference(weights, X, y, CHECKED)
    case = f"{'-'.join(map(str, SIZES))} relu, {len(X)} points"
    results, steps = [], {}
    for name in ctx.engines_for(ENGINES):
        result = Result("moons", case, name)
        results.append(result)
        step = build(ctx, result, "moons_step", weights, X, y)
        if step is None:
            continue

        def check(got):
            worst = max(max(relative_error(a[0], b[0]), abs(a[1] - b[1])) for a, b in zip(got, expected))
            if not worst <= RTOL:
                return f"losses {[round(a[0], 6) for a in got]} differ from NumPy's " \
                       f"{[round(b[0], 6) for b in expected]} (relative {worst:.2g})"
            return None

        if run_checked(result, lambda step=step: [step() for _ in range(CHECKED)], check):
            steps[name] = step
    assert gc.isenabled(), "the demo loop is timed with the garbage collector on, as a student runs it"
    ctx.progress(f"moons: timing {', '.join(steps) or 'nothing'}")
    record_times(results, time_interleaved(steps, ctx.settings, collect=True), ("micrograd",))
    return results, [_target(results)]


def _target(results: list) -> Target:
    name = f"micrograd demo loop: chainrule >= {SPEEDUP:g}x micrograd (gc on)"
    r = next((r for r in results if r.engine == "chainrule"), None)
    if r is None or "micrograd" not in r.ratios:
        return Target(name, "-", None, r.note if r is not None and r.note else "chainrule against micrograd not timed")
    speedup = 1 / r.ratios["micrograd"]
    r.metrics["speedup vs micrograd"] = speedup
    return Target(name, f"{speedup:.1f}x", speedup >= SPEEDUP)
