"""Module: parameter discovery, modes, state dicts and atomic checkpoints."""

import os

import numpy as np
import pytest

import nn
from autograd import Tensor, Value


class Affine(nn.Module):
    def __init__(self, n_in, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.weight = Tensor(rng.standard_normal((n_out, n_in)), requires_grad=True)
        self.bias = Tensor(np.zeros(n_out), requires_grad=True)
        self.running = Tensor(np.zeros(n_out))  # a buffer: state, not a parameter

    def forward(self, x):
        return x @ self.weight.T + self.bias


class Net(nn.Module):
    def __init__(self):
        self.first = Affine(3, 4)
        self.blocks = [Affine(4, 4, seed=1), Affine(4, 2, seed=2)]
        self.heads = {"main": Affine(2, 1, seed=3)}
        self.scale = Value(2.0)
        self.note = "not a parameter"

    def forward(self, x):
        x = self.first(x)
        for block in self.blocks:
            x = block(x)
        return self.heads["main"](x) * self.scale.data


def test_parameters_are_found_in_attributes_lists_and_dicts_with_dotted_names():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["first.weight", "first.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                     "blocks.1.bias", "heads.main.weight", "heads.main.bias", "scale"]
    assert [name for name, _ in net.named_buffers()] == ["first.running", "blocks.0.running",
                                                         "blocks.1.running", "heads.main.running"]
    assert net.num_parameters() == 12 + 4 + 16 + 4 + 8 + 2 + 2 + 1 + 1


def test_shared_parameters_are_listed_once():
    net = Net()
    net.blocks[1] = net.blocks[0]
    assert len(net.parameters()) == 7


def test_zero_grad_and_train_eval_are_recursive():
    net = Net()
    out = net(Tensor(np.ones((5, 3))))
    out.sum().backward()
    assert net.first.weight.grad is not None
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters() if isinstance(p, Tensor))
    net.eval()
    assert not net.training and not net.blocks[1].training and not net.heads["main"].training
    net.train()
    assert net.blocks[0].training


def test_state_dict_round_trip_and_strict_errors_leave_the_model_unchanged():
    a, b = Net(), Net()
    b.first.weight.data += 1.0
    state = a.state_dict()
    assert list(state)[:2] == ["first.weight", "first.bias"] and "first.running" in state
    state["first.weight"] += 0  # a copy: editing it does not touch the model
    b.load_state_dict(state)
    np.testing.assert_array_equal(b.first.weight.data, a.first.weight.data)

    before = b.first.weight.numpy().copy()
    bad = dict(state)
    bad["first.weight"] = np.zeros((9, 9)) + 5
    del bad["first.bias"]
    bad["extra"] = np.zeros(1)
    with pytest.raises(ValueError) as error:
        b.load_state_dict(bad)
    message = str(error.value)
    assert "first.weight: expected (4, 3), got (9, 9)" in message
    assert "missing keys ['first.bias']" in message and "unexpected keys ['extra']" in message
    np.testing.assert_array_equal(b.first.weight.data, before)


def test_save_and_load_npz(tmp_path):
    a, b = Net(), Net()
    b.scale.data = 7.0
    path = tmp_path / "model.npz"
    nn.save(a, path)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left behind
    nn.load(b, path)
    assert b.scale.data == 2.0
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(np.asarray(p.data), np.asarray(q.data), err_msg=name)


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    nn.save(Net(), path)
    original = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        nn.save(Net(), path)
    assert path.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_load_rejects_a_mismatched_checkpoint(tmp_path):
    path = tmp_path / "small.npz"
    nn.save(Affine(3, 4), path)
    with pytest.raises(ValueError, match=r"small\.npz.*weight: expected \(5, 3\), got \(4, 3\)"):
        nn.load(Affine(3, 5), path)


def test_sequential_keys_and_repr():
    model = nn.Sequential(Affine(3, 4), Affine(4, 2))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert len(model) == 2 and model[1] is model.layers[1]
    text = repr(model)
    assert text.startswith("Sequential(\n  (0): Affine()")
    assert "weight (4, 3)" in text and text.endswith("26 parameters")
    out = model(Tensor(np.ones((2, 3))))
    assert out.shape == (2, 2)


def test_forward_hooks_see_inputs_and_outputs_can_replace_them_and_are_removed():
    layer = nn.Linear(3, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs[0].shape, out.shape)))
    x = Tensor(np.ones((4, 3), np.float32))
    out = layer(x)
    assert seen == [(layer, (4, 3), (4, 2))]
    with layer.register_forward_hook(lambda m, inputs, out: out * 0):
        assert np.all(layer(x).numpy() == 0)
    assert np.array_equal(layer(x).data, out.data)  # the replacing hook left with its `with` block
    handle.remove()
    handle.remove()
    layer(x)
    assert len(seen) == 3


def test_module_outputs_remember_their_calls_innermost_first():
    first, second = nn.Linear(3, 4), nn.ReLU()
    model = nn.Sequential(first, second)
    x = Tensor(np.ones((2, 3), np.float32))
    out = model(x)
    assert [m for m, _ in out._calls] == [second, model]
    assert out._calls[1][1] == (x,) and out.parents[0]._calls[0][0] is first


def test_a_call_that_returns_its_input_leaves_no_stamp():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    h = x * 2
    identity, dropout = nn.Identity(), nn.Dropout(0.5).eval()
    for _ in range(3):
        assert identity(h) is h and dropout(h) is h
    assert getattr(h, "_calls", ()) == () and getattr(x, "_calls", ()) == ()
