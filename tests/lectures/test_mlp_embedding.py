"""makemore part 2: a character-level MLP in the style of Bengio et al. -- an embedding table indexed by
three-character contexts, one tanh hidden layer, cross-entropy, minibatch SGD with a learning-rate sweep.
Minibatches come from one precomputed NumPy index array given to both libraries, so chainrule and torch
must take the same steps and arrive at the same parameters."""

import importlib.util
import pathlib
import random

import numpy as np
import pytest

import autograd
import nn.functional as cr_F

_spec = importlib.util.spec_from_file_location("lectures_names", pathlib.Path(__file__).with_name("_names.py"))
names = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(names)


BLOCK, EMBD, HIDDEN, BATCH, STEPS = 3, 4, 48, 32, 120

WORDS = names.make_names(300, seed=0)
STOI, ITOS = names.vocabulary(WORDS)
_shuffled = list(WORDS)
random.Random(42).shuffle(_shuffled)
_cut = int(0.8 * len(_shuffled))
TRAIN, DEV = names.context_windows(_shuffled[:_cut], STOI, BLOCK), names.context_windows(_shuffled[_cut:], STOI, BLOCK)


def _init(seed=7):
    rng = np.random.default_rng(seed)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    return {
        "C": f32(27, EMBD),
        "W1": f32(BLOCK * EMBD, HIDDEN) * np.float32(0.3),
        "b1": f32(HIDDEN) * np.float32(0.1),
        "W2": f32(HIDDEN, 27) * np.float32(0.1),
        "b2": np.zeros(27, np.float32),
        "batches": rng.integers(0, len(TRAIN[0]), size=(STEPS, BATCH)),
    }


INIT = _init()


def mlp_program(lib, F):
    Xtr, Ytr = lib.tensor(TRAIN[0]), lib.tensor(TRAIN[1])
    Xdev, Ydev = lib.tensor(DEV[0]), lib.tensor(DEV[1])

    C = lib.tensor(INIT["C"].copy())
    W1 = lib.tensor(INIT["W1"].copy())
    b1 = lib.tensor(INIT["b1"].copy())
    W2 = lib.tensor(INIT["W2"].copy())
    b2 = lib.tensor(INIT["b2"].copy())
    parameters = [C, W1, b1, W2, b2]
    n_params = sum(p.nelement() for p in parameters)
    for p in parameters:
        p.requires_grad = True

    # the loss written out (exp, normalise, pick the right column) equals F.cross_entropy
    emb = C[Xtr]
    h = lib.tanh(emb.view(-1, BLOCK * EMBD) @ W1 + b1)
    logits = h @ W2 + b2
    counts = logits.exp()
    prob = counts / counts.sum(1, keepdims=True)
    manual = -prob[lib.arange(Ytr.shape[0]), Ytr].log().mean()
    builtin = F.cross_entropy(logits, Ytr)

    # learning-rate sweep: one step per candidate rate, exponentially spaced
    lre = lib.linspace(-3, -0.5, STEPS)
    lrs = 10**lre
    lri, lossi, stepi = [], [], []
    for i in range(STEPS):
        ix = lib.tensor(INIT["batches"][i])
        emb = C[Xtr[ix]]  # (32, 3, EMBD)
        h = lib.tanh(emb.view(-1, BLOCK * EMBD) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = lrs[i]
        for p in parameters:
            p.data += -lr * p.grad
        lri.append(lre[i].item())
        stepi.append(i)
        lossi.append(loss.log10().item())

    # evaluate on both splits; one context of the dev set on its own through .view(1, -1)
    def split_loss(X, Y):
        emb = C[X]
        h = lib.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
        return F.cross_entropy(h @ W2 + b2, Y).item()

    single = C[lib.tensor([DEV[0][5]])]
    h = lib.tanh(single.view(1, -1) @ W1 + b1)
    single_probs = F.softmax(h @ W2 + b2, dim=1)

    return {
        "shapes": (tuple(Xtr.shape), tuple(Ytr.shape), tuple(C[Xtr].shape)), "int64": Xtr.dtype == lib.int64,
        "n_params": n_params, "manual": manual.item(), "builtin": builtin.item(),
        "lri": lri, "lossi": lossi, "stepi": stepi,
        "params": [names.to_numpy(p) for p in parameters], "grads": [names.to_numpy(p.grad) for p in parameters],
        "train": split_loss(Xtr, Ytr), "dev": split_loss(Xdev, Ydev), "single": names.to_numpy(single_probs),
    }


def test_mlp_training_matches_torch(torch):
    import torch.nn.functional as torch_F

    ours = mlp_program(autograd, cr_F)
    theirs = mlp_program(torch, torch_F)

    assert ours["shapes"] == theirs["shapes"]
    assert ours["shapes"][2] == (len(TRAIN[0]), BLOCK, EMBD)
    assert ours["int64"] and theirs["int64"]
    assert ours["n_params"] == theirs["n_params"] == 27 * EMBD + BLOCK * EMBD * HIDDEN + HIDDEN + HIDDEN * 27 + 27

    assert ours["manual"] == pytest.approx(theirs["manual"], rel=1e-5)
    assert ours["builtin"] == pytest.approx(theirs["builtin"], rel=1e-5)
    assert ours["manual"] == pytest.approx(ours["builtin"], rel=1e-5)

    assert ours["stepi"] == theirs["stepi"] == list(range(STEPS))
    np.testing.assert_allclose(ours["lri"], theirs["lri"], rtol=1e-6, atol=1e-6)
    assert ours["lri"][0] == pytest.approx(-3) and ours["lri"][-1] == pytest.approx(-0.5)
    # log10 of the loss per step: SGD from one start through the same batches; float32 noise can grow a
    # little with each step, hence a trajectory tolerance a bit looser than a single forward pass
    np.testing.assert_allclose(ours["lossi"], theirs["lossi"], rtol=2e-5, atol=2e-6)
    assert np.mean(ours["lossi"][-20:]) < np.mean(ours["lossi"][:20])

    for name, p, pt in zip(["C", "W1", "b1", "W2", "b2"], ours["params"], theirs["params"]):
        np.testing.assert_allclose(p, pt, rtol=1e-5, atol=1e-6, err_msg=name)
    for name, g, gt in zip(["C", "W1", "b1", "W2", "b2"], ours["grads"], theirs["grads"]):
        np.testing.assert_allclose(g, gt, rtol=1e-4, atol=1e-6, err_msg=f"grad of {name}")

    assert ours["train"] == pytest.approx(theirs["train"], rel=1e-5)
    assert ours["dev"] == pytest.approx(theirs["dev"], rel=1e-5)
    assert ours["single"].shape == (1, 27)
    np.testing.assert_allclose(ours["single"], theirs["single"], rtol=1e-4, atol=1e-7)
