"""NumPy's floating-point warnings off for one op, as torch never warns: inf and nan are values.

``np.errstate`` costs about 1-2 us to enter and leave, as much as a small op itself; NumPy 2 keeps
the setting in a context variable, which ``hush`` sets and ``unhush`` resets for about a tenth of
that. With NumPy 1 (no such variable) both fall back to ``np.errstate``. Each op hushes its own
NumPy work once (not each NumPy call), and ``unhush`` in a ``finally`` gives the user's setting back,
also when the op raises::

    token = hush()
    try:
        ...
    finally:
        unhush(token)
"""

from __future__ import annotations

import numpy as np

__all__ = ["hush", "unhush"]

try:
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
except ImportError:  # NumPy 1.x
    def hush():
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def unhush(token) -> None:
        token.__exit__(None, None, None)
else:
    _IGNORE = _make_extobj(all="ignore")
    _set = _extobj_contextvar.set

    def hush():
        return _set(_IGNORE)

    unhush = _extobj_contextvar.reset
