"""Files written whole or not at all: every file chainrule writes (pictures, pages, figures,
checkpoints) goes through ``write_atomically``, so none is ever left half written."""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat

__all__ = ["write_atomically"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def write_atomically(path, contents, who: str = "write") -> str:
    """Write ``contents`` (bytes, or a function that writes into a binary file) to ``path``; returns the
    absolute path written.

    The file at ``path`` is then the previous one or the complete new one: a temporary
    ``.{name}.tmp-{pid}-{random}`` in the same folder is written, fsynced and renamed over it, then
    the folder is fsynced. Missing folders are made; a symlink is followed and its target replaced; a
    new file gets ``0o666 & ~umask``, an existing one keeps its mode; temporaries left by killed
    writers of the same path are removed. Errors start with ``who`` and name ``path``, never the
    temporary file."""
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{who}: the file name is empty; give a file name")
    target = os.path.realpath(path)
    if os.path.isdir(target) or path.endswith(os.sep):
        raise IsADirectoryError(errno.EISDIR, f"{who}: the path is a folder; give a file name inside it", path)
    directory, name = os.path.split(target)
    try:
        os.makedirs(directory, exist_ok=True)
        mode = stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target) else None
        _remove_stale_temporaries(directory, name)
        fd, temporary = _create_temporary(directory, name)
    except OSError as error:
        raise _naming(error, who, "cannot write a file in that folder", path) from None
    try:
        with os.fdopen(fd, "wb") as file:
            if mode is not None:
                os.chmod(temporary, mode)
            if callable(contents):
                contents(file)
            else:
                file.write(contents)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError) and error.errno is not None:
            raise _naming(error, who, "could not write the file", path) from error
        raise
    _fsync_directory(directory)
    return target


def _naming(error: OSError, who: str, what: str, path: str) -> OSError:
    """The same kind of error, its message naming the user's path."""
    if error.errno is None:
        return type(error)(f"{who}: {what}: {path!r}")
    return type(error)(error.errno, f"{who}: {what} ({error.strerror})", path)


def _create_temporary(directory: str, name: str) -> tuple:
    for _ in range(100):
        temporary = os.path.join(directory, f".{name}.tmp-{os.getpid()}-{secrets.token_hex(8)}")
        try:
            return os.open(temporary, _FLAGS, 0o666), temporary  # the kernel applies the umask
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not create a temporary file", directory)


def _remove_stale_temporaries(directory: str, name: str) -> None:
    """Delete temporary files that killed writers of the same target left (their process is gone)."""
    pattern = re.compile(rf"\.{re.escape(name)}\.tmp-(\d+)-[0-9a-f]+")
    for entry in os.listdir(directory):
        match = pattern.fullmatch(entry)
        if match and not _process_alive(int(match.group(1))):
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: the process exists
        return True
    return True


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # platforms (Windows) where a folder cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)
