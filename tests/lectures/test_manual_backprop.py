"""makemore part 4: becoming a backprop ninja.

A two-layer MLP with batch norm is run forward in small named steps, every intermediate keeps its
gradient (``retain_grad``), and then the whole backward pass is written out by hand, one intermediate at
a time; a ``cmp`` helper puts each hand-made gradient next to the one autograd computed.  Then the short
cuts: the cross-entropy gradient in one line, batch norm's backward in one formula, and a few training
steps with hand-made gradients only, inside ``no_grad``.

The program is written once and run with torch and with chainrule from the same NumPy-drawn weights and
the same minibatch; each library's ``cmp`` report is compared with the other's."""

import importlib.util
import pathlib

import numpy as np
import pytest

import autograd
import nn.functional as cr_F

_spec = importlib.util.spec_from_file_location("lectures_names", pathlib.Path(__file__).with_name("_names.py"))
names = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(names)


BLOCK, EMBD, HIDDEN, N = 3, 10, 64, 32
TRAIN_STEPS = 4

WORDS = names.make_names(300, seed=0)
STOI, ITOS = names.vocabulary(WORDS)
XTR, YTR = names.context_windows(WORDS, STOI, BLOCK)


def _init(seed=42):
    rng = np.random.default_rng(seed)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    fan_in = BLOCK * EMBD
    # small non-zero biases everywhere, so that a wrong bias gradient cannot hide behind zeros
    return {
        "C": f32(27, EMBD),
        "W1": f32(fan_in, HIDDEN) * np.float32((5 / 3) / fan_in**0.5),
        "b1": f32(HIDDEN) * np.float32(0.1),
        "W2": f32(HIDDEN, 27) * np.float32(0.1),
        "b2": f32(27) * np.float32(0.1),
        "bngain": f32(1, HIDDEN) * np.float32(0.1) + np.float32(1.0),
        "bnbias": f32(1, HIDDEN) * np.float32(0.1),
        "batches": rng.integers(0, len(XTR), size=(TRAIN_STEPS + 1, N)),
    }


INIT = _init()
PARAM_NAMES = ["C", "W1", "b1", "W2", "b2", "bngain", "bnbias"]


def make_parameters(lib):
    params = [lib.tensor(INIT[k].copy()) for k in PARAM_NAMES]
    for p in params:
        p.requires_grad = True
    return params


def forward(lib, params, Xb, Yb):
    """The forward pass cut into pieces small enough to differentiate by hand."""
    C, W1, b1, W2, b2, bngain, bnbias = params
    n = Xb.shape[0]
    s = {}
    s["emb"] = C[Xb]                                     # (n, 3, EMBD)
    s["stacked"] = s["emb"].view(s["emb"].shape[0], -1)  # (n, 3*EMBD)
    s["pre_bn"] = s["stacked"] @ W1 + b1
    s["mu"] = 1 / n * s["pre_bn"].sum(0, keepdim=True)
    s["centered"] = s["pre_bn"] - s["mu"]
    s["centered_sq"] = s["centered"] ** 2
    s["var"] = 1 / (n - 1) * (s["centered_sq"]).sum(0, keepdim=True)  # Bessel's correction
    s["inv_std"] = (s["var"] + 1e-5) ** -0.5
    s["normed"] = s["centered"] * s["inv_std"]
    s["pre_act"] = bngain * s["normed"] + bnbias
    s["h"] = lib.tanh(s["pre_act"])
    s["logits"] = s["h"] @ W2 + b2
    s["row_max"] = s["logits"].max(1, keepdim=True).values
    s["shifted"] = s["logits"] - s["row_max"]  # subtracting the max keeps exp finite
    s["expd"] = s["shifted"].exp()
    s["expd_sum"] = s["expd"].sum(1, keepdims=True)
    s["expd_sum_inv"] = s["expd_sum"] ** -1
    s["probs"] = s["expd"] * s["expd_sum_inv"]
    s["logprobs"] = s["probs"].log()
    loss = -s["logprobs"][range(n), Yb].mean()
    return s, loss


def backward_by_hand(lib, F, params, s, Xb, Yb):
    """Every intermediate's gradient of the loss, derived on paper and written out."""
    C, W1, b1, W2, b2, bngain, bnbias = params
    n = Xb.shape[0]
    d = {}
    d["logprobs"] = lib.zeros_like(s["logprobs"])
    d["logprobs"][range(n), Yb] = -1.0 / n
    d["probs"] = (1.0 / s["probs"]) * d["logprobs"]
    d["expd_sum_inv"] = (s["expd"] * d["probs"]).sum(1, keepdim=True)
    d["expd"] = s["expd_sum_inv"] * d["probs"]
    d["expd_sum"] = (-s["expd_sum"] ** -2) * d["expd_sum_inv"]
    d["expd"] += lib.ones_like(s["expd"]) * d["expd_sum"]
    d["shifted"] = s["expd"] * d["expd"]
    d["logits"] = d["shifted"].clone()
    d["row_max"] = (-d["shifted"]).sum(1, keepdim=True)
    d["logits"] += F.one_hot(s["logits"].max(1).indices, num_classes=s["logits"].shape[1]) * d["row_max"]
    d["h"] = d["logits"] @ W2.T
    d["W2"] = s["h"].T @ d["logits"]
    d["b2"] = d["logits"].sum(0)
    d["pre_act"] = (1.0 - s["h"] ** 2) * d["h"]
    d["bngain"] = (s["normed"] * d["pre_act"]).sum(0, keepdim=True)
    d["normed"] = bngain * d["pre_act"]
    d["bnbias"] = d["pre_act"].sum(0, keepdim=True)
    d["centered"] = s["inv_std"] * d["normed"]
    d["inv_std"] = (s["centered"] * d["normed"]).sum(0, keepdim=True)
    d["var"] = (-0.5 * (s["var"] + 1e-5) ** -1.5) * d["inv_std"]
    d["centered_sq"] = (1.0 / (n - 1)) * lib.ones_like(s["centered_sq"]) * d["var"]
    d["centered"] += (2 * s["centered"]) * d["centered_sq"]
    d["pre_bn"] = d["centered"].clone()
    d["mu"] = (-d["centered"]).sum(0, keepdim=True)
    d["pre_bn"] += 1.0 / n * (lib.ones_like(s["pre_bn"]) * d["mu"])
    d["stacked"] = d["pre_bn"] @ W1.T
    d["W1"] = s["stacked"].T @ d["pre_bn"]
    d["b1"] = d["pre_bn"].sum(0)
    d["emb"] = d["stacked"].view(s["emb"].shape)
    d["C"] = lib.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]  # a 0-d integer tensor used as an index
            d["C"][ix] += d["emb"][k, j]
    return d


def fast_cross_entropy_grad(lib, F, logits, Yb):
    n = logits.shape[0]
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    return dlogits


def fast_batchnorm_grad(lib, bngain, s, dpre_act):
    n = dpre_act.shape[0]
    return bngain * s["inv_std"] / n * (
        n * dpre_act - dpre_act.sum(0) - n / (n - 1) * s["normed"] * (dpre_act * s["normed"]).sum(0))


def cmp(lib, name, dt, t):
    ex = lib.all(dt == t.grad).item()
    app = lib.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    shape_ok = dt.shape == t.shape
    line = f"{name:15s} | exact: {str(ex):5s} | approximate: {str(app):5s} | maxdiff: {maxdiff} | shape ok: {shape_ok}"
    return (ex, app, maxdiff), shape_ok, line


CHECKED = ["logprobs", "probs", "expd_sum_inv", "expd_sum", "expd", "shifted", "row_max", "logits", "h", "W2", "b2",
           "pre_act", "bngain", "bnbias", "normed", "inv_std", "var", "centered_sq", "centered", "mu", "pre_bn",
           "stacked", "W1", "b1", "emb", "C"]


def backprop_exercise(lib, F):
    params = make_parameters(lib)
    ix = lib.tensor(INIT["batches"][0])
    Xb, Yb = lib.tensor(XTR)[ix], lib.tensor(YTR)[ix]
    s, loss = forward(lib, params, Xb, Yb)
    for p in params:
        p.grad = None
    for t in s.values():
        t.retain_grad()
    loss.backward()

    d = backward_by_hand(lib, F, params, s, Xb, Yb)
    tensors = dict(s, **dict(zip(PARAM_NAMES, params)))
    report = {name: cmp(lib, name, d[name], tensors[name]) for name in CHECKED}

    # the short cuts
    loss_fast = F.cross_entropy(s["logits"], Yb)
    dlogits = fast_cross_entropy_grad(lib, F, s["logits"], Yb)
    row0 = F.softmax(s["logits"], 1)[0]
    pre_act_fast = params[5] * (s["pre_bn"] - s["pre_bn"].mean(0, keepdim=True)) / lib.sqrt(
        s["pre_bn"].var(0, keepdim=True, unbiased=True) + 1e-5) + params[6]
    dpre_bn = fast_batchnorm_grad(lib, params[5], s, s["pre_act"].grad)
    return {
        "loss": loss.item(), "loss_fast_gap": (loss_fast - loss).item(), "report": report,
        "fast_logits": cmp(lib, "logits", dlogits, s["logits"]),
        "dlogits_row0_sum": (dlogits[0] * Xb.shape[0]).sum().item(), "row0_sum": row0.sum().item(),
        "pre_act_gap": (pre_act_fast - s["pre_act"]).abs().max().item(),
        "fast_pre_bn": cmp(lib, "pre_bn", dpre_bn, s["pre_bn"]),
        "manual": {k: names.to_numpy(d[k]) for k in CHECKED},
        "auto": {k: names.to_numpy(tensors[k].grad) for k in CHECKED},
    }


def train_with_manual_grads(lib, F, lr=0.1):
    """The last exercise: training with the hand-derived gradients only; autograd records nothing."""
    params = make_parameters(lib)
    Xtr, Ytr = lib.tensor(XTR), lib.tensor(YTR)
    losses, graph_free = [], []
    with lib.no_grad():
        for step in range(TRAIN_STEPS):
            ix = lib.tensor(INIT["batches"][step + 1])
            Xb, Yb = Xtr[ix], Ytr[ix]
            s, loss = forward(lib, params, Xb, Yb)
            d = backward_by_hand(lib, F, params, s, Xb, Yb)
            d["logits"] = fast_cross_entropy_grad(lib, F, s["logits"], Yb)  # the one-line version suffices
            grads = [d[k] for k in PARAM_NAMES]
            for p, grad in zip(params, grads):
                p.data += -lr * grad
            losses.append(loss.item())
            graph_free.append(not loss.requires_grad and all(p.grad is None for p in params))
    return losses, graph_free, [names.to_numpy(p) for p in params]


# The exact-equality flag is a float32 rounding coin-flip: the hand-written backward and the library's
# backward may sum the same terms in a different order (torch itself reports "exact: False" for many of
# them in the lecture), and chainrule's order need not match torch's.  So exactness is not compared
# flag-for-flag; what must hold is: every hand-made gradient is allclose to autograd's on both libraries,
# the allclose flags are identical, and chainrule's max difference is as small as torch's up to a
# rounding-noise margin.  The one place the arithmetic is exact by construction is d(logprobs): n = 32
# makes -1/n a power of two, so both libraries must report it exactly.
ROUNDING = 5e-8  # a dozen float32 ulps of a typical gradient here (|grad| ~ 1e-3 .. 3e-2)


def test_manual_backward_matches_autograd_on_both_libraries(torch):
    import torch.nn.functional as torch_F

    ours = backprop_exercise(autograd, cr_F)
    theirs = backprop_exercise(torch, torch_F)

    assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-6)
    for name in CHECKED:
        (ex, app, maxdiff), shape_ok, line = ours["report"][name]
        (ex_t, app_t, maxdiff_t), shape_ok_t, line_t = theirs["report"][name]
        assert type(ex) is bool and type(app) is bool and type(maxdiff) is float, line
        assert shape_ok and shape_ok_t, (line, line_t)
        assert app_t, f"the test's own derivation is wrong on torch: {line_t}"
        assert app == app_t, (line, line_t)
        assert maxdiff <= 10 * maxdiff_t + ROUNDING, (line, line_t)
        # the hand-made gradients agree across libraries, and so do the autograd ones
        np.testing.assert_allclose(ours["manual"][name], theirs["manual"][name], rtol=1e-4, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(ours["auto"][name], theirs["auto"][name], rtol=1e-4, atol=1e-6, err_msg=name)
    assert ours["report"]["logprobs"][0][0] is True and theirs["report"]["logprobs"][0][0] is True

    # the short cuts: F.cross_entropy equals the long loss, its gradient in one line, batch norm in one formula
    assert abs(ours["loss_fast_gap"]) < 1e-5 and abs(theirs["loss_fast_gap"]) < 1e-5
    for key in ("fast_logits", "fast_pre_bn"):
        (ex, app, maxdiff), shape_ok, line = ours[key]
        (ex_t, app_t, maxdiff_t), _, line_t = theirs[key]
        assert app and app_t and shape_ok, (line, line_t)
        assert maxdiff <= 10 * maxdiff_t + ROUNDING, (line, line_t)
    assert ours["row0_sum"] == pytest.approx(1.0, rel=1e-6)
    assert abs(ours["dlogits_row0_sum"]) < 1e-6 and abs(theirs["dlogits_row0_sum"]) < 1e-6
    assert ours["pre_act_gap"] < 1e-5 and theirs["pre_act_gap"] < 1e-5


def test_training_on_hand_made_gradients_matches_torch(torch):
    import torch.nn.functional as torch_F

    losses, graph_free, params = train_with_manual_grads(autograd, cr_F)
    losses_t, graph_free_t, params_t = train_with_manual_grads(torch, torch_F)
    assert graph_free == graph_free_t == [True] * TRAIN_STEPS
    np.testing.assert_allclose(losses, losses_t, rtol=1e-5)
    for name, p, p_t in zip(PARAM_NAMES, params, params_t):
        np.testing.assert_allclose(p, p_t, rtol=1e-5, atol=1e-6, err_msg=name)
