"""autograd.compile: 20 captured steps give the parameters 20 eager steps give, and a replay is never
taken where the step would do something else (new shapes, modes, settings, a data-dependent branch)."""

import warnings

import numpy as np
import pytest

import autograd
import nn
from autograd import CaptureError, Tensor
from nn import functional as F

STEPS = 20


def _tolerance(dtype):
    return {"rtol": 0, "atol": 0} if dtype == np.float64 else {"rtol": 1e-6, "atol": 1e-7}


def _train(make, compiled: bool, steps: int = STEPS, batches=None):
    """Run ``steps`` steps of the model ``make()`` builds; return (losses, parameters, step)."""
    model, optimizer, data, step = make()
    run = autograd.compile(step) if compiled else step
    losses = [run(*data(i)) for i in range(steps)]
    state = [p.data.numpy().copy() for p in model.parameters()]
    state += [b.numpy().copy() for b in getattr(model, "buffers", lambda: [])()]
    return losses, state, run


def _same_training(make, dtype, recordings=1):
    eager_losses, eager_state, _ = _train(make, False)
    losses, state, run = _train(make, True)
    tol = _tolerance(dtype)
    np.testing.assert_allclose(losses, eager_losses, **tol)
    for a, b in zip(state, eager_state):
        np.testing.assert_allclose(a, b, **tol)
    assert run.recordings == recordings
    assert run.replays == STEPS - 2 - recordings  # one warm-up, the recordings, one checked replay run eagerly
    return run


def _mlp(dtype, optimizer="sgd"):
    def make():
        np.random.seed(0)
        rng = np.random.default_rng(1)
        X = rng.standard_normal((64, 12)).astype(dtype)
        Y = rng.integers(0, 4, 64)
        model = nn.Sequential(nn.Linear(12, 32, dtype=dtype, seed=2), nn.BatchNorm1d(32, dtype=dtype), nn.ReLU(),
                              nn.Dropout(0.3, seed=3), nn.Linear(32, 4, dtype=dtype, seed=4))
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd" else \
            nn.optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()

        def data(i):
            rows = slice(16 * (i % 4), 16 * (i % 4) + 16)
            return Tensor(X[rows]), Tensor(Y[rows])
        return model, opt, data, step
    return make


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mlp_with_dropout_and_batch_norm(dtype):
    run = _same_training(_mlp(dtype), dtype)
    assert run.recordings == 1


def test_mlp_with_adam():
    """Adam counts steps in a Python int, which a replay would freeze: the first recording makes the
    optimizer capturable (counts in an array) and records again."""
    _same_training(_mlp(np.float64, "adam"), np.float64, recordings=2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cnn(dtype):
    def make():
        rng = np.random.default_rng(5)
        X = rng.standard_normal((8, 1, 8, 8)).astype(dtype)
        Y = rng.integers(0, 3, 8)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, dtype=dtype, seed=6), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64, 3, dtype=dtype, seed=7))
        opt = nn.optim.SGD(model.parameters(), lr=0.05)

        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        def data(i):
            rows = slice(4 * (i % 2), 4 * (i % 2) + 4)
            return Tensor(X[rows]), Tensor(Y[rows])
        return model, opt, data, step

    eager, eager_state, _ = _train(make, False)
    losses, state, run = _train(make, True)
    assert all(isinstance(loss, Tensor) for loss in losses)
    np.testing.assert_allclose([loss.item() for loss in losses], [loss.item() for loss in eager], **_tolerance(dtype))
    for a, b in zip(state, eager_state):
        np.testing.assert_allclose(a, b, **_tolerance(dtype))
    assert run.replays == STEPS - 3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_makemore_step_as_the_lecture_writes_it(dtype):
    """Embedding C[X], tanh layer, cross entropy, p.data += -lr * p.grad, the minibatch drawn inside the step."""
    def make():
        rng = np.random.default_rng(8)
        Xtr = Tensor(rng.integers(0, 27, (200, 3)))
        Ytr = Tensor(rng.integers(0, 27, 200))
        g = autograd.Generator().manual_seed(2147483647)
        C, W1, b1, W2, b2 = (Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
                             for s in ((27, 10), (30, 64), (64,), (64, 27), (27,)))
        parameters = [C, W1, b1, W2, b2]

        class Model:
            def parameters(self):
                return parameters

        def step(lr):
            ix = autograd.randint(0, Xtr.shape[0], (32,), generator=g)
            emb = C[Xtr[ix]]
            h = autograd.tanh(emb.view(-1, 30) @ W1 + b1)
            loss = F.cross_entropy(h @ W2 + b2, Ytr[ix])
            for p in parameters:
                p.grad = None
            loss.backward()
            for p in parameters:
                p.data += -lr * p.grad
            return loss.item()
        return Model(), None, (lambda i: (0.1,)), step

    run = _same_training(make, dtype)
    assert "randint" not in run.source or "integers" in run.source  # the minibatch is drawn on every replay


def test_new_shapes_are_recorded_again():
    model = nn.Linear(3, 1, dtype=np.float64, seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss.item()

    run = autograd.compile(step)
    for n in (4, 4, 4, 4, 6, 6, 6, 6, 4):
        run(Tensor(np.ones((n, 3))))
    assert run.recordings == 2 and run.replays == 3  # each shape: warm-up, recording, checked run, replays


def test_a_branch_on_the_data_is_never_replayed_wrongly():
    """The step takes an extra update when the loss is high: replays check the value the branch read."""
    def make():
        w = Tensor(np.array([3.0]), requires_grad=True)

        class Model:
            def parameters(self):
                return [w]

        def step(x):
            loss = ((w * x) ** 2).sum()
            loss.backward()
            with autograd.no_grad():
                w.data -= 0.1 * w.grad
                if loss.item() > 4.0:  # a Python branch on the data
                    w.data *= 0.5
            w.grad = None
            return loss.item()
        return Model(), None, (lambda i: (Tensor(np.array([1.0 if i % 3 else 0.5])),)), step

    eager, eager_state, _ = _train(make, False)
    with warnings.catch_warnings(record=True) as caught:  # it may give up replaying: the branch flips often
        warnings.simplefilter("always")
        losses, state, run = _train(make, True)
    assert losses == eager and np.array_equal(state[0], eager_state[0])
    assert len({loss > 4.0 for loss in eager}) == 2  # the branch went both ways
    assert all("changes on most calls" in str(w.message) for w in caught)


def test_mode_and_settings_changes_record_again():
    model = nn.Sequential(nn.Linear(4, 4, dtype=np.float64, seed=1), nn.Dropout(0.5, seed=2))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    eager_model = nn.Sequential(nn.Linear(4, 4, dtype=np.float64, seed=1), nn.Dropout(0.5, seed=2))
    eager_opt = nn.optim.SGD(eager_model.parameters(), lr=0.1)

    def stepper(m, o):
        def step(x):
            o.zero_grad()
            loss = m(x).sum()
            loss.backward()
            o.step()
            return loss.item()
        return step

    run, eager = autograd.compile(stepper(model, opt)), stepper(eager_model, eager_opt)
    x = Tensor(np.arange(8.0).reshape(2, 4))
    for change in (None, "eval", "lr", "train"):
        for m, o in ((model, opt), (eager_model, eager_opt)):
            if change in ("eval", "train"):
                getattr(m, change)()
            elif change == "lr":
                o.lr = 0.01
        for _ in range(4):
            assert run(x) == eager(x)
    assert run.recordings == 4


def test_refusals_name_what_to_change():
    w = Tensor(np.ones(3), requires_grad=True)

    def draws_from_numpy(x):
        return (w * x * Tensor(np.random.rand(3))).sum().item()

    run = autograd.compile(draws_from_numpy)
    run(Tensor(np.ones(3)))
    with pytest.raises(CaptureError, match="np.random"):
        run(Tensor(np.ones(3)))
    with pytest.raises(TypeError, match="function"):
        autograd.compile(3)


def test_a_returned_tensor_is_the_callers():
    w = Tensor(np.array([2.0]), requires_grad=True)
    run = autograd.compile(lambda x: w * x)
    results = [run(Tensor(np.array([float(i)]))) for i in range(5)]
    assert [r.item() for r in results] == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_a_step_on_values_is_refused():
    w = autograd.Value(2.0)
    run = autograd.compile(lambda x: (w * x).data)
    run(3.0)
    with pytest.raises(CaptureError, match="Value graph"):
        run(3.0)


def test_writing_into_an_outside_array_is_refused():
    scratch = np.zeros(3)
    w = Tensor(np.ones(3), requires_grad=True)

    def step(x):
        np.add(scratch, (w * x)._data, out=scratch)
        return scratch.sum()

    run = autograd.compile(step)
    run(Tensor(np.ones(3)))
    with pytest.raises(CaptureError, match="keep it in a Tensor"):
        run(Tensor(np.ones(3)))


def test_an_error_while_recording_puts_everything_back():
    zeros, data_slot = np.zeros, Tensor.__dict__["_data"]
    calls = []

    def step(x):
        calls.append(1)
        if len(calls) == 2:
            raise KeyError("inside the step")
        return (x * 2).sum().item()

    run = autograd.compile(step)
    run(Tensor(np.ones(2)))
    with pytest.raises(KeyError, match="inside the step"):
        run(Tensor(np.ones(2)))
    assert np.zeros is zeros and Tensor.__dict__["_data"] is data_slot
    assert autograd.capture.recording is None
    assert run(Tensor(np.ones(2))) == 4.0


def test_keywords_in_any_order_and_grad_mode():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)

    def step(x, scale):
        loss = (w * x * scale).sum()
        if autograd.is_grad_enabled():
            loss.backward()
            with autograd.no_grad():
                w.data -= 0.5 * w.grad
            w.grad = None
        return loss.item()

    run, expected = autograd.compile(step), []
    w0 = w.numpy().copy()
    for i in range(6):
        kwargs = {"x": Tensor(np.array([1.0, float(i)])), "scale": Tensor(np.array(2.0))}
        got = run(**kwargs) if i % 2 else run(**dict(reversed(kwargs.items())))
        expected.append(got)
    with autograd.no_grad():
        frozen = [run(x=Tensor(np.array([1.0, 1.0])), scale=Tensor(np.array(2.0))) for _ in range(4)]
    assert len(set(frozen)) == 1  # no updates without grad: a recording of its own
    w.data = Tensor(w0)
    eager = []
    for i in range(6):
        eager.append(step(Tensor(np.array([1.0, float(i)])), Tensor(np.array(2.0))))
    assert expected == eager


def test_a_loaded_checkpoint_is_picked_up():
    def make():
        model = nn.Linear(3, 2, dtype=np.float64, seed=0)
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).sum()
            loss.backward()
            opt.step()
            return loss.item()
        return model, step

    (model, step), (eager_model, eager_step) = make(), make()
    run = autograd.compile(step)
    saved = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    x = Tensor(np.arange(6.0).reshape(2, 3))
    for i in range(10):
        if i == 6:
            model.load_state_dict(saved)
            eager_model.load_state_dict(saved)
        assert run(x) == eager_step(x)


def _zoo_model(name, rng):
    f64 = {"dtype": np.float64}
    if name == "embedding_layernorm":
        model = nn.Sequential(nn.Embedding(11, 6, **f64, seed=1), nn.Flatten(), nn.LayerNorm(18, **f64),
                              nn.Linear(18, 5, **f64, seed=2))
        return model, Tensor(rng.integers(0, 11, (8, 3))), Tensor(rng.integers(0, 5, 8))
    if name == "conv_batchnorm2d_avgpool":
        model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, **f64, seed=3), nn.BatchNorm2d(3, **f64), nn.Tanh(),
                              nn.AvgPool2d(2), nn.Flatten(), nn.Linear(12, 4, **f64, seed=4))
        return model, Tensor(rng.standard_normal((6, 2, 4, 4))), Tensor(rng.integers(0, 4, 6))
    model = nn.Sequential(nn.Linear(5, 8, **f64, seed=5), nn.LeakyReLU(0.1), nn.Dropout(0.2, seed=6),
                          nn.Linear(8, 8, **f64, seed=7), nn.Sigmoid(), nn.Linear(8, 3, **f64, seed=8))
    return model, Tensor(rng.standard_normal((10, 5))), Tensor(rng.standard_normal((10, 3)))


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
@pytest.mark.parametrize("name", ["embedding_layernorm", "conv_batchnorm2d_avgpool", "mlp_mse"])
def test_models_and_optimizers(name, optimizer):
    """Layers, losses, optimizers (with weight decay) and a learning-rate schedule: captured equals eager."""
    def run(compiled):
        model, x, y = _zoo_model(name, np.random.default_rng(0))
        kwargs = {"lr": 0.01, "weight_decay": 0.01}
        kwargs.update({"momentum": 0.9, "nesterov": True} if optimizer == "SGD" else {})
        opt = getattr(nn.optim, optimizer)(model.parameters(), **kwargs)
        schedule = nn.optim.StepLR(opt, step_size=5, gamma=0.5)

        def step(x, y):
            opt.zero_grad()
            out = model(x)
            loss = F.mse_loss(out, y) if name == "mlp_mse" else F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss.item()

        go = autograd.compile(step) if compiled else step
        losses = []
        for _ in range(12):
            losses.append(go(x, y))
            schedule.step()
        return losses, [p.numpy().copy() for p in model.parameters()], go

    eager, eager_params, _ = run(False)
    losses, params, go = run(True)
    assert losses == eager
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)
    assert not go._eager_only and go.replays >= 4  # each of the schedule's two lr changes records again


def test_a_value_that_changes_every_call_makes_the_step_eager_with_a_warning():
    """Logging loss.item() inside the step: the replay would fail its check on every call."""
    model = nn.Linear(4, 2, dtype=np.float64, seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    history = []

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        history.append(loss.item())

    run = autograd.compile(step)
    x, y = Tensor(np.random.default_rng(0).standard_normal((8, 4))), Tensor(np.arange(8) % 2)
    with pytest.warns(RuntimeWarning, match=r"return such values \(loss.item\(\)\)"):
        for _ in range(12):
            run(x, y)
    assert run._eager_only and len(history) == 12  # every call ran the Python once, as eagerly


def test_train_and_eval_alternating_keep_both_recordings():
    model = nn.Sequential(nn.Linear(3, 3, dtype=np.float64, seed=0), nn.Dropout(0.5, seed=1))
    run = autograd.compile(lambda x: model(x).sum().item())
    x = Tensor(np.ones((2, 3)))
    for i in range(24):
        model.train(i % 4 < 2)
        run(x)
    assert run.recordings == 2 and run.replays >= 14


LEARNING_RATE = 0.1


def test_a_python_number_the_step_reads_by_name_records_again():
    """makemore's loop: ``lr = 0.1 if i < 100000 else 0.01`` outside, ``p.data += -lr * p.grad`` inside."""
    global LEARNING_RATE
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)

    def step(x):
        loss = (w * x).pow(2).sum()
        w.grad = None
        loss.backward()
        w.data += -LEARNING_RATE * w.grad
        return loss.item()

    run, eager_w = autograd.compile(step), Tensor(np.array([1.0, -2.0]), requires_grad=True)
    x = Tensor(np.array([0.5, 1.0]))
    got = []
    for i in range(10):
        LEARNING_RATE = 0.1 if i < 6 else 0.01
        got.append(run(x))
    LEARNING_RATE = 0.1
    assert run.recordings == 2
    w, expected = eager_w, []
    for i in range(10):
        LEARNING_RATE = 0.1 if i < 6 else 0.01
        expected.append(step(x))
    assert got == expected


def test_state_replaced_rather_than_updated_in_place_runs_eagerly():
    """makemore part 3's hand-written batch norm rebinds its running mean each step: a replay would read the
    old tensor, so the step runs eagerly, with a warning saying how to update in place."""
    def make():
        class BatchNorm:
            def __init__(self):
                self.running_mean = Tensor(np.zeros(3))

            def __call__(self, x):
                mean = x.mean(0, keepdim=True)
                with autograd.no_grad():
                    self.running_mean = 0.9 * self.running_mean + 0.1 * mean
                return x - mean

        bn, w = BatchNorm(), Tensor(np.ones((3, 3)), requires_grad=True)

        class Model:
            def parameters(self):
                return [w, bn.running_mean]

        def step(x):
            loss = bn(x @ w).pow(2).sum()
            w.grad = None
            loss.backward()
            w.data -= 0.01 * w.grad
            return loss.item()
        return Model(), None, (lambda i: (Tensor(np.arange(6.0).reshape(2, 3) + i),)), step

    eager, eager_state, _ = _train(make, False)
    with pytest.warns(RuntimeWarning, match="in place"):
        losses, state, run = _train(make, True)
    assert losses == eager and all(np.array_equal(a, b) for a, b in zip(state, eager_state))
    assert run.replays == 0 and run.recordings == 1
