"""Differential fuzzing against PyTorch: random op DAGs over broadcasting shapes, the nn losses and the
pools, in float64, values and first- and second-order gradients, and gradients accumulated over two
backward calls.

`make test` runs a deterministic sample sized to take well under a minute; a longer, random run:
``CHAINRULE_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/autograd/test_fuzz_torch.py``.
Inputs stay away from kinks (relu at 0, ties of max, clip at its bounds) except in the test about them.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
torch_F = pytest.importorskip("torch.nn.functional")

import nn.functional as F  # noqa: E402
from autograd import Tensor, grad  # noqa: E402

EXAMPLES = int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", "0"))
LONG = EXAMPLES > 0


def fuzz(default: int):
    """Hypothesis settings: ``default`` examples, derandomized, or the environment's count, random."""
    return settings(max_examples=EXAMPLES or default, deadline=None, derandomize=not LONG, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


RTOL, ATOL = 1e-9, 1e-11
BASE = (2, 3, 4)


def close(ours, theirs, what: str) -> None:
    """ours (a chainrule Tensor, ndarray or None) equals theirs (a torch tensor or None) to float64 precision."""
    if theirs is None or ours is None:
        assert ours is None and theirs is None, f"{what}: chainrule {ours!r}, torch {theirs!r}"
        return
    ours = np.asarray(ours.numpy() if isinstance(ours, Tensor) else ours)
    theirs = theirs.detach()
    theirs = (theirs._to_dense() if theirs.is_sparse else theirs).numpy(force=True)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, torch {theirs.dtype}"
    scale = max(1.0, float(np.abs(theirs).max(initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL * scale, err_msg=what)


def leaf_pair(array: np.ndarray):
    """The same float64 leaf in chainrule and in torch."""
    return (Tensor(array.copy(), requires_grad=True),
            torch.tensor(array.copy(), dtype=torch.float64, requires_grad=True))


def away_from_zero(rng, shape, low=0.3, high=2.0) -> np.ndarray:
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# --- the ops a DAG is built from: (name, f(x) or f(x, y), f on torch) -----------------------------------------

def same(fn):
    """An op spelled the same on chainrule and torch tensors."""
    return fn, fn


UNARY = {
    "exp": same(lambda x: (x.tanh() * 2).exp()),  # bounded, so chains cannot overflow
    "log": same(lambda x: (x * x + 0.5).log()),
    "sqrt": same(lambda x: (x * x + 0.25).sqrt()),
    "rsqrt": same(lambda x: (x * x + 0.25).rsqrt()),
    "tanh": same(lambda x: x.tanh()),
    "sigmoid": same(lambda x: x.sigmoid()),
    "sin": same(lambda x: x.sin()),
    "cos": same(lambda x: x.cos()),
    "square": same(lambda x: x.square()),
    "cube": same(lambda x: x ** 3),
    "pow_frac": same(lambda x: (x * x + 0.5) ** 1.5),
    "rpow": same(lambda x: 2.0 ** x.tanh()),
    "neg": same(lambda x: -x),
    "recip": same(lambda x: 1.0 / (x * x + 0.5)),
    "relu": same(lambda x: x.relu()),
    "abs": same(lambda x: x.abs()),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: torch_F.leaky_relu(x, 0.1)),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: torch_F.elu(x, 0.7)),
    "clamp": same(lambda x: x.clamp(-0.8, 0.9)),
    "affine": same(lambda x: 3.0 - 0.5 * x),
}
BINARY = {
    "add": same(lambda x, y: x + y),
    "sub": same(lambda x, y: x - y),
    "mul": same(lambda x, y: x * y),
    "div": same(lambda x, y: x / (y * y + 0.5)),
    "pow": same(lambda x, y: (x * x + 0.5) ** y.tanh()),
    "maximum": same(lambda x, y: x.maximum(y)),
    "minimum": same(lambda x, y: x.minimum(y)),
}


def kinks(name: str, x: np.ndarray, y: np.ndarray | None = None) -> bool:
    """True when op ``name`` would be evaluated at (or within rounding of) a kink."""
    near = 1e-6
    if name in ("relu", "abs", "leaky_relu", "elu"):
        return bool((np.abs(x) < near).any())
    if name == "clamp":
        return bool((np.abs(x + 0.8) < near).any() or (np.abs(x - 0.9) < near).any())
    if name in ("maximum", "minimum"):
        return bool((np.abs(x - y) < near).any())
    return False


def suffix_shape(draw) -> tuple:
    """A shape that broadcasts with every other one drawn: a suffix of BASE with some sizes set to 1."""
    ndim = draw(st.integers(0, len(BASE)))
    return tuple(1 if draw(st.booleans()) and draw(st.booleans()) else n for n in BASE[len(BASE) - ndim:])


def broadcastable(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


class Dag:
    """Parallel chainrule and torch graphs grown one random op at a time."""

    def __init__(self, draw, rng):
        self.draw, self.rng = draw, rng
        self.leaves = [leaf_pair(away_from_zero(rng, suffix_shape(draw))) for _ in range(draw(st.integers(1, 3)))]
        self.nodes = list(self.leaves)
        self.ops = []

    def pick(self, condition=lambda node: True):
        candidates = [node for node in self.nodes if condition(node)]
        return self.draw(st.sampled_from(candidates)) if candidates else None

    def add(self, name, ours, theirs):
        self.ops.append(name)
        close(ours, theirs, f"value of {name} after {self.ops}")
        self.nodes.append((ours, theirs))

    def grow(self):
        kind = self.draw(st.sampled_from(["unary", "unary", "binary", "binary", "reduce", "matmul", "move"]))
        getattr(self, kind)()

    def unary(self):
        x, tx = self.pick()
        name = self.draw(st.sampled_from(sorted(UNARY)))
        assume(not kinks(name, tx.detach().numpy()))
        ours, theirs = UNARY[name]
        self.add(name, ours(x), theirs(tx))

    def binary(self):
        x, tx = self.pick()
        y, ty = self.pick(lambda node: broadcastable(node[1].shape, tx.shape))
        name = self.draw(st.sampled_from(sorted(BINARY)))
        assume(not kinks(name, *np.broadcast_arrays(tx.detach().numpy(), ty.detach().numpy())))
        ours, theirs = BINARY[name]
        self.add(name, ours(x, y), theirs(tx, ty))

    def reduce(self):
        x, tx = self.pick()
        name = self.draw(st.sampled_from(["sum", "mean", "amax", "max", "var", "std", "logsumexp", "softmax",
                                          "log_softmax"]))
        if tx.ndim == 0:
            if name in ("sum", "mean"):
                self.add(name, getattr(x, name)(), getattr(tx, name)())
            return
        dims = self.draw(st.lists(st.integers(-tx.ndim, tx.ndim - 1), min_size=1, max_size=tx.ndim,
                                  unique_by=lambda d: d % tx.ndim))
        keepdim = self.draw(st.booleans())
        data = tx.detach().numpy()
        if name in ("softmax", "log_softmax", "max"):
            dim = dims[0]
            if name == "max":
                top = np.sort(data, axis=dim)
                assume(data.shape[dim] == 1 or (np.diff(top, axis=dim)[..., -1:] if dim in (-1, data.ndim - 1)
                                                else np.take(np.diff(top, axis=dim), [-1], axis=dim)).min() > 1e-6)
                self.add(name, x.max(dim, keepdim=keepdim).values, tx.max(dim, keepdim=keepdim).values)
            else:
                self.add(name, getattr(x, name)(dim), getattr(tx, name)(dim))
            return
        dims = tuple(dims)
        if name in ("var", "std"):
            count = int(np.prod([data.shape[d] for d in dims]))
            assume(count > 1 and (name == "var" or data.std(axis=dims).min() > 1e-3))
        if name == "amax":
            moved = np.moveaxis(data, [d % data.ndim for d in dims], range(-len(dims), 0))
            flat = np.sort(moved.reshape(moved.shape[:moved.ndim - len(dims)] + (-1,)), axis=-1)
            assume(flat.shape[-1] == 1 or np.diff(flat[..., -2:], axis=-1).min() > 1e-6)
        if name == "logsumexp":
            dims = dims if len(dims) > 1 else dims[0]
        self.add(name, getattr(x, name)(dims, keepdim=keepdim), getattr(tx, name)(dims, keepdim=keepdim))

    def matmul(self):
        picked = self.pick(lambda node: node[1].ndim >= 1)
        if picked is None:
            return self.unary()
        x, tx = picked
        k = tx.shape[-1]
        if self.draw(st.booleans()) and tx.ndim >= 2:  # W @ x
            w, tw = leaf_pair(self.rng.normal(size=(self.draw(st.integers(1, 3)), tx.shape[-2])))
            self.leaves.append((w, tw))
            self.add("W@x", w @ x, tw @ tx)
            return
        shape = (k,) if self.draw(st.booleans()) else (k, self.draw(st.integers(1, 3)))
        w, tw = leaf_pair(self.rng.normal(size=shape))
        self.leaves.append((w, tw))
        self.add("x@W", x @ w, tx @ tw)

    def move(self):
        x, tx = self.pick()
        shape = tuple(tx.shape)
        choices = ["reshape", "unsqueeze", "expand"]
        if tx.ndim >= 1:
            choices += ["index_array", "slice", "mask", "flip_shape"]
        if tx.ndim >= 2:
            choices += ["transpose", "permute", "int"]
        name = self.draw(st.sampled_from(choices))
        if name == "reshape":
            self.add(name, x.reshape(-1), tx.reshape(-1))
        elif name == "flip_shape":
            self.add(name, x.reshape(shape[::-1]), tx.reshape(shape[::-1]))
        elif name == "unsqueeze":
            dim = self.draw(st.integers(-tx.ndim - 1, tx.ndim))
            self.add(name, x.unsqueeze(dim), tx.unsqueeze(dim))
        elif name == "expand":
            self.add(name, x.expand((2,) + shape), tx.expand((2,) + shape))
        elif name == "transpose":
            self.add(name, x.transpose(-1, -2), tx.transpose(-1, -2))
        elif name == "permute":
            order = tuple(self.draw(st.permutations(range(tx.ndim))))
            self.add(name, x.permute(*order), tx.permute(*order))
        elif name == "int":
            self.add(name, x[1 % shape[0]], tx[1 % shape[0]])
        elif name == "slice":
            self.add(name, x[..., ::2], tx[..., ::2])
        elif name == "index_array":  # repeated indices: their gradients add
            index = self.rng.integers(0, shape[0], size=self.draw(st.integers(1, 5)))
            self.add(name, x[index], tx[torch.from_numpy(index)])
        else:
            mask = self.rng.random(shape) < 0.6
            self.add(name, x[mask], tx[torch.from_numpy(mask)])


@st.composite
def dags(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dag = Dag(draw, rng)
    for _ in range(draw(st.integers(1, 6))):
        dag.grow()
    return dag


def second_order(dot, tdot, leaves, tleaves, what: str) -> None:
    """The gradients of the scalar ``dot`` (built from first-order gradients) with respect to the leaves.

    Where torch's ``dot`` has no graph (piecewise-linear ops: relu, clamp, max, ...) chainrule may
    keep one through the op's selection, and then every second-order gradient must be zero. None
    and zeros are the same answer here. The graph is retained for the accumulation check after.
    """
    seconds = grad(dot, leaves, retain_graph=True, allow_unused=True) if dot.requires_grad else [None] * len(leaves)
    tseconds = (torch.autograd.grad(tdot, tleaves, retain_graph=True, allow_unused=True) if tdot.requires_grad
                else [None] * len(tleaves))
    for i, (g, tg) in enumerate(zip(seconds, tseconds)):
        if g is None or tg is None:
            for other in (g, tg):
                data = None if other is None else (other.numpy() if isinstance(other, Tensor)
                                                   else other.detach().numpy(force=True))
                assert data is None or not data.any(), f"second-order gradient of leaf {i}, {what}: {data}"
            continue
        close(g, tg, f"second-order gradient of leaf {i}, {what}")


def gradient_seed(rng, shape):
    return rng.normal(size=shape)


@fuzz(600)
@given(dags(), st.integers(0, 2**32 - 1))
def test_random_dags_match_torch_to_second_order(dag, seed):
    rng = np.random.default_rng(seed)
    out, tout = dag.nodes[-1]
    leaves = [leaf for leaf, _ in dag.leaves]
    tleaves = [leaf for _, leaf in dag.leaves]
    what = f"ops {dag.ops}, leaf shapes {[tuple(t.shape) for t in tleaves]}"
    note(what)
    seed1 = gradient_seed(rng, tout.shape)

    # first order, keeping the graph: vector-Jacobian products with a random seed
    firsts = grad(out, leaves, grad_outputs=seed1, create_graph=True, allow_unused=True)
    tfirsts = torch.autograd.grad(tout, tleaves, grad_outputs=torch.from_numpy(seed1), create_graph=True,
                                  allow_unused=True)
    for i, (g, tg) in enumerate(zip(firsts, tfirsts)):
        close(g, tg, f"first-order gradient of leaf {i}, {what}")

    # second order: the gradient of <first-order gradients, v> with respect to every leaf
    pairs = [(g, tg, rng.normal(size=tuple(tg.shape))) for g, tg in zip(firsts, tfirsts) if tg is not None]
    if pairs:
        dot = sum((g * Tensor(v)).sum() for g, _, v in pairs)
        tdot = sum((tg * torch.from_numpy(v)).sum() for _, tg, v in pairs)
        second_order(dot, tdot, leaves, tleaves, what)

    # accumulation: two backward calls add into .grad, untouched by grad() above
    assert all(leaf.grad is None for leaf in leaves)
    seed2 = gradient_seed(rng, tout.shape)
    out.backward(seed1, retain_graph=True)
    out.backward(seed2)
    tout.backward(torch.from_numpy(seed1), retain_graph=True)
    tout.backward(torch.from_numpy(seed2))
    for i, (leaf, tleaf) in enumerate(zip(leaves, tleaves)):
        close(leaf.grad, tleaf.grad, f"accumulated .grad of leaf {i}, {what}")


# --- losses ---------------------------------------------------------------------------------------------------

def compare_loss(ours, theirs, leaves, tleaves, what, rng):
    """The loss, its first-order gradients and a second-order product, chainrule against torch."""
    close(ours, theirs, f"loss {what}")
    seed = rng.normal(size=tuple(theirs.shape))
    firsts = grad(ours, leaves, grad_outputs=seed, create_graph=True)
    tfirsts = torch.autograd.grad(theirs, tleaves, grad_outputs=torch.from_numpy(seed), create_graph=True)
    for i, (g, tg) in enumerate(zip(firsts, tfirsts)):
        close(g, tg, f"gradient {i} of {what}")
    vs = [rng.normal(size=tuple(tg.shape)) for tg in tfirsts]
    dot = sum((g * Tensor(v)).sum() for g, v in zip(firsts, vs))
    tdot = sum((tg * torch.from_numpy(v)).sum() for tg, v in zip(tfirsts, vs))
    second_order(dot, tdot, leaves, tleaves, what)


REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@fuzz(120)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(2, 5), st.sampled_from([(), (3,), (2, 3)]),
       REDUCTIONS, st.booleans(), st.booleans(), st.sampled_from([0.0, 0.1, 0.35]), st.booleans())
def test_cross_entropy_matches_torch(seed, n, classes, extra, reduction, weighted, ignore, smoothing, probs):
    rng = np.random.default_rng(seed)
    logits, tlogits = leaf_pair(rng.normal(scale=2.0, size=(n, classes) + extra))
    weight = rng.uniform(0.2, 2.0, size=classes) if weighted else None
    if probs:
        target = rng.dirichlet(np.ones(classes), size=(n,) + extra)
        target = np.moveaxis(target, -1, 1)
        ttarget = torch.from_numpy(target.copy())
    else:
        target = rng.integers(0, classes, size=(n,) + extra)
        if ignore:
            target[rng.random(target.shape) < 0.3] = 1
            target.flat[0] = 0  # one class that is not ignored, so a mean divides by a positive total
        ttarget = torch.from_numpy(target.copy())
    kwargs = dict(reduction=reduction, label_smoothing=smoothing)
    if ignore and not probs:
        kwargs["ignore_index"] = 1
    ours = F.cross_entropy(logits, target, None if weight is None else Tensor(weight), **kwargs)
    theirs = torch_F.cross_entropy(tlogits, ttarget, None if weight is None else torch.from_numpy(weight), **kwargs)
    compare_loss(ours, theirs, [logits], [tlogits], f"cross_entropy {kwargs}, weight {weighted}, probs {probs}", rng)


@fuzz(60)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(2, 5), REDUCTIONS, st.booleans(), st.booleans())
def test_nll_loss_matches_torch(seed, n, classes, reduction, weighted, ignore):
    rng = np.random.default_rng(seed)
    x, tx = leaf_pair(rng.normal(size=(n, classes)))
    log_probs, tlog_probs = x.log_softmax(1), tx.log_softmax(1)
    target = rng.integers(0, classes, size=n)
    kwargs = dict(reduction=reduction)
    if ignore:
        target[rng.random(n) < 0.4] = 0
        target[0] = classes - 1
        kwargs["ignore_index"] = 0
    weight = rng.uniform(0.2, 2.0, size=classes) if weighted else None
    ours = F.nll_loss(log_probs, target, None if weight is None else Tensor(weight), **kwargs)
    tweight = None if weight is None else torch.from_numpy(weight)
    theirs = torch_F.nll_loss(tlog_probs, torch.from_numpy(target), tweight, **kwargs)
    compare_loss(ours, theirs, [x], [tx], f"nll_loss {kwargs}, weight {weighted}", rng)


@fuzz(80)
@given(st.integers(0, 2**32 - 1), st.sampled_from([(4,), (3, 2), (2, 3, 2)]), REDUCTIONS,
       st.sampled_from(["mse", "bce", "bce_logits", "bce_logits_pos", "bce_weight"]))
def test_regression_and_binary_losses_match_torch(seed, shape, reduction, loss):
    rng = np.random.default_rng(seed)
    if loss == "mse":
        pred, tpred = leaf_pair(rng.normal(size=shape))
        target, ttarget = leaf_pair(rng.normal(size=shape))  # mse differentiates its target too
        ours, theirs = F.mse_loss(pred, target, reduction), torch_F.mse_loss(tpred, ttarget, reduction=reduction)
        compare_loss(ours, theirs, [pred, target], [tpred, ttarget], f"mse_loss {reduction}", rng)
        return
    target = rng.uniform(0, 1, size=shape)
    target[rng.random(shape) < 0.3] = 1.0
    if loss == "bce" or loss == "bce_weight":
        prob, tprob = leaf_pair(rng.uniform(0.05, 0.95, size=shape))
        weight = rng.uniform(0.2, 2.0, size=shape[-1:]) if loss == "bce_weight" else None
        ours = F.binary_cross_entropy(prob, target, reduction, weight=None if weight is None else Tensor(weight))
        theirs = torch_F.binary_cross_entropy(tprob, torch.from_numpy(target),
                                              None if weight is None else torch.from_numpy(weight), reduction=reduction)
        compare_loss(ours, theirs, [prob], [tprob], f"{loss} {reduction}", rng)
        return
    logits, tlogits = leaf_pair(away_from_zero(rng, shape, 0.05, 6.0))
    pos_weight = rng.uniform(0.2, 3.0, size=shape[-1:]) if loss == "bce_logits_pos" else None
    ours = F.binary_cross_entropy_with_logits(logits, target, reduction,
                                              pos_weight=None if pos_weight is None else Tensor(pos_weight))
    theirs = torch_F.binary_cross_entropy_with_logits(
        tlogits, torch.from_numpy(target), reduction=reduction,
        pos_weight=None if pos_weight is None else torch.from_numpy(pos_weight))
    compare_loss(ours, theirs, [logits], [tlogits], f"{loss} {reduction}", rng)


# --- pools ----------------------------------------------------------------------------------------------------

@fuzz(80)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["max", "avg"]), st.booleans(), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(4, 7), st.integers(4, 7))
def test_pools_match_torch(seed, kind, batched, kernel_h, kernel_w, stride, padding, height, width):
    padding = min(padding, kernel_h // 2, kernel_w // 2)
    rng = np.random.default_rng(seed)
    shape = ((2,) if batched else ()) + (2, height, width)
    x, tx = leaf_pair(rng.permutation(np.linspace(-2, 2, int(np.prod(shape)))).reshape(shape))  # no ties
    kernel, stride = (kernel_h, kernel_w), (stride if stride > 0 else None)
    ours = getattr(F, f"{kind}_pool2d")(x, kernel, stride, padding)
    theirs = getattr(torch_F, f"{kind}_pool2d")(tx, kernel, stride, padding)
    compare_loss(ours, theirs, [x], [tx], f"{kind}_pool2d kernel {kernel} stride {stride} padding {padding}", rng)


# --- conventions at kinks -------------------------------------------------------------------------------------

def central_difference(f, x: float, h: float = 1e-5) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def test_second_derivative_of_pow_where_the_exponent_is_exactly_zero_matches_finite_differences():
    """d/dy (d/dx x**y) = x**(y-1) (1 + y log x), which is 1/x at y = 0: chainrule gives it.

    torch gives 0 there (torch 2.x; pytorch/pytorch PR #8945): its derivative of x**y with respect to
    x is masked to 0 where y == 0, to keep 0 * inf out of x = 0, and that mask is not differentiable,
    so the mixed second derivative at y = 0 is lost. chainrule's agrees with float64 finite
    differences of the first derivative, so this difference from torch is kept on purpose.
    """
    x = Tensor(np.array(2.0), requires_grad=True)
    y = Tensor(np.array(0.0), requires_grad=True)
    (dx,) = grad(x ** y, x, create_graph=True)
    assert float(dx.item()) == 0.0
    (dxdy,) = grad(dx, y)

    def first_derivative(exponent: float) -> float:
        return exponent * 2.0 ** (exponent - 1)

    numeric = central_difference(first_derivative, 0.0)
    assert abs(dxdy.item() - numeric) < 1e-8
    assert abs(dxdy.item() - 0.5) < 1e-12

    tx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (tdx,) = torch.autograd.grad(tx ** ty, tx, create_graph=True)
    (tdxdy,) = torch.autograd.grad(tdx, ty, allow_unused=True)
    torch_value = 0.0 if tdxdy is None else tdxdy.item()
    assert torch_value == 0.0 or abs(torch_value - 0.5) < 1e-12  # 0.0 in torch 2.13; a fixed torch agrees


def test_elu_second_derivative_at_zero_is_a_convention():
    """elu(x) = x for x > 0 and alpha (e**x - 1) for x <= 0: at 0 the second derivative jumps from
    alpha (left) to 0 (right), so elu''(0) is a matter of convention.

    chainrule evaluates both derivatives on the x <= 0 side at 0, so elu'(0) = alpha and
    elu''(0) = alpha, the left-sided values, which float64 finite differences from the left confirm.
    torch agrees on elu'(0) = alpha but gives elu''(0) = 0, the right-sided value. Away from 0 the
    two libraries agree (the fuzz test above).
    """
    h = 1e-4
    for alpha in (1.0, 0.5):
        def elu(s: float, alpha: float = alpha) -> float:
            return s if s > 0 else alpha * np.expm1(s)

        x = Tensor(np.array(0.0), requires_grad=True)
        (d1,) = grad(F.elu(x, alpha), x, create_graph=True)
        (d2,) = grad(d1, x)
        left_first = (elu(0.0) - elu(-h)) / h
        left_second = (elu(0.0) - 2 * elu(-h) + elu(-2 * h)) / h**2
        assert d1.item() == alpha and abs(d1.item() - left_first) < 1e-3
        assert d2.item() == alpha and abs(d2.item() - left_second) < 1e-3

        tx = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        (td1,) = torch.autograd.grad(torch_F.elu(tx, alpha), tx, create_graph=True)
        (td2,) = torch.autograd.grad(td1, tx)
        assert td1.item() == alpha
        assert td2.item() in (0.0, alpha)  # 0 in torch 2.13: the right-sided value
