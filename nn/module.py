"""Module: parameters found by walking attributes, train/eval, state dicts (checkpoint.py saves them)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

from autograd import Node, Tensor, Value, capture

__all__ = ["Module", "Sequential", "HookHandle"]


class Module:
    """Base class: subclasses hold Values, Tensors and Modules as attributes (or in lists, tuples, dicts).

    Tensors with ``requires_grad`` and Values are parameters; other Tensors (running statistics)
    are buffers, saved in the state dict but not optimised. Names are dotted paths, as torch.nn.
    """

    training = True

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    _forward_hooks: dict | None = None

    def __call__(self, *args, **kwargs):
        """``forward``, then each forward hook; the output node remembers this call (for draw_graph)."""
        if capture.recording is not None:  # a captured step: this module's settings guard its replays
            capture.note_call(self)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                replaced = hook(self, args, out)
                if replaced is not None:
                    out = replaced
        if isinstance(out, Node) and out.parents:
            # Nodes passed in lists (the scalar layers' inputs) or by keyword are inputs too.
            given = [*args, *kwargs.values()]
            inputs = tuple(a for arg in given for a in (arg if isinstance(arg, (list, tuple)) else (arg,))
                           if isinstance(a, Node))
            # A call that hands back an input (Identity, Dropout in eval) computed nothing: no stamp, so
            # a node passed through such calls again and again does not collect them.
            if all(out is not a for a in inputs):
                out._calls = getattr(out, "_calls", ()) + ((self, inputs),)
        return out

    def register_forward_hook(self, hook) -> "HookHandle":
        """Call ``hook(module, inputs, output)`` after every forward (as torch.nn); a non-None return
        replaces the output. Returns a handle whose ``remove()`` unregisters it."""
        if self._forward_hooks is None:
            self._forward_hooks = {}
        handle = HookHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # --- walking the tree -----------------------------------------------------------------
    def _items(self) -> Iterator[tuple[str, object]]:
        """This module's own named attributes, in definition order (private ones skipped)."""
        return ((k, v) for k, v in vars(self).items() if not k.startswith("_"))

    def _walk(self, prefix: str = "") -> Iterator[tuple[str, object]]:
        """Every (dotted name, Value | Tensor | Module) below this module; iterative, depth first."""
        stack = [(prefix, self._items())]
        while stack:
            path, items = stack[-1]
            item = next(items, None)
            if item is None:
                stack.pop()
                continue
            name, value = item
            full = f"{path}{name}"
            if isinstance(value, (Value, Tensor)):
                yield full, value
            elif isinstance(value, Module):
                yield full, value
                stack.append((full + ".", value._items()))
            elif isinstance(value, (list, tuple)):
                stack.append((full + ".", ((str(i), v) for i, v in enumerate(value))))
            elif isinstance(value, dict):
                stack.append((full + ".", ((str(k), v) for k, v in value.items())))

    def named_modules(self) -> Iterator[tuple[str, "Module"]]:
        yield "", self
        for name, value in self._walk():
            if isinstance(value, Module):
                yield name, value

    def named_children(self) -> list[tuple[str, "Module"]]:
        """The direct sub-modules, also those held in this module's lists, tuples and dicts."""
        found = []
        for name, value in self._items():
            if isinstance(value, Module):
                found.append((name, value))
            elif isinstance(value, (list, tuple)):
                found += [(f"{name}.{i}", v) for i, v in enumerate(value) if isinstance(v, Module)]
            elif isinstance(value, dict):
                found += [(f"{name}.{k}", v) for k, v in value.items() if isinstance(v, Module)]
        return found

    def named_parameters(self) -> Iterator[tuple[str, Value | Tensor]]:
        """(dotted name, parameter) pairs; a parameter shared by two modules appears once."""
        seen = set()
        for name, value in self._walk():
            if (isinstance(value, Value) or isinstance(value, Tensor) and value.requires_grad) \
                    and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def parameters(self) -> list:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        """Tensors that are state but not parameters (e.g. batch norm's running statistics)."""
        for name, value in self._walk():
            if isinstance(value, Tensor) and not value.requires_grad:
                yield name, value

    def num_parameters(self) -> int:
        return sum(1 if isinstance(p, Value) else p._data.size for p in self.parameters())

    def zero_grad(self) -> None:
        """Reset every parameter's gradient (Tensors to None, Values to 0.0)."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> "Module":
        """Switch this module and all sub-modules to training (or, with False, evaluation) mode."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # --- state ------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and buffer, keyed by dotted name (torch.nn's keys and layouts)."""
        state = OrderedDict()
        for name, p in self.named_parameters():
            state[name] = np.array(p._data)
        for name, b in self.named_buffers():
            state[name] = np.array(b._data)
        return state

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy ``state`` into the parameters and buffers, all or nothing.

        Every key, shape and dtype is checked before anything is copied (dtypes must cast with NumPy's
        ``same_kind`` rule, the rule the copy uses: float64 -> float32 is fine, float -> int is not);
        any problem raises a ValueError naming each bad key with the expected and the given
        shape/dtype, and the model is left unchanged.
        """
        targets = dict(self.named_parameters())
        targets.update(self.named_buffers())
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        problems, prepared = [], {}
        for name, target in targets.items():
            if name not in state:
                continue
            want = np.asarray(target._data)
            try:
                got = np.asarray(state[name])
            except Exception as error:  # e.g. a ragged list
                problems.append(f"{name}: expected {want.dtype} array of shape {want.shape}, "
                                f"got an unconvertible {type(state[name]).__name__} ({error})")
                continue
            if got.shape != want.shape:
                problems.append(f"{name}: expected {want.shape}, got {got.shape}")
            elif not np.can_cast(got.dtype, want.dtype, casting="same_kind"):
                problems.append(f"{name}: expected dtype {want.dtype} (or one that casts to it), got "
                                f"{got.dtype} (shape {got.shape})")
            else:
                prepared[name] = got.astype(want.dtype, casting="same_kind", copy=True)
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        if problems:
            raise ValueError(f"load_state_dict for {type(self).__name__}: " + "; ".join(problems)
                             + "; the model was left unchanged")
        for name, value in prepared.items():
            target = targets[name]
            if isinstance(target, Value):
                target._data = float(value)
            else:
                np.copyto(target._data, value, casting="no")

    # --- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """One line of this module's settings, shown in the tree."""
        return ""

    def __repr__(self) -> str:
        lines = self._repr_lines()
        count = self.num_parameters()
        return "\n".join(lines) + f"\n{count:,} parameters" if len(lines) > 1 or count else lines[0]

    def _repr_lines(self) -> list[str]:
        head = f"{type(self).__name__}({self.extra_repr()})"
        subs = self.named_children()
        if not subs:
            own = [f"{n} {tuple(v.shape)}" for n, v in self._items() if isinstance(v, Tensor)]
            return [head + (f"  # {', '.join(own)}" if own else "")]
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, module in subs:
            child = module._repr_lines()
            lines.append(f"  ({name}): {child[0]}")
            lines += ["  " + line for line in child[1:]]
        lines.append(")")
        return lines


class HookHandle:
    """Returned by ``register_forward_hook``; ``remove()`` unregisters the hook (idempotent)."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks, self.id = hooks, HookHandle._next_id
        HookHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class Sequential(Module):
    """Modules applied in order; state-dict keys are "0.weight", "1.bias", ... as torch.nn.Sequential."""

    def __init__(self, *modules: Module):
        self.layers = list(modules)

    def _items(self):
        return ((str(i), m) for i, m in enumerate(self.layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index):
        return Sequential(*self.layers[index]) if isinstance(index, slice) else self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)
