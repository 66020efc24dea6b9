"""nn.train: networks that really learn (scalar moons, digits MLP and CNN), and fit/predict's contract."""

import gc
import io
import sys

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor

# --- helpers ------------------------------------------------------------------------------------------


def moons(n=120, seed=0):
    X, y = nn.data.make_moons(n, noise=0.15, seed=seed)
    return X, y


def small_net(seed=0, hidden=8):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(2, hidden, rng=rng), nn.ReLU(), nn.Linear(hidden, 2, rng=rng))


def setup(seed=0, batch_size=16, lr=0.05):
    """A small moons problem: (model, optimizer, train loader, (X_val, y_val))."""
    X, y = moons(160, seed)
    model = small_net(seed)
    loader = nn.data.DataLoader(X[:120], y[:120], batch_size=batch_size, seed=seed)
    return model, nn.optim.Adam(model.parameters(), lr=lr), loader, (X[120:], y[120:])


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


class ValidationSnapshots:
    """A forward hook keeping a copy of the weights at every validation forward (eval mode)."""

    def __init__(self, model):
        self.states = []
        self.handle = model.register_forward_hook(self)

    def __call__(self, module, inputs, output):
        if not module.training:
            self.states.append(module.state_dict())


def scripted_val_loss(model, losses):
    """A loss_fn: cross entropy while training, the next of ``losses`` at each validation batch."""
    script = iter(losses)

    def loss_fn(out, y):
        return F.cross_entropy(out, y) if model.training else Tensor(np.float32(next(script)))
    return loss_fn


# --- networks that learn ----------------------------------------------------------------------------

def test_scalar_mlp_separates_moons_with_hinge_loss():
    # micrograd's demo: labels -1/+1, mean max-margin loss + 1e-4 L2, full batch, SGD lr 1 -> 0.1
    X, y = nn.data.make_moons(100, noise=0.1, seed=0)
    labels = y * 2.0 - 1.0
    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    assert len(params) == 337
    optimizer = nn.optim.SGD(params, lr=1.0)
    rows = X.tolist()
    gc.collect()
    for k in range(100):  # with the garbage collector on, as a user runs it
        scores = [model(row) for row in rows]
        loss = F.hinge_loss(scores, labels) + 1e-4 * sum(p * p for p in params)
        optimizer.lr = 1.0 - 0.9 * k / 100
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert gc.collect() == 0, "training the scalar MLP left reference cycles behind"
    final = np.array([model(row).data for row in rows])
    assert np.mean((final > 0) == (labels > 0)) == 1.0
    assert loss.data < 0.05


def digits(images=False):
    X, y = nn.data.load_digits(images=images)
    return nn.data.train_test_split(X / 16.0, y, test_size=0.25, seed=0, stratify=True)


def test_tensor_mlp_reaches_97_percent_on_digits():
    X_train, X_test, y_train, y_test = digits()
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(64, 128, rng=rng), nn.ReLU(), nn.Linear(128, 10, rng=rng))
    loader = nn.data.DataLoader(X_train, y_train, batch_size=32, seed=0)
    history = nn.fit(model, F.cross_entropy, nn.optim.Adam(model.parameters(), lr=3e-3), loader, epochs=30,
                     progress=False)
    assert history.train_loss[-1] < history.train_loss[0] / 10
    assert history.metrics["accuracy"][-1] > 0.99
    assert nn.metrics.accuracy(y_test, nn.predict(model, X_test)) >= 0.97  # 8 seeds: 97.6% .. 98.2%


def test_cnn_reaches_97_percent_on_digits():
    X_train, X_test, y_train, y_test = digits(images=True)
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10, rng=rng),
    )
    loader = nn.data.DataLoader(X_train, y_train, batch_size=32, seed=0)
    history = nn.fit(model, F.cross_entropy, nn.optim.Adam(model.parameters(), lr=2e-3), loader, epochs=15,
                     progress=False)
    assert history.epochs == 15 and history.train_loss[-1] < history.train_loss[0] / 10
    assert nn.metrics.accuracy(y_test, nn.predict(model, X_test)) >= 0.97  # 8 seeds: 97.6% .. 98.7%


# --- the History --------------------------------------------------------------------------------------

def test_history_has_one_entry_per_epoch_and_marks_the_best():
    model, optimizer, loader, val = setup()
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=4, val=val, progress=False)
    assert history.epochs == 4
    assert len(history.train_loss) == len(history.val_loss) == 4
    assert set(history.metrics) == {"accuracy", "val_accuracy"}
    assert all(len(v) == 4 for v in history.metrics.values())
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    assert not history.stopped_early and not history.interrupted
    assert all(isinstance(v, float) for v in history.train_loss + history.val_loss)


def test_train_loss_and_metrics_come_from_the_epochs_batches():
    model, optimizer, loader, _ = setup(batch_size=50)  # 120 samples: batches of 50, 50, 20
    batches, outputs = [], []

    def loss_fn(out, y):
        loss = F.cross_entropy(out, y)
        batches.append((loss.item(), len(y), y.numpy().copy()))
        return loss

    model.register_forward_hook(lambda module, inputs, out: outputs.append(out.numpy().copy()))
    history = nn.fit(model, loss_fn, optimizer, loader, epochs=2, metrics=["accuracy", "f1"], progress=False)
    assert [n for _, n, _ in batches] == [50, 50, 20] * 2
    for epoch in range(2):
        seen = batches[3 * epoch:3 * epoch + 3]
        expected = sum(loss * n for loss, n, _ in seen) / 120
        assert history.train_loss[epoch] == pytest.approx(expected, rel=1e-12)
        y = np.concatenate([labels for _, _, labels in seen])
        scores = np.concatenate(outputs[3 * epoch:3 * epoch + 3])
        assert history.metrics["accuracy"][epoch] == nn.metrics.accuracy(y, scores)
        assert history.metrics["f1"][epoch] == nn.metrics.f1_score(y, scores, average="macro")


def test_validation_loss_and_metrics_match_the_epochs_weights():
    model, optimizer, loader, (X_val, y_val) = setup()
    snapshots = ValidationSnapshots(model)
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=3, val=(X_val, y_val),
                     metrics=["accuracy", "precision", "recall", "f1"], progress=False)
    assert len(snapshots.states) == 3  # 40 validation samples: one batch per epoch
    assert set(history.metrics) == {f"{p}{m}" for p in ("", "val_") for m in ("accuracy", "precision", "recall", "f1")}
    for epoch, state in enumerate(snapshots.states):
        replica = small_net()
        replica.load_state_dict(state)
        scores = nn.predict(replica, X_val)
        assert history.val_loss[epoch] == pytest.approx(F.cross_entropy(Tensor(scores), y_val).item(), rel=1e-6)
        assert history.metrics["val_accuracy"][epoch] == nn.metrics.accuracy(y_val, scores)
        for name, metric in (("precision", nn.metrics.precision), ("recall", nn.metrics.recall),
                             ("f1", nn.metrics.f1_score)):
            assert history.metrics[f"val_{name}"][epoch] == metric(y_val, scores, average="macro")


def test_metrics_by_callable_dict_or_default():
    def top_class_share(y, scores):
        return float(np.mean(scores.argmax(axis=1) == 0))

    model, optimizer, loader, val = setup()
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=1, val=val, metrics=[top_class_share],
                     progress=False)
    assert set(history.metrics) == {"top_class_share", "val_top_class_share"}
    assert 0.0 <= history.metrics["val_top_class_share"][0] <= 1.0
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=1, metrics={"acc": nn.metrics.accuracy},
                     progress=False)
    assert set(history.metrics) == {"acc"}
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=1, metrics="accuracy", progress=False)
    assert set(history.metrics) == {"accuracy"}
    assert nn.fit(model, F.cross_entropy, optimizer, loader, epochs=1, metrics=[], progress=False).metrics == {}


def test_regression_targets_get_no_default_metrics():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5], dtype=np.float32))[:, None]
    model = nn.Linear(3, 1, rng=rng)
    loader = nn.data.DataLoader(X, y, batch_size=16, seed=0)
    history = nn.fit(model, F.mse_loss, nn.optim.SGD(model.parameters(), lr=0.1), loader, epochs=30,
                     val=(X, y), progress=False)
    assert history.metrics == {}
    assert history.val_loss[-1] < 1e-4 < history.val_loss[0]


def test_zero_epochs_changes_nothing():
    model, optimizer, loader, val = setup()
    before = model.state_dict()
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=0, val=val, early_stopping=2, progress=False)
    assert history.epochs == 0 and history.val_loss == [] and history.best_epoch is None
    assert same_state(model.state_dict(), before)


def test_history_plot_draws_both_curves_and_the_best_epoch():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = nn.History(train_loss=[1.0, 0.5, 0.4], val_loss=[1.1, 0.7, 0.8], best_epoch=2)
    ax = history.plot()
    try:
        labels = [line.get_label() for line in ax.get_lines()]
        assert labels == ["train loss", "validation loss", "best epoch 2"]
        assert ax.get_lines()[1].get_ydata().tolist() == [1.1, 0.7, 0.8]
    finally:
        plt.close(ax.figure)


# --- early stopping ---------------------------------------------------------------------------------

def test_early_stopping_stops_after_k_epochs_without_improvement_and_restores_the_best():
    model, optimizer, loader, val = setup()
    snapshots = ValidationSnapshots(model)
    script = [5.0, 4.0, 3.0, 3.0, 3.5, 3.25, 1.0, 0.5]  # a tie (3.0) is no improvement
    history = nn.fit(model, scripted_val_loss(model, script), optimizer, loader, epochs=8, val=val,
                     early_stopping=3, progress=False)
    assert history.stopped_early and not history.interrupted
    assert history.epochs == 6 and history.val_loss == script[:6]
    assert history.best_epoch == 3
    assert len(snapshots.states) == 6
    assert same_state(model.state_dict(), snapshots.states[2])
    assert not same_state(snapshots.states[2], snapshots.states[5])  # the restore did change the weights


def test_early_stopping_restores_the_best_weights_when_epochs_run_out():
    model, optimizer, loader, val = setup()
    snapshots = ValidationSnapshots(model)
    history = nn.fit(model, scripted_val_loss(model, [3.0, 2.0, 2.5]), optimizer, loader, epochs=3, val=val,
                     early_stopping=5, progress=False)
    assert not history.stopped_early and history.epochs == 3 and history.best_epoch == 2
    assert same_state(model.state_dict(), snapshots.states[1])


def test_without_early_stopping_the_last_weights_stay():
    model, optimizer, loader, val = setup()
    snapshots = ValidationSnapshots(model)
    history = nn.fit(model, scripted_val_loss(model, [1.0, 2.0, 3.0]), optimizer, loader, epochs=3, val=val,
                     progress=False)
    assert history.best_epoch == 1 and not history.stopped_early
    assert same_state(model.state_dict(), snapshots.states[2])


def test_early_stopping_on_real_data_matches_a_rerun_to_the_best_epoch():
    # a wide net on 30 noisy points overfits, so the validation loss turns up after a few epochs
    def run(epochs, early_stopping):
        X, y = nn.data.make_moons(120, noise=0.35, seed=3)
        model = small_net(seed=1, hidden=64)
        loader = nn.data.DataLoader(X[:30], y[:30], batch_size=8, seed=2)
        optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
        history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=epochs, val=(X[30:], y[30:]),
                         early_stopping=early_stopping, progress=False)
        return model, history

    model, history = run(40, 3)
    assert history.stopped_early and 1 < history.best_epoch < history.epochs < 40
    assert history.epochs == history.best_epoch + 3
    assert min(history.val_loss) == history.val_loss[history.best_epoch - 1]
    assert all(v >= history.val_loss[history.best_epoch - 1] for v in history.val_loss[history.best_epoch:])
    rerun, _ = run(history.best_epoch, None)
    assert same_state(model.state_dict(), rerun.state_dict())


# --- modes, Ctrl-C, progress --------------------------------------------------------------------------

def dropout_batchnorm_net(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(2, 8, rng=rng), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5, seed=seed),
                         nn.Linear(8, 2, rng=rng))


def test_validation_runs_in_eval_mode_without_a_graph():
    X, y = moons(160)
    model = dropout_batchnorm_net()
    seen = []
    for layer in (model[1], model[3]):
        layer.register_forward_hook(lambda m, inputs, out: seen.append((type(m).__name__, m.training,
                                                                        out.requires_grad)))
    loader = nn.data.DataLoader(X[:120], y[:120], batch_size=40, seed=0)  # 3 batches
    val = nn.data.DataLoader(X[120:], y[120:], batch_size=20, shuffle=False)  # 2 batches
    nn.fit(model, F.cross_entropy, nn.optim.SGD(model.parameters(), lr=0.1), loader, epochs=2, val=val,
           progress=False)
    train_step = [("BatchNorm1d", True, True), ("Dropout", True, True)]
    validation = [("BatchNorm1d", False, False), ("Dropout", False, False)]
    assert seen == (train_step * 3 + validation * 2) * 2
    assert int(model[1].num_batches_tracked.data) == 6  # validation never updated the running statistics
    assert all(m.training for _, m in model.named_modules())


def test_fit_trains_in_training_mode_and_gives_back_each_modules_flag():
    model, optimizer, loader, val = setup()
    model.eval()
    model[0].training = True
    flags = []
    model.register_forward_hook(lambda m, inputs, out: flags.append(m.training))
    nn.fit(model, F.cross_entropy, optimizer, loader, epochs=1, val=val, progress=False)
    assert flags == [True] * len(loader) + [False]
    assert [m.training for _, m in model.named_modules()] == [False, True, False, False]


def test_ctrl_c_mid_epoch_returns_the_completed_epochs():
    model, optimizer, loader, val = setup(batch_size=40)  # 3 batches an epoch
    calls = []

    def loss_fn(out, y):
        if model.training:
            calls.append(1)
            if len(calls) == 8:  # the 2nd batch of epoch 3
                raise KeyboardInterrupt
        return F.cross_entropy(out, y)

    history = nn.fit(model, loss_fn, optimizer, loader, epochs=5, val=val, progress=False)
    assert history.interrupted and not history.stopped_early
    assert history.epochs == 2
    assert len(history.val_loss) == 2 and all(len(v) == 2 for v in history.metrics.values())
    assert model.training
    # the model is usable: it predicts, and training picks up again
    assert nn.predict(model, val[0]).shape == (40, 2)
    again = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=1, val=val, progress=False)
    assert again.epochs == 1 and not again.interrupted


def test_ctrl_c_during_validation_leaves_training_mode_and_grad_mode_on():
    model, optimizer, loader, val = setup()
    validations = []

    def hook(module, inputs, out):
        if not module.training:
            validations.append(1)
            if len(validations) == 2:
                raise KeyboardInterrupt

    model.register_forward_hook(hook)
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=4, val=val, progress=False)
    assert history.interrupted and history.epochs == 1
    assert len(history.train_loss) == len(history.val_loss) == 1
    assert model.training
    assert model(Tensor(val[0])).requires_grad  # no_grad was left


def test_ctrl_c_with_early_stopping_restores_the_best_weights_so_far():
    model, optimizer, loader, val = setup()
    snapshots = ValidationSnapshots(model)
    script = iter([2.0, 1.0, 1.5])

    def loss_fn(out, y):
        if model.training:
            return F.cross_entropy(out, y)
        value = next(script, None)
        if value is None:
            raise KeyboardInterrupt
        return Tensor(np.float32(value))

    history = nn.fit(model, loss_fn, optimizer, loader, epochs=6, val=val, early_stopping=3, progress=False)
    assert history.interrupted and history.epochs == 3 and history.best_epoch == 2
    assert same_state(model.state_dict(), snapshots.states[1])


def test_progress_false_prints_nothing(capsys):
    model, optimizer, loader, val = setup()
    nn.fit(model, F.cross_entropy, optimizer, loader, epochs=2, val=val, progress=False)
    assert capsys.readouterr() == ("", "")


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, so fit draws its bars."""

    def isatty(self):
        return True


def test_progress_bar_goes_to_stderr_in_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    model, optimizer, loader, val = setup()
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=3, val=val)
    err = sys.stderr.getvalue()
    assert capsys.readouterr().out == ""
    assert "epochs" in err and "3/3" in err and "\r" in err
    assert f"val_loss={history.val_loss[-1]:.4g}" in err
    assert "epoch 1" not in err  # 8 batches an epoch: no batch bar
    monkeypatch.setattr(sys, "stderr", Terminal())
    model, optimizer, loader, _ = setup(batch_size=4)  # 30 batches an epoch get their own bar
    nn.fit(model, F.cross_entropy, optimizer, loader, epochs=1)
    assert "epoch 1: " in sys.stderr.getvalue()


# --- bad arguments ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": -1}, ValueError, "epochs must be an int >= 0, got -1"),
    ({"epochs": 2.5}, ValueError, "epochs must be an int >= 0, got 2.5"),
    ({"early_stopping": 2}, ValueError, "early_stopping needs validation data"),
    ({"early_stopping": 0, "val": "ok"}, ValueError, "early_stopping must be an int >= 1, got 0"),
    ({"val": "X"}, TypeError, "val must be a pair (X, y) or a DataLoader, got ndarray"),
    ({"val": "XyX"}, TypeError, "val must be a pair (X, y) or a DataLoader, got a tuple of 3 items"),
    ({"val": "short"}, ValueError, "fit: val: DataLoader: X has 40 samples but y has 39"),
    ({"val": "no targets"}, ValueError, "fit: val has no targets"),
    ({"metrics": ["accuracy", "auc"]}, ValueError, "unknown metric 'auc'"),
    ({"metrics": [lambda y, s: 0.0]}, ValueError, "has no usable name"),
    ({"metrics": [nn.metrics.accuracy, nn.metrics.accuracy]}, ValueError, "two metrics are named 'accuracy'"),
])
def test_bad_arguments_raise_before_training(kwargs, error, message):
    model, optimizer, loader, (X_val, y_val) = setup()
    vals = {"ok": (X_val, y_val), "X": X_val, "XyX": (X_val, y_val, y_val), "short": (X_val, y_val[:-1]),
            "no targets": nn.data.DataLoader(X_val)}
    if "val" in kwargs:
        kwargs = {**kwargs, "val": vals[kwargs["val"]]}
    before = model.state_dict()
    with pytest.raises(error) as caught:
        nn.fit(model, F.cross_entropy, optimizer, loader, progress=False, **kwargs)
    assert message in str(caught.value)
    assert same_state(model.state_dict(), before)


def test_bad_loader_or_model_raise():
    model, optimizer, loader, _ = setup()
    X, y = moons(10)
    with pytest.raises(TypeError, match="loader must be a nn.data.DataLoader, got tuple"):
        nn.fit(model, F.cross_entropy, optimizer, (X, y), progress=False)
    with pytest.raises(ValueError, match="loader has no targets"):
        nn.fit(model, F.cross_entropy, optimizer, nn.data.DataLoader(X), progress=False)
    with pytest.raises(ValueError, match="loader yields no batches"):
        nn.fit(model, F.cross_entropy, optimizer, nn.data.DataLoader(X, y, batch_size=32, drop_last=True),
               progress=False)
    with pytest.raises(TypeError, match="model must be a nn.Module, got function"):
        nn.fit(lambda x: x, F.cross_entropy, optimizer, loader, progress=False)


# --- predict -------------------------------------------------------------------------------------

def test_predict_is_the_eval_forward_without_a_graph():
    X, y = moons(100)
    model = dropout_batchnorm_net()
    nn.fit(model, F.cross_entropy, nn.optim.SGD(model.parameters(), lr=0.1),
           nn.data.DataLoader(X, y, batch_size=20, seed=0), epochs=2, progress=False)
    graphs = []
    handle = model.register_forward_hook(lambda m, inputs, out: graphs.append(out.requires_grad))
    out = nn.predict(model, X, batch_size=30)
    handle.remove()
    assert graphs == [False] * 4
    assert isinstance(out, np.ndarray) and out.shape == (100, 2) and out.dtype == np.float32
    model.eval()
    expected = model(Tensor(X)).data
    model.train()
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)  # no dropout, running statistics
    np.testing.assert_array_equal(nn.predict(model, X.tolist()), nn.predict(model, X, batch_size=1000))


def test_predict_on_no_samples_keeps_the_output_shape():
    model = dropout_batchnorm_net()
    out = nn.predict(model, np.zeros((0, 2), np.float32))
    assert out.shape == (0, 2) and out.dtype == np.float32
    conv = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    assert nn.predict(conv, np.zeros((0, 1, 4, 4), np.float32)).shape == (0, 12)


def test_predict_gives_back_the_training_flags():
    model = dropout_batchnorm_net()
    X, _ = moons(12)
    nn.predict(model, X)
    assert all(m.training for _, m in model.named_modules())
    model.eval()
    nn.predict(model, X)
    assert not any(m.training for _, m in model.named_modules())
    model[3].training = True  # a mixed model stays mixed
    nn.predict(model, Tensor(X))
    assert [m.training for _, m in model.named_modules()] == [False, False, False, False, True, False]
