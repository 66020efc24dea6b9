"""Training diagnostics: gradient norms, update-to-data ratios, dead ReLUs, activation statistics.

``with nn.watch(model) as w:`` records every activation (and Linear, Conv2d, scalar Layer) output
and snapshots the parameters; after backward and ``opt.step()``, ``w.report()`` (or
``nn.diagnostics(model, watch=w)``) gives a table and a plot. A unit is a channel (axis 1) of a
4-D (N, C, H, W) output and a feature (last axis) otherwise; scalar networks record one example
per call, and their Values are grouped into a Layer's (nout, nin) weights and (nout,) biases.
Over many steps, gradient_flow.py follows each layer's gradient norm and update ratio.
"""

from __future__ import annotations

import re
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from autograd import Node, Tensor, Value

from .layers import ELU, Conv2d, LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from .module import Module
from .scalar import Layer, Neuron

__all__ = ["snapshot", "watch", "diagnostics", "Snapshot", "Watch", "Diagnostics", "ParameterStats", "ActivationStats"]

_KINDS = ((ReLU, "relu"), (LeakyReLU, "leaky_relu"), (ELU, "elu"), (Tanh, "tanh"), (Sigmoid, "sigmoid"),
          (Linear, "linear"), (Conv2d, "conv"))
_NEURON = re.compile(r"(?:^|\.)neurons\.(\d+)(?=\.|$)")


def _check_model(model, caller: str) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"{caller}: model must be an nn.Module, got {type(model).__name__}")


def _array(x) -> np.ndarray:
    """A float64 array of data or a gradient (which is a node after backward(create_graph=True))."""
    return np.asarray(x._data if isinstance(x, Node) else x, np.float64)


def _groups(model: Module) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """(data, grad) per parameter as float64 arrays; scalar Values gathered by Layer (w, b) or list."""
    groups, scalars = {}, {}
    for name, p in model.named_parameters():
        if isinstance(p, Tensor):
            groups[name] = (_array(p._data), None if p._grad is None else _array(p._grad))
            continue
        found = _NEURON.search(name)
        key = name if found is None else (name[:found.start()] + name[found.end():]).lstrip(".")
        key, indexed = re.subn(r"\.\d+$", "", key)
        data, grad, neurons, _ = scalars.setdefault(key, ([], [], set(), indexed))
        data.append(p._data)
        grad.append(_array(p._grad))
        neurons.add(None if found is None else found.group(1))
    for key, (data, grad, neurons, indexed) in scalars.items():
        k, n = len(neurons), len(data)
        if None not in neurons:  # a Layer's neurons: weights (nout, nin), biases (nout,)
            shape = (k, n // k) if indexed and n % k == 0 else (n,)
        else:
            shape = (n,) if indexed or n > 1 else ()
        groups[key] = (np.array(data, np.float64).reshape(shape), np.array(grad, np.float64).reshape(shape))
    return groups


class Snapshot(dict):
    """Copies of a model's parameters (keyed as the diagnostics table), to measure the next update by."""

    def __init__(self, model: Module):
        _check_model(model, "snapshot")
        super().__init__((name, data.copy()) for name, (data, _) in _groups(model).items())
        self.model = weakref.ref(model)


def snapshot(model: Module) -> Snapshot:
    """Take before ``opt.step()``; ``diagnostics(model, before=...)`` then reports ||Δw|| / ||w||."""
    return Snapshot(model)


@dataclass
class ParameterStats:
    """Norms of one parameter (or group of scalar Values); None where there is nothing to measure."""
    name: str
    shape: tuple
    data_norm: float
    grad_norm: float | None
    grad_ratio: float | None     # ||grad|| / ||w||
    update_ratio: float | None   # ||w - w_before|| / ||w after the step||; ~1e-3 is healthy (Karpathy)


@dataclass
class ActivationStats:
    """One watched module's outputs over every call: moments, zeros, dead units, saturation, gradients."""
    name: str
    kind: str
    count: int                   # output values seen
    units: int                   # features (last axis) or channels (axis 1 of 4-D outputs)
    mean: float
    std: float
    min: float
    max: float
    zero_fraction: float | None  # ReLU: share of outputs that are exactly 0
    dead_units: int | None       # ReLU: units that were 0 for every example seen
    saturated_fraction: float | None  # tanh: |y| > threshold; sigmoid: |2y - 1| > threshold
    grad_std: float | None       # of d(loss)/d(output), from the most recent outputs after backward
    values: np.ndarray           # the most recent outputs (up to max_samples), for histograms
    grads: np.ndarray | None

    @property
    def dead_fraction(self) -> float | None:
        return None if self.dead_units is None else self.dead_units / self.units


class _Recorder:
    """A forward hook folding each output into running statistics (Chan's merge of mean and M2)."""

    def __init__(self, name: str, kind: str, saturation: float, max_samples: int):
        self.name, self.kind, self.saturation, self.max_samples = name, kind, saturation, max_samples
        self.n, self.mean, self.m2, self.lo, self.hi, self.zeros, self.saturated = 0, 0.0, 0.0, np.inf, -np.inf, 0, 0
        self.alive, self.recent, self.kept = None, deque(), 0

    def __call__(self, module, inputs, output) -> None:
        if isinstance(output, Tensor):
            x, nodes = _array(output._data), [output]
            x = np.moveaxis(x, 1, -1) if x.ndim == 4 else x.reshape(1, -1) if x.ndim < 2 else x
            x = x.reshape(-1, x.shape[-1])
            if output.requires_grad:
                output.retain_grad()
        elif isinstance(output, Value) or isinstance(output, (list, tuple)) and output \
                and all(isinstance(v, Value) for v in output):
            nodes = [output] if isinstance(output, Value) else list(output)
            x = np.array([[v._data for v in nodes]], np.float64)
        else:
            return
        if x.size == 0:
            return
        if self.alive is not None and self.alive.size != x.shape[1]:
            raise ValueError(f"watch: module {self.name!r} produced {x.shape[1]} units, "
                             f"earlier calls {self.alive.size}")
        n, mean = x.size, x.mean()
        delta, total = mean - self.mean, self.n + n
        self.m2 += ((x - mean) ** 2).sum() + delta ** 2 * self.n * n / total
        self.mean, self.n = self.mean + delta * n / total, total
        self.lo, self.hi = min(self.lo, x.min()), max(self.hi, x.max())
        self.zeros += int(np.count_nonzero(x == 0))
        y = x if self.kind == "tanh" else 2 * x - 1
        self.saturated += int(np.count_nonzero(np.abs(y) > self.saturation))
        alive = (x != 0).any(axis=0)
        self.alive = alive if self.alive is None else self.alive | alive
        self.recent.append((nodes, n))
        self.kept += n
        while len(self.recent) > 1 and self.kept > self.max_samples:
            self.kept -= self.recent.popleft()[1]

    def stats(self) -> ActivationStats:
        nodes = [node for batch, _ in self.recent for node in batch]
        tensors = [node for node in nodes if isinstance(node, Tensor)]
        scalars = [node for node in nodes if isinstance(node, Value)]
        values = np.concatenate([np.ravel(t._data).astype(np.float64) for t in tensors]
                                + [np.array([v._data for v in scalars], np.float64)])
        grads = [np.ravel(_array(t._grad)) for t in tensors if t._grad is not None]
        grads = np.concatenate(grads + [np.array([_array(v._grad) for v in scalars])]) \
            if grads or scalars else None
        relu, saturating = self.kind == "relu", self.kind in ("tanh", "sigmoid")
        return ActivationStats(
            self.name, self.kind, self.n, self.alive.size, float(self.mean), float(np.sqrt(self.m2 / self.n)),
            float(self.lo), float(self.hi), self.zeros / self.n if relu else None,
            int(self.alive.size - self.alive.sum()) if relu else None,
            self.saturated / self.n if saturating else None,
            None if grads is None else float(grads.std()), values, grads)


class Watch:
    """Forward hooks on every activation, Linear, Conv2d and scalar Layer, plus a parameter snapshot."""

    def __init__(self, model: Module, *, saturation: float = 0.97, max_samples: int = 100_000):
        _check_model(model, "watch")
        self.model, self.before = model, Snapshot(model)
        self._recorders, self._handles, seen = [], [], set()
        in_layers = {id(n) for _, m in model.named_modules() if isinstance(m, Layer) for n in m.neurons}
        for name, module in model.named_modules():
            if id(module) in seen:
                continue
            seen.add(id(module))
            kind = next((k for cls, k in _KINDS if isinstance(module, cls)), None)
            if isinstance(module, Layer) or isinstance(module, Neuron) and id(module) not in in_layers:
                kind = (module.neurons[0] if isinstance(module, Layer) else module).activation
            if kind is not None:
                recorder = _Recorder(name or type(module).__name__, kind, saturation, max_samples)
                self._recorders.append(recorder)
                self._handles.append(module.register_forward_hook(recorder))

    @property
    def activations(self) -> dict[str, ActivationStats]:
        """Statistics of every watched module that has run, by module name."""
        return {r.name: r.stats() for r in self._recorders if r.n}

    def report(self) -> "Diagnostics":
        return diagnostics(self.model, watch=self)

    def remove(self) -> None:
        """Unregister the hooks; the statistics gathered so far stay readable."""
        for handle in self._handles:
            handle.remove()

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc) -> bool:
        self.remove()
        return False


def watch(model: Module, *, saturation: float = 0.97, max_samples: int = 100_000) -> Watch:
    """Start recording activations (until ``remove()`` or the end of a ``with`` block) and snapshot parameters."""
    return Watch(model, saturation=saturation, max_samples=max_samples)


def _norm(x: np.ndarray) -> float:
    return float(np.linalg.norm(x))


def _ratio(a: float | None, b: float) -> float | None:
    return None if a is None or a == b == 0 else a / b if b else float("inf")


def _previous(before, model: Module, groups: dict) -> Mapping:
    if not isinstance(before, Mapping):
        raise TypeError(f"diagnostics: before must come from nn.snapshot(model), got {type(before).__name__}")
    if isinstance(before, Snapshot) and before.model() is not model:
        raise ValueError("diagnostics: before= is a snapshot of another model; take nn.snapshot(model) of this one")
    missing, unexpected = [k for k in groups if k not in before], [k for k in before if k not in groups]
    shapes = [f"{k}: expected {groups[k][0].shape}, got {np.shape(before[k])}" for k in groups
              if k in before and np.shape(before[k]) != groups[k][0].shape]
    problems = ([f"missing {missing}"] if missing else []) + ([f"unexpected {unexpected}"] if unexpected else [])
    if problems or shapes:
        raise ValueError("diagnostics: before= does not match this model's parameters: "
                         + "; ".join(problems + shapes))
    return before


def diagnostics(model: Module, before: Mapping | None = None, watch: Watch | None = None) -> "Diagnostics":
    """Per-parameter norms and ratios (update ratio against ``before`` or the watch's snapshot) and activations."""
    _check_model(model, "diagnostics")
    if watch is not None:
        if not isinstance(watch, Watch):
            raise TypeError(f"diagnostics: watch must come from nn.watch(model), got {type(watch).__name__}")
        if watch.model is not model:
            raise ValueError("diagnostics: watch= was started on another model")
        before = watch.before if before is None else before
    groups = _groups(model)
    previous = None if before is None else _previous(before, model, groups)
    changed = previous is not None and any(not np.array_equal(d, previous[k]) for k, (d, _) in groups.items())
    params = {}
    for name, (data, grad) in groups.items():
        w, g = _norm(data), None if grad is None else _norm(grad)
        update = _norm(data - np.asarray(previous[name], np.float64)) if changed else None
        params[name] = ParameterStats(name, data.shape, w, g, _ratio(g, w), _ratio(update, w))
    notes = [f"{p.name}: no gradient (unused in the forward pass, or no backward since zero_grad)"
             for p in params.values() if p.grad_norm is None]
    notes += [f"{p.name}: gradient norm is {p.grad_norm}" for p in params.values()
              if p.grad_norm is not None and not np.isfinite(p.grad_norm)]
    if previous is not None and not changed:
        notes.append("no parameter changed since the snapshot: was opt.step() called?")
    notes += [f"{p.name}: update/data {p.update_ratio:.2g} is {'above 1e-2' if p.update_ratio > 1e-2 else 'below 1e-4'}"
              " (about 1e-3 is typical; adjust the learning rate)" for p in params.values()
              if len(p.shape) >= 2 and p.update_ratio is not None and not 1e-4 <= p.update_ratio <= 1e-2]
    acts = {} if watch is None else watch.activations
    notes += [f"{a.name}: {a.dead_units} of {a.units} ReLU units dead (0 for every example seen)"
              for a in acts.values() if a.dead_units]
    notes += [f"{a.name}: {a.saturated_fraction:.0%} of {a.kind} outputs saturated, their gradients vanish"
              for a in acts.values() if a.saturated_fraction is not None and a.saturated_fraction > 0.1]
    return Diagnostics(params, acts, notes)


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


def _percent(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _columns(header: list[str], rows: list[list[str]]) -> list[str]:
    """Aligned text: the first column left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
            for r in [header] + rows]


class Diagnostics:
    """The result of ``nn.diagnostics``: ``parameters`` and ``activations`` by name, ``warnings``, table, plot."""

    def __init__(self, parameters: dict[str, ParameterStats], activations: dict[str, ActivationStats],
                 warnings: list[str]):
        self.parameters, self.activations, self.warnings = parameters, activations, warnings

    def table(self) -> str:
        """Aligned text tables of the parameters and watched modules, then the warnings."""
        rows = [[p.name, str(p.shape), _fmt(p.data_norm), _fmt(p.grad_norm), _fmt(p.grad_ratio),
                 _fmt(p.update_ratio)] for p in self.parameters.values()]
        lines = _columns(["parameter", "shape", "|w|", "|grad|", "grad/w", "update/w"], rows)
        if self.activations:
            rows = [[a.name, a.kind] + [_fmt(v) for v in (a.mean, a.std, a.min, a.max)]
                    + [_percent(a.zero_fraction), "—" if a.dead_units is None else f"{a.dead_units}/{a.units}",
                       _percent(a.saturated_fraction), _fmt(a.grad_std)] for a in self.activations.values()]
            lines += [""] + _columns(["module", "kind", "mean", "std", "min", "max", "zeros", "dead", "saturated",
                                      "grad std"], rows)
            lines.append("zeros: outputs equal to 0; dead: units (features, channels) 0 for every example seen;\n"
                         "saturated: |tanh| or |2 sigmoid - 1| above the watch's saturation (default 0.97)")
        return "\n".join(lines + [f"! {note}" for note in self.warnings])

    __str__ = __repr__ = table

    def plot(self, bins: int = 50, title: str | None = None):
        """Bars of grad norms and update ratios (log; the 1e-4, 1e-3 and 1e-2 guides marked), activation and
        gradient histograms, under ``title``; the figure."""
        import matplotlib.pyplot as plt

        names = list(self.parameters)
        acts = [a for a in self.activations.values() if a.kind not in ("linear", "conv")] \
            or list(self.activations.values())
        panels = [("gradient norm", [p.grad_norm for p in self.parameters.values()])]
        if any(p.update_ratio is not None for p in self.parameters.values()):
            panels.append(("update / data", [p.update_ratio for p in self.parameters.values()]))
        histograms = [("activations", "values")] if acts else []
        histograms += [("activation gradients", "grads")] if any(a.grads is not None for a in acts) else []
        fig, axes = plt.subplots(len(panels) + len(histograms), 1, squeeze=False,
                                 figsize=(8, 2.8 * (len(panels) + len(histograms))), layout="constrained")
        axes = list(axes[:, 0])
        for ax, (panel, heights) in zip(axes, panels):
            heights = [h if h is not None and np.isfinite(h) and h > 0 else np.nan for h in heights]
            ax.bar(range(len(names)), heights)
            ax.set(yscale="log", title=panel, xticks=range(len(names)))
            ax.set_xticklabels(names, rotation=45 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center")
            if panel.startswith("update"):
                _ratio_guides(ax)
                ax.legend(fontsize="small", loc="best")
        for ax, (panel, field) in zip(axes[len(panels):], histograms):
            for a in acts:
                if getattr(a, field) is not None:
                    ax.hist(getattr(a, field), bins=bins, histtype="step", density=True, label=f"{a.name} ({a.kind})")
            ax.set(title=panel)
            ax.legend(fontsize="small")
        if title is None:
            watched = f", {len(self.activations)} watched modules" if self.activations else ""
            title = f"training diagnostics: {len(names)} parameters{watched}"
        fig.suptitle(title)
        return fig


_GUIDES = ((1e-2, ":", "1e-2 (warns above)"), (1e-3, "--", "1e-3 (typical)"), (1e-4, ":", "1e-4 (warns below)"))


def _ratio_guides(ax) -> None:
    """The update/data rule of thumb on a log axis: about 1e-3, and the 1e-4 and 1e-2 bounds the warnings use."""
    for level, style, label in _GUIDES:
        ax.axhline(level, color="k", linestyle=style, linewidth=1, label=label)
