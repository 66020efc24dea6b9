"""capturable optimizers: the hooks autograd.compile uses, and the same results as eager mode and torch.

A capturable optimizer keeps step counts in 0-d float64 arrays and derives everything from them with NumPy
calls, so a recorded step replays correctly; ``_capture_arrays`` names its state arrays and
``_capture_key`` the Python values a step reads.
"""

import copy
import math

import numpy as np
import pytest

from autograd import Tensor, Value, capture
from nn import optim

SHAPES = [(2, 3), (3,), (), ()]  # two Tensors, then two Values
_rng = np.random.default_rng(11)
A = _rng.normal(size=(12, 11))
B = _rng.normal(size=12)
INIT = [_rng.normal(size=s) for s in SHAPES]

CONFIGS = [
    ("SGD", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.05, "nesterov": True}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.5, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "betas": (0.5, 0.9), "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.3, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
]
IDS = [name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items()) for name, kwargs in CONFIGS]
NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]


def make_params(dtype=np.float64, values=True):
    tensors = [Tensor(a.astype(dtype), requires_grad=True) for a in INIT[:2]]
    return tensors + ([Value(float(a)) for a in INIT[2:]] if values else [])


def gradients(arrays, sign=1.0):
    """The gradient of 0.5 * ||A theta - b||^2 + 0.05 * sum(theta^4) (theta padded with zeros if short)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays] + [np.zeros(s) for s in SHAPES[len(arrays):]]
    theta = np.concatenate([a.ravel() for a in arrays])
    g, k, out = sign * (A.T @ (A @ theta - B) + 0.2 * theta ** 3), 0, []
    for s in SHAPES[:len(arrays)]:
        out.append(g[k:k + math.prod(s)].reshape(s))
        k += math.prod(s)
    return out


def set_grads(params, sign=1.0):
    for p, g in zip(params, gradients([p.data for p in params], sign)):
        p.grad = float(g) if isinstance(p, Value) else g.astype(p.data.dtype)


def run(name, kwargs, steps, dtype=np.float64, values=True, capturable=False, switch_at=None):
    """The parameters after ``steps`` steps; ``switch_at`` calls ``_make_capturable()`` before that step."""
    params = make_params(dtype, values)
    opt = getattr(optim, name)(params, capturable=capturable, **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for k in range(steps):
        if k == switch_at:
            opt._make_capturable()
        set_grads(params, sign)
        opt.step()
    return [np.array(p.data) for p in params], opt


def state_arrays(opt):
    """Every array object in the optimizer's per-parameter state, found by walking its state dicts."""
    return {(id(state), key): value for state in [*opt._tensor_state.values(), opt._value_state]
            for key, value in state.items() if isinstance(value, np.ndarray)}


# --- same results -------------------------------------------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_capturable_equals_eager_exactly_in_float64(config):
    eager, _ = run(*config, 20)
    captured, opt = run(*config, 20, capturable=True)
    assert opt.capturable
    for a, b in zip(eager, captured):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_capturable_equals_eager_in_float32(config):
    eager, _ = run(*config, 20, dtype=np.float32, values=False)
    captured, _ = run(*config, 20, dtype=np.float32, values=False, capturable=True)
    for a, b in zip(eager, captured):
        assert b.dtype == np.float32
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_make_capturable_mid_training_continues_identically(config):
    eager, _ = run(*config, 20)
    switched, opt = run(*config, 20, switch_at=10)
    for a, b in zip(eager, switched):
        np.testing.assert_array_equal(a, b)
    for state in [*opt._tensor_state.values(), opt._value_state]:
        if "step" in state:
            assert type(state["step"]) is np.ndarray and state["step"].shape == () and state["step"] == 20


# --- the hooks ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_constructor_flag_and_tracking(name):
    params = make_params()
    assert getattr(optim, name)(params).capturable is False
    opt = getattr(optim, name)(params, capturable=True)
    assert opt.capturable is True and opt in capture.tracked()
    set_grads(params)
    opt.step()
    steps = [s["step"] for s in [*opt._tensor_state.values(), opt._value_state] if "step" in s]
    assert len(steps) == (0 if name == "SGD" else 3)
    assert all(type(t) is np.ndarray and t.dtype == np.float64 and t.shape == () and t == 1 for t in steps)
    with pytest.raises(TypeError, match="capturable"):
        getattr(optim, name)(params, capturable=1)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_capture_arrays_name_every_state_array_and_steps_change_only_those(config):
    _, opt = run(*config, 3, capturable=True)
    named = {(id(c), k): c[k] for c, k in opt._capture_arrays()}
    assert named.keys() == state_arrays(opt).keys()
    assert all(named[key] is value for key, value in state_arrays(opt).items())
    # ... and agree with the state dict: one array per Tensor buffer, one packed vector per Value buffer
    sd = opt.state_dict()["state"]
    expected = sorted((k, np.asarray(v, np.float64).tobytes()) for i in (0, 1) for k, v in sd[i].items())
    expected += sorted((k, np.array([sd[i][k] for i in (2, 3)], np.float64).tobytes() if k != "step"
                        else np.float64(sd[2][k]).tobytes()) for k in sd[2])
    got = sorted((k, np.asarray(a, np.float64).tobytes()) for (_, k), a in named.items())
    assert got == sorted(expected)
    # another step replaces nothing and changes only those arrays, in place
    before = copy.deepcopy(opt._tensor_state), copy.deepcopy(opt._value_state)
    params = opt.params
    set_grads(params, -1.0 if config[1].get("maximize") else 1.0)
    opt.step()
    assert {(id(c), k): c[k] for c, k in opt._capture_arrays()} == named
    for old, new in zip([*before[0].values(), before[1]], [*opt._tensor_state.values(), opt._value_state]):
        assert old.keys() == new.keys()
        assert all(isinstance(v, np.ndarray) for v in new.values())
    changed = [k for old, new in zip([*before[0].values(), before[1]], [*opt._tensor_state.values(),
                                                                          opt._value_state])
               for k in new if not np.array_equal(old[k], new[k])]
    assert changed  # the step did update state


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_capture_key_is_stable_until_a_hyperparameter_changes(config):
    name, kwargs = config
    _, opt = run(name, kwargs, 1, capturable=True)
    key = opt._capture_key()
    hash(key)
    for _ in range(5):
        set_grads(opt.params, -1.0 if kwargs.get("maximize") else 1.0)
        opt.step()
        assert opt._capture_key() == key
    opt.lr = opt.lr * 0.5
    assert opt._capture_key() != key
    key = opt._capture_key()
    optim.ExponentialLR(opt, gamma=0.9).step()
    assert opt._capture_key() != key


def test_capture_key_follows_schedulers_and_other_hyperparameters():
    opt = optim.Adam(make_params(), capturable=True)
    set_grads(opt.params)
    opt.step()
    key = opt._capture_key()
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    sched.step()  # epoch 1: the lr stays, so the recording stays valid
    assert opt._capture_key() == key
    sched.step()  # epoch 2: the lr halves
    assert opt._capture_key() != key
    for change in (lambda o: setattr(o, "betas", (0.8, 0.99)), lambda o: setattr(o, "amsgrad", True),
                   lambda o: setattr(o, "weight_decay", 0.1), lambda o: setattr(o, "eps", 1e-6)):
        key = opt._capture_key()
        change(opt)
        assert opt._capture_key() != key


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop", "Adam", "AdamW"])
def test_eager_int_steps_are_in_the_key_and_conversion_changes_it(name):
    _, opt = run(name, {}, 1)
    key = opt._capture_key()
    set_grads(opt.params)
    opt.step()
    assert opt._capture_key() != key  # the int step is frozen in a recording: every step re-records
    assert all(k != "step" for _, k in opt._capture_arrays())
    key = opt._capture_key()
    opt._make_capturable()
    assert opt._capture_key() != key and sum(k == "step" for _, k in opt._capture_arrays()) == 3


class _Frozen(np.ndarray):
    """Stands in for a recording's traced view: any conversion to a Python number raises."""

    def _refuse(self, *args):
        raise AssertionError("a step-derived value became a Python number")

    __float__ = __int__ = __index__ = __bool__ = item = tolist = _refuse


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_capturable_step_uses_only_array_calls_on_the_state(config):
    _, opt = run(*config, 2, capturable=True)
    reference = copy.deepcopy(opt)
    for container, key in opt._capture_arrays():
        container[key] = container[key].view(_Frozen)
    for o in (opt, reference):
        set_grads(o.params, -1.0 if config[1].get("maximize") else 1.0)
        o.step()
    for p, q in zip(opt.params, reference.params):
        np.testing.assert_array_equal(np.asarray(p.data), np.asarray(q.data))


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_the_frozen_check_catches_an_eager_step(name):
    _, opt = run(name, {}, 1)
    opt._tensor_state[0]["step"] = np.array(1.0).view(_Frozen)  # eager mode reads the step as a number
    set_grads(opt.params)
    with pytest.raises(AssertionError, match="Python number"):
        opt.step()


# --- state dicts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_state_dict_round_trip(config):
    name, kwargs = config
    final, _ = run(name, kwargs, 20)
    for source_capturable, target_capturable in ((True, True), (True, False), (False, True)):
        _, opt = run(name, kwargs, 10, capturable=source_capturable)
        sd = opt.state_dict()
        for entry in sd["state"].values():
            assert "step" not in entry or (type(entry["step"]) is int and entry["step"] == 10)
        params = make_params()
        for p, q in zip(params, opt.params):
            if isinstance(p, Value):
                p.data = q.data
            else:
                p.data[...] = q.data
        other = getattr(optim, name)(params, capturable=target_capturable, **kwargs)
        other.load_state_dict(sd)
        step_type = np.ndarray if target_capturable else int
        assert all(type(s["step"]) is step_type for s in [*other._tensor_state.values(), other._value_state]
                   if "step" in s)
        for _ in range(10):
            set_grads(params, -1.0 if kwargs.get("maximize") else 1.0)
            other.step()
        for a, p in zip(final, params):
            np.testing.assert_array_equal(a, np.asarray(p.data))


def test_load_state_dict_changes_the_key():
    _, opt = run("Adam", {}, 3, capturable=True)
    key, sd = opt._capture_key(), opt.state_dict()
    opt.load_state_dict(sd)  # same values, but new state arrays: a recording must not replay
    assert opt._capture_key() != key
    assert opt.state_dict()["state"][0]["step"] == 3
