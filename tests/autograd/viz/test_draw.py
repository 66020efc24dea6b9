"""draw_graph: what the picture says (labels, data, grads, op nodes, numbered inputs), files and a missing
dot."""

import re
import shutil
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Tensor, Value, draw_graph
from autograd.viz import GraphvizNotFoundError

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def randn(*shape, seed, requires_grad=False):
    """Seeded standard normal float32 samples as a Tensor."""
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return Tensor(data, requires_grad=requires_grad)
SVG_TEXT = "{http://www.w3.org/2000/svg}text"
INSTALL_STEPS = ("apt-get install graphviz", "brew install graphviz", "conda install -c conda-forge graphviz")


def sigmoid_neuron():
    """The lecture's 2-input neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), after backward."""
    w0, x0, w1, x1, w2 = (Value(v, label=name) for v, name in
                          ((2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"), (-3.0, "w2")))
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    f.label = "f"
    f.backward()
    return f


def records(source: str) -> dict:
    """Value-node id -> its record label, from the DOT source."""
    return dict(re.findall(r'^\t(v\d+) \[label="(.*?)"', source, flags=re.MULTILINE))


def by_label(source: str) -> dict:
    """A labelled node's label -> (its id, its whole record label)."""
    return {record.lstrip("{ ").split(" | ")[0].split("\\n")[0]: (name, record)
            for name, record in records(source).items()}


def op_nodes(source: str) -> dict:
    """Op-node id -> its label, from the DOT source."""
    return {name: label.strip('"') for name, label in
            re.findall(r'^\t(op\d+) \[label=("[^"]*"|\S+?)\]', source, flags=re.MULTILINE)}


def edges(source: str) -> list:
    """(tail, head, label or None) for every edge in the DOT source."""
    return [(tail, head, label or None) for tail, head, label in
            re.findall(r"^\t(\w+) -> (\w+)(?: \[label=(\w+)\])?$", source, flags=re.MULTILINE)]


def svg_texts(svg: str) -> list:
    return [t.text for t in ET.fromstring(svg).iter(SVG_TEXT)]


def test_sigmoid_neuron_shows_label_data_and_grad_of_every_node():
    source = draw_graph(sigmoid_neuron()).source
    expected = {"w0": ("2", "-0.1966"), "x0": ("-1", "0.3932"), "w1": ("-3", "-0.3932"),
                "x1": ("-2", "-0.5898"), "w2": ("-3", "0.1966"), "f": ("0.7311", "1")}
    for name, (data, grad) in expected.items():
        assert by_label(source)[name][1] == f"{{ {name} | data {data} | grad {grad} }}"
    assert "data 0.3679 | grad -0.5344" in source  # exp(-1) and its gradient, an interior node
    assert sorted(op_nodes(source).values()) == sorted(["*", "*", "+", "+", "neg", "exp", "+", "/"])
    assert 'label="15 nodes, 8 ops, depth 7"' in source


def test_op_nodes_sit_between_inputs_and_result_in_data_flow_direction():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    source = draw_graph(a * b).source
    assert re.search(r'v0 \[label="\{ [ab] ', source)
    assert ("op2", "v2", None) in edges(source)
    assert {tail for tail, head, _ in edges(source) if head == "op2"} == {"v0", "v1"}
    assert op_nodes(source) == {"op2": "*"}


def test_a_plus_a_shows_two_edges():
    a = Value(1.5, label="a")
    source = draw_graph(a + a).source
    assert edges(source).count(("v0", "op1", "0")) == 1
    assert edges(source).count(("v0", "op1", "1")) == 1


def test_a_minus_b_numbers_its_inputs():
    a, b = Value(5.0, label="a"), Value(2.0, label="b")
    source = draw_graph(a - b).source
    ids = {label: name for label, (name, _) in by_label(source).items()}
    into_op = [(tail, label) for tail, head, label in edges(source) if head.startswith("op")]
    assert sorted(into_op) == sorted([(ids["a"], "0"), (ids["b"], "1")])
    source = draw_graph(b - a).source
    ids = {label: name for label, (name, _) in by_label(source).items()}
    into_op = [(tail, label) for tail, head, label in edges(source) if head.startswith("op")]
    assert sorted(into_op) == sorted([(ids["b"], "0"), (ids["a"], "1")])


def test_unary_op_edge_has_no_number():
    source = draw_graph(Value(0.5, label="x").tanh()).source
    assert edges(source) == [("op1", "v1", None), ("v0", "op1", None)]
    assert op_nodes(source) == {"op1": "tanh"}


def test_node_ids_are_deterministic_across_builds():
    first = draw_graph(sigmoid_neuron()).source
    second = draw_graph(sigmoid_neuron()).source
    assert first == second
    assert "id(" not in first and not re.search(r"\b\d{8,}\b", first)


def test_caption_counts_nodes_ops_and_depth():
    x = Value(1.0)
    y = (x * 2).exp() + x
    assert 'label="5 nodes, 3 ops, depth 3"' in draw_graph(y).source
    assert 'label="1 nodes, 0 ops, depth 0"' in draw_graph(x).source


def test_ten_thousand_node_graph_builds_without_recursion():
    x, y = Value(0.5, label="x"), None
    y = x
    for _ in range(5_000):  # each step adds the constant and the product: a 10,001-node chain
        y = y * 1.0001
    source = draw_graph(y, max_nodes=None).source  # everything, as asked: no summary
    assert len(records(source)) == 10_001
    assert len(op_nodes(source)) == 5_000
    assert "10001 nodes, 5000 ops, depth 5000" in source


@needs_dot
def test_render_png_file(tmp_path):
    target = tmp_path / "neuron.png"
    graph = draw_graph(sigmoid_neuron(), filename=target)
    assert isinstance(graph, graphviz.Digraph)
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
    assert [p.name for p in tmp_path.iterdir()] == ["neuron.png"]  # no .gv source, no temporary left


@needs_dot
def test_render_svg_file_contains_the_labels(tmp_path):
    target = tmp_path / "neuron.svg"
    draw_graph(sigmoid_neuron(), filename=str(target))
    texts = svg_texts(target.read_text(encoding="utf-8"))
    for text in ("w0", "x0", "w1", "x1", "w2", "f", "data 0.7311", "grad -0.5898", "exp", "neg", "/"):
        assert text in texts
    assert [p.name for p in tmp_path.iterdir()] == ["neuron.svg"]


@needs_dot
def test_format_from_suffix_or_argument_and_optional_source(tmp_path):
    root = Value(2.0, label="a") * 3
    draw_graph(root, filename=tmp_path / "g.pdf")
    assert (tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"
    draw_graph(root, format="png", filename=tmp_path / "plain")
    assert (tmp_path / "plain.png").read_bytes()[:4] == b"\x89PNG"
    draw_graph(root, filename=tmp_path / "kept.svg", keep_source=True)
    assert (tmp_path / "kept.gv").read_text(encoding="utf-8").startswith("digraph")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.pdf", "kept.gv", "kept.svg", "plain.png"]


@needs_dot
def test_notebook_display_renders_inline():
    bundle = draw_graph(sigmoid_neuron())._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    assert "data 0.7311" in svg_texts(bundle["image/svg+xml"])


@needs_dot
def test_graph_drawn_after_backward_released_its_closures_still_renders():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = (a * b).tanh()
    c.backward()
    with pytest.raises(RuntimeError, match="second time"):
        c.backward()  # the closures are gone
    texts = svg_texts(draw_graph(c).pipe(format="svg", encoding="utf-8"))
    assert "tanh" in texts and f"grad {b.grad:.4g}" in texts


def test_big_tensor_shows_shape_dtype_and_summary_statistics():
    w = randn(100, 100, seed=0, requires_grad=True)
    w.label = "W"
    y = w * 2 + 1
    y.backward(gradient=np.full((100, 100), 0.5))
    w_record = by_label(draw_graph(y).source)["W"][1]
    data, grad = w.numpy(), w.grad.numpy()
    assert w_record.startswith(r"{ W\n(100, 100) float32 | ")
    assert f"data min {data.min():.4g} mean {data.mean():.4g} max {data.max():.4g}" in w_record
    assert f"grad min {grad.min():.4g} mean {grad.mean():.4g} max {grad.max():.4g}" in w_record
    assert "grad min 1 mean 1 max 1" in w_record
    assert str(data[0, 0])[:5] not in w_record  # no element values for a big tensor


def test_small_tensor_shows_its_values_and_none_grad():
    x = Tensor([[1.0, 2.0], [3.0, -4.5]], requires_grad=True, label="x")
    c = Tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)
    source = draw_graph([x * x, c + 1]).source
    assert r"{ x\n(2, 2) float32 | data [[1, 2], [3, -4.5]] | grad None }" in source
    assert "{ (3,) float64 | data [1, 2, 3] | grad None }" in source
    assert "{ scalar float64 | data 1 | grad None }" in source  # the constant wrapped by c + 1
    assert "{ (3,) float64 | data [2, 3, 4] | grad None }" in source


def test_small_threshold_and_empty_tensor():
    t = autograd.arange(7, dtype=np.float32)
    assert "data min 0 mean 3 max 6" in draw_graph(t).source
    assert "data [0, 1, 2, 3, 4, 5, 6]" in draw_graph(t, small=7).source
    assert "data empty" in draw_graph(Tensor(np.zeros((0, 3)))).source


def test_create_graph_grads_are_shown_as_numbers():
    x = Value(3.0, label="x")
    y = x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert "{ x | data 3 | grad 6 }" in draw_graph(y).source
    t = Tensor([1.0, 2.0], requires_grad=True, label="t")
    u = t * t
    u.backward(gradient=np.ones(2), create_graph=True)
    assert isinstance(t.grad, Tensor)
    assert r"{ t\n(2,) float32 | data [1, 2] | grad [2, 4] }" in draw_graph(u).source


def test_records_stack_their_fields_top_to_bottom_and_sit_side_by_side_left_to_right():
    # Braces flip a record's fields across the rank direction: stacked (narrow) in TB, a row in LR.
    for rankdir in ("TB", "LR"):
        source = draw_graph(Value(1.0, label="a") + 1, rankdir=rankdir).source
        assert f"rankdir={rankdir}" in source and 'label="{ a | data 1 | grad 0 }"' in source


def test_several_roots_and_bad_input():
    a = Value(1.0, label="a")
    source = draw_graph([a + 1, a * 2]).source
    assert len(records(source)) == 5 and source.count("penwidth=2") == 2
    with pytest.raises(TypeError, match="draw_graph expects"):
        draw_graph(1.0)
    with pytest.raises(TypeError, match="draw_graph expects"):
        draw_graph([])


def test_record_labels_escape_graphviz_syntax():
    label = 'a|{b}<c>\\"q"&lt;'
    source = draw_graph(Value(1.0, label=label) * 2).source
    assert r'{ a\|\{b\}\<c\>\\\"q\"&amp;lt; | data 1 | grad 0 }' in source


@needs_dot
@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="ab |{}<>\\\"'&;#[]()=-", min_size=1, max_size=10)
       .map(lambda s: " ".join(s.split())).filter(bool))
def test_any_label_renders_verbatim(label):
    texts = svg_texts(draw_graph(Value(1.0, label=label) * 2).pipe(format="svg", encoding="utf-8"))
    assert label in texts


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


def test_missing_dot_explains_how_to_install(no_dot, tmp_path):
    root = sigmoid_neuron()
    graph = draw_graph(root)
    assert "data 0.7311" in graph.source  # building the graph needs no dot
    target = tmp_path / "out" / "g.png"
    target.parent.mkdir()
    with pytest.raises(RuntimeError) as raised:
        draw_graph(root, filename=target)
    assert isinstance(raised.value, (GraphvizNotFoundError, graphviz.ExecutableNotFound))
    for step in INSTALL_STEPS:
        assert step in str(raised.value)
    assert list(target.parent.iterdir()) == []
    for render in (lambda: graph.pipe(format="svg"), graph._repr_mimebundle_,
                   lambda: graph.render(target.parent / "g", format="png")):
        with pytest.raises(GraphvizNotFoundError, match="brew install graphviz"):
            render()


def test_failed_render_leaves_an_existing_file_untouched(no_dot, tmp_path):
    target = tmp_path / "g.svg"
    target.write_text("old picture")
    with pytest.raises(GraphvizNotFoundError):
        draw_graph(Value(1.0) + 1, filename=target)
    assert target.read_text() == "old picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-bin", "g.svg"]


@needs_dot
def test_failed_write_removes_its_temporary(tmp_path, monkeypatch):
    target = tmp_path / "g.svg"
    target.write_text("old picture")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("autograd.viz.render.os.replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        draw_graph(Value(1.0) + 1, filename=target)
    assert target.read_text() == "old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]


def test_a_tensor_graph_shows_every_nodes_gradient_after_backward():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), label="x")
    w = Tensor(np.array([[1.0, -1.0], [0.5, 2.0]]), requires_grad=True, label="W")
    h = (x @ w).tanh()
    h.label = "h"
    loss = h.sum()
    loss.label = "loss"
    assert "grad [[1, 1], [1, 1]]" not in draw_graph(loss).source  # nothing carried yet
    loss.backward()
    source = draw_graph(loss, rankdir="LR").source
    product = np.array([[1.0, 2.0], [3.0, 4.0]]) @ np.array([[1.0, -1.0], [0.5, 2.0]])
    expected = 1 - np.tanh(product) ** 2  # d loss / d (x @ W)
    assert "{ h\\n(2, 2) float64 | data [[0.964, 0.9951], [0.9999, 0.9999]] | grad [[1, 1], [1, 1]] }" in source
    assert f"grad [[{expected[0, 0]:.4g}, {expected[0, 1]:.4g}]," in source
    assert "{ loss\\nscalar float64 | data 3.959 | grad 1 }" in source
    assert h.grad is None  # shown, not accumulated: .grad stays torch's


def test_big_gradients_are_not_kept_and_create_graph_keeps_no_tensor():
    import gc
    import weakref

    from autograd.graph import KEEP_BYTES, carried_grad
    x = Tensor(np.ones(KEEP_BYTES // 8 + 1), requires_grad=True)
    y = x * 2.0
    (y * y).sum().backward()
    assert carried_grad(y) is None and x.grad is not None
    a = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    b = a.tanh()
    (b * b).sum().backward(create_graph=True)
    assert carried_grad(b) is None  # a gradient that is a graph node would tie the graph in a cycle
    ref = weakref.ref(b)
    gc.disable()
    try:
        del b
        a.grad = None
        assert ref() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_every_writer_shares_one_atomic_write_that_keeps_an_existing_files_mode(tmp_path):
    import os
    import stat

    from autograd.files import write_atomically
    target = tmp_path / "picture.svg"
    target.write_text("old")
    os.chmod(target, 0o640)
    x = Value(2.0, label="x")
    draw_graph(x * x, filename=target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640 and target.read_text().startswith("<?xml")
    link = tmp_path / "link.bin"
    link.symlink_to(tmp_path / "real.bin")
    assert write_atomically(link, lambda f: f.write(b"abc"), "test") == str(tmp_path / "real.bin")
    assert link.is_symlink() and (tmp_path / "real.bin").read_bytes() == b"abc"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.bin", "picture.svg", "real.bin"]
