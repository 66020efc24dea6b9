"""The reused buffers behind big op results (autograd.memory): never handed out while any array refers to them."""

import numpy as np
import pytest

from autograd import Tensor
from autograd import memory

BIG = (512, 512)  # 1 MiB of float32: above memory.MIN_BYTES


@pytest.fixture(autouse=True)
def idle_pool():
    memory.release()
    yield
    memory.release()


def test_a_block_is_reused_only_once_nothing_refers_to_it():
    a = memory.empty(BIG, np.float32)
    a.fill(1)
    view = a[10:20].T  # a view of a view still holds the block
    del a
    b = memory.empty(BIG, np.float32)
    assert not np.shares_memory(b, view) and np.all(view == 1)
    blocks = len(memory._blocks[b.nbytes])
    del view  # the first block is idle now
    c = memory.empty(BIG, np.float32)
    assert not np.shares_memory(c, b) and len(memory._blocks[b.nbytes]) == blocks  # reused, not new


def test_small_arrays_come_from_numpy_and_layout_follows_like():
    assert memory.empty((4, 4), np.float32).base is None
    like = np.zeros((8, 256, 64), np.float32).transpose(1, 0, 2)  # axis 1 outermost in memory
    out = memory.empty(like.shape, np.float32, like)
    assert out.shape == like.shape and out.strides == like.strides
    assert memory.zeros((300, 300), np.float64).sum() == 0


def test_results_in_reused_buffers_stay_correct_across_steps():
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((600, 600)).astype(np.float32), requires_grad=True)
    kept = []
    for _ in range(3):
        x = Tensor(rng.standard_normal((600, 600)).astype(np.float32))
        h = (x @ w).relu()
        kept.append((h, np.maximum(x.numpy() @ w.numpy(), 0)))  # a live result must never be overwritten
        (h * h).sum().backward()
        assert w._grad.base is None  # a leaf's .grad owns its memory, never a reused block
        w.grad = None
    for h, expected in kept:
        np.testing.assert_allclose(h.data, expected, rtol=1e-5)


def test_idle_blocks_beyond_capacity_are_released(monkeypatch):
    start = memory._held  # blocks other tests still use
    monkeypatch.setattr(memory, "CAPACITY", start + (3 << 20))
    for _ in range(6):
        memory.empty(BIG, np.float32)  # each is idle as soon as it is dropped
        memory.empty((1024, 1024), np.float32)  # 4 MiB: over capacity, so idle ones go
    assert memory._held - start <= 5 << 20


def test_out_pools_only_big_results():
    assert memory.out((4, 4), np.float32) is None  # small: NumPy allocates from malloc's free lists
    big = memory.out(BIG, np.float32)
    assert big.shape == BIG and big.dtype == np.float32 and big.base is not None
    like = np.empty((BIG[1], BIG[0]), np.float32).T
    assert memory.out(BIG, np.float32, like).strides == like.strides


def test_relu_writes_its_gradient_in_place_only_into_arrays_nobody_else_holds():
    from autograd import trace_backward
    from autograd.ops import owned

    def closure(g):
        return owned(g)

    def core(make):  # the core's loop holds the upstream gradient in one local
        g = make()
        return closure(g)

    assert core(lambda: np.ones((600, 600), np.float32)) and core(lambda: memory.empty(BIG, np.float32))
    held = np.ones((600, 600), np.float32)
    assert not core(lambda: held) and not core(lambda: held[:10])
    assert not core(lambda: np.broadcast_to(np.ones(3), (3, 3)))
    seed = np.ones((2, 600), np.float32)
    x = Tensor(np.linspace(-1, 1, 1200, dtype=np.float32).reshape(2, 600), requires_grad=True)
    r = x.relu()
    r.retain_grad()
    (r * 3.0).backward(gradient=seed)
    assert np.all(r.grad.numpy() == 3) and np.all(seed == 1)  # neither the kept .grad nor the caller's seed changed
    np.testing.assert_array_equal(x.grad, 3 * (x.numpy() > 0))
    y = x.relu() * 2.0
    trace = trace_backward(y, gradient=seed, show=False)
    upstream = next(s["upstream"] for s in trace.steps if s["op"] == "relu")
    assert np.all(upstream == 2)  # a trace keeps the upstream gradient as it was


def test_out_like_empty_like_and_broadcast_out_pool_only_big_results_laid_out_as_their_operand():
    small = np.ones((8, 256), np.float32)
    assert memory.out_like(small) is None and memory.broadcast_out(small, small[:1]) is None
    big = np.ones((BIG[1], BIG[0]), np.float32).T  # column-major
    out = memory.out_like(big)
    assert out.shape == big.shape and out.strides == big.strides and out.base is not None
    edge = np.ones((memory.MIN_BYTES // 4 // 256, 256), np.float32)  # just big enough to be pooled
    assert memory.out_like(edge).base is not None
    assert memory.out_like(edge, np.dtype(bool)) is None  # a mask of it is a quarter of that: malloc's
    mask = memory.out_like(np.ones((1024, 1024), np.float32), np.dtype(bool))
    assert mask.dtype == bool and mask.shape == (1024, 1024) and mask.base is not None
    assert memory.empty_like(small, np.dtype(np.int32)).base is None  # small: NumPy's own, laid out as small
    words = memory.empty_like(big, np.dtype(np.int32))
    assert words.dtype == np.int32 and words.strides == big.strides and words.base is not None
    row = np.ones((1, BIG[1]), np.float32)
    assert memory.broadcast_out(big, row).strides == big.strides  # laid out as the operand of its shape
    with pytest.raises(ValueError):
        memory.broadcast_out(big, np.ones((3, 1), np.float32))


def test_only_memory_decides_which_results_are_pooled():
    from pathlib import Path
    import autograd.ops
    sources = {path.name: path.read_text() for path in Path(autograd.ops.__file__).parent.glob("*.py")}
    assert not [name for name, text in sources.items() if "MIN_BYTES" in text or "pooled(" in text]
    assert not hasattr(memory, "pooled")


def test_over_capacity_only_enough_idle_blocks_go_the_biggest_first(monkeypatch):
    memory.release()  # only this test's blocks are idle from here on
    start = memory._held
    monkeypatch.setattr(memory, "CAPACITY", start + (8 << 20))
    small = [memory.empty(BIG, np.float32) for _ in range(3)]  # 1 MiB each
    big = memory.empty((1024, 1024), np.float32)  # 4 MiB
    del small, big  # all idle: 7 MiB held
    busy = memory.empty((1536, 1024), np.float32)  # 6 MiB more: over capacity by 5
    sizes = {size: len(blocks) for size, blocks in memory._blocks.items() if blocks}
    assert memory._held - start == 8 << 20 and busy.base is not None
    assert sizes.get(4 << 20, 0) == 0 and sizes.get(1 << 20, 0) == 2  # the 4 MiB block and one 1 MiB went
