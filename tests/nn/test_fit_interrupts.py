"""nn.fit and Ctrl-C: a SIGINT during a training step waits for the step's end, so the model always
holds the weights of completed steps and the History says which."""

import os
import signal
import threading

import numpy as np
import pytest

import nn
import nn.functional as F

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt",
                                reason="sends itself SIGINT with os.kill")

BATCHES = 3  # batches an epoch in setup()


def setup(seed=0, optimizer=nn.optim.Adam):
    """(model, optimizer, loader, (X_val, y_val)): 120 moons samples in 3 batches of 40."""
    X, y = nn.data.make_moons(160, noise=0.15, seed=seed)
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(2, 8, rng=rng), nn.ReLU(), nn.Linear(8, 2, rng=rng))
    loader = nn.data.DataLoader(X[:120], y[:120], batch_size=40, seed=seed)
    return model, optimizer(model.parameters(), lr=0.05), loader, (X[120:], y[120:])


def reference_state(steps, seed=0):
    """The model's state after exactly ``steps`` complete training steps of fit's loop."""
    model, optimizer, loader, _ = setup(seed)
    done = 0
    while done < steps:
        for Xb, yb in loader:
            if done == steps:
                break
            loss = F.cross_entropy(model(Xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done += 1
    return model.state_dict()


def same_state(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)


class InterruptedAdam(nn.optim.Adam):
    """Adam that sends itself SIGINT after updating the first parameter of step number ``at``."""

    at = None

    def step(self, closure=None):
        self.steps = getattr(self, "steps", 0) + 1
        self.updates = 0
        return super().step(closure)

    def _update(self, p, grad, state):
        super()._update(p, grad, state)
        self.updates += 1
        if self.steps == self.at and self.updates == 1:
            ctrl_c()


def assert_consistent(history, steps):
    """The History of a run Ctrl-C stopped during step ``steps`` (so after it)."""
    assert history.interrupted and not history.stopped_early
    assert history.steps == steps
    epochs = (steps - 1) // BATCHES  # the epoch of the interrupted step is not complete in the history
    assert history.epochs == epochs and len(history.val_loss) == epochs
    assert all(len(v) == epochs for v in history.metrics.values())
    assert history.epoch_steps == [BATCHES * e for e in range(1, epochs + 1)]
    assert not history.restored_best and history.weights_epoch is None
    assert history.best_epoch is None if epochs == 0 else 1 <= history.best_epoch <= epochs


def test_ctrl_c_inside_optimizer_step_finishes_the_step():
    model, optimizer, loader, val = setup(optimizer=InterruptedAdam)
    optimizer.at = 5  # the 2nd batch of epoch 2
    before = signal.getsignal(signal.SIGINT)
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=6, val=val, progress=False)
    assert signal.getsignal(signal.SIGINT) is before
    assert optimizer.steps == 5  # no step began after the interrupt
    assert same_state(model.state_dict(), reference_state(5))  # every parameter at step 5, none at 4 or 6
    assert all(state["step"] == 5 for state in optimizer.state_dict()["state"].values())
    assert_consistent(history, 5)
    assert model.training


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ctrl_c_anywhere_in_a_step_leaves_a_completed_step(seed):
    rng = np.random.default_rng(seed)
    for where in ("forward", "backward", "step"):
        at = int(rng.integers(1, 4 * BATCHES + 1))
        model, optimizer, loader, val = setup(optimizer=InterruptedAdam)
        forwards = []

        def hook(module, inputs, out, where=where, at=at, forwards=forwards):
            if not module.training:
                return
            forwards.append(1)
            if len(forwards) != at:
                return
            if where == "forward":
                ctrl_c()
            elif where == "backward":
                out.register_hook(lambda grad: ctrl_c())

        model[0].register_forward_hook(hook)
        if where == "step":
            optimizer.at = at
        history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=5, val=val, progress=False)
        assert len(forwards) == at, where
        assert same_state(model.state_dict(), reference_state(at)), (where, at)
        assert_consistent(history, at)


def test_without_early_stopping_history_says_the_model_is_not_at_the_best_epoch():
    model, optimizer, loader, val = setup(optimizer=InterruptedAdam)
    optimizer.at = 3 * BATCHES + 2
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=6, val=val, progress=False)
    assert history.epochs == 3 and history.steps == 3 * BATCHES + 2 and not history.restored_best
    assert history.weights_epoch is None  # two steps into epoch 4, whatever best_epoch is
    assert same_state(model.state_dict(), reference_state(history.steps))


def test_ctrl_c_in_a_step_with_early_stopping_restores_the_best_epoch():
    model, optimizer, loader, val = setup(optimizer=InterruptedAdam)
    optimizer.at = 3 * BATCHES + 2
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=6, val=val, early_stopping=5,
                     progress=False)
    assert history.interrupted and history.restored_best and history.epochs == 3
    assert history.weights_epoch == history.best_epoch
    assert same_state(model.state_dict(), reference_state(BATCHES * history.best_epoch))


def test_a_full_run_ends_on_its_last_epoch():
    model, optimizer, loader, val = setup()
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=2, val=val, progress=False)
    assert not history.interrupted and history.steps == 2 * BATCHES
    assert history.weights_epoch == 2 and history.epoch_steps == [BATCHES, 2 * BATCHES]
    model, optimizer, loader, _ = setup()
    fresh = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=0, progress=False)
    assert fresh.steps == 0 and fresh.weights_epoch == 0


def test_ctrl_c_between_steps_still_stops_at_once():
    model, optimizer, loader, val = setup()
    validations = []

    def hook(module, inputs, out):
        if not module.training:
            validations.append(1)
            ctrl_c()  # during validation: no step runs, the KeyboardInterrupt comes straight away

    model.register_forward_hook(hook)
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=4, val=val, progress=False)
    assert history.interrupted and history.epochs == 0 and history.steps == BATCHES
    assert len(validations) == 1
    assert same_state(model.state_dict(), reference_state(BATCHES))


def test_the_sigint_handler_comes_back_after_an_error_in_a_step():
    model, optimizer, loader, val = setup()
    before = signal.getsignal(signal.SIGINT)

    def loss_fn(out, y):
        raise ValueError("bad loss")

    with pytest.raises(ValueError, match="bad loss"):
        nn.fit(model, loss_fn, optimizer, loader, epochs=1, progress=False)
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(KeyboardInterrupt):  # and Ctrl-C raises again outside fit
        ctrl_c()


def test_fit_in_another_thread_installs_no_handler():
    model, optimizer, loader, val = setup()
    before, seen, results = signal.getsignal(signal.SIGINT), [], []
    model.register_forward_hook(lambda m, i, o: seen.append(signal.getsignal(signal.SIGINT)))
    thread = threading.Thread(target=lambda: results.append(
        nn.fit(model, F.cross_entropy, optimizer, loader, epochs=1, val=val, progress=False)))
    thread.start()
    thread.join(10)
    assert results and results[0].steps == BATCHES and not results[0].interrupted
    assert all(handler is before for handler in seen)
