"""chainrule's autograd: scalar Values and NumPy Tensors on one reverse-mode graph core."""

import importlib

from .graph import (
    AnomalyError, BackwardTrace, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled,
    trace_backward,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .tensor import Tensor
from .symbolic import to_latex, to_sympy
from .value import Value
from . import functional

# The renderer and explode load graphviz; they are imported on first use, so `import autograd` stays fast.
_LAZY = {"draw_graph": "viz", "backward_frames": "viz", "GraphvizNotFoundError": "viz",
         "explode": "explode", "Exploded": "explode", "ValueArray": "explode", "GradientMismatchError": "explode"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'autograd' has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    # Bind every name the module provides: importing the submodule `explode` rebinds that name to it.
    globals().update({key: getattr(module, key) for key, where in _LAZY.items() if where == _LAZY[name]})
    return globals()[name]


__all__ = [
    "Value", "Tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "grad",
    "gradcheck", "GradcheckError", "draw_graph", "GraphvizNotFoundError", "detect_anomaly", "AnomalyError",
    "trace_backward", "BackwardTrace", "backward_frames", "explode", "Exploded", "ValueArray",
    "GradientMismatchError", "to_sympy", "to_latex",
    "gradgradcheck", "functional",
]
