"""makemore part 1, the counting half: a 27x27 table of bigram counts filled one increment at a time,
smoothed into probabilities, and scored by average negative log likelihood -- once with a scalar Python
loop and once vectorised.  The same program runs on torch and on chainrule and must agree."""

import importlib.util
import pathlib

import numpy as np
import pytest

import autograd

_spec = importlib.util.spec_from_file_location("lectures_names", pathlib.Path(__file__).with_name("_names.py"))
names = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(names)


WORDS = names.make_names(300, seed=0)
STOI, ITOS = names.vocabulary(WORDS)


def bigram_counts(lib, words):
    """The lecture's counting model, written against whichever library is passed in as ``lib``."""
    N = lib.zeros((27, 27), dtype=lib.int32)
    for w in words:
        chs = ["."] + list(w) + ["."]
        for c1, c2 in zip(chs, chs[1:]):
            N[STOI[c1], STOI[c2]] += 1

    # the first row on its own: where names start
    first = N[0].float()
    first = first / first.sum()

    # add-one smoothing, then normalise each row in place (keepdims: NumPy's spelling, used in the lecture)
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)

    # score the training set the slow way: one scalar at a time, accumulated onto a Python float
    log_likelihood = 0.0
    n = 0
    for w in words:
        chs = ["."] + list(w) + ["."]
        for c1, c2 in zip(chs, chs[1:]):
            prob = P[STOI[c1], STOI[c2]]
            log_likelihood += lib.log(prob)
            n += 1
    nll = -log_likelihood

    # ... and the fast way, gathering all probabilities with two index tensors
    xs, ys = names.bigram_pairs(words, STOI)
    xs, ys = lib.tensor(xs), lib.tensor(ys)
    nll_vec = -P[xs, ys].log().mean()

    return {
        "N": N, "first": first, "P": P, "nll": nll, "n": n, "nll_vec": nll_vec,
        "nll_text": f"{nll / n:.4f}", "row_sums": P.sum(1),
        "cell": N[STOI["a"], STOI["n"]].item(),
        "xs_dtype_is_long": xs.dtype == lib.int64, "N_dtype_is_int32": N.dtype == lib.int32,
        "P_dtype_is_float32": P.dtype == lib.float32,
    }


def test_count_table_and_likelihood_match_torch(torch):
    ours = bigram_counts(autograd, WORDS)
    theirs = bigram_counts(torch, WORDS)

    # integers: exactly
    assert ours["N"].tolist() == theirs["N"].tolist()
    assert int(ours["N"].sum().item()) == int(theirs["N"].sum().item()) == ours["n"] == theirs["n"]
    assert ours["N_dtype_is_int32"] and theirs["N_dtype_is_int32"]
    assert ours["xs_dtype_is_long"] and theirs["xs_dtype_is_long"]
    assert ours["P_dtype_is_float32"] and theirs["P_dtype_is_float32"]
    assert type(ours["cell"]) is int and ours["cell"] == theirs["cell"]
    assert ours["cell"] > 0

    # floats: float32 tolerances
    np.testing.assert_allclose(names.to_numpy(ours["first"]), names.to_numpy(theirs["first"]), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(names.to_numpy(ours["P"]), names.to_numpy(theirs["P"]), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(names.to_numpy(ours["row_sums"]), 1.0, rtol=1e-6)

    # ~2000 sequential float32 additions: the same order in both libraries, so only rounding noise
    nll, nll_t = float(ours["nll"]), float(theirs["nll"])
    assert nll == pytest.approx(nll_t, rel=1e-5)
    assert float(ours["nll_vec"]) == pytest.approx(float(theirs["nll_vec"]), rel=1e-5)
    # the loop and the vectorised score are the same number
    assert nll / ours["n"] == pytest.approx(float(ours["nll_vec"]), rel=1e-4)

    # f"{tensor:.4f}" formats like the float it holds, in each library
    assert ours["nll_text"] == f"{nll / ours['n']:.4f}"
    assert abs(float(ours["nll_text"]) - float(theirs["nll_text"])) <= 1e-4


def test_scalar_reads_are_python_numbers(torch):
    """``N[i, j].item()`` of an int32 table is a Python int (the lecture uses it as a label and dict key);
    a probability read back from the float table is a Python float equal to torch's."""
    tables = []
    for lib in (autograd, torch):
        N = lib.zeros((27, 27), dtype=lib.int32)
        for a, b in zip(*names.bigram_pairs(WORDS[:40], STOI)):
            N[a, b] += 1
        p = N[0].float()
        p = p / p.sum()
        tables.append((N, p))
    (N, p), (Nt, pt) = tables
    for i in range(27):
        v = N[0, i].item()
        assert type(v) is int and v == Nt[0, i].item()
    row = N[0].tolist()
    assert ITOS[row.index(max(row))] == ITOS[Nt[0].tolist().index(max(Nt[0].tolist()))]
    assert type(p[3].item()) is float
    np.testing.assert_allclose([p[i].item() for i in range(27)], [pt[i].item() for i in range(27)], rtol=1e-6)
