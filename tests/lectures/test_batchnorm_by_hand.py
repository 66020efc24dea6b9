"""makemore part 3: batch normalisation written by hand.

Two programs, each run on torch and on chainrule from the same NumPy-drawn weights and the same
minibatch indices:

* ``bn_single_layer`` -- one hidden layer whose pre-activations are standardised with the batch mean and
  (unbiased) std, scaled by a gain and shifted by a bias, while running estimates are kept with an
  exponential moving average under ``no_grad``; evaluation then uses the running estimates, and a fresh
  calibration over the whole training set is compared with them.
* ``bn_deep_network`` -- the lecture's home-made layer classes (Linear, BatchNorm1d, Tanh) with an
  ``.out`` attribute, a ``training`` flag and buffers; the diagnostics of the lecture: retained gradients
  of every layer output, activation/gradient statistics formatted with ``%``, histograms, and the
  update-to-data ratio of every parameter per step.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

import autograd
import nn.functional as cr_F

_spec = importlib.util.spec_from_file_location("lectures_names", pathlib.Path(__file__).with_name("_names.py"))
names = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(names)
_spec = importlib.util.spec_from_file_location("lectures_layers", pathlib.Path(__file__).with_name("_layers.py"))
_layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_layers)


BLOCK, EMBD, HIDDEN, BATCH = 3, 6, 40, 32

WORDS = names.make_names(300, seed=0)
STOI, ITOS = names.vocabulary(WORDS)
XTR, YTR = names.context_windows(WORDS[:240], STOI, BLOCK)
XDEV, YDEV = names.context_windows(WORDS[240:], STOI, BLOCK)


def _normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# --- program 1: one hidden layer with explicit gain, bias and running statistics --------------------------

SINGLE_STEPS = 60


def _single_init(seed=11):
    rng = np.random.default_rng(seed)
    fan_in = BLOCK * EMBD
    return {
        "C": _normal(rng, 27, EMBD),
        "W1": _normal(rng, fan_in, HIDDEN) * np.float32((5 / 3) / fan_in**0.5),
        "W2": _normal(rng, HIDDEN, 27) * np.float32(0.01),
        "b2": np.zeros(27, np.float32),
        "batches": rng.integers(0, len(XTR), size=(SINGLE_STEPS, BATCH)),
    }


SINGLE = _single_init()


def bn_single_layer(lib, F, lr=0.1):
    Xtr, Ytr = lib.tensor(XTR), lib.tensor(YTR)
    Xdev, Ydev = lib.tensor(XDEV), lib.tensor(YDEV)
    C = lib.tensor(SINGLE["C"].copy())
    W1 = lib.tensor(SINGLE["W1"].copy())
    W2 = lib.tensor(SINGLE["W2"].copy())
    b2 = lib.tensor(SINGLE["b2"].copy())
    bngain = lib.ones((1, HIDDEN))
    bnbias = lib.zeros((1, HIDDEN))
    bnmean_running = lib.zeros((1, HIDDEN))
    bnstd_running = lib.ones((1, HIDDEN))
    parameters = [C, W1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True

    losses, log_lines = [], []
    for i in range(SINGLE_STEPS):
        ix = lib.tensor(SINGLE["batches"][i])
        Xb, Yb = Xtr[ix], Ytr[ix]
        emb = C[Xb]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1  # no bias: the batch mean would remove it anyway
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
        with lib.no_grad():
            bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
            bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
        h = lib.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())
        if i % 20 == 0:
            log_lines.append(f"{i:7d}/{SINGLE_STEPS:7d}: {loss.item():.4f}")

    # calibrate the statistics once over the whole training set, as the lecture does after training
    with lib.no_grad():
        hpre = C[Xtr].view(Xtr.shape[0], -1) @ W1
        bnmean = hpre.mean(0, keepdim=True)
        bnstd = hpre.std(0, keepdim=True)

    @lib.no_grad()
    def split_loss(X, Y, mean, std):
        emb = C[X]
        hpreact = emb.view(emb.shape[0], -1) @ W1
        hpreact = bngain * (hpreact - mean) / std + bnbias
        logits = lib.tanh(hpreact) @ W2 + b2
        out = F.cross_entropy(logits, Y)
        return out.item(), out.requires_grad

    return {
        "losses": losses, "log_lines": log_lines,
        "running": (names.to_numpy(bnmean_running), names.to_numpy(bnstd_running)),
        "running_requires_grad": bnmean_running.requires_grad or bnstd_running.requires_grad,
        "calibrated": (names.to_numpy(bnmean), names.to_numpy(bnstd)),
        "train_running": split_loss(Xtr, Ytr, bnmean_running, bnstd_running),
        "train_calibrated": split_loss(Xtr, Ytr, bnmean, bnstd),
        "dev_running": split_loss(Xdev, Ydev, bnmean_running, bnstd_running),
        "params": [names.to_numpy(p) for p in parameters],
    }


def test_single_layer_batchnorm_matches_torch(torch):
    import torch.nn.functional as torch_F

    ours = bn_single_layer(autograd, cr_F)
    theirs = bn_single_layer(torch, torch_F)

    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=2e-5)
    assert np.mean(ours["losses"][-10:]) < np.mean(ours["losses"][:10])
    assert len(ours["log_lines"]) == 3
    for line, line_t in zip(ours["log_lines"], theirs["log_lines"]):
        assert line.split(":")[0] == line_t.split(":")[0]
        assert float(line.split(":")[1]) == pytest.approx(float(line_t.split(":")[1]), abs=1e-4)

    assert not ours["running_requires_grad"] and not theirs["running_requires_grad"]
    for a, b in zip(ours["running"], theirs["running"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours["calibrated"], theirs["calibrated"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours["params"], theirs["params"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    for key in ("train_running", "train_calibrated", "dev_running"):
        (loss, needs_grad), (loss_t, needs_grad_t) = ours[key], theirs[key]
        assert loss == pytest.approx(loss_t, rel=1e-5), key
        assert needs_grad is needs_grad_t is False, key


# --- program 2: home-made layer classes, diagnostics -------------------------------------------------------

DEEP_STEPS = 25
WIDTH = 48


def _deep_init(seed=5):
    rng = np.random.default_rng(seed)
    return {
        "C": _normal(rng, 27, EMBD),
        "W": [_normal(rng, BLOCK * EMBD, WIDTH), _normal(rng, WIDTH, WIDTH), _normal(rng, WIDTH, 27)],
        "batches": rng.integers(0, len(XTR), size=(DEEP_STEPS, BATCH)),
    }


DEEP = _deep_init()


def bn_deep_network(lib, F, lr=0.1):
    Linear, BatchNorm1d, Tanh, *_ = _layers.lecture_layers(lib)
    Xtr, Ytr = lib.tensor(XTR), lib.tensor(YTR)
    C = lib.tensor(DEEP["C"].copy())
    layers = [
        Linear(_layers.fan_in_scaled(DEEP["W"][0]), bias=False), BatchNorm1d(WIDTH), Tanh(),
        Linear(_layers.fan_in_scaled(DEEP["W"][1]), bias=False), BatchNorm1d(WIDTH), Tanh(),
        Linear(_layers.fan_in_scaled(DEEP["W"][2])),
    ]
    with lib.no_grad():
        layers[-1].weight *= 0.1  # a less confident last layer
        for layer in layers[:-1]:
            if isinstance(layer, Linear):
                layer.weight *= 5 / 3  # tanh's gain
    parameters = [C] + [p for layer in layers for p in layer.parameters()]
    for p in parameters:
        p.requires_grad = True

    losses, ud = [], []
    for i in range(DEEP_STEPS):
        ix = lib.tensor(DEEP["batches"][i])
        Xb, Yb = Xtr[ix], Ytr[ix]
        x = C[Xb].view(Xb.shape[0], -1)
        for layer in layers:
            x = layer(x)
        loss = F.cross_entropy(x, Yb)
        for layer in layers:
            layer.out.retain_grad()
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())
        with lib.no_grad():
            ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])

    # the diagnostics of the last step: activations and their gradients per Tanh layer
    act_lines, grad_lines, hists = [], [], []
    for i, layer in enumerate(layers[:-1]):
        if isinstance(layer, Tanh):
            t = layer.out
            act_lines.append('layer %d (%10s): mean %+.2f, std %.2f, saturated: %.2f%%'
                             % (i, layer.__class__.__name__, t.mean(), t.std(), (t.abs() > 0.97).float().mean() * 100))
            hy, hx = lib.histogram(t, density=True)
            hists.append((names.to_numpy(hx[:-1].detach()), names.to_numpy(hy.detach())))
            g = layer.out.grad
            grad_lines.append('layer %d (%10s): mean %+f, std %e' % (i, layer.__class__.__name__, g.mean(), g.std()))
    weight_lines = []
    for p in parameters:
        if p.ndim == 2:
            g = p.grad
            weight_lines.append('weight %10s | mean %+f | std %e | grad:data ratio %e'
                                % (tuple(p.shape), g.mean(), g.std(), g.std() / p.std()))

    @lib.no_grad()
    def evaluate(X, Y):
        x = C[X].view(X.shape[0], -1)
        for layer in layers:
            x = layer(x)
        return F.cross_entropy(x, Y).item()

    for layer in layers:
        layer.training = False
    bns = [layer for layer in layers if isinstance(layer, BatchNorm1d)]
    return {
        "losses": losses, "ud": np.array(ud),
        "out_grads": [names.to_numpy(layer.out.grad) for layer in layers],
        "act_lines": act_lines, "grad_lines": grad_lines, "weight_lines": weight_lines, "hists": hists,
        "running": [(names.to_numpy(b.running_mean), names.to_numpy(b.running_var)) for b in bns],
        "eval_train": evaluate(Xtr, Ytr), "eval_dev": evaluate(lib.tensor(XDEV), lib.tensor(YDEV)),
        "params": [names.to_numpy(p) for p in parameters],
    }


def _numbers(line):
    """The numeric fields of a diagnostics line (labels compared separately)."""
    import re
    return [float(v) for v in re.findall(r"[-+]?\d+\.\d+(?:e[-+]\d+)?", line)]


def _labels(line):
    import re
    return re.sub(r"[-+]?\d+\.\d+(?:e[-+]\d+)?", "#", line)


# torch warns when a graph tensor is %-formatted (the lecture does exactly that); chainrule does not
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")
def test_deep_batchnorm_network_and_diagnostics_match_torch(torch):
    import torch.nn.functional as torch_F

    ours = bn_deep_network(autograd, cr_F)
    theirs = bn_deep_network(torch, torch_F)

    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=2e-5)
    assert ours["losses"][-1] < ours["losses"][0]

    # update:data ratios (log10) for all 1 + 2 + 2 + 2 + 2 = 9 parameters at every step
    assert ours["ud"].shape == theirs["ud"].shape == (DEEP_STEPS, 9)
    assert np.all(np.isfinite(ours["ud"]))
    np.testing.assert_allclose(ours["ud"], theirs["ud"], rtol=1e-4, atol=1e-4)

    # retained gradients of every layer output, non-leaves included
    assert len(ours["out_grads"]) == 7
    for k, (g, gt) in enumerate(zip(ours["out_grads"], theirs["out_grads"])):
        assert g.shape == gt.shape, k
        np.testing.assert_allclose(g, gt, rtol=1e-4, atol=1e-7, err_msg=f"layer {k} out.grad")

    # '%'-formatted statistics of 0-d tensors: same labels, numbers within the printed precision
    for key in ("act_lines", "grad_lines", "weight_lines"):
        assert len(ours[key]) == len(theirs[key]) > 0, key
        for line, line_t in zip(ours[key], theirs[key]):
            assert _labels(line) == _labels(line_t), (line, line_t)
            np.testing.assert_allclose(_numbers(line), _numbers(line_t), rtol=1e-3, atol=0.011, err_msg=line)

    for (hx, hy), (hx_t, hy_t) in zip(ours["hists"], theirs["hists"]):
        assert hx.shape == hx_t.shape == (100,) and hy.shape == hy_t.shape == (100,)
        np.testing.assert_allclose(hx, hx_t, rtol=1e-5, atol=1e-6)
        # a density: counts / (total * bin width); an activation landing on the other side of a bin edge
        # by one ulp would move one count, so allow one count's worth of density per bin
        one_count = 1.0 / (BATCH * WIDTH * (hx_t[1] - hx_t[0]))
        np.testing.assert_allclose(hy, hy_t, rtol=0, atol=one_count * 1.01)
        assert np.sum(hy) * (hx[1] - hx[0]) == pytest.approx(1.0, rel=1e-4)

    for (m, v), (m_t, v_t) in zip(ours["running"], theirs["running"]):
        np.testing.assert_allclose(m, m_t, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(v, v_t, rtol=1e-4, atol=1e-5)
    for p, p_t in zip(ours["params"], theirs["params"]):
        np.testing.assert_allclose(p, p_t, rtol=1e-4, atol=1e-6)
    assert ours["eval_train"] == pytest.approx(theirs["eval_train"], rel=1e-5)
    assert ours["eval_dev"] == pytest.approx(theirs["eval_dev"], rel=1e-5)


# --- the lecture's bonus cells: gradient statistics through plain matrix products ------------------------

def gradient_statistics(lib, n=200):
    """A chain of products ending in 1-D @ 2-D (a one-element, not 0-d, loss) and 2-D @ 1-D / 1-D @ 1-D."""
    rng = np.random.default_rng(17)
    a = lib.tensor(_normal(rng, n, 1), requires_grad=True)
    b = lib.tensor(_normal(rng, n, n) / np.float32(n**0.5))
    c = b @ a
    a.retain_grad()  # a leaf: a no-op, its .grad is filled anyway
    c.retain_grad()
    loss = lib.tensor(_normal(rng, n)) @ c  # shape (1,)
    loss.backward()

    inp = lib.tensor(_normal(rng, n), requires_grad=True)
    w = lib.tensor(_normal(rng, n, n) / np.float32(n**0.5))
    x = w @ inp
    out = lib.tanh(x)
    loss2 = out @ lib.tensor(_normal(rng, n))  # 0-d
    loss2.backward()
    return {
        "loss_shape": tuple(loss.shape), "loss2_shape": tuple(loss2.shape),
        "a_grad": names.to_numpy(a.grad), "c_grad_std": c.grad.std().item(),
        "x_stats": (x.mean().item(), x.var().item()), "inp_grad": names.to_numpy(inp.grad),
    }


def test_gradient_statistics_bonus_matches_torch(torch):
    ours = gradient_statistics(autograd)
    theirs = gradient_statistics(torch)
    assert ours["loss_shape"] == theirs["loss_shape"] == (1,)
    assert ours["loss2_shape"] == theirs["loss2_shape"] == ()
    np.testing.assert_allclose(ours["a_grad"], theirs["a_grad"], rtol=1e-5, atol=1e-5)
    assert ours["c_grad_std"] == pytest.approx(theirs["c_grad_std"], rel=1e-5)
    np.testing.assert_allclose(ours["x_stats"], theirs["x_stats"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["inp_grad"], theirs["inp_grad"], rtol=1e-5, atol=1e-6)
