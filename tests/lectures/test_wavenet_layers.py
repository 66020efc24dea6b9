"""makemore part 5: the hierarchical (WaveNet-like) model built from home-made layer classes --
Embedding, FlattenConsecutive, Linear, BatchNorm1d over (batch, time) and Sequential -- trained a few
steps from NumPy-drawn weights on fixed minibatches, then evaluated one example at a time.  Run on torch
and chainrule, the numbers must agree."""

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


BLOCK, EMBD, HIDDEN, BATCH, STEPS, GROUP = 8, 6, 32, 32, 20, 5

WORDS = names.make_names(300, seed=0)
STOI, ITOS = names.vocabulary(WORDS)
XTR, YTR = names.context_windows(WORDS, STOI, BLOCK)


def _init(seed=8):
    rng = np.random.default_rng(seed)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    return {
        "emb": f32(27, EMBD),
        "W": [f32(EMBD * 2, HIDDEN), f32(HIDDEN * 2, HIDDEN), f32(HIDDEN * 2, HIDDEN), f32(HIDDEN, 27)],
        "batches": rng.integers(0, len(XTR), size=(STEPS, BATCH)),
    }


INIT = _init()


def build_model(lib):
    Linear, BatchNorm1d, Tanh, Embedding, FlattenConsecutive, Sequential = _layers.lecture_layers(lib)
    W = [_layers.fan_in_scaled(w) for w in INIT["W"]]
    model = Sequential([
        Embedding(INIT["emb"].copy()),
        FlattenConsecutive(2), Linear(W[0], bias=False), BatchNorm1d(HIDDEN), Tanh(),
        FlattenConsecutive(2), Linear(W[1], bias=False), BatchNorm1d(HIDDEN), Tanh(),
        FlattenConsecutive(2), Linear(W[2], bias=False), BatchNorm1d(HIDDEN), Tanh(),
        Linear(W[3]),
    ])
    with lib.no_grad():
        model.layers[-1].weight *= 0.1
    return model


def wavenet_program(lib, F, lr=0.1):
    model = build_model(lib)
    parameters = model.parameters()
    for p in parameters:
        p.requires_grad = True
    Xtr, Ytr = lib.tensor(XTR), lib.tensor(YTR)
    words_back = ["".join(ITOS[ix.item()] for ix in x) + "-->" + ITOS[y.item()] for x, y in zip(Xtr[:6], Ytr[:6])]

    shapes, lossi = [], []
    for i in range(STEPS):
        ix = lib.tensor(INIT["batches"][i])
        Xb, Yb = Xtr[ix], Ytr[ix]
        logits = model(Xb)
        if i == 0:
            shapes = [tuple(layer.out.shape) for layer in model.layers]
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.item())
    smoothed = lib.tensor(lossi).view(-1, GROUP).mean(1)

    for layer in model.layers:
        layer.training = False
    one = model(Xtr[[7]])  # a list index keeps the batch dimension
    logits = lib.zeros(8, 27)
    for i in range(8):
        logits[i] = model(Xtr[[7 + i]])
    batch = model(Xtr[7:15])
    with lib.no_grad():
        full = F.cross_entropy(model(Xtr), Ytr).item()
    return {
        "words_back": words_back, "shapes": shapes, "lossi": lossi, "smoothed": names.to_numpy(smoothed),
        "one": names.to_numpy(one), "rows": names.to_numpy(logits), "batch": names.to_numpy(batch), "full": full,
        "n_params": sum(p.nelement() for p in parameters),
        "params": [names.to_numpy(p) for p in parameters],
        "running": [names.to_numpy(layer.running_var) for layer in model.layers if hasattr(layer, "running_var")],
    }


def test_hierarchical_model_matches_torch(torch):
    import torch.nn.functional as torch_F

    ours = wavenet_program(autograd, cr_F)
    theirs = wavenet_program(torch, torch_F)

    assert ours["words_back"] == theirs["words_back"]
    assert ours["shapes"] == theirs["shapes"]
    assert ours["shapes"][0] == (BATCH, BLOCK, EMBD) and ours["shapes"][-1] == (BATCH, 27)
    assert ours["shapes"][1] == (BATCH, BLOCK // 2, EMBD * 2) and ours["shapes"][9] == (BATCH, HIDDEN * 2)
    assert ours["n_params"] == theirs["n_params"]

    np.testing.assert_allclose(ours["lossi"], theirs["lossi"], rtol=2e-5)
    assert ours["smoothed"].shape == (STEPS // GROUP,)
    np.testing.assert_allclose(ours["smoothed"], theirs["smoothed"], rtol=2e-5)
    assert ours["smoothed"][-1] < ours["smoothed"][0]
    for p, p_t in zip(ours["params"], theirs["params"]):
        np.testing.assert_allclose(p, p_t, rtol=1e-5, atol=1e-6)
    assert len(ours["running"]) == len(theirs["running"]) == 3
    for v, v_t in zip(ours["running"], theirs["running"]):
        assert v.shape == v_t.shape
        np.testing.assert_allclose(v, v_t, rtol=1e-5, atol=1e-6)

    # evaluation mode: one example at a time equals the batch, and equals torch
    assert ours["one"].shape == (1, 27)
    np.testing.assert_allclose(ours["one"], theirs["one"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours["rows"], theirs["rows"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours["rows"], ours["batch"], rtol=1e-5, atol=1e-6)
    assert ours["full"] == pytest.approx(theirs["full"], rel=1e-5)


def test_sampling_with_the_global_generator_is_valid(torch):
    """``manual_seed`` then sampling without a generator: the streams differ between the libraries by
    design, so only the sample's type and range are compared."""
    for lib in (autograd, torch):
        lib.manual_seed(42)
        probs = lib.softmax(lib.tensor([[0.0, 1.0, 2.0, -30.0]]), 1)
        ix = lib.multinomial(probs, num_samples=1).item()
        assert type(ix) is int and ix in (0, 1, 2)
        ints = lib.randint(0, 10, (BATCH,))
        assert ints.dtype == lib.int64 and tuple(ints.shape) == (BATCH,)
        assert 0 <= ints.min().item() and ints.max().item() < 10
