import math

import numpy as np
import pytest

from autograd import Tensor
from nn import init


def weight(*shape, dtype=np.float32):
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=True)


@pytest.mark.parametrize("shape, fans", [
    ((4, 3), (3, 4)),                 # Linear(3, 4).weight
    ((8, 3, 5, 5), (75, 200)),        # Conv2d(3, 8, 5).weight
    ((10, 3, 5, 5), (75, 250)),       # the lecture's 10 filters of 5x5x3
    ((2, 3, 4), (12, 8)),
    ((5, 1), (1, 5)),
])
def test_fans_by_hand(shape, fans):
    assert init.calculate_fan_in_and_fan_out(weight(*shape)) == fans


@pytest.mark.parametrize("shape", [(4, 3), (8, 3, 5, 5), (2, 3, 4), (6, 2, 3, 1, 2), (1, 7)])
def test_fans_match_torch(shape):
    torch = pytest.importorskip("torch")
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.calculate_fan_in_and_fan_out(weight(*shape)) == expected


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.calculate_fan_in_and_fan_out(weight(5))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.normal_(weight(5))  # std=None needs fan_in


@pytest.mark.parametrize("nonlinearity, param, expected", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 0, math.sqrt(2)), ("selu", None, 0.75),
])
def test_calculate_gain(nonlinearity, param, expected):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="softplus"):
        init.calculate_gain("softplus")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "0.1")


def test_normal_default_std_is_one_over_sqrt_fan_in():
    t = weight(500, 400)
    data = t.numpy()
    out = init.normal_(t, seed=0)
    assert out is t and t.numpy() is data and t.dtype == np.float32  # in place, dtype kept
    assert t.data.std() == pytest.approx(1 / math.sqrt(400), rel=0.01)
    assert abs(t.data.mean()) < 1e-3


def test_normal_mean_and_std():
    t = init.normal_(weight(300, 300, dtype=np.float64), std=2.0, mean=5.0, seed=1)
    assert t.dtype == np.float64
    assert t.data.mean() == pytest.approx(5.0, abs=0.02)
    assert t.data.std() == pytest.approx(2.0, rel=0.01)


def test_xavier_uniform_bound_and_std():
    t = init.xavier_uniform_(weight(300, 500), seed=0)
    bound = math.sqrt(6 / 800)
    assert np.abs(t.data).max() <= bound
    assert np.abs(t.data).max() == pytest.approx(bound, rel=1e-3)
    assert t.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    gained = init.xavier_uniform_(weight(300, 500), gain=init.calculate_gain("tanh"), seed=0)
    np.testing.assert_allclose(gained.data, t.data * 5 / 3, rtol=1e-6)


def test_xavier_normal_std():
    t = init.xavier_normal_(weight(16, 8, 5, 5), seed=0)  # fan_in 200, fan_out 400
    assert t.data.std() == pytest.approx(math.sqrt(2 / 600), rel=0.01)


def test_kaiming_uniform_bound_and_modes():
    t = init.kaiming_uniform_(weight(600, 200), seed=0)  # a=0, leaky_relu: gain sqrt(2)
    bound = math.sqrt(2) * math.sqrt(3 / 200)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() == pytest.approx(bound, rel=1e-3)
    t = init.kaiming_uniform_(weight(600, 200), mode="fan_out", nonlinearity="relu", seed=0)
    assert t.data.std() == pytest.approx(math.sqrt(2 / 600), rel=0.01)
    t = init.kaiming_uniform_(weight(600, 200), a=math.sqrt(5), seed=0)  # torch's Linear default
    assert np.abs(t.data).max() == pytest.approx(1 / math.sqrt(200), rel=1e-3)
    with pytest.raises(ValueError, match="fan_avg"):
        init.kaiming_uniform_(weight(3, 3), mode="fan_avg")


def test_kaiming_normal_std():
    t = init.kaiming_normal_(weight(64, 32, 3, 3), nonlinearity="relu", seed=0)  # fan_in 288
    assert t.data.std() == pytest.approx(math.sqrt(2 / 288), rel=0.01)


def test_statistics_match_torch():
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    for ours, theirs in [
        (init.xavier_uniform_, torch.nn.init.xavier_uniform_),
        (init.xavier_normal_, torch.nn.init.xavier_normal_),
        (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_),
        (init.kaiming_normal_, torch.nn.init.kaiming_normal_),
    ]:
        a = ours(weight(32, 16, 3, 3), seed=0).data
        b = theirs(torch.empty(32, 16, 3, 3), generator=gen).numpy()
        assert a.std() == pytest.approx(b.std(), rel=0.05), ours.__name__


def test_uniform_constant_zeros_ones():
    t = init.uniform_(weight(100, 100), -0.5, 2.0, seed=3)
    assert t.data.min() >= -0.5 and t.data.max() < 2.0 and t.data.mean() == pytest.approx(0.75, abs=0.02)
    np.testing.assert_array_equal(init.zeros_(t).data, 0.0)
    np.testing.assert_array_equal(init.ones_(t).data, 1.0)
    np.testing.assert_array_equal(init.constant_(t, 0.25).data, 0.25)
    assert t.dtype == np.float32
    bias = init.zeros_(Tensor(np.ones(4, dtype=np.float32)))
    np.testing.assert_array_equal(bias.data, [0, 0, 0, 0])
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(t, 1.0, 0.0)


def test_seeds_are_reproducible_and_generators_advance():
    a = init.normal_(weight(4, 4), seed=42).numpy().copy()
    b = init.normal_(weight(4, 4), seed=42).numpy().copy()
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(42)
    c = init.normal_(weight(4, 4), seed=rng).numpy().copy()
    d = init.normal_(weight(4, 4), seed=rng).numpy().copy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(c, d)
    with pytest.raises(TypeError, match="seed"):
        init.normal_(weight(2, 2), seed="42")


def test_rejects_non_float_and_non_tensors():
    with pytest.raises(TypeError, match="floating"):
        init.zeros_(Tensor(np.arange(4)))
    with pytest.raises(TypeError, match="list"):
        init.zeros_([1.0, 2.0])
