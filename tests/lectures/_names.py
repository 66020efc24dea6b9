"""Shared, library-free pieces for the lecture-style programs in this folder.

Not a test module (pytest only collects ``test_*.py``).  The test files load it by path, because the
project runs pytest with ``--import-mode=importlib`` (test folders are not put on ``sys.path``).

* ``make_names``: a deterministic list of invented, pronounceable names (``random.Random(seed)``), the
  stand-in for makemore's ``names.txt``.  Every letter a-z occurs, so the vocabulary is the lectures' 27.
* ``vocabulary``: ``stoi`` / ``itos`` with '.' as the start/end token at index 0.
* ``to_numpy``: a result of either library as a NumPy array.
"""

import random
import string

import numpy as np

VOWELS = "aeiouy"
CONSONANTS = "bcdfghjklmnprstvwz"
RARE = "qx"


def make_names(count=300, seed=0):
    """``count`` distinct made-up names of 2..9 letters, alternating consonant and vowel clusters."""
    rnd = random.Random(seed)
    names, seen = [], set()
    while len(names) < count:
        length = rnd.randint(2, 9)
        vowel = rnd.random() < 0.4
        letters = []
        while len(letters) < length:
            if vowel:
                pool = VOWELS
            else:
                pool = CONSONANTS + (RARE if rnd.random() < 0.1 else "")
            letters.append(rnd.choice(pool))
            if rnd.random() < 0.75:  # usually switch kind; sometimes a double consonant or vowel
                vowel = not vowel
        name = "".join(letters)
        if name not in seen:
            seen.add(name)
            names.append(name)
    missing = set(string.ascii_lowercase) - set("".join(names))
    assert not missing, f"make_names: letters never used: {sorted(missing)}"
    return names


def vocabulary(words):
    chars = sorted(set("".join(words)))
    stoi = {ch: i + 1 for i, ch in enumerate(chars)}
    stoi["."] = 0
    itos = {i: ch for ch, i in stoi.items()}
    return stoi, itos


def bigram_pairs(words, stoi):
    """(xs, ys): Python lists of the integer bigrams of every word framed by '.' on both sides."""
    xs, ys = [], []
    for w in words:
        chs = ["."] + list(w) + ["."]
        for a, b in zip(chs, chs[1:]):
            xs.append(stoi[a])
            ys.append(stoi[b])
    return xs, ys


def context_windows(words, stoi, block_size=3):
    """(X, Y): Python lists; X[k] is the ``block_size`` previous character ids, Y[k] the next one."""
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(list(context))
            Y.append(ix)
            context = context[1:] + [ix]
    return X, Y


def to_numpy(t):
    """A tensor of either library (or a plain number / list) as a NumPy array (a copy).

    ``.detach().numpy()`` rather than ``np.array(t)``: torch's ``__array__`` lacks NumPy 2's ``copy``
    keyword and warns."""
    if hasattr(t, "detach"):
        return np.array(t.detach().numpy())
    return np.array(t)


def torch_single_threaded():
    """Generator for a module-scoped pytest fixture: torch (skipping when it is not installed), run on
    one intra-op thread for the module and restored afterwards.

    The tensors here are tiny, so threads buy nothing; on a busy machine torch's spinning worker threads
    compete with the other library's NumPy work and turn a one-second module into ten."""
    import pytest

    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield torch
    finally:
        torch.set_num_threads(threads)
