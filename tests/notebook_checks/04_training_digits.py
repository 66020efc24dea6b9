# ruff: noqa: F821  (the names come from the notebook's kernel: each section runs right after the cell it names)
# Checks of notebooks/04_training_digits.ipynb

# %% after nb04-03
assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32 and y.shape == (1797,)
assert X.min() == 0.0 and X.max() == 1.0
assert (len(X_train), len(X_val), len(X_test)) == (1144, 203, 450)
share = np.bincount(y) / len(y)
for part in (y_train, y_val, y_test):  # stratified: each part has each digit's share of the whole set
    assert np.abs(np.bincount(part) / len(part) - share).max() < 0.005

# %% after nb04-05
assert mlp.num_parameters() == (64 + 1) * 64 + (64 + 1) * 10 == 4810
assert mlp_history.epochs == 30 and mlp_history.train_loss[-1] < mlp_history.train_loss[0] / 10
assert mlp_accuracy >= 0.95

# %% after nb04-07
assert sizes == {(1, 0): 5, (2, 0): 3, (3, 0): Fraction(7, 3), (1, 1): 7}  # the lecture's sizes
assert float(conv_output_size(7, 3, 3)) == 7 / 3 and round(7 / 3, 2) == 2.33

# %% after nb04-09
for (S, P), shape in layer_shapes.items():  # floor: exactly the formula when the filter fits
    size = conv_output_size(7, 3, S, P)
    assert shape == (1, 1, size // 1, size // 1), (S, P)
assert unchanged_7th and not unchanged_6th

# %% after nb04-11
assert all(shape == (1, 1, 7, 7) for shape in preserved.values())
assert checked == 135 and disagree == []

# %% after nb04-13
assert layer.weight.shape == (10, 3, 5, 5) and layer.bias.shape == (10,)
assert per_filter == 76 and layer.num_parameters() == 760
assert out.shape == (1, 10, 32, 32) and conv_output_size(32, 5, 1, 2) == 32

# %% after nb04-15
assert h.shape == (2, 10)
assert cnn[0](Tensor(X_train[:2])).shape == (2, 8, 8, 8) and cnn[2](cnn[0](Tensor(X_train[:2]))).shape == (2, 8, 4, 4)
assert cnn.num_parameters() == 8 * (5 * 5 + 1) + (128 + 1) * 10 == 1498

# %% after nb04-16
assert cnn_history.epochs == 20 and cnn_history.train_loss[-1] < cnn_history.train_loss[0] / 5
assert cnn_accuracy >= 0.95

# %% after nb04-18
for history in (mlp_history, cnn_history):
    best = history.best_epoch
    assert len(history.train_loss) == len(history.val_loss) == len(history.metrics["val_accuracy"]) == history.epochs
    assert history.val_loss[best - 1] == min(history.val_loss)
    assert history.metrics["accuracy"][-1] > 0.97 and history.metrics["val_accuracy"][-1] > 0.93
    assert history.metrics["accuracy"][0] < history.metrics["val_accuracy"][0]  # epoch 1: learning while measured

# %% after nb04-20
assert matrix.sum() == len(y_test) == 450
assert np.trace(matrix) / matrix.sum() == cnn_accuracy
assert np.array_equal(matrix.sum(axis=1), np.bincount(y_test, minlength=10))
assert np.array_equal(matrix.sum(axis=0), np.bincount(cnn_pred, minlength=10))

# %% after nb04-22
assert len(wrong) == len(y_test) - np.trace(matrix) == round((1 - cnn_accuracy) * len(y_test))
assert 0 < len(wrong) <= 0.05 * len(y_test)
assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
assert np.array_equal(probabilities.argmax(axis=1), cnn_pred)

# %% after nb04-24
assert filters.shape == (8, 5, 5) and maps.shape == (8, 8, 8) and (maps >= 0).all()
assert np.allclose(maps, manual, atol=1e-5)  # z_ij = sum_kl x_{i+k, j+l} w_kl + b, then ReLU: the lecture's formula

# %% after nb04-27
relu = report.activations["2"]  # modules are named by their place in the Sequential: 1 Linear, 2 ReLU, 3 Linear
weights = [report.parameters[name] for name in ("1.weight", "3.weight")]
assert abs(loss_before - np.log(10)) < 0.05
assert all(1e-3 < p.update_ratio < 1e-2 for p in weights)
assert not any("update/data" in warning for warning in report.warnings)
for p in report.parameters.values():  # a first SGD step: the momentum buffer is the gradient, so dw = lr * grad
    assert np.isclose(p.update_ratio, 0.1 * p.grad_ratio, rtol=1e-3)
assert 0.45 < relu.zero_fraction < 0.55
assert relu.dead_units == never_active(fresh_mlp()).sum() == 1
assert report.warnings == ["2: 1 of 64 ReLU units dead (0 for every example seen)"]

# %% after nb04-31
relu_broken = report_broken.activations["2"]
assert relu_broken.dead_units == dead.sum() == 41 and relu_broken.zero_fraction > 0.95
assert "2: 41 of 64 ReLU units dead (0 for every example seen)" in report_broken.warnings
assert np.all(grad_w1[dead] == 0)                         # a dead unit's weights get no gradient at all...
assert np.all(np.abs(grad_w1[~dead]).sum(axis=1) > 0)     # ...while every live unit's do
assert -1.1 < report.activations["1"].min < -1 and 0.9 < report.activations["1"].max < 1.1  # the healthy range
assert round(relu_broken.zero_fraction, 2) == 0.97
assert report_broken.parameters["1.weight"].update_ratio < 1e-3
for column in ("grad_norm", "update_ratio"):  # the first layer: a fifth of the healthy network's
    fifth = getattr(report_broken.parameters["1.weight"], column) / getattr(report.parameters["1.weight"], column)
    assert 0.15 < fifth < 0.25

# %% after nb04-35
losses = [loss_k for _, loss_k in steps]
dead_counts = [r.activations["2"].dead_units for r, _ in steps]
assert all(r.parameters[name].update_ratio > 0.3 for r, _ in steps for name in ("1.weight", "3.weight"))
assert all(any("update/data" in w and "above 1e-2" in w for w in r.warnings) for r, _ in steps)
assert dead_counts == [1, 14, 19]
assert losses[2] > losses[0] > 2.3
