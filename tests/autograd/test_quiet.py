"""Tensor ops are as quiet as torch's: inf and nan are values, and no NumPy RuntimeWarning (divide by zero,
overflow, invalid value) escapes a forward or a backward. Each case is compared with torch: nan where torch
gives nan, inf (of the same sign) where torch gives inf. The user's own NumPy settings are back after
every op, also after an op that raised.
"""

import types
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch_F = pytest.importorskip("torch.nn.functional")

import nn.functional as F  # noqa: E402
from autograd import Tensor, grad  # noqa: E402

INF, NAN = np.inf, np.nan
OURS = types.SimpleNamespace(F=F, tensor=Tensor, f32=np.float32)
THEIRS = types.SimpleNamespace(F=torch_F, tensor=torch.tensor, f32=torch.float32)


def f64(*values):
    return np.array(values, np.float64)


def f32(*values):
    return np.array(values, np.float32)


def f16(*values):
    return np.array(values, np.float16)


# name: (f(lib, *inputs) for both libraries, inputs); float inputs require grad.
CASES = {
    "x / 0": (lambda L, a, b: a / b, [f64(1, -1, 0, 2), f64(0, 0, 0, 1)]),
    "int / 0": (lambda L, a: a / L.tensor(np.array([0, 0, 1])), [f64(1, 0, 1)]),
    "log(0), log(-1)": (lambda L, x: x.log(), [f64(0, -1, 1)]),
    "log10, log2 at 0 and -1": (lambda L, x: x.log10() + x.log2(), [f64(0, -1, 4)]),
    "sqrt(-1), sqrt(0)": (lambda L, x: x.sqrt(), [f64(-1, 0, 4)]),
    "rsqrt(0), rsqrt(-1)": (lambda L, x: x.rsqrt(), [f64(0, -1, 4)]),
    "exp overflow, float32": (lambda L, x: x.exp(), [f32(100, 1000, -1000)]),
    "exp2 overflow, float32": (lambda L, x: x.exp2(), [f32(200, 1)]),
    "square overflow, float32": (lambda L, x: x.square(), [f32(3e38, 2)]),
    "sin(inf), tan(inf)": (lambda L, x: x.sin() + x.tan(), [f64(INF, 0)]),
    "sigmoid at +-200 and +-inf": (lambda L, x: x.sigmoid(), [f32(-200, 200, INF, -INF)]),
    "leaky_relu overflow": (lambda L, x: L.F.leaky_relu(x, 10.0), [f32(-1, -1e38, 1)]),
    "0 * inf": (lambda L, a, b: a * b, [f64(0, 1), f64(INF, INF)]),
    "inf - inf": (lambda L, a, b: a - b, [f64(INF, INF), f64(INF, 1)]),
    "x * 1e300 overflow, float32": (lambda L, x: x * 1e300, [f32(1, -2)]),
    "1e300 - x, reflected": (lambda L, x: 1e300 - x, [f32(1, 2)]),
    "x < 1e300, float32": (lambda L, x: x * (x < 1e300), [f32(1, 2)]),
    "negative ** 0.5": (lambda L, x: x ** 0.5, [f64(-8, 4)]),
    "0 ** -1": (lambda L, x: x ** -1.0, [f64(0, 2)]),
    "negative ** tensor": (lambda L, x, y: x ** y, [f64(-8, 0, 2), f64(1 / 3, 2, 0.5)]),
    "cast float64 1e300 to float32": (lambda L, x: x.to(L.f32) * 1, [f64(1e300, 1)]),
    "in-place float64 into float32": (lambda L, x, y: _add_into(x * 1, y), [f32(1, 2), f64(1e300, 1)]),
    "sum overflow, float32": (lambda L, x: x.sum(), [f32(3e38, 3e38)]),
    "sum of inf and -inf": (lambda L, x: x.sum(), [f64(INF, -INF)]),
    "mean of an empty axis": (lambda L, x: x.mean(dim=1), [np.zeros((3, 0))]),
    "mean of an empty axis, float16": (lambda L, x: x.mean(dim=1), [np.zeros((3, 0), np.float16)]),
    "var of one element": (lambda L, x: x.var(dim=1), [f64([1.0], [2.0])]),
    "std of one element": (lambda L, x: x.std(dim=1), [f64([1.0], [2.0])]),
    "var of an empty axis": (lambda L, x: x.var(dim=1), [np.zeros((2, 0))]),
    "amax of inf": (lambda L, x: x.amax(dim=1), [f64([INF, INF], [1, 2])]),
    "softmax of inf logits": (lambda L, x: x.softmax(dim=1), [f64([INF, 1, 2], [INF, INF, 0], [-INF, -INF, -INF])]),
    "log_softmax of inf logits": (lambda L, x: x.log_softmax(dim=1), [f64([INF, 1, 2], [-INF, -INF, -INF])]),
    "logsumexp of inf logits": (lambda L, x: x.logsumexp(dim=1), [f64([INF, 1, 2], [-INF, -INF, -INF])]),
    "cross_entropy, -inf logits": (lambda L, x: L.F.cross_entropy(x, L.tensor(np.array([1, 0]))),
                                   [f64([-INF, 0, 1], [-INF, 1, 2])]),
    "cross_entropy, +inf logit": (lambda L, x: L.F.cross_entropy(x, L.tensor(np.array([1, 2]))),
                                  [f64([INF, 0, 1], [0, 1, 2])]),
    "cross_entropy per sample, -inf": (lambda L, x: L.F.cross_entropy(x, L.tensor(np.array([1, 2])), reduction="none"),
                                       [f64([-INF, 0, 1], [0, 1, -INF])]),
    "nll_loss, -inf log-probabilities": (lambda L, x: L.F.nll_loss(x, L.tensor(np.array([0, 2]))),
                                         [f64([-INF, 0, 1], [0, 1, -INF])]),
    "nll_loss, inf weight and ignored": (lambda L, x: L.F.nll_loss(x, L.tensor(np.array([1, 2, 0])),
                                                                   weight=L.tensor(f64(1, INF, 2)), ignore_index=0),
                                         [f64([-1, -2, -3], [-1, -2, -3], [-1, -2, -3])]),
    "binary_cross_entropy at 0 and 1": (lambda L, p: L.F.binary_cross_entropy(p, L.tensor(f64(1, 0, 1))),
                                        [f64(0, 1, 0.5)]),
    "bce with logits at +-inf": (lambda L, x: L.F.binary_cross_entropy_with_logits(x, L.tensor(f64(1, 0, 1))),
                                 [f64(INF, -INF, 1000)]),
    "mse_loss overflow": (lambda L, x: L.F.mse_loss(x, L.tensor(f64(INF, 1))), [f64(INF, 1e200)]),
    "matmul overflow, float32": (lambda L, a, b: a @ b, [f32([3e38, 3e38]), f32([2.0], [2.0])]),
    "matmul overflow, float16": (lambda L, a, b: a @ b, [f16([300, 300]), f16([300], [300])]),
    "matmul inf * 0": (lambda L, a, b: a @ b, [f64([INF, 1]), f64([0.0], [1.0])]),
    "linear overflow, float32": (lambda L, x, w, b: L.F.linear(x, w, b), [f32([3e38, 3e38]), f32([2, 2]), f32(-INF)]),
    "conv2d overflow, float32": (lambda L, x, w: L.F.conv2d(x, w),
                                 [np.full((1, 1, 2, 2), 3e38, np.float32), np.full((1, 1, 2, 2), 2, np.float32)]),
    "avg_pool2d of inf and -inf": (lambda L, x: L.F.avg_pool2d(x, 2), [np.array([[[[INF, -INF], [1, 2]]]])]),
    "layer_norm of inf": (lambda L, x: L.F.layer_norm(x, (3,)), [f64([INF, 1, 2], [1, 1, 1])]),
    "layer_norm, eps 0, constant row": (lambda L, x: L.F.layer_norm(x, (3,), eps=0.0), [f64([1, 1, 1], [1, 2, 3])]),
    "layer_norm over nothing": (lambda L, x: L.F.layer_norm(x, (0,)), [np.zeros((2, 0))]),
    "fold of inf and -inf": (lambda L, c: _fold(L, c), [f64([1, INF], [-INF, 2])]),
    "embedding max_norm, huge rows": (lambda L, w: L.F.embedding(L.tensor(np.array([0, 1])), w * 1, max_norm=1.0),
                                      [f32([3e38, 3e38], [1, 0])]),
}


def _add_into(y, other):
    y += other  # a float64 result copied into float32 memory
    return y


def _fold(L, c):
    """fold of two windows (rows of c) of width 2 over one row of 3: the middle element gets one entry of each."""
    if L is OURS:
        return c.reshape(1, 1, 1, 2, 1, 2).fold((1, 3), (1, 2))
    return torch_F.fold(c.T.reshape(1, 2, 2), (1, 3), (1, 2))


def _inputs(lib, arrays):
    make = (lambda a: Tensor(a, requires_grad=a.dtype.kind == "f")) if lib is OURS else \
        (lambda a: torch.tensor(a, requires_grad=a.dtype.kind == "f"))
    return [make(a) for a in arrays]


def _close(ours, theirs, what: str) -> None:
    ours, theirs = np.asarray(ours), theirs.detach().numpy()
    rtol = 1e-3 if ours.dtype == np.float16 else 1e-5
    assert ours.shape == theirs.shape, what
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), rtol=rtol, err_msg=what)


@pytest.mark.parametrize("name", list(CASES))
def test_inf_and_nan_are_values_as_in_torch(name):
    fn, arrays = CASES[name]
    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning is an error: none may escape the forward or the backward
        ours = _inputs(OURS, arrays)
        out = fn(OURS, *ours)
        out.sum().backward()
    assert np.geterr() == before
    theirs = _inputs(THEIRS, arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own notes (var's degrees of freedom) are not ours to judge
        expected = fn(THEIRS, *theirs)
        expected.sum().backward()
    _close(out.numpy(), expected, f"{name}: value")
    for i, (x, t) in enumerate(zip(ours, theirs)):
        if t.requires_grad:
            _close(x.grad.numpy(), t.grad, f"{name}: gradient of input {i}")


@pytest.mark.parametrize("name", ["x / 0", "log(0), log(-1)", "sqrt(-1), sqrt(0)", "softmax of inf logits",
                                  "var of one element", "cross_entropy, +inf logit", "matmul inf * 0"])
def test_second_derivatives_are_quiet(name):
    fn, arrays = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = _inputs(OURS, arrays)
        first = grad(fn(OURS, *ours).sum(), ours[0], create_graph=True)[0]
        second = grad((first * first).sum(), ours, allow_unused=True)
    theirs = _inputs(THEIRS, arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first_t = torch.autograd.grad(fn(THEIRS, *theirs).sum(), theirs[0], create_graph=True)[0]
        second_t = torch.autograd.grad((first_t * first_t).sum(), theirs, allow_unused=True)
    _close(first.numpy(), first_t, f"{name}: first derivative")
    assert [s is None for s in second] == [s is None for s in second_t]
    for i, (s, t) in enumerate(zip(second, second_t)):
        if t is not None:
            _close(s.numpy(), t, f"{name}: second derivative, input {i}")


def test_dropout_scale_past_float16_is_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor(np.ones(64, np.float16), requires_grad=True)
        F.dropout(x, p=1 - 1e-6, seed=0).sum().backward()


def _numpy_warns_again() -> None:
    """The user's NumPy code outside an op warns as NumPy's settings say."""
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        np.array([1.0]) / np.array([0.0])


def test_numpy_warns_again_after_an_op():
    before = np.geterr()
    x = Tensor(f64(0, 1), requires_grad=True)
    loss = (x.log() / x).sum() + (x @ x.exp()) + x.reshape(1, 2).softmax(dim=1).sum()
    assert np.geterr() == before
    _numpy_warns_again()
    loss.backward()
    assert np.geterr() == before
    _numpy_warns_again()


a3, a4 = Tensor(np.ones(3)), Tensor(np.ones(4))
RAISING = {
    "add, shapes": lambda: a3 + a4,
    "reflected sub, shapes": lambda: [1.0, 2.0, 3.0, 4.0] - a3,
    "pow, integer to a negative power": lambda: Tensor(np.array([2])) ** Tensor(np.array([-1])),
    "maximum, shapes": lambda: a3.maximum(a4),
    "comparison, shapes": lambda: a3 < a4,
    "matmul, shapes": lambda: a3 @ a4,
    "linear, shapes": lambda: F.linear(a3, Tensor(np.ones((2, 4)))),
    "index by nan": lambda: a3[Tensor(f64(NAN))],
    "cross_entropy, fractional class": lambda: F.cross_entropy(Tensor(np.ones((1, 3))), Tensor(f64(NAN))),
    "in-place, shapes": lambda: a3.clone().add_(Tensor(np.ones((2, 3)))),
}


@pytest.mark.parametrize("name", list(RAISING))
def test_settings_are_restored_when_an_op_raises(name):
    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the op's own error, not a warning on the way to it
        with pytest.raises((ValueError, IndexError, RuntimeError)):
            RAISING[name]()
    assert np.geterr() == before
    _numpy_warns_again()


def test_users_errstate_holds_outside_ops_only():
    """Under the user's np.errstate(all="raise") an op still gives inf silently (torch never raises),
    and the user's own NumPy code after it raises as asked."""
    with np.errstate(all="raise"):
        out = Tensor(f64(1)) / Tensor(f64(0))
        assert np.isposinf(out.numpy()).all()
        assert np.geterr()["divide"] == "raise"
        with pytest.raises(FloatingPointError):
            np.array([1.0]) / np.array([0.0])


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_an_optimizer_step_through_an_inf_gradient_is_silent(name):
    """inf - inf in the update: nan, as torch gives, and no warning."""
    import nn
    p = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    optimizer = getattr(nn.optim, name)([p], lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for g in (np.inf, -np.inf):
            p.grad = Tensor(np.array([g, 1.0]))
            optimizer.step()
    assert np.isnan(p.numpy()[0]) and np.isfinite(p.numpy()[1])
    _numpy_warns_again()
