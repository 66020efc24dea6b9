"""fit(): the training loop, with a progress bar, a History, early stopping and a clean Ctrl-C."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from autograd import Tensor, no_grad

from . import metrics as _metrics
from .data import DataLoader
from .module import Module

__all__ = ["fit", "predict", "History"]

_NAMED_METRICS = {"accuracy": _metrics.accuracy,
                  "f1": lambda y, s: _metrics.f1_score(y, s, average="macro"),
                  "precision": lambda y, s: _metrics.precision(y, s, average="macro"),
                  "recall": lambda y, s: _metrics.recall(y, s, average="macro")}


@dataclass
class History:
    """Per-epoch training record: losses, metrics, and how training ended."""

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    best_epoch: int | None = None
    stopped_early: bool = False
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def plot(self, ax=None):
        """Loss curves (and validation metrics on a second axis) with matplotlib; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        epochs = np.arange(1, self.epochs + 1)
        ax.plot(epochs, self.train_loss, label="train loss")
        if self.val_loss:
            ax.plot(epochs[: len(self.val_loss)], self.val_loss, label="validation loss")
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch, color="grey", linestyle=":", label=f"best epoch {self.best_epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(loc="upper right")
        return ax


def predict(model: Module, X, batch_size: int = 512) -> np.ndarray:
    """The model's outputs for ``X`` in evaluation mode, without recording a graph, as an ndarray."""
    was_training = model.training
    model.eval()
    data = X.data if isinstance(X, Tensor) else np.asarray(X)
    try:
        with no_grad():
            outs = [model(Tensor(data[i:i + batch_size])).data for i in range(0, len(data), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(outs) if outs else np.empty((0,))


def _metric_functions(metrics, y) -> dict:
    if metrics is None:
        metrics = ("accuracy",) if np.asarray(y).dtype.kind in "iu" else ()
    functions = {}
    for m in metrics:
        if callable(m):
            functions[getattr(m, "__name__", "metric")] = m
        elif m in _NAMED_METRICS:
            functions[m] = _NAMED_METRICS[m]
        else:
            raise ValueError(f"fit: unknown metric {m!r}; use one of {sorted(_NAMED_METRICS)} or a callable")
    return functions


def _progress(iterable, total: int, description: str, enabled: bool):
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but training must not fail without it
        return iterable
    return tqdm(iterable, total=total, desc=description, leave=False, file=sys.stderr)


def fit(model: Module, loss_fn, optimizer, loader: DataLoader, epochs: int = 10, val=None,
        metrics=None, early_stopping: int | None = None, progress: bool = True) -> History:
    """Train ``model`` for ``epochs`` passes over ``loader``; returns the History.

    ``val`` is an (X, y) pair or a DataLoader, evaluated after every epoch in eval mode without a
    graph. ``early_stopping=k`` stops when the validation loss has not improved for k epochs and
    restores the best weights. Ctrl-C stops cleanly and returns the history so far.
    """
    if early_stopping is not None and val is None:
        raise ValueError("fit: early_stopping needs validation data (val=(X, y))")
    if epochs < 0:
        raise ValueError(f"fit: epochs must be >= 0, got {epochs}")
    if val is not None and not isinstance(val, DataLoader):
        Xv, yv = val
        val = DataLoader(Xv, yv, batch_size=max(loader.batch_size, 256), shuffle=False)
    history = History()
    functions = _metric_functions(metrics, loader.y)
    best, best_state, waited = np.inf, None, 0
    bar = _progress(range(1, epochs + 1), epochs, "epochs", progress)
    try:
        for epoch in bar:
            model.train()
            total, count, outputs, targets = 0.0, 0, [], []
            for Xb, yb in _progress(loader, len(loader), f"epoch {epoch}", progress and len(loader) > 20):
                out = model(Xb)
                loss = loss_fn(out, yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(Xb)
                count += len(Xb)
                if functions:
                    outputs.append(out.data)
                    targets.append(yb.data)
            history.train_loss.append(total / max(count, 1))
            for name, fn in functions.items():
                history.metrics.setdefault(name, []).append(float(fn(np.concatenate(targets),
                                                                     np.concatenate(outputs))))
            postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
            if val is not None:
                val_loss, scores = _evaluate(model, loss_fn, val, functions)
                history.val_loss.append(val_loss)
                for name, value in scores.items():
                    history.metrics.setdefault(f"val_{name}", []).append(value)
                postfix["val_loss"] = f"{val_loss:.4f}"
                if val_loss < best:
                    best, waited, history.best_epoch = val_loss, 0, epoch
                    if early_stopping is not None:
                        best_state = model.state_dict()
                else:
                    waited += 1
                    if early_stopping is not None and waited >= early_stopping:
                        history.stopped_early = True
                        break
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(postfix)
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        if hasattr(bar, "close"):
            bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def _evaluate(model: Module, loss_fn, loader: DataLoader, functions: dict) -> tuple[float, dict]:
    """Mean loss and metrics over ``loader`` in eval mode, without recording a graph."""
    model.eval()
    total, count, outputs, targets = 0.0, 0, [], []
    with no_grad():
        for Xb, yb in loader:
            out = model(Xb)
            total += loss_fn(out, yb).item() * len(Xb)
            count += len(Xb)
            outputs.append(out.data)
            targets.append(yb.data)
    model.train()
    scores = np.concatenate(outputs)
    y = np.concatenate(targets)
    return total / max(count, 1), {name: float(fn(y, scores)) for name, fn in functions.items()}
