"""Checkpoint reliability: all-or-nothing loads, clear load errors, and save's file-system behaviour."""

import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd import Tensor, Value

REPO = Path(__file__).resolve().parents[2]


class Small(nn.Module):
    """Parameters (Tensors and a Value) and buffers, including an int64 one like batch norm's."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.linear = nn.Linear(3, 4, seed=seed)
        self.norm = nn.BatchNorm1d(4)
        self.extra = Tensor(rng.standard_normal(2), requires_grad=True)
        self.scale = Value(2.0)
        self.counts = Tensor(np.arange(3, dtype=np.int32))  # an int buffer


def snapshot(model):
    return {name: np.array(p._data) for name, p in [*model.named_parameters(), *model.named_buffers()]}


def assert_unchanged(model, before):
    after = snapshot(model)
    assert list(after) == list(before)
    for name in before:
        assert after[name].dtype == before[name].dtype, name
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)


def shifted_state(model):
    """A valid state dict differing from the model in every entry."""
    return {k: (v + 1).astype(v.dtype) for k, v in model.state_dict().items()}


# --- 1. all-or-nothing load_state_dict / nn.load ----------------------------------------------------


def test_state_dict_has_an_int64_num_batches_tracked_last():
    state = Small().state_dict()
    assert state["norm.num_batches_tracked"].dtype == np.int64
    assert state["counts"].dtype == np.int32


def test_uncastable_num_batches_tracked_leaves_the_model_unchanged():
    model = Small()
    before = snapshot(model)
    state = shifted_state(model)
    state["norm.num_batches_tracked"] = np.array(3.0)  # saved as float: cannot go into the int64 buffer
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "norm.num_batches_tracked" in message and "int64" in message and "float64" in message
    assert "shape ()" in message
    assert_unchanged(model, before)


def test_float_array_into_int_buffer_is_rejected_before_anything_is_copied():
    model = Small()
    before = snapshot(model)
    state = shifted_state(model)
    state["counts"] = np.array([1.5, 2.5, 3.5])
    with pytest.raises(ValueError, match=r"counts: expected dtype int32 .*got float64"):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_every_problem_is_reported_at_once_and_nothing_changes():
    model = Small()
    before = snapshot(model)
    state = shifted_state(model)
    state["linear.weight"] = np.zeros((9, 9))
    state["counts"] = np.zeros(3, dtype=np.complex128)
    state["scale"] = np.array(1 + 2j)
    del state["linear.bias"]
    state["bogus"] = np.zeros(1)
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "linear.weight: expected (4, 3), got (9, 9)" in message
    assert "counts: expected dtype int32" in message and "complex128" in message
    assert "scale: expected dtype float64" in message
    assert "missing keys ['linear.bias']" in message and "unexpected keys ['bogus']" in message
    assert not message.startswith('"')  # a ValueError, not a KeyError printed in quotes
    assert_unchanged(model, before)


def test_castable_dtypes_nonfinite_values_and_non_strict_loads_still_work():
    model = Small()
    state = shifted_state(model)
    state["linear.weight"] = np.full((4, 3), np.nan)  # finite-ness is not required
    state["extra"] = np.array([1, 2])  # int -> float32 is same_kind
    state["norm.num_batches_tracked"] = np.array(5, dtype=np.int32)
    state["scale"] = np.array(3)  # an int into a Value
    model.load_state_dict(state)
    assert np.isnan(model.linear.weight._data).all() and model.linear.weight._data.dtype == np.float32
    np.testing.assert_array_equal(model.extra._data, [1.0, 2.0])
    assert model.norm.num_batches_tracked._data.dtype == np.int64 and int(model.norm.num_batches_tracked._data) == 5
    assert model.scale.data == 3.0 and isinstance(model.scale.data, float)
    model.load_state_dict({"scale": np.array(4.0), "unused": np.zeros(2)}, strict=False)
    assert model.scale.data == 4.0


def test_nn_load_of_an_uncastable_checkpoint_names_path_and_key_and_changes_nothing(tmp_path):
    source, model = Small(seed=1), Small()
    source.load_state_dict(shifted_state(source))
    source.norm.num_batches_tracked = Tensor(np.array(7.0))  # a float buffer, as a buggy writer would save
    path = tmp_path / "float_counter.npz"
    nn.save(source, path)
    before = snapshot(model)
    with pytest.raises(ValueError) as error:
        nn.load(model, path)
    message = str(error.value)
    assert str(path) in message and "norm.num_batches_tracked" in message
    assert "expected dtype int64" in message and "got float64" in message
    assert_unchanged(model, before)


# --- 3. clear load errors --------------------------------------------------------------------------------


def write_bad_files(tmp_path):
    good = tmp_path / "good.npz"
    nn.save(Small(), good)
    data = good.read_bytes()
    files = {
        "random.npz": np.random.default_rng(0).bytes(2000),
        "truncated.npz": data[: len(data) // 2],
        "empty.npz": b"",
        "text.npz": b"hello, world\n",
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "array.npy", np.zeros(3))
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, weight=np.array([{"a": 1}], dtype=object))
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "not an array")
    corrupt = bytearray(data)
    corrupt[60:90] = bytes(30)  # damage a member's data: the zip directory is still intact
    (tmp_path / "corrupt.npz").write_bytes(bytes(corrupt))
    return [tmp_path / n for n in [*files, "array.npy", "pickled.npz", "other.zip", "corrupt.npz"]]


def test_every_bad_file_gives_a_value_error_naming_the_path(tmp_path):
    for path in write_bad_files(tmp_path):
        model = Small()
        before = snapshot(model)
        with pytest.raises(ValueError) as error:
            nn.load(model, path)
        message = str(error.value)
        assert str(path) in message, message
        assert "not a chainrule checkpoint (.npz written by nn.save)" in message, message
        assert "allow_pickle" not in message, message
        assert_unchanged(model, before)


def test_load_never_unpickles(tmp_path, monkeypatch):
    import pickle

    path = tmp_path / "pickle.npz"
    path.write_bytes(pickle.dumps({"linear.weight": np.zeros((4, 3))}))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(ValueError, match="not a chainrule checkpoint"):
        nn.load(Small(), path)


def test_a_missing_file_is_file_not_found_naming_the_path(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError) as error:
        nn.load(Small(), path)
    assert str(path) in str(error.value)


# --- 2. save's file-system behaviour ---------------------------------------------------------------------


def test_save_uses_the_umask_for_new_files_and_keeps_an_existing_files_mode(tmp_path):
    old = os.umask(0o022)
    try:
        nn.save(Small(), tmp_path / "a.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode) == 0o644
        os.umask(0o027)
        nn.save(Small(), tmp_path / "b.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "b.npz").st_mode) == 0o640
        os.chmod(tmp_path / "a.npz", 0o600)  # a user's choice survives an overwrite, as with open(path, "wb")
        nn.save(Small(), tmp_path / "a.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode) == 0o600
    finally:
        os.umask(old)


def test_save_writes_through_a_symlink_to_its_target(tmp_path):
    real = tmp_path / "store" / "real.npz"
    real.parent.mkdir()
    nn.save(Small(seed=1), real)
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    model = Small(seed=2)
    model.load_state_dict(shifted_state(model))
    nn.save(model, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert sorted(os.listdir(real.parent)) == ["real.npz"]
    loaded = nn.load(Small(), link)
    assert_unchanged(loaded, snapshot(model))
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(tmp_path / "new" / "target.npz")
    nn.save(model, dangling)
    assert dangling.is_symlink() and (tmp_path / "new" / "target.npz").is_file()


def test_save_creates_parents_and_keeps_the_exact_path_for_any_suffix(tmp_path):
    for name in ["deep/er/model.npz", "model.pt", "model", "model.ckpt.bak"]:
        path = tmp_path / name
        assert nn.save(Small(), path) == str(path.resolve())  # says where it wrote
        assert path.is_file(), name
        assert not Path(str(path) + ".npz").exists() or name.endswith(".npz")
        assert_unchanged(nn.load(Small(seed=5), path), snapshot(Small()))
    assert sorted(os.listdir(tmp_path)) == ["deep", "model", "model.ckpt.bak", "model.pt"]


def test_save_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file"))
        real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    nn.save(Small(), tmp_path / "m.npz")
    assert events == ["fsync-file", "replace", "fsync-dir"]


def test_stale_temp_files_of_the_same_target_are_removed_and_others_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".m.npz.tmp-{dead.pid}-0123abcd"
    stale.write_bytes(b"half a checkpoint")
    keep = [
        tmp_path / f".m.npz.tmp-{os.getpid()}-0123abcd",  # a save in progress in a live process
        tmp_path / f".other.npz.tmp-{dead.pid}-0123abcd",  # another target's
        tmp_path / ".m.npz.tmp-x.tmp-1-abc",  # the temp of a target called "m.npz.tmp-x"
        tmp_path / "notes.txt",
    ]
    for path in keep:
        path.write_bytes(b"x")
    nn.save(Small(), tmp_path / "m.npz")
    assert not stale.exists()
    assert all(path.exists() for path in keep)


# --- 4. SIGKILL at random moments ----------------------------------------------------------------------

SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import nn
    from autograd import Tensor

    class Big(nn.Module):
        def __init__(self):
            self.a = Tensor(np.zeros((300, 300)), requires_grad=True)
            self.b = Tensor(np.zeros(1000), requires_grad=True)
            self.count = Tensor(np.array(0, dtype=np.int64))

    model, path = Big(), sys.argv[1]
    print("ready", flush=True)
    for i in range(1, 1_000_000):
        for _, t in [*model.named_parameters(), *model.named_buffers()]:
            t._data[...] = i
        nn.save(model, path)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_save_killed_at_random_moments_leaves_the_old_or_the_new_checkpoint(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "model.npz"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    rng = random.Random(1234)
    seen, deadline = [], time.monotonic() + 60
    for kill in range(14):
        child = subprocess.Popen([sys.executable, str(script), str(path)], cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert child.stdout.readline() == b"ready\n", child.stderr.read()
            time.sleep(0 if kill == 0 else rng.uniform(0, 0.15))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL, "the saver stopped on its own"
        temps = [name for name in os.listdir(folder) if name != "model.npz"]
        assert len(temps) <= 1 and all(name.startswith(".model.npz.tmp-") for name in temps), temps
        if not path.exists():
            assert all(i is None for i in seen), "a complete checkpoint disappeared"
            seen.append(None)
            continue
        with np.load(path, allow_pickle=False) as archive:
            state = {k: archive[k] for k in archive.files}
        assert sorted(state) == ["a", "b", "count"]
        i = int(state["count"])
        assert i >= 1 and state["count"].dtype == np.int64
        for name, value in state.items():
            assert (value == i).all(), f"kill {kill}: {name} is not entirely state {i}"
        seen.append(i)
        assert time.monotonic() < deadline, "the kill test took too long"
    assert any(i is not None for i in seen)
    nn.save(Small(), path)
    assert os.listdir(folder) == ["model.npz"]
