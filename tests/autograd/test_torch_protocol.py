"""torch's Tensor protocol: .data/.grad views, in-place rules and version checks, item assignment,
conversions, hooks; micrograd's manual _backward. Each behaviour is compared with torch where it has one."""

import math
import warnings

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value, no_grad

torch = pytest.importorskip("torch")


def both(values, requires_grad=False, dtype=np.float32):
    array = np.array(values, dtype=dtype)
    return (Tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


# --- .data and .grad -----------------------------------------------------------------------
def test_data_is_a_graph_free_tensor_sharing_memory():
    p, tp = both([1.0, 2.0, 3.0], requires_grad=True)
    d = p.data
    assert isinstance(d, Tensor) and not d.requires_grad and d.is_leaf
    d += 1  # changes p's values, with no error and no graph, as torch
    tp.data += 1
    np.testing.assert_array_equal(p.numpy(), tp.detach().numpy())
    assert p.numpy() is p.numpy() and np.shares_memory(p.data.numpy(), p.numpy())


def test_sgd_update_through_data_and_grad_matches_torch():
    w, tw = both([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    x, tx = both([[1.0, 2.0], [3.0, -1.0]])
    for _ in range(3):
        loss, tloss = (x @ w).tanh().sum(), (tx @ tw).tanh().sum()
        w.grad = None
        tw.grad = None
        loss.backward()
        tloss.backward()
        w.data += -0.1 * w.grad
        tw.data += -0.1 * tw.grad
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-6)
    assert isinstance(w.grad, Tensor) and w.grad.shape == (2, 2)
    ratio = (0.1 * w.grad.std() / w.data.std()).log10().item()
    tratio = (0.1 * tw.grad.std() / tw.data.std()).log10().item()
    assert math.isclose(ratio, tratio, rel_tol=1e-5)


def test_grad_checks_of_makemore_part4():
    t, tt = both([[0.1, -0.4], [0.3, 0.2]], requires_grad=True)
    (t.exp() * 2).sum().backward()
    (tt.exp() * 2).sum().backward()
    dt, tdt = 2 * t.data.exp(), 2 * tt.data.exp()
    assert autograd.all(dt == t.grad).item() == torch.all(tdt == tt.grad).item()
    assert autograd.allclose(dt, t.grad) and torch.allclose(tdt, tt.grad)
    assert (dt - t.grad).abs().max().item() == (tdt - tt.grad).abs().max().item() == 0.0


def test_grad_assignment_is_checked_before_anything_changes():
    p = Tensor(np.zeros((3, 4), np.float32), requires_grad=True)
    with pytest.raises(ValueError, match=r"assigned grad has shape \(4,\), but the tensor has shape \(3, 4\)"):
        p.grad = autograd.ones(4)
    with pytest.raises(TypeError, match="assigned grad has dtype float64"):
        p.grad = Tensor(np.ones((3, 4)))
    assert p.grad is None
    p.grad = autograd.ones(3, 4)
    assert p.grad.sum().item() == 12.0


def test_grad_of_two_leaves_never_share_memory():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])


# --- in-place ops ------------------------------------------------------------------------------
def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w *= 0.1
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])
    with no_grad():
        same = w
        w *= 0.1
    assert w is same and w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.numpy(), [0.1, 0.2])


@pytest.mark.parametrize("name, arg", [("add_", 2.0), ("sub_", 2.0), ("mul_", 3.0), ("div_", 4.0),
                                       ("clamp_", None), ("fill_", 7.0), ("zero_", None), ("copy_", [5.0, 6.0])])
def test_in_place_methods_match_torch(name, arg):
    a, ta = both([[1.5, -2.0], [0.25, 3.0]])
    args = () if arg is None else (arg,)
    if name == "clamp_":
        kwargs = {"min": -1.0, "max": 2.0}
    else:
        kwargs = {}
    targs = tuple(torch.tensor(x) if isinstance(x, list) else x for x in args)
    out, tout = getattr(a, name)(*args, **kwargs), getattr(ta, name)(*targs, **kwargs)
    assert out is a and tout is ta
    np.testing.assert_allclose(a.numpy(), ta.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["__iadd__", "__isub__", "__imul__", "__itruediv__"])
@pytest.mark.parametrize("other", ["float", "int", "same", "row", "0-d", "transposed self", "other dtype", "zeros"])
def test_in_place_operators_outside_a_graph_match_torch(op, other, dtype):
    """The one-call path of ``p.data -= lr * p.grad`` gives torch's values and dtype for every right-hand side."""
    a, ta = both([[1.5, -2.0, 0.0], [0.25, 3.0, -7.0], [2.0, 0.5, 1.0]], dtype=dtype)
    rhs = {"float": 0.1, "int": 3, "same": [[0.5] * 3, [2.0] * 3, [-1.0] * 3], "row": [[1.0, -0.5, 4.0]],
           "0-d": 1.25, "other dtype": [[0.3] * 3] * 3, "zeros": [[0.0] * 3] * 3}.get(other)
    if other == "transposed self":
        b, tb = a.T, ta.T.clone()  # overlaps the target: read whole before writing, as NumPy (torch refuses)
    elif isinstance(rhs, (int, float)) and other != "0-d":
        b = tb = rhs
    else:
        rhs_dtype = np.float64 if (other == "other dtype") == (dtype == np.float32) else np.float32
        b, tb = both(rhs, dtype=dtype if other != "other dtype" else rhs_dtype)
    before, version = a, a._version if hasattr(a, "_version") else 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 0/0 and x/0 give nan and inf silently, as torch
        a = getattr(a, op)(b)
        ta = getattr(ta, op)(tb)
    assert a is before and a.dtype == dtype and a._version > version
    np.testing.assert_array_equal(a.numpy(), ta.numpy())


def test_operators_in_place_keep_the_object_and_the_dtype():
    counts = autograd.zeros((3, 3), dtype=autograd.int32)
    before = counts
    counts[0, 1] += 1
    counts[0, 1] += 1
    counts += 1
    assert counts is before and counts.dtype == np.int32
    assert counts.tolist() == [[1, 3, 1], [1, 1, 1], [1, 1, 1]]
    with pytest.raises(RuntimeError, match="result type float.* can't be cast to the desired output type int32"):
        counts *= 0.5


def test_count_table_of_the_bigram_lecture():
    words = ["emma", "olivia", "ava"]
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    N, TN = autograd.zeros((len(stoi), len(stoi)), dtype=autograd.int32), torch.zeros(
        (len(stoi), len(stoi)), dtype=torch.int32)
    for w in words:
        seq = ["."] + list(w) + ["."]
        for c1, c2 in zip(seq, seq[1:]):
            N[stoi[c1], stoi[c2]] += 1
            TN[stoi[c1], stoi[c2]] += 1
    np.testing.assert_array_equal(N.numpy(), TN.numpy())
    P, TP = (N + 1).float(), (TN + 1).float()
    P /= P.sum(1, keepdim=True)
    TP /= TP.sum(1, keepdim=True)
    np.testing.assert_allclose(P.numpy(), TP.numpy(), rtol=1e-6)


def test_in_place_on_a_non_leaf_is_recorded_as_torch():
    x, tx = both([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], requires_grad=True)
    outs = []
    for leaf in (x, tx):
        d = leaf * 3
        d[range(2), [2, 0]] -= 1  # makemore part 4's dlogits
        d /= 2
        (d * d).sum().backward()
        outs.append((d, leaf.grad))
    np.testing.assert_allclose(outs[0][0].numpy(), outs[1][0].detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(outs[0][1].numpy(), outs[1][1].numpy(), rtol=1e-5)


def test_in_place_on_an_output_its_backward_needs_keeps_the_gradient_right():
    # torch raises here (softmax saved its output); chainrule snapshots the old value instead.
    x = Tensor(np.array([[0.5, -1.0, 2.0]]), requires_grad=True)
    d = x.softmax(1)
    d[0, 2] -= 1
    (d * d).sum().backward()
    y = Tensor(np.array([[0.5, -1.0, 2.0]]), requires_grad=True)
    e = y.softmax(1) - Tensor(np.array([[0.0, 0.0, 1.0]]))
    (e * e).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12)


def test_item_assignment_records_gradients_to_both_sides():
    w, tw = both([1.0, 2.0], requires_grad=True)
    for lib, leaf in ((autograd, w), (torch, tw)):
        z = lib.zeros(4)
        z[1:3] = leaf * 3
        z[0] = leaf[1]
        (z * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())


def test_changing_a_saved_tensor_in_place_makes_backward_raise():
    x, tx = both([0.5, 1.0], requires_grad=True)
    y, ty = x.exp(), tx.exp()
    with no_grad():
        y *= 2
    with torch.no_grad():
        ty *= 2
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation: its output of op 'exp'"):
        y.sum().backward()
    assert x.grad is None


def test_changing_a_parameter_in_place_after_its_use_makes_backward_raise():
    w = Tensor([1.0, 2.0], requires_grad=True)
    x = Tensor([3.0, 4.0])
    loss = (w * x).sum()
    with no_grad():
        x += 1  # the mul saved x for w's gradient
    with pytest.raises(RuntimeError, match="input 1 of op '\\*'"):
        loss.backward()
    loss2 = (w * x).sum()  # recorded after the change: fine
    loss2.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 5.0])


def test_an_earlier_use_of_a_tensor_changed_in_the_graph_raises_rather_than_misroutes():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    c = h * h
    h += x  # h now has a new history; c's graph led back to the old one
    with pytest.raises(RuntimeError, match="changed in place by a recorded op after this op used it"):
        c.sum().backward()


def test_clone_copies_and_passes_the_gradient():
    x, tx = both([1.0, 2.0], requires_grad=True)
    c, tc = x.clone(), tx.clone()
    c.mul_(3)
    tc.mul_(3)
    c.sum().backward()
    tc.sum().backward()
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


# --- conversions and protocol ------------------------------------------------------------------
def test_conversions_match_torch():
    a, ta = both([[1.7, -2.2], [0.0, 3.5]])
    for name in ("float", "double", "long", "int", "bool"):
        ours, theirs = getattr(a, name)(), getattr(ta, name)()
        assert ours.tolist() == theirs.tolist()
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    assert a.to(np.float64).dtype == np.float64 and a.to("cpu") is a
    assert a.type() == ta.type() == "torch.FloatTensor" and a.long().type() == ta.long().type()
    assert (a.numel(), a.nelement(), a.dim(), a.size(), a.size(1)) == (4, 4, 2, (2, 2), 2)
    loss = Tensor(np.float32(2.0)) / 3
    assert f"{loss:.4f}" == f"{torch.tensor(2.0) / 3:.4f}" == "0.6667"
    assert "%.3f" % loss == "0.667" and float(loss) == pytest.approx(2 / 3)
    assert int(Tensor(np.int64(7))) == 7 and [10, 20, 30][Tensor(np.int64(1))] == 20
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2][Tensor(1.0)]
    np.testing.assert_array_equal(np.asarray(a), ta.numpy())
    assert [row.tolist() for row in a] == [row.tolist() for row in ta] and len(a) == len(ta) == 2
    with pytest.raises(ValueError, match="device 'cuda' is not available"):
        a.to("cuda")


def test_numpy_functions_on_tensors():
    x = Tensor([1.0, float("nan")], requires_grad=True)
    assert np.isnan(x).tolist() == [False, True]
    y = np.array([2.0, 3.0], np.float32) * x  # an array on the left: still the graph
    assert isinstance(y, Tensor) and y.op == "*"


# --- hooks ----------------------------------------------------------------------------------------
def test_register_hook_sees_and_replaces_the_gradient_as_torch():
    x, tx = both([1.0, 2.0, 3.0], requires_grad=True)
    seen = {}
    for key, leaf in (("ours", x), ("torch", tx)):
        h = leaf * leaf
        handle = h.register_hook(lambda g, key=key: seen.setdefault(key, g.tolist()) and g * 10)
        leaf.register_hook(lambda g: g + 1)
        h.sum().backward()
        handle.remove()
    assert seen["ours"] == seen["torch"] == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        Tensor([1.0]).register_hook(print)


# --- micrograd's names -------------------------------------------------------------------------------
def test_micrograd_manual_backprop_one_node_at_a_time():
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    x1w1, x2w2 = x1 * w1, x2 * w2
    n = x1w1 + x2w2 + b
    o = n.tanh()
    assert o._op == "tanh" and o._prev == {n} and x1w1._prev == {x1, w1}
    o.grad = 1.0
    o._backward()
    assert n.grad == pytest.approx(0.5, abs=1e-6)
    x1w1x2w2 = n.parents[0]
    for node in (n, x1w1x2w2, x1w1, x2w2):  # in reverse topological order, as the lecture does by hand
        node._backward()
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0), abs=1e-6)
    b._backward()  # a leaf's step does nothing, as micrograd's


# --- convenience methods and names chainrule lacks ---------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda M, x, y, v: x.t() @ y, lambda M, x, y, v: x.mm(y.t()), lambda M, x, y, v: x.mv(v),
    lambda M, x, y, v: v.dot(v * 2), lambda M, x, y, v: x.view_as(y.t()).expand_as(M.zeros(4, 3, 2)) * 1,
    lambda M, x, y, v: x.reshape_as(y.t()) * 1, lambda M, x, y, v: x.masked_fill(x > 0, -1.0),
    lambda M, x, y, v: x.index_select(1, M.tensor([2, 0, 2])) * 1,
    lambda M, x, y, v: x.unbind(1)[2] * x.unbind(1)[0] + x.unbind(0)[1].sum(),
    lambda M, x, y, v: y.type_as(v).contiguous().cpu() * 3,
], ids=["t", "mm", "mv", "dot", "view_as", "reshape_as", "masked_fill", "index_select", "unbind", "type_as"])
def test_convenience_methods_match_torch_with_gradients(call):
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((2, 3), (2, 3), (3,))]
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    out, their_out = call(autograd, *ours), call(torch, *theirs)
    np.testing.assert_allclose(out.numpy(), their_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    their_out.sum().backward()
    for a, b in zip(ours, theirs):
        expected = None if b.grad is None else b.grad.numpy()
        assert (a.grad is None) == (expected is None)
        if expected is not None:
            np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_new_factories_isnan_and_shape_checks_match_torch():
    a, ta = both([[1.0, float("nan")], [float("inf"), 2.0]])
    for name in ("isnan", "isinf", "isfinite"):
        assert getattr(a, name)().tolist() == getattr(ta, name)().tolist()
    assert a.new_zeros(2, 3).tolist() == ta.new_zeros(2, 3).tolist() and a.new_zeros(2).dtype == np.float32
    assert a.new_ones((1, 2)).tolist() == ta.new_ones((1, 2)).tolist()
    assert a.new_full((2,), 7).tolist() == ta.new_full((2,), 7).tolist()
    assert a.new_tensor([1, 2]).dtype == np.float32 and a.is_floating_point() and a.ndimension() == 2
    with pytest.raises(RuntimeError, match=r"mm: expected a 2-D tensor, got shape \(3,\)"):
        a.mm(Tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="t: expects a tensor with at most 2 dimensions"):
        autograd.zeros(2, 2, 2).t()


def test_torch_names_chainrule_lacks_say_what_to_use():
    x = autograd.ones(2, 3)
    with pytest.raises(NotImplementedError, match=r"torch.Tensor.scatter_ is not supported by chainrule; "
                                                  r"instead: index assignment t\[idx\] = v"):
        x.scatter_(0, None, None)
    with pytest.raises(NotImplementedError, match="torch.Tensor.cuda is not supported by chainrule"):
        x.cuda()
    with pytest.raises(NotImplementedError, match=r"torch.optim is not supported by chainrule; instead: nn.optim"):
        autograd.optim  # noqa: B018
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'no_such_method'"):
        x.no_such_method  # noqa: B018
    assert not hasattr(x, "grad_fn") and getattr(autograd, "einsum", None) is None  # still AttributeErrors
    with pytest.raises(NotImplementedError, match="torch.Tensor.gather is not supported"):
        x.gather(1, autograd.tensor([[0]]))
    device = autograd.device("cuda" if autograd.cuda.is_available() else "cpu")
    assert x.to(device) is x
    with pytest.raises(ValueError, match="device: 'cuda:0' is not available"):
        autograd.device("cuda:0")


def test_a_refused_in_place_op_changes_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    parents, op, values = h.parents, h.op, h.numpy().copy()
    with pytest.raises(RuntimeError, match=r"add_: output with shape \(2,\) doesn't match the broadcast shape"):
        h += autograd.ones(2, 2)
    with pytest.raises(ValueError, match=r"setitem: could not broadcast input array from shape \(3,\) into shape"):
        h[0:2] = h[0:1].expand(1) * autograd.ones(3)
    assert h.parents == parents and h.op == op and h.numpy().tolist() == values.tolist()
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    counts = autograd.zeros(3, dtype=autograd.int64)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        counts += 0.5
    assert counts.tolist() == [0, 0, 0]


def test_requires_grad_again_keeps_a_leafs_hooks():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    x.requires_grad_()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [30.0, 30.0]
    y = autograd.zeros(2).requires_grad_()  # made by a factory, without a graph: hooks work too
    y.register_hook(lambda g: g + 1)
    (y * 2).sum().backward()
    assert y.grad.tolist() == [3.0, 3.0]
