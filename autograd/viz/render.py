"""Writing a drawn graph: GraphvizNotFoundError with install steps, atomic picture files, and the picture's
size (a notebook cell's width) and direction (whichever of top-to-bottom and left-to-right is narrower)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys

import graphviz

from ..files import write_atomically

__all__ = ["GraphvizNotFoundError", "Digraph", "write_rendered", "PICTURE_INCHES", "narrower_rankdir"]

_INSTALL_HINT = (
    "Graphviz's 'dot' program is needed to render graphs but was not found on PATH. Install it: "
    "Debian/Ubuntu: sudo apt-get install graphviz | macOS: brew install graphviz | "
    "conda: conda install -c conda-forge graphviz (the graph's .source works without it)"
)


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's ``dot`` and it is missing; the message says how to install it."""

    def __init__(self, detail: str = "") -> None:
        RuntimeError.__init__(self, f"{_INSTALL_HINT}. [{detail}]" if detail else _INSTALL_HINT)


@contextlib.contextmanager
def _explain_missing_dot():
    """Turn graphviz's terse ExecutableNotFound into GraphvizNotFoundError with install steps."""
    try:
        yield
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(str(error)) from None


# Width and height limits in inches: a notebook cell is about 9 inches wide; taller pictures scroll. Graphviz
# shrinks a bigger drawing to fit; choosing the narrower direction first keeps that shrinking, and so the
# loss of legible text, small.
PICTURE_INCHES = (9, 20)
# Graphviz's geometry in inches: width of a character at the record (11 pt) and edge label (9 pt) font
# sizes, a record field's margins, an ellipse's minimum width, the gaps between nodes and between ranks.
_CHAR, _EDGE_CHAR, _FIELD_MARGIN, _ELLIPSE, _NODESEP, _RANKSEP = 0.085, 0.07, 0.17, 0.75, 0.25, 0.5


def _field_width(field: str, char: float = _CHAR) -> float:
    return max(len(line) for line in field.split("\\n")) * char + _FIELD_MARGIN


def label_widths(label: str, record: bool) -> tuple[float, float]:
    """Estimated width in inches of a node drawn with its record fields side by side and stacked
    (an ellipse is the same either way)."""
    if not record:
        width = max(_ELLIPSE, _field_width(label) + 0.2)
        return width, width
    fields = [_field_width(f) for f in label.strip("{} ").split(" | ")]
    return sum(fields), max(fields)


def edge_label_width(label: str) -> float:
    return _field_width(label, _EDGE_CHAR)


def narrower_rankdir(items) -> str:
    """'TB' or 'LR', whichever draws ``items`` narrower: (rank, width with fields side by side, width with
    fields stacked) per node or edge label. Records brace their fields, so left to right they sit side by
    side and top to bottom they stack. Left to right the ranks line up across the picture; top to bottom
    each rank's nodes do. An estimate from label lengths, computed without running Graphviz."""
    widest: dict = {}
    across: dict = {}
    for rank, side_by_side, stacked in items:
        widest[rank] = max(widest.get(rank, 0.0), side_by_side)
        across[rank] = across.get(rank, -_NODESEP) + stacked + _NODESEP
    left_to_right = sum(widest.values()) + _RANKSEP * (len(widest) - 1)
    top_to_bottom = max(across.values(), default=0.0)
    return "TB" if top_to_bottom <= left_to_right else "LR"


DOT_SECONDS = 60  # the longest Graphviz may take on one picture before it is stopped


def _die_with_parent() -> None:
    """In the child, before exec: Linux kills it when its parent dies (no orphaned dot keeps a core busy)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _run_dot(source: str, engine: str, fmt: str) -> bytes:
    """``dot -T fmt`` on ``source``, stopped after DOT_SECONDS and never outliving this process."""
    try:
        done = subprocess.run([engine, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                              timeout=DOT_SECONDS, preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    except FileNotFoundError as error:
        raise GraphvizNotFoundError(str(error)) from None
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        raise TimeoutError(f"draw_graph: Graphviz took more than {DOT_SECONDS} s on this graph and was stopped; "
                           "draw less of it (collapse='module', or a smaller sub-graph)") from None
    if done.returncode:
        raise RuntimeError(f"draw_graph: Graphviz failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


class Digraph(graphviz.Digraph):
    """A graphviz.Digraph whose render, pipe and notebook display explain a missing ``dot``, and whose
    pictures are made by a ``dot`` that is time-bounded and dies with this process."""

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None, quiet=False, *,
             engine=None, encoding=None):
        if renderer or formatter or neato_no_op:
            with _explain_missing_dot():
                return super().pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine, encoding=encoding)
        data = _run_dot(self.source, engine or self.engine, format or self.format)
        return data.decode(encoding) if encoding else data

    def render(self, *args, **kwargs):
        with _explain_missing_dot():
            return super().render(*args, **kwargs)


_PICTURES = ("svg", "png", "pdf")


def _output_path(filename: str | os.PathLike, format: str) -> tuple[str, str]:
    """Where to write and in which format: a Graphviz suffix picks the format, no suffix gets ``.format``;
    an empty name, a folder, an unknown suffix or a read-only file is refused before anything is written."""
    path = os.fspath(filename)
    if not path.strip():
        raise ValueError("draw_graph: the file name is empty; give a path such as graph.svg")
    if path.endswith((os.sep, "/")) or os.path.isdir(path):
        raise IsADirectoryError(f"draw_graph: {path!r} is a folder; give a file name such as "
                                f"{os.path.join(path, 'graph.svg')}")
    base, suffix = os.path.splitext(path)
    suffix = suffix[1:].lower()
    if suffix and suffix not in graphviz.FORMATS:
        raise ValueError(f"draw_graph: {path!r} ends in .{suffix}, which is not a picture format Graphviz writes; "
                         f"use .{', .'.join(_PICTURES)} (nothing was written)")
    path, fmt = (path, suffix) if suffix else (f"{path}.{format}", format)
    if os.path.exists(path) and not (os.stat(path).st_mode & 0o222 and os.access(path, os.W_OK)):
        raise PermissionError(f"draw_graph: {path!r} is read-only; it was left as it is")
    return path, fmt


def write_rendered(graph: graphviz.Digraph, filename, format: str, keep_source: bool) -> None:
    """Render in memory with ``dot`` and write the picture (and, if asked, the DOT source)."""
    path, fmt = _output_path(filename, format)
    graph.format = fmt
    data = graph.pipe(format=fmt)  # raises GraphvizNotFoundError before any file is touched
    write_atomically(path, data, "draw_graph")
    graph.written = path  # where the picture went, for callers that say so
    if keep_source:
        write_atomically(os.path.splitext(path)[0] + ".gv", graph.source.encode("utf-8"), "draw_graph")
