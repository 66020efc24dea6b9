"""What the figures were measured on: CPU, versions, BLAS and its threads, float32 matmul GFLOP/s."""

from __future__ import annotations

import ctypes
import datetime
import importlib.metadata
import os
import platform
import statistics
import time

import numpy as np

MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # pin OpenBLAS's kernel choice when set


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _loaded_openblas() -> list:
    """Paths of the OpenBLAS libraries loaded in this process (NumPy's wheels bundle their own)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    return sorted(paths)


def _openblas(action: str):
    """NumPy's OpenBLAS ``openblas_{action}_num_threads`` under whichever symbol name its build uses."""
    for path in _loaded_openblas():
        lib = ctypes.CDLL(path)
        for symbol in (f"scipy_openblas_{action}_num_threads64_", f"openblas_{action}_num_threads64_",
                       f"openblas_{action}_num_threads"):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                return fn
    return None


def blas_threads() -> int | None:
    """The thread count of NumPy's OpenBLAS, asked from the library itself; None if it cannot be asked."""
    fn = _openblas("get")
    if fn is None:
        return None
    fn.restype = ctypes.c_int
    return int(fn())


def set_blas_threads(n: int) -> int | None:
    """Set NumPy's OpenBLAS thread count; returns the count now in force (None if it cannot be set)."""
    fn = _openblas("set")
    if fn is None:
        return None
    fn.argtypes = [ctypes.c_int]
    fn(n)
    return blas_threads()


def blas_info() -> str:
    try:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # older NumPy: no dict mode
        return "unknown"
    detail = config.get("openblas configuration") or config.get("version", "")
    return f"{config.get('name', '?')} {detail}".strip()


def blas_kernel() -> str | None:
    """The BLAS library and the kernel it picked for this CPU, as threadpoolctl reports it (if installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(f"{i.get('internal_api')} {i.get('version')} kernel {i.get('architecture', '?')}, "
                     f"{i.get('threading_layer', '?')} threads" for i in blas) or None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe(threads: int) -> dict:
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libc": " ".join(platform.libc_ver()),
        "numpy": np.__version__,
        "torch": _version("torch"),
        "micrograd": _version("micrograd"),
        "chainrule": _version("chainrule"),
        "blas": blas_info(),
        "blas_kernel": blas_kernel(),
        "openblas_env": {name: os.environ[name] for name in OPENBLAS_VARS if name in os.environ} or "unset",
        "blas_threads": threads,
        "malloc": {name: os.environ[name] for name in MALLOC_VARS if name in os.environ} or "default",
        "loadavg": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def matmul_gflops(n: int = 1024, repeats: int = 7) -> float:
    """Float32 (n x n) @ (n x n) with NumPy's BLAS: the median rate, the ceiling the workloads compare to."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n ** 3 / statistics.median(times) / 1e9
