"""autograd.Function: a user's op by forward and backward, checked against torch.autograd.Function."""

import gc

import numpy as np
import pytest

import autograd
from autograd import GradcheckError, Tensor, Value, draw_graph, grad, gradcheck, trace_backward

torch = pytest.importorskip("torch")


def define(lib):
    """The same three ops written against either library's Function."""
    class Cube(lib.autograd.Function if lib is torch else lib.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    class Sigmoid(lib.autograd.Function if lib is torch else lib.Function):
        @staticmethod
        def forward(ctx, x):
            s = 1 / (1 + (-x).exp())
            ctx.save_for_backward(s)  # the result itself
            return s

        @staticmethod
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            return g * s * (1 - s)

    class ScaledProduct(lib.autograd.Function if lib is torch else lib.Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            ctx.seen = ctx.needs_input_grad
            return a * b * scale

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return (g * b * ctx.scale if ctx.needs_input_grad[0] else None,
                    g * a * ctx.scale if ctx.needs_input_grad[1] else None, None)

    return Cube, Sigmoid, ScaledProduct


def test_first_and_second_derivatives_match_torch():
    x0 = np.array([0.5, -1.25, 2.0])
    ours, theirs = define(autograd), define(torch)
    x, tx = Tensor(x0.copy(), requires_grad=True), torch.tensor(x0.copy(), requires_grad=True)
    for (op, top) in zip(ours[:2], theirs[:2]):
        y, ty = op.apply(x), top.apply(tx)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
        assert y.op == op.__name__
        (g1,) = grad(y.sum(), x, create_graph=True)
        (tg1,) = torch.autograd.grad(ty.sum(), tx, create_graph=True)
        (g2,) = grad((g1 * g1).sum(), x)
        (tg2,) = torch.autograd.grad((tg1 * tg1).sum(), tx)
        np.testing.assert_allclose(g1.numpy(), tg1.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(g2.numpy(), tg2.numpy(), rtol=1e-12)


def test_needs_input_grad_and_constant_arguments_as_torch():
    _, _, Prod = define(autograd)
    _, _, TProd = define(torch)
    a, b = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([3.0, 4.0]))
    ta, tb = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True), torch.tensor([3.0, 4.0],
                                                                                          dtype=torch.float64)
    out, tout = Prod.apply(a, b, 0.5), TProd.apply(ta, tb, 0.5)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    assert b.grad is None and tb.grad is None


def test_a_planted_mistake_in_a_students_backward_is_found_by_gradcheck():
    class WrongSigmoid(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            s = 1 / (1 + (-x).exp())
            ctx.save_for_backward(s)
            return s

        @staticmethod
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            return g * s  # forgot (1 - s)

    _, Sigmoid, _ = define(autograd)
    x = Tensor(np.array([0.2, -0.7, 1.5]), requires_grad=True)
    assert gradcheck(lambda t: Sigmoid.apply(t).sum(), x)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda t: WrongSigmoid.apply(t).sum(), x)


def test_on_values_traced_and_drawn_with_the_class_name():
    Cube, Sigmoid, _ = define(autograd)
    v = Value(0.5, label="v")
    y = Sigmoid.apply(Cube.apply(v)) * 2
    trace = trace_backward(y, show=False)
    assert [step["op"] for step in trace.steps[:3]] == ["*", "Sigmoid", "Cube"]
    s = 1 / (1 + np.exp(-0.125))
    assert v.grad == pytest.approx(2 * s * (1 - s) * 3 * 0.25, rel=1e-12)
    assert "Sigmoid" in draw_graph(y).source and "Cube" in draw_graph(y).source


def test_wrong_backward_results_are_named():
    class TooMany(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class WrongShape(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return autograd.ones(5)

    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="TooMany.backward returned 2 gradients but forward took 1 arguments"):
        TooMany.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(5,\) for argument 0"):
        WrongShape.apply(x).sum().backward()


def test_a_function_graph_holds_no_reference_cycle():
    Cube, Sigmoid, _ = define(autograd)
    gc.collect()
    x = Tensor(np.ones(3), requires_grad=True)
    y = Sigmoid.apply(Cube.apply(x)).sum()
    y.backward()
    del y
    assert gc.collect() == 0
