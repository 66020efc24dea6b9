"""Graphviz runs time-bounded and never outlives the process that started it (a hung ``dot`` once kept a
core busy for minutes after its parent was killed)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from autograd import Value, draw_graph
from autograd.viz import render


@pytest.fixture
def slow_dot(tmp_path, monkeypatch):
    """A ``dot`` on PATH that writes its pid to a file and then sleeps for a minute."""
    pids = tmp_path / "pids"
    script = tmp_path / "bin" / "dot"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\necho $$ >> {pids}\nexec sleep 60\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has finished
        return stat.read().split()[2] != "Z"


def test_a_slow_graphviz_is_stopped_and_the_file_is_never_written(slow_dot, tmp_path, monkeypatch):
    monkeypatch.setattr(render, "DOT_SECONDS", 1)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="Graphviz took more than 1 s on this graph and was stopped"):
        draw_graph(Value(2.0) * 3, filename=tmp_path / "g.svg")
    assert time.monotonic() - start < 20
    assert not (tmp_path / "g.svg").exists()
    (pid,) = map(int, slow_dot.read_text().split())
    assert not _alive(pid)


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's prctl")
def test_graphviz_dies_with_a_killed_parent(slow_dot, tmp_path):
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from autograd import Value, draw_graph
        draw_graph(Value(2.0) * 3, filename={str(tmp_path / 'g.svg')!r})
    """)], env=os.environ.copy())
    deadline = time.monotonic() + 30
    while not slow_dot.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (pid,) = map(int, slow_dot.read_text().split())
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
