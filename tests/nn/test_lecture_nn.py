"""The torch.nn pieces karpathy's lectures use: one_hot, embedding, cross_entropy's options, layer_norm,
make_moons' scikit-learn names, and the makemore part 3 / part 5 layer classes, against torch."""

import math
import re

import importlib.util
import pathlib

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import Tensor, gradcheck, gradgradcheck

_spec = importlib.util.spec_from_file_location(
    "lectures_layers", pathlib.Path(__file__).parents[1] / "lectures" / "_layers.py")
_layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_layers)
lecture_layers = _layers.lecture_layers  # makemore part 3 / part 5's own layer classes

F32 = dict(rtol=2e-5, atol=2e-6)
REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def rng(seed):
    return np.random.default_rng(seed)


def close(ours, theirs, **tol):
    ours = ours.numpy() if isinstance(ours, Tensor) else ours
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours, theirs, **(tol or F32))


def pair(torch, array, grad=True):
    """The same float array as our leaf and torch's leaf."""
    array = np.array(array)
    return Tensor(array.copy(), requires_grad=grad), torch.tensor(array.copy(), requires_grad=grad)


def backward_both(torch, out, tout, seed=99):
    """Backpropagate one random upstream gradient through our output and torch's."""
    g = rng(seed).standard_normal(out.shape).astype(out.dtype)
    (out * Tensor(g)).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()


# --- one_hot ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, num_classes", [((7,), -1), ((7,), 12), ((3, 4), 5), ((), 4), ((0,), 3)], ids=str)
def test_one_hot_matches_torch(torch, shape, num_classes):
    idx = rng(1).integers(0, 5, size=shape)
    out = F.one_hot(autograd.tensor(idx), num_classes)
    expected = torch.nn.functional.one_hot(torch.from_numpy(np.array(idx)), num_classes)
    assert out.dtype == np.int64 and out.shape == tuple(expected.shape) and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert out.float().dtype == np.float32


def test_one_hot_worked_example_and_the_bigram_lecture_step(torch):
    np.testing.assert_array_equal(F.one_hot(autograd.tensor([0, 2]), num_classes=3).numpy(), [[1, 0, 0], [0, 0, 1]])
    xs = np.array([0, 5, 13, 13, 1])  # makemore part 1: xenc = F.one_hot(xs, num_classes=27).float(); xenc @ W
    W, TW = pair(torch, rng(2).standard_normal((27, 27)).astype(np.float32))
    logits = F.one_hot(autograd.tensor(xs), num_classes=27).float() @ W
    tlogits = torch.nn.functional.one_hot(torch.from_numpy(xs), num_classes=27).float() @ TW
    close(logits, tlogits)
    backward_both(torch, logits.exp(), tlogits.exp())
    close(W.grad, TW.grad)


def test_one_hot_errors():
    with pytest.raises(ValueError, match=re.escape("one_hot: class values must be non-negative, got -1")):
        F.one_hot(autograd.tensor([0, -1]))
    with pytest.raises(ValueError, match=re.escape("class values must be smaller than num_classes (3), got 3")):
        F.one_hot(autograd.tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="one_hot: expected integer indices .* got dtype float32; convert with .long"):
        F.one_hot(Tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="can not infer the total number of classes from an empty tensor"):
        F.one_hot(autograd.tensor(np.zeros(0, np.int64)))
    with pytest.raises(TypeError, match="num_classes must be an int, got float"):
        F.one_hot(autograd.tensor([1]), 2.0)
    with pytest.raises(ValueError, match=re.escape("num_classes must be -1 (infer it) or a count >= 0, got -2")):
        F.one_hot(autograd.tensor([1]), -2)


# --- embedding --------------------------------------------------------------------------------------------------

EMBEDDING_OPTIONS = [{}, {"padding_idx": 3}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                     {"padding_idx": 0, "scale_grad_by_freq": True}]


@pytest.mark.parametrize("batch", [32, 256])
@pytest.mark.parametrize("options", EMBEDDING_OPTIONS, ids=str)
def test_embedding_matches_torch_on_makemore_shapes(torch, batch, options):
    X = rng(3).integers(0, 27, size=(batch, 3))
    C, TC = pair(torch, rng(4).standard_normal((27, 10)).astype(np.float32))
    emb = F.embedding(autograd.tensor(X), C, **options)
    temb = torch.nn.functional.embedding(torch.from_numpy(X), TC, **options)
    assert emb.shape == (batch, 3, 10) and emb.dtype == np.float32
    close(emb, temb)
    backward_both(torch, emb, temb)
    assert C.grad.dtype == np.float32
    close(C.grad, TC.grad)


def test_embedding_gradient_adds_repeated_rows_and_equals_indexing():
    C = Tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    F.embedding(np.array([[0, 0, 1], [3, 0, 1]]), C).sum().backward()
    np.testing.assert_array_equal(C.grad.numpy(), [[3, 3], [2, 2], [0, 0], [1, 1]])
    X = rng(5).integers(0, 27, size=(64, 3))
    a, b = (Tensor(rng(6).standard_normal((27, 10)), requires_grad=True) for _ in range(2))
    b.data = a.data.numpy().copy()
    g = rng(7).standard_normal((64, 3, 10))
    (F.embedding(X, a) * g).sum().backward()
    (b[X] * g).sum().backward()  # makemore's C[X]
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_embedding_max_norm_renormalises_the_looked_up_rows_as_torch(torch):
    C, TC = pair(torch, 3 * rng(8).standard_normal((6, 4)).astype(np.float32))
    X = np.array([[0, 2], [2, 5]])
    emb = F.embedding(X, C, max_norm=1.5)
    temb = torch.nn.functional.embedding(torch.from_numpy(X), TC, max_norm=1.5)
    close(emb, temb)
    close(C.data.numpy(), TC.detach())  # the rows were rescaled in place, the others left alone
    backward_both(torch, emb, temb)
    close(C.grad, TC.grad)


@pytest.mark.parametrize("options", EMBEDDING_OPTIONS, ids=str)
def test_embedding_gradcheck_and_gradgradcheck(options):
    X = rng(9).integers(0, 5, size=(4, 3))
    C = Tensor(rng(10).standard_normal((5, 3)), requires_grad=True)
    if not options:  # padding_idx and scale_grad_by_freq change the gradient on purpose (as torch)
        assert gradcheck(lambda w: F.embedding(X, w), C)
    if "scale_grad_by_freq" not in options:  # its scaling applies again in the second backward, as torch's
        assert gradgradcheck(lambda w: (F.embedding(X, w, **options) ** 2).sum(), C)


@pytest.mark.parametrize("options", EMBEDDING_OPTIONS, ids=str)
def test_embedding_second_derivative_matches_torch(torch, options):
    X = rng(9).integers(0, 5, size=(4, 3))
    C, TC = pair(torch, rng(10).standard_normal((5, 3)))
    v = rng(11).standard_normal((5, 3))
    (g,) = autograd.grad((F.embedding(X, C, **options) ** 3).sum(), [C], create_graph=True)
    (tg,) = torch.autograd.grad((torch.nn.functional.embedding(torch.from_numpy(X), TC, **options) ** 3).sum(), [TC],
                                create_graph=True)
    close(g, tg, rtol=1e-10)
    (g * Tensor(v)).sum().backward()
    (tg * torch.from_numpy(v)).sum().backward()
    close(C.grad, TC.grad, rtol=1e-10)


def test_embedding_module_init_state_dict_and_torch_parity(torch):
    layer = nn.Embedding(27, 10, seed=0)
    assert list(layer.state_dict()) == ["weight"] and layer.weight.requires_grad and layer.weight.dtype == np.float32
    big = nn.Embedding(1000, 100, seed=1).weight.numpy()
    assert abs(big.mean()) < 0.01 and abs(big.std() - 1) < 0.01  # N(0, 1), as torch
    padded = nn.Embedding(5, 3, padding_idx=-2, seed=2)
    assert padded.padding_idx == 3 and not padded.weight.numpy()[3].any()
    assert repr(padded).startswith("Embedding(5, 3, padding_idx=3)")
    reference = torch.nn.Embedding(27, 10)
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    X = rng(11).integers(0, 27, size=(8, 3))
    out, tout = layer(autograd.tensor(X)), reference(torch.from_numpy(X))
    close(out, tout)
    backward_both(torch, out, tout)
    close(layer.weight.grad, reference.weight.grad)
    frozen = nn.Embedding.from_pretrained(np.eye(3, dtype=np.float32))
    assert not frozen.weight.requires_grad and frozen.parameters() == []
    np.testing.assert_array_equal(frozen(np.array([2])).numpy(), [[0, 0, 1]])


def test_embedding_errors():
    C = Tensor(np.zeros((5, 3), np.float32), requires_grad=True)
    with pytest.raises(IndexError, match=re.escape("embedding: index 5 out of range for 5 embeddings")):
        F.embedding(np.array([0, 5]), C)
    with pytest.raises(IndexError, match=re.escape("embedding: index -1 out of range for 5 embeddings")):
        F.embedding(np.array([-1]), C)
    with pytest.raises(TypeError, match="embedding: expected integer indices .* got dtype float32"):
        F.embedding(Tensor([1.0]), C)
    with pytest.raises(ValueError, match=re.escape("weight must be 2-D (num_embeddings, embedding_dim), got shape")):
        F.embedding(np.array([1]), Tensor(np.zeros(5)))
    with pytest.raises(ValueError, match=re.escape("embedding: padding_idx must be within num_embeddings (5), got 5")):
        F.embedding(np.array([1]), C, padding_idx=5)
    with pytest.raises(ValueError, match=re.escape("Embedding: padding_idx must be within num_embeddings (5), got -6")):
        nn.Embedding(5, 3, padding_idx=-6)
    with pytest.raises(ValueError, match="Embedding: embedding_dim must be a positive int, got 0"):
        nn.Embedding(5, 0)


# --- cross_entropy and nll_loss -----------------------------------------------------------------------------------

CE_SHAPES = [(6, 5), (4, 5, 3), (5,)]
IGNORE = {"none": None, "default": -100, "in_range": 2}


def _class_target(shape, ignore, seed=12):
    """Class indices for logits of ``shape`` (one per position), some equal to the ignore_index."""
    classes = shape[1] if len(shape) > 1 else shape[0]
    target = rng(seed).integers(0, classes, size=shape[:1] + shape[2:] if len(shape) > 1 else ())
    if ignore is not None:
        flat = target.reshape(-1)
        flat[::2] = ignore
    return target


def _weight(classes, seed=13):
    return rng(seed).uniform(0.2, 2.0, classes).astype(np.float32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("ignore", list(IGNORE))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
def test_cross_entropy_class_indices_match_torch(torch, shape, weighted, ignore, smoothing, reduction):
    logits = 2 * rng(14).standard_normal(shape).astype(np.float32)
    classes = shape[1] if len(shape) > 1 else shape[0]
    target = _class_target(shape, IGNORE[ignore])
    options = dict(reduction=reduction, label_smoothing=smoothing)
    if IGNORE[ignore] is not None:
        options["ignore_index"] = IGNORE[ignore]
    weight = _weight(classes) if weighted else None
    X, TX = pair(torch, logits)
    out = F.cross_entropy(X, autograd.tensor(target), weight=weight, **options)
    tout = torch.nn.functional.cross_entropy(TX, torch.from_numpy(np.array(target)),
                                             weight=None if weight is None else torch.from_numpy(weight), **options)
    assert out.dtype == np.float32 and out.shape == tuple(tout.shape)
    close(out, tout)
    backward_both(torch, out, tout)
    close(X.grad, TX.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
def test_cross_entropy_probability_targets_match_torch(torch, shape, weighted, smoothing, reduction):
    axis = 1 if len(shape) > 1 else 0
    probs = rng(15).random(shape).astype(np.float32)
    probs /= probs.sum(axis=axis, keepdims=True)
    weight = _weight(shape[axis]) if weighted else None
    X, TX = pair(torch, 2 * rng(16).standard_normal(shape).astype(np.float32))
    out = F.cross_entropy(X, probs, weight, reduction=reduction, label_smoothing=smoothing)
    tout = torch.nn.functional.cross_entropy(TX, torch.from_numpy(probs), None if weight is None else
                                             torch.from_numpy(weight), reduction=reduction, label_smoothing=smoothing)
    close(out, tout)
    backward_both(torch, out, tout)
    close(X.grad, TX.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore", list(IGNORE))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
def test_nll_loss_weight_and_ignore_index_match_torch(torch, shape, weighted, ignore, reduction):
    axis = 1 if len(shape) > 1 else 0
    scores = rng(17).standard_normal(shape)
    log_probs = scores - np.log(np.exp(scores).sum(axis=axis, keepdims=True))
    target = _class_target(shape, IGNORE[ignore], seed=18)
    options = {"reduction": reduction} if IGNORE[ignore] is None else {"reduction": reduction,
                                                                       "ignore_index": IGNORE[ignore]}
    weight = _weight(shape[axis]).astype(np.float64) if weighted else None
    X, TX = pair(torch, log_probs)
    out = F.nll_loss(X, target, weight, **options)
    tout = torch.nn.functional.nll_loss(TX, torch.from_numpy(np.array(target)),
                                        None if weight is None else torch.from_numpy(weight), **options)
    close(out, tout, rtol=1e-10, atol=1e-12)
    backward_both(torch, out, tout)
    close(X.grad, TX.grad, rtol=1e-10, atol=1e-12)


def test_cross_entropy_worked_examples():
    logits = Tensor([[0.0, 0.0], [0.0, math.log(3)]])  # p = (1/2, 1/2) and (1/4, 3/4)
    target = np.array([0, 1])
    weight = np.float32([1, 3])
    assert F.cross_entropy(logits, target).item() == pytest.approx((math.log(2) + math.log(4 / 3)) / 2)
    assert F.cross_entropy(logits, target, weight).item() == pytest.approx((math.log(2) + 3 * math.log(4 / 3)) / 4)
    assert F.cross_entropy(logits, np.array([0, -100])).item() == pytest.approx(math.log(2))  # / 1 kept target
    assert F.cross_entropy(logits, np.array([0, 1]), ignore_index=1, reduction="sum").item() == \
        pytest.approx(math.log(2))
    # smoothing e = 0.5 of row 1: (1 - e) * -log(3/4) + e / 2 * (-log(1/4) - log(3/4))
    row1 = 0.5 * math.log(4 / 3) + 0.25 * (math.log(4) + math.log(4 / 3))
    out = F.cross_entropy(logits, target, reduction="none", label_smoothing=0.5)
    np.testing.assert_allclose(out.numpy(), [math.log(2), row1], rtol=1e-6)


def test_cross_entropy_all_ignored_or_zero_weight_is_nan_as_torch(torch):
    for options in ({}, {"label_smoothing": 0.2}):
        X, TX = pair(torch, rng(19).standard_normal((4, 3)).astype(np.float32))
        loss = F.cross_entropy(X, np.full(4, -100), **options)
        tloss = torch.nn.functional.cross_entropy(TX, torch.full((4,), -100), **options)
        assert np.isnan(loss.item()) and np.isnan(tloss.item())
        loss.backward()
        tloss.backward()
        np.testing.assert_array_equal(X.grad.numpy(), 0)
        close(X.grad, TX.grad)
        assert F.cross_entropy(X, np.full(4, -100), reduction="sum", **options).item() == 0.0
    X = Tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.nll_loss(X, np.array([0, 1]), np.zeros(3))
    assert np.isnan(loss.item())


def test_plain_cross_entropy_keeps_its_single_fused_op():
    logits = Tensor(rng(20).standard_normal((32, 27)).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(logits, rng(21).integers(0, 27, 32))
    assert loss.op == "cross_entropy" and loss.parents == (logits,)
    assert F.nll_loss(logits, rng(21).integers(0, 27, 32)).parents == (logits,)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_options_gradcheck_and_gradgradcheck(reduction):
    target = np.array([2, -100, 1, 0])
    weight = np.array([0.5, 2.0, 1.5])
    probs = rng(22).dirichlet(np.ones(3), size=4)
    X = Tensor(rng(23).standard_normal((4, 3)), requires_grad=True)
    options = dict(weight=weight, reduction=reduction, label_smoothing=0.2)
    assert gradcheck(lambda x: F.cross_entropy(x, target, **options), X)
    assert gradgradcheck(lambda x: F.cross_entropy(x, target, **options), X)
    assert gradcheck(lambda x: F.cross_entropy(x, probs, **options), X)
    assert gradcheck(lambda x: F.nll_loss(x, target, weight, reduction=reduction), X)
    assert gradgradcheck(lambda x: F.nll_loss(x ** 3, np.array([2, 2, 1, 0]), weight, ignore_index=1,
                                              reduction=reduction), X)
    Y = Tensor(rng(24).standard_normal((2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda x: F.cross_entropy(x, np.array([[0, 2, -100, 1], [1, 1, 0, 2]]), **options), Y)


def test_probability_target_weight_gets_torchs_gradient(torch):
    probs = rng(25).dirichlet(np.ones(3), size=4)
    X, TX = pair(torch, rng(26).standard_normal((4, 3)))
    W, TW = pair(torch, [0.5, 2.0, 1.5])
    F.cross_entropy(X, probs, W, label_smoothing=0.1).backward()
    torch.nn.functional.cross_entropy(TX, torch.from_numpy(probs), TW, label_smoothing=0.1).backward()
    close(W.grad, TW.grad, rtol=1e-10)


def test_cross_entropy_option_errors():
    logits = Tensor(np.zeros((4, 3), np.float32))
    target = np.array([0, 1, 2, 1])
    with pytest.raises(ValueError, match=re.escape("weight should be defined either for all 3 classes or no classes, "
                                                   "got weight of shape (4,)")):
        F.cross_entropy(logits, target, np.ones(4))
    with pytest.raises(TypeError, match=re.escape("got the string 'sum'; pass reduction='sum' by keyword")):
        F.cross_entropy(logits, target, "sum")
    with pytest.raises(TypeError, match=re.escape("nll_loss: weight must hold one weight per class, got the string")):
        F.nll_loss(logits, target, "none")
    for bad in (1.5, -0.1):
        with pytest.raises(ValueError, match=re.escape(f"label_smoothing must be between 0.0 and 1.0, got {bad}")):
            F.cross_entropy(logits, target, label_smoothing=bad)
    with pytest.raises(ValueError, match="ignore_index is not supported for class-probability"):
        F.cross_entropy(logits, np.full((4, 3), 1 / 3), ignore_index=0)
    F.cross_entropy(logits, np.full((4, 3), 1 / 3), ignore_index=-5)  # negative: nothing to ignore, as torch
    with pytest.raises(ValueError, match="weight cannot require grad for class-index targets"):
        F.cross_entropy(logits, target, Tensor(np.ones(3), requires_grad=True))
    with pytest.raises(ValueError, match=re.escape("class index 7 out of range for 3 classes")):
        F.cross_entropy(logits, np.array([0, -100, 7, 1]))
    with pytest.raises(ValueError, match=re.escape("class index -100 out of range for 3 classes")):
        F.cross_entropy(logits, np.array([0, -100, 2, 1]), ignore_index=1)
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        F.cross_entropy(logits, target, ignore_index=1.0)


# --- layer_norm ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("affine", ["none", "weight", "both"])
@pytest.mark.parametrize("shape, normalized", [((8, 10), 10), ((2, 3, 4, 5), (4, 5)), ((6,), (6,))], ids=str)
def test_layer_norm_matches_torch(torch, shape, normalized, affine):
    norm_shape = (normalized,) if isinstance(normalized, int) else normalized
    X, TX = pair(torch, 3 * rng(27).standard_normal(shape).astype(np.float32) + 1)
    W, TW = pair(torch, rng(28).standard_normal(norm_shape).astype(np.float32))
    B, TB = pair(torch, rng(29).standard_normal(norm_shape).astype(np.float32))
    args = {"none": (), "weight": (W,), "both": (W, B)}[affine]
    targs = {"none": (), "weight": (TW,), "both": (TW, TB)}[affine]
    out = F.layer_norm(X, normalized, *args)
    tout = torch.nn.functional.layer_norm(TX, norm_shape, *targs)
    assert out.dtype == np.float32
    close(out, tout, rtol=1e-5, atol=1e-5)
    backward_both(torch, out, tout)
    close(X.grad, TX.grad, rtol=1e-4, atol=1e-5)
    for ours, theirs in zip(args, targs):
        close(ours.grad, theirs.grad, rtol=1e-4, atol=1e-5)


def test_layer_norm_worked_example_gradcheck_and_gradgradcheck():
    out = F.layer_norm(Tensor([[1.0, 2.0, 3.0]]), 3, eps=0.0)
    np.testing.assert_allclose(out.numpy(), [[-math.sqrt(1.5), 0.0, math.sqrt(1.5)]], rtol=1e-6)  # var = 2/3
    X = Tensor(rng(30).standard_normal((3, 2, 4)), requires_grad=True)
    W = Tensor(rng(31).standard_normal((2, 4)), requires_grad=True)
    B = Tensor(rng(32).standard_normal((2, 4)), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), X, W, B)
    assert gradcheck(lambda x: F.layer_norm(x, 4), X)
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b).tanh(), X, W, B)


def test_layer_norm_module_matches_torch_and_loads_its_state(torch):
    ours = nn.LayerNorm(6)
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]
    assert repr(ours).startswith("LayerNorm((6,), eps=1e-05, elementwise_affine=True, bias=True)")
    reference = torch.nn.LayerNorm(6)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(rng(33).standard_normal(6).astype(np.float32)))
    ours.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    x = rng(34).standard_normal((5, 6)).astype(np.float32)
    out, tout = ours(x), reference(torch.from_numpy(x))
    close(out, tout, rtol=1e-5, atol=1e-5)
    backward_both(torch, out, tout)
    close(ours.weight.grad, reference.weight.grad, rtol=1e-4, atol=1e-5)
    close(ours.bias.grad, reference.bias.grad, rtol=1e-4, atol=1e-5)
    assert [n for n, _ in nn.LayerNorm((2, 3), bias=False).named_parameters()] == ["weight"]
    assert nn.LayerNorm(4, elementwise_affine=False).parameters() == []


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=re.escape("layer_norm: given normalized_shape=(4,), expected input with shape "
                                                   "(*, 4), but got input of shape (2, 3)")):
        F.layer_norm(Tensor(np.zeros((2, 3))), (4,))
    with pytest.raises(ValueError, match=re.escape("expected weight of the same shape as normalized_shape (3,), "
                                                   "got weight of shape (4,)")):
        F.layer_norm(Tensor(np.zeros((2, 3))), 3, Tensor(np.ones(4)))
    with pytest.raises(ValueError, match="normalized_shape must be an int or a non-empty tuple of ints, got"):
        F.layer_norm(Tensor(np.zeros((2, 3))), ())
    with pytest.raises(TypeError, match="layer_norm: expected a floating-point input, got dtype int64"):
        F.layer_norm(autograd.tensor([[1, 2]]), 2)


# --- make_moons: scikit-learn's names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [nn.data.make_moons, nn.data.make_circles])
def test_datasets_accept_scikit_learns_names(make):
    X, y = make(n_samples=60, noise=0.1, random_state=4)
    Xo, yo = make(60, noise=0.1, seed=4)
    np.testing.assert_array_equal(X, Xo)
    np.testing.assert_array_equal(y, yo)
    X, y = make(n_samples=(3, 5), noise=None, random_state=0)
    assert X.shape == (8, 2) and np.bincount(y).tolist() == [3, 5]
    assert make()[0].shape == (100, 2)
    name = make.__name__
    with pytest.raises(TypeError, match=f"{name}: got both seed and its alias random_state"):
        make(50, seed=1, random_state=1)
    with pytest.raises(TypeError, match=f"{name}: got both n and its alias n_samples"):
        make(50, n_samples=50)
    with pytest.raises(ValueError, match=re.escape(f"{name}: n_samples as a pair must be two counts")):
        make(n_samples=(3, -1))


# --- layers the lectures use ------------------------------------------------------------------------------------------

def test_linear_without_bias_matches_torch(torch):
    ours = nn.Linear(6, 4, bias=False, seed=0)
    assert list(ours.state_dict()) == ["weight"] and ours.bias is None
    reference = torch.nn.Linear(6, 4, bias=False)
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x, tx = pair(torch, rng(35).standard_normal((5, 6)).astype(np.float32))
    out, tout = ours(x), reference(tx)
    close(out, tout)
    backward_both(torch, out, tout)
    close(ours.weight.grad, reference.weight.grad)
    close(x.grad, tx.grad)


@pytest.mark.parametrize("shape", [(16, 4), (8, 4, 5)], ids=str)
def test_batchnorm1d_on_n_c_and_n_c_l_matches_torch(torch, shape):
    ours, reference = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    for step in range(2):
        x, tx = pair(torch, 2 * rng(36 + step).standard_normal(shape).astype(np.float32) + 1)
        out, tout = ours(x), reference(tx)
        close(out, tout, rtol=1e-5, atol=1e-5)
        backward_both(torch, out, tout, seed=step)
        close(x.grad, tx.grad, rtol=1e-4, atol=1e-5)
    close(ours.weight.grad, reference.weight.grad, rtol=1e-4, atol=1e-5)
    close(ours.running_mean, reference.running_mean)
    close(ours.running_var, reference.running_var)
    ours.eval()
    reference.eval()
    x = rng(40).standard_normal(shape).astype(np.float32)
    close(ours(x), reference(torch.from_numpy(x)), rtol=1e-5, atol=1e-5)


def _weights(seed, *shapes):
    r = rng(seed)
    return [(r.standard_normal(s) / (s[0] ** 0.5 if i else 1)).astype(np.float32) for i, s in enumerate(shapes)]


def run_part3(torch, functional, X, Y, steps=3):
    """makemore part 3's MLP with its own Linear / BatchNorm1d / Tanh, trained a few steps as in the lecture."""
    Linear, BatchNorm1d, Tanh, *_ = lecture_layers(torch)
    C, w1, w2 = _weights(41, (27, 6), (18, 16), (16, 27))
    C = torch.tensor(C)
    layers = [Linear(w1, bias=False), BatchNorm1d(16), Tanh(), Linear(w2, bias=False), BatchNorm1d(27)]
    with torch.no_grad():
        layers[-1].gamma *= 0.1
    parameters = [C] + [p for layer in layers for p in layer.parameters()]
    for p in parameters:
        p.requires_grad = True
    losses, ud = [], []
    for i in range(steps):
        Xb, Yb = torch.tensor(X[i]), torch.tensor(Y[i])
        emb = C[Xb]
        x = emb.view(emb.shape[0], -1)
        for layer in layers:
            x = layer(x)
        loss = functional.cross_entropy(x, Yb)
        for layer in layers:
            layer.out.retain_grad()
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -0.1 * p.grad
        with torch.no_grad():
            ud.append([((0.1 * p.grad).std() / p.data.std()).log10().item() for p in parameters])
        losses.append(loss.item())
    return losses, ud, [layer.out.grad for layer in layers], parameters


def test_makemore_part3_layers_train_as_with_torch(torch):
    X = rng(42).integers(0, 27, size=(3, 32, 3))
    Y = rng(43).integers(0, 27, size=(3, 32))
    ours = run_part3(autograd, F, X, Y)
    theirs = run_part3(torch, torch.nn.functional, X, Y)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-4)  # log10 update ratios; gamma's are ~0
    for a, b in zip(ours[2] + ours[3], theirs[2] + theirs[3]):
        close(a, b, rtol=1e-4, atol=1e-6)


def run_part5(torch, functional, X, Y, embedding=None, steps=2):
    """makemore part 5's hierarchical (WaveNet-like) model from its own classes, trained then evaluated."""
    Linear, BatchNorm1d, Tanh, Embedding, FlattenConsecutive, Sequential = lecture_layers(torch)
    C, w1, w2, w3 = _weights(44, (27, 5), (10, 12), (24, 12), (12, 27))
    model = Sequential([
        embedding(C) if embedding else Embedding(C),
        FlattenConsecutive(2), Linear(w1, bias=False), BatchNorm1d(12), Tanh(),
        FlattenConsecutive(2), Linear(w2, bias=False), BatchNorm1d(12), Tanh(),
        Linear(w3),
    ])
    with torch.no_grad():
        model.layers[-1].weight *= 0.1
    parameters = model.parameters()
    for p in parameters:
        p.requires_grad = True
    losses = []
    for i in range(steps):
        logits = model(torch.tensor(X[i]))
        loss = functional.cross_entropy(logits, torch.tensor(Y[i]))
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -0.1 * p.grad
        losses.append(loss.item())
    for layer in model.layers:
        layer.training = False
    losses.append(functional.cross_entropy(model(torch.tensor(X[-1])), torch.tensor(Y[-1])).item())
    return losses, parameters


def _nn_embedding(C):
    layer = nn.Embedding(*C.shape)
    layer.load_state_dict({"weight": C})
    return layer


@pytest.mark.parametrize("embedding", [None, _nn_embedding], ids=["lecture_Embedding", "nn.Embedding"])
def test_makemore_part5_model_trains_as_with_torch(torch, embedding):
    X = rng(45).integers(0, 27, size=(3, 16, 4))
    Y = rng(46).integers(0, 27, size=(3, 16))
    ours = run_part5(autograd, F, X, Y, embedding)
    theirs = run_part5(torch, torch.nn.functional, X, Y)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    for a, b in zip(ours[1], theirs[1]):
        close(a, b, rtol=1e-4, atol=1e-6)
