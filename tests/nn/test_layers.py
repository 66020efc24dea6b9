"""nn layers: torch's parameter layouts, init and state-dict keys; values and gradients against torch.nn."""

import math
import re

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor, gradcheck


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def array(*shape, seed=0, scale=1.0, shift=0.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale + shift


def leaf(data):
    return Tensor(np.array(data, dtype=np.float64), requires_grad=True)


def close(ours, theirs, rtol=1e-6, atol=1e-12):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours.data if isinstance(ours, Tensor) else ours, theirs, rtol=rtol, atol=atol)


def to_torch(torch, state: dict) -> dict:
    """Our state dict as torch tensors: the documented way to move weights across."""
    return {k: torch.from_numpy(v) for k, v in state.items()}


def run_both(torch, model, tmodel, x, seed=99):
    """Forward the same input through both, backpropagate the same random upstream gradient; returns (X, TX)."""
    X, TX = leaf(x), torch.tensor(x, requires_grad=True)
    out, tout = model(X), tmodel(TX)
    close(out, tout)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    (out * g).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    close(X.grad, TX.grad)
    return X, TX


def assert_same_parameter_grads(model, tmodel):
    theirs = dict(tmodel.named_parameters())
    ours = dict(model.named_parameters())
    assert set(ours) == set(theirs)
    for name, p in ours.items():
        close(p.grad, theirs[name].grad)


def gradcheck_layer(layer, x):
    """gradcheck with respect to the input and every parameter (gradcheck passes float64 copies in)."""
    names = [name for name, _ in layer.named_parameters()]

    def fn(x, *params):
        for name, p in zip(names, params):
            setattr(layer, name, p)
        return layer(x)

    return gradcheck(fn, leaf(x), *(leaf(p.data) for p in layer.parameters()))


# --- Linear ------------------------------------------------------------------------------------------

def test_linear_layout_and_torch_default_init():
    layer = nn.Linear(400, 300, seed=0)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(in), 1/sqrt(in)); the bias too
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.97 * bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert layer.num_parameters() == 400 * 300 + 300


def test_linear_seeds_rngs_and_the_global_seed_are_reproducible():
    same = [nn.Linear(5, 3, seed=1).weight.data for _ in range(2)]
    np.testing.assert_array_equal(*same)
    assert not np.array_equal(same[0], nn.Linear(5, 3, seed=2).weight.data)
    rng = np.random.default_rng(0)
    assert not np.array_equal(nn.Linear(5, 3, rng=rng).weight.data, nn.Linear(5, 3, rng=rng).weight.data)
    np.random.seed(7)
    first = nn.Linear(5, 3).weight.data
    np.random.seed(7)
    np.testing.assert_array_equal(nn.Linear(5, 3).weight.data, first)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(7, 5), (2, 7, 5), (5,)], ids=str)
def test_linear_matches_torch(torch, bias, shape):
    layer = nn.Linear(5, 3, bias=bias, dtype=np.float64, seed=0)
    tlayer = torch.nn.Linear(5, 3, bias=bias).double()
    tlayer.load_state_dict(to_torch(torch, layer.state_dict()))
    run_both(torch, layer, tlayer, array(*shape, seed=1))
    assert_same_parameter_grads(layer, tlayer)


def test_linear_state_dict_moves_both_ways_in_float32(torch):
    layer, tlayer = nn.Linear(6, 4, seed=0), torch.nn.Linear(6, 4)
    assert list(layer.state_dict()) == list(tlayer.state_dict()) == ["weight", "bias"]
    tlayer.load_state_dict(to_torch(torch, layer.state_dict()))  # strict: same keys, shapes and dtype
    x = array(3, 6, seed=2).astype(np.float32)
    close(layer(Tensor(x)), tlayer(torch.from_numpy(x)), rtol=1e-5, atol=1e-6)
    other = torch.nn.Linear(6, 4)
    layer.load_state_dict({k: v.numpy() for k, v in other.state_dict().items()})
    close(layer.weight, other.weight)


def test_linear_gradcheck():
    assert gradcheck_layer(nn.Linear(4, 3, dtype=np.float64, seed=0), array(2, 4, seed=3))
    assert gradcheck_layer(nn.Linear(4, 2, bias=False, dtype=np.float64, seed=0), array(3, 4, seed=4))


def test_linear_errors_and_repr():
    layer = nn.Linear(784, 10)
    with pytest.raises(ValueError, match=re.escape("Linear(784 -> 10): expected input with last dimension 784, "
                                                   "got shape (32, 100)")):
        layer(Tensor(np.zeros((32, 100))))
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        nn.Linear(0, 3)
    assert repr(nn.Linear(4, 3)) == ("Linear(in_features=4, out_features=3, bias=True)  # weight (3, 4), bias (3,)"
                                     "\n15 parameters")


# --- Conv2d -----------------------------------------------------------------------------------------

def test_conv2d_parameter_count_and_shapes_from_the_lecture():
    conv = nn.Conv2d(3, 10, 5, stride=1, padding=2)  # input 32x32x3, 10 5x5 filters, stride 1, pad 2
    assert conv.num_parameters() == 760  # (5 * 5 * 3 + 1) * 10
    assert conv.weight.shape == (10, 3, 5, 5) and conv.bias.shape == (10,)
    assert conv(Tensor(np.zeros((2, 3, 32, 32), np.float32))).shape == (2, 10, 32, 32)
    assert nn.Conv2d(3, 10, 5, bias=False).num_parameters() == 750


def test_conv2d_init_bound_uses_torch_fan_in():
    conv = nn.Conv2d(8, 16, 3, seed=0)
    bound = 1 / math.sqrt(8 * 3 * 3)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.weight.data).max() > 0.95 * bound
    assert np.abs(conv.bias.data).max() <= bound


@pytest.mark.parametrize("kernel, stride, padding", [
    (3, 1, 0), (3, 2, 1), ((3, 2), (2, 1), (1, 0)), (2, (1, 3), (0, 2)), (5, 1, 2),
])
def test_conv2d_matches_torch(torch, kernel, stride, padding):
    conv = nn.Conv2d(3, 4, kernel, stride=stride, padding=padding, dtype=np.float64, seed=0)
    tconv = torch.nn.Conv2d(3, 4, kernel, stride=stride, padding=padding).double()
    tconv.load_state_dict(to_torch(torch, conv.state_dict()))
    run_both(torch, conv, tconv, array(2, 3, 9, 8, seed=5))
    assert_same_parameter_grads(conv, tconv)


def test_conv2d_float32_state_dict_loads_into_torch(torch):
    conv, tconv = nn.Conv2d(1, 8, 3, padding=1, seed=0), torch.nn.Conv2d(1, 8, 3, padding=1)
    tconv.load_state_dict(to_torch(torch, conv.state_dict()))
    x = array(2, 1, 8, 8, seed=6).astype(np.float32)
    out = conv(Tensor(x))
    assert out.dtype == np.float32
    close(out, tconv(torch.from_numpy(x)), rtol=1e-5, atol=1e-6)


def test_conv2d_gradcheck():
    assert gradcheck_layer(nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1, dtype=np.float64, seed=0),
                           array(2, 2, 5, 4, seed=7))


def test_conv2d_errors_and_repr():
    conv = nn.Conv2d(3, 10, 5)
    with pytest.raises(ValueError, match=re.escape("Conv2d(3 -> 10, kernel_size=(5, 5)): expected input of shape "
                                                   "(N, 3, H, W), got shape (8, 1, 28, 28)")):
        conv(Tensor(np.zeros((8, 1, 28, 28))))
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1 or a pair"):
        nn.Conv2d(3, 10, (5, 5, 5))
    assert repr(nn.Conv2d(1, 8, 3, padding=1)).startswith(
        "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))  # weight (8, 1, 3, 3), bias (8,)")


# --- pooling, flatten, activations ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["Max", "Avg"])
@pytest.mark.parametrize("args", [(2,), (3, 2, 1), ((2, 3), (1, 2), (1, 0))], ids=str)
def test_pooling_layers_match_torch(torch, kind, args):
    layer = getattr(nn, f"{kind}Pool2d")(*args)
    tlayer = getattr(torch.nn, f"{kind}Pool2d")(*args)
    run_both(torch, layer, tlayer, array(2, 3, 7, 6, seed=8))
    assert layer.num_parameters() == 0 and not layer.state_dict()


def test_pooling_stride_defaults_to_kernel_and_repr():
    assert nn.MaxPool2d(2).stride == (2, 2)
    assert repr(nn.AvgPool2d(3, stride=1)) == "AvgPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(0, 0))"


def test_flatten_matches_torch(torch):
    x = array(2, 3, 4, 5)
    assert nn.Flatten()(Tensor(x)).shape == (2, 60)
    close(nn.Flatten()(Tensor(x)), torch.nn.Flatten()(torch.from_numpy(x)))
    close(nn.Flatten(0, 2)(Tensor(x)), torch.nn.Flatten(0, 2)(torch.from_numpy(x)))


ACTIVATION_MODULES = [
    ("ReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (0.5,), {}), ("Tanh", (), {}), ("Sigmoid", (), {}),
    ("Softmax", (), {"dim": 1}), ("LogSoftmax", (), {"dim": 1}), ("Identity", (), {}),
]


@pytest.mark.parametrize("name, args, kwargs", ACTIVATION_MODULES, ids=[a[0] for a in ACTIVATION_MODULES])
def test_activation_modules_match_torch(torch, name, args, kwargs):
    layer = getattr(nn, name)(*args, **kwargs)
    run_both(torch, layer, getattr(torch.nn, name)(*args, **kwargs), array(4, 5, seed=9, scale=2))
    assert layer.num_parameters() == 0


def test_softmax_module_axis_and_dim():
    x = Tensor(array(3, 4))
    np.testing.assert_allclose(nn.Softmax()(x).data.sum(axis=-1), 1)
    np.testing.assert_allclose(nn.Softmax(axis=0)(x).data.sum(axis=0), 1)
    assert repr(nn.Softmax(dim=0)) == "Softmax(axis=0)"
    with pytest.raises(TypeError):
        nn.Softmax(axis=0, dim=1)


# --- Dropout ------------------------------------------------------------------------------------------

def test_dropout_layer_trains_with_fresh_masks_and_is_the_identity_in_eval():
    layer = nn.Dropout(0.25, seed=0)
    x = Tensor(np.ones((400, 500), np.float32))
    first, second = layer(x).numpy(), layer(x).numpy()
    assert not np.array_equal(first, second)  # a new mask every batch
    for out in (first, second):
        assert (out == 0).mean() == pytest.approx(0.25, abs=0.005)
        assert out.mean() == pytest.approx(1.0, abs=0.01)
        assert out.dtype == np.float32
    layer.eval()
    assert layer(x) is x
    np.testing.assert_array_equal(nn.Dropout(0.25, seed=0)(x).data, first)  # the seed fixes the sequence
    assert layer.num_parameters() == 0 and not layer.state_dict()
    assert repr(layer) == "Dropout(p=0.25)"


def test_dropout_layer_rejects_bad_p():
    for p in (-0.5, 2, "0.5"):
        with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\]"):
            nn.Dropout(p)


# --- BatchNorm ----------------------------------------------------------------------------------------

BN_CASES = [("BatchNorm1d", (8, 4)), ("BatchNorm1d", (6, 4, 5)), ("BatchNorm2d", (4, 3, 5, 5))]


def batchnorm_pair(torch, name, channels, **kwargs):
    """Our layer and torch's, float64, with the same random gamma and beta (moved via our state dict)."""
    layer = getattr(nn, name)(channels, dtype=np.float64, **kwargs)
    if layer.affine:
        layer.weight.data[:] = 1 + array(channels, seed=20) * 0.3
        layer.bias.data[:] = array(channels, seed=21)
    tlayer = getattr(torch.nn, name)(channels, **kwargs).double()
    tlayer.load_state_dict(to_torch(torch, layer.state_dict()))
    return layer, tlayer


@pytest.mark.parametrize("name, shape", BN_CASES, ids=str)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_training_steps_running_stats_and_eval_match_torch(torch, name, shape, momentum):
    layer, tlayer = batchnorm_pair(torch, name, shape[1], momentum=momentum)
    for step in range(3):
        for p in list(layer.parameters()) + list(tlayer.parameters()):
            p.grad = None
        run_both(torch, layer, tlayer, array(*shape, seed=30 + step, scale=2, shift=3), seed=step)
        assert_same_parameter_grads(layer, tlayer)
    close(layer.running_mean, tlayer.running_mean)
    close(layer.running_var, tlayer.running_var)
    assert int(layer.num_batches_tracked.data) == int(tlayer.num_batches_tracked) == 3
    layer.eval()
    tlayer.eval()
    for p in list(layer.parameters()) + list(tlayer.parameters()):
        p.grad = None
    run_both(torch, layer, tlayer, array(*shape, seed=40, scale=2, shift=3))
    assert_same_parameter_grads(layer, tlayer)
    assert int(layer.num_batches_tracked.data) == 3  # eval mode leaves the statistics alone


@pytest.mark.parametrize("kwargs", [{"affine": False}, {"track_running_stats": False}], ids=str)
def test_batchnorm_options_match_torch(torch, kwargs):
    layer, tlayer = batchnorm_pair(torch, "BatchNorm1d", 4, **kwargs)
    assert list(layer.state_dict()) == list(tlayer.state_dict())
    run_both(torch, layer, tlayer, array(8, 4, seed=50, shift=1))
    layer.eval()
    tlayer.eval()
    run_both(torch, layer, tlayer, array(8, 4, seed=51, shift=1))


def test_batchnorm_running_variance_is_unbiased_and_normalisation_is_biased():
    x = array(10, 3, seed=60, scale=2, shift=5)
    layer = nn.BatchNorm1d(3, dtype=np.float64)
    out = layer(Tensor(x))
    np.testing.assert_allclose(out.data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))
    np.testing.assert_allclose(layer.running_mean.data, 0.1 * x.mean(0))
    np.testing.assert_allclose(layer.running_var.data, 0.9 + 0.1 * x.var(0, ddof=1))


def test_batchnorm_state_dict_keys_are_torchs_and_load_both_ways(torch):
    model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.BatchNorm1d(4))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    model(Tensor(array(5, 3).astype(np.float32)))  # move the running statistics away from their defaults
    assert set(model.state_dict()) == set(tmodel.state_dict())
    tmodel.load_state_dict(to_torch(torch, model.state_dict()))  # strict, float32 and the int64 counter
    close(tmodel[1].running_var, model.layers[1].running_var)
    assert int(tmodel[1].num_batches_tracked) == 1
    tmodel(torch.from_numpy(array(6, 3, seed=1).astype(np.float32)))
    model.load_state_dict({k: v.numpy() for k, v in tmodel.state_dict().items()})
    assert int(model.layers[1].num_batches_tracked.data) == 2
    close(model.layers[1].running_mean, tmodel[1].running_mean)


def test_batchnorm_keeps_float32():
    layer = nn.BatchNorm2d(3)
    out = layer(Tensor(array(4, 3, 2, 2).astype(np.float32)))
    assert out.dtype == layer.running_mean.dtype == layer.running_var.dtype == np.float32
    layer.eval()
    assert layer(Tensor(array(4, 3, 2, 2).astype(np.float32))).dtype == np.float32


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradcheck(training):
    layer = nn.BatchNorm2d(2, dtype=np.float64)
    layer.weight.data[:] = [1.5, 0.5]
    layer.bias.data[:] = [0.1, -0.2]
    layer.running_mean.data[:] = [0.3, -0.1]
    layer.running_var.data[:] = [2.0, 0.5]
    layer.train(training)
    assert gradcheck_layer(layer, array(3, 2, 2, 2, seed=70))
    assert gradcheck_layer(nn.BatchNorm1d(3, dtype=np.float64), array(4, 3, seed=71))


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=re.escape("BatchNorm1d(8): expected input of shape (N, 8) or (N, 8, L), "
                                                   "got shape (32, 10)")):
        nn.BatchNorm1d(8)(Tensor(np.zeros((32, 10))))
    with pytest.raises(ValueError, match=re.escape("BatchNorm2d(3): expected input of shape (N, 3, H, W), "
                                                   "got shape (2, 3, 4)")):
        nn.BatchNorm2d(3)(Tensor(np.zeros((2, 3, 4))))
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        nn.BatchNorm1d(4)(Tensor(np.zeros((1, 4))))
    layer = nn.BatchNorm1d(4).eval()
    assert layer(Tensor(np.zeros((1, 4)))).shape == (1, 4)  # a single sample is fine at test time
    assert repr(nn.BatchNorm2d(8)).startswith("BatchNorm2d(8, eps=1e-05, momentum=0.1)  # weight (8,), bias (8,)")


# --- whole models -----------------------------------------------------------------------------------------

def cnn(torch_nn, **kw):
    return torch_nn.Sequential(
        torch_nn.Conv2d(1, 4, 3, padding=1, **kw), torch_nn.BatchNorm2d(4, **kw), torch_nn.ReLU(),
        torch_nn.MaxPool2d(2), torch_nn.Conv2d(4, 6, 3, stride=(1, 2), padding=(1, 0), **kw), torch_nn.Tanh(),
        torch_nn.AvgPool2d(2), torch_nn.Flatten(), torch_nn.Linear(12, 5, **kw), torch_nn.LeakyReLU(0.1),
        torch_nn.Linear(5, 3, **kw),
    )


def test_a_cnn_state_dict_loads_into_the_same_torch_model_and_matches_it(torch):
    model, tmodel = cnn(nn, dtype=np.float64), cnn(torch.nn).double()
    assert set(model.state_dict()) == set(tmodel.state_dict())
    tmodel.load_state_dict(to_torch(torch, model.state_dict()))
    x = array(4, 1, 8, 12, seed=80)  # 8x12 -> pool 4x6 -> conv 4x2 -> pool 2x1, 6 channels: 12 features
    X, TX = leaf(x), torch.tensor(x, requires_grad=True)
    loss, tloss = F.cross_entropy(model(X), [0, 2, 1, 2]), torch.nn.functional.cross_entropy(
        tmodel(TX), torch.tensor([0, 2, 1, 2]))
    close(loss, tloss)
    loss.backward()
    tloss.backward()
    close(X.grad, TX.grad)
    assert_same_parameter_grads(model, tmodel)
    close(model.layers[1].running_mean, tmodel[1].running_mean)
    model.eval()
    tmodel.eval()
    close(model(Tensor(x)), tmodel(torch.from_numpy(x)))


def test_model_repr_is_a_tree_with_shapes_and_a_parameter_count():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 4 * 4, 10))
    text = repr(model)
    assert "(0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))  # weight (8, 1, 3, 3), bias (8,)" \
        in text
    assert "(4): Linear(in_features=128, out_features=10, bias=True)  # weight (10, 128), bias (10,)" in text
    assert text.endswith(f"\n{8 * 9 + 8 + 128 * 10 + 10:,} parameters")


def test_layers_accept_arrays_and_are_exported():
    assert nn.Linear(2, 1)(np.ones((3, 2), np.float32)).shape == (3, 1)
    assert nn.functional is F
    for name in ("Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d",
                 "ReLU", "LeakyReLU", "ELU", "Tanh", "Sigmoid", "Softmax", "Identity"):
        assert name in nn.__all__ and issubclass(getattr(nn, name), nn.Module)


def test_an_anomaly_inside_a_layer_names_the_users_line():
    import inspect

    from autograd import AnomalyError, detect_anomaly
    layer = nn.Linear(2, 1)
    x = Tensor(np.array([[np.inf, 1.0]], np.float32))
    with pytest.raises(AnomalyError) as caught, detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        layer(x)
    assert str(caught.value).endswith(f"{__file__}:{line}")
