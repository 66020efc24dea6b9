# ruff: noqa: F821  (the names come from the notebook's kernel: each section runs right after the cell it names)
# Checks of notebooks/01_expressions_and_graphs.ipynb

# %% after cell-01
import math

# %% after cell-03
assert (a.data, a.grad, a.label) == (2.0, 0.0, "a")
assert c.data == -5.0 and c.grad == 0.0 and c.op == "+"
assert c.parents[0].data == -6.0 and c.parents[0].op == "*"
assert abs(e.data - ((2 * 2 - 1) ** 2 / 2 + math.tanh(-3.0) + math.exp(2.0))) < 1e-12

# %% after cell-05
assert q.data == 3.0 and f.data == -12.0

# %% after cell-07
assert (f.grad, q.grad, x.grad, y.grad, z.grad) == (1.0, -4.0, -4.0, -4.0, 3.0)

# %% after cell-09
assert all(upstream * local == stored for _, upstream, local, stored in rows)

# %% after cell-11
assert d.data == -5.0
assert a.grad == 2.0 and b.grad == 3 * c.data and c.grad == 3 * b.data
assert z1.grad == 1.0 and z2.grad == 1.0 and z3.grad == b.data  # the intermediates' gradients

# %% after cell-13
assert dot.data == 1.0
assert abs(f.data - 0.7311) < 1e-4
expected = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
assert all(abs(v.grad - expected[v.label]) < 0.005 for v in leaves)

# %% after cell-15
assert abs(f_s.data - f.data) < 1e-12
assert abs(dot_s.grad - s * (1 - s)) < 1e-12 and abs(dot.grad - s * (1 - s)) < 1e-12
assert all(abs(v.grad - v_prim.grad) < 1e-12 for v, v_prim in zip(leaves_s, leaves))

# %% after cell-17
assert gate.grad == 2.0 and x.grad == 2.0 and y.grad == 2.0

# %% after cell-19
assert gate.grad == 2.0
assert x.grad == 2 * y.data and y.grad == 2 * x.data

# %% after cell-21
assert gate.grad == 2.0 and x.grad == 2.0 and y.grad == 0.0

# %% after cell-23
assert a.grad == 2.0
assert a2.grad == 2 * a2.data

# %% after cell-25
assert (first, second, a.grad) == (27.0, 54.0, 27.0)
assert "retain_graph=True" in message  # the second backward without it raised

# %% after cell-27
assert all(verdict is True for verdict in verdicts.values()) and len(verdicts) == 4

# %% after cell-29
assert "input 0" in rejection and "analytic gradient 3.0" in rejection

# %% after cell-31
assert (y.data, dy.data, d2y.data, d3y.data) == (27.0, 27.0, 18.0, 6.0)
assert x.grad == 0.0  # grad() leaves .grad alone
