"""Training steps as a notebook runs them: each engine alone in a fresh process, the rounds alternating engines.

The other workloads time a case's engines interleaved in one process, where whatever ran before has raised
glibc's mmap and trim thresholds: an engine whose arrays page-fault on every step in a fresh process (torch's
CNN, NumPy's, chainrule's makemore before its pool took arrays from 128 KB) may not there. Here every sample
is a new interpreter running one engine; each ratio is the median of the per-round ratios.

``python -m bench.workloads.fresh WORKLOAD BATCH ENGINE THREADS SECONDS`` is the child: it prints JSON with
the median time of a step over five samples and the page faults a step.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ..harness import Result
from .training import ratio_target

ENGINES = ("chainrule", "torch", "numpy")
MALLOC_SENSITIVE = False  # the point is the allocator as a fresh process has it
ROOT = Path(__file__).resolve().parents[2]


def _step(workload: str, batch: int, engine: str):
    from ..engines import load
    from . import cnn, makemore, training

    module = load(engine)
    if workload == "makemore":
        return module.makemore_step(*makemore.makemore_data(batch), makemore.LR)
    data = cnn.cnn_data(batch) if workload == "cnn" else training.mlp_data(batch)
    return getattr(module, f"{workload}_step")(*data, training.LR)


def child(workload: str, batch: int, engine: str, threads: int, seconds: float) -> dict:
    from .. import machine
    from ..engines import load

    if threads:  # 0: as the environment has it
        machine.set_blas_threads(threads)
        if engine == "torch":
            load("torch").set_threads(threads)
    step = _step(workload, batch, engine)
    start = time.perf_counter()
    step()
    per_step = max(time.perf_counter() - start, 1e-6)
    count = max(3, int(seconds / 5 / per_step))
    for _ in range(count):  # warm up: first-touch faults and one-off set-up are not what a loop pays
        step()
    samples, faults = [], resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(count):
            step()
        samples.append((time.perf_counter() - start) / count)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / (5 * count)
    return {"seconds": statistics.median(samples), "faults": faults}


def _torch_limit(workload: str, batch: int) -> float | None:
    """The workload's own target for time(chainrule) / time(torch) at this batch, if it has one."""
    from . import cnn, makemore, mlp

    if workload == "mlp":
        return mlp.LIMITS.get(batch, {}).get("torch")
    return cnn.LIMIT if workload == "cnn" else makemore.LIMIT


def _measure(ctx, workload: str, batch: int, engine: str) -> dict | str:
    seconds = max(0.05, 20 * ctx.settings.sample_time)  # timed in one child: 1 s at the default settings
    done = subprocess.run([sys.executable, "-m", __name__, workload, str(batch), engine, str(ctx.threads or 0),
                           str(seconds)], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        return (done.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(done.stdout)


def run(ctx):
    rounds = 3 if ctx.settings.repeats > 5 else 1
    engines = []
    for name in ctx.engines_for(ENGINES):
        try:
            ctx.engine(name)  # reports a missing engine the usual way
            engines.append(name)
        except Exception:
            continue
    s = ctx.settings
    cases = [("makemore", n) for n in s.makemore_batches] + [("cnn", s.cnn_batch)] + [("mlp", n) for n in s.mlp_batches]
    results, targets = [], []
    for workload, batch in cases:
        case = f"{workload} batch {batch}, one engine a process"
        ctx.progress(f"fresh: {case}, {rounds} round(s) of {', '.join(engines)}")
        samples: dict = {name: [] for name in engines}
        rows = {name: Result("fresh", case, name) for name in ctx.engines_for(ENGINES)}
        for _ in range(rounds):
            for name in engines:
                got = _measure(ctx, workload, batch, name)
                if isinstance(got, str):
                    rows[name].status, rows[name].note = "error", got
                else:
                    samples[name].append(got)
        for name, r in rows.items():
            if name not in engines:
                r.status, r.note = "missing", "engine not available"
            elif r.status == "ok":
                r.seconds = statistics.median(s["seconds"] for s in samples[name])
                r.samples = [s["seconds"] for s in samples[name]]
                r.metrics["page faults/step"] = round(statistics.median(s["faults"] for s in samples[name]))
                for base in engines:
                    if base != name and rows[base].status == "ok" and len(samples[base]) == len(samples[name]):
                        r.ratios[base] = statistics.median(
                            a["seconds"] / b["seconds"] for a, b in zip(samples[name], samples[base]))
            results.append(r)
        limit = _torch_limit(workload, batch)
        if limit is not None:
            targets.append(ratio_target(list(rows.values()), f"fresh process, {workload} step, batch {batch}: "
                                        f"chainrule <= {limit}x torch", "chainrule", "torch", limit))
    return results, targets


if __name__ == "__main__":
    workload, batch, engine, threads, seconds = sys.argv[1:6]
    print(json.dumps(child(workload, int(batch), engine, int(threads), float(seconds))))
