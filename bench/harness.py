"""Interleaved timing, medians, pairwise ratios, loss verification, and the result records.

On a shared, noisy machine absolute times drift; the engines of one case are therefore timed in
rounds (A B A B ...), each sample long enough to swamp timer noise, and every ratio is the median
of the per-round ratios, so a slow spell hits both sides of each pair.
"""

from __future__ import annotations

import gc
import math
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from .engines import MissingEngine, MissingOp, load

__all__ = ["Settings", "Result", "Target", "Context", "time_interleaved", "relative_error"]


@dataclass(frozen=True)
class Settings:
    """Repeats and sizes; ``quick()`` keeps the sizes the targets are defined on, with fewer repeats."""

    repeats: int = 11  # timed rounds per case
    warmup: int = 2  # untimed calls per engine before the rounds
    sample_time: float = 0.05  # seconds one sample should last (short steps run several times)
    scalar_points: int = 100
    chain_depth: int = 1_000_000
    chain_repeats: int = 3
    mlp_batches: tuple = (8, 128, 1024)
    cnn_batch: int = 64
    makemore_batches: tuple = (32, 256)
    moons_points: int = 100
    import_runs: int = 7
    memory_steps: int = 200
    memory_batch: int = 1024
    matmul_size: int = 1024

    def quick(self) -> Settings:
        return replace(self, repeats=5, warmup=1, sample_time=0.01, chain_repeats=1, import_runs=3)


@dataclass
class Result:
    """One engine on one case. ``status``: ok, missing (engine or op), n/a, fails, mismatch, error."""

    workload: str
    case: str
    engine: str
    status: str = "ok"
    note: str = ""
    seconds: float | None = None  # median time of one pass or step
    samples: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)  # e.g. {"nodes/s": ...}, {"GFLOP/s": ...}
    ratios: dict = field(default_factory=dict)  # baseline engine -> median of per-round time ratios

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Target:
    """A target of the issue: ``passed`` is None when it could not be measured in this run."""

    name: str
    measured: str
    passed: bool | None
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def relative_error(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-30)


def _timed(fn: Callable, number: int, collect: bool = False) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    if collect:
        gc.collect()
    return (time.perf_counter() - start) / number


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_interleaved(fns: dict, settings: Settings, repeats: int | None = None, warmup: int | None = None,
                     faults: dict | None = None, collect: bool = False) -> dict:
    """Per-call times of each callable, sampled in rounds (A B A B ...); returns name -> list of samples.

    ``faults``, if given, receives each callable's minor page faults per call: a count the machine's
    noise does not change, which shows what the allocator settings do. ``collect`` ends every sample
    with a timed ``gc.collect()``: garbage that only the cyclic collector frees (micrograd's graphs
    are reference cycles) is then paid for by the engine that made it, not by the one timed next.
    """
    repeats = settings.repeats if repeats is None else repeats
    warmup = settings.warmup if warmup is None else warmup
    numbers = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        once = _timed(fn, 1, collect) if settings.sample_time > 0 else 0.0
        numbers[name] = max(1, min(10_000, math.ceil(settings.sample_time / max(once, 1e-7))))
    samples = {name: [] for name in fns}
    faulted = dict.fromkeys(fns, 0)
    gc.collect()
    for _ in range(repeats):
        for name, fn in fns.items():
            before = _minor_faults()
            samples[name].append(_timed(fn, numbers[name], collect))
            faulted[name] += _minor_faults() - before
    if faults is not None:
        faults.update({name: faulted[name] / (repeats * numbers[name]) for name in fns if repeats})
    return samples


def pairwise_ratio(samples: dict, engine: str, baseline: str) -> float:
    """Median over rounds of time(engine) / time(baseline) in the same round."""
    return statistics.median(a / b for a, b in zip(samples[engine], samples[baseline]))


class Context:
    """What a workload needs: the settings, the engines asked for, a loader that reports missing ones."""

    def __init__(self, settings: Settings, engines: list | None = None, modules: dict | None = None,
                 threads: int | None = None, progress: Callable[[str], None] = lambda message: None):
        self.settings = settings
        self.requested = engines  # None: each workload's own engines
        self.modules = dict(modules or {})  # name -> module, to inject engines (tests)
        self.threads = threads  # NumPy's BLAS threads; engines with a set_threads() get the same
        self.progress = progress
        self.notes: dict = {}  # workload facts for the report (torch threads, matmul GFLOP/s, ...)

    def engines_for(self, supported: tuple) -> list:
        """The engines to run for a workload: its own, or those asked for (unsupported ones shown as n/a)."""
        return list(supported) if self.requested is None else list(self.requested)

    def engine(self, name: str):
        if name not in self.modules:
            try:
                self.modules[name] = load(name)
            except MissingEngine as error:
                self.modules[name] = error
            set_threads = getattr(self.modules[name], "set_threads", None)
            if set_threads is not None and self.threads:
                self.notes[f"{name}_threads"] = set_threads(self.threads)
        module = self.modules[name]
        if isinstance(module, MissingEngine):
            raise module
        return module


def build(ctx: Context, result: Result, builder_name: str, *args):
    """Build one engine's pass, or mark ``result`` missing / n/a / error and return None."""
    try:
        module = ctx.engine(result.engine)
    except MissingEngine as error:
        result.status, result.note = "missing", str(error)
        return None
    builder = getattr(module, builder_name, None)
    if builder is None:
        result.status, result.note = "n/a", f"no {builder_name} for this engine"
        return None
    try:
        return builder(*args)
    except MissingOp as error:
        result.status, result.note = "missing", f"op: {error}"
    except Exception as error:  # reported in the table; the other engines still run
        result.status, result.note = "error", f"{type(error).__name__}: {error}"
    return None


def run_checked(result: Result, fn: Callable, check: Callable[[object], str | None]):
    """Call ``fn`` once outside timing and check its output; a failure or mismatch marks ``result``."""
    try:
        output = fn()
    except Exception as error:
        result.status, result.note = "error", f"{type(error).__name__}: {error}"
        return False
    problem = check(output)
    if problem:
        result.status, result.note = "mismatch", problem
        return False
    return True


def record_times(results: list, samples: dict, baselines: tuple) -> None:
    """Fill the timed results' medians and their ratios to every timed baseline."""
    for r in results:
        if r.engine not in samples:
            continue
        r.samples = samples[r.engine]
        r.seconds = statistics.median(r.samples)
        for base in baselines:
            if base in samples and base != r.engine:
                r.ratios[base] = pairwise_ratio(samples, r.engine, base)
