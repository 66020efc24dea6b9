"""The chain rule made visible: edge labels from the trace, backward steps, frames, finite-difference
overlay, the anomaly mark, and the backward trace table these pictures are built from."""

import importlib.util
import math
import pathlib
import re
import struct
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from autograd import (
    AnomalyError, Tensor, Value, backward_frames, detect_anomaly, draw_graph, trace_backward,
)
from autograd.record import Op
from autograd.value import _result


_spec = importlib.util.spec_from_file_location("viz_lecture", pathlib.Path(__file__).with_name("_lecture.py"))
_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_examples)


def lecture():
    """f = (x + y) z at x=-2, y=5, z=-4, traced: grads -4, -4, 3."""
    return _examples.lecture(traced=True)


def records(source: str) -> dict:
    """A node's label (or id when unlabelled) -> (its id, its record fields)."""
    found = {}
    for name, body in re.findall(r'^\t+(v\d+) \[label="(.*?)"', source, flags=re.MULTILINE):
        fields = body.strip("{ }").split(" | ")
        found[fields[0].split("\\n")[0] if not fields[0].startswith("data") else name] = (name, fields)
    return found


def by_id(source: str) -> dict:
    """Value-node id -> its record fields."""
    return {name: body.strip("{ }").split(" | ")
            for name, body in re.findall(r'^\t+(v\d+) \[label="(.*?)"', source, flags=re.MULTILINE)}


def edges(source: str) -> dict:
    """(tail, head) -> the edge's attribute text ('' when it has none); tails may repeat on a+a."""
    return {(t, h): a for t, h, a in re.findall(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?$", source, flags=re.MULTILINE)}


def op_of(source: str, name: str) -> str:
    """The op node id fed by the value node ``name`` (the first one)."""
    return next(h for (t, h) in edges(source) if t == name and h.startswith("op"))


def test_lecture_example_labels_local_derivatives_carried_gradients_and_steps():
    source = draw_graph(lecture(), show_local=True).source
    nodes = records(source)
    assert nodes["x"][1] == ["x", "data -2", "grad -4"]  # leaves run no backward step of their own
    assert nodes["y"][1] == ["y", "data 5", "grad -4"]
    assert nodes["z"][1] == ["z", "data -4", "grad 3"]
    assert nodes["q"][1] == ["q", "data 3", "grad -4", "step 2"]
    assert nodes["f"][1] == ["f", "data -12", "grad 1", "step 1"]
    ids = {label: name for label, (name, _) in nodes.items()}
    into = edges(source)
    mul, add = op_of(source, ids["z"]), op_of(source, ids["x"])
    assert into[(ids["q"], mul)] == r'label="0: local z = -4\ncarries -4"'  # mul swaps: q's local is z
    assert into[(ids["z"], mul)] == r'label="1: local q = 3\ncarries 3"'
    assert into[(ids["x"], add)] == r'label="0: local 1\ncarries -4"'  # add distributes
    assert into[(ids["y"], add)] == r'label="1: local 1\ncarries -4"'
    assert f'{add} [label="+\\ndistributes"]' in source and f'{mul} [label="*\\nswaps"]' in source
    assert "backward pass: 2 steps" in source


def test_show_local_without_a_trace_says_to_run_trace_backward():
    a = Value(1.0, label="a")
    b = a * 2
    with pytest.raises(ValueError, match=r"run autograd\.trace_backward\(root\) in place of root\.backward\(\)"):
        draw_graph(b, show_local=True)
    trace = trace_backward(b, show=False)
    lecture()  # a later trace of another graph: the explicit one still draws this graph
    assert "carries 1" in draw_graph(b, show_local=True, trace=trace).source


def test_fan_out_shows_the_sum_of_incoming_contributions_and_a_sum_marker():
    x = Value(2.0, label="x")
    f = x + x * 2.0
    f.label = "f"
    trace_backward(f, show=False)
    source = draw_graph(f, show_local=True).source
    name, fields = records(source)["x"]
    assert fields[2] == "grad 3 = 1 + 2"
    assert x.grad == 3.0
    marker = "s" + name[1:]
    assert f'{marker} [label="Σ fan-out adds"' in source
    into = edges(source)
    assert (name, marker) in into
    assert sorted(a for (t, _), a in into.items() if t == marker) == [
        r'label="0: local 1\ncarries 1"', r'label="0: local 2\ncarries 2"']  # into the + and the *


def test_negative_terms_are_parenthesised():
    x = Value(3.0, label="x")
    f = x * 2.0 - x * 5.0
    trace_backward(f, show=False)
    assert records(draw_graph(f, show_local=True).source)["x"][1][2] == "grad -3 = 2 + (-5)"


def test_max_routes_the_gradient_and_dashes_the_losing_edge():
    a, b = Value(3.0, label="a"), Value(5.0, label="b")
    m = a.max(b)
    trace_backward(m, show=False)
    source = draw_graph(m, show_local=True).source
    ids = {label: name for label, (name, _) in records(source).items()}
    op = op_of(source, ids["a"])
    assert edges(source)[(ids["a"], op)] == r'label="0: local 0\ncarries 0" color=gray50 style=dashed'
    assert edges(source)[(ids["b"], op)] == r'label="1: local 1\ncarries 1"'
    assert f'{op} [label="max\\nroutes"]' in source


def test_relu_of_a_negative_input_carries_zero_on_a_dashed_edge():
    r = Value(-1.5, label="r")
    out = r.relu()
    trace_backward(out, show=False)
    source = draw_graph(out, show_local=True).source
    assert edges(source)[("v0", "op1")] == r'label="local 0\ncarries 0" color=gray50 style=dashed'
    assert 'op1 [label="relu\\nroutes"]' in source


def test_step_numbers_follow_the_backward_order():
    w = [Value(v, label=f"w{i}") for i, v in enumerate((2.0, -1.0, -3.0, -2.0, -3.0))]
    f = 1 / (1 + (-(w[0] * w[1] + w[2] * w[3] + w[4])).exp())
    trace = trace_backward(f, show=False)
    source = draw_graph(f, show_local=True).source
    step = {name: int(fields[-1].removeprefix("step ")) for name, fields in by_id(source).items()
            if fields[-1].startswith("step ")}
    assert sorted(step.values()) == list(range(1, len(trace) + 1)) == list(range(1, 9))  # one per op
    assert [step[name] for name in sorted(step, key=lambda n: int(n[1:]), reverse=True)][0] == 1  # root first
    result_of = {tail: head for (tail, head) in edges(source) if tail.startswith("op")}
    for tail, head in edges(source):
        if head.startswith("op") and tail in step:  # an op's step runs after its consumer's
            assert step[tail] > step[result_of[head]]
    assert not any(fields[0].startswith("w") and fields[-1].startswith("step") for fields in by_id(source).values())


def test_upto_step_shows_only_what_the_pass_has_computed():
    f = lecture()
    source = draw_graph(f, show_local=True, upto_step=1).source
    nodes = records(source)
    ids = {label: name for label, (name, _) in nodes.items()}
    assert nodes["f"][1][2] == "grad 1 (seed)"
    assert nodes["q"][1][2] == "grad -4 (final)" and nodes["z"][1][2] == "grad 3 (final)"  # one consumer each
    assert nodes["x"][1][2] == "grad pending"
    assert edges(source)[(ids["x"], op_of(source, ids["x"]))] == r'label="0: local 1"'  # not yet carried
    assert "backward step 1 of 2: f" in source
    assert re.search(rf'\t{ids["f"]} \[label=.*fillcolor="#fff2a8"', source)  # the current step is lit
    assert re.search(rf'\t{ids["x"]} \[label=.* color=gray55', source)  # later steps are greyed
    after = draw_graph(f, show_local=True, upto_step=2).source
    assert records(after)["x"][1][2] == "grad -4 (final)"
    assert "carries -4" in edges(after)[(ids["x"], op_of(after, ids["x"]))]
    before = draw_graph(f, upto_step=0).source
    assert "backward step 0 of 2 (before backward)" in before and "carries" not in before
    with pytest.raises(ValueError, match="upto_step must be an int from 0 to 2"):
        draw_graph(f, upto_step=3)


def test_backward_frames_step_through_the_pass():
    f = lecture()
    frames = backward_frames(f)
    assert len(frames) == 3
    grads_of_x = [records(frame.source)["x"][1][2] for frame in frames]
    assert grads_of_x == ["grad pending", "grad pending", "grad -4 (final)"]
    assert "backward step 0 of 2" in frames[0].source and "backward pass: 2 steps" in frames[-1].source
    assert frames[1].source == draw_graph(f, upto_step=1).source


def test_tensor_graph_shows_fitted_contributions_and_the_trace_table_prints_shapes(capsys):
    x = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], label="x")
    w = Tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True, label="W")
    b = Tensor([0.5, -0.5], requires_grad=True, label="b")
    loss = (x @ w + b).sum()
    loss.label = "loss"
    trace = trace_backward(loss)
    table = capsys.readouterr().out.splitlines()
    assert table[1].split() == ["1", "loss", "sum", "1", "-", "array(3,", "2)"]
    plus = next(s for s in trace.steps if s["op"] == "+")
    assert [np.shape(c) for c in plus["contributions"]] == [(3, 2), (2,)]  # b's is summed to its shape
    np.testing.assert_array_equal(plus["contributions"][1], [3.0, 3.0])
    source = draw_graph(loss, show_local=True).source
    nodes = records(source)
    assert nodes["b"][1][2] == "grad [3, 3]" and nodes["W"][1][2] == "grad [[9, 9], [12, 12]]"
    assert nodes["x"][1][2] == "grad None"  # needs no gradient, not part of the pass
    ids = {label: name for label, (name, _) in nodes.items()}
    assert edges(source)[(ids["b"], op_of(source, ids["b"]))] == 'label="1: carries [3, 3]"'
    assert edges(source)[(ids["x"], op_of(source, ids["x"]))] == "label=0"


def bad_tanh(x: Value) -> Value:
    """tanh whose backward wrongly uses tanh(x) as its derivative instead of 1 - tanh(x)**2."""
    return _result(math.tanh(x.data), Op("tanh", lambda g, out, a: (g * out,), Value.tanh), x)


def test_check_flags_a_wrong_gradient_in_red_and_confirms_the_right_one():
    x, y = Value(0.5, label="x"), Value(2.0, label="y")
    f = bad_tanh(x) * y
    f.backward()
    source = draw_graph(f, check=True).source
    x_line = next(line for line in source.splitlines() if '"{ x |' in line)
    y_line = next(line for line in source.splitlines() if '"{ y |' in line)
    assert "grad 0.9242 | numeric 1.573 ≠ grad 0.9242 }" in x_line
    assert "color=red" in x_line and "fontcolor=red" in x_line
    assert "numeric 0.4621 agrees }" in y_line and "color=forestgreen" in y_line
    assert "gradient check: 1 of 2 leaves DISAGREE (x)" in source
    assert x.data == 0.5 and y.data == 2.0  # the nudges were undone


def test_check_of_a_correct_graph_agrees_on_every_leaf_including_constants():
    w = [Value(v, label=f"w{i}") for i, v in enumerate((2.0, -1.0, -3.0, -2.0, -3.0))]
    f = 1 / (1 + (-(w[0] * w[1] + w[2] * w[3] + w[4])).exp()) + w[0] ** 2 + w[1].leaky_relu(0.1)
    f.backward()
    source = draw_graph(f, check=True).source
    assert "gradient check: all 7 leaves agree with central differences" in source
    assert "numeric -0.1966 agrees" not in source  # w0 also gets 2 * w0 from w0 ** 2
    assert "numeric 3.803 agrees" in source and "color=red" not in source


def test_check_explains_what_it_cannot_replay():
    a = Value(1.0, label="a")
    odd = _result(a.data * 3, Op("triple", lambda g, out, x: (g * 3,)), a)
    odd.backward()
    with pytest.raises(ValueError, match="has no forward for op 'triple'.*check=<a function"):
        draw_graph(odd, check=True)
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="Value graphs only"):
        draw_graph((t * t).sum(), check=True)
    with pytest.raises(ValueError, match="needs a scalar root"):
        draw_graph(t * t, check=lambda: t * t)
    with pytest.raises(TypeError, match="True .Value graphs. or a function"):
        draw_graph(odd, check="yes")


def test_check_with_a_function_covers_tensor_graphs_and_restores_float32_data():
    w = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, label="W")
    x = Tensor([[1.0, 2.0], [-1.0, 0.5]], requires_grad=True, label="x")
    original = w.numpy()
    loss = (x @ w).tanh().sum()
    loss.backward()
    source = draw_graph(loss, check=lambda: (x @ w).tanh().sum()).source
    assert "gradient check: all 2 leaves agree with central differences" in source
    assert re.search(r"W\\n\(2, 2\) float32 \| .* \| numeric agrees \(max diff \d", source)
    assert w.numpy() is original and w.numpy().dtype == np.float32
    with pytest.raises(ValueError, match="fn must recompute the root"):
        draw_graph(loss, check=lambda: (x @ w).sum())
    other = Tensor(w.numpy().copy(), requires_grad=True)
    with pytest.raises(ValueError, match="none of the drawn leaves"):
        draw_graph(loss, check=lambda: (Tensor(x.data) @ other).tanh().sum())


def test_anomaly_in_backward_marks_the_node_that_raised():
    a = Value(0.0, label="a")
    with detect_anomaly():
        b = a.sqrt()
        b.label = "b"
        c = b * 3.0
        c.label = "c"
        with pytest.raises(AnomalyError):
            c.backward()
    source = draw_graph(c).source
    line = next(line for line in source.splitlines() if '"{ b |' in line)
    assert "| anomaly: nan/inf here }" in line and "color=red" in line and "style=bold" in line
    assert re.search(r"op\d+ \[label=sqrt color=red", source)
    assert "detect_anomaly stopped at op 'sqrt'" in source


def test_anomaly_in_forward_marks_the_result_that_held_nan():
    x = Tensor(np.array([1.0, 0.0, 2.0]), requires_grad=True, label="x")
    with detect_anomaly(), pytest.raises(AnomalyError) as error:
        (x * 2).log()
    source = draw_graph(error.value.node).source
    assert "anomaly: nan/inf here" in source and "detect_anomaly stopped at op 'log'" in source
    assert "anomaly" not in draw_graph(x * 3).source  # other graphs are not marked


def test_big_traced_chain_draws_fast():
    y = Value(0.5, label="x")
    for _ in range(5_000):
        y = y * 1.0001
    trace_backward(y, show=False)
    start = time.perf_counter()
    source = draw_graph(y, show_local=True, max_nodes=None).source
    assert time.perf_counter() - start < 5.0
    assert source.count("carries") == 10_000 and "step 5000" in source and "step 5001" not in source


def png_size(data: bytes) -> tuple:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_pictures_render_as_png_and_svg(tmp_path):
    f = lecture()
    draw_graph(f, show_local=True, filename=tmp_path / "lecture.png")
    width, height = png_size((tmp_path / "lecture.png").read_bytes())
    assert width > 300 and height > width  # drawn top to bottom, the narrower way
    texts = [t.text for t in ET.fromstring(draw_graph(f, show_local=True).pipe(format="svg", encoding="utf-8"))
             .iter("{http://www.w3.org/2000/svg}text")]
    for text in ("1: local q = 3", "carries 3", "distributes", "swaps", "step 2"):
        assert text in texts
    x, y = Value(0.5, label="x"), Value(2.0, label="y")
    g = bad_tanh(x) * y
    trace_backward(g, show=False)
    draw_graph(g, check=True, filename=tmp_path / "check.png")
    for k, frame in enumerate(backward_frames(g)):
        frame.render(tmp_path / f"frame{k}", format="png")
    assert len(png_size((tmp_path / "check.png").read_bytes())) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".png") == [
        "check.png", *(f"frame{k}.png" for k in range(len(trace_backward(g, show=False)) + 1)), "lecture.png"]
