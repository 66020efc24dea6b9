"""matmul (NumPy's semantics) and the sliding-window ops unfold / fold that conv and pooling use."""

import numpy as np
import pytest

from autograd import Tensor, grad, gradcheck
from autograd.ops import linalg


def leaf(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def second_order_matches(fn, *xs, seed=1, eps=1e-6):
    """d/dx <u, dL/dx> along v for L = sum(w * fn(*xs)**2), against central differences (all inputs)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(fn(*[Tensor(x.data) for x in xs]).shape)
    us = [rng.standard_normal(x.shape) for x in xs]
    vs = [rng.standard_normal(x.shape) for x in xs]

    def first(datas, create_graph):
        ts = [Tensor(d, requires_grad=True) for d in datas]
        y = fn(*ts)
        return ts, grad((y * y * w).sum(), ts, create_graph=create_graph)

    def projected(step):
        _, gs = first([x.data + step * v for x, v in zip(xs, vs)], False)
        return sum(float((g.data * u).sum()) for g, u in zip(gs, us))

    ts, gs = first([x.data for x in xs], True)
    sum((g * u).sum() for g, u in zip(gs, us)).backward()
    analytic = sum(float((t.grad * v).sum()) for t, v in zip(ts, vs))
    assert analytic == pytest.approx((projected(eps) - projected(-eps)) / (2 * eps), rel=1e-5, abs=1e-7)


# --- matmul -----------------------------------------------------------------------------------
MATMUL_SHAPES = [
    ((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
    ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 5)), ((2, 3, 4), (4,)), ((1, 4), (4, 1)), ((2, 1, 4), (1, 4, 3)),
]


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES)
def test_matmul_gradcheck(a_shape, b_shape):
    a, b = leaf(*a_shape, seed=1), leaf(*b_shape, seed=2)
    out = a @ b
    assert out.shape == np.matmul(a.numpy(), b.numpy()).shape
    np.testing.assert_array_equal(out.numpy(), np.matmul(a.numpy(), b.numpy()))
    assert gradcheck(lambda a, b: a @ b, a, b)


def test_matmul_exact_gradients():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = Tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    y = a @ b
    assert y.data.tolist() == [[19, 22], [43, 50]]
    y.backward(gradient=np.ones((2, 2)))
    assert a.grad.tolist() == [[11, 15], [11, 15]]  # ones @ b^T
    assert b.grad.tolist() == [[4, 4], [6, 6]]  # a^T @ ones


def test_vector_dot_product_is_0d():
    a, b = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([4.0, 5.0, 6.0], requires_grad=True)
    y = a @ b
    assert y.shape == () and y.item() == 32.0
    y.backward()
    assert a.grad.tolist() == [4, 5, 6] and b.grad.tolist() == [1, 2, 3]


def test_matmul_with_constants_and_arrays():
    w = leaf(4, 3)
    x = np.random.default_rng(3).standard_normal((2, 4))
    y = x @ w  # ndarray @ Tensor goes to __rmatmul__
    assert isinstance(y, Tensor) and np.allclose(y.data, x @ w.data)
    assert gradcheck(lambda w: x @ w, w)
    assert gradcheck(lambda w: w.T @ [1.0, 2.0, 3.0, 4.0], w)
    assert gradcheck(lambda w: w.matmul(np.ones((3, 2))), w)


def test_gradient_of_an_input_without_requires_grad_is_not_computed(monkeypatch):
    def never(*args):
        raise AssertionError("computed a gradient nobody needs")

    a, b = leaf(5, 3, 4), Tensor(np.ones((4, 2)))
    monkeypatch.setattr(linalg, "_grad_right", never)
    (a @ b).sum().backward()
    assert b.grad is None and a.grad.shape == (5, 3, 4)
    monkeypatch.undo()
    c, d = Tensor(np.ones((3, 4))), leaf(4, 2)
    monkeypatch.setattr(linalg, "_grad_left", never)
    (c @ d).sum().backward()
    assert c.grad is None and np.allclose(d.grad, 3.0)


def test_matmul_stays_float32():
    a = Tensor(np.ones((2, 3, 4), np.float32), requires_grad=True)
    b = Tensor(np.ones((4, 5), np.float32), requires_grad=True)
    y = a @ b
    assert y.dtype == np.float32
    y.backward(gradient=np.ones(y.shape, np.float32))
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    assert np.all(b.grad.numpy() == 6.0) and np.all(a.grad.numpy() == 5.0)


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)),
                                              ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5))])
def test_matmul_second_order(a_shape, b_shape):
    second_order_matches(lambda a, b: a @ b, leaf(*a_shape, seed=1), leaf(*b_shape, seed=2))


def test_matmul_misaligned_raises_before_recording():
    a, b = leaf(2, 3), leaf(4, 5)
    with pytest.raises(ValueError) as info:
        a @ b
    assert str(info.value) == "matmul: shapes (2, 3) and (4, 5) are not aligned"
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("a_shape, b_shape, pattern", [
    ((3,), (4,), r"matmul: shapes \(3,\) and \(4,\) are not aligned"),
    ((2, 3), (2,), r"matmul: shapes \(2, 3\) and \(2,\) are not aligned"),
    ((), (3,), r"matmul: shapes \(\) and \(3,\) are not aligned: a 0-d operand"),
    ((2, 2, 3), (3, 3, 4), r"matmul: shapes \(2, 2, 3\) and \(3, 3, 4\) are not aligned: batch axes \(2,\) "
                           r"and \(3,\) do not broadcast"),
])
def test_matmul_shape_errors(a_shape, b_shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        leaf(*a_shape) @ leaf(*b_shape)


# --- unfold / fold ----------------------------------------------------------------------------
def unfold_reference(x, kernel, stride, padding, dilation):
    """Loop-based windows, straight from the definition (test only)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    xp = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    oh = (x.shape[-2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[-1] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros(x.shape[:-2] + (oh, ow, kh, kw))
    for r in range(oh):
        for c in range(ow):
            for i in range(kh):
                for j in range(kw):
                    out[..., r, c, i, j] = xp[..., r * sh + i * dh, c * sw + j * dw]
    return out


UNFOLD_CASES = [
    ((5, 6), 3, 1, 0, 1),
    ((2, 5, 6), 3, 2, 1, 1),
    ((2, 3, 7, 6), (3, 2), (2, 1), (1, 0), (1, 2)),
    ((1, 2, 8, 7), 2, 2, 0, 1),
    ((4, 4), (2, 3), (1, 2), (2, 1), (2, 1)),
    ((1, 1, 3, 3), 3, 1, 0, 1),
    ((2, 6, 5), 1, 3, 0, 1),
    ((3, 3), 2, 1, 1, 2),
]


def pair(v):
    return (v, v) if isinstance(v, int) else v


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", UNFOLD_CASES)
def test_unfold_values_and_gradcheck(shape, kernel, stride, padding, dilation):
    x = leaf(*shape)
    y = x.unfold(kernel, stride=stride, padding=padding, dilation=dilation)
    expected = unfold_reference(x.data, pair(kernel), pair(stride), pair(padding), pair(dilation))
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.data, expected)
    assert gradcheck(lambda x: x.unfold(kernel, stride, padding, dilation), x)


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", UNFOLD_CASES)
def test_fold_is_the_adjoint_of_unfold(shape, kernel, stride, padding, dilation):
    x = leaf(*shape)
    cols = x.unfold(kernel, stride, padding, dilation)
    c = leaf(*cols.shape, seed=4)
    image = c.fold(shape[-2:], kernel, stride, padding, dilation)
    assert image.shape == x.shape
    # <unfold(x), c> == <x, fold(c)>
    assert float((cols.data * c.data).sum()) == pytest.approx(float((x.data * image.data).sum()), rel=1e-12)
    assert gradcheck(lambda c: c.fold(shape[-2:], kernel, stride, padding, dilation), c)


def test_overlapping_windows_accumulate():
    x = Tensor(np.arange(4.0).reshape(1, 4), requires_grad=True)
    y = x.unfold((1, 2))  # windows [0,1], [1,2], [2,3]
    assert y.shape == (1, 3, 1, 2) and y.data[0, :, 0].tolist() == [[0, 1], [1, 2], [2, 3]]
    y.backward(gradient=np.ones(y.shape))
    assert x.grad.tolist() == [[1, 2, 2, 1]]


@pytest.mark.parametrize("n, f, stride, padding, size", [
    (7, 3, 1, 0, 5), (7, 3, 2, 0, 3), (7, 3, 1, 1, 7), (7, 3, 2, 1, 4), (7, 3, 3, 1, 3),
])
def test_lecture_output_sizes(n, f, stride, padding, size):
    y = Tensor(np.zeros((1, 1, n, n))).unfold(f, stride=stride, padding=padding)
    assert y.shape == (1, 1, size, size, f, f)


def test_unfold_is_a_view_and_stays_float32():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    y = x.unfold(3)
    assert np.shares_memory(y.data, x.data) and y.dtype == np.float32
    y.backward(gradient=np.ones(y.shape, np.float32))
    assert x.grad.dtype == np.float32 and x.grad.shape == x.shape
    assert x.grad[0, 0, 0, 0] == 1 and x.grad[0, 0, 1, 1] == 4 and x.grad[0, 0, 4, 4] == 9
    padded = x.unfold(3, padding=1)
    assert padded.dtype == np.float32 and padded.shape == (2, 3, 8, 8, 3, 3)


@pytest.mark.parametrize("kernel, stride, padding, dilation", [(3, 2, 1, 1), ((2, 3), 1, (1, 0), (2, 1))])
def test_unfold_second_order(kernel, stride, padding, dilation):
    second_order_matches(lambda x: x.unfold(kernel, stride, padding, dilation), leaf(2, 5, 6))


def test_fold_second_order():
    second_order_matches(lambda c: c.fold((5, 6), 3, 2, 1), leaf(2, 3, 3, 3, 3))


def test_conv_as_unfold_and_one_matmul_second_order():
    def conv(x, w):
        cols = x.unfold(3, padding=1).permute(0, 2, 3, 1, 4, 5).reshape(2 * 4 * 4, -1)
        return cols @ w.reshape(2, -1).T

    second_order_matches(conv, leaf(2, 3, 4, 4, seed=1), leaf(2, 3, 3, 3, seed=2))


@pytest.mark.parametrize("call, pattern", [
    (lambda x: x.unfold(5), r"unfold: kernel 5x5 \(dilation 1x1, spanning 5x5\) is bigger than the padded input "
                            r"4x4 \(input 4x4, padding 0x0\)"),
    (lambda x: x.unfold(3, dilation=2), r"unfold: kernel 3x3 \(dilation 2x2, spanning 5x5\) is bigger"),
    (lambda x: x.unfold(7, padding=1), r"bigger than the padded input 6x6 \(input 4x4, padding 1x1\)"),
    (lambda x: x.unfold(0), r"unfold: kernel_size must be an int >= 1 or a pair of them, got 0"),
    (lambda x: x.unfold(2, stride=(1, 2, 3)), r"unfold: stride must be an int >= 1 or a pair"),
    (lambda x: x.unfold(2, padding=-1), r"unfold: padding must be an int >= 0"),
    (lambda x: x.unfold(2, dilation=1.5), r"unfold: dilation must be an int >= 1"),
    (lambda x: x[0, 0, 0].unfold(1), r"unfold: needs a tensor of shape \(\.\.\., H, W\), got shape \(4,\)"),
    (lambda x: x.unfold(2).fold((5, 5), 2), r"fold: expected windows of shape \(\.\.\., 4, 4, 2, 2\) for output "
                                            r"size \(5, 5\), got shape \(1, 4, 3, 3, 2, 2\)"),
])
def test_unfold_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(Tensor(np.zeros((1, 4, 4, 4))))


# --- parity with PyTorch ----------------------------------------------------------------------
# --- linear: x @ W.T + b as one op -----------------------------------------------------------------
LINEAR_SHAPES = [(3, 4), (4,), (2, 3, 4)]


@pytest.mark.parametrize("x_shape", LINEAR_SHAPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_is_the_composition_and_gradchecks(x_shape, bias):
    x, w, b = leaf(*x_shape, seed=1), leaf(5, 4, seed=2), leaf(5, seed=3)
    args = (x, w, b) if bias else (x, w)
    out = x.linear(*args[1:])
    np.testing.assert_allclose(out.data, x.data @ w.data.T + (b.data if bias else 0), rtol=1e-12)
    assert out.op == "linear" and out.parents == args
    assert gradcheck(lambda *a: a[0].linear(*a[1:]), *args)
    second_order_matches(lambda *a: a[0].linear(*a[1:]), *args)


def test_linear_weight_gradient_owns_its_memory_and_skips_unneeded_gradients():
    x = Tensor(np.ones((8, 4), np.float32))
    w = Tensor(np.ones((3, 4), np.float32), requires_grad=True)
    b = Tensor(np.zeros(3, np.float32), requires_grad=True)
    out = x.linear(w, b)
    assert out.dtype == np.float32
    out.backward(gradient=np.ones((8, 3), np.float32))
    assert x.grad is None and w.grad.dtype == np.float32 and w._grad.flags.c_contiguous and w._grad.base is None
    assert np.all(w.grad.numpy() == 8.0) and np.all(b.grad.numpy() == 8.0)


def test_linear_shape_errors():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3\) does not match weight of shape \(5, 4\)"):
        leaf(2, 3).linear(leaf(5, 4))
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(5,\)"):
        leaf(2, 4).linear(leaf(5, 4), leaf(4))


def test_transposed_operand_gets_its_gradient_in_its_own_layout():
    x, w = leaf(6, 4, seed=1), leaf(5, 4, seed=2)
    (x @ w.T).backward(gradient=np.ones((6, 5)))
    np.testing.assert_allclose(w.grad, np.ones((5, 6)) @ x.data)
    np.testing.assert_allclose(x.grad, np.ones((6, 5)) @ w.data)
    assert w._grad.flags.c_contiguous


torch = pytest.importorskip("torch")


def assert_parity(ours_fn, torch_fn, *arrays, seed=3):
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, t = ours_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(y.data, t.detach().numpy(), rtol=1e-6, atol=1e-12)
    seed_grad = np.random.default_rng(seed).standard_normal(t.shape)
    y.backward(gradient=seed_grad)
    t.backward(torch.from_numpy(seed_grad))
    for o, th in zip(ours, theirs):
        np.testing.assert_allclose(o.grad, th.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES)
def test_matmul_torch_parity(a_shape, b_shape):
    rng = np.random.default_rng(5)
    assert_parity(lambda a, b: a @ b, torch.matmul, rng.standard_normal(a_shape), rng.standard_normal(b_shape))


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation",
                         [c for c in UNFOLD_CASES if len(c[0]) == 4])
def test_unfold_torch_parity(shape, kernel, stride, padding, dilation):
    def ours(x):
        n, c = x.shape[:2]
        y = x.unfold(kernel, stride, padding, dilation)  # (N, C, oh, ow, kh, kw)
        return y.permute(0, 1, 4, 5, 2, 3).reshape(n, c * y.shape[-2] * y.shape[-1], -1)

    def theirs(t):
        return torch.nn.functional.unfold(t, kernel, dilation=dilation, padding=padding, stride=stride)

    assert_parity(ours, theirs, np.random.default_rng(6).standard_normal(shape))


def test_conv2d_from_unfold_and_matmul_matches_torch():
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3))

    def ours(x, w):
        cols = x.unfold(3, stride=2, padding=1)  # (N, C, oh, ow, kh, kw)
        n, c, oh, ow, kh, kw = cols.shape
        out = cols.permute(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw) @ w.reshape(4, -1).T
        return out.reshape(n, oh, ow, 4).permute(0, 3, 1, 2)

    assert_parity(ours, lambda x, w: torch.nn.functional.conv2d(x, w, stride=2, padding=1), x, w)


@pytest.mark.parametrize("x_shape", LINEAR_SHAPES)
def test_linear_torch_parity(x_shape):
    rng = np.random.default_rng(7)
    assert_parity(lambda x, w, b: x.linear(w, b), torch.nn.functional.linear,
                  rng.standard_normal(x_shape), rng.standard_normal((5, 4)), rng.standard_normal(5))
