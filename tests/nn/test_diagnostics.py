"""Training diagnostics: gradient norms, update ratios, dead ReLUs and activation statistics, against NumPy."""

import matplotlib
import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor, Value, no_grad

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

X = np.random.default_rng(0).standard_normal((16, 3))
Y = np.random.default_rng(1).standard_normal((16, 2))
norm = np.linalg.norm


def relu_net():
    """Linear(3, 5) -> ReLU -> Linear(5, 2) in float64; ReLU units 1 and 3 are dead (bias -100)."""
    model = nn.Sequential(nn.Linear(3, 5, dtype=np.float64, seed=0), nn.ReLU(),
                          nn.Linear(5, 2, dtype=np.float64, seed=1))
    model[0].bias.data[[1, 3]] = -100.0
    return model


def train_step(model, lr=0.05):
    """Forward, backward and one SGD step inside a watch; returns the watch, the data and grads before the step."""
    opt = nn.optim.SGD(model.parameters(), lr=lr)
    before = {name: p.numpy().copy() for name, p in model.named_parameters()}
    with nn.watch(model) as watch:
        loss = F.mse_loss(model(Tensor(X)), Tensor(Y))
        opt.zero_grad()
        loss.backward()
        grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
        opt.step()
    return watch, before, grads


def test_grad_norms_and_update_ratios_match_numpy():
    model, lr = relu_net(), 0.05
    watch, before, grads = train_step(model, lr)
    diag = watch.report()
    assert list(diag.parameters) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for name, p in model.named_parameters():
        stats = diag.parameters[name]
        assert stats.shape == p.shape
        assert stats.data_norm == pytest.approx(norm(p.numpy()), rel=1e-12)
        assert stats.grad_norm == pytest.approx(norm(grads[name]), rel=1e-12)
        assert stats.grad_ratio == pytest.approx(norm(grads[name]) / norm(p.numpy()), rel=1e-12)
        assert stats.update_ratio == pytest.approx(norm(p.numpy() - before[name]) / norm(p.numpy()), rel=1e-12)
        # plain SGD moves each weight by lr * grad, so the ratio is also known without the snapshot
        assert stats.update_ratio == pytest.approx(lr * norm(grads[name]) / norm(p.numpy()), rel=1e-9)


def test_explicit_snapshot_gives_the_same_update_ratios():
    model = relu_net()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    F.mse_loss(model(Tensor(X)), Tensor(Y)).backward()
    before, old = nn.snapshot(model), model[2].weight.numpy().copy()
    opt.step()
    diag = nn.diagnostics(model, before=before)
    new = model[2].weight.numpy()
    assert diag.parameters["2.weight"].update_ratio == pytest.approx(norm(new - old) / norm(new), rel=1e-12)
    assert diag.activations == {}


def test_relu_and_linear_activation_statistics_and_dead_units():
    model = relu_net()
    watch, before, _ = train_step(model)
    diag = nn.diagnostics(model, watch=watch)
    h = X @ before["0.weight"].T + before["0.bias"]
    r = np.maximum(h, 0)
    out = r @ before["2.weight"].T + before["2.bias"]
    d_out = 2 * (out - Y) / out.size  # mse_loss is the mean over every element
    d_r = d_out @ before["2.weight"]
    relu, linear, head = diag.activations["1"], diag.activations["0"], diag.activations["2"]
    assert (relu.kind, relu.units, relu.count) == ("relu", 5, r.size)
    assert [relu.mean, relu.std, relu.min, relu.max] == pytest.approx([r.mean(), r.std(), r.min(), r.max()], rel=1e-12)
    assert relu.zero_fraction == pytest.approx((r == 0).mean())
    assert relu.dead_units == (r == 0).all(axis=0).sum() == 2 and relu.dead_fraction == pytest.approx(0.4)
    assert relu.saturated_fraction is None
    assert relu.grad_std == pytest.approx(d_r.std(), rel=1e-10)
    assert head.grad_std == pytest.approx(d_out.std(), rel=1e-10)
    assert linear.kind == "linear" and linear.zero_fraction is None and linear.dead_units is None
    assert [linear.mean, linear.std, linear.min, linear.max] == pytest.approx([h.mean(), h.std(), h.min(), h.max()])
    np.testing.assert_allclose(relu.values, r.ravel(), rtol=1e-12)
    assert any("1: 2 of 5 ReLU units dead" in note for note in diag.warnings)


def test_a_unit_is_dead_only_if_zero_for_every_example_of_every_call():
    model = nn.Sequential(nn.Linear(1, 2, dtype=np.float64), nn.ReLU())
    model[0].weight.data[:] = [[1.0], [-1.0]]
    model[0].bias.data[:] = 0.0
    positive = np.array([[1.0], [2.0], [3.0]])
    with nn.watch(model) as one_batch:
        model(Tensor(positive))  # unit 1 is -x: zero for every positive x
    assert one_batch.activations["1"].dead_units == 1
    with nn.watch(model) as two_batches:
        model(Tensor(positive))
        model(Tensor(-positive))  # now unit 1 fires and unit 0 is zero: neither is dead over both
    seen = np.maximum(np.concatenate([positive @ [[1.0, -1.0]], -positive @ [[1.0, -1.0]]]), 0)
    relu = two_batches.activations["1"]
    assert relu.dead_units == 0 and relu.count == seen.size
    assert relu.zero_fraction == pytest.approx((seen == 0).mean()) and relu.zero_fraction == 0.5
    assert [relu.mean, relu.std, relu.min, relu.max] == pytest.approx([seen.mean(), seen.std(), 0.0, 3.0], rel=1e-12)


def test_conv_units_are_channels():
    model = nn.Sequential(nn.Conv2d(1, 3, kernel_size=3, dtype=np.float64, seed=2), nn.ReLU())
    model[0].bias.data[1] = -100.0
    x = np.random.default_rng(3).standard_normal((4, 1, 6, 6))
    with nn.watch(model) as watch:
        model(Tensor(x))
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))  # (N, 1, 4, 4, 3, 3)
    weight, bias = model[0].weight.numpy(), model[0].bias.numpy()
    r = np.maximum(np.einsum("nchwij,ocij->nohw", windows, weight) + bias[:, None, None], 0)
    relu = watch.activations["1"]
    assert relu.units == 3 and relu.dead_units == (r == 0).all(axis=(0, 2, 3)).sum() == 1
    assert relu.zero_fraction == pytest.approx((r == 0).mean()) and relu.mean == pytest.approx(r.mean(), rel=1e-12)


def test_tanh_and_sigmoid_saturation():
    model = nn.Sequential(nn.Linear(3, 6, dtype=np.float64, seed=4), nn.Tanh(),
                          nn.Linear(6, 4, dtype=np.float64, seed=5), nn.Sigmoid())
    model[0].weight.data *= 10
    model[2].weight.data *= 10
    t = np.tanh(X @ model[0].weight.numpy().T + model[0].bias.numpy())
    s = 1 / (1 + np.exp(-(t @ model[2].weight.numpy().T + model[2].bias.numpy())))
    with nn.watch(model) as watch:
        model(Tensor(X))
    with nn.watch(model, saturation=0.5) as loose:
        model(Tensor(X))
    tanh, sigmoid = watch.activations["1"], watch.activations["3"]
    assert tanh.saturated_fraction == pytest.approx((np.abs(t) > 0.97).mean()) and 0 < tanh.saturated_fraction < 1
    expected = (np.abs(2 * s - 1) > 0.97).mean()
    assert sigmoid.saturated_fraction == pytest.approx(expected) and 0 < expected < 1
    assert loose.activations["1"].saturated_fraction == pytest.approx((np.abs(t) > 0.5).mean())
    assert tanh.zero_fraction is None and tanh.grad_std is None  # no backward was run
    assert [tanh.mean, tanh.std] == pytest.approx([t.mean(), t.std()], rel=1e-12)


def test_scalar_mlp_values_are_grouped_by_layer():
    model = nn.MLP(2, [4, 1], seed=0)
    model.layers[0].neurons[2].b.data = -100.0
    points = np.array([[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8]])
    targets = np.array([1.0, -1.0, 0.5])
    W0 = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])
    b0 = np.array([n.b.data for n in model.layers[0].neurons])
    W1, b1 = np.array([[w.data for w in model.layers[1].neurons[0].w]]), model.layers[1].neurons[0].b.data
    with nn.watch(model) as watch:
        loss = sum(((model(list(p)) - t) ** 2 for p, t in zip(points, targets)), Value(0.0))
        loss.backward()
        G0 = np.array([[w.grad for w in n.w] for n in model.layers[0].neurons])
        nn.optim.SGD(model.parameters(), lr=0.1).step()
    diag = watch.report()
    assert {k: p.shape for k, p in diag.parameters.items()} == {
        "layers.0.w": (4, 2), "layers.0.b": (4,), "layers.1.w": (1, 4), "layers.1.b": (1,)}
    W0_after = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])
    assert diag.parameters["layers.0.w"].grad_norm == pytest.approx(norm(G0), rel=1e-12)
    assert diag.parameters["layers.0.w"].update_ratio == pytest.approx(norm(0.1 * G0) / norm(W0_after), rel=1e-9)
    r = np.maximum(points @ W0.T + b0, 0)
    out = r @ W1.T + b1
    hidden, head = diag.activations["layers.0"], diag.activations["layers.1"]
    assert (hidden.kind, hidden.units, hidden.count, head.kind) == ("relu", 4, 12, "linear")
    assert hidden.mean == pytest.approx(r.mean(), rel=1e-12) and hidden.std == pytest.approx(r.std(), rel=1e-12)
    assert hidden.dead_units == (r == 0).all(axis=0).sum() and (r[:, 2] == 0).all()
    assert hidden.grad_std == pytest.approx((2 * (out - targets[:, None]) @ W1).std(), rel=1e-10)


def test_table_lists_every_parameter_and_module_in_aligned_columns():
    model = relu_net()
    diag = train_step(model)[0].report()
    text = diag.table()
    assert str(diag) == repr(diag) == text
    for name in ["0.weight", "0.bias", "2.weight", "2.bias", "relu", "linear", "2/5"]:
        assert name in text
    params = text.split("\n\n")[0].splitlines()
    assert len(params) == 5 and len({len(line) for line in params}) == 1
    assert params[0].split() == ["parameter", "shape", "|w|", "|grad|", "grad/w", "update/w"]


def test_missing_gradients_and_a_missing_step_are_reported():
    model = relu_net()
    before = nn.snapshot(model)
    diag = nn.diagnostics(model, before=before)  # no backward, no step
    assert all(p.grad_norm is None and p.update_ratio is None for p in diag.parameters.values())
    assert "—" in diag.table().splitlines()[1]
    assert any(n.startswith("0.weight: no gradient") for n in diag.warnings)
    assert any("opt.step()" in n for n in diag.warnings)


def test_plot_has_one_axes_per_panel_a_title_and_every_guide_line():
    model = relu_net()
    full = train_step(model)[0].report().plot()
    assert [ax.get_title() for ax in full.axes] == ["gradient norm", "update / data", "activations",
                                                    "activation gradients"]
    assert full.axes[0].get_yscale() == "log" and len(full.axes[0].patches) == 4
    assert full.get_suptitle() == "training diagnostics: 4 parameters, 3 watched modules"
    guides = {line.get_ydata()[0]: line.get_label() for line in full.axes[1].get_lines()}
    assert guides == {1e-2: "1e-2 (warns above)", 1e-3: "1e-3 (typical)", 1e-4: "1e-4 (warns below)"}
    low, high = full.axes[1].get_ylim()
    assert low <= 1e-4 and high >= 1e-2  # every guide is inside the axes, not only 1e-3
    bare = nn.diagnostics(model).plot(title="before training")
    assert [ax.get_title() for ax in bare.axes] == ["gradient norm"] and bare.get_suptitle() == "before training"
    plt.close(full)
    plt.close(bare)


def deep_net(activation, depth=4, width=6):
    """Linear layers of `width` with `activation` between them, in float64, seeded."""
    layers, rng = [], np.random.default_rng(7)
    for k in range(depth):
        layers += [nn.Linear(3 if k == 0 else width, width, dtype=np.float64, rng=rng), activation()]
    return nn.Sequential(*layers, nn.Linear(width, 2, dtype=np.float64, rng=rng))


def manual_steps(model, steps, lr):
    """Plain SGD by hand: per step the loss's gradient of every weight, and the weights after the step."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    grads, after = [], []
    for step in range(steps):
        x, y = X[step::2][:8], Y[step::2][:8]
        loss = F.mse_loss(model(Tensor(x)), Tensor(y))
        for p in model.parameters():
            p.grad = None
        loss.backward()
        grads.append([p.grad.numpy().copy() for p in weights])
        with no_grad():
            for p in model.parameters():
                p.data -= lr * p.grad
        after.append([p.numpy().copy() for p in weights])
    return grads, after


def test_gradient_flow_records_each_weights_gradient_norm_and_update_ratio_exactly():
    lr, steps = 0.3, 4
    model, twin = deep_net(nn.Sigmoid), deep_net(nn.Sigmoid)
    grads, after = manual_steps(twin, steps, lr)  # the same steps, by hand, on an identical twin
    opt = nn.optim.SGD(model.parameters(), lr=lr)
    with nn.gradient_flow(model, opt) as flow:
        for step in range(steps):
            x, y = X[step::2][:8], Y[step::2][:8]
            opt.zero_grad()
            F.mse_loss(model(Tensor(x)), Tensor(y)).backward()
            opt.step()  # recorded: the wrapper calls flow.record() after the real step
    assert flow.names == ["0.weight", "2.weight", "4.weight", "6.weight", "8.weight"] and flow.steps == steps
    for k, name in enumerate(flow.names):
        expected_grad = [norm(g[k]) for g in grads]
        expected_ratio = [norm(lr * g[k]) / norm(w[k]) for g, w in zip(grads, after)]
        np.testing.assert_allclose(flow.grad_norms[name], expected_grad, rtol=1e-12)
        np.testing.assert_allclose(flow.update_ratios[name], expected_ratio, rtol=1e-9)
    # sigmoid' <= 1/4 at every layer: the first layer's gradient is the smallest, the last layer's the largest
    first, last = flow.grad_norms["0.weight"], flow.grad_norms["8.weight"]
    assert (first < last / 10).all()
    assert "step" not in vars(opt)  # the optimizer is its old self after the with block
    opt.step()
    assert flow.steps == steps


def test_gradient_flow_follows_nn_fit_and_record_by_hand():
    model = deep_net(nn.ReLU, depth=2)
    opt = nn.optim.SGD(model.parameters(), lr=0.05)
    loader = nn.data.DataLoader(X, Y, batch_size=4, shuffle=False)
    with nn.gradient_flow(model, opt, names=["2.weight"]) as flow:
        nn.fit(model, F.mse_loss, opt, loader, epochs=2, metrics={}, progress=False)
    assert flow.names == ["2.weight"] and flow.steps == 2 * len(loader)
    assert np.isfinite(flow.grad_norms["2.weight"]).all() and (flow.update_ratios["2.weight"] > 0).all()

    by_hand = nn.gradient_flow(model)  # no optimizer: record() after each step
    before = model[2].weight.numpy().copy()
    opt.zero_grad()
    F.mse_loss(model(Tensor(X)), Tensor(Y)).backward()
    grad = model[2].weight.grad.numpy().copy()
    opt.step()
    by_hand.record()
    assert by_hand.grad_norms["2.weight"] == pytest.approx([norm(grad)], rel=1e-12)
    new = model[2].weight.numpy()
    assert by_hand.update_ratios["2.weight"] == pytest.approx([norm(new - before) / norm(new)], rel=1e-12)


def test_plot_gradient_flow_draws_the_recorded_numbers_side_by_side():
    flows = {}
    for name, activation in (("sigmoid", nn.Sigmoid), ("relu", nn.ReLU)):
        model = deep_net(activation, depth=3)
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        with nn.gradient_flow(model, opt) as flows[name]:
            for _ in range(3):
                opt.zero_grad()
                F.mse_loss(model(Tensor(X)), Tensor(Y)).backward()
                opt.step()
    fig = nn.plot_gradient_flow(flows)
    sig_grad, relu_grad, sig_update, relu_update = fig.axes  # row by row: gradient norms, then updates
    assert [ax.get_title() for ax in fig.axes[:2]] == ["sigmoid", "relu"] and len(fig.axes) == 4
    assert fig.get_suptitle() == "gradient flow per layer over training"
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    for ax, flow, field in ((sig_grad, flows["sigmoid"], "grad_norms"), (relu_grad, flows["relu"], "grad_norms"),
                            (sig_update, flows["sigmoid"], "update_ratios"),
                            (relu_update, flows["relu"], "update_ratios")):
        lines = [line for line in ax.get_lines() if len(line.get_xdata()) == flow.steps]  # not the guides
        assert len(lines) == len(flow.names) == 4
        for line, name in zip(lines, flow.names):
            np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
            np.testing.assert_array_equal(line.get_ydata(), getattr(flow, field)[name])
    assert [line.get_label() for line in sig_grad.get_lines()] == flows["sigmoid"].names
    assert [t.get_text() for t in relu_grad.get_legend().get_texts()] == flows["relu"].names
    assert {line.get_ydata()[0] for line in relu_update.get_lines()} >= {1e-4, 1e-3, 1e-2}
    plt.close(fig)
    single = flows["relu"].plot(title="relu")
    assert [ax.get_title() for ax in single.axes[:1]] == ["relu"] and len(single.axes) == 2
    plt.close(single)


def test_gradient_flow_bad_input():
    model = deep_net(nn.ReLU, depth=1)
    with pytest.raises(TypeError, match="gradient_flow: model must be an nn.Module"):
        nn.gradient_flow([model])
    with pytest.raises(ValueError, match=r"no parameter \['9.weight'\]"):
        nn.gradient_flow(model, names=["9.weight"])
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    with nn.gradient_flow(model, opt):
        with pytest.raises(ValueError, match="already being recorded"):
            nn.gradient_flow(model, opt)
    with pytest.raises(TypeError, match="runs must be GradientFlow objects"):
        nn.plot_gradient_flow({"a": [1.0]})


def test_bad_input_raises_clear_errors():
    model, twin = relu_net(), relu_net()
    with pytest.raises(TypeError, match="nn.Module, got list"):
        nn.diagnostics([model])
    with pytest.raises(TypeError, match="watch: model must be an nn.Module"):
        nn.watch("model")
    with pytest.raises(ValueError, match="snapshot of another model"):
        nn.diagnostics(model, before=nn.snapshot(twin))
    with pytest.raises(ValueError, match=r"missing \['0.bias'\]"):
        nn.diagnostics(model, before={k: v for k, v in nn.snapshot(model).items() if k != "0.bias"})
    with pytest.raises(ValueError, match=r"2.bias: expected \(2,\), got \(3,\)"):
        nn.diagnostics(model, before={**nn.snapshot(model), "2.bias": np.zeros(3)})
    with pytest.raises(TypeError, match="before must come from nn.snapshot"):
        nn.diagnostics(model, before=[1.0])
    with nn.watch(twin) as other:
        with pytest.raises(ValueError, match="watch= was started on another model"):
            nn.diagnostics(model, watch=other)


def test_hooks_are_removed_when_the_watch_ends_even_on_error():
    model = relu_net()
    with nn.watch(model) as watch:
        model(Tensor(X))
    model(Tensor(X))
    assert watch.activations["1"].count == X.shape[0] * 5
    with pytest.raises(RuntimeError, match="boom"):
        with nn.watch(model):
            raise RuntimeError("boom")
    assert all(not module._forward_hooks for _, module in model.named_modules())


def test_only_the_most_recent_outputs_are_kept_for_histograms():
    model = nn.Sequential(nn.Linear(1, 2, dtype=np.float64, seed=6), nn.ReLU())
    batches = [np.random.default_rng(i).standard_normal((4, 1)) for i in range(3)]
    with nn.watch(model, max_samples=20) as watch:
        outputs = [model(Tensor(b)).numpy().copy() for b in batches]
    relu = watch.activations["1"]
    assert relu.count == 24  # statistics cover every call
    np.testing.assert_array_equal(relu.values, np.concatenate(outputs[1:]).ravel())
