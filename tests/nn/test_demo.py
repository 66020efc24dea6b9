"""`make demo`: the main job trains, reports and writes every file it promises."""

import re

import numpy as np

import nn
from nn import demo


def test_demo_trains_reports_and_writes_its_files(tmp_path, capsys):
    demo.main(["--out", str(tmp_path), "--no-progress"])
    text = capsys.readouterr().out
    assert "f = 0.7311" in text and "df/dw0 = -0.1966" in text and "df/dx1 = -0.5898" in text
    accuracy = float(re.search(r"Test accuracy: ([\d.]+)%", text).group(1))
    assert accuracy >= 97.0, text
    matrix = [line.split()[1:] for line in text.splitlines() if re.fullmatch(r"\s+\d( +\d+){10}", line)]
    assert len(matrix) == 10 and sum(int(v) for row in matrix for v in row) == 450
    assert (tmp_path / "sigmoid_neuron.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "sigmoid_neuron.svg").read_text()
    model = nn.load(demo.digits_model(seed=1), tmp_path / "digits_cnn.npz")
    X, y = nn.data.load_digits(images=True)
    assert np.mean(nn.predict(model, X / 16.0).argmax(axis=1) == y) > 0.97
    assert str(tmp_path) in text  # it tells the user where the files are
