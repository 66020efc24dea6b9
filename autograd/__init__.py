"""chainrule's autograd: scalar Values and NumPy Tensors on one reverse-mode graph core."""

from .graph import (
    AnomalyError, BackwardTrace, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled,
    trace_backward,
)
from .gradcheck import GradcheckError, gradcheck
from .gradcheck import gradgradcheck
from .tensor import Tensor
from .symbolic import to_latex, to_sympy
from .value import Value
from .viz import GraphvizNotFoundError, backward_frames, draw_graph
from .explode import Exploded, GradientMismatchError, ValueArray, explode
from . import functional

__all__ = [
    "Value", "Tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "grad",
    "gradcheck", "GradcheckError", "draw_graph", "GraphvizNotFoundError", "detect_anomaly", "AnomalyError",
    "trace_backward", "BackwardTrace", "backward_frames", "explode", "Exploded", "ValueArray",
    "GradientMismatchError", "to_sympy", "to_latex",
    "gradgradcheck", "functional",
]
