"""makemore part 2's training step as the lecture writes it: embedding C[X] (27 letters, 10 numbers each,
three-letter contexts), tanh MLP 30-200-27, cross entropy, ``p.data += -lr * p.grad``; float32.

Every engine starts from the same weights (the lecture's unscaled standard normals) and trains on the
same minibatches, drawn once from contexts of made-up words, in the same order.
"""

from __future__ import annotations

import numpy as np

from .training import compare_steps, ratio_target

ENGINES = ("chainrule", "compiled", "numpy", "torch")
MALLOC_SENSITIVE = True
VOCAB, DIM, BLOCK, HIDDEN = 27, 10, 3, 200
LR = 0.1  # the lecture's rate
MINIBATCHES = 16  # distinct minibatches, taken in turn
LIMIT = 0.8  # the target: time(chainrule) / time(torch), at each batch size
CAPTURED_LIMIT = 0.5  # time(compiled) / time(chainrule) at batch 32: capture at least twice as fast


def contexts(words: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs as makemore builds them: for every letter of every word (and the closing '.', 0),
    the three letters before it (padded with '.') and the letter. Words are 2-9 random letters 1-26."""
    xs, ys = [], []
    for length in rng.integers(2, 10, words):
        window = [0] * BLOCK
        for letter in list(rng.integers(1, VOCAB, length)) + [0]:
            xs.append(window)
            ys.append(letter)
            window = window[1:] + [int(letter)]
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)


def makemore_data(batch_size: int, seed: int = 0) -> tuple:
    """(params, X, Y, minibatches): float32 weights C, W1, b1, W2, b2 and int64 data."""
    rng = np.random.default_rng(seed)
    shapes = {"C": (VOCAB, DIM), "W1": (BLOCK * DIM, HIDDEN), "b1": (HIDDEN,), "W2": (HIDDEN, VOCAB), "b2": (VOCAB,)}
    params = {k: rng.standard_normal(shape).astype(np.float32) for k, shape in shapes.items()}
    X, Y = contexts(2000, rng)
    return params, X, Y, rng.integers(0, len(X), (MINIBATCHES, batch_size))


def step_flops(n: int) -> float:
    """Matmul FLOPs of a step: both layers forward, both weight gradients, two input gradients."""
    return 3 * 2 * n * (BLOCK * DIM * HIDDEN + HIDDEN * VOCAB)


def run(ctx):
    results, targets = [], []
    for n in ctx.settings.makemore_batches:
        case = compare_steps(ctx, "makemore", f"batch {n}", "makemore_step", ctx.engines_for(ENGINES),
                             ("torch", "numpy", "chainrule"), makemore_data(n), step_flops(n), lr=LR)
        results += case
        targets.append(ratio_target(case, f"makemore step, batch {n}: chainrule <= {LIMIT}x torch",
                                    "chainrule", "torch", LIMIT))
        if n == 32:
            targets.append(ratio_target(case, f"makemore step, batch {n}: compiled <= {CAPTURED_LIMIT}x chainrule",
                                        "compiled", "chainrule", CAPTURED_LIMIT))
    return results, targets
