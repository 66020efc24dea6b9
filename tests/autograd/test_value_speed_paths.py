"""The scalar engine's fast paths (autograd/scalar_walk.py): the walk that marks nodes through their ``_g`` slot
and the backward that runs + and * inline. Each must give exactly what the general code gives."""

import gc

import numpy as np
import pytest

from autograd import Value, detect_anomaly, gradcheck, no_grad
from autograd.graph import run_backward, topological_order
from autograd.scalar_walk import scalar_order
from autograd.record import Op
from autograd.value import _result


def test_add_and_mul_record_their_op_parents_and_a_zero_grad():
    a, b = Value(2.0), Value(-3.0)
    s, p = a + b, a * b
    assert (s.data, s.op, s.parents, s.grad, s.label) == (-1.0, "+", (a, b), 0.0, "")
    assert (p.data, p.op, p.parents, p.grad, p.label) == (-6.0, "*", (a, b), 0.0, "")
    c, d = a + 1, a * np.float64(0.5)  # a number on the right becomes a leaf Value
    assert c.data == 3.0 and c.parents[1].data == 1.0 and d.data == 1.0 and d.parents[1].data == 0.5
    with no_grad():
        s, p = a + b, a * b
    assert (s.data, s.op, s.parents, p.data, p.op, p.parents) == (-1.0, "", (), -6.0, "", ())
    with detect_anomaly():  # the recording hook's path
        p = a * b
    p.backward()
    assert p.op == "*" and p.parents == (a, b) and (a.grad, b.grad) == (-3.0, 2.0)


def test_micrograd_readme_example():
    """micrograd's README: g = 24.7041, dg/da = 138.8338, dg/db = 645.5773 (to 4 places)."""
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert (round(g.data, 4), round(a.grad, 4), round(b.grad, 4)) == (24.7041, 138.8338, 645.5773)


def test_a_retained_graph_with_fan_out_differentiates_again_exactly():
    x = Value(1.5)
    h = x * x
    y = h * h + h * x + h  # dy/dh = 2h + x + 1 = 7, dy/dx = 4x^3 + 3x^2 + 2x = 23.25 (exact in binary)
    y.backward(retain_graph=True)
    assert (y.grad, h.grad, x.grad) == (1.0, 7.0, 23.25)
    y.backward()
    assert (y.grad, h.grad, x.grad) == (2.0, 14.0, 46.5)


def test_a_backward_after_one_that_failed_midway_is_exact():
    a = Value(2.0)
    b = a * 3.0
    boom = _result(b.data, Op("boom", lambda g, out, x: (1 / 0,)), b)
    with pytest.raises(ZeroDivisionError):
        (boom + b).backward()  # stops at boom: its marks stay on b and a
    assert gc.isenabled() and (boom.grad, b.grad, a.grad) == (1.0, 0.0, 0.0)
    (b * b).backward()  # d(b^2)/db = 2b = 12, d/da = 12 * 3
    assert (b.grad, a.grad) == (12.0, 36.0)


def test_two_roots_add_their_gradients_and_keep_the_generic_order():
    a, b = Value(2.0), Value(-3.0)
    y1 = a * b
    y2 = a + b + y1  # y1 is a root and an input of the other root
    assert scalar_order((y1, y2)) == topological_order((y1, y2))
    run_backward((y1, y2), (1.0, 2.0))
    assert (y2.grad, y1.grad, a.grad, b.grad) == (2.0, 3.0, 3 * -3.0 + 2, 3 * 2.0 + 2)


def test_a_relu_mlp_with_the_demo_loss_matches_finite_differences():
    """A 2-3-1 ReLU net, hinge loss over two points plus an L2 term summed with sum() (0 + Value first)."""
    rng = np.random.default_rng(3)
    w1, b1, w2 = rng.uniform(-1, 1, (3, 2)), rng.uniform(0.1, 0.5, 3), rng.uniform(-1, 1, 3)
    points, labels = [(0.5, -1.2), (-0.3, 0.8)], [1.0, -1.0]

    def loss(*params):
        W1, B1, W2 = [params[0:2], params[2:4], params[4:6]], params[6:9], params[9:12]
        margins = []
        for (x0, x1), label in zip(points, labels):
            hidden = [(bias + row[0] * x0 + row[1] * x1).relu() for row, bias in zip(W1, B1)]
            score = sum(w * h for w, h in zip(W2, hidden))
            margins.append((1 + -label * score).relu())
        return sum(margins) * (1.0 / len(margins)) + 1e-2 * sum(p * p for p in params)

    params = [Value(float(v)) for v in (*w1.ravel(), *b1, *w2)]
    assert gradcheck(loss, *params)
