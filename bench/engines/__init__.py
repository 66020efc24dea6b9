"""The engine registry: which modules implement the workloads, and whether each can be imported here.

An engine module provides builders for the workloads it supports (``mlp_step``, ``cnn_step``,
``scalar_pass``, ``chain_pass``, ...). Each builder takes the workload's NumPy arrays (the same
seeded weights and data for every engine) and returns a callable that runs one timed pass.
"""

from __future__ import annotations

import importlib
import importlib.util

__all__ = ["ENGINES", "MissingEngine", "MissingOp", "load", "require"]

# name -> (module, packages it needs); the order is the table's order
ENGINES = {
    "chainrule": ("bench.engines.chainrule", ("autograd",)),
    "compiled": ("bench.engines.chainrule_compiled", ("autograd",)),
    "numpy": ("bench.engines.numpy_hand", ("numpy",)),
    "torch": ("bench.engines.pytorch", ("torch",)),
    "micrograd": ("bench.engines.micrograd_values", ("micrograd",)),
}


class MissingEngine(Exception):
    """The engine cannot run here (not installed, or its import failed)."""


class MissingOp(Exception):
    """The engine lacks an op a workload needs (reported, never worked around)."""


def load(name: str):
    """The engine's module; raises MissingEngine saying why it cannot be used."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    module, needs = ENGINES[name]
    for package in needs:
        if importlib.util.find_spec(package) is None:
            raise MissingEngine(f"{package} is not installed (pip install -e '.[bench]')")
    try:
        return importlib.import_module(module)
    except Exception as error:  # an engine that fails to import is reported, not dropped
        raise MissingEngine(f"import failed: {type(error).__name__}: {error}") from error


def require(obj, *names: str) -> None:
    """Raise MissingOp naming every attribute in ``names`` that ``obj`` lacks."""
    missing = [n for n in names if not hasattr(obj, n)]
    if missing:
        owner = getattr(obj, "__name__", type(obj).__name__)
        raise MissingOp(", ".join(f"{owner}.{n}" for n in missing))
