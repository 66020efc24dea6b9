"""Import time of autograd and nn, each in a fresh interpreter (numpy alone for scale): median of runs."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from ..harness import Result, Target

ENGINES = ("chainrule",)
MALLOC_SENSITIVE = False
LIMIT = 0.15  # seconds: issue 18 item 4
MODULES = (("numpy", "numpy"), ("chainrule", "autograd"), ("chainrule", "nn"))
ROOT = Path(__file__).resolve().parents[2]
CODE = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"


def import_seconds(module: str) -> float:
    """Seconds ``import module`` takes in a new interpreter (its start-up excluded)."""
    done = subprocess.run([sys.executable, "-c", CODE.format(module)], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def run(ctx):
    wanted = ctx.engines_for(ENGINES)
    rows = [(engine, module) for engine, module in MODULES if engine == "numpy" or engine in wanted]
    results = {module: Result("import", f"import {module}", engine) for engine, module in rows}
    ctx.progress(f"import: {ctx.settings.import_runs} fresh interpreters per module")
    for _ in range(ctx.settings.import_runs):  # interleaved, as the timed workloads
        for _, module in rows:
            r = results[module]
            if r.status != "ok":
                continue
            try:
                r.samples.append(import_seconds(module))
            except subprocess.CalledProcessError as error:
                r.status, r.note = "error", (error.stderr.strip().splitlines() or ["failed"])[-1]
    targets = []
    for r in results.values():
        if r.samples:
            r.seconds = statistics.median(r.samples)
        if r.engine == "chainrule":
            name = f"import {r.case.split()[-1]} < {LIMIT} s"
            passed = None if r.seconds is None else r.seconds < LIMIT
            targets.append(Target(name, "-" if r.seconds is None else f"{r.seconds:.3f} s", passed, r.note))
    return list(results.values()), targets
