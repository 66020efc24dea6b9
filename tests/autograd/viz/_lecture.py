"""The micrograd lecture's first example, shared by the picture tests (loaded by path: pytest runs with
--import-mode=importlib, so test folders are not packages)."""

from autograd import Value, trace_backward


def lecture(traced: bool = False):
    """f = (x + y) z at x=-2, y=5, z=-4 (grads -4, -4, 3), its backward traced if asked."""
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    if traced:
        trace_backward(f, show=False)
    return f
