"""Scalar networks in the lecture notation, and Rosenblatt's perceptron."""

import numpy as np
import pytest

import nn
from autograd import Value, gradcheck


def test_neuron_computes_activation_of_weighted_sum():
    neuron = nn.Neuron(3, activation="tanh")
    neuron.w = [Value(0.5), Value(-1.0), Value(2.0)]
    neuron.b = Value(0.1)
    out = neuron([1.0, 2.0, 3.0])
    assert out.data == pytest.approx(np.tanh(0.5 - 2.0 + 6.0 + 0.1), rel=1e-15)


def test_consecutive_ones_detector_with_the_lectures_weights():
    # seed 001: two perceptron units on 4-bit vectors, w = [1, 2, 1, 0], b = -2.5 and
    # w = [0, 0, 1, 1], b = -1.5, the output ORs them: a vector with two consecutive ones fires.
    first, second = nn.Neuron(4, activation="linear"), nn.Neuron(4, activation="linear")
    first.w, first.b = [Value(float(v)) for v in (1, 2, 1, 0)], Value(-2.5)
    second.w, second.b = [Value(float(v)) for v in (0, 0, 1, 1)], Value(-1.5)
    for bits in range(16):
        x = [float(b) for b in f"{bits:04b}"]
        fires = first(x).data > 0 or second(x).data > 0
        consecutive = "11" in f"{bits:04b}"
        assert fires == consecutive, f"{bits:04b}"


def test_mlp_shapes_initialisation_and_parameter_order():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1) == 337
    assert model.layers[0].neurons[0].activation == "relu" and model.layers[-1].neurons[0].activation == "linear"
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    big = nn.Layer(400, 300, rng=np.random.default_rng(1))
    weights = np.array([w.data for n in big.neurons for w in n.w])
    assert weights.std() == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert all(n.b.data == 0.0 for n in big.neurons)


def test_mlp_outputs_a_value_or_a_list_and_gradchecks():
    model = nn.MLP(3, [4, 2], activation="tanh", seed=1)
    out = model([1.0, -2.0, 0.5])
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(v, Value) for v in out)
    single = nn.MLP(3, [4, 1], activation="tanh", seed=1)
    assert isinstance(single([1.0, -2.0, 0.5]), Value)
    w = single.layers[0].neurons[0].w[0]
    assert gradcheck(lambda w_: _with_weight(single, w_)([1.0, -2.0, 0.5]), w)


def _with_weight(model, w):
    model.layers[0].neurons[0].w[0] = w
    return model


def test_micrograd_style_training_loop_ports_unchanged():
    np.random.seed(1337)
    model = nn.MLP(2, [8, 1], activation="tanh")
    xs = [[2.0, 3.0], [3.0, -1.0], [0.5, 1.0], [1.0, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    for _ in range(200):
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
    assert loss.data < 0.05


def test_micrograd_nonlin_flag_and_bad_activation():
    assert nn.Neuron(2, nonlin=False).activation == "linear"
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.Neuron(2, activation="softplus")
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        nn.Neuron(2)([1.0, 2.0, 3.0])


def test_perceptron_learns_a_separable_problem_with_rosenblatts_rule():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = np.where(X @ np.array([2.0, -1.0]) + 0.3 > 0, 1, -1)
    keep = np.abs(X @ np.array([2.0, -1.0]) + 0.3) > 0.1  # a margin, so the rule converges quickly
    X, y = X[keep], y[keep]
    p = nn.Perceptron(2)
    updates = p.fit(X, y, epochs=1000)
    assert updates > 0
    assert (p.predict(X) == y).all()
    assert (y * (X @ p.w + p.b) > 0).all()  # a valid separator: y (w.x + b) > 0 for every point


def test_perceptron_single_update_follows_the_rule():
    p = nn.Perceptron(2)
    p.fit(np.array([[1.0, 2.0]]), np.array([1]), epochs=1)
    np.testing.assert_array_equal(p.w, [1.0, 2.0])  # w <- w + y x on the misclassified point
    assert p.b == 1.0
    with pytest.raises(ValueError, match="labels must be"):
        p.fit(np.array([[1.0, 2.0]]), np.array([3]))
