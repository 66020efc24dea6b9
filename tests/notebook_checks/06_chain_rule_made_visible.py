# ruff: noqa: F821  (the names come from the notebook's kernel: each section runs right after the cell it names)
# Checks of notebooks/06_chain_rule_made_visible.ipynb

# %% after nb06-01
import linecache
import re

import ipywidgets  # the notebooks extra: step_through(f) then gives a widget


def texts(graph):
    """Every quoted label of a drawing (value records, op nodes, edges, the caption), with real line breaks."""
    return [t.replace(r"\n", "\n") for t in re.findall(r'label="((?:[^"\\]|\\.)*)"', graph.source)]


def record(graph, name):
    """The fields of the value node labelled `name`, e.g. ['q', 'data 3', 'grad -4', 'step 2']."""
    for text in texts(graph):
        fields = text.strip("{ }").split(" | ")
        if fields[0].split("\n")[0] == name:
            return fields
    raise KeyError(name)


def created_at(error):
    """The file and line an AnomalyError names, and that line's source (IPython keeps cell sources in linecache)."""
    file, line = str(error).rsplit("created at ", 1)[1].rsplit(":", 1)
    return file, int(line), linecache.getline(file, int(line))

# %% after nb06-03
rows = [(s["step"], s["node"].label, s["op"], s["upstream"], s["local"], s["contributions"]) for s in trace.steps]
assert rows == [
    (1, "f", "*", 1.0, (-4.0, 3.0), (-4.0, 3.0)),    # seed 1; local df/dq = z = -4, df/dz = q = 3
    (2, "q", "+", -4.0, (1.0, 1.0), (-4.0, -4.0)),   # upstream -4, local 1 and 1
    (3, "x", "leaf", -4.0, None, ()),
    (4, "y", "leaf", -4.0, None, ()),
    (5, "z", "leaf", 3.0, None, ()),
]
assert (f.data, q.data) == (-12.0, 3.0) and (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)
for s in trace.steps:  # the lecture's rule, at every gate: contribution = upstream x local
    for local, contribution in zip(s["local"] or (), s["contributions"]):
        assert contribution == s["upstream"] * local
assert len(trace) == 2 and [s["node"] for s in op_steps(trace)] == [f, q]  # a step per op; leaves have none
assert [row.split() for row in str(trace).splitlines()[1:]] == [
    ["1", "f", "*", "1", "-4,", "3", "-4,", "3"],
    ["2", "q", "+", "-4", "1,", "1", "-4,", "-4"],
    ["-", "x", "leaf", "-4", "-", "-"],
    ["-", "y", "leaf", "-4", "-", "-"],
    ["-", "z", "leaf", "3", "-", "-"],
]

# %% after nb06-05
assert record(g, "f") == ["f", "data -12", "grad 1", "step 1"]
assert record(g, "q") == ["q", "data 3", "grad -4", "step 2"]
assert record(g, "x") == ["x", "data -2", "grad -4"]  # leaves: no step of their own
assert record(g, "y") == ["y", "data 5", "grad -4"]
assert record(g, "z") == ["z", "data -4", "grad 3"]
edges = {t for t in texts(g) if t[:2] in ("0:", "1:")}
assert edges == {
    "0: local z = -4\ncarries -4", "1: local q = 3\ncarries 3",  # into *: upstream 1 x local
    "0: local 1\ncarries -4", "1: local 1\ncarries -4",          # into +: upstream -4 x local 1
}
assert caption(g) == "5 nodes, 2 ops, depth 2; backward pass: 2 steps"

# %% after nb06-07
assert s.grad == 2.0 and a.grad == b.grad == 2.0
assert "+\ndistributes" in texts(g_add)
assert {"0: local 1\ncarries 2", "1: local 1\ncarries 2"} <= set(texts(g_add))

# %% after nb06-08
assert p.grad == 2.0 and a.grad == 2 * b.data == -2.0 and b.grad == 2 * a.data == 6.0
assert "*\nswaps" in texts(g_mul)
assert {"0: local b = -1\ncarries -2", "1: local a = 3\ncarries 6"} <= set(texts(g_mul))

# %% after nb06-09
assert m.grad == 2.0 and a.grad == 2.0 and b.grad == 0.0
assert "max\nroutes" in texts(g_max)
assert {"0: local 1\ncarries 2", "1: local 0\ncarries 0"} <= set(texts(g_max))
assert re.search(r'label="1: local 0\\ncarries 0" color=gray50 style=dashed', g_max.source)  # the losing edge

# %% after nb06-11
assert x.grad == 3.0
assert record(g_fan, "x")[2] == "grad 3 = 1 + 2"
assert "Σ fan-out adds" in texts(g_fan)

# %% after nb06-13
expected = {"w0": -0.1966, "x0": 0.3932, "w1": -0.3932, "x1": -0.5898, "w2": 0.1966}
assert dot.data == 1.0 and round(f.data, 4) == 0.7311
assert math.isclose(dot.grad, f.data * (1 - f.data), rel_tol=1e-12)  # the sigmoid's local gradient
assert {v.label: round(v.grad, 4) for v in leaves} == expected
# Eight ops (two *, three +, neg, exp, /), one step each, from 1 / back to the products; 15 nodes with the 7 leaves.
assert len(trace) == 8 == len(op_steps(trace))
assert [s["op"] for s in op_steps(trace)] == ["/", "+", "exp", "neg", "+", "+", "*", "*"]
assert op_steps(trace)[4]["node"] is dot and len(topological_order([f])) == 15
last_sender = {}  # the step after which each leaf's gradient is complete: the last op step that sends to it
for k, s in enumerate(op_steps(trace), 1):
    for parent in s["node"].parents:
        last_sender[parent] = k
assert {v.label: last_sender[v] for v in leaves} == {"w0": 7, "x0": 7, "w1": 8, "x1": 8, "w2": 5}
lines = str(trace).splitlines()
assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3", "4", "5", "6", "7", "8"] + ["-"] * 7

# %% after nb06-15
assert len(frames) == len(trace) + 1 == 9
player = _
assert isinstance(player, ipywidgets.VBox) and (player.slider.min, player.slider.max) == (0, len(trace))
assert player.caption.value.startswith("<p>Before the backward pass (8 steps): f starts with gradient 1")
player.slider.value = 5  # what a reader sees at step 5, then back to the start
assert player.caption.value.startswith("<p>Step 5 of 8: the + that made dot passes on its gradient 0.1966 "
                                       "(+ distributes): input 0 (the + result) gets 0.1966 × local 1 = 0.1966")
assert player.prev.disabled is False and 'class="node"' in player.frame.value
player.slider.value = 0
assert not any("grad so far" in t for frame in frames for t in texts(frame))  # no value feeds two ops
assert f.grad == 1.0 and round(dot.grad, 4) == 0.1966  # stepping through left the gradients as they were

# %% after nb06-17
assert at_dot == 5
assert caption(frames[0]).endswith("backward step 0 of 8 (before backward)")
assert caption(frames[4]).endswith("backward step 4 of 8: neg") and record(frames[4], "dot")[2] == "grad 0.1966 (final)"
assert record(frames[3], "dot")[2] == "grad pending"  # final with the negation's step, not before
assert caption(frames[at_dot]).endswith("backward step 5 of 8: dot")
assert caption(frames[len(trace)]).endswith("backward pass: 8 steps")
assert record(frames[0], "f") == ["f", "data 0.7311", "grad 1 (seed)", "step 1"]
assert record(frames[0], "dot")[2] == record(frames[0], "w0")[2] == "grad pending"
assert record(frames[at_dot], "dot") == ["dot", "data 1", "grad 0.1966 (final)", "step 5"]
assert record(frames[at_dot], "w2")[2] == "grad 0.1966 (final)"
assert all(record(frames[at_dot], v)[2] == "grad pending" for v in ("w0", "x0", "w1", "x1"))
assert record(frames[6], "w0")[2] == "grad pending"  # w0 * x0 runs at step 7
assert record(frames[7], "w0") == ["w0", "data 2", "grad -0.1966 (final)"]
assert record(frames[len(trace)], "x1") == ["x1", "data -2", "grad -0.5898 (final)"]

# %% after nb06-17b
page_text = Path(page).read_text(encoding="utf-8")
assert Path(page).is_absolute() and Path(page) == Path.cwd() / "out" / "backprop.html"
assert page_text.count('class="cr-frame"') == len(trace) + 1 == 9
assert 'max="8"' in page_text and "Step 5 of 8: the + that made dot" in page_text

# %% after nb06-19
assert caption(g_ok).endswith("gradient check: all 7 leaves agree with central differences")
assert record(g_ok, "w0")[-1] == "numeric -0.1966 agrees" and "color=red" not in g_ok.source

# %% after nb06-21
assert round(bad_f.data, 4) == 0.7311  # the forward pass is right
assert "gradient check: 5 of 5 leaves DISAGREE" in caption(g_bad)
assert record(g_bad, "w0")[2:] == ["grad -0.7311", "numeric -0.1966 ≠ grad -0.7311"]  # a leaf: no step
assert record(g_bad, "x1")[-1] == "numeric -0.5898 ≠ grad -2.193"
assert "local 0.7311\ncarries 0.7311" in texts(g_bad)  # the wrong local derivative, on its edge
assert len(re.findall(r"\bcolor=red", g_bad.source)) == 5  # the five leaves, drawn red

# %% after nb06-23
assert mm.root.data == (A.data @ B.data).sum() == 11.5
assert ops.count("*") == 8 and ops.count("+") == 7
ones = np.ones((2, 2))
assert np.array_equal(mm.value_grads[0], ones @ B.data.T) and np.array_equal(mm.value_grads[1], A.data.T @ ones)
for scalar, tensor in zip(mm.value_grads, mm.tensor_grads):  # the scalar graph agrees with the Tensor engine
    assert np.array_equal(scalar, tensor)
assert record(mm.graph, "A[0,1]") == ["A[0,1]", "data 2", "grad 2.25"]

# %% after nb06-25
one_hot = np.array([0.0, 1.0, 0.0])
batched = Tensor(z0[None], requires_grad=True)  # a batch of one example
F.cross_entropy(batched, np.array([1])).backward()
assert math.isclose(ce.root.data, -math.log(p[1]), rel_tol=1e-12) and round(ce.root.data, 4) == 3.2413
assert np.allclose(ce.value_grads[0], p - one_hot, atol=1e-12)            # the scalar graph: p - y
assert np.allclose(ce.tensor_grads[0], p - one_hot, atol=1e-12)           # the Tensor ops
assert np.allclose(batched.grad[0], p - one_hot, atol=1e-12)              # and nn.functional.cross_entropy
assert len(topological_order([ce.root])) == 19 and "exp" in ce.graph.source
assert record(ce.graph, "z[1]")[2] == "grad -0.9609 = (-1) + 0.03911" and round(p[1], 5) == 0.03911

# %% after nb06-27
assert caption(g_plain) == "13 nodes, 6 ops, depth 6"
assert record(g_plain, "0.weight")[0] == "0.weight\n(16, 4) float32" and model.num_parameters() == 403

# %% after nb06-29
assert len(scalar_mlp.parameters()) == 403 and scalar_nodes == 1175

# %% after nb06-31
assert caption(g_boxes) == ("13 nodes, 6 ops, depth 6; gradient check: all 6 leaves agree with central "
                            "differences; 5 module calls collapsed into boxes")
assert sum(t.startswith("{ (") for t in texts(g_boxes)) == 5 and "Sequential\nout (32, 3) float32" in texts(g_boxes)

# %% after nb06-33
note = next(t for t in texts(g_red) if t.startswith("{ (2) Linear")).strip("{ }").split(" | ")[-1]
assert "gradient check: 1 of 6 leaves DISAGREE (2.weight)" in caption(g_red)
found = re.fullmatch(r"2\.weight: numeric differs at \(3, 1\): (\S+) vs grad (\S+)", note)
numeric, shown = float(found[1]), float(found[2])
assert math.isclose(shown - numeric, 0.01, rel_tol=1e-2)  # the two numbers differ by the planted 0.01
assert math.isclose(model[2].weight.grad[3, 1], numeric, rel_tol=1e-3)  # and numeric is the true gradient

# %% after nb06-35
for engine, exact in zip((d1.data, d2.data, d3.data), closed):
    assert math.isclose(engine, exact, rel_tol=1e-12)
# The same on a Tensor of 7 points at once (the sum's gradient is the elementwise derivative).
xs = Tensor(np.linspace(-3, 3, 7), requires_grad=True)
(g1,) = grad(xs.tanh().sum(), xs, create_graph=True)
(g2,) = grad(g1.sum(), xs, create_graph=True)
(g3,) = grad(g2.sum(), xs)
ts = np.tanh(xs.numpy())
assert np.allclose(g1.numpy(), 1 - ts ** 2, atol=1e-14) and np.allclose(g2.numpy(), -2 * ts * (1 - ts ** 2), atol=1e-14)
assert np.allclose(g3.numpy(), (1 - ts ** 2) * (6 * ts ** 2 - 2), atol=1e-14)
assert x.grad == 0.0 and xs.grad is None  # grad() never touches .grad

# %% after nb06-37
assert np.allclose(H, [[2 * 2.0, 2 * 1.0], [2 * 1.0, math.exp(2.0)]], rtol=1e-14)

# %% after nb06-39
assert np.allclose(hessian(quadratic, Tensor(np.array([5.0, -3.0]))).numpy(), Q)
assert np.allclose(v1, np.linalg.solve(Q, c), atol=1e-14) and np.allclose(v1, [0.6, -0.8])

# %% after nb06-41
assert np.array_equal(v, [1.0, 1.0]) and values[-1] == 0.0
assert max(values) == values[1] and 751 < values[1] < 752     # pure Newton may go uphill
assert 5e-4 < errors[4] < 1e-3 and 1e-7 < errors[5] < 2e-7    # near the minimum the error is squared
assert errors[5] < 2 * errors[4] ** 2

# %% after nb06-43
assert Hv.shape == (n,) and np.allclose(Hv.numpy(), diagonal * vector + vector.sum(), rtol=1e-12, atol=1e-12)
x_small = Tensor(rng.standard_normal(5))  # small enough to form H: the same product
v_small = rng.standard_normal(5)
assert np.allclose(hvp(f_big, x_small, v_small)[1].numpy(), hessian(f_big, x_small).numpy() @ v_small, atol=1e-12)

# %% after nb06-45
assert gradgradcheck(lambda a: a.tanh() * a, Value(0.5))                          # the engine's tanh
assert gradgradcheck(lambda a, b: a * a * b + b.exp(), Value(1.0), Value(2.0))
assert gradgradcheck(lambda v: (v.tanh() * v).sum(), Tensor(np.array([0.3, -1.2]), requires_grad=True))
assert gradcheck(lambda a: TanhRaw.apply(a) * a, Value(0.5))                      # first derivative: right
t = math.tanh(0.5)
found = re.match(r"gradgradcheck: input 0: analytic second derivative (\S+) but numeric (\S+) ", message)
analytic, numeric = float(found[1]), float(found[2])
right = 2 * (1 - t * t) + 0.5 * (-2 * t * (1 - t * t))  # (a tanh a)'' = 2 tanh' + a tanh''
lost = 2 * (1 - t * t)                                   # what is left when tanh'' is cut out of the graph
assert math.isclose(analytic / numeric, lost / right, rel_tol=1e-6)

# %% after nb06-47
assert refusal == "log: -1.0 is outside its domain x > 0"
assert np.isnan(loss.item()) and np.isnan(x.grad[2]) and x.grad[:2].tolist() == [0.5, 1.0]  # d(2 sqrt x)/dx = 1/sqrt x

# %% after nb06-49
assert str(caught).startswith("detect_anomaly: op 'sqrt' (input shapes (3,)) produced nan or inf in its forward "
                              "result, created at ")
assert created_at(caught)[2].strip() == "r = x.sqrt()"  # the notebook's own line
assert caught.node.op == "sqrt" and np.isnan(caught.node.numpy()[2])
assert caption(g_nan) == "2 nodes, 1 op, depth 1; detect_anomaly stopped at op 'sqrt'"
assert record(g_nan, "x")[1] == "data [4, 1, -1]"

# %% after nb06-51
assert str(caught).startswith("detect_anomaly: the backward of op 'sqrt' (input shapes (2,)) produced nan or inf "
                              "in the gradient for its input 0, created at")
assert created_at(caught)[2].strip() == "r = x.sqrt()"
assert r.data.tolist() == [2.0, 0.0]  # the forward pass was fine
assert record(g_inf, "r")[-1] == "anomaly: nan/inf here" and "detect_anomaly stopped at op 'sqrt'" in caption(g_inf)

# %% after nb06-53
assert all(math.isclose(symbolic[leaf.label], leaf.grad, rel_tol=1e-12) for leaf in leaves)
assert sp.simplify(expr - 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))) == 0

# %% after nb06-55
assert sp.simplify(dw0 - x0 * s * (1 - s)) == 0
assert to_latex(f) == r"\frac{1}{e^{- w_{0} x_{0} - w_{1} x_{1} - w_{2}} + 1}"
