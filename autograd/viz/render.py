"""Writing a drawn graph: GraphvizNotFoundError with install steps, and atomic picture files."""

from __future__ import annotations

import contextlib
import os
import secrets

import graphviz

__all__ = ["GraphvizNotFoundError", "Digraph", "write_rendered"]

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


class Digraph(graphviz.Digraph):
    """A graphviz.Digraph whose render, pipe and notebook display explain a missing ``dot``."""

    def pipe(self, *args, **kwargs):
        with _explain_missing_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        with _explain_missing_dot():
            return super().render(*args, **kwargs)


def _output_path(filename: str | os.PathLike, format: str) -> tuple[str, str]:
    """Where to write and in which format: a known suffix picks the format, no suffix gets ``.format``."""
    path = os.fspath(filename)
    suffix = os.path.splitext(path)[1][1:].lower()
    if suffix in graphviz.FORMATS:
        return path, suffix
    return (path, format) if suffix else (f"{path}.{format}", format)


def _write_atomically(path: str, data: bytes) -> None:
    """Write to a fresh temporary name in the same directory, then rename: never a partial file."""
    directory, base = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{base}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_rendered(graph: graphviz.Digraph, filename, format: str, keep_source: bool) -> None:
    """Render in memory with ``dot`` and write the picture (and, if asked, the DOT source)."""
    path, fmt = _output_path(filename, format)
    graph.format = fmt
    data = graph.pipe(format=fmt)  # raises GraphvizNotFoundError before any file is touched
    _write_atomically(path, data)
    if keep_source:
        _write_atomically(os.path.splitext(path)[0] + ".gv", graph.source.encode("utf-8"))
