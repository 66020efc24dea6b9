"""The graph core: ordering, grad mode, retain_graph, grad(), shared by Value and Tensor."""

import gc
import threading
import weakref

import numpy as np
import pytest

from autograd import Tensor, Value, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd.graph import topological_order


def test_topological_order_puts_parents_first_and_keeps_each_node_once():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order([e])
    assert len(order) == 5 and order[-1] is e
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]


def test_deep_graph_order_needs_no_recursion():
    x = Value(0.0)
    y = x
    for _ in range(200_000):
        y = y + 1.0
    assert len(topological_order([y])) == 400_001


def test_enable_grad_inside_no_grad_and_nesting():
    a = Value(1.0)
    with no_grad():
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
            assert (a * 2).parents != ()
        assert (a * 2).parents == ()
    assert is_grad_enabled()
    with set_grad_enabled(False):
        assert not is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []
    inside, release = threading.Event(), threading.Event()

    def worker():
        with no_grad():
            inside.set()
            release.wait(5)
            seen.append(is_grad_enabled())

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait(5)
    main_mode = is_grad_enabled()
    release.set()
    thread.join()
    assert main_mode is True and seen == [False]


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError
    assert is_grad_enabled()


def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = Value(3.0), Value(-2.0)
    f = x * y + x
    gx, gy = grad(f, [x, y])
    assert isinstance(gx, Value) and (gx.data, gy.data) == (-1.0, 3.0)
    assert x.grad == 0.0 and y.grad == 0.0


def test_grad_of_an_interior_node_and_unused_inputs():
    x = Value(2.0)
    h = x * x
    f = h * 3.0
    (gh,) = grad(f, h, retain_graph=True)
    assert gh.data == 3.0
    unused = Value(1.0)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        grad(f, [x, unused], retain_graph=True)
    gx, gu = grad(f, [x, unused], allow_unused=True)
    assert gx.data == 12.0 and gu is None


def test_create_graph_gives_differentiable_gradients():
    x = Value(1.5)
    y = x ** 3
    (dy,) = grad(y, x, create_graph=True)
    assert dy.data == pytest.approx(3 * 1.5 ** 2)
    (d2y,) = grad(dy, x)
    assert d2y.data == pytest.approx(6 * 1.5)


def test_backward_create_graph_puts_a_node_in_grad():
    x = Value(0.5)
    y = x.tanh()
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    g = x.grad
    x.grad = 0.0
    g.backward()
    t = np.tanh(0.5)
    assert x.grad == pytest.approx(-2 * t * (1 - t * t), rel=1e-12)


def test_tensor_graphs_use_the_same_core():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = x * x + x
    y.backward(gradient=np.ones(3))
    np.testing.assert_array_equal(x.grad, [3.0, -3.0, 7.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward(gradient=np.ones(3))
    (g,) = grad(x * 2.0, x, grad_outputs=np.ones(3))
    assert isinstance(g, Tensor)
    np.testing.assert_array_equal(g.data, [2.0, 2.0, 2.0])


def test_released_graphs_free_their_closures():
    class Tracked:
        pass

    x = Value(1.0)
    y = x * 2.0
    token = Tracked()
    ref = weakref.ref(token)
    y._vjp = (lambda saved: (lambda g, out, a, b: (g * b, g * a * (saved is not None))))(token)
    del token
    gc.collect()
    alive_before = ref() is not None
    y.backward()
    gc.collect()
    assert alive_before and ref() is None and x.grad == 2.0


def test_the_renderer_loads_on_first_use_and_every_public_name_resolves():
    import subprocess
    import sys

    code = ("import sys, autograd; assert 'graphviz' not in sys.modules; "
            "from autograd import Exploded, explode, draw_graph; import autograd.viz; "
            "assert callable(explode) and autograd.explode is explode and isinstance(Exploded, type); "
            "assert all(hasattr(autograd, n) for n in autograd.__all__)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_values_and_tensors_can_be_weakly_referenced_and_are_freed_with_their_graph():
    import weakref

    import numpy as np

    from autograd import Tensor, Value
    x, t = Value(2.0), Tensor(np.ones(3), requires_grad=True)
    y, u = x * x + 1, (t * t).sum()
    refs = [weakref.ref(y), weakref.ref(u)]
    y.backward()
    u.backward()
    del y, u
    assert [r() for r in refs] == [None, None]  # no cycle keeps a graph alive
    assert (x.grad, t.grad.tolist()) == (4.0, [2.0, 2.0, 2.0])


def test_a_refused_second_backward_changes_no_grad():
    import numpy as np

    from autograd import Tensor, Value
    a = Value(2.0)
    y = a * a
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    assert (y.grad, a.grad) == (1.0, 4.0)
    t = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    z = (t * t).sum()
    z.retain_grad()
    z.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.backward()
    assert z.grad.item() == 1.0 and t.grad.tolist() == [2.0, 4.0]


def test_a_backward_through_inf_and_nan_raises_no_numpy_warning():
    import warnings
    x = np.array([-1.0, 0.0, 1.0, np.inf, -np.inf, np.nan])
    for op in (lambda t: t.leaky_relu(), lambda t: t.maximum(t * 0.5), lambda t: t.log(), lambda t: t / 0.0):
        t = Tensor(x.copy(), requires_grad=True)
        with np.errstate(all="ignore"):
            y = op(t).sum()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # torch is silent here; so is chainrule's backward
            y.backward()
        assert t.grad.shape == (6,)


def test_the_scalar_sort_gives_the_generic_order():
    from autograd.scalar_walk import scalar_order
    rng = np.random.default_rng(7)
    leaves = [Value(float(v)) for v in rng.standard_normal(6)]
    nodes = list(leaves)
    for _ in range(60):  # a random DAG with fan-out, a + a edges and unary ops
        i, j = rng.integers(len(nodes), size=2)
        kind = rng.integers(3)
        nodes.append(nodes[i] * nodes[j] if kind == 0 else nodes[i] + nodes[i] if kind == 1 else nodes[i].tanh())
    roots = [nodes[-1], nodes[-7]]
    assert scalar_order(roots) == topological_order(roots)
    assert len(scalar_order(roots)) == len(set(scalar_order(roots)))


def test_a_value_backward_leaves_the_garbage_collector_as_it_found_it():
    """The scalar walk runs with the collector off (it makes no cycles); it is back on after, also after an error."""
    import gc

    from autograd import Value
    assert gc.isenabled()
    a = Value(2.0)
    (a * a + a).backward()
    assert gc.isenabled() and a.grad == 5.0
    gc.disable()
    try:
        (a * 3).backward()
        assert not gc.isenabled()  # a collector the user turned off stays off
    finally:
        gc.enable()
    c = a * a

    def failing(*args):
        raise ZeroDivisionError("inside the walk")

    c._vjp = failing
    with pytest.raises(ZeroDivisionError, match="inside the walk"):
        c.backward()
    assert gc.isenabled()
