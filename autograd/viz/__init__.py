"""The renderer: draw_graph and what it draws.

draw.py (draw_graph, backward_frames), labels.py (the text in records, boxes and clusters), render.py
(GraphvizNotFoundError, writing pictures), flow.py (edge labels and steps from a BackwardTrace),
modules.py (nn.Module calls as clusters and boxes), check.py (finite-difference overlay) and
scalar_graph.py (explode: a small tensor computation rebuilt from scalar Values).
"""

from .draw import backward_frames, draw_graph
from .render import GraphvizNotFoundError
from .scalar_graph import Exploded, GradientMismatchError, ValueArray, explode

__all__ = ["draw_graph", "backward_frames", "GraphvizNotFoundError", "explode", "Exploded", "ValueArray",
           "GradientMismatchError"]
