# ruff: noqa: F821  (the names come from the notebook's kernel: each section runs right after the cell it names)
# Checks of notebooks/05_optimizers_and_regularization.ipynb

# %% after nb05-03
assert w.dtype == np.float64 and loss.item() == (1 - x) ** 2 + 100 * (y - x * x) ** 2 == 12.5
assert np.allclose(w.grad.numpy(), [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
assert rosenbrock(Tensor(MINIMUM)).item() == 0.0

# %% after nb05-05
for (x, y), H in ((START, H_start), (MINIMUM, H_min)):
    assert np.allclose(H, [[2 - 400 * (y - 3 * x * x), -400 * x], [-400 * x, 200]])
assert 2092 < curvature_start[1] < 2093 and 1001 < curvature_min[1] < 1002 and 0.39 < curvature_min[0] < 0.40
assert 2500 < curvature_min[1] / curvature_min[0] < 2510 and round(2 / curvature_start[1], 5) == 9.6e-4

# %% after nb05-07
for name in runs:
    assert distance[name][-1] < 0.1, name
    assert np.isfinite(runs[name][0]).all()
for name in ("momentum", "Nesterov", "RMSProp", "Adam"):
    assert distance[name][-1] < 0.01, name
assert steps_to("momentum", 0.1) < steps_to("SGD", 0.1) / 5
assert steps_to("Nesterov", 0.1) < steps_to("momentum", 0.1)
assert steps_to("Adam", 0.1) < steps_to("RMSProp", 0.1) < steps_to("AdaGrad", 0.1)
# The update equations, checked against the recorded gradients g_t:
path, g, _ = runs["SGD"]
assert np.allclose(path[1:], path[:-1] - 1e-3 * g)                      # w <- w - lr g, every step
path, g, _ = runs["momentum"]
assert np.allclose(path[1], START - 1e-3 * g[0])                        # b_1 = g_1
assert np.allclose(path[2], path[1] - 1e-3 * (0.9 * g[0] + g[1]))       # b_2 = mu b_1 + g_2
path, g, _ = runs["Adam"]
assert np.allclose(path[1], START - 0.02 * np.sign(g[0]), atol=1e-9)    # step 1: m_hat / sqrt(v_hat) = sign(g)
path, g, _ = runs["AdaGrad"]
assert np.allclose(path[1], START - 0.5 * np.sign(g[0]), atol=1e-9)     # step 1: g / sqrt(G) = sign(g)

# %% after nb05-11
assert np.allclose(G_adagrad, runs["AdaGrad"][2].state_dict()["state"][0]["sum"])
assert np.allclose(G_rmsprop, runs["RMSProp"][2].state_dict()["state"][0]["square_avg"])
assert (np.diff(adagrad_lr, axis=0) <= 0).all()          # G only grows: AdaGrad's steps can only shrink
assert (adagrad_lr[-1] < adagrad_lr[0] / 3).all()
assert (rmsprop_lr[-1] > 5 * rmsprop_lr.min(axis=0)).all()  # RMSProp forgets: its step size recovers

# %% after nb05-13
assert np.allclose(decayed.weight.numpy(), penalised.weight.numpy(), atol=1e-6)
assert np.allclose(decayed.bias.numpy(), penalised.bias.numpy(), atol=1e-6)

# %% after nb05-15
assert zero_fraction["L1, λ = 1e-3"] > 2 * zero_fraction["L2, weight_decay = 0.01"] > 2 * zero_fraction["no penalty"]
assert np.abs(l2).max() < np.abs(l1).max() < np.abs(none).max() + 0.5  # L2 hits the largest weights hardest
assert np.abs(l1).sum() < np.abs(none).sum() and (l2 ** 2).sum() < (none ** 2).sum()
assert all(accuracy >= 0.93 for _, accuracy in trained.values())

# %% after nb05-17
assert (per_class_l1 < per_class_l2).all()

# %% after nb05-19
assert set(np.unique(out.numpy())) == {0.0, 2.0}
assert abs(np.mean(out.numpy() == 0) - 0.5) < 0.01 and abs(out.numpy().mean() - 1.0) < 0.01
assert gradient_is_mask and new_mask and identity
for p, kept in kept_by_p.items():
    assert np.allclose(kept[kept > 0], 3.0 / (1 - p)) and abs(np.mean(kept > 0) - (1 - p)) < 0.01
    assert abs(kept.mean() - 3.0) < 0.05

# %% after nb05-21
assert error < 0.15 and np.allclose(average.mean(axis=0), clean.mean(axis=0), rtol=0.05)

# %% after nb05-vg-2
sig, relu = flows["sigmoid"], flows["ReLU"]
assert sig.names == relu.names == [f"{2 * k}.weight" for k in range(7)]
assert sig.steps == relu.steps == 8 * len(nn.data.DataLoader(Xr_train, yr_train, batch_size=64))
assert all(b / 4 < a < b / 1.5 for a, b in zip(early["sigmoid"][:-2], early["sigmoid"][1:-1]))  # 2 to 3x per layer
assert early["sigmoid"][0] < early["sigmoid"][-1] / 1000
assert max(early["ReLU"]) < 3 * min(early["ReLU"])                           # the same size in every layer
for name in ("0.weight", "2.weight"):
    assert 3e-6 < np.median(sig.update_ratios[name]) < 3e-5 and np.nanmax(sig.update_ratios[name]) < 1e-4
assert all(1e-3 < np.median(ratios) < 3e-2 for ratios in relu.update_ratios.values())
final_accuracy = {name: history.metrics["val_accuracy"][-1] for name, history in deep_histories.items()}
assert final_accuracy["sigmoid"] < 0.15 < 0.85 < final_accuracy["ReLU"]
assert [ax.get_title() for ax in fig.axes[:2]] == ["sigmoid", "ReLU"]

# %% after nb05-23
assert np.allclose(train_out, (xb - mean) / np.sqrt(var + 1e-5), atol=1e-5)
assert np.allclose(train_out.mean(axis=0), 0, atol=1e-5) and np.allclose(train_out.var(axis=0), 1, atol=1e-3)
assert np.allclose(bn.running_mean.numpy(), 0.9 * 0 + 0.1 * mean)
assert np.allclose(bn.running_var.numpy(), 0.9 * 1 + 0.1 * xb.var(axis=0, ddof=1))
assert np.allclose(eval_out, (xb - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5), atol=1e-5)
assert not np.allclose(eval_out, train_out, atol=0.1)  # after one batch the running statistics are far off

# %% after nb05-25
assert np.allclose(bn.running_mean.numpy(), [5.0, -2.0, 0.0], atol=0.15)
assert np.allclose(bn.running_var.numpy(), [4.0, 0.25, 1.0], rtol=0.15)
assert np.allclose(single, (one - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5), atol=1e-5)
assert refusal  # training mode refused a batch of one

# %% after nb05-27
assert spread[False][-1] < 0.15 < 0.5 < min(spread[True])
assert spread[False][-1] < spread[False][0] / 2
final = {bn_: histories[bn_].metrics["val_accuracy"][-1] for bn_ in (False, True)}
assert final[True] > 0.85 and final[True] > final[False] + 0.2

# %% after nb05-32
assert stopped.stopped_early and not full.stopped_early and full.epochs == 40
assert n == best + 10 and stopped.val_loss[best - 1] == min(stopped.val_loss) == min(full.val_loss)
assert np.allclose(stopped.val_loss, full.val_loss[:n]) and np.allclose(stopped.train_loss, full.train_loss[:n])
assert abs(restored - stopped.val_loss[best - 1]) < 1e-5  # the weights of the best epoch are back
assert full.val_loss[-1] > 1.2 * min(full.val_loss)          # the full run overfits ...
assert full.metrics["accuracy"][-1] > full.metrics["accuracy"][best - 1] + 0.1  # ... memorising noise
assert max(full.metrics["val_accuracy"]) > full.metrics["val_accuracy"][-1] + 0.05
assert test_accuracy["stopped"] > test_accuracy["full"] + 0.05
assert replay(full.val_loss, 10) == (stopped.epochs, stopped.best_epoch)  # nn.fit's rule, replayed
assert stop5 < n and best5 < best and full.val_loss[best5 - 1] > full.val_loss[best - 1]

# %% after nb05-36
assert 0 < best_degree < 20
assert val_error[best_degree] < 0.5 * val_error[0] and val_error[best_degree] < 0.75 * val_error[-1]
assert (np.diff(train_error) <= 1e-12).all()                 # nested models: train error never increases
assert train_error[-1] < val_error[-1] / 5                    # degree 20 fits its own noise
assert np.allclose(bias2 + variance, expected_error)          # the decomposition
assert (np.diff(variance) > 0).all()                          # more complex, more variance
assert bias2[0] > 0.5 and bias2[8:16].max() < 1e-3 * bias2[0]  # and less bias
assert 0 < best_total < 20 and expected_error[best_total] < min(expected_error[0], expected_error[-1]) / 3
