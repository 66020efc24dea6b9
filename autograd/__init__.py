"""chainrule's autograd: scalar Values and NumPy Tensors on one reverse-mode graph core.

Besides the engine's own names, this is torch's top-level vocabulary (``tensor``, ``zeros``,
``cat``, ``manual_seed``, ...), so lecture code runs after ``import autograd as torch``.
"""

import importlib

from .graph import Node, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .debug import AnomalyError, BackwardTrace, detect_anomaly, trace_backward
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .function import Function, FunctionCtx
from .tensor_class import Tensor
from . import ops  # noqa: F401  (attaches the ops to Tensor: tensor_class imports none)
from .symbolic import to_latex, to_sympy
from .value import Value
from . import functional
from . import factories as _factories, sampling as _sampling, toplevel as _toplevel

# torch's creation functions, dtypes, random sampling and module-level math (cat, exp, max, ...).
# They shadow Python's built-ins of the same names (sum, max, all, ...) in this namespace only.
_TORCH_MODULES = (_factories, _sampling, _toplevel)
globals().update({name: getattr(module, name) for module in _TORCH_MODULES for name in module.__all__})

# The renderer and explode (the package viz/) load graphviz, and compile its recorder; imported on first use, so
# `import autograd` stays fast.
_LAZY = {"draw_graph": "viz", "backward_frames": "viz", "GraphvizNotFoundError": "viz",
         "explode": "viz", "Exploded": "viz", "ValueArray": "viz", "GradientMismatchError": "viz",
         "step_through": "viz", "export_html": "viz", "StepThrough": "viz",
         "compile": "captured", "CapturedStep": "captured", "CaptureError": "captured"}


def __getattr__(name: str):
    if name not in _LAZY:
        from .unsupported import MODULE, refuse
        raise refuse("torch" if name in MODULE else "module 'autograd'", name, MODULE)
    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    # Bind every name the module provides at once.
    globals().update({key: getattr(module, key) for key, where in _LAZY.items() if where == _LAZY[name]})
    return globals()[name]


__all__ = [
    "Value", "Tensor", "Function", "FunctionCtx",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "grad",
    "gradcheck", "GradcheckError", "draw_graph", "GraphvizNotFoundError", "detect_anomaly", "AnomalyError",
    "trace_backward", "BackwardTrace", "backward_frames", "explode", "Exploded", "ValueArray",
    "GradientMismatchError", "step_through", "export_html", "StepThrough", "to_sympy", "to_latex", "Node",
    "gradgradcheck", "functional", "compile", "CapturedStep", "CaptureError",
    *_factories.__all__, *_sampling.__all__, *_toplevel.__all__,
]
