"""The workloads, in the table's order. Each module has ENGINES (those with an adapter),
MALLOC_SENSITIVE (whether the tuned-allocator run repeats it) and ``run(ctx) -> (results, targets)``."""

from __future__ import annotations

import importlib

WORKLOADS = ("scalar", "moons", "chain", "mlp", "cnn", "makemore", "fresh", "import", "memory")
_MODULES = {"import": "imports"}


def get(name: str):
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    return importlib.import_module(f"{__name__}.{_MODULES.get(name, name)}")
