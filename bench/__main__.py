"""python -m bench: run workloads on engines, print the table, write bench/results/latest.json.

  python -m bench                                   every workload, default sizes, both allocators
  python -m bench --workload mlp --engine chainrule,numpy,torch,micrograd
  python -m bench --quick --malloc tuned            fewer repeats, tuned glibc malloc only
  python -m bench --threads 1 --record              one BLAS / torch thread; update BENCHMARKS.md

Each workload runs in a fresh interpreter (per allocator setting); --in-process runs them in this one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

from . import machine, report, workloads
from .engines import ENGINES
from .harness import Context, Settings

ROOT = Path(__file__).resolve().parent.parent
# glibc returns every freed block above the mmap threshold (and heap tops above the trim threshold)
# to the OS, so the next temporary of that size page-faults again. 32 MiB is the largest mmap
# threshold glibc accepts (a larger value is ignored); trimming is put off to 512 MiB of free heap.
TUNED_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(512 << 20)}


def _names(text: str, known, what: str) -> list:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(known)}")
    return names


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", default="all", help=f"comma-separated, from: {', '.join(workloads.WORKLOADS)}")
    p.add_argument("--engine", default=None,
                   help=f"comma-separated, from: {', '.join(ENGINES)} (default: each workload's engines)")
    p.add_argument("--quick", action="store_true", help="fewer repeats and shorter samples, same sizes")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds per case")
    p.add_argument("--malloc", choices=("both", "default", "tuned"), default="both",
                   help="glibc allocator settings: as the environment has them, tuned (re-executes "
                        "itself with MALLOC_* set; only the array workloads), or both (default)")
    p.add_argument("--threads", type=int, default=None,
                   help="set NumPy's BLAS threads (and torch's, which always match) instead of the default")
    p.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    p.add_argument("--record", action="store_true", help="also write the table to BENCHMARKS.md")
    p.add_argument("--in-process", action="store_true",
                   help="run the workloads one after another in this process (default: a fresh one each)")
    p.add_argument("--child-json", type=Path, help=argparse.SUPPRESS)  # the re-executed run writes here
    args = p.parse_args(argv)
    args.workloads = list(workloads.WORKLOADS) if args.workload == "all" else \
        _names(args.workload, workloads.WORKLOADS, "workload")
    args.engines = None if args.engine is None else _names(args.engine, ENGINES, "engine")
    return args


def settings_from(args) -> Settings:
    settings = Settings().quick() if args.quick else Settings()
    return settings if args.repeats is None else replace(settings, repeats=args.repeats)


def malloc_mode() -> str:
    return "tuned" if all(k in os.environ for k in TUNED_ENV) else "default"


def busy_warning(threads: int) -> str | None:
    """Threads that share a core with another busy process stall every BLAS call: say so up front."""
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > cpus - threads + 0.5:
        return (f"machine busy: load {load:.1f} on {cpus} CPUs with {threads} BLAS threads; "
                "multi-threaded timings will be erratic (--threads 1 gives steadier figures)")
    return None


def progress(message: str) -> None:
    print(f"[{malloc_mode()}] {message}", file=sys.stderr, flush=True)


def run_here(settings: Settings, names: list, engines: list | None, threads: int) -> dict:
    """Run the workloads in this process; the run's results, targets and notes as plain data."""
    ctx = Context(settings, engines, threads=threads, progress=progress)
    run = {"malloc": malloc_mode(), "env": {k: os.environ[k] for k in TUNED_ENV if k in os.environ},
           "notes": ctx.notes, "results": [], "targets": []}
    for name in names:
        start = time.perf_counter()
        results, targets = workloads.get(name).run(ctx)
        run["results"] += [r.as_dict() for r in results]
        run["targets"] += [t.as_dict() for t in targets]
        progress(f"{name} done in {time.perf_counter() - start:.1f} s")
    return run


def run_child(args, mode: str, names: list) -> dict:
    """Re-execute ``python -m bench`` for ``names`` with the allocator variables set (or removed), as
    they only take effect when a process starts; returns the child's run."""
    env = {k: v for k, v in os.environ.items() if k not in TUNED_ENV}
    if mode == "tuned":
        env.update(TUNED_ENV)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = [sys.executable, "-m", "bench", "--workload", ",".join(names), "--child-json", str(out)]
        cmd += ["--engine", ",".join(args.engines)] if args.engines else []
        cmd += ["--quick"] if args.quick else []
        cmd += ["--repeats", str(args.repeats)] if args.repeats is not None else []
        cmd += ["--threads", str(args.threads)] if args.threads is not None else []
        subprocess.run(cmd, env=env, cwd=ROOT, check=True)
        return json.loads(out.read_text())


def run_mode(args, settings: Settings, mode: str, names: list, threads: int) -> dict:
    """One allocator mode's run. Each workload gets a fresh interpreter: glibc's malloc tunes its
    thresholds to the blocks a process has freed, so a workload run after another (or alone) would
    otherwise see a different allocator (the NumPy MLP at batch 1024: 0 or 1,400 page faults a step)."""
    if args.in_process:
        return run_here(settings, names, args.engines, threads) if mode == malloc_mode() \
            else run_child(args, mode, names)
    runs = [run_child(args, mode, [name]) for name in names]
    merged = {"malloc": mode, "env": runs[0]["env"], "notes": {}, "results": [], "targets": []}
    for run in runs:
        merged["notes"].update(run["notes"])
        merged["results"] += run["results"]
        merged["targets"] += run["targets"]
    return merged


def main(argv=None) -> int:
    args = parse_args(argv)
    settings = settings_from(args)
    if args.threads is not None and machine.set_blas_threads(args.threads) != args.threads:
        raise SystemExit(f"could not set NumPy's BLAS threads to {args.threads}")
    threads = machine.blas_threads() or os.cpu_count() or 1
    if args.child_json:
        args.child_json.write_text(json.dumps(run_here(settings, args.workloads, args.engines, threads)))
        return 0
    warning = busy_warning(threads)
    if warning:
        progress(f"warning: {warning}")
    runs = []
    for mode in ("default", "tuned") if args.malloc == "both" else (args.malloc,):
        names = args.workloads if args.malloc != "both" or mode == "default" else \
            [n for n in args.workloads if workloads.get(n).MALLOC_SENSITIVE]
        if not names:
            continue
        runs.append(run_mode(args, settings, mode, names, threads))
    result = {"machine": machine.describe(threads), "settings": asdict(settings), "tuned_env": TUNED_ENV,
              "command": " ".join(["python -m bench"] + (argv if argv is not None else sys.argv[1:])),
              "warning": warning, "runs": runs}
    print(report.text(result))
    report.write_json(result, args.json)
    print(f"\nwrote {args.json}", file=sys.stderr)
    if args.record:
        path = ROOT / "BENCHMARKS.md"
        kept = report.kept_notes(path.read_text() if path.exists() else "")
        path.write_text(report.markdown(result, result["command"]) + kept)
        print(f"wrote {ROOT / 'BENCHMARKS.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
