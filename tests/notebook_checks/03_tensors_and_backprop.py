# ruff: noqa: F821  (the names come from the notebook's kernel: each section runs right after the cell it names)
# Checks of notebooks/03_tensors_and_backprop.ipynb

# %% after e70762d5
from numpy.testing import assert_allclose

# %% after 4153a6b4
assert z.shape == (2,) and z.dtype == np.float64
assert_allclose(one_by_one, [4.5, 1.2])
assert_allclose(z.numpy(), [4.5, 1.2])
assert_allclose(g.numpy(), z.numpy())  # both positive: relu passes them

# %% after 78885c87
with_ones = np.hstack([np.ones((4, 1)), X_batch]) @ W_np.T  # the lecture's [1 x1 x2] rows times W^T
expected_Z = np.array([[4.5, 1.2], [-2.5, 3.2], [1.5, -0.3], [4.5, -4.8]])
assert Z.shape == (4, 2)
assert_allclose(Z.numpy(), expected_Z, atol=1e-12)
assert_allclose(with_ones, Z.numpy(), atol=1e-12)
assert_allclose(Z.numpy()[0], z.numpy())  # row 0 is the single example of section 1
for row, x_row in zip(Z.numpy(), X_batch):  # each row is the layer applied to one example
    assert_allclose(row, W_np @ np.r_[1.0, x_row], atol=1e-12)
assert_allclose(G.numpy(), np.maximum(expected_Z, 0), atol=1e-12)

# %% after a81b122f
assert b.grad.shape == b.shape == (2,)
assert_allclose(b.grad.numpy(), mask.sum(axis=0))
assert_allclose(b.grad.numpy(), [3.0, 2.0])
assert_allclose(V.grad.numpy(), mask.T @ X_batch)

# %% after 9e1d55ae
assert (s1.shape, x1.shape, s2.shape, h.shape) == ((100, 5), (100, 5), (100, 2), (100, 2))
assert_allclose(J_library.item(), J.item(), rtol=1e-12)

# %% after 33933bd4
for name, (ours, lecture) in engine.items():
    assert ours.shape == lecture.shape, name
    assert_allclose(ours, lecture, rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(ours - lecture)) < 1e-12, name

# %% after c6740fb6
assert not np.allclose(forgot_tanh, s1.grad.numpy()) and gap > 0.1

# %% after 4147007d
assert drift < 1e-9
assert_allclose(costs[0], J.item())
assert costs[0] > 50 and final_cost < 1.0
assert accuracy == 1.0

# %% after 6eea45b0
assert p1.shape == (200, 200) and 0 <= p1.min() and p1.max() <= 1
assert p1.min() < 0.05 and p1.max() > 0.95  # confident on both sides of the boundary

# %% after ff54e18d
closed_form = np.diag(p) - np.outer(p, p)
assert J_softmax.shape == (3, 3)
assert_allclose(J_softmax.numpy(), closed_form, atol=1e-12)
assert_allclose(np.round(p, 4), [0.6590, 0.2424, 0.0986])
assert_allclose(J_softmax.numpy(), J_softmax.numpy().T, atol=1e-12)
assert_allclose(J_softmax.numpy().sum(axis=1), 0, atol=1e-12)
assert z.grad is None  # jacobian leaves the inputs' .grad.numpy() alone

# %% after debe8066
assert_allclose(through_jacobian, p - y_onehot, atol=1e-12)

# %% after 4462d2aa
off_diagonal = J_tanh.numpy() - np.diag(np.diag(J_tanh.numpy()))
assert np.count_nonzero(off_diagonal) == 0
assert_allclose(np.diag(J_tanh.numpy()), 1 - np.tanh(z.numpy()) ** 2, atol=1e-12)
assert_allclose(np.round(np.diag(J_tanh.numpy()), 4), [0.0707, 0.42, 0.9901])

# %% after 5174d5d1
assert J_layer.shape == (5, 2)
assert_allclose(J_layer.numpy(), W1_np.T, atol=1e-12)
assert_allclose(z.grad.numpy(), v @ J_softmax.numpy(), atol=1e-12)

# %% after f64edb20
assert n_params == 2 * 5 + 5 + 5 * 2 + 2 == 27
assert ok is True
assert gradcheck(network_cost, *params)  # and at the trained weights
