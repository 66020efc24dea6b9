"""gradient_flow(model, optimizer) follows each layer's gradient norm and update-to-data ratio over many
steps (vanishing gradients show as norms shrinking towards the input); plot_gradient_flow draws runs
side by side."""

from __future__ import annotations

import numpy as np

from .diagnose import _check_model, _groups, _norm, _ratio, _ratio_guides
from .module import Module

__all__ = ["gradient_flow", "plot_gradient_flow", "GradientFlow"]


class GradientFlow:
    """Each weight's gradient norm and update-to-data ratio at every optimizer step: which layers learn, over training.

    ``with nn.diagnose.gradient_flow(model, optimizer) as flow:`` records after every ``optimizer.step()``
    (including the steps ``nn.fit`` takes); without an optimizer, call ``flow.record()`` after each step.
    ``grad_norms[name][k]`` is ||dL/dW|| at step k and ``update_ratios[name][k]`` is ||ΔW|| / ||W|| of
    that step. ``plot()`` or ``plot_gradient_flow({"run": flow, ...})`` draw them.
    """

    def __init__(self, model: Module, optimizer=None, names: list[str] | None = None):
        _check_model(model, "gradient_flow")
        groups = _groups(model)
        if names is None:  # the layers' weights: matrices and filters, not biases or norm scales
            names = [name for name, (data, _) in groups.items() if data.ndim >= 2] or list(groups)
        unknown = [name for name in names if name not in groups]
        if unknown:
            raise ValueError(f"gradient_flow: no parameter {unknown} in this model; it has {list(groups)}")
        self.model, self.names, self.optimizer = model, list(names), optimizer
        self._grads: dict[str, list[float]] = {name: [] for name in self.names}
        self._updates: dict[str, list[float]] = {name: [] for name in self.names}
        self._before = {name: groups[name][0].copy() for name in self.names}
        if optimizer is not None:
            if "step" in vars(optimizer):
                raise ValueError("gradient_flow: this optimizer's step is already being recorded")
            step = optimizer.step

            def recorded_step(*args, **kwargs):
                result = step(*args, **kwargs)
                self.record()
                return result

            optimizer.step = recorded_step

    @property
    def steps(self) -> int:
        return len(self._grads[self.names[0]]) if self.names else 0

    @property
    def grad_norms(self) -> dict[str, np.ndarray]:
        return {name: np.array(values) for name, values in self._grads.items()}

    @property
    def update_ratios(self) -> dict[str, np.ndarray]:
        return {name: np.array(values) for name, values in self._updates.items()}

    def record(self) -> None:
        """After ``optimizer.step()``: this step's gradient norms and each weight's change since the last record."""
        groups = _groups(self.model)
        for name in self.names:
            data, grad = groups[name]
            w = _norm(data)
            self._grads[name].append(np.nan if grad is None else _norm(grad))
            ratio = _ratio(_norm(data - self._before[name]), w)
            self._updates[name].append(np.nan if ratio is None else ratio)
            self._before[name] = data.copy()

    def remove(self) -> None:
        """Stop recording the optimizer's steps; what was recorded stays."""
        if self.optimizer is not None and "step" in vars(self.optimizer):
            del self.optimizer.step
        self.optimizer = None

    def __enter__(self) -> "GradientFlow":
        return self

    def __exit__(self, *exc) -> bool:
        self.remove()
        return False

    def plot(self, title: str | None = None):
        """The two panels of ``plot_gradient_flow`` for this run alone; the figure."""
        return plot_gradient_flow({title or "gradient flow": self})


def gradient_flow(model: Module, optimizer=None, names: list[str] | None = None) -> GradientFlow:
    """Record each layer's gradient norm and update ratio at every ``optimizer.step()`` (or every ``record()``)."""
    return GradientFlow(model, optimizer, names)


def plot_gradient_flow(runs, title: str | None = None):
    """Gradient norm and update/data ratio of each layer over training steps, one column per run; the figure.

    ``runs`` is a GradientFlow or a dict of them by name (e.g. ``{"sigmoid": a, "relu": b}``). Rows share
    their log y-axis, so the runs compare directly; layers are coloured from the input (dark) to the output
    (light), and the update/data panel marks the 1e-4, 1e-3 and 1e-2 guides.
    """
    import matplotlib.pyplot as plt

    runs = {"gradient flow": runs} if isinstance(runs, GradientFlow) else dict(runs)
    bad = [name for name, flow in runs.items() if not isinstance(flow, GradientFlow)]
    if not runs or bad:
        raise TypeError(f"plot_gradient_flow: runs must be GradientFlow objects (from nn.diagnose.gradient_flow), "
                        f"got {', '.join(f'{name}: {type(runs[name]).__name__}' for name in bad) or 'none'}")
    fig, axes = plt.subplots(2, len(runs), squeeze=False, sharex="col", sharey="row",
                             figsize=(4.6 * len(runs) + 1.6, 6), layout="constrained")
    colours = plt.get_cmap("viridis")
    for column, (run, flow) in enumerate(runs.items()):
        top, bottom = axes[0, column], axes[1, column]
        for k, name in enumerate(flow.names):
            colour = colours(0.9 * k / max(len(flow.names) - 1, 1))
            steps = np.arange(1, flow.steps + 1)
            top.plot(steps, flow.grad_norms[name], color=colour, label=name)
            bottom.plot(steps, flow.update_ratios[name], color=colour)
        top.set(yscale="log", title=run, ylabel="gradient norm ||dL/dW||" if column == 0 else None)
        bottom.set(yscale="log", xlabel="step", ylabel="update / data ||ΔW|| / ||W||" if column == 0 else None)
        _ratio_guides(bottom)
    axes[0, -1].legend(fontsize="small", title="input → output", title_fontsize="small", loc="upper left",
                       bbox_to_anchor=(1.02, 1.0))
    axes[1, -1].legend(fontsize="small", title="update / data", title_fontsize="small", loc="upper left",
                       bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(title or "gradient flow per layer over training")
    return fig
