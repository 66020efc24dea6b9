"""History.plot(filename=...) and the demo as file writers: folders made, umask modes, suffixes, messages."""

import os
import stat

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import nn  # noqa: E402
from nn import demo  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def umask():
    """Set the process umask for one test, then put the old one back."""
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


def history():
    return nn.History(train_loss=[1.0, 0.5, 0.4], val_loss=[1.1, 0.7, 0.8], best_epoch=2)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664)])
def test_plot_writes_into_missing_folders_with_the_umask_and_says_where(tmp_path, capsys, umask, mask, expected):
    umask(mask)
    path = tmp_path / "new" / "deeper" / "loss.png"
    ax = history().plot(filename=path)
    plt.close(ax.figure)
    assert path.read_bytes()[:8] == PNG
    assert mode(path) == expected
    assert capsys.readouterr().out == f"loss curves written to {path}\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["loss.png"]  # no temporary left behind


@pytest.mark.parametrize("name, start", [("loss.svg", b"<?xml"), ("loss.pdf", b"%PDF"), ("LOSS.PNG", PNG)])
def test_plot_keeps_the_users_suffix_and_writes_that_format(tmp_path, capsys, name, start):
    ax = history().plot(filename=str(tmp_path / name))
    plt.close(ax.figure)
    assert (tmp_path / name).read_bytes().startswith(start)
    assert capsys.readouterr().out == f"loss curves written to {tmp_path / name}\n"


@pytest.mark.parametrize("name, problem", [
    ("notes.txt", "ends in .txt, which matplotlib does not write"),
    ("model.npz", "ends in .npz, which matplotlib does not write"),
    ("loss", "has no suffix"),
])
def test_plot_refuses_an_unknown_or_missing_suffix_naming_the_path_and_writes_nothing(tmp_path, name, problem):
    for existing in ("notes.txt", "model.npz"):
        (tmp_path / existing).write_bytes(b"the user's own bytes")
    path = str(tmp_path / name)
    with pytest.raises(ValueError) as caught:
        history().plot(filename=path)
    plt.close("all")
    assert str(caught.value).startswith(f"History.plot: {path!r} {problem}; use .png, .svg or .pdf")
    assert str(caught.value).endswith("nothing was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "notes.txt"]
    assert all((tmp_path / f).read_bytes() == b"the user's own bytes" for f in ("notes.txt", "model.npz"))


def test_plot_error_names_the_users_path_not_a_temporary(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    path = tmp_path / "a-file" / "loss.png"
    with pytest.raises(OSError) as caught:
        history().plot(filename=path)
    plt.close("all")
    assert repr(str(path)) in str(caught.value) and ".tmp" not in str(caught.value)


def test_plot_without_a_filename_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ax = history().plot()
    plt.close(ax.figure)
    assert list(tmp_path.iterdir()) == [] and capsys.readouterr().out == ""


def test_demo_loss_curve_goes_into_missing_folders_with_the_umask(tmp_path, umask):
    path = tmp_path / "missing" / "loss_curve.png"
    written = demo._save_loss_curve(history(), str(path))
    assert written == str(path)
    assert path.read_bytes()[:8] == PNG and mode(path) == 0o644
    assert plt.get_fignums() == []  # the demo's figure is closed


def test_demo_out_that_is_a_file_is_a_one_line_usage_error(tmp_path, capsys):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(SystemExit) as done:
        demo.main(["--out", str(tmp_path / "out"), "--epochs", "1", "--no-progress"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    expected = f": error: --out {str(tmp_path / 'out')!r} is a file, not a folder; give a folder such as out/"
    assert err.splitlines()[-1].endswith(expected)  # argparse starts the line with the program's name
    assert (tmp_path / "out").read_text() == "a file"


def test_demo_out_under_a_file_names_the_folder(tmp_path, capsys):
    (tmp_path / "a-file").write_text("a file")
    target = str(tmp_path / "a-file" / "out")
    with pytest.raises(SystemExit):
        demo.main(["--out", target, "--epochs", "1", "--no-progress"])
    assert f"error: --out {target!r}: could not make the folder: Not a directory" in capsys.readouterr().err
