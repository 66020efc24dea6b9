"""nn.save and nn.load: a model's state dict as an .npz checkpoint, written whole or not at all."""

from __future__ import annotations

import errno
import os

import numpy as np

from autograd.files import write_atomically

from .module import Module

__all__ = ["save", "load"]


_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip (empty state dict)
_NOT_A_CHECKPOINT = "not a chainrule checkpoint (.npz written by nn.save)"


def save(model: Module, path) -> str:
    """Write the model's state dict to ``path`` as NumPy .npz, atomically; returns the absolute path written.

    ``path`` is used exactly as given (no ".npz" is appended) and written as every chainrule file is
    (autograd.files.write_atomically): the previous checkpoint or the complete new one, never half a
    file; missing folders made; a symlink's target replaced; ``0o666 & ~umask`` for a new file.
    """
    if not callable(getattr(model, "state_dict", None)):
        raise TypeError(f"nn.save: expected a model (an nn.Module), got {type(model).__name__}")
    state = model.state_dict()
    return write_atomically(path, lambda file: np.savez(file, **state), "nn.save")


def load(model: Module, path) -> Module:
    """Load a checkpoint written by ``save`` into ``model``; returns ``model``.

    All or nothing: the file is read and every key, shape and dtype checked before anything is copied.
    A missing file raises FileNotFoundError; anything else wrong (not an .npz, truncated, pickled
    objects, keys/shapes/dtypes that do not fit the model) raises a ValueError naming the path. Pickles
    are never loaded.
    """
    if not callable(getattr(model, "load_state_dict", None)):
        raise TypeError(f"nn.load: expected a model (an nn.Module) to load into, got {type(model).__name__}")
    path = os.fspath(path)
    shown = repr(path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "nn.load: no such checkpoint", path) from None
    with f:
        if f.read(4) not in _ZIP_MAGICS:
            raise ValueError(f"nn.load: {shown} is {_NOT_A_CHECKPOINT}: it is not a zip archive")
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as archive:
                if not isinstance(archive, np.lib.npyio.NpzFile):
                    raise ValueError("not an .npz archive")
                state = {}
                for key in archive.files:
                    try:
                        value = archive[key]
                    except ValueError as error:
                        if "allow_pickle" not in str(error):
                            raise
                        raise ValueError(f"member {key!r} holds pickled Python objects, which nn.load never "
                                         "loads") from None
                    if not isinstance(value, np.ndarray):
                        raise ValueError(f"member {key!r} is not a NumPy array")
                    state[key] = value
        except Exception as error:
            raise ValueError(f"nn.load: {shown} is {_NOT_A_CHECKPOINT}, or it is damaged: "
                             f"{type(error).__name__}: {error}") from error
    try:
        model.load_state_dict(state)
    except ValueError as error:
        raise ValueError(f"nn.load: checkpoint {shown} does not fit the model: {error}") from error
    return model
