# ruff: noqa: F821  (the names come from the notebook's kernel: each section runs right after the cell it names)
# Checks of notebooks/07_capturing_a_step.ipynb. Timings are printed by the notebook but never checked here:
# these check what the text says the captured step computes, records and refuses.

# %% after nb07-01
def replay_names(captured):
    """The names a captured step's latest replay function reads (f… NumPy functions, k… kept arrays, ...)."""
    return next(tape.replay for tapes in captured._tapes.values() for tape in tapes
                if tape.source == captured.source).__globals__


def eager_twin(count, batch_list, grads_of=None):
    """A fresh make_mlp() trained eagerly for `count` steps on batch_list[k % 8]: (model, losses, gradients of
    the parameter `grads_of(model)` after each step)."""
    twin_model, twin_optimizer = make_mlp()
    twin_step = make_step(twin_model, twin_optimizer)
    twin_losses, twin_grads = [], []
    for k in range(count):
        twin_losses.append(twin_step(*batch_list[k % len(batch_list)]).item())
        if grads_of is not None:
            twin_grads.append(grads_of(twin_model).grad.numpy().copy())
    return twin_model, twin_losses, twin_grads

# %% after nb07-03
assert ops == ["linear", "relu", "linear", "cross_entropy"] and len(nodes) == 9
leaves = {id(node) for node in nodes if not node.parents}
assert leaves == {id(x)} | {id(p) for p in model.parameters()}  # "x and 4 parameters"
assert eager_calls > 100  # "four ops, yet over a hundred Python functions"
assert python_calls(lambda: None) == 1  # the counter counts the function it is given, and nothing else

# %% after nb07-05
assert run.recordings == 1 and run.replays == 3  # calls 1-3 ran the Python (warm-up, recording, check)
twin_model, twin_losses, _ = eager_twin(6, data)
assert loss.item() == twin_losses[-1] and round(twin_losses[0], 4) == 1.5231
assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(model.parameters(), twin_model.parameters()))
assert source[0].startswith("def replay(i0, i1") and "a0 = i0._data" in source[1] and "a1 = i1._data" in source[2]
names = replay_names(run)
first_call = next(line.strip() for line in source if re.fullmatch(r"f\d+\(a0, k\d+, out=k\d+\)", line.strip()))
f_name, k_name, buffer_name = re.findall(r"[fk]\d+", first_call)
assert names[f_name] is np.matmul  # the first layer's x @ W.T ...
assert names[k_name].base is model[0].weight.numpy() or np.shares_memory(names[k_name], model[0].weight.numpy())
assert names[k_name].shape == (16, 32) and names[buffer_name].shape == (8, 32)  # ... into an (8, 32) buffer
data_check = next(line for line in source[:25] if "raise Failed" in line)
check_name = re.search(r"_same\((f\d+)\(", data_check)[1]
assert names[check_name] is bool
before_check = source[source.index(data_check) - 1].strip()  # the class indices >= 4 (the number of classes)?
assert names[re.match(r"f\d+", before_check)[0]] is np.greater_equal and ", 4, out=" in before_check
settings_guards = [line for line in source if "raise Stale" in line and "training" in line]
assert len(settings_guards) == 4  # the Sequential and its three layers
assert any("lr" in line and "raise Stale" in line for line in source)  # the optimizer's hyper-parameters
grad_lines = [line.strip() for line in source if "._grad = " in line]
assert len(grad_lines) == 4 and all(re.fullmatch(r"t\d+\._grad = k\d+", line) for line in grad_lines)

# %% after nb07-07
assert kinds["other"] == 0 and sum(kinds.values()) == len(source) - 1
assert kinds["guard"] == 9  # 4 parameters' arrays, 4 modules' settings, 1 optimizer
assert kinds["data check"] == 1 and kinds[".grad set to a buffer"] == 4 and kinds["return"] == 1
assert kinds["the array an argument holds"] == 2
calls = sum(count for kind, count in kinds.items() if kind.startswith("NumPy call"))
assert kinds["NumPy call into a kept buffer (out=)"] >= 0.75 * calls  # "allocates almost nothing"
assert kinds["NumPy call making a new array"] <= 3
assert 0 < replay_bytes < eager_bytes / 3

# %% after nb07-09
assert captured_step.recordings == 1 and captured_step.replays == STEPS - 3
assert losses["captured"] == losses["eager"]  # "exactly"
assert all(np.array_equal(a, b) for a, b in zip(final["captured"], final["eager"]))
assert np.allclose(losses["NumPy"], losses["eager"], rtol=1e-6, atol=0)  # float32 rounding
assert all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(final["NumPy"], final["eager"]))
assert [round(losses["eager"][i], 4) for i in (0, -1)] == [1.5231, 1.4144]
assert [p.shape for p in final["NumPy"]] == [(32, 16), (32,), (4, 32), (4,)]
_, twin_losses, _ = eager_twin(STEPS, data)
assert twin_losses == losses["eager"]  # the eager step of the comparison is an ordinary training run

# %% after nb07-11
assert all(len(times) == len(SIZES) and all(t > 0 for t in times) for times in timings.values())
assert captured.recordings == 1 and captured.replays > 0  # the captured step timed at batch 512 did replay

# %% after nb07-13
assert [row[1:] for row in events] == [
    (0, 0, True), (1, 0, True), (1, 0, True), (1, 1, False),    # batch 8: warm-up, recording, check, replay
    (1, 1, True), (2, 1, True), (2, 1, True), (2, 2, False),    # batch 16: the same, a second recording
    (2, 3, False),                                              # back to batch 8: its recording replays at once
    (3, 3, True), (3, 3, True), (3, 4, False),                  # eval: stale, recorded again, checked, replayed
    (3, 5, False), (3, 6, False),                               # train, then eval: each replays its own
    (4, 6, True), (4, 6, True), (4, 7, False),                  # lr = 0.05 fits neither: recorded again
]
assert len(python_runs) == sum(row[3] for row in events) == 10
assert sorted(len(tapes) for tapes in run._tapes.values()) == [1, 3]  # batch 16; batch 8 train, eval, lr 0.05
for switch in range(6):  # "however often the step switches": train and eval replay their own recordings
    model.train(switch % 2 == 0)
    optimizer.lr = 0.1
    run(*data[switch])
assert run.recordings == 4 and run.replays == 7 + 6 and len(python_runs) == 10
model.train()
scheduled_model, scheduled_optimizer = make_mlp()  # "a learning rate that changes on every call"
scheduled = autograd.compile(make_step(scheduled_model, scheduled_optimizer))
with warnings.catch_warnings(record=True) as scheduled_warnings:
    warnings.simplefilter("always")
    for k in range(12):
        scheduled_optimizer.lr = 0.1 * 0.9 ** k
        scheduled(*data[k % 8])
        assert scheduled.recordings == min(k, 8) and bool(scheduled_warnings) == (k >= 9)  # records calls 2-9
assert scheduled.replays == 0 and max(len(tapes) for tapes in scheduled._tapes.values()) == 4  # the newest 4 kept
assert [str(w.message) for w in scheduled_warnings] == [
    "compile: step runs eagerly from now on: it was recorded 8 times (its Python path or settings keep changing)"]

# %% after nb07-15
assert inside.recordings == 1 and inside.replays == 0 and inside._eager_only
[inside_tape] = next(iter(inside._tapes.values()))
assert inside_tape.failures == 3 and inside_tape.runs == 0  # "three misses and not one replay"
assert [n for n, _ in inside_warned] == [5]  # calls 3, 4 and 5 missed
message = re.sub(r" at \S+:\d+:", " at", inside_warned[0][1])
assert message.startswith("compile: step runs eagerly from now on: a Python value it reads from the data changes "
                          "on most calls (item() at history.append(loss.item())")  # names the line that read it
assert message.endswith("); return such values (loss.item()) from the step instead of using them inside it")
assert len(eager_history) == 40 and inside_history == eager_history  # each call ran the step's Python once
assert returning.recordings == 1 and returning.replays == 37 and returning_warned == []
assert returned_history == eager_history
_, twin_losses, _ = eager_twin(40, data)
assert eager_history == twin_losses  # the logging step trains as the step of section 2 does

# %% after nb07-15b
for twin, mine, captured, _warned in branching.values():
    assert mine == twin and captured.recordings == 1
    assert sum(v > 1.15 for v in twin) == 27  # the branch went both ways
float_run, float_warned = branching["loss.item() > 1.15"][2:]
assert float_run.replays == 0 and [n for n, _ in float_warned] == [5]  # gave up as the logging step did
assert "a Python value it reads from the data changes on most calls" in float_warned[0][1]
bool_twin, _, bool_run, bool_warned = branching["bool(loss > 1.15)"]
assert bool_twin[1] > 1.15  # the recording (call 2) took the branch ...
assert bool_run.replays == sum(v > 1.15 for v in bool_twin[3:]) == 24 and bool_warned == []  # ... so these replay
assert not bool_run._eager_only
failed = [line for line in bool_run.source.splitlines() if "raise Failed" in line]
assert len(failed) == 2  # the class indices, and the branch
rarer = autograd.compile(branching_step(*make_mlp(), lambda loss: bool(loss > 1.3)))  # "had the other way ..."
rarer_eager = branching_step(*make_mlp(), lambda loss: bool(loss > 1.3))
rarer_twin = [rarer_eager(*data[k % 8]) for k in range(40)]
rarer_losses, rarer_warned = calls_with_warnings(rarer)
assert rarer_losses == rarer_twin and rarer_twin[1] > 1.3 and sum(v > 1.3 for v in rarer_twin) < 20
assert rarer.replays > 0 and len(rarer_warned) == 1 and rarer._eager_only  # ... given up on this step too

# %% after nb07-17
assert k == 1 and isinstance(refusal, CaptureError)  # refused when recording, at call 2
assert str(refusal).startswith("the step draws from NumPy's global random state (np.random.*)")
assert "autograd's functions (randn, randint, ...)" in str(refusal)
assert run.recordings == 1 and run.replays == 3
assert noisy_losses == noisy_twin and len(set(noisy_losses)) == 6  # fresh draws on every replay
assert "standard_normal" in run.source

# %% after nb07-19
assert global_run.recordings == 1 and global_run.replays == 0 and len(caught) == 1
assert str(caught[0].message).startswith("compile: the replay of global_batch_step differs from its eager run (")
assert str(caught[0].message).endswith("so it runs eagerly from now on: the step reads something the recording cannot "
                                       "see change (a global rebound between calls, a Python counter); pass such "
                                       "values as arguments")
assert run.recordings == 1 and run.replays == 3
_, twin_losses, twin_grads = eager_twin(6, data, grads_of=lambda m: m[0].weight)
assert [loss_a.item(), loss_b.item()] == twin_losses[4:6]  # the returned losses: each call's own
assert np.array_equal(kept, twin_grads[4])  # the gradient of call 5, as the copy kept it
assert np.array_equal(grad_a, twin_grads[5]) and model[0].weight.grad.numpy() is grad_a  # overwritten by call 6
assert not np.array_equal(grad_a, kept)
assert k == 1 and isinstance(value_refusal, CaptureError)  # rule 4: refused when recording, at call 2
assert "did no NumPy work on Tensors" in str(value_refusal) and "run it without compile" in str(value_refusal)
assert value_run.recordings == 1 and value_run.replays == 0
bumps = 0  # rule 1: "a counter the step bumps keeps it recording"
bump_model, bump_optimizer = make_mlp()
bump_inner = make_step(bump_model, bump_optimizer)


def bumping_step(x, y):
    global bumps
    bumps += 1
    return bump_inner(x, y)


bumping = autograd.compile(bumping_step)
with warnings.catch_warnings(record=True) as bump_warnings:
    warnings.simplefilter("always")
    for call_number in range(20):
        bumping(*data[call_number % 8])
assert bumping.recordings == 8 and bumping.replays == 0 and bumps == 20
assert [str(w.message) for w in bump_warnings] == ["compile: bumping_step runs eagerly from now on: it was recorded "
                                                   "8 times (its Python path or settings keep changing)"]


class Weights:
    loss = 1.0


weights, WEIGHT = Weights(), 1.0  # rule 1: a number read by name is guarded, one read through an object is not
weighted_models = [make_mlp() for _ in range(2)]


def by_name_step(x, y):
    weighted_models[0][1].zero_grad()
    loss = WEIGHT * F.cross_entropy(weighted_models[0][0](x), y)
    loss.backward()
    return loss.item()


def through_object_step(x, y):
    weighted_models[1][1].zero_grad()
    loss = weights.loss * F.cross_entropy(weighted_models[1][0](x), y)
    loss.backward()
    return loss.item()


by_name, through_object = autograd.compile(by_name_step), autograd.compile(through_object_step)
for _round in range(4):
    by_name(*data[0]), through_object(*data[0])
WEIGHT = weights.loss = 0.0
assert by_name(*data[0]) == 0.0 and by_name.recordings == 2  # recorded again with the new number
assert through_object(*data[0]) > 1.0 and through_object.recordings == 1  # the recorded 1.0, a constant
