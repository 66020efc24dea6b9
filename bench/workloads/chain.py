"""A deep chain, x -> x * 1.0001 + 0.001 repeated, forward + backward: iterative graph walks or bust."""

from __future__ import annotations

import gc
import sys
import time
from dataclasses import replace

from ..engines import scalar_net
from ..harness import Result, Target, build, record_times, relative_error, time_interleaved

ENGINES = ("chainrule", "micrograd")
MALLOC_SENSITIVE = False
PROBE_DEPTH = 5000  # tried first: an engine that recurses fails here in milliseconds
X0 = 0.5


def _check(x, y, depth: int) -> str | None:
    value, slope = scalar_net.chain_expected(X0, depth)
    error = max(relative_error(y.data, value), relative_error(x.grad, slope))
    return None if error <= 1e-6 else f"output or gradient off the closed form by {error:.2g} (relative)"


def _first_failing_depth(chain_pass, high: int) -> int:
    """The smallest depth at which ``chain_pass(depth, X0)()`` raises RecursionError (it does at ``high``)."""
    low = 1
    while low < high:
        mid = (low + high) // 2
        try:
            chain_pass(mid, X0)()
            low = mid + 1
        except RecursionError:
            high = mid
    return high


def run(ctx):
    depth = ctx.settings.chain_depth
    results, passes, first = [], {}, {}
    for name in ctx.engines_for(ENGINES):
        result = Result("chain", f"depth {depth:,}", name)
        results.append(result)
        probe = build(ctx, result, "chain_pass", min(depth, PROBE_DEPTH), X0)
        if probe is None:
            continue
        try:
            probe()
        except RecursionError:
            at = _first_failing_depth(ctx.engine(name).chain_pass, min(depth, PROBE_DEPTH))
            result.status = "fails"
            result.note = f"RecursionError at depth {at:,} (recursion limit {sys.getrecursionlimit()})"
            continue
        full = ctx.engine(name).chain_pass(depth, X0)
        ctx.progress(f"chain: {name} at depth {depth:,}")
        start = time.perf_counter()
        try:
            problem = _check(*full(), depth)
        except Exception as error:
            problem = f"{type(error).__name__}: {error}"
        gc.collect()
        first[name] = time.perf_counter() - start
        if problem:
            result.status, result.note = "error", problem
        else:
            passes[name] = full
    # the checked pass is the first timed sample; the rest are interleaved rounds, one pass each
    more = time_interleaved(passes, replace(ctx.settings, sample_time=0), ctx.settings.chain_repeats - 1, 0,
                            collect=True)
    record_times(results, {name: [first[name]] + more[name] for name in passes}, ("micrograd",))
    for r in results:
        if r.seconds:
            r.metrics["us/link"] = r.seconds / depth * 1e6
    return results, [_target(results, depth)]


def _target(results: list, depth: int) -> Target:
    name = "chain: 10^6 deep works"
    r = next((r for r in results if r.engine == "chainrule"), None)
    if r is None or r.status == "missing":
        return Target(name, "-", None, r.note if r else "chainrule not run")
    if r.status != "ok":
        return Target(name, f"depth {depth:,}: {r.status}", False, r.note)
    if depth < 10 ** 6:
        return Target(name, f"depth {depth:,}: ok", None, "run at a smaller depth")
    return Target(name, f"depth {depth:,}: ok", True)
