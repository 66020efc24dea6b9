"""makemore part 1, the neural half: one-hot encoded characters times a 27x27 weight matrix, a softmax
written out by hand, and plain gradient descent with a large step.  Both libraries start from the same
NumPy-drawn weights, so every loss and the final weights must agree to float32 rounding."""

import importlib.util
import pathlib

import numpy as np
import pytest

import autograd
import nn.functional as cr_F

_spec = importlib.util.spec_from_file_location("lectures_names", pathlib.Path(__file__).with_name("_names.py"))
names = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(names)


WORDS = names.make_names(300, seed=0)
STOI, ITOS = names.vocabulary(WORDS)
XS, YS = names.bigram_pairs(WORDS, STOI)
W_INIT = np.random.default_rng(2024).standard_normal((27, 27)).astype(np.float32)


def neural_bigram(lib, F, steps=20, lr=50.0):
    xs = lib.tensor(XS)
    ys = lib.tensor(YS)
    num = xs.nelement()
    W = lib.tensor(W_INIT.copy(), requires_grad=True)
    xenc = F.one_hot(xs, num_classes=27).float()

    # a first look at five examples, one negative log likelihood at a time, written into a buffer
    logits = xenc @ W
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    nlls = lib.zeros(5)
    for i in range(5):
        x, y = xs[i].item(), ys[i].item()
        p = probs[i, y]
        nlls[i] = -lib.log(p)
        assert isinstance(x, int)
    first_five = nlls.mean().item()

    losses = []
    for _ in range(steps):
        logits = xenc @ W  # log-counts
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdims=True)
        loss = -probs[lib.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
        losses.append(loss.item())

        W.grad = None
        loss.backward()
        W.data += -lr * W.grad

    # the trained net, as a lookup: one-hot of a single context gives a (1, 27) row of probabilities
    row = F.one_hot(lib.tensor([0]), num_classes=27).float() @ W
    row = row.exp()
    row = row / row.sum(1, keepdims=True)
    return {
        "xenc_dtype_ok": xenc.dtype == lib.float32, "xenc_shape": tuple(xenc.shape), "xenc_sum": xenc.sum().item(),
        "onehot_dtype_ok": F.one_hot(xs, num_classes=27).dtype == lib.int64,
        "first_five": first_five, "nlls": nlls, "losses": losses, "W": W, "grad": W.grad, "row": row,
    }


def test_one_hot_bigram_training_matches_torch(torch):
    import torch.nn.functional as torch_F

    ours = neural_bigram(autograd, cr_F)
    theirs = neural_bigram(torch, torch_F)

    assert ours["xenc_dtype_ok"] and theirs["xenc_dtype_ok"]
    assert ours["onehot_dtype_ok"] and theirs["onehot_dtype_ok"]
    assert ours["xenc_shape"] == theirs["xenc_shape"] == (len(XS), 27)
    assert ours["xenc_sum"] == theirs["xenc_sum"] == len(XS)

    np.testing.assert_allclose(names.to_numpy(ours["nlls"]), names.to_numpy(theirs["nlls"]), rtol=1e-5)
    assert ours["first_five"] == pytest.approx(theirs["first_five"], rel=1e-5)

    # 20 steps of gradient descent from the same start: per-step losses and the final weights agree
    assert len(ours["losses"]) == len(theirs["losses"]) == 20
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-5)
    assert ours["losses"][-1] < ours["losses"][0]
    np.testing.assert_allclose(names.to_numpy(ours["W"]), names.to_numpy(theirs["W"]), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(names.to_numpy(ours["grad"]), names.to_numpy(theirs["grad"]), rtol=1e-4, atol=1e-7)

    row, row_t = names.to_numpy(ours["row"]), names.to_numpy(theirs["row"])
    assert row.shape == row_t.shape == (1, 27)
    np.testing.assert_allclose(row, row_t, rtol=1e-4, atol=1e-7)


def test_gradient_flows_through_a_filled_buffer(torch):
    """``nlls[i] = nll`` writes graph values into a plain zeros buffer: as in torch, the buffer joins the
    graph, and a backward through it reaches W."""
    import torch.nn.functional as torch_F

    results = []
    for lib, F in ((autograd, cr_F), (torch, torch_F)):
        W = lib.tensor(W_INIT.copy(), requires_grad=True)
        xenc = F.one_hot(lib.tensor(XS[:5]), num_classes=27).float()
        counts = (xenc @ W).exp()
        probs = counts / counts.sum(1, keepdims=True)
        nlls = lib.zeros(5)
        for i in range(5):
            nlls[i] = -lib.log(probs[i, YS[i]])
        assert nlls.requires_grad
        nlls.mean().backward()
        results.append(names.to_numpy(W.grad))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-8)
    assert np.count_nonzero(results[0]) > 0


def test_sampling_from_the_trained_row_is_valid(torch):
    """Sampling uses each library's own generator, whose streams differ by design: check only what is
    common -- the sample's shape, dtype and range, and that a one-hot row of zeros is never drawn."""
    for lib in (autograd, torch):
        p = lib.tensor([[0.0] * 26 + [1.0]]) + lib.tensor([[0.5] * 13 + [0.0] * 14])
        p = p / p.sum(1, keepdims=True)
        g = lib.Generator().manual_seed(2147483647)
        ix = lib.multinomial(p, num_samples=1, replacement=True, generator=g)
        assert tuple(ix.shape) == (1, 1) and ix.dtype == lib.int64
        draws = lib.multinomial(p[0], num_samples=200, replacement=True, generator=g).tolist()
        assert len(draws) == 200 and set(draws) <= set(range(13)) | {26}
        one = lib.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        assert type(one) is int and ITOS[one] in ITOS.values()
        # a generator-drawn weight matrix: a float32 leaf that requires grad, no gradient yet
        W = lib.randn((27, 27), generator=g, requires_grad=True)
        assert tuple(W.shape) == (27, 27) and W.dtype == lib.float32 and W.requires_grad and W.grad is None
        u = lib.rand(3, generator=g)
        assert u.dtype == lib.float32 and 0.0 <= u.min().item() and u.max().item() < 1.0
