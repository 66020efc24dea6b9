"""detect_anomaly and trace_backward: hooks of the one backward pass."""

import numpy as np
import pytest

from autograd import AnomalyError, Tensor, Value, detect_anomaly, trace_backward


def test_forward_nan_names_the_op_shapes_and_user_line():
    x = Tensor(np.array([1.0, 0.0, 2.0]), requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as error:
        y = x * 2
        y.log()  # log(0) = -inf: this line is named in the message
    message = str(error.value)
    assert "op 'log'" in message and "input shapes (3,)" in message
    assert "test_debug.py:" in message and "forward result" in message
    assert error.value.node.op == "log"


def test_backward_inf_names_the_op_whose_gradient_broke():
    a = Value(0.0, label="a")
    with detect_anomaly():
        b = a.sqrt()  # finite forward, infinite derivative at 0
        c = b * 3.0
        with pytest.raises(AnomalyError, match=r"backward of op 'sqrt'.*input 0.*test_debug.py:"):
            c.backward()


def test_anomaly_mode_is_off_by_default_and_restored():
    a = Value(0.0)
    b = a.sqrt() * 2.0
    b.backward()  # no error outside detect_anomaly: inf flows like in PyTorch
    assert a.grad == float("inf")
    with detect_anomaly():
        pass
    assert (Tensor(np.array([0.0]), requires_grad=True).log()).op == "log"


def test_trace_records_each_step_with_upstream_local_and_contributions(capsys):
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    trace = trace_backward(f)
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split() == ["step", "node", "op", "upstream", "local", "contributions"]
    first, second = trace.steps[0], trace.steps[1]
    assert first["node"] is f and first["upstream"] == 1.0
    assert first["local"] == (-4.0, 3.0) and first["contributions"] == (-4.0, 3.0)  # mul swaps
    assert second["node"] is q and second["local"] == (1.0, 1.0) and second["contributions"] == (-4.0, -4.0)
    assert [s["node"].label for s in trace.steps] == ["f", "q", "x", "y", "z"]
    assert trace.step_of[q] == 2 and trace.edges[(f, 1)] == (3.0, 3.0)
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)
    f.backward()  # the trace retained the graph
    assert x.grad == -8.0


def test_trace_of_a_tensor_graph_records_contributions_without_scalar_locals():
    w = Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    out = (w * 3.0).sum()
    trace = trace_backward(out, show=False)
    assert len(trace) == 2 and len(trace.steps) == 3  # two ops ran a backward; the leaf w is recorded too
    mul_step = trace.steps[1]
    assert mul_step["op"] == "*" and mul_step["local"] is None
    np.testing.assert_array_equal(mul_step["contributions"][0], [[3.0, 3.0]])
    assert "array(1, 2)" in trace.table()


def test_table_numbers_only_ops_and_lists_leaves_with_their_final_gradient():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = (x + y) * z
    f.label = "f"
    rows = [line.split() for line in trace_backward(f, show=False).table().splitlines()[1:]]
    assert [row[:3] for row in rows] == [["1", "f", "*"], ["2", "-", "+"],  # z arrives at step 1, not "step 5"
                                         ["-", "x", "leaf"], ["-", "y", "leaf"], ["-", "z", "leaf"]]
    assert rows[-1][3] == "3"


def test_table_names_module_parameters_as_the_picture_does():
    from nn.scalar import MLP

    model = MLP(2, [2, 1])
    out = model([Value(1.0, label="x0"), Value(-1.0, label="x1")])
    out = out[0] if isinstance(out, list) else out
    table = trace_backward((out - 1.0) ** 2, show=False).table()
    assert "layers.1.neurons.0.b" in table and "layers.0.neurons.1.w.0" in table
    assert "#" not in table
