"""torch names chainrule does not have: using one raises an error that names it and says what to use
instead, never an AttributeError that reads like a typo (nor a different result).

Tensor gets a method (or, for torch's properties, a property) per name that raises; a ``__getattr__``
would do it in one place but slows every attribute access of every Tensor (CPython then skips its
fast path for slots)."""

from __future__ import annotations

_CPU = "leave it out (chainrule runs on the CPU only)"
_INDEX = "index assignment t[idx] = v, or t[idx] += v to add"

TENSOR = {
    "cuda": _CPU, "is_cuda": _CPU, "pin_memory": _CPU, "data_ptr": "t.numpy() is the array itself",
    "grad_fn": "t.op names the op that made t, t.parents lists its inputs",
    "scatter": _INDEX, "scatter_": _INDEX, "scatter_add": _INDEX, "scatter_add_": _INDEX,
    "index_add_": _INDEX, "index_copy_": _INDEX, "index_fill_": _INDEX, "index_put_": _INDEX,
    "masked_scatter": _INDEX, "masked_fill_": "t[mask] = value", "masked_select": "t[mask]",
    "gather": "integer-array indexing, e.g. t[torch.arange(n), idx] for one entry per row",
    "cumsum": "t.numpy().cumsum(dim) outside the graph", "cumprod": "t.numpy().cumprod(dim) outside the graph",
    "sort": "t.numpy().sort(dim) outside the graph, or argmax/max(dim) for the largest",
    "argsort": "t.numpy().argsort(dim) outside the graph", "topk": "max(dim) for k = 1",
    "unique": "np.unique(t.numpy())", "nonzero": "np.nonzero(t.numpy())", "prod": "t.log().sum().exp() for positive t",
    "norm": "(t ** 2).sum().sqrt()", "repeat": "expand (no copy) or cat", "tile": "expand or cat",
    "flip": "t[::-1] on the NumPy side (negative strides are not supported here)",
    "uniform_": "nn.init.uniform_(t, a, b)", "normal_": "nn.init.normal_(t, mean, std)",
    "bernoulli": "(torch.rand(*t.shape) < t).float()", "bernoulli_": "(torch.rand(*t.shape) < p).float()",
    "random_": "torch.randint", "exponential_": "NumPy's generator",
    "round": "t.numpy().round()", "floor": "t.numpy().floor()", "ceil": "t.numpy().ceil()",
    "sign": "t.numpy().sign()", "log1p": "(1 + t).log()", "reciprocal": "1 / t", "bmm": "@ (it batches)",
    "addmm": "b + x @ w", "baddbmm": "b + x @ w", "outer": "a[:, None] * b[None, :]",
    "diag": "t * torch.eye(n) or t[range(n), range(n)]", "diagonal": "t[range(n), range(n)]",
    "trace": "t[range(n), range(n)].sum()", "tril": "t * torch.tril mask built with NumPy",
    "triu": "t * a mask built with NumPy", "narrow": "slicing t[:, start:start + length]",
    "select": "indexing t[:, i]", "storage": "t.numpy()", "stride": "t.numpy().strides", "share_memory_": _CPU,
}

MODULE = {
    "compile": "autograd.compile is not here; run the step eagerly",
    "optim": "nn.optim (import nn)", "utils": "nn.data for DataLoader", "save": "nn.save(model, path)",
    "load": "nn.load(model, path)", "bmm": "torch.matmul (it batches)", "einsum": "matmul and sum",
    "cumsum": TENSOR["cumsum"], "sort": TENSOR["sort"], "topk": TENSOR["topk"], "gather": TENSOR["gather"],
    "scatter": _INDEX, "unique": TENSOR["unique"], "nonzero": TENSOR["nonzero"], "norm": TENSOR["norm"],
    "prod": TENSOR["prod"], "outer": TENSOR["outer"], "tril": TENSOR["tril"], "triu": TENSOR["triu"],
    "bernoulli": TENSOR["bernoulli"], "round": TENSOR["round"], "floor": TENSOR["floor"], "ceil": TENSOR["ceil"],
    "sign": TENSOR["sign"], "log1p": TENSOR["log1p"], "set_default_dtype": "pass dtype= to each factory",
}


_PROPERTIES = ("grad_fn", "is_cuda")


def refusals() -> dict:
    """name -> a method (a property for torch's properties) that raises NotSupportedError, for Tensor."""
    def refusal(name: str):
        def refuse_call(self, *args, **kwargs):
            raise refuse("torch.Tensor", name, TENSOR)
        refuse_call.__name__ = name
        refuse_call.__doc__ = f"Not supported by chainrule: {TENSOR[name]}."
        return property(refuse_call) if name in _PROPERTIES else refuse_call
    return {name: refusal(name) for name in TENSOR}


class NotSupportedError(NotImplementedError, AttributeError):
    """A torch name chainrule lacks; an AttributeError too, so hasattr() and getattr(x, n, d) still work."""


def refuse(owner: str, name: str, table: dict) -> NotSupportedError | AttributeError:
    """The error for ``owner.name``: NotSupportedError with a hint for a torch name, else AttributeError."""
    if name in table:
        return NotSupportedError(f"{owner}.{name} is not supported by chainrule; instead: {table[name]}")
    return AttributeError(f"{owner!s} has no attribute {name!r}")
