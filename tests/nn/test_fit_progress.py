"""nn.fit's progress output: bars in a terminal or Jupyter, one plain line per epoch anywhere else."""

import io
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

import nn
import nn.functional as F
from nn import train


def moons_setup(batch_size):
    X, y = nn.data.make_moons(160, noise=0.15, seed=0)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 8, rng=rng), nn.ReLU(), nn.Linear(8, 2, rng=rng))
    loader = nn.data.DataLoader(X[:120], y[:120], batch_size=batch_size, seed=0)
    return model, nn.optim.Adam(model.parameters(), lr=0.05), loader, (X[120:], y[120:])


def expected_lines(history, epochs):
    """The plain line of each epoch, built from the History's own numbers."""
    lines = []
    for e in range(history.epochs):
        values = {"loss": history.train_loss[e], "val_loss": history.val_loss[e],
                  "accuracy": history.metrics["accuracy"][e], "val_accuracy": history.metrics["val_accuracy"][e]}
        lines.append(f"epoch {e + 1:>{len(str(epochs))}}/{epochs}  "
                     + "  ".join(f"{name}={value:.4g}" for name, value in values.items()))
    return lines


def test_not_a_terminal_gives_one_plain_line_per_epoch(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    model, optimizer, loader, val = moons_setup(batch_size=4)  # 30 batches: a batch bar in a terminal
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=12, val=val)
    err = sys.stderr.getvalue()
    assert "\r" not in err and "\x1b" not in err
    assert err.splitlines() == expected_lines(history, 12)
    assert err.splitlines()[0].startswith("epoch  1/12  loss=")
    assert capsys.readouterr().out == ""


def test_early_stopping_prints_only_the_epochs_run(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    model, optimizer, loader, val = moons_setup(batch_size=16)
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=200, val=val, early_stopping=2)
    assert history.stopped_early and history.epochs < 200
    assert sys.stderr.getvalue().splitlines() == expected_lines(history, 200)


def test_stderr_redirected_to_a_file_in_a_real_process(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        "import numpy as np, nn, nn.functional as F\n"
        "X, y = nn.data.make_moons(120, noise=0.15, seed=0)\n"
        "model = nn.Sequential(nn.Linear(2, 8, rng=np.random.default_rng(0)), nn.ReLU(),\n"
        "                      nn.Linear(8, 2, rng=np.random.default_rng(1)))\n"
        "loader = nn.data.DataLoader(X, y, batch_size=4, seed=0)\n"
        "h = nn.fit(model, F.cross_entropy, nn.optim.Adam(model.parameters(), lr=0.05), loader, epochs=3)\n"
        "print(repr(h.train_loss[-1]), repr(h.metrics['accuracy'][-1]))\n")
    log = tmp_path / "stderr.log"
    root = Path(__file__).resolve().parents[2]
    with open(log, "w") as stderr:
        done = subprocess.run([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=stderr, text=True,
                              cwd=root, timeout=120)
    assert done.returncode == 0, log.read_text()
    loss, accuracy = (float(v) for v in done.stdout.split())
    text = log.read_text()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == 3 and [line.split("  ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert lines[-1] == f"epoch 3/3  loss={loss:.4g}  accuracy={accuracy:.4g}"


def test_jupyter_keeps_the_bars_though_its_streams_are_no_terminal(monkeypatch):
    class Kernel:
        kernel = object()

    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: Kernel()
    assert not train._interactive(io.StringIO())
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert train._interactive(io.StringIO())
    fake.get_ipython = lambda: None  # IPython imported, but a plain script or terminal shell
    assert not train._interactive(io.StringIO())


def test_closed_or_missing_stderr_neither_crashes_nor_prints(monkeypatch):
    closed = io.StringIO()
    closed.close()
    assert not train._interactive(closed) and not train._interactive(None)
    monkeypatch.setattr(sys, "stderr", None)  # pythonw: no stderr at all
    model, optimizer, loader, _ = moons_setup(batch_size=16)
    assert nn.fit(model, F.cross_entropy, optimizer, loader, epochs=2).epochs == 2
