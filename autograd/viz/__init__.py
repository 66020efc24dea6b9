"""The renderer: draw_graph and what it draws.

draw.py (draw_graph), steps.py (backward_frames, step_through, export_html: stepping through the backward
pass), labels.py (the text in records, boxes and clusters), render.py (GraphvizNotFoundError, writing
pictures), flow.py (edge labels and steps from a BackwardTrace), modules.py (nn.Module calls as clusters
and boxes), check.py (finite-difference overlay) and scalar_graph.py (explode: a small tensor computation
rebuilt from scalar Values).
"""

from .draw import draw_graph
from .render import GraphvizNotFoundError
from .scalar_graph import Exploded, GradientMismatchError, ValueArray, explode
from .steps import StepThrough, backward_frames, export_html, step_through

__all__ = ["draw_graph", "backward_frames", "GraphvizNotFoundError", "explode", "Exploded", "ValueArray",
           "GradientMismatchError", "step_through", "export_html", "StepThrough"]
