"""draw_graph(collapse="module"): big models drawn as one box per innermost nn.Module call, nested in
clusters for the modules that contain other calls."""

import re
import shutil
import struct
import time

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor, Value, draw_graph
from autograd.tensor_class import _result as _tensor_result

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def randn(*shape, seed, requires_grad=False):
    """Seeded standard normal float32 samples as a Tensor."""
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return Tensor(data, requires_grad=requires_grad)


def edges(source: str) -> list:
    """(tail, head, label or None) for every edge in the DOT source."""
    return [(tail, head, label or None) for tail, head, label in
            re.findall(r"^\t(\w+) -> (\w+)(?: \[label=(\w+)\])?$", source, flags=re.MULTILINE)]


def png_size(data: bytes) -> tuple:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def cluster_body(source: str, name: str) -> str:
    """The DOT text of subgraph ``name`` (nested subgraphs included)."""
    start = source.index(f"subgraph {name} {{")
    depth = 0
    for i in range(source.index("{", start), len(source)):
        depth += {"{": 1, "}": -1}.get(source[i], 0) if source[i - 1] != "\\" else 0
        if depth == 0:
            return source[start:i + 1]
    raise AssertionError(f"{name} is not closed")


def mlp_loss():
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    x = randn(32, 4, seed=0)
    x.label = "x"
    loss = F.cross_entropy(model(x), np.random.default_rng(0).integers(0, 3, 32))
    loss.label = "loss"
    loss.backward()
    return model, x, loss


@needs_dot
def test_mlp_collapses_into_one_box_per_layer_inside_the_sequential(tmp_path):
    _, _, loss = mlp_loss()
    graph = draw_graph(loss, collapse="module", rankdir="TB", filename=tmp_path / "mlp.png")
    source = graph.source
    boxes = dict(re.findall(r'^\t+(m\d+) \[label="(.*?)"', source, flags=re.MULTILINE))
    titles = [label.split(" | ")[0].lstrip("{ ") for label in boxes.values()]
    assert titles == ["(0) Linear(in_features=4, out_features=16, bias=True)", "(1) ReLU()",
                      "(2) Linear(in_features=16, out_features=16, bias=True)", "(3) ReLU()",
                      "(4) Linear(in_features=16, out_features=3, bias=True)"]
    first = next(iter(boxes.values()))
    assert first.split(" | ")[1:3] == ["weight (16, 4), bias (16,)", "out (32, 16) float32"]
    sequential = cluster_body(source, "cluster_m5")
    assert 'label="Sequential\\nout (32, 3) float32"' in sequential
    assert all(f"\t\t{name} [" in sequential for name in boxes)
    chain = re.findall(r"^\t(m\d) -> (m\d)$", source, flags=re.MULTILINE)
    assert chain == [("m0", "m1"), ("m1", "m2"), ("m2", "m3"), ("m3", "m4")]
    assert "(16, 4) float32" not in source  # the parameters are inside their boxes
    assert "x\\n(32, 4) float32" in source.split("subgraph")[0]  # the input stays outside
    assert "5 module calls collapsed into boxes" in source
    width, height = png_size((tmp_path / "mlp.png").read_bytes())
    assert width < 1200 and height < 1800  # a page a person can read, not a 5000-pixel strip


def test_collapsed_box_turns_red_when_a_parameter_inside_fails_the_check():
    class Scale(nn.Module):
        """x * weight, with a backward that forgets x in the weight's gradient."""

        def __init__(self):
            self.weight = Tensor(np.linspace(0.5, 1.5, 16).astype(np.float32), requires_grad=True)

        def forward(self, x):
            return _tensor_result(x.numpy() * self.weight.numpy(), (x, self.weight),
                                  lambda g, out, a, b: (g * b, g), "*")

    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), Scale(), nn.Linear(16, 3))
    x, y = randn(32, 4, seed=0), np.random.default_rng(0).integers(0, 3, 32)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    source = draw_graph(loss, collapse="module", check=lambda: F.cross_entropy(model(x), y)).source
    line = next(line for line in source.splitlines() if "(2) Scale()" in line)
    assert "2.weight: numeric differs at" in line and "color=red" in line
    assert "gradient check: 1 of 5 leaves DISAGREE (2.weight)" in source
    assert sum("color=red" in line for line in source.splitlines()) == 1


def test_nested_modules_nest_their_clusters_and_keep_their_own_ops():
    class Block(nn.Module):
        def __init__(self):
            self.body = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
            self.gain = Tensor(np.float32(0.5), requires_grad=True)

        def forward(self, x):
            return x + self.body(x) * self.gain

    class Net(nn.Module):
        def __init__(self):
            self.inp, self.blocks, self.out = nn.Linear(4, 8), [Block(), Block()], nn.Linear(8, 3)

        def forward(self, x):
            h = self.inp(x)
            for block in self.blocks:
                h = block(h)
            return self.out(h)

    out = Net()(randn(5, 4, seed=1)).sum()
    out.backward()
    source = draw_graph(out, collapse="module").source
    net = cluster_body(source, "cluster_m10")
    block = cluster_body(source, "cluster_m4")
    body = cluster_body(source, "cluster_m3")
    assert 'label="Net\\nout (5, 3) float32"' in net and block in net and body in block
    assert 'label="(blocks.0) Block\\nout (5, 8) float32"' in block
    assert 'label="(body) Sequential\\nout (5, 8) float32"' in body
    assert "(0) Linear(in_features=8, out_features=8, bias=True)" in body
    assert "blocks.0.gain\\nscalar float32" in block.replace(body, "")  # its own parameter and ops
    assert re.search(r'op\d+ \[label="\*"\]', block.replace(body, ""))
    assert "(inp) Linear" in net and "(out) Linear" in net


def test_a_shared_layer_keeps_its_weight_in_the_enclosing_cluster_and_identity_draws_nothing():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared, nn.Identity())
    out = model(randn(2, 3, seed=0)).sum()
    out.backward()
    source = draw_graph(out, collapse="module").source
    sequential = cluster_body(source, "cluster_m3")  # the Identity returned its input: no call, no box
    weight = re.search(r'\t\t(v\d+) \[label="\{ 0\.weight\\n\(3, 3\) float32', sequential).group(1)
    assert {head for tail, head, _ in edges(source) if tail == weight} == {"m0", "m2"}
    assert "Identity" not in source and "3 module calls collapsed into boxes" in source


def test_scalar_mlp_collapses_into_neuron_boxes():
    mlp = nn.MLP(2, [4, 4, 1])
    out = mlp([Value(1.0, label="x0"), Value(-2.0, label="x1")])
    out.backward()
    source = draw_graph(out, collapse="module").source
    boxes = re.findall(r'^\t+m\d+ \[label="(?:\{ )?\(([\w.]+)\) Neuron\((\d), ', source, flags=re.MULTILINE)
    assert sorted(boxes) == sorted([(f"layers.{i}.neurons.{j}", n) for i, n in ((0, "2"), (1, "4"))
                                    for j in range(4)] + [("neurons.0", "4")])
    assert 'label="MLP\\nout' in source and "(layers.2) Layer(4, 1, activation=" in source


def test_parameters_are_named_in_the_plain_drawing_and_collapse_is_checked():
    model, x, loss = mlp_loss()
    source = draw_graph(loss).source
    assert r"{ 0.weight\n(16, 4) float32 | data min" in source and r"{ 4.bias\n(3,) float32" in source
    with pytest.raises(ValueError, match="collapse must be None or 'module'"):
        draw_graph(loss, collapse="layer")


def test_collapse_of_six_hundred_calls_is_fast():
    layers = []
    for _ in range(300):
        layers += [nn.Linear(4, 4), nn.ReLU()]
    loss = nn.Sequential(*layers)(randn(8, 4, seed=0)).sum()
    loss.backward()
    start = time.perf_counter()
    source = draw_graph(loss, collapse="module").source
    assert time.perf_counter() - start < 2.0
    assert source.count('fillcolor="#dde8f8"') == 600 and "600 module calls collapsed into boxes" in source
