"""Pictures fit a notebook cell: at most 9 inches wide and 20 tall, drawn top to bottom or left to right,
whichever is narrower, so Graphviz shrinks them (and their text) as little as possible."""

import re
import shutil

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor, Value, draw_graph, trace_backward
from autograd.viz.render import PICTURE_INCHES

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
WIDEST, TALLEST = (72 * inches for inches in PICTURE_INCHES)  # in points, as SVG sizes are written


def svg_size(graph) -> tuple:
    """(width, height) in points and the factor Graphviz shrank the drawing by, from the rendered SVG."""
    svg = graph.pipe(format="svg", encoding="utf-8")
    width, height = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    scale = float(re.search(r'transform="scale\(([\d.]+)', svg).group(1))
    return float(width), float(height), scale


def sigmoid_neuron():
    """The lecture's neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) with its recorded backward pass."""
    w0, x0, w1, x1, w2 = (Value(v, label=name) for v, name in
                          ((2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"), (-3.0, "w2")))
    dot = w0 * x0 + w1 * x1 + w2
    dot.label = "dot"
    f = 1 / (1 + (-dot).exp())
    f.label = "f"
    return f, trace_backward(f, show=False)


def scalar_mlp(sizes):
    """The scalar MLP 2-sizes on one example after backward (several outputs are summed)."""
    out = nn.MLP(2, sizes, seed=0)([Value(1.0, label="x0"), Value(-2.0, label="x1")])
    out = out if isinstance(out, Value) else sum(out[1:], out[0])
    out.backward()
    return out


def test_pictures_are_bounded_by_a_notebook_cell_in_their_source():
    f, _ = sigmoid_neuron()
    assert f'size="{PICTURE_INCHES[0]},{PICTURE_INCHES[1]}"' in draw_graph(f).source
    assert PICTURE_INCHES[0] <= 10
    assert 'size="4,4"' in draw_graph(f, graph_attr={"size": "4,4"}).source  # the caller's size wins


@needs_dot
@pytest.mark.parametrize("upto", [0, 4, None])
def test_a_step_through_frame_fits_unshrunk(upto):
    f, trace = sigmoid_neuron()
    graph = draw_graph(f, show_local=True, upto_step=upto, trace=trace)  # was 4,380 px wide
    width, height, scale = svg_size(graph)
    assert "rankdir=TB" in graph.source
    assert width <= WIDEST and height <= TALLEST
    assert scale == 1.0  # drawn at full size: the text stays as legible as Graphviz sets it


@needs_dot
@pytest.mark.parametrize("sizes, least_scale", [([2, 1], 0.6), ([4, 4, 1], 0.3), ([5, 2], 0.3)])
def test_scalar_mlps_fit_the_cell(sizes, least_scale):
    graph = draw_graph(scalar_mlp(sizes))  # 2-2-1 was 7,563 px wide, 2-5-2 3,060 x 1,920 diagonally
    width, height, scale = svg_size(graph)
    assert width <= WIDEST and height <= TALLEST
    assert scale >= least_scale  # top to bottom: much less shrinking than left to right would need
    assert "rankdir=TB" in graph.source


@needs_dot
@pytest.mark.parametrize("sizes", [[4, 4, 1], [5, 2]])
def test_collapsed_models_fit_the_cell(sizes):
    graph = draw_graph(scalar_mlp(sizes), collapse="module")
    width, height, _ = svg_size(graph)
    assert width <= WIDEST and height <= TALLEST and "rankdir=TB" in graph.source


def test_a_wide_shallow_graph_is_drawn_left_to_right():
    parts = [Tensor(np.full(2, float(k)), requires_grad=True, label=f"t{k}") for k in range(12)]  # one op, 12 inputs
    assert "rankdir=LR" in draw_graph(autograd.stack(parts)).source
    f, _ = sigmoid_neuron()  # a long chain: top to bottom
    assert "rankdir=TB" in draw_graph(f).source
    assert "rankdir=LR" in draw_graph(f, rankdir="LR").source  # asked for: kept


@needs_dot
def test_the_chosen_direction_is_the_narrower_one():
    for root in (sigmoid_neuron()[0], scalar_mlp([2, 1]),
                 autograd.stack([Tensor(np.full(2, float(k)), requires_grad=True, label=f"t{k}") for k in range(12)])):
        graph = draw_graph(root, graph_attr={"size": "1000,1000"})  # natural sizes, unshrunk
        chosen = re.search(r"rankdir=(\w+)", graph.source).group(1)
        other = draw_graph(root, rankdir={"TB": "LR", "LR": "TB"}[chosen], graph_attr={"size": "1000,1000"})
        assert svg_size(graph)[0] < svg_size(other)[0]
