"""Peak memory of MLP training, each engine in a fresh process, and a check that memory does not grow.

``python -m bench.workloads.memory ENGINE STEPS BATCH`` is the child: it prints JSON with its RSS
before the first step (after imports and set-up), at checkpoints, and at its peak (VmHWM).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from ..harness import Result, Target

ENGINES = ("chainrule", "numpy")
MALLOC_SENSITIVE = True
LIMIT = 1.2  # chainrule's training memory over NumPy's
ROOT = Path(__file__).resolve().parents[2]
GROWTH_MB = 2.0  # a leaked graph per step would grow by far more than this over the steps


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def child(engine: str, steps: int, batch: int) -> dict:
    from ..engines import load
    from .training import LR, mlp_data

    params, x, y = mlp_data(batch)
    step = load(engine).mlp_step(params, x, y, LR)
    gc.collect()
    base = _status_mb("VmRSS")
    marks = sorted({max(1, steps // 4), steps // 2, steps})
    rss, objects = {}, {}
    for i in range(1, steps + 1):
        step()
        if i in marks:
            rss[i], objects[i] = _status_mb("VmRSS"), len(gc.get_objects())
    # the peak is VmHWM: ru_maxrss would carry the parent's RSS across fork + exec
    return {"base_mb": base, "rss_mb": rss, "objects": objects, "vmhwm_mb": _status_mb("VmHWM")}


def run(ctx):
    s = ctx.settings
    results, measured = [], {}
    for name in ctx.engines_for(ENGINES):
        r = Result("memory", f"{s.memory_steps} MLP steps, batch {s.memory_batch}", name)
        results.append(r)
        if name not in ENGINES:
            r.status, r.note = "n/a", "RSS is compared for chainrule and NumPy only"
            continue
        try:
            ctx.engine(name)  # reports a missing engine the usual way
        except Exception as error:
            r.status, r.note = "missing", str(error)
            continue
        ctx.progress(f"memory: {name}, fresh process")
        done = subprocess.run([sys.executable, "-m", __name__, name, str(s.memory_steps), str(s.memory_batch)],
                              cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            r.status, r.note = "error", (done.stderr.strip().splitlines() or ["failed"])[-1]
            continue
        m = measured[name] = json.loads(done.stdout)
        rss = list(m["rss_mb"].values())
        objects = list(m["objects"].values())
        m["growth_mb"], m["object_growth"] = rss[-1] - rss[0], objects[-1] - objects[0]
        m["training_mb"] = m["vmhwm_mb"] - m["base_mb"]
        r.metrics = {"peak MB": m["vmhwm_mb"], "training MB": m["training_mb"], "growth MB": m["growth_mb"]}
        r.note = (f"before training {m['base_mb']:.1f} MB, "
                  f"RSS {' '.join(f'{v:.1f}' for v in rss)} MB at steps {','.join(m['rss_mb'])}, "
                  f"gc objects {objects[0]} -> {objects[-1]}")
    return results, _targets(measured)


def _targets(m: dict) -> list:
    name = f"memory: chainrule training peak <= {LIMIT}x NumPy's"
    if "chainrule" in m and "numpy" in m:
        ratio = m["chainrule"]["training_mb"] / max(m["numpy"]["training_mb"], 1e-9)
        total = m["chainrule"]["vmhwm_mb"] / m["numpy"]["vmhwm_mb"]
        peak = Target(name, f"{ratio:.2f}x", ratio <= LIMIT,
                      f"peak RSS above the pre-training RSS; whole-process peak {total:.2f}x")
    else:
        peak = Target(name, "-", None, "chainrule or numpy not measured")
    name = "memory: no growth over the steps"
    if "chainrule" in m:
        c = m["chainrule"]
        grows = c["growth_mb"] > GROWTH_MB or c["object_growth"] > 100
        growth = Target(name, f"{c['growth_mb']:+.1f} MB, {c['object_growth']:+d} objects", not grows)
    else:
        growth = Target(name, "-", None, "chainrule not measured")
    return [peak, growth]


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
