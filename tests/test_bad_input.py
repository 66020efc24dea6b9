"""The bad-input table: wrong calls across autograd, nn, data, optim, save/load, the pictures and the CLI.

Each row is a call, the error it must raise, a phrase its message must contain (case-insensitive),
and the rule that nothing changed: every row runs in a fresh world (tensors with gradients, a trained
model with two optimizers and a scheduler, batch-norm running statistics, a data loader, a
checkpoint and other files on disk), and a snapshot of all of it taken before the call must equal
the one taken after the error.
"""

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import Function, Tensor, Value, grad, no_grad
from autograd.cli import main as cli_main
from autograd.functional import jacobian


class World:
    """Everything a wrong call could damage, built afresh for each row."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        (self.x * self.x).sum().backward()
        self.y = Tensor(np.ones((3, 4), np.float32))
        self.n = autograd.tensor([0, 1, 2])
        self.v, self.u = Value(2.0, label="v"), Value(-3.0, label="u")
        (self.v * self.u).backward()
        rng = np.random.default_rng(0)
        self.model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU(), nn.Linear(4, 2, rng=rng))
        self.X = rng.normal(size=(8, 3)).astype(np.float32)
        self.labels = np.array([0, 1] * 4)
        self.sgd = nn.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)
        self.adam = nn.optim.Adam(self.model.parameters(), lr=0.01)
        for opt in (self.sgd, self.adam):
            opt.zero_grad()
            F.cross_entropy(self.model(self.X), self.labels).backward()
            opt.step()
        F.cross_entropy(self.model(self.X), self.labels).backward()  # leave gradients in .grad
        self.scheduler = nn.optim.StepLR(self.sgd, step_size=2)
        self.scheduler.step()
        self.bn = nn.BatchNorm1d(3)
        self.bn(Tensor(self.X))
        self.loader = nn.data.DataLoader(self.X, self.labels, batch_size=4, seed=0)
        self.checkpoint = folder / "model.npz"
        nn.save(self.model, self.checkpoint)
        (folder / "notes.txt").write_text("my notes\n")
        (folder / "sub").mkdir()
        self.extra = {}  # objects a row's setup makes, snapshotted with the rest

    def snapshot(self) -> dict:
        shot = {}
        for name in ("x", "y", "n"):
            t = getattr(self, name)
            shot[name] = (t.numpy().copy(), None if t.grad is None else t.grad.numpy().copy(), t.requires_grad)
        shot["values"] = [(v.data, v.grad) for v in (self.v, self.u)]
        for name in ("model", "bn"):
            module = getattr(self, name)
            shot[name] = (module.state_dict(), module.training,
                          {k: None if p.grad is None else p.grad.numpy().copy() for k, p in module.named_parameters()})
        for name in ("sgd", "adam", "scheduler"):
            shot[name] = copy.deepcopy(getattr(self, name).state_dict())
        shot["loader"] = copy.deepcopy({k: v for k, v in vars(self.loader).items()})
        shot["files"] = {str(p.relative_to(self.folder)): (p.read_bytes() if p.is_file() else "dir", p.stat().st_mode)
                         for p in sorted(self.folder.rglob("*"))}
        for key, obj in self.extra.items():
            if isinstance(obj, Tensor):
                shot[key] = (obj.numpy().copy(), None if obj.grad is None else obj.grad.numpy().copy())
            elif isinstance(obj, Value):
                shot[key] = (obj.data, obj.grad)
            else:
                shot[key] = copy.deepcopy(obj)
        return shot


def same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, np.random.Generator):
        return same(a.bit_generator.state, b.bit_generator.state)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b


@dataclass
class Row:
    id: str
    call: Callable  # call(world): the wrong call
    error: type
    phrase: str  # the message must contain it, ignoring case
    setup: Callable | None = None  # setup(world) before the snapshot
    xfail: str | None = None  # a known bug in a file outside this table's reach: where, and what


ROWS: list[Row] = []


def row(id: str, call: Callable, error: type, phrase: str, setup=None, xfail=None) -> None:
    ROWS.append(Row(id, call, error, phrase, setup, xfail))


def keep(w: World, **objects) -> None:
    """A setup's objects join the snapshot."""
    w.extra.update(objects)


# --- autograd: Value ----------------------------------------------------------------------------------------

row("value-of-a-string", lambda w: Value("abc"), TypeError, "Value expects a real number, got str")
row("value-of-none", lambda w: Value(None), TypeError, "got NoneType")
row("value-of-an-array", lambda w: Value(np.array([1.0, 2.0])), TypeError, "got ndarray")
row("value-of-a-complex", lambda w: Value(1 + 2j), TypeError, "Value expects a real number, got complex")
row("value-log-of-negative", lambda w: w.u.log(), ValueError, "log: -3.0 is outside its domain")
row("value-sqrt-of-negative", lambda w: w.u.sqrt(), ValueError, "sqrt: -3.0 is outside its domain")
row("value-zero-to-negative-power", lambda w: Value(0.0) ** -1, ZeroDivisionError, "pow: 0.0 ** -1 is undefined")
row("value-divide-by-zero", lambda w: w.v / 0, ZeroDivisionError, "div: division by zero")
row("value-plus-string", lambda w: w.v + "a", TypeError, "got str")
row("value-pow-string", lambda w: w.v ** "a", TypeError, "exponent must be a number or a Value")
row("value-max-of-string", lambda w: Value.max(w.v, "a"), TypeError, "got str")
row("value-leaky-relu-string-alpha", lambda w: w.v.leaky_relu("x"),
    TypeError, "alpha")


def _value_twice(w):
    keep(w, root=w.v * w.u)
    w.extra["root"].backward()


row("value-second-backward-without-retain", lambda w: w.extra["root"].backward(),
    RuntimeError, "retain_graph=True", setup=_value_twice)
row("value-unknown-method", lambda w: w.v.softmax(), AttributeError, "softmax")

# --- autograd: Tensor construction and dtypes ---------------------------------------------------------------

row("tensor-of-a-string", lambda w: Tensor("abc"), TypeError, "numeric")
row("tensor-ragged-list", lambda w: Tensor([[1.0, 2.0], [3.0]]), TypeError, "Tensor data must be numeric")
row("tensor-of-objects", lambda w: Tensor(np.array([object()])), TypeError, "numeric")
row("tensor-int-requires-grad", lambda w: autograd.tensor([1, 2, 3], requires_grad=True),
    RuntimeError, "floating point")
row("tensor-complex-dtype", lambda w: Tensor([1.0], dtype="complex64"), TypeError, "numeric")
row("tensor-unknown-dtype", lambda w: Tensor([1.0], dtype="float5"), TypeError, "data type 'float5' not understood")
row("int-tensor-requires-grad-underscore", lambda w: w.n.requires_grad_(),
    TypeError, "only floating-point tensors can require gradients, got dtype")
row("zeros-negative-size", lambda w: autograd.zeros(-1, 2), RuntimeError, "negative dimension")
row("arange-zero-step", lambda w: autograd.arange(0, 5, 0), RuntimeError, "step must be nonzero")
row("randint-empty-range", lambda w: autograd.randint(5, 5, (3,)), RuntimeError, "less than")
row("multinomial-negative-weights", lambda w: autograd.multinomial(Tensor([0.5, -0.5]), 1),
    RuntimeError, "element < 0")

# --- autograd: shapes ---------------------------------------------------------------------------------------

row("matmul-not-aligned", lambda w: w.x @ Tensor(np.ones((4, 5))),
    ValueError, "shapes (2, 3) and (4, 5) are not aligned")
row("matmul-with-scalar", lambda w: w.x @ Tensor(2.0), ValueError, "use * to scale")
row("add-not-broadcastable", lambda w: w.x + Tensor(np.ones(4)), ValueError, "(2, 3) and (4,) cannot be broadcast")
row("mul-not-broadcastable", lambda w: w.x * np.ones((3, 2)), ValueError, "(2, 3) and (3, 2) cannot be broadcast")
row("maximum-not-broadcastable", lambda w: w.x.maximum(Tensor(np.ones(5))),
    ValueError, "(2, 3) and (5,) cannot be broadcast")
row("reshape-wrong-size", lambda w: w.x.reshape(4, 2), ValueError, "into shape (4, 2)")
row("view-wrong-size", lambda w: w.x.view(5), ValueError, "into shape (5,)")
row("reshape-two-minus-ones", lambda w: w.x.reshape(-1, -1), ValueError, "into shape (-1, -1)")
row("transpose-dim-out-of-range", lambda w: w.x.transpose(0, 5), IndexError, "axis 5 is out of range")
row("permute-too-few-dims", lambda w: w.x.permute(0), ValueError, "must list all 2 axes")
row("permute-repeated-dim", lambda w: w.x.permute(0, 0), ValueError, "repeat an axis")
row("sum-dim-out-of-range", lambda w: w.x.sum(dim=3), ValueError, "sum: axis 3 is out of range")
row("mean-repeated-dim", lambda w: w.x.mean(dim=(0, 0)), ValueError, "repeats an axis")
row("softmax-dim-out-of-range", lambda w: w.x.softmax(dim=2), ValueError, "softmax: axis 2 is out of range")
row("max-dim-out-of-range", lambda w: w.x.max(dim=4), ValueError, "max: axis 4 is out of range")
row("unsqueeze-dim-out-of-range", lambda w: w.x.unsqueeze(5), IndexError, "axis 5 is out of range")
row("expand-incompatible", lambda w: w.x.expand(3, 3), ValueError, "to shape (3, 3)")
row("index-out-of-range", lambda w: w.x[5], IndexError, "index 5 is out of bounds for axis")
row("index-column-out-of-range", lambda w: w.x[:, 7], IndexError, "index 7 is out of bounds for axis")
row("index-mask-wrong-shape", lambda w: w.x[np.array([True, False, True])], IndexError, "boolean index did not match")
row("index-with-string", lambda w: w.x["a"], IndexError, "only integers, slices")
row("index-with-float-array", lambda w: w.x[np.array([0.5])],
    IndexError, "index arrays must hold integers or booleans, got")
row("split-size-zero", lambda w: w.x.split(0), ValueError, "split_size must be positive")
row("chunk-zero", lambda w: w.x.chunk(0), ValueError, "chunks must be positive, got 0")
row("item-of-many-elements", lambda w: w.x.item(), ValueError, "only a one-element tensor")
row("float-of-many-elements", lambda w: float(w.x), ValueError, "only a one-element tensor")
row("cat-shape-mismatch", lambda w: autograd.cat([w.x, Tensor(np.ones((2, 4)))], dim=0),
    ValueError, "cannot join tensors of shapes")
row("cat-empty-list", lambda w: autograd.cat([]), ValueError, "expected a non-empty list of Tensors")
row("stack-shape-mismatch", lambda w: autograd.stack([w.x, Tensor(np.ones(3))]),
    ValueError, "cannot join tensors of shapes")
row("where-not-broadcastable", lambda w: autograd.where(Tensor(np.array([True, False, True, False])), w.x, 0.0),
    ValueError, "cannot be broadcast")
row("masked-fill-wrong-mask-shape", lambda w: w.x.masked_fill(Tensor(np.array([True, False])), 0.0),
    ValueError, "cannot be broadcast")
row("index-select-float-index", lambda w: w.x.index_select(0, Tensor([0.5])), IndexError, "1-D integer tensor")
row("pad-too-many-axes", lambda w: w.x.pad(((1, 1), (1, 1), (1, 1))), ValueError, "one (before, after) pair per axis")
row("unfold-kernel-larger-than-input", lambda w: w.x.unfold(5), ValueError, "bigger than the padded input")

# --- autograd: devices and torch idioms that are refused ----------------------------------------------------

row("to-cuda", lambda w: w.x.to("cuda"), ValueError, "device 'cuda' is not available")
row("cuda", lambda w: w.x.cuda(), NotImplementedError, "leave it out")
row("scatter-in-place", lambda w: w.x.scatter_(0, Tensor([[0, 1, 0]]), 1.0),
    NotImplementedError, "instead: index assignment")
row("gather", lambda w: w.x.gather(1, autograd.tensor([[0], [1]])),
    NotImplementedError, "instead: integer-array indexing")
row("cumsum", lambda w: w.x.cumsum(0), NotImplementedError, "instead: t.numpy().cumsum")
row("module-sort", lambda w: autograd.sort(w.x), NotImplementedError, "instead:")
row("module-unknown-name", lambda w: autograd.no_such_function, AttributeError, "no_such_function")
row("tensor-unknown-attribute", lambda w: w.x.no_such_method, AttributeError, "no_such_method")

# --- autograd: in-place ops and versions --------------------------------------------------------------------

row("iadd-on-leaf-requiring-grad", lambda w: w.x.__iadd__(1.0),
    RuntimeError, "a leaf Variable that requires grad is being")
row("add-underscore-on-leaf", lambda w: w.x.add_(1.0), RuntimeError, "a leaf Variable that requires grad is being")
row("mul-underscore-on-leaf", lambda w: w.x.mul_(2.0), RuntimeError, "a leaf Variable that requires grad is being")
row("zero-underscore-on-leaf", lambda w: w.x.zero_(), RuntimeError, "a leaf Variable that requires grad is being")
row("fill-underscore-on-leaf", lambda w: w.x.fill_(1.0), RuntimeError, "a leaf Variable that requires grad is being")
row("clamp-underscore-on-leaf", lambda w: w.x.clamp_(0.0, 1.0),
    RuntimeError, "a leaf Variable that requires grad is being")
row("setitem-on-leaf", lambda w: w.x.__setitem__(0, 5.0), RuntimeError, "a leaf Variable that requires grad is being")
row("copy-underscore-wrong-shape-no-grad", lambda w: _no_grad(lambda: w.x.copy_(Tensor(np.ones(4)))),
    ValueError, "cannot broadcast a tensor of shape (4,)")
row("add-underscore-not-broadcastable-no-grad", lambda w: _no_grad(lambda: w.y.add_(Tensor(np.ones(5)))),
    ValueError, "(3, 4) and (5,) cannot be broadcast")
row("add-underscore-would-grow-shape", lambda w: w.y.add_(Tensor(np.ones((2, 3, 4)))),
    RuntimeError, "doesn't match the broadcast shape")
row("int-tensor-add-underscore-float", lambda w: w.n.add_(0.5), RuntimeError, "can't be cast")
row("setitem-wrong-shape", lambda w: w.y.__setitem__(0, Tensor(np.ones(5))), ValueError, "could not broadcast")


def _no_grad(fn):
    with no_grad():
        return fn()


def _changed_after_use(w):
    h = w.x * 1.0
    keep(w, root=(h * h).sum())
    h.mul_(2.0)


row("backward-after-saved-tensor-changed-in-place", lambda w: w.extra["root"].backward(),
    RuntimeError, "was changed in place",
    setup=_changed_after_use)

# --- autograd: backward and grad() misuse -------------------------------------------------------------------

row("backward-non-scalar-without-gradient", lambda w: (w.x * 2).backward(), RuntimeError, "not a scalar")
row("backward-gradient-wrong-shape", lambda w: (w.x * 2).backward(np.ones(3)), ValueError, "gradient has shape (3,)")
row("backward-gradient-a-string", lambda w: (w.x * 2).backward("a"),
    TypeError, "gradient must be a Tensor or an array")
row("backward-without-requires-grad", lambda w: w.y.sum().backward(),
    RuntimeError, "this tensor does not require grad and has")
row("backward-under-no-grad", lambda w: _no_grad(lambda: (w.x * 2).sum()).backward(),
    RuntimeError, "this tensor does not require grad and has")


def _tensor_twice(w):
    root = (w.x * w.x).sum()
    root.retain_grad()
    root.backward()
    keep(w, root=root)


row("tensor-second-backward-without-retain", lambda w: w.extra["root"].backward(),
    RuntimeError, "retain_graph=True", setup=_tensor_twice)
row("grad-unused-input", lambda w: grad((w.x * 2).sum(), [w.x, Tensor(np.ones(2), requires_grad=True)]),
    RuntimeError, "allow_unused=True")
row("grad-outputs-count-mismatch", lambda w: grad((w.x * 2).sum(), w.x, grad_outputs=[None, None]),
    ValueError, "got 2 grad_outputs for 1 outputs")
row("grad-non-scalar-without-grad-outputs", lambda w: grad(w.x * 2, w.x), RuntimeError, "not a scalar")
row("grad-input-not-requiring-grad", lambda w: grad((w.x * w.y[:, :2].T).sum(), w.y),
    RuntimeError, "does not require grad")
row("grad-input-a-string", lambda w: grad((w.x * 2).sum(), "x"),
    TypeError, "Tensor")
row("grad-of-no-grad-output", lambda w: grad(_no_grad(lambda: (w.x * 2).sum()), w.x),
    RuntimeError, "this tensor does not require grad and has")
row("grad-assign-wrong-shape", lambda w: setattr(w.x, "grad", Tensor(np.ones(4))),
    ValueError, "assigned grad has shape (4,)")
row("grad-assign-a-string", lambda w: setattr(w.x, "grad", "a"), TypeError, "got str")
row("requires-grad-false-on-non-leaf", lambda w: (w.x * 2).requires_grad_(False), RuntimeError, "detach()")
row("register-hook-without-requires-grad", lambda w: w.y.register_hook(lambda g: g),
    RuntimeError, "doesn't require gradient")
row("hook-returns-wrong-shape", lambda w: (w.x * 2).sum().backward(),
    RuntimeError, "a hook must return a gradient of its tensor's shape",
    setup=lambda w: w.x.register_hook(lambda g: np.ones(4)))
row("register-hook-not-callable", lambda w: w.x.register_hook("a"), TypeError, "got str")
row("retain-grad-without-requires-grad", lambda w: w.y.retain_grad(), RuntimeError, "requires_grad=False")
row("no-grad-with-an-argument", lambda w: no_grad(True), TypeError, "positional argument")
row("enable-grad-with-an-argument", lambda w: autograd.enable_grad(1), TypeError, "positional argument")


class _TwoGradients(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return g, g


class _WrongShape(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return Tensor(np.ones(7))


row("function-backward-too-many-gradients", lambda w: _TwoGradients.apply(w.x).sum().backward(),
    RuntimeError, "returned 2 gradients")
row("function-backward-wrong-shape", lambda w: _WrongShape.apply(w.x).sum().backward(),
    RuntimeError, "gradient of shape (7,)")
row("gradcheck-wrong-gradient", lambda w: autograd.gradcheck(lambda a: _WrongFactor.apply(a).sum(),
                                                            Tensor(np.ones(3), requires_grad=True)),
    autograd.GradcheckError, "analytic gradient 3.0")


class _WrongFactor(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return g * 3


row("anomaly-log-of-zero", lambda w: _anomaly(lambda: w.x.log().sum().backward()), autograd.AnomalyError, "op 'log'")
row("jacobian-of-a-string", lambda w: jacobian(lambda a: a * 2, "x"), TypeError, "got str")


def _anomaly(fn):
    with autograd.detect_anomaly():
        return fn()


# --- nn: layers ---------------------------------------------------------------------------------------------

row("linear-wrong-in-features", lambda w: nn.Linear(3, 4)(Tensor(np.ones((2, 5)))),
    ValueError, "expected input with last dimension 3")
row("linear-negative-size", lambda w: nn.Linear(-1, 2), ValueError, "in_features must be a positive int, got -1")
row("linear-float-size", lambda w: nn.Linear(3.5, 2), ValueError, "in_features must be a positive int, got 3.5")
row("model-wrong-input", lambda w: w.model(Tensor(np.ones((2, 5), np.float32))),
    ValueError, "expected input with last dimension 3")
row("conv2d-channel-mismatch", lambda w: nn.Conv2d(1, 2, 3)(Tensor(np.ones((1, 3, 5, 5)))),
    ValueError, "expected input of shape (N, 1, H, W)")
row("conv2d-kernel-zero", lambda w: nn.Conv2d(1, 2, kernel_size=0), ValueError, "kernel_size must be an int >= 1 or")
row("conv2d-input-smaller-than-kernel", lambda w: nn.Conv2d(1, 2, 3)(Tensor(np.ones((1, 1, 2, 2)))),
    ValueError, "bigger than the padded input")
row("maxpool-on-a-vector", lambda w: nn.MaxPool2d(2)(Tensor(np.ones(4))), ValueError, "(N, C, H, W)")
row("maxpool-padding-too-large", lambda w: nn.MaxPool2d(3, padding=2)(Tensor(np.ones((1, 1, 5, 5)))),
    ValueError, "at most half the kernel size")
row("dropout-p-above-one", lambda w: nn.Dropout(1.5), ValueError, "p must be a probability in [0, 1],")
row("batchnorm-wrong-features", lambda w: w.bn(Tensor(np.ones((2, 4), np.float32))),
    ValueError, "expected input of shape (N, 3)")
row("batchnorm-one-sample-training", lambda w: w.bn(Tensor(np.ones((1, 3), np.float32))),
    ValueError, "expected more than 1 value per channel when")
row("batchnorm-eps-zero", lambda w: nn.BatchNorm1d(3, eps=0), ValueError, "eps must be > 0, got 0")
row("batchnorm-momentum-two", lambda w: nn.BatchNorm1d(3, momentum=2),
    ValueError, "momentum must be in [0, 1] or None,")
row("embedding-index-out-of-range", lambda w: nn.Embedding(5, 2)(autograd.tensor([7])),
    IndexError, "index 7 out of range for 5 embeddings")
row("embedding-float-index", lambda w: nn.Embedding(5, 2)(Tensor([1.0])), TypeError, "convert with .long()")
row("layernorm-wrong-shape", lambda w: nn.LayerNorm(3)(Tensor(np.ones((2, 4)))), ValueError, "normalized_shape")
row("softmax-module-bad-dim", lambda w: nn.Softmax(dim=3)(w.x), ValueError, "axis 3 is out of range")
row("load-state-dict-missing-keys", lambda w: w.model.load_state_dict({}), ValueError, "missing keys")
row("load-state-dict-wrong-shape",
    lambda w: w.model.load_state_dict({**w.model.state_dict(), "2.bias": np.zeros(3, np.float32)}),
    ValueError, "2.bias: expected (2,), got (3,)")
row("load-state-dict-unexpected-key",
    lambda w: w.model.load_state_dict({**w.model.state_dict(), "9.weight": np.zeros(3, np.float32)}),
    ValueError, "unexpected keys ['9.weight']")
row("load-state-dict-strings",
    lambda w: w.model.load_state_dict({**w.model.state_dict(), "0.bias": np.array(["a"] * 4)}),
    ValueError, "0.bias: expected dtype float32")
row("batchnorm-load-float-count",
    lambda w: w.bn.load_state_dict({**w.bn.state_dict(), "num_batches_tracked": np.array(0.5)}),
    ValueError, "num_batches_tracked: expected dtype int64")
row("neuron-wrong-input-count", lambda w: nn.Neuron(3)([Value(1.0)]), ValueError, "expected 3 inputs, got 1")
row("neuron-unknown-activation", lambda w: nn.Neuron(3, activation="swish"), ValueError, "activation must be one of")
row("mlp-zero-inputs", lambda w: nn.MLP(0, [2]), ValueError, "nin must be a positive int, got 0")

# --- nn: functional and losses ------------------------------------------------------------------------------

IMAGES = np.ones((1, 1, 5, 5))
LOGITS = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]])
row("conv2d-stride-zero", lambda w: F.conv2d(Tensor(IMAGES), Tensor(np.ones((2, 1, 3, 3))), stride=0),
    ValueError, "stride must be an int >= 1 or")
row("conv2d-weight-channel-mismatch", lambda w: F.conv2d(Tensor(IMAGES), Tensor(np.ones((2, 3, 3, 3)))),
    ValueError, "expects 3")
row("max-pool-kernel-zero", lambda w: F.max_pool2d(Tensor(IMAGES), 0),
    ValueError, "kernel_size must be an int >= 1 or")
row("avg-pool-on-a-matrix", lambda w: F.avg_pool2d(w.x, 2), ValueError, "(N, C, H, W)")
row("functional-dropout-p-two", lambda w: F.dropout(w.x, p=2), ValueError, "p must be a probability in [0, 1],")
row("functional-softmax-bad-dim", lambda w: F.softmax(w.x, dim=5), ValueError, "axis 5 is out of range for a")
row("one-hot-class-out-of-range", lambda w: F.one_hot(autograd.tensor([3]), 2),
    ValueError, "class values must be smaller than num_classes")
row("one-hot-float-input", lambda w: F.one_hot(Tensor([1.0]), 3), TypeError, "convert with .long()")
row("embedding-float-index-functional", lambda w: F.embedding(Tensor([0.5]), Tensor(np.ones((4, 2)))),
    TypeError, "convert with .long()")
row("linear-functional-shape-mismatch", lambda w: F.linear(w.x, Tensor(np.ones((4, 5)))),
    ValueError, "does not match weight")
row("cross-entropy-class-out-of-range", lambda w: F.cross_entropy(Tensor(LOGITS), autograd.tensor([0, 3])),
    ValueError, "class index 3 out of range for 3")
row("cross-entropy-negative-class", lambda w: F.cross_entropy(Tensor(LOGITS), autograd.tensor([0, -2])),
    ValueError, "class index -2 out of range for 3")
row("cross-entropy-batch-mismatch", lambda w: F.cross_entropy(Tensor(LOGITS), autograd.tensor([0, 1, 2])),
    ValueError, "expected (2,)")
row("cross-entropy-probabilities-wrong-shape", lambda w: F.cross_entropy(Tensor(LOGITS), Tensor(np.ones((2, 4)))),
    ValueError, "class probabilities")
row("cross-entropy-int-one-hot", lambda w: F.cross_entropy(Tensor(LOGITS), np.eye(3, dtype=np.int64)[[0, 1]]),
    ValueError, "integer dtype")
row("cross-entropy-unknown-reduction", lambda w: F.cross_entropy(Tensor(LOGITS), [0, 1], reduction="avg"),
    ValueError, "reduction must be one of")
row("cross-entropy-smoothing-above-one", lambda w: F.cross_entropy(Tensor(LOGITS), [0, 1], label_smoothing=1.5),
    ValueError, "label_smoothing must be between 0.0 and 1.0, got")
row("cross-entropy-weight-wrong-length", lambda w: F.cross_entropy(Tensor(LOGITS), [0, 1], Tensor(np.ones(4))),
    ValueError, "weight should be defined either for all 3")
row("cross-entropy-0d-logits", lambda w: F.cross_entropy(Tensor(1.0), [0]),
    ValueError, "logits must have a class axis, got a")
row("cross-entropy-float-class-indices", lambda w: F.cross_entropy(Tensor(LOGITS), np.array([0.5, 1.0])),
    ValueError, "class indices must be integers, got non-integer values")
row("nll-loss-class-out-of-range", lambda w: F.nll_loss(Tensor(LOGITS), autograd.tensor([5, 0])),
    ValueError, "class index 5 out of range for 3")
row("nll-loss-unknown-reduction", lambda w: F.nll_loss(Tensor(LOGITS), [0, 1], reduction="total"),
    ValueError, "reduction must be one of")
row("mse-loss-shape-mismatch", lambda w: F.mse_loss(w.x, Tensor(np.ones((3, 2)))), ValueError, "they must match")
row("mse-loss-unknown-reduction", lambda w: F.mse_loss(w.x, w.x.detach(), reduction="x"),
    ValueError, "reduction must be one of")
row("l1-loss-shape-mismatch", lambda w: F.l1_loss(w.x, Tensor(np.ones(4))), ValueError, "they must match")
row("bce-probability-above-one", lambda w: F.binary_cross_entropy(Tensor([1.5, 0.5]), Tensor([1.0, 0.0])),
    ValueError, "apply sigmoid first")
row("bce-target-requires-grad",
    lambda w: F.binary_cross_entropy(Tensor([0.5, 0.5]), Tensor([1.0, 0.0], requires_grad=True)),
    NotImplementedError, "target.detach()")
row("bce-with-logits-shape-mismatch",
    lambda w: F.binary_cross_entropy_with_logits(Tensor([0.5, 0.5]), Tensor([1.0, 0.0, 1.0])),
    ValueError, "they must match")
row("hinge-loss-zero-one-labels", lambda w: F.hinge_loss(Tensor([0.5, -0.5]), [0, 1]),
    ValueError, "labels must be -1 or +1, got values")

# --- data ---------------------------------------------------------------------------------------------------

row("loader-length-mismatch", lambda w: nn.data.DataLoader(w.X, w.labels[:5]),
    ValueError, "X has 8 samples but y has 5")
row("loader-batch-size-zero", lambda w: nn.data.DataLoader(w.X, w.labels, batch_size=0),
    ValueError, "batch_size must be a positive int, got 0")
row("loader-batch-size-float", lambda w: nn.data.DataLoader(w.X, w.labels, batch_size=2.5),
    ValueError, "batch_size must be a positive int, got 2.5")
row("loader-strings", lambda w: nn.data.DataLoader(np.array(["a", "b"])),
    TypeError, "X must be numeric, got dtype <U1")
row("loader-scalar", lambda w: nn.data.DataLoader(5), ValueError, "X must have a sample axis, got a")
row("split-test-size-above-one", lambda w: nn.data.train_test_split(w.X, w.labels, test_size=1.5),
    ValueError, "test_size=1.5 must be a fraction in [0, 1)")
row("split-length-mismatch", lambda w: nn.data.train_test_split(w.X, w.labels[:3]),
    ValueError, "X has 8 samples but y has 3")
row("split-test-size-string", lambda w: nn.data.train_test_split(w.X, test_size="a"),
    TypeError, "test_size must be a fraction or a count,")
row("split-val-and-test-too-large", lambda w: nn.data.train_val_test_split(w.X, val_size=0.6, test_size=0.6),
    ValueError, "val_size and test_size take 10 of only 8")
row("moons-negative-noise", lambda w: nn.data.make_moons(10, noise=-1), ValueError, "noise must be >= 0, got -1")
row("moons-n-and-n-samples", lambda w: nn.data.make_moons(5, n_samples=5),
    TypeError, "got both n and its alias n_samples")
row("circles-factor-above-one", lambda w: nn.data.make_circles(10, factor=1.5),
    ValueError, "factor must be in [0, 1), got 1.5")
row("spirals-negative-noise", lambda w: nn.data.make_spirals(10, noise=-1), ValueError, "noise must be >= 0, got -1")
row("consecutive-ones-too-many-bits", lambda w: nn.data.consecutive_ones(40),
    ValueError, "n_bits=40 would make 2**40 vectors")
row("load-idx-missing-file", lambda w: nn.data.load_idx(w.folder / "missing.idx"), FileNotFoundError, "missing.idx")
row("load-idx-bad-magic", lambda w: nn.data.load_idx(w.folder / "notes.txt"), ValueError, "bad magic number")
row("save-idx-float16", lambda w: nn.data.save_idx(w.folder / "x.idx", np.ones(3, np.float16)),
    TypeError, "IDX cannot store dtype float16")
row("load-mnist-empty-folder", lambda w: nn.data.load_mnist(w.folder / "sub"),
    FileNotFoundError, "train-images-idx3-ubyte")

# --- optim --------------------------------------------------------------------------------------------------

row("sgd-empty-parameter-list", lambda w: nn.optim.SGD([], lr=0.1), ValueError, "got an empty parameter list")
row("sgd-negative-lr", lambda w: nn.optim.SGD(w.model.parameters(), lr=-1),
    ValueError, "invalid lr -1.0, must be >= 0")
row("sgd-string-lr", lambda w: nn.optim.SGD(w.model.parameters(), lr="a"),
    TypeError, "lr must be a real number, got str:")
row("sgd-negative-momentum", lambda w: nn.optim.SGD(w.model.parameters(), lr=0.1, momentum=-0.5),
    ValueError, "invalid momentum -0.5, must be >= 0")
row("sgd-nesterov-without-momentum", lambda w: nn.optim.SGD(w.model.parameters(), lr=0.1, nesterov=True),
    ValueError, "Nesterov momentum requires a momentum and zero dampening,")
row("sgd-duplicate-parameter", lambda w: nn.optim.SGD([w.x, w.x], lr=0.1),
    ValueError, "parameter 1 appears more than once in the")
row("sgd-int-parameter", lambda w: nn.optim.SGD([w.n], lr=0.1),
    TypeError, "only floating-point tensors can be optimized")
row("sgd-string-parameter", lambda w: nn.optim.SGD(["a"], lr=0.1),
    TypeError, "parameter 0 is a str, expected a Tensor")
row("adam-beta-one", lambda w: nn.optim.Adam(w.model.parameters(), betas=(1.0, 0.9)),
    ValueError, "invalid beta1 1.0, must be in [0, 1)")
row("adam-negative-eps", lambda w: nn.optim.Adam(w.model.parameters(), eps=-1),
    ValueError, "invalid eps -1.0, must be >= 0")
row("adam-amsgrad-string", lambda w: nn.optim.Adam(w.model.parameters(), amsgrad="yes"),
    TypeError, "amsgrad must be True or False, got 'yes")
row("rmsprop-negative-alpha", lambda w: nn.optim.RMSprop(w.model.parameters(), alpha=-1),
    ValueError, "invalid alpha -1.0, must be in [0, 1]")
row("adagrad-negative-lr", lambda w: nn.optim.Adagrad(w.model.parameters(), lr=-1),
    ValueError, "invalid lr -1.0, must be >= 0")


def _grad_then_step(w, grad, optimizer):
    w.model[2].bias.grad = grad
    optimizer.step()


row("param-grad-broadcastable-shape-then-step",
    lambda w: _grad_then_step(w, Tensor(np.ones(1, np.float32)), w.sgd), ValueError, "assigned grad has shape (1,)")
row("param-grad-wrong-shape-then-step", lambda w: _grad_then_step(w, Tensor(np.ones(5, np.float32)), w.adam),
    ValueError, "assigned grad has shape (5,)")
row("param-grad-wrong-dtype-then-step", lambda w: _grad_then_step(w, Tensor(np.ones(2)), w.sgd),
    TypeError, "dtype float64")
row("optimizer-load-empty-state", lambda w: w.sgd.load_state_dict({}), ValueError, "expected a dict with keys")
row("optimizer-load-other-optimizer", lambda w: w.sgd.load_state_dict(w.adam.state_dict()),
    ValueError, "the state dict is from 'Adam")
row("optimizer-load-wrong-buffer-shape", lambda w: w.sgd.load_state_dict(_bad_buffer(w.sgd.state_dict())),
    ValueError, "parameter 0: buffer 'momentum_buffer' has shape")
row("steplr-step-size-zero", lambda w: nn.optim.StepLR(w.sgd, step_size=0),
    ValueError, "invalid step_size 0, must be an int >=")
row("steplr-not-an-optimizer", lambda w: nn.optim.StepLR("opt", 1), TypeError, "expected an Optimizer, got str")
row("exponentiallr-negative-gamma", lambda w: nn.optim.ExponentialLR(w.sgd, gamma=-1),
    ValueError, "invalid gamma -1.0, must be >= 0")
row("scheduler-load-empty-state", lambda w: w.scheduler.load_state_dict({}), ValueError, "expected keys")
row("fit-wrong-feature-count",
    lambda w: nn.fit(w.model, F.cross_entropy, w.sgd, nn.data.DataLoader(np.ones((4, 5), np.float32), [0, 1, 0, 1]),
                     epochs=1, progress=False), ValueError, "expected input with last dimension 3")
row("fit-optimizer-a-string",
    lambda w: nn.fit(w.model, F.cross_entropy, "sgd", w.loader, epochs=1, progress=False), TypeError, "optimizer")
row("fit-negative-epochs", lambda w: nn.fit(w.model, F.cross_entropy, w.sgd, w.loader, epochs=-1, progress=False),
    ValueError, "epochs must be an int >= 0, got")
row("fit-early-stopping-zero",
    lambda w: nn.fit(w.model, F.cross_entropy, w.sgd, w.loader, epochs=1, early_stopping=0, progress=False),
    ValueError, "early_stopping must be an int >= 1, got")
row("fit-val-not-a-pair",
    lambda w: nn.fit(w.model, F.cross_entropy, w.sgd, w.loader, epochs=1, val=(w.X,), progress=False),
    TypeError, "val must be a pair")
row("fit-unknown-metric",
    lambda w: nn.fit(w.model, F.cross_entropy, w.sgd, w.loader, epochs=1, metrics=["nope"], progress=False),
    ValueError, "unknown metric 'nope")
row("init-kaiming-on-a-vector", lambda w: nn.init.kaiming_uniform_(w.model[0].bias),
    ValueError, "fan in and fan out need a tensor")
row("init-normal-on-a-string", lambda w: nn.init.normal_("a"), TypeError, "expected a Tensor")


def _bad_buffer(state):
    state = copy.deepcopy(state)
    first = next(iter(state["state"]))
    key = next(k for k, v in state["state"][first].items() if isinstance(v, np.ndarray))
    state["state"][first][key] = np.zeros(7)
    return state


# --- save / load --------------------------------------------------------------------------------------------

row("save-onto-a-folder", lambda w: nn.save(w.model, w.folder / "sub"), IsADirectoryError, "the path is a folder")
row("save-not-a-model", lambda w: nn.save("model", w.folder / "other.npz"), TypeError, "expected a model")
row("save-empty-path", lambda w: nn.save(w.model, ""), ValueError, "the file name is empty")
row("load-missing-file", lambda w: nn.load(w.model, w.folder / "missing.npz"), FileNotFoundError, "no such checkpoint")
row("load-a-text-file", lambda w: nn.load(w.model, w.folder / "notes.txt"), ValueError, "not a zip archive")
row("load-empty-file", lambda w: nn.load(w.model, w.folder / "empty.npz"), ValueError, "not a zip archive",
    setup=lambda w: _write(w, "empty.npz", b""))
row("load-random-bytes", lambda w: nn.load(w.model, w.folder / "noise.npz"), ValueError, "not a zip archive",
    setup=lambda w: _write(w, "noise.npz", np.random.default_rng(0).bytes(300)))
row("load-truncated-file", lambda w: nn.load(w.model, w.folder / "cut.npz"), ValueError, "cut.npz",
    setup=lambda w: _write(w, "cut.npz", w.checkpoint.read_bytes()[:200]))
row("load-npy-file", lambda w: nn.load(w.model, w.folder / "a.npy"),
    ValueError, "not a zip archive", setup=lambda w: np.save(w.folder / "a.npy", np.ones(3)))
row("load-pickled-checkpoint", lambda w: nn.load(w.model, w.folder / "pickled.npz"), ValueError, "never loads",
    setup=lambda w: np.savez(w.folder / "pickled.npz", **{"0.weight": np.array([{}], dtype=object)}))
row("load-into-not-a-model", lambda w: nn.load("model", w.checkpoint), TypeError, "expected a model")
row("load-other-architecture", lambda w: nn.load(nn.Sequential(nn.Linear(3, 5)), w.checkpoint),
    ValueError, "does not fit the model")
row("load-into-model-of-other-shape", lambda w: nn.load(w.bn, w.checkpoint), ValueError, "does not fit the model")


def _write(w, name, data):
    path = w.folder / name
    path.write_bytes(data)
    return path


# --- pictures -----------------------------------------------------------------------------------------------

row("draw-graph-unknown-suffix", lambda w: autograd.draw_graph(w.v * w.u, filename=w.folder / "notes.txt"),
    ValueError, "not a picture format")
row("draw-graph-empty-name", lambda w: autograd.draw_graph(w.v * w.u, filename=""),
    ValueError, "the file name is empty")
row("draw-graph-a-folder", lambda w: autograd.draw_graph(w.v * w.u, filename=w.folder / "sub"),
    IsADirectoryError, "is a folder")
row("draw-graph-not-a-node", lambda w: autograd.draw_graph("abc"), TypeError, "draw_graph expects a Value or Tensor")
row("history-plot-onto-notes", lambda w: nn.History().plot(filename=w.folder / "notes.txt"), ValueError,
    "nothing was written")
row("history-plot-onto-checkpoint", lambda w: nn.History().plot(filename=w.checkpoint), ValueError,
    "which matplotlib does not write")
row("export-html-wrong-suffix", lambda w: autograd.export_html(w.v * w.u, w.folder / "notes.txt"),
    ValueError, "nothing was written")


def _params(rows):
    return [pytest.param(r, id=r.id, marks=[pytest.mark.xfail(strict=True, reason=r.xfail)] if r.xfail else [])
            for r in rows]


@pytest.mark.parametrize("case", _params(ROWS))
def test_a_wrong_call_raises_a_clear_error_and_changes_nothing(case, tmp_path):
    w = World(tmp_path)
    if case.setup:
        case.setup(w)
    before = w.snapshot()
    with pytest.raises(Exception) as caught:
        case.call(w)
    assert isinstance(caught.value, case.error), f"{type(caught.value).__name__}: {caught.value}"
    assert case.phrase.lower() in str(caught.value).lower(), str(caught.value)
    assert same(w.snapshot(), before), "the failed call changed state"


# --- the command line: exit status 1, one line on stderr, nothing on stdout, no file touched ----------------

CLI_ROWS = [
    ("no-command", [], "no command given"),
    ("missing-expression", ["grad"], "required: EXPR"),
    ("missing-command", ["x*y", "--at", "x=1,y=2"], "the command is missing"),
    ("unknown-command", ["hess", "x", "--at", "x=1"], "the command is missing"),
    ("syntax-error", ["grad", "x+", "--at", "x=1"], "syntax error"),
    ("dangling-power", ["grad", "x**", "--at", "x=1"], "syntax error"),
    ("implicit-product", ["grad", "2x", "--at", "x=1"], "write 2*x"),
    ("import-attempt", ["grad", "__import__('os').system('true')", "--at", "x=1"], "attribute access"),
    ("attribute-access", ["grad", "x.real", "--at", "x=1"], "attribute access '.real' is not allowed"),
    ("unknown-function", ["grad", "foo(x)", "--at", "x=1"], "unknown function 'foo'"),
    ("lambda", ["grad", "lambda: 1", "--at", "x=1"], "lambdas are not allowed"),
    ("conditional", ["grad", "x if x else 1", "--at", "x=1"], "conditional expressions are not allowed"),
    ("list", ["grad", "[x]", "--at", "x=1"], "lists are not allowed"),
    ("max-one-argument", ["grad", "max(x)", "--at", "x=1"], "max() takes 2 arguments"),
    ("missing-variable", ["grad", "x*y", "--at", "x=1"], "no value for variable 'y'"),
    ("only-other-variable", ["grad", "x", "--at", "y=1"], "no value for variable 'x'"),
    ("value-not-a-number", ["grad", "x", "--at", "x=abc"], "'abc' is not a number"),
    ("value-nan", ["grad", "x", "--at", "x=nan"], "not a finite number"),
    ("at-without-value", ["grad", "x", "--at", "x"], "malformed --at item"),
    ("at-bad-name", ["grad", "x", "--at", "1x=2"], "malformed --at item"),
    ("at-twice", ["grad", "x", "--at", "x=1,x=2"], "gives 'x' twice"),
    ("log-of-negative", ["grad", "log(x)", "--at", "x=-1"], "outside its domain"),
    ("sqrt-of-negative", ["grad", "sqrt(x)", "--at", "x=-4"], "outside its domain"),
    ("divide-by-zero", ["grad", "1/x", "--at", "x=0"], "division by zero"),
    ("zero-to-negative-power", ["grad", "0**x", "--at", "x=-1"], "is undefined"),
    ("overflow", ["grad", "exp(x)", "--at", "x=1e6"], "overflow"),
    ("empty-expression", ["grad", "", "--at", "x=1"], "empty expression"),
    ("lone-carriage-return", ["grad", "\r", "--at", "x=1"], "empty expression"),
    ("expression-like-an-option", ["grad", "--x", "--at", "x=1"], "goes after a lone --"),
    ("unknown-option", ["grad", "x", "--at", "x=1", "--foo"], "unrecognized arguments: --foo"),
    ("invalid-utf8", ["grad", "x\udcff", "--at", "x=1"], "not valid UTF-8"),
    ("too-deeply-nested", ["grad", "(" * 500 + "x" + ")" * 500, "--at", "x=1"], "too many nested parentheses"),
    ("too-large", ["grad", "x" + "+x" * 200_000, "--at", "x=1"], "too large"),
    ("graph-onto-notes", ["grad", "x", "--at", "x=1", "--graph", "notes.txt"], "not a picture format"),
    ("graph-onto-checkpoint", ["grad", "x", "--at", "x=1", "--graph", "model.npz"], "not a picture format"),
    ("graph-empty-name", ["grad", "x", "--at", "x=1", "--graph", ""], "the file name is empty"),
    ("graph-a-folder", ["grad", "x", "--at", "x=1", "--graph", "sub/"], "is a folder"),
]


def _folder(path: Path) -> dict:
    return {str(p.relative_to(path)): (p.read_bytes() if p.is_file() else "dir", p.stat().st_mode)
            for p in sorted(path.rglob("*"))}


@pytest.mark.parametrize("argv, phrase", [pytest.param(argv, phrase, id=f"cli-{id}") for id, argv, phrase in CLI_ROWS])
def test_a_wrong_command_line_exits_1_with_one_line_and_touches_no_file(argv, phrase, tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("my notes\n")
    (tmp_path / "model.npz").write_bytes(b"PK\x03\x04 a checkpoint")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    before = _folder(tmp_path)
    status = cli_main(list(argv))
    out, err = capsys.readouterr()
    assert status == 1 and out == "", (status, out)
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert phrase.lower() in err.lower(), err
    assert _folder(tmp_path) == before


def test_the_tables_hold_at_least_120_wrong_calls():
    assert len(ROWS) + len(CLI_ROWS) >= 120
    assert len({r.id for r in ROWS}) == len(ROWS) and len({r[0] for r in CLI_ROWS}) == len(CLI_ROWS)
