"""What a graph keeps after backward: a held loss lets go of the big arrays only its graph refers to
(as torch frees its saved tensors), while everything the user holds keeps its values."""

import gc
import re
import tracemalloc

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import Tensor, Value, draw_graph, memory
from autograd.graph import KEEP_BYTES, topological_order

BATCH, FEATURES, HIDDEN = 128, 784, 256  # the MLP step of the issue: (128, 256) activations of 128 KiB


@pytest.fixture(autouse=True)
def fresh_graph_state():
    gc.collect()
    yield
    memory.release()


def mlp(seed=0):
    return nn.Sequential(nn.Linear(FEATURES, HIDDEN, seed=seed), nn.ReLU(), nn.Linear(HIDDEN, 10, seed=seed + 1))


def step(model, rng):
    """A training step as a loop writes it; the batch is a local that dies with the call."""
    xb = Tensor(rng.standard_normal((BATCH, FEATURES)).astype(np.float32))
    loss = F.cross_entropy(model(xb), rng.integers(0, 10, BATCH))
    model.zero_grad()
    loss.backward()
    return loss


def kept_bytes(roots) -> int:
    """Bytes of data the nodes reachable from ``roots`` still hold (a placeholder holds none)."""
    return sum(node._data.nbytes for node in topological_order(roots) if not memory.freed(node._data))


def test_a_held_loss_no_longer_keeps_the_big_activations():
    model, rng = mlp(), np.random.default_rng(0)
    tracemalloc.start()  # before the first step, so the grads and the last batch count at both ends
    try:
        losses = [step(model, rng) for _ in range(3)]
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        losses += [step(model, rng) for _ in range(10)]
        gc.collect()
        per_step = (tracemalloc.get_traced_memory()[0] - before) / 10
    finally:
        tracemalloc.stop()
    # before: the batch (392 KiB) and two activations (128 KiB each) per step; torch keeps about 35 KB
    assert per_step < 64 << 10, f"a held loss keeps {per_step / 1024:.0f} KiB a step"
    params = sum(p._data.nbytes for p in model.parameters())
    assert kept_bytes(losses[:-1]) - params < 12 * (16 << 10)  # logits and the loss, small
    interior = [n for n in topological_order([losses[0]]) if n.parents and n._data.nbytes > KEEP_BYTES]
    assert len(interior) == 2 and all(memory.freed(n._data) for n in interior)
    assert [n.shape for n in interior] == [(BATCH, HIDDEN)] * 2 and interior[0].dtype == np.float32
    assert all(not memory.freed(p._data) for p in model.parameters())  # leaves needing a grad: never


def test_the_loop_variables_of_one_step_are_let_go_at_the_next_backward():
    model, rng = mlp(), np.random.default_rng(1)
    xb = Tensor(rng.standard_normal((BATCH, FEATURES)).astype(np.float32))
    hidden = model[1](model[0](xb))  # both held while backward runs
    loss = F.cross_entropy(model[2](hidden), rng.integers(0, 10, BATCH))
    loss.backward()
    assert not memory.freed(xb._data) and not memory.freed(hidden._data)
    kept, values = hidden, hidden.numpy().copy()
    xb = hidden = None  # the next iteration rebinds them
    step(model, rng)
    (batch,) = [n for n in topological_order([loss]) if n.shape == (BATCH, FEATURES)]
    assert memory.freed(batch._data)  # the batch nobody holds any more
    np.testing.assert_array_equal(kept.numpy(), values)  # still held: kept, with its values
    assert kept_bytes([loss]) - sum(p._data.nbytes for p in model.parameters()) == kept._data.nbytes + 5124


class Tanh:
    """makemore's hand-written layer, which keeps its output to plot after backward."""

    def __call__(self, x):
        self.out = x.tanh()
        return self.out


def test_what_the_user_holds_keeps_its_data_and_values():
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((BATCH, FEATURES)).astype(np.float32))
    W = Tensor(rng.standard_normal((FEATURES, HIDDEN)).astype(np.float32) * 0.05, requires_grad=True)
    layer = Tanh()
    pre = x @ W                            # a variable
    act = layer(pre)                       # an attribute (layer.out)
    mid = act * 2.0
    mid.retain_grad()                      # asked for its grad
    plus, times = mid + 1.0, mid * 3.0
    view = plus.numpy()                    # its array only
    shared = times.detach()                # a graph-free tensor sharing the array
    loss = (mid.relu() + plus + times + (mid - 1.0)).sum()
    plus = times = None
    expected = {"pre": x.numpy() @ W.numpy()}
    expected["act"] = np.tanh(expected["pre"])
    loss.backward()
    np.testing.assert_allclose(pre.numpy(), expected["pre"], rtol=1e-6)
    np.testing.assert_allclose(layer.out.numpy(), expected["act"], rtol=1e-6)
    np.testing.assert_allclose(mid.numpy(), 2 * expected["act"], rtol=1e-6)
    assert mid.grad is not None and not memory.freed(view) and np.isfinite(shared.numpy()).all()
    np.testing.assert_allclose(x.numpy(), x.detach().numpy())
    assert not memory.freed(W._data) and not memory.freed(x._data)
    freed = [n.op for n in topological_order([loss]) if memory.freed(n._data)]
    assert sorted(str(op) for op in freed) == ["+", "+", "+", "-", "relu"]  # what only the graph held
    np.testing.assert_allclose(view, 2 * expected["act"] + 1, rtol=1e-6)


def test_retain_graph_keeps_everything_and_the_next_plain_backward_frees():
    model, rng = mlp(), np.random.default_rng(3)
    loss = F.cross_entropy(model(Tensor(rng.standard_normal((BATCH, FEATURES)).astype(np.float32))),
                           rng.integers(0, 10, BATCH))
    loss.backward(retain_graph=True)
    assert kept_bytes([loss]) == sum(n._data.nbytes for n in topological_order([loss]))
    once = model[0].weight.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(model[0].weight.grad.numpy(), 2 * once, rtol=1e-5)
    assert sum(memory.freed(n._data) for n in topological_order([loss])) == 3  # the batch, two activations


def test_create_graph_keeps_everything():
    x = Tensor(np.linspace(-1, 1, 2 * HIDDEN * 64, dtype=np.float32).reshape(2 * 64, HIDDEN), requires_grad=True)
    h = (x * 1.5).tanh()
    loss = (h * h).sum()
    h = None
    loss.backward(create_graph=True)
    assert not any(memory.freed(n._data) for n in topological_order([loss]))


def test_a_second_backward_still_raises_the_same_error_before_any_grad_changes():
    model, rng = mlp(), np.random.default_rng(4)
    loss = step(model, rng)
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    with pytest.raises(RuntimeError, match=re.escape("Trying to backward through the graph a second time")):
        loss.backward()
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)
    hidden = next(n for n in topological_order([loss]) if n.op == "relu")
    assert memory.freed(hidden._data)
    with pytest.raises(RuntimeError, match="retain_graph=True"):  # a new op on a freed node reaches its backward
        (hidden * 2.0).sum().backward()


def small_tensor_graph():
    W = Tensor(np.array([[0.5, -1.0, 2.0], [0.2, 2.0, -1.0]]), requires_grad=True, label="W")
    x = Tensor([1.0, 2.0, 3.0], label="x")
    h = (W @ x).relu()
    return (h * h).sum()


def sigmoid_neuron():
    w0, x0, w1, x1, w2 = (Value(v, label=n) for v, n in ((2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"),
                                                          (-3.0, "w2")))
    return 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())


@pytest.mark.parametrize("build", [small_tensor_graph, sigmoid_neuron])
def test_small_graphs_draw_after_backward_as_with_a_retained_graph(build):
    kept, plain = build(), build()
    kept.backward(retain_graph=True)
    plain.backward()
    source = draw_graph(plain).source
    assert source == draw_graph(kept).source and "freed" not in source
    if build is small_tensor_graph:
        assert "data [4.5, 1.2]" in source and "grad [9, 2.4]" in source  # data and carried grad of h


def test_a_big_graph_draws_its_freed_nodes_with_shape_and_no_values():
    model, rng = mlp(), np.random.default_rng(5)
    loss = F.cross_entropy(model(Tensor(rng.standard_normal((BATCH, FEATURES)).astype(np.float32))),
                           rng.integers(0, 10, BATCH))
    loss.backward()
    source = draw_graph(loss).source
    assert source.count(f"({BATCH}, {HIDDEN}) float32 | data freed after backward | grad None") == 2
    assert f"({BATCH}, {FEATURES}) float32 | data freed after backward" in source  # nobody held the batch
    assert "(10, 256) float32 | data min" in source and "(128, 10) float32 | data min" in source
    boxes = draw_graph(loss, collapse="module").source
    assert boxes.count("data freed after backward") == 3


def test_a_freed_array_holds_no_memory_and_keeps_shape_and_dtype():
    a = np.ones((512, 512), np.float64)
    p = memory.placeholder(a)
    assert p.shape == a.shape and p.dtype == a.dtype and not any(p.strides) and np.isnan(p).all()
    assert memory.freed(p) and memory.freed(p.reshape(-1)) and not memory.freed(a)
    assert not memory.freed(np.broadcast_to(np.float64(np.nan), (3, 3)))  # a user's broadcast is not freed data
    assert memory.placeholder(np.zeros(4, np.int64)).sum() == 0 and not p.flags.writeable


def test_views_and_pooled_results_are_let_go_children_first():
    rng = np.random.default_rng(6)
    x = Tensor(rng.standard_normal((64, 8, 28, 28)).astype(np.float32), requires_grad=True)

    def held_step():
        h = (x * 2.0).relu()                  # 1.6 MB: blocks of the pool
        flat = h.reshape(64, -1)              # a view of h's block
        return (flat[:, :100] * flat[:, :100]).sum()

    losses = [held_step() for _ in range(2)]
    for loss in losses:
        loss.backward()
    held = memory._held
    for _ in range(4):
        loss = held_step()
        loss.backward()
        losses.append(loss)
    assert memory._held == held  # the freed activations' blocks are reused, not kept busy
    assert [str(n.op) for n in topological_order([losses[-1]]) if memory.freed(n._data)] == ["*", "relu", "reshape"]


def test_grad_lets_go_as_backward_does_and_its_inputs_keep_their_data():
    model, rng = mlp(), np.random.default_rng(7)
    xb = Tensor(rng.standard_normal((BATCH, FEATURES)).astype(np.float32))
    hidden = model[0](xb)
    loss = F.cross_entropy(model[2](model[1](hidden)), rng.integers(0, 10, BATCH))
    expected = hidden.numpy().copy()
    g_hidden, g_weight = autograd.grad(loss, [hidden, model[0].weight])
    assert g_hidden.shape == hidden.shape and model[0].weight.grad is None
    np.testing.assert_array_equal(hidden.numpy(), expected)
    assert [str(n.op) for n in topological_order([loss]) if memory.freed(n._data)] == ["relu"]


def test_a_view_and_its_base_held_during_backward_are_both_let_go_at_the_next():
    x = Tensor(np.linspace(-1, 1, 256 * 256, dtype=np.float32).reshape(256, 256), requires_grad=True)
    h = (x * 2.0).tanh()  # 256 KiB of its own (malloc's: below the pool's blocks)
    v = h.reshape(-1)     # a view of h's array
    loss = (v * v).sum()
    loss.backward()
    assert not memory.freed(h._data) and not memory.freed(v._data)
    h = v = None
    (x * 3.0).tanh().sum().backward()
    assert [str(n.op) for n in topological_order([loss]) if memory.freed(n._data)] == ["*", "tanh", "reshape", "*"]
