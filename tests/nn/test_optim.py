import math

import numpy as np
import pytest

from autograd import Tensor, Value
from nn import optim

# --- a fixed problem, its gradient computed in NumPy for both libraries -----------------------------
# f(theta) = 0.5 * ||A theta - b||^2 + 0.05 * sum(theta^4), theta = all parameters flattened; the
# parameters are a (2, 3) weight, a (3,) bias and two scalars (Values here, 0-d tensors in torch).

SHAPES = [(2, 3), (3,), (), ()]
_rng = np.random.default_rng(7)
A = _rng.normal(size=(12, 11))
B = _rng.normal(size=12)
INIT = [_rng.normal(size=s) for s in SHAPES]


def gradients(arrays, sign=1.0):
    theta = np.concatenate([np.ravel(a) for a in arrays])
    g = sign * (A.T @ (A @ theta - B) + 0.2 * theta ** 3)
    out, k = [], 0
    for s in SHAPES:
        n = math.prod(s)
        out.append(g[k:k + n].reshape(s))
        k += n
    return out


def make_ours(dtype=np.float64):
    return [Tensor(INIT[0].astype(dtype), requires_grad=True), Tensor(INIT[1].astype(dtype), requires_grad=True),
            Value(float(INIT[2])), Value(float(INIT[3]))]


def data_of(params):
    return [np.asarray(p.data, dtype=np.float64) for p in params]


def set_grads(params, sign=1.0):
    for p, g in zip(params, gradients(data_of(params), sign)):
        p.grad = float(g) if isinstance(p, Value) else g.astype(p.data.dtype)


CONFIGS = [
    ("SGD", {"lr": 0.01}),
    ("SGD", {"lr": 0.01, "momentum": 0.9}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.01, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True}),
    ("SGD", {"lr": 0.01, "maximize": True}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.05, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "betas": (0.5, 0.9)}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True, "eps": 1e-3}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.3, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "maximize": True}),
]


def _id(config):
    name, kwargs = config
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("capturable", [False, True], ids=["eager", "capturable"])
@pytest.mark.parametrize("config", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_tracks_torch_for_50_steps(config, capturable):
    """capturable=True (step counts in arrays, for autograd.compile) follows torch's ordinary mode too."""
    torch = pytest.importorskip("torch")
    name, kwargs = config
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize -f, so the trajectories stay bounded
    ours = make_ours()
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in INIT]
    opt = getattr(optim, name)(ours, capturable=capturable, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(50):
        set_grads(ours, sign)
        for t, g in zip(theirs, gradients([t.detach().numpy() for t in theirs], sign)):
            t.grad = torch.from_numpy(np.array(g))
        opt.step()
        ref.step()
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-9, atol=1e-9,
                                       err_msg=f"step {step + 1}")
    assert isinstance(ours[2].data, float) and isinstance(ours[3].data, float)
    assert ours[0].data.dtype == np.float64 and ours[0].data.shape == (2, 3)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_float32_parameters_stay_float32_and_track_torch(name):
    torch = pytest.importorskip("torch")
    kwargs = {"lr": 0.01, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.01}
    ours = make_ours(np.float32)[:2]
    theirs = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in INIT[:2]]
    opt, ref = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(20):
        g = gradients(data_of(ours) + [0.0, 0.0])
        for p, t, gi in zip(ours, theirs, g):
            p.grad = gi.astype(np.float32)
            t.grad = torch.from_numpy(gi.astype(np.float32))
        opt.step()
        ref.step()
    for p, t in zip(ours, theirs):
        assert p.data.dtype == np.float32
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-4, atol=1e-5)


# --- hand-computed steps ---------------------------------------------------------------------------

def _run(opt_factory, grads):
    p = Value(0.0)
    opt = opt_factory([p])
    out = []
    for g in grads:
        p.grad = g
        opt.step()
        out.append(p.data)
    return out


def test_sgd_momentum_by_hand():
    # b1 = g = 1, p = -0.1; b2 = 0.9 * 1 + 1 = 1.9, p = -0.1 - 0.19 = -0.29
    assert _run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), [1.0, 1.0]) == pytest.approx([-0.1, -0.29])


def test_sgd_nesterov_by_hand():
    # step 1: b = 1, g + 0.9 b = 1.9 -> -0.19; step 2: b = 1.9, 1 + 0.9 * 1.9 = 2.71 -> -0.461
    assert _run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True), [1.0, 1.0]) == \
        pytest.approx([-0.19, -0.461])


def test_sgd_dampening_first_step_is_the_gradient():
    # the first buffer is the gradient itself (no dampening); then b = 0.9 * 2 + 0.5 * 2 = 2.8
    assert _run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5), [2.0, 2.0]) == \
        pytest.approx([-0.2, -0.48])


def test_adam_first_step_moves_by_lr():
    # m_hat = g, v_hat = g^2: the first step is lr * g / (|g| + eps)
    assert _run(lambda ps: optim.Adam(ps, lr=0.1), [4.0]) == pytest.approx([-0.1 * 4 / (4 + 1e-8)], abs=1e-15)


def test_adagrad_by_hand():
    # sum = 4, p = -0.5 * 2 / 2 = -0.5; sum = 4 + 1 = 5, p = -0.5 - 0.5 * 1 / sqrt(5)
    assert _run(lambda ps: optim.Adagrad(ps, lr=0.5, eps=0.0), [2.0, 1.0]) == \
        pytest.approx([-0.5, -0.5 - 0.5 / math.sqrt(5)])


def test_rmsprop_by_hand():
    # v = 0.1 * 4 = 0.4, p = -0.01 * 2 / sqrt(0.4)
    assert _run(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=0.0), [2.0]) == \
        pytest.approx([-0.02 / math.sqrt(0.4)])


def test_adamw_decays_before_the_step():
    p = Value(2.0)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = 0.0  # no gradient signal: only the decay 2 * (1 - 0.05) acts (0 / (0 + eps) = 0)
    opt.step()
    assert p.data == pytest.approx(1.9)
    assert optim.AdamW([Value(1.0)]).weight_decay == 1e-2


def test_value_parameter_minimises_a_quadratic():
    v = Value(0.0)
    opt = optim.SGD([v], lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        loss = (v - 3) ** 2
        loss.backward()
        opt.step()
    assert v.data == pytest.approx(3.0, abs=1e-9)
    assert isinstance(v.data, float)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_tensor_least_squares_converges(name):
    lr = {"SGD": 0.05, "Adagrad": 0.5, "RMSprop": 0.01, "Adam": 0.05, "AdamW": 0.05}[name]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    w_true = np.array([1.0, -2.0, 0.5])
    y = X @ w_true
    w = Tensor(np.zeros(3), requires_grad=True)
    kwargs = {"weight_decay": 0.0} if name == "AdamW" else {}
    opt = getattr(optim, name)([w], lr=lr, **kwargs)
    for _ in range(2000):
        opt.zero_grad()
        w.grad = X.T @ (X @ w.data - y) / len(X)
        opt.step()
    np.testing.assert_allclose(w.data, w_true, atol=1e-2)


# --- grads: skipped when None, never modified ---------------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_parameters_without_grad_are_skipped_and_grads_untouched(config):
    name, kwargs = config
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.full(3, 2.0), requires_grad=True)
    c = Tensor(np.full(2, 5.0), requires_grad=True)  # never gets a gradient
    shared = np.array([0.5, -1.0, 2.0])
    a.grad = b.grad = shared  # one array shared by two parameters
    opt = getattr(optim, name)([a, b, c], **kwargs)
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(shared, [0.5, -1.0, 2.0])
    assert a.grad.numpy() is shared and b.grad.numpy() is shared
    np.testing.assert_array_equal(c.data, [5.0, 5.0])
    assert c.grad is None and 2 not in opt.state_dict()["state"]
    assert not np.array_equal(a.data, np.ones(3))


def test_zero_grad():
    t = Tensor(np.ones(2), requires_grad=True)
    v = Value(1.0)
    t.grad, v.grad = np.ones(2), 3.0
    opt = optim.SGD([t, v])
    opt.zero_grad()
    assert t.grad is None and v.grad == 0.0
    t.grad = np.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(t.grad, [0.0, 0.0])


def test_step_with_closure_returns_the_loss():
    v = Value(1.0)
    opt = optim.SGD([v], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = v * v
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.data == 1.0 and v.data == 0.5


def test_update_does_not_record_a_graph():
    t = Tensor(np.ones(2), requires_grad=True)
    data = t.numpy()
    t.grad = np.ones(2)
    optim.Adam([t]).step()
    assert t.numpy() is data  # updated in place
    assert t.op == "" and t.parents == ()


# --- state dicts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_state_dict_round_trip_continues_identically(config):
    name, kwargs = config
    sign = -1.0 if kwargs.get("maximize") else 1.0
    first = make_ours()
    opt = getattr(optim, name)(first, **kwargs)
    for _ in range(10):
        set_grads(first, sign)
        opt.step()
    sd = opt.state_dict()
    second = make_ours()
    for p, q in zip(second, first):
        if isinstance(p, Value):
            p.data = q.data
        else:
            p.data[...] = q.data
    other = getattr(optim, name)(second, **{k: v for k, v in kwargs.items() if k != "lr"}, lr=123.0)
    other.load_state_dict(sd)
    assert other.lr == kwargs["lr"]
    for _ in range(15):
        for params, o in ((first, opt), (second, other)):
            set_grads(params, sign)
            o.step()
    for p, q in zip(first, second):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_is_a_copy_with_floats_for_values():
    w, v = Tensor(np.ones(2), requires_grad=True), Value(1.0)
    opt = optim.Adam([w, v])
    w.grad, v.grad = np.ones(2), 1.0
    opt.step()
    sd = opt.state_dict()
    assert sd["optimizer"] == "Adam"
    assert sd["hyperparameters"]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1}
    assert sd["state"][0]["step"] == 1 and isinstance(sd["state"][0]["exp_avg"], np.ndarray)
    assert sd["state"][1]["exp_avg"] == pytest.approx(0.1) and isinstance(sd["state"][1]["exp_avg"], float)
    sd["state"][0]["exp_avg"][:] = 99.0
    assert opt.state_dict()["state"][0]["exp_avg"][0] == pytest.approx(0.1)


def test_load_state_dict_validates_and_leaves_optimizer_unchanged():
    w = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = np.ones(2)
    opt.step()
    good = opt.state_dict()
    bad_shape = {**good, "state": {0: {"momentum_buffer": np.ones(3)}}}
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(bad_shape)
    with pytest.raises(ValueError, match="parameter 5"):
        opt.load_state_dict({**good, "state": {5: {"momentum_buffer": np.ones(2)}}})
    with pytest.raises(ValueError, match="unexpected buffer"):
        opt.load_state_dict({**good, "state": {0: {"exp_avg": np.ones(2)}}})
    with pytest.raises(ValueError, match="lr"):
        opt.load_state_dict({**good, "hyperparameters": {**good["hyperparameters"], "lr": -1.0}})
    with pytest.raises(ValueError, match="missing"):
        hyper = dict(good["hyperparameters"])
        del hyper["momentum"]
        opt.load_state_dict({**good, "hyperparameters": hyper})
    with pytest.raises(ValueError, match="Adam"):
        opt.load_state_dict({**good, "optimizer": "Adam"})
    with pytest.raises(ValueError, match="missing"):
        adam = optim.Adam([w])
        adam.load_state_dict({"optimizer": "Adam", "hyperparameters": adam.state_dict()["hyperparameters"],
                              "state": {0: {"step": 3}}})
    assert opt.lr == 0.1
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["momentum_buffer"], [1.0, 1.0])


# --- validation ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("factory, match", [
    (lambda p: optim.SGD(p, lr=-0.1), r"lr -0\.1"),
    (lambda p: optim.SGD(p, momentum=-1), "momentum"),
    (lambda p: optim.SGD(p, weight_decay=-1e-3), "weight_decay"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "lr_decay"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda p: optim.Adagrad(p, eps=-1), "eps"),
    (lambda p: optim.RMSprop(p, alpha=1.5), "alpha 1.5"),
    (lambda p: optim.RMSprop(p, momentum=-0.5), "momentum"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "beta1 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"beta2 -0\.1"),
    (lambda p: optim.Adam(p, betas=(0.9,)), "betas"),
    (lambda p: optim.Adam(p, lr=float("nan")), "lr nan"),
    (lambda p: optim.AdamW(p, weight_decay=-0.01), "weight_decay"),
])
def test_invalid_hyperparameters_raise(factory, match):
    with pytest.raises(ValueError, match=match):
        factory([Value(1.0)])


def test_invalid_parameter_lists():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([])
    with pytest.raises(TypeError, match="ndarray"):
        optim.Adam([np.zeros(3)])
    with pytest.raises(TypeError, match="list"):
        optim.SGD(Value(1.0))
    with pytest.raises(TypeError, match="floating"):
        optim.SGD([Tensor(np.arange(3))])
    v = Value(1.0)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([v, v])
    with pytest.raises(TypeError, match="lr"):
        optim.SGD([v], lr="0.1")


def test_accepts_a_generator_of_parameters():
    params = [Value(1.0), Value(2.0)]
    opt = optim.SGD(p for p in params)
    assert opt.params == params


# --- schedulers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda o, m: m.StepLR(o, step_size=3, gamma=0.5),
    lambda o, m: m.StepLR(o, step_size=1),
    lambda o, m: m.ExponentialLR(o, gamma=0.9),
])
def test_schedulers_match_torch(make):
    torch = pytest.importorskip("torch")
    p = Value(1.0)
    t = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    opt, ref = optim.SGD([p], lr=0.2), torch.optim.SGD([t], lr=0.2)
    ours, theirs = make(opt, optim), make(ref, torch.optim.lr_scheduler)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr())
    for _ in range(10):
        p.grad = 2 * p.data
        t.grad = 2 * t.detach().clone()
        opt.step()
        ref.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        assert opt.lr == pytest.approx(ref.param_groups[0]["lr"], rel=1e-12)
        assert p.data == pytest.approx(t.item(), rel=1e-12)


def test_step_lr_by_hand_and_state_dict():
    opt = optim.SGD([Value(0.0)], lr=1.0)
    sched = optim.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(5):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == pytest.approx([1.0, 0.1, 0.1, 0.01, 0.01])
    sd = sched.state_dict()
    other = optim.StepLR(optim.SGD([Value(0.0)], lr=1.0), step_size=2, gamma=0.1)
    other.load_state_dict(sd)
    other.optimizer.lr = opt.lr
    sched.step()
    other.step()
    assert other.get_last_lr() == sched.get_last_lr() == pytest.approx([0.001])


def test_scheduler_arguments_are_checked():
    opt = optim.SGD([Value(0.0)])
    with pytest.raises(ValueError, match="step_size"):
        optim.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="gamma"):
        optim.ExponentialLR(opt, gamma=-0.5)
    with pytest.raises(TypeError, match="Optimizer"):
        optim.ExponentialLR("opt", gamma=0.5)
