"""nn.fit's metrics on single-output binary models: logits, probabilities, hinge scores, 1-column targets."""

import numpy as np
import pytest

import nn
import nn.functional as F


class Squeezed(nn.Module):
    """A model whose output has shape (n,): one logit per sample, no column axis."""

    def __init__(self, net):
        self.net = net

    def forward(self, x):
        return self.net(x).reshape(-1)


def binary_problem(seed=0, last=None):
    """(model, optimizer, X_train, y_train, X_val, y_val) on moons; the model ends in one output column."""
    X, y = nn.data.make_moons(160, noise=0.2, seed=seed)
    rng = np.random.default_rng(seed)
    layers = [nn.Linear(2, 8, rng=rng), nn.ReLU(), nn.Linear(8, 1, rng=rng)] + ([last] if last else [])
    model = nn.Sequential(*layers)
    return model, nn.optim.Adam(model.parameters(), lr=0.05), X[:120], y[:120], X[120:], y[120:]


def recorded_training_outputs(model):
    """The outputs of every training-mode forward, in order."""
    outputs = []
    model.register_forward_hook(lambda m, i, out: outputs.append(out.numpy().copy()) if m.training else None)
    return outputs


def test_single_logit_model_with_one_column_integer_targets_gets_thresholded_accuracy():
    model, optimizer, X, y, Xv, yv = binary_problem()
    outputs = recorded_training_outputs(model)
    loader = nn.data.DataLoader(X, y[:, None], batch_size=40, shuffle=False)
    history = nn.fit(model, F.binary_cross_entropy_with_logits, optimizer, loader, epochs=1,
                     val=(Xv, yv[:, None]), progress=False)
    assert set(history.metrics) == {"accuracy", "val_accuracy"}
    trained = np.concatenate(outputs)
    assert trained.shape == (120, 1)
    assert history.metrics["accuracy"] == [np.mean((trained[:, 0] > 0) == y)]
    assert history.metrics["val_accuracy"] == [np.mean((nn.predict(model, Xv)[:, 0] > 0) == yv)]


def test_single_logit_model_learns_and_its_accuracy_is_exact_each_epoch():
    model, optimizer, X, y, Xv, yv = binary_problem()
    loader = nn.data.DataLoader(X, y[:, None], batch_size=16, seed=0)
    history = nn.fit(model, F.binary_cross_entropy_with_logits, optimizer, loader, epochs=15,
                     val=(Xv, yv[:, None]), progress=False)
    assert len(history.metrics["val_accuracy"]) == 15
    final = np.mean((nn.predict(model, Xv)[:, 0] > 0) == yv)
    assert history.metrics["val_accuracy"][-1] == final
    assert final >= 0.85  # moons with noise 0.2 after 15 epochs


def test_float_zero_one_targets_of_a_binary_loss_get_accuracy_too():
    model, optimizer, X, y, Xv, yv = binary_problem()
    loader = nn.data.DataLoader(X, y[:, None].astype(np.float32), batch_size=40, shuffle=False)
    history = nn.fit(model, F.binary_cross_entropy_with_logits, optimizer, loader, epochs=2,
                     val=(Xv, yv[:, None].astype(np.float32)), progress=False)
    assert set(history.metrics) == {"accuracy", "val_accuracy"}
    assert history.metrics["val_accuracy"][-1] == np.mean((nn.predict(model, Xv)[:, 0] > 0) == yv)


def test_float_zero_one_targets_of_mse_stay_without_a_default_metric():
    model, optimizer, X, y, _, _ = binary_problem()
    loader = nn.data.DataLoader(X, y[:, None].astype(np.float32), batch_size=40, shuffle=False)
    assert nn.fit(model, F.mse_loss, optimizer, loader, epochs=1, progress=False).metrics == {}


def test_probability_outputs_of_binary_cross_entropy_are_thresholded_at_one_half():
    model, optimizer, X, y, Xv, yv = binary_problem(last=nn.Sigmoid())
    loader = nn.data.DataLoader(X, y[:, None].astype(np.float32), batch_size=40, shuffle=False)
    history = nn.fit(model, F.binary_cross_entropy, optimizer, loader, epochs=2,
                     val=(Xv, yv[:, None].astype(np.float32)), progress=False)
    probabilities = nn.predict(model, Xv)[:, 0]
    assert history.metrics["val_accuracy"][-1] == np.mean((probabilities > 0.5) == yv)


def test_output_of_shape_n_and_targets_of_shape_n():
    net, optimizer, X, y, Xv, yv = binary_problem()
    model = Squeezed(net)
    loader = nn.data.DataLoader(X, y.astype(np.float32), batch_size=40, shuffle=False)
    history = nn.fit(model, F.binary_cross_entropy_with_logits, optimizer, loader, epochs=2,
                     val=(Xv, yv.astype(np.float32)), progress=False)
    logits = nn.predict(model, Xv)
    assert logits.shape == (40,)
    assert history.metrics["val_accuracy"][-1] == np.mean((logits > 0) == yv)


def test_hinge_scores_with_minus_one_plus_one_labels():
    model, optimizer, X, y, Xv, yv = binary_problem()
    signs, val_signs = (2 * y - 1)[:, None], (2 * yv - 1)[:, None]  # integer labels -1 / +1
    loader = nn.data.DataLoader(X, signs, batch_size=40, shuffle=False)
    history = nn.fit(model, F.hinge_loss, optimizer, loader, epochs=2, val=(Xv, val_signs), progress=False)
    scores = nn.predict(model, Xv)[:, 0]
    assert history.metrics["val_accuracy"][-1] == np.mean(np.where(scores > 0, 1, -1) == val_signs[:, 0])


@pytest.mark.parametrize("name, metric", [("f1", nn.metrics.f1_score), ("precision", nn.metrics.precision),
                                          ("recall", nn.metrics.recall)])
def test_named_metrics_threshold_a_single_logit_too(name, metric):
    model, optimizer, X, y, Xv, yv = binary_problem()
    loader = nn.data.DataLoader(X, y[:, None], batch_size=40, shuffle=False)
    history = nn.fit(model, F.binary_cross_entropy_with_logits, optimizer, loader, epochs=2,
                     val=(Xv, yv[:, None]), metrics=[name], progress=False)
    predicted = (nn.predict(model, Xv)[:, 0] > 0).astype(np.int64)
    assert history.metrics[f"val_{name}"][-1] == metric(yv, predicted, average="macro")


def test_a_callable_metric_gets_the_raw_outputs_and_an_empty_dict_means_none():
    model, optimizer, X, y, Xv, yv = binary_problem()
    loader = nn.data.DataLoader(X, y[:, None], batch_size=40, shuffle=False)
    seen = []

    def mean_logit(y_true, y_pred):
        seen.append((y_true.shape, y_pred.shape, y_pred.dtype.kind))
        return float(np.mean(y_pred))

    history = nn.fit(model, F.binary_cross_entropy_with_logits, optimizer, loader, epochs=1,
                     val=(Xv, yv[:, None]), metrics={"mean_logit": mean_logit}, progress=False)
    assert seen == [((120, 1), (120, 1), "f"), ((40, 1), (40, 1), "f")]
    assert history.metrics["val_mean_logit"] == [pytest.approx(float(np.mean(nn.predict(model, Xv))), rel=1e-6)]
    history = nn.fit(model, F.binary_cross_entropy_with_logits, optimizer, loader, epochs=1, metrics={},
                     progress=False)
    assert history.metrics == {}
