"""nn.fit(compile=True): the captured training step trains exactly as the eager one."""

import numpy as np
import pytest

import autograd
import nn
from nn import functional as F


def _fit(compile, **kwargs):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((70, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    model = nn.Sequential(nn.Linear(6, 16, seed=1), nn.ReLU(), nn.Dropout(0.1, seed=2), nn.Linear(16, 3, seed=3))
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    loader = nn.data.DataLoader(X[:50], y[:50], batch_size=16, shuffle=True, seed=4)  # 16, 16, 16 and 2
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=6, val=(X[50:], y[50:]), progress=False,
                     compile=compile, **kwargs)
    return history, [p.numpy().copy() for p in model.parameters()]


def test_compiled_fit_trains_as_the_eager_one(monkeypatch):
    made = []
    compile = autograd.compile
    monkeypatch.setattr(autograd, "compile", lambda step: made.append(compile(step)) or made[-1])
    eager, eager_weights = _fit(False)
    captured, weights = _fit(True)
    assert made[0].replays >= 15  # of 24 steps: Adam made capturable, a recording for each batch size
    assert captured.train_loss == eager.train_loss and captured.val_loss == eager.val_loss
    assert captured.metrics == eager.metrics and captured.steps == eager.steps == 24
    for a, b in zip(weights, eager_weights):
        np.testing.assert_array_equal(a, b)


def test_compile_must_be_a_flag():
    with pytest.raises(TypeError, match="compile must be True or False"):
        _fit("yes")
