"""Big graphs never hang: above max_nodes (2,000) draw_graph warns and draws a summary, its nn.Module calls
collapsed or the nodes nearest the root, unless asked for everything with max_nodes=None."""

import re
import shutil
import warnings

import numpy as np
import pytest

import nn
from autograd import Tensor, Value, draw_graph, trace_backward
from autograd.graph import topological_order
from autograd.viz.draw import MAX_NODES, SUMMARY_NODES

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def value_records(source: str) -> list:
    return re.findall(r"^\t+v\d+ \[", source, flags=re.MULTILINE)


def sum_chain(count: int) -> Value:
    """x0 + x1 + ... : 2 * count - 1 nodes."""
    xs = [Value(float(k), label=f"x{k}") for k in range(count)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


def moons_loss() -> Value:
    """Notebook 02's loss: a scalar 2-16-16-1 MLP on 100 points, hinge loss plus L2 (about 65,800 nodes)."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    rng = np.random.default_rng(0)
    points, labels = rng.standard_normal((100, 2)).tolist(), rng.choice([-1.0, 1.0], 100).tolist()
    losses = [(1 + -y * model(x)).relu() for x, y in zip(points, labels)]
    return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())


def test_a_sixty_five_thousand_node_chain_is_drawn_as_the_part_nearest_the_root():
    root = sum_chain(32_500)  # 64,999 nodes
    with pytest.warns(UserWarning, match=r"64,999 nodes, more than max_nodes=2,000.*max_nodes=None"):
        graph = draw_graph(root)
    source = graph.source
    assert len(value_records(source)) == SUMMARY_NODES
    assert len(source) < 50_000  # not the 9 MB of Graphviz source a full drawing makes
    assert (f"64999 nodes, 32499 ops, depth 32499; summary: the {SUMMARY_NODES} nodes nearest the root, "
            f"{64_999 - SUMMARY_NODES} not drawn") in source
    assert "\u22ef 1 input not drawn" in source  # where the drawing stops, a stub says so
    assert 'label="{ x32499 | data 3.25e+04 | grad 0 }"' in source  # the root's own inputs are there


@needs_dot
def test_notebook_two_loss_returns_a_picture_that_renders():
    root = moons_loss()
    total = len(topological_order([root]))
    assert total > 65_000
    with pytest.warns(UserWarning, match=f"{total:,} nodes"):
        graph = draw_graph(root)
    assert len(value_records(graph.source)) <= SUMMARY_NODES
    svg = graph.pipe(format="svg", encoding="utf-8")  # Graphviz finishes: the summary is small
    assert svg.lstrip().startswith("<?xml") and "not drawn" in svg


def test_a_big_model_is_summarised_by_its_module_calls():
    layers = []
    for _ in range(600):
        layers += [nn.Linear(2, 2), nn.Tanh()]
    x = Tensor(np.ones((3, 2), dtype=np.float32), label="x")
    loss = nn.Sequential(*layers)(x).sum()
    loss.backward()
    total = len(topological_order([loss]))
    assert total > MAX_NODES
    with pytest.warns(UserWarning, match=r"summary \(its nn.Module calls collapsed into 1,200 boxes\)"):
        source = draw_graph(loss).source
    assert "1200 module calls collapsed into boxes" in source and "rankdir=TB" in source
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asked for the boxes: no warning
        assert draw_graph(loss, collapse="module").source == source


def test_max_nodes_none_draws_everything_without_a_warning():
    root = sum_chain(200)  # 399 nodes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(value_records(draw_graph(root).source)) == 399
        assert len(value_records(draw_graph(root, max_nodes=None).source)) == 399
    with pytest.warns(UserWarning, match="399 nodes, more than max_nodes=100"):
        assert len(value_records(draw_graph(root, max_nodes=100).source)) == SUMMARY_NODES


def test_a_summary_leaves_out_the_overlays_and_says_so():
    root = sum_chain(200)
    trace_backward(root, show=False)
    with pytest.warns(UserWarning, match="without show_local or check"):
        source = draw_graph(root, max_nodes=100, show_local=True, check=True).source
    assert "local" not in source and "gradient check" not in source
