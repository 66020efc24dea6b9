"""autograd.functional: jacobian, hessian, vjp, jvp, hvp for Values and Tensors; Newton; a 10^4-parameter HVP."""

import math
import tracemalloc

import numpy as np
import pytest

from autograd import Tensor, Value, grad, no_grad
from autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp

RNG = np.random.default_rng(0)
X3, W23, V3, U2 = RNG.standard_normal(3), RNG.standard_normal((2, 3)), RNG.standard_normal(3), RNG.standard_normal(2)


def _f(x, w):
    """R^3 x R^(2x3) -> R^2, mixing elementwise, matmul, indexing and softmax."""
    return (w @ x.tanh()).exp() * x[:2] + (w * w).softmax(dim=1)[:, 0]


def _s(x, w):
    """A scalar function of both inputs."""
    return (_f(x, w) ** 2).sum() + (x.sigmoid() * x).sum()


def _inputs(requires_grad=True):
    return Tensor(X3.copy(), requires_grad=requires_grad), Tensor(W23.copy(), requires_grad=requires_grad)


def _close(ours, theirs):
    """Compare nested tuples of our Tensors with torch tensors."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b)
        return
    assert isinstance(ours, Tensor) and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


# --- parity with torch.autograd.functional ---------------------------------------------------------
def test_parity_with_torch_functional():
    torch = pytest.importorskip("torch")
    TF = torch.autograd.functional
    x, w = _inputs()
    tx, tw = torch.tensor(X3), torch.tensor(W23)
    tv, tu = (torch.tensor(V3), torch.tensor(W23[::-1].copy())), torch.tensor(U2)
    v = (V3, W23[::-1].copy())
    _close(jacobian(_f, (x, w)), TF.jacobian(_f, (tx, tw)))
    # a single input: one Tensor, not a tuple
    _close(jacobian(lambda a: _f(a, w), x), TF.jacobian(lambda a: _f(a, tw), tx))
    _close(jacobian(lambda a: (a * 2, a.sum()), x), TF.jacobian(lambda a: (a * 2, a.sum()), tx))
    _close(hessian(_s, (x, w)), TF.hessian(_s, (tx, tw)))
    _close(hessian(lambda a: _s(a, w), x), TF.hessian(lambda a: _s(a, tw), tx))
    for ours, theirs, vector in ((vjp, TF.vjp, U2), (jvp, TF.jvp, v), (hvp, TF.hvp, v), (vhp, TF.vhp, v)):
        f = _s if ours in (hvp, vhp) else _f
        torch_vector = tu if ours is vjp else tv
        _close(ours(f, (x, w), vector), theirs(f, (tx, tw), torch_vector))
    _close(vjp(lambda a: _s(a, w), x), TF.vjp(lambda a: _s(a, tw), tx))  # v omitted for a scalar output
    assert x.grad is None and w.grad is None


def test_parity_of_create_graph_results_with_torch():
    torch = pytest.importorskip("torch")
    TF = torch.autograd.functional
    x, w = _inputs()
    tx, tw = torch.tensor(X3, requires_grad=True), torch.tensor(W23, requires_grad=True)
    ours = hessian(lambda a: _s(a, w), x, create_graph=True)
    theirs = TF.hessian(lambda a: _s(a, tw), tx, create_graph=True)
    assert ours.requires_grad
    got = grad((ours * ours).sum(), (x, w))
    want = torch.autograd.grad((theirs * theirs).sum(), (tx, tw))
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.data, t.numpy(), rtol=1e-10, atol=1e-12)
    tv = torch.tensor(V3, requires_grad=True)
    v = Tensor(V3.copy(), requires_grad=True)
    _, hv = hvp(lambda a: _s(a, w), x, v, create_graph=True)
    _, thv = TF.hvp(lambda a: _s(a, tw), tx, tv, create_graph=True)
    got = grad(hv.tanh().sum(), (x, w, v))
    want = torch.autograd.grad(thv.tanh().sum(), (tx, tw, tv))
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.data, t.numpy(), rtol=1e-10, atol=1e-12)


# --- conventions ----------------------------------------------------------------------------------
def test_shapes_and_structure_for_tensors():
    x, w = _inputs()
    assert jacobian(_f, (x, w))[1].shape == (2, 2, 3)
    assert hessian(_s, (x, w))[1][0].shape == (2, 3, 3)
    out, (gx, gw) = vjp(_f, (x, w), U2)
    assert isinstance(out, Tensor) and out.shape == (2,) and not out.requires_grad
    assert gx.shape == (3,) and gw.shape == (2, 3) and not gx.requires_grad
    out, jv = jvp(lambda a: _f(a, w), x, V3)  # a single input: v is one array, the result one Tensor
    assert jv.shape == (2,)
    np.testing.assert_allclose(jv.data, jacobian(lambda a: _f(a, w), x).data @ V3, rtol=1e-12)
    gx.data[0] = 99.0  # results own their memory: writable, shared with nothing
    assert vjp(_f, (x, w), U2)[1][0].data[0] != 99.0


def test_values_return_floats_and_arrays():
    a, b = Value(0.5), Value(-1.2)
    g = lambda a, b: a * b + b ** 3 + (a * b).tanh()
    t = math.tanh(-0.6)
    da, db = -1.2 + -1.2 * (1 - t * t), 0.5 + 3 * 1.44 + 0.5 * (1 - t * t)
    j = jacobian(g, (a, b))
    assert isinstance(j, np.ndarray) and j.dtype == float and j.shape == (2,)
    np.testing.assert_allclose(j, [da, db], rtol=1e-14)
    assert jacobian(lambda a: a.sin(), a) == pytest.approx(math.cos(0.5))
    assert isinstance(hessian(lambda a: a.sin(), a), float)
    h = hessian(g, (a, b))
    assert h.shape == (2, 2) and h[0, 1] == h[1, 0]
    np.testing.assert_allclose(h[1, 1], 6 * -1.2 + 0.25 * -2 * t * (1 - t * t), rtol=1e-13)
    pair = lambda a, b: [a * b, a + b]
    np.testing.assert_array_equal(jacobian(pair, (a, b)), [[-1.2, 0.5], [1.0, 1.0]])
    assert jacobian(lambda a: pair(a, b), a).shape == (2,)  # one input, two outputs
    out, products = vjp(pair, (a, b), (1.0, 2.0))
    assert out == (pytest.approx(-0.6), pytest.approx(-0.7)) and products == (pytest.approx(0.8), 2.5)
    assert jvp(pair, (a, b), (1.0, 2.0))[1] == (pytest.approx(-0.2), 3.0)
    value, hv = hvp(g, (a, b), (1.0, 0.0))
    assert isinstance(value, float) and hv == (pytest.approx(h[0, 0]), pytest.approx(h[1, 0]))
    assert a.grad == 0.0 and b.grad == 0.0 and not a.parents


def test_values_with_create_graph_give_values_and_third_derivatives():
    a = Value(0.5)
    f = lambda z: z.sin() * z ** 3
    inner = hessian(f, a, create_graph=True)
    assert isinstance(inner, Value)
    third = jacobian(lambda z: hessian(f, z, create_graph=True), a)
    s, c = math.sin(0.5), math.cos(0.5)  # (sin z z^3)''' = -c z^3 - 9 s z^2 + 18 c z + 6 s
    assert third == pytest.approx(-c * 0.125 - 9 * s * 0.25 + 18 * c * 0.5 + 6 * s, rel=1e-13)
    pair = jacobian(lambda a, b: [a * b, a + b], (a, Value(2.0)), create_graph=True)
    assert pair.dtype == object and all(isinstance(e, Value) for e in pair.flat)
    _, (hv,) = hvp(lambda z: z ** 4, (a,), (Value(3.0),), create_graph=True)
    assert isinstance(hv, Value) and hv.data == pytest.approx(12 * 0.25 * 3)
    assert a.grad == 0.0


def test_jacobian_of_a_gradient_with_create_graph_is_the_hessian():
    x, w = _inputs()
    inner = lambda a: jacobian(lambda b: _s(b, w), a, create_graph=True)
    np.testing.assert_allclose(jacobian(inner, x).data, hessian(lambda a: _s(a, w), x).data, rtol=1e-12)


def test_inputs_are_not_mutated_and_grad_untouched_even_inside_no_grad():
    x, w = _inputs()
    x.grad = np.full(3, 5.0)
    v = Value(1.5)
    v.grad = 2.0
    with no_grad():
        for fn in (jacobian, hessian):
            fn(_s, (x, w))
            fn(lambda z: z ** 3, v)
        hvp(_s, (x, w), (V3, W23))
        jvp(lambda z: z ** 3, v, 1.0)
        hessian(_s, (x, w), create_graph=True)
    np.testing.assert_array_equal(x.grad, np.full(3, 5.0))
    assert w.grad is None and v.grad == 2.0 and not x.parents
    np.testing.assert_array_equal(x.data, X3)
    np.testing.assert_array_equal(w.data, W23)


def test_inputs_without_requires_grad_and_float32():
    x, w = _inputs(requires_grad=False)
    np.testing.assert_allclose(jacobian(_f, (x, w))[0].data, jacobian(_f, _inputs())[0].data)
    x32 = Tensor(X3.astype(np.float32))
    assert jacobian(lambda a: a.tanh(), x32).dtype == np.float32
    assert hessian(lambda a: (a ** 3).sum(), x32).dtype == np.float32


def test_unused_inputs_constant_and_linear_functions_give_zeros():
    x, w = _inputs()
    j = jacobian(lambda a, b: a * 2, (x, w))
    np.testing.assert_array_equal(j[0].data, 2 * np.eye(3))
    np.testing.assert_array_equal(j[1].data, np.zeros((3, 2, 3)))
    np.testing.assert_array_equal(hessian(lambda a: (a * 3).sum(), x).data, np.zeros((3, 3)))
    np.testing.assert_array_equal(jacobian(lambda a: Tensor(np.ones(2)), x).data, np.zeros((2, 3)))
    assert hvp(lambda a: (a * 3).sum(), x, V3)[1].data.tolist() == [0.0, 0.0, 0.0]
    assert jvp(lambda a, b: a * 2, (x, w), (V3, W23))[1].data.tolist() == (2 * V3).tolist()
    assert hessian(lambda a, b: a * 3, (Value(1.0), Value(2.0))).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_errors_name_the_problem():
    x, w = _inputs()
    with pytest.raises(TypeError, match="jacobian: inputs must be all Values or all Tensors, got Tensor, Value"):
        jacobian(lambda a, b: a, (x, Value(1.0)))
    with pytest.raises(TypeError, match="the outputs of f must be all Values"):
        jacobian(lambda a: 2.0, Value(1.0))
    with pytest.raises(ValueError, match=r"hessian: f must return a single scalar .* got shape \(2,\)"):
        hessian(_f, (x, w))
    with pytest.raises(ValueError, match="vjp: v can be omitted only for a single one-element Tensor"):
        vjp(_f, (x, w))
    with pytest.raises(ValueError, match=r"jvp: v\[1\] has shape \(3,\) but should have shape \(2, 3\)"):
        jvp(_f, (x, w), (V3, V3))
    with pytest.raises(ValueError, match="hvp: v has 1 entries for 2 nodes"):
        hvp(_s, (x, w), (V3,))


# --- second-order uses: MLP Hessians, Newton's method, a Hessian-vector product at scale -------------
MLP_X, MLP_TARGET = RNG.standard_normal((6, 3)), np.array([0, 2, 1, 1, 0, 2])


def _mlp_loss(w1, b1, w2, b2):
    """Softmax cross-entropy of a tanh MLP, with Tensor ops: log_softmax, integer indexing, mean."""
    logits = (MLP_X @ w1 + b1).tanh() @ w2 + b2
    return -logits.log_softmax(axis=1)[np.arange(len(MLP_TARGET)), MLP_TARGET].mean()


def _mlp_params(seed=1):
    rng = np.random.default_rng(seed)
    return tuple(Tensor(rng.standard_normal(s) * 0.7, requires_grad=True) for s in ((3, 5), (5,), (5, 3), (3,)))


def test_mlp_hessian_matches_finite_differences_of_gradients_and_torch():
    params = _mlp_params()
    blocks = hessian(_mlp_loss, params)
    sizes = [p.numel() for p in params]
    full = np.block([[blocks[i][j].numpy().reshape(sizes[i], sizes[j]) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(full, full.T, atol=1e-12)
    flat = np.concatenate([p.numpy().ravel() for p in params])

    def gradient_at(theta):
        pieces = np.split(theta, np.cumsum(sizes)[:-1])
        leaves = [Tensor(v.reshape(p.shape), requires_grad=True) for v, p in zip(pieces, params)]
        return np.concatenate([g.numpy().ravel() for g in grad(_mlp_loss(*leaves), leaves)])

    eps = 1e-6
    numeric = np.stack([(gradient_at(flat + eps * e) - gradient_at(flat - eps * e)) / (2 * eps)
                        for e in np.eye(len(flat))], axis=1)
    np.testing.assert_allclose(full, numeric, atol=1e-7)
    torch = pytest.importorskip("torch")
    x, target = torch.tensor(MLP_X), torch.tensor(MLP_TARGET)
    theirs = torch.autograd.functional.hessian(
        lambda w1, b1, w2, b2: torch.nn.functional.cross_entropy((x @ w1 + b1).tanh() @ w2 + b2, target),
        tuple(torch.tensor(p.numpy()) for p in params))
    _close(blocks, theirs)


def test_newton_solves_a_quadratic_in_one_step():
    rng = np.random.default_rng(2)
    m = rng.standard_normal((5, 5))
    a, b = m @ m.T + 5 * np.eye(5), rng.standard_normal(5)
    f = lambda x: 0.5 * (x @ (Tensor(a) @ x)) - (Tensor(b) * x).sum() + 3.0
    x = Tensor(np.zeros(5), requires_grad=True)
    (g,) = grad(f(x), x)
    x = Tensor(x.numpy() - np.linalg.solve(hessian(f, x).numpy(), g.numpy()), requires_grad=True)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-12)
    assert np.abs(grad(f(x), x)[0].numpy()).max() < 1e-12
    q = lambda u, v: 2 * u * u + u * v + v * v - 3 * u + 1  # the same with Values
    point = np.array([4.0, -7.0])
    point = point - np.linalg.solve(hessian(q, (Value(4.0), Value(-7.0))), jacobian(q, (Value(4.0), Value(-7.0))))
    np.testing.assert_allclose(point, np.linalg.solve([[4.0, 1.0], [1.0, 2.0]], [3.0, 0.0]), rtol=1e-14)


def test_newton_converges_quadratically_on_logsumexp_plus_l2():
    rng = np.random.default_rng(3)
    a = Tensor(rng.standard_normal((8, 4)) * 2)
    f = lambda x: (a @ x).logsumexp() + 0.1 * (x * x).sum()
    x = Tensor(rng.standard_normal(4) * 3, requires_grad=True)
    norms = []
    for _ in range(12):  # damped Newton far away (halve the step until f drops enough), pure Newton close by
        value = f(x)
        (g,) = grad(value, x)
        norms.append(np.linalg.norm(g.data))
        if norms[-1] < 1e-12:
            break
        step, t = np.linalg.solve(hessian(f, x).data, g.data), 1.0
        while norms[-1] > 1e-3 and f(Tensor(x.data - t * step)).item() > value.item() - 0.25 * t * (g.data @ step):
            t /= 2
        x = Tensor(x.data - t * step, requires_grad=True)
    assert norms[-1] < 1e-12 and len(norms) <= 12
    assert norms[-2] < 1e-4 and norms[-1] < norms[-2] ** 1.5  # quadratic convergence near the minimum
    assert np.all(np.linalg.eigvalsh(hessian(f, x).data) > 0.19)


def test_hessian_vector_product_on_ten_thousand_parameters_without_forming_the_hessian():
    rng = np.random.default_rng(4)
    x, target = Tensor(rng.standard_normal((32, 100))), Tensor(rng.standard_normal((32, 100)))
    w = Tensor(rng.standard_normal((100, 100)) * 0.1, requires_grad=True)
    v = rng.standard_normal((100, 100))
    f = lambda m: (((x @ m).tanh() - target) ** 2).mean() + 1e-3 * (m * m).sum()
    tracemalloc.start()
    try:
        value, hv = hvp(f, w, v)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert hv.shape == (100, 100) and w.grad is None
    assert peak < 8e6  # a 10^4 x 10^4 Hessian is 8e8 bytes; the whole product needs a few MB
    eps = 1e-6

    def gradient(m):
        leaf = Tensor(m, requires_grad=True)
        return grad(f(leaf), leaf)[0].data

    numeric = (gradient(w.data + eps * v) - gradient(w.data - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.data, numeric, rtol=1e-6, atol=1e-9)
    assert value.item() == pytest.approx(f(w).item())
