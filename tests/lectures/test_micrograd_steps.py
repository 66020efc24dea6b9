"""The micrograd lecture: one tanh neuron differentiated by calling each node's ``_backward`` by hand, then
in topological order found through ``_prev``, then by ``backward()``; the same neuron with tanh spelled out
through exp; the lecture's torch cell (the neuron on one-element float64 tensors) run on both libraries;
NumPy scalars mixed with Values; and a tiny MLP trained with micrograd's loop.  torch's autograd, in
float64, is the reference for every gradient and every loss."""

import numpy as np
import pytest

import autograd
from autograd import Value
from nn import MLP


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _neuron_inputs():
    # inputs, weights and a bias chosen for this test (not the lecture's), so that tanh is far from
    # saturated and all six gradients are distinct and non-zero
    return {"x1": 1.5, "x2": -0.5, "w1": -0.8, "w2": 1.3, "b": 0.9}


def torch_neuron(torch, spelled_out=False):
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in _neuron_inputs().items()}
    x1, x2, w1, w2, b = (leaves[k] for k in ("x1", "x2", "w1", "w2", "b"))
    inner = {}
    inner["x1w1"] = x1 * w1
    inner["x2w2"] = x2 * w2
    inner["x1w1x2w2"] = inner["x1w1"] + inner["x2w2"]
    inner["n"] = inner["x1w1x2w2"] + b
    if spelled_out:
        inner["e"] = (2 * inner["n"]).exp()
        o = (inner["e"] - 1) / (inner["e"] + 1)
    else:
        o = torch.tanh(inner["n"])
    for t in inner.values():
        t.retain_grad()
    o.backward()
    grads = {k: t.grad.item() for k, t in {**leaves, **inner}.items()}
    return o.item(), grads


def value_neuron():
    leaves = {k: Value(v, label=k) for k, v in _neuron_inputs().items()}
    x1, x2, w1, w2, b = (leaves[k] for k in ("x1", "x2", "w1", "w2", "b"))
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    inner = {"x1w1": x1w1, "x2w2": x2w2, "x1w1x2w2": x1w1x2w2, "n": n}
    return leaves, inner, o


def test_manual_backward_steps_match_torch(torch):
    out_t, grads_t = torch_neuron(torch)

    leaves, inner, o = value_neuron()
    assert o.data == pytest.approx(out_t, rel=1e-12)

    # the graph as micrograd shows it: parents as a set, the op that made each node
    x1, x2, w1, w2, b = (leaves[k] for k in ("x1", "x2", "w1", "w2", "b"))
    assert o._prev == {inner["n"]} and o._op == "tanh"
    assert inner["n"]._prev == {inner["x1w1x2w2"], b} and inner["n"]._op == "+"
    assert inner["x1w1x2w2"]._prev == {inner["x1w1"], inner["x2w2"]} and inner["x1w1x2w2"]._op == "+"
    assert inner["x1w1"]._prev == {x1, w1} and inner["x1w1"]._op == "*"
    assert inner["x2w2"]._prev == {x2, w2} and inner["x2w2"]._op == "*"
    for leaf in leaves.values():
        assert leaf._prev == set() and leaf._op == "" and leaf.grad == 0.0

    # backpropagate one node at a time, output first
    o.grad = 1.0
    o._backward()
    assert inner["n"].grad == pytest.approx(grads_t["n"], rel=1e-12)
    assert x1.grad == 0.0  # nothing has reached the leaves yet
    inner["n"]._backward()
    inner["x1w1x2w2"]._backward()
    inner["x2w2"]._backward()
    inner["x1w1"]._backward()
    for name, node in {**leaves, **inner}.items():
        assert node.grad == pytest.approx(grads_t[name], rel=1e-12, abs=1e-15), name
    # calling _backward on a leaf does nothing
    b._backward()
    assert b.grad == pytest.approx(grads_t["b"], rel=1e-12)


def _topological(root):
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            for parent in v._prev:
                visit(parent)
            order.append(v)

    visit(root)
    return order


def test_topological_order_and_backward_agree_with_torch(torch):
    _, grads_t = torch_neuron(torch)

    # the same neuron, twice: once driven through a topological sort built from _prev, once by backward()
    leaves_a, inner_a, o_a = value_neuron()
    order = _topological(o_a)
    assert len(order) == 10 and order[-1] is o_a
    o_a.grad = 1.0
    for node in reversed(order):
        node._backward()
    leaves_b, inner_b, o_b = value_neuron()
    o_b.backward()
    for name in list(leaves_a) + list(inner_a):
        node_a = leaves_a.get(name) or inner_a[name]
        node_b = leaves_b.get(name) or inner_b[name]
        assert node_a.grad == pytest.approx(grads_t[name], rel=1e-12, abs=1e-15), name
        assert node_b.grad == pytest.approx(grads_t[name], rel=1e-12, abs=1e-15), name


def test_tanh_spelled_out_through_exp_matches_torch(torch):
    out_t, grads_t = torch_neuron(torch, spelled_out=True)

    leaves = {k: Value(v, label=k) for k, v in _neuron_inputs().items()}
    x1, x2, w1, w2, b = (leaves[k] for k in ("x1", "x2", "w1", "w2", "b"))
    n = x1 * w1 + x2 * w2 + b
    e = (2 * n).exp()
    o = (e - 1) / (e + 1)
    o.backward()
    assert o.data == pytest.approx(out_t, rel=1e-12)
    assert n.grad == pytest.approx(grads_t["n"], rel=1e-12)
    assert e.grad == pytest.approx(grads_t["e"], rel=1e-12)
    for name, leaf in leaves.items():
        assert leaf.grad == pytest.approx(grads_t[name], rel=1e-12, abs=1e-15), name

    # a node used twice: both paths add up (micrograd's bug fix: += in _backward)
    a = Value(3.0)
    twice = a + a
    assert twice._prev == {a}
    twice.backward()
    a_t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    (a_t + a_t).backward()
    assert a.grad == a_t.grad.item() == 2.0


def tensor_neuron(lib):
    """The lecture's torch cell: the same neuron on one-element float64 tensors made with the class call."""
    leaves = {}
    for k, v in _neuron_inputs().items():
        leaves[k] = lib.Tensor([v]).double()
        leaves[k].requires_grad = True
    x1, x2, w1, w2, b = (leaves[k] for k in ("x1", "x2", "w1", "w2", "b"))
    n = x1 * w1 + x2 * w2 + b
    o = lib.tanh(n)
    value = o.data.item()
    o.backward()  # a shape-(1,) output: one element, so no gradient argument is needed
    return value, tuple(o.shape), o.dtype == lib.float64, {k: t.grad.item() for k, t in leaves.items()}


def test_one_element_tensor_neuron_matches_torch(torch):
    value, shape, is_double, grads = tensor_neuron(autograd)
    value_t, shape_t, is_double_t, grads_t = tensor_neuron(torch)
    assert shape == shape_t == (1,)
    assert is_double and is_double_t
    assert value == pytest.approx(value_t, rel=1e-12)
    for name in grads_t:
        assert type(grads[name]) is float
        assert grads[name] == pytest.approx(grads_t[name], rel=1e-12, abs=1e-15), name
    # and the Value version agrees with both, to float32: Tensor([v]) stores float32 before .double()
    leaves, _, o = value_neuron()
    o.backward()
    for name, leaf in leaves.items():
        assert leaf.grad == pytest.approx(grads[name], rel=1e-6), name


def test_numpy_scalars_mix_with_values(torch):
    v64, v32, vint = Value(np.float64(1.5)), Value(np.float32(0.25)), Value(np.int64(3))
    assert type(v64.data) is float and type(v32.data) is float and type(vint.data) is float
    assert (v64.data, v32.data, vint.data) == (1.5, 0.25, 3.0)

    # the demo's max-margin loss: labels are NumPy int64 (-1/+1), scores are Values
    score = Value(2.0)
    neg = np.int64(-1) * score
    assert isinstance(neg, Value) and neg.data == -2.0
    for yi in (np.int64(-1), np.int64(1)):
        s = Value(0.4)
        loss = (1 + -yi * s).relu() + np.float64(0.5) * s * s
        loss.backward()
        s_t = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
        loss_t = torch.relu(1 + -torch.tensor(int(yi)) * s_t) + 0.5 * s_t * s_t
        loss_t.backward()
        assert isinstance(loss, Value)
        assert loss.data == pytest.approx(loss_t.item(), rel=1e-12)
        assert s.grad == pytest.approx(s_t.grad.item(), rel=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_mlp_training_loop_matches_torch(activation, torch):
    rng = np.random.default_rng(3)
    model = MLP(3, [4, 4, 1]) if activation == "relu" else MLP(3, [4, 4, 1], activation=activation)
    # overwrite the initial weights with our own draw (uniform in [-1, 1], as the lecture's neurons)
    for layer in model.layers:
        for neuron in layer.neurons:
            for w in neuron.w:
                w.data = float(rng.uniform(-1, 1))
            neuron.b.data = float(rng.uniform(-1, 1))

    params = model.parameters()
    assert len(params) == 3 * 4 + 4 + 4 * 4 + 4 + 4 * 1 + 1
    every = [p for layer in model.layers for neuron in layer.neurons for p in neuron.w + [neuron.b]]
    assert {id(p) for p in params} == {id(p) for p in every}
    assert all(isinstance(p, Value) for p in params)

    # the same network in torch, float64, from the same numbers
    weights = [torch.tensor([[w.data for w in neuron.w] for neuron in layer.neurons], dtype=torch.float64,
                            requires_grad=True) for layer in model.layers]
    biases = [torch.tensor([neuron.b.data for neuron in layer.neurons], dtype=torch.float64, requires_grad=True)
              for layer in model.layers]
    act = torch.relu if activation == "relu" else torch.tanh
    assert sum(t.numel() for t in weights + biases) == len(params)

    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    X, Y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)

    losses, losses_t = [], []
    for step in range(20):
        ypred = [model(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        if step == 0:
            first_grads = [p.grad for p in every]
        for p in model.parameters():
            p.data += -0.05 * p.grad
        losses.append(loss.data)

        h = X
        for i, (W, bias) in enumerate(zip(weights, biases)):
            h = h @ W.T + bias
            if i < len(weights) - 1:
                h = act(h)
        loss_t = ((h.squeeze(1) - Y) ** 2).sum()
        for t in weights + biases:
            t.grad = None
        loss_t.backward()
        if step == 0:
            first_grads_t = [g for W, bias in zip(weights, biases)
                             for row_w, gb in zip(W.grad.tolist(), bias.grad.tolist()) for g in row_w + [gb]]
        with torch.no_grad():
            for t in weights + biases:
                t += -0.05 * t.grad
        losses_t.append(loss_t.item())

    assert isinstance(losses[0], float)
    np.testing.assert_allclose(first_grads, first_grads_t, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(losses, losses_t, rtol=1e-9, atol=1e-12)
    assert losses[-1] < losses[0]
    final = [[[w.data for w in n.w] for n in layer.neurons] for layer in model.layers]
    for layer_w, W in zip(final, weights):
        np.testing.assert_allclose(layer_w, W.detach().numpy(), rtol=1e-9, atol=1e-12)
