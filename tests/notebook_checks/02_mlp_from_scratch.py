# ruff: noqa: F821  (the names come from the notebook's kernel: each section runs right after the cell it names)
# Checks of notebooks/02_mlp_from_scratch.ipynb

# %% after 02b20e62
assert X_bits.shape == (16, 4) and len(set(map(tuple, X_bits))) == 16  # all 16 inputs, once each
x1, x2, x3, x4 = X_bits.T.astype(bool)
assert np.array_equal(z1 > 0, x2 & (x1 | x3))  # the lecture's reading of z1
assert np.array_equal(z2 > 0, x3 & x4)
assert np.array_equal(y_hat, np.where(labels == 1, 1, -1))  # the whole truth table
assert labels.sum() == 8
for bits, label in [([0, 1, 1, 0], 1), ([0, 0, 1, 0], 0), ([1, 1, 0, 0], 1), ([1, 0, 0, 1], 0)]:  # the slide's examples
    h = [unit1.predict([bits])[0], unit2.predict([bits])[0]]
    assert either.predict([h])[0] == (1 if label else -1)

# %% after be68ba1b
y_layer = np.where(H @ np.array([1.0, 1.0]) + 1.0 > 0, 1, -1)
assert H.shape == (16, 2)
assert np.array_equal(H, np.stack([z1, z2], axis=1))  # the same two perceptrons
assert np.array_equal(y_layer, y_hat)

# %% after c53c3b6b
assert out.data == 0.75 and out.op == "relu"
assert [w.grad for w in neuron.w] == [2.0, 0.5] and neuron.b.grad == 1.0
assert [xi.grad for xi in x] == [0.5, -1.0]

# %% after 6835e7ae
assert len(params) == 16 * (2 + 1) + 16 * (16 + 1) + 1 * (16 + 1) == 337
assert all(isinstance(p, Value) for p in params)

# %% after 4f876d3c
assert X.shape == (100, 2) and set(y.tolist()) == {-1, 1}
assert np.sum(y == 1) == np.sum(y == -1) == 50

# %% after 3be21a32
assert abs(data_loss.data - np.mean(np.maximum(0, 1 - y * s))) < 1e-12
assert abs(loss.data - (data_loss.data + 1e-4 * np.sum(p * p))) < 1e-12
assert accuracy == np.mean(np.sign(s) == y)

# %% after 306563c3
assert per_point == 337 + 2 + 16 * (2 + 2 + 1) + 16 * (16 + 16 + 1) + (16 + 16) == 979
assert 100 * (640 + 2) < total < 100 * (640 + 2) + 2000

# %% after 8e5fea69
assert accuracy == 1.0  # every training point on the right side
assert accuracies.max() == 1.0 and accuracies[first_perfect] == 1.0 and accuracies[:first_perfect].max() < 1.0
assert final_loss < 0.05 < 0.5 < losses[0]
assert seconds < 50, f"training took {seconds:.1f} s"

# %% after e2fbb2e7
assert len(losses) == len(accuracies) == 100
assert losses[-10:].max() < losses[0] / 10  # the last ten steps are all far below the start

# %% after ee8325a0
assert Z.shape == (40, 40)
assert (Z > 0).any() and (Z <= 0).any()  # both classes appear on the grid
assert np.array_equal(np.sign(train_scores), y)  # the same 100% as above, without a graph
