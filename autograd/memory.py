"""Reused memory for the big arrays the hot ops make (activations, their gradients, im2col columns).

glibc hands big freed blocks back to the OS, so a training step that makes the same arrays every
time page-faults every one of them afresh (a CNN step here: 3,900 faults, 2.3x slower). The hot ops
therefore write their results (``out=``) into blocks kept here: a block is handed out again once
no array refers to it any more, which its reference count tells exactly (every view of a block
refers to it, also views of views). Small arrays come from malloc's free lists, which it keeps.

After a backward that releases its graph, ``free_unheld`` also lets go of the big arrays that only the
graph still refers to, which a held loss would otherwise keep (torch frees its saved tensors there).
"""

from __future__ import annotations

import bisect
import math
import sys
import threading
import weakref

import numpy as np

__all__ = ["out", "out_like", "broadcast_out", "empty", "empty_like", "zeros", "reshape", "release", "placeholder",
           "freed", "free_unheld"]

# From glibc's first mmap threshold (128 KB) up, arrays come from the pool. Below it malloc's own recycling
# wins (it hands back the block freed last, still in cache, and costs no Python). Above it glibc may give a
# freed block back to the OS: its thresholds rise only with the biggest block a process has freed, so a
# fresh process (a notebook training makemore) trims its heap at the end of every step and page-faults the
# next one's arrays. From 1 MB up only, makemore's step at batch 256 took 1.03 ms and 218 faults a step in
# a fresh process, the CNN's 8.2 ms and 850 (590 us and 6.3 ms with no fault from 128 KB up); the bench's
# own process, whose earlier workloads had raised the thresholds, showed neither. The MLP step at batch
# 128 stays within noise (+0.8%, medians of five fresh processes).
MIN_BYTES = 128 << 10
# Held beyond this, idle blocks are released (the biggest first) until it is not. The bench's steps
# use at most 15 MB (the CNN at batch 64; the MLP at batch 1024: 4 MB); a CNN step at batch 256 needs
# 75 MB and, with 60 MB of it reused, runs as fast as with all of it (256 MB used to be kept idle).
CAPACITY = 64 << 20

_lock = threading.Lock()
_blocks: dict[int, list] = {}  # size in bytes -> blocks of that size
_sizes: list = []  # the sizes, ascending
_held = 0


def _free_count() -> int:
    """A block's reference count, seen in ``_take``'s loop, when nothing but the pool refers to it."""
    blocks = [np.empty(1, np.uint8)]
    for block in blocks:
        return sys.getrefcount(block)


_FREE = _free_count()


def _take(nbytes: int) -> np.ndarray:
    """An idle block of at least ``nbytes`` (the smallest, at most twice that), else a new one: a
    block freed by one array then also serves the next, smaller one, as malloc's memory would."""
    global _held
    with _lock:
        for size in _sizes[bisect.bisect_left(_sizes, nbytes):bisect.bisect_right(_sizes, 2 * nbytes)]:
            for block in _blocks[size]:
                if sys.getrefcount(block) == _FREE:
                    return block[:nbytes]
        block = np.empty(nbytes, np.uint8)
        if nbytes not in _blocks:
            bisect.insort(_sizes, nbytes)
            _blocks[nbytes] = []
        _blocks[nbytes].append(block)
        _held += nbytes
        if _held > CAPACITY:
            _release_idle(CAPACITY)
        return block


def _release_idle(limit: int = 0) -> None:
    """Give idle blocks back to malloc, the biggest first, until at most ``limit`` bytes are held: a
    step that needs more than CAPACITY keeps reusing what fits and page-faults only the rest."""
    global _held
    for size in reversed(_sizes):
        if _held <= limit:
            return
        blocks, kept = _blocks[size], []
        for block in blocks:
            if _held > limit and sys.getrefcount(block) == _FREE:
                _held -= size
            else:
                kept.append(block)
        blocks[:] = kept


def _viewed_count() -> int:
    """A block's reference count, seen by ``sole_view``, when one view and the pool refer to it."""
    blocks = [np.empty(8, np.uint8)]
    return _base_refcount(blocks[0][:4])


def _base_refcount(a: np.ndarray) -> int:
    base = a.base
    return sys.getrefcount(base)


_VIEWED = _viewed_count()


def sole_view(a: np.ndarray) -> bool:
    """True if ``a`` is a view of one of the pool's blocks that nothing else refers to."""
    if _base_refcount(a) != _VIEWED:  # counted first: a local holding the base would add one
        return False
    base = a.base
    return isinstance(base, np.ndarray) and any(block is base for block in _blocks.get(base.nbytes, ()))


def release() -> None:
    """Give every idle block back to malloc."""
    with _lock:
        _release_idle()


def out(shape: tuple, dtype, like: np.ndarray | None = None) -> np.ndarray | None:
    """Where a result of ``shape`` goes (``out=`` of a ufunc or matmul): a reused block laid out as
    ``like`` if it is big, else None, so NumPy allocates it from malloc's free lists."""
    itemsize = dtype.itemsize if isinstance(dtype, np.dtype) else np.dtype(dtype).itemsize
    if math.prod(shape) * itemsize < MIN_BYTES:
        return None
    return empty(shape, dtype, like)


def out_like(a: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray | None:
    """``out`` for a result of a's shape, laid out as a, of a's dtype or ``dtype`` (an np.dtype): a reused
    block if big, else None; the cheapest test, for the hot elementwise ops."""
    dtype = a.dtype if dtype is None else dtype
    if a.size * dtype.itemsize < MIN_BYTES:
        return None
    return empty(a.shape, dtype, a)


def empty_like(a: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """An uninitialised array of a's shape, laid out as a, of a's dtype or ``dtype`` (an np.dtype): a reused
    block if big, else NumPy's."""
    dtype = a.dtype if dtype is None else dtype
    if a.size * dtype.itemsize < MIN_BYTES:
        return np.empty_like(a, dtype)
    return empty(a.shape, dtype, a)


def broadcast_out(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """``out`` for an elementwise result of x and y of one float dtype (NumPy's broadcasting), laid out
    as the operand of the result's shape; None (malloc) for a small one, decided before any shape work."""
    if max(x.nbytes, y.nbytes) < MIN_BYTES:  # the result is at least as big as either operand
        return None
    shape = x.shape if x.shape == y.shape else np.broadcast_shapes(x.shape, y.shape)
    return empty(shape, x.dtype, x if x.shape == shape else y if y.shape == shape else None)


def empty(shape: tuple, dtype, like: np.ndarray | None = None) -> np.ndarray:
    """An uninitialised array of ``shape``; its axes are laid out in memory in the order of ``like``'s
    (an array of the same number of dimensions), so elementwise work on both runs along memory."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if like is None or like.flags.c_contiguous or like.ndim != len(shape):  # row-major
        return np.empty(shape, dtype) if nbytes < MIN_BYTES else _take(nbytes).view(dtype).reshape(shape)
    if nbytes < MIN_BYTES:
        return np.empty_like(like, dtype, shape=shape)
    order = sorted(range(len(shape)), key=lambda i: -abs(like.strides[i]))  # outer first
    out = _take(nbytes).view(dtype).reshape(tuple(shape[i] for i in order))
    return out.transpose(np.argsort(order))


def zeros(shape: tuple, dtype, like: np.ndarray | None = None) -> np.ndarray:
    """``empty`` filled with zeros."""
    out = empty(shape, dtype, like)
    out.fill(0)
    return out


def reshape(x: np.ndarray, shape: tuple) -> np.ndarray:
    """``x.reshape(shape)``; when that has to copy a big array, the copy goes to a reused block (a Tensor
    under create_graph reshapes as it does, recorded)."""
    if x.__class__ is not np.ndarray or x.flags.c_contiguous or x.nbytes < MIN_BYTES:
        return x.reshape(shape)
    try:
        return np.reshape(x, shape, copy=False)
    except TypeError:  # NumPy < 2.1 has no copy=
        return x.reshape(shape)
    except ValueError:  # a copy is needed (or the shape is wrong: the reshape below says so)
        out = empty(x.shape, x.dtype)
        np.copyto(out, x)
        return out.reshape(shape)


# --- what a held graph keeps after backward ----------------------------------------------------------
_FREED: dict = {}  # dtype -> the read-only 0-d array every placeholder of that dtype is a view of


def placeholder(a: np.ndarray) -> np.ndarray:
    """An array of a's shape and dtype that holds no memory: nan (0 for other kinds) broadcast with
    zero strides, so a freed node still has its shape and any use of its values shows nan."""
    base = _FREED.get(a.dtype)
    if base is None:
        base = np.full((), np.nan if a.dtype.kind in "fc" else 0, a.dtype)
        base.flags.writeable = False
        base = _FREED.setdefault(a.dtype, base)
    return np.ndarray(a.shape, a.dtype, base, strides=(0,) * a.ndim)  # np.broadcast_to's, 3x faster


def freed(a) -> bool:
    """True for a ``placeholder`` (or a view of one): the data of a node released after backward."""
    return a.__class__ is np.ndarray and a.base is not None and a.base is _FREED.get(a.dtype)


def _outside_refs(nodes: list, uses: dict) -> list:
    """Each node's reference count less its ``uses`` (the graph's tuples that hold it)."""
    return [sys.getrefcount(node) - uses[node] for node in nodes]


def _data_refs(node) -> int:
    return sys.getrefcount(node._data)


class _Probe:
    __slots__ = ("_data", "__weakref__")


def _graph_counts() -> tuple:
    """What ``_drop`` sees for a node that only its list, ``uses`` and the graph's tuples refer to,
    and for an array that only its node holds."""
    probe = _Probe()
    probe._data = np.empty(1)
    nodes, parents = [probe], (probe,)  # noqa: F841 (the tuple stands for a child's parents)
    uses = {probe: len(parents)}
    del probe
    return _outside_refs(nodes, uses)[0], _data_refs(nodes[0])


_INSIDE, _SOLE_DATA = _graph_counts()


class _Kept(threading.local):
    last = None  # (weakrefs to the roots, [(weakref to a node, its uses)]) the last backward kept


_kept = _Kept()


def _candidate(node, released, keep: int) -> bool:
    """Data no later backward can need (the node is interior and ``released``, or a leaf needing no
    gradient), not kept for its grad (retain_grad), not freed yet, big or a view of a big array."""
    data = node._data
    return (not node.retains_grad and (node._vjp is released if node.parents else not node.requires_grad)
            and (data.nbytes > keep or data.base is not None and data.base.nbytes > keep) and not freed(data))


def _survey(order: list, released, keep: int) -> tuple:
    """One pass over the graph: the nodes whose data is big or a view (to be asked ``_candidate``), and
    how many times the graph's own tuples hold each node: as a parent, and as an input of the nn.Module
    calls stamped on their outputs (``_calls``). None if an interior node was not ``released``: a node
    the pass skipped may still need its inputs' values."""
    nodes, uses = [], {}
    count = uses.get
    for node in order:
        data = node._data
        if data.nbytes > keep or data.base is not None:
            nodes.append(node)
        parents = node.parents
        if parents and node._vjp is not released:
            return None
        for parent in parents:
            uses[parent] = count(parent, 0) + 1
        try:
            calls = node._calls  # set on every Tensor made (a getattr default would raise inside: 0.5 us)
        except AttributeError:
            calls = ()
        for _, inputs in calls:
            for parent in inputs:
                uses[parent] = count(parent, 0) + 1
    return nodes, uses


def free_unheld(order: list, roots: tuple, released, keep: int) -> None:
    """After a plain Tensor backward that released the graph in ``order`` (emptied here; ``released``
    marks its spent closures): let go of the arrays above ``keep`` bytes that only the graph still
    refers to, as torch frees its saved tensors, so a loss kept across steps keeps little. They become
    a ``placeholder`` (shape and dtype stay); a small view of a big array gets a copy of its own. What
    the user holds (a variable, an attribute, a list, the array) keeps its data, and is asked again
    after the next backward while the roots live: a loop has moved on to the next batch by then."""
    previous, _kept.last = _kept.last, None
    if previous is not None:
        _retry(*previous, released, keep)
    survey = _survey(order, released, keep)
    order.clear()
    if survey is None:
        return
    nodes, uses = survey
    survey = None
    nodes = [node for node in nodes if node in uses and _candidate(node, released, keep)]  # roots: not in uses
    kept = _drop(nodes, uses, keep)
    if kept:
        _kept.last = tuple(map(weakref.ref, roots)), [(weakref.ref(node), uses[node]) for node in kept]


def _retry(roots: tuple, kept: list, released, keep: int) -> None:
    """``free_unheld``'s second look at the nodes the user held during the previous backward."""
    alive = [root() for root in roots]
    if any(root is None for root in alive):
        return  # part of that graph is gone, and with it some of the references counted
    nodes, uses = [], {}
    for ref, count in kept:
        node = ref()
        if node is not None and _candidate(node, released, keep):
            nodes.append(node)
            uses[node] = count
    node = None
    _drop(nodes, uses, keep)


def _drop(nodes: list, uses: dict, keep: int) -> list:
    """Free the data of each of ``nodes`` (in topological order) that nothing but the graph's tuples
    counted in ``uses`` refers to, when nothing else holds its array either; return the others, in
    order. Children go first, so a view's reference to its parent's array is gone when the parent is asked."""
    outside = _outside_refs(nodes, uses)
    kept = []
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        if outside[i] == _INSIDE and _data_refs(node) == _SOLE_DATA:
            node._data = placeholder(node._data) if node._data.nbytes > keep else node._data.copy()
        else:
            kept.append(node)
    return kept[::-1]
