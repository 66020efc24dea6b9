"""The README's Python examples run as written, in order, and print what their comments say."""

import contextlib
import io
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_examples_run_in_order_and_show_what_they_claim(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    assert len(BLOCKS) >= 6, "README lost its examples"
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in BLOCKS:
            exec(compile(block, str(README), "exec"), namespace)
    ns = namespace
    assert ns["q"].data == 3.0 and ns["f"].data == -12.0
    lines = printed.getvalue().splitlines()
    assert lines[0].endswith("out/backprop.html (2 backward steps)") and lines[1] == "-2.0 2.0"  # Your first hour
    assert (tmp_path / "out" / "backprop.html").read_text().count('class="cr-frame"') == 3  # 2 steps + start
    start = lines.index("-12.0 -4.0 -4.0 3.0")  # the Quick start
    np.testing.assert_allclose(ns["h"].data, [4.5, 1.2], rtol=1e-6)
    assert (tmp_path / "out" / "f.svg").stat().st_size > 1000
    accuracy = float(lines[start + 3])
    assert accuracy >= 0.95, accuracy
    assert len(ns["frames"]) == len(ns["trace"]) + 1
    assert ns["d2y"].data == pytest.approx(-2 * np.tanh(0.5) * (1 - np.tanh(0.5) ** 2), rel=1e-12)
    assert "0.weight" in str(ns["w"].report())
    assert "3.2958 (27, 2) float32" in printed.getvalue().splitlines()  # log(27): the torch-style example
    assert "gradcheck: input 0 at index (0,): analytic gradient 0.5498339973" in printed.getvalue()  # s, not s(1-s)
    assert "1 17" in printed.getvalue().splitlines() and "out=" in ns["step"].source  # autograd.compile
