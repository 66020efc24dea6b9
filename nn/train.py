"""fit(): the training loop, with a progress bar, a History, early stopping and a clean Ctrl-C."""

from __future__ import annotations

import math
import numbers
import signal
import sys
import threading
from contextlib import contextmanager

import numpy as np

import autograd
from autograd import Tensor, no_grad

from . import functional as F
from . import metrics as _metrics
from .data import DataLoader
from .history import History
from .module import Module

__all__ = ["fit", "predict"]


def tqdm(*args, **kwargs):
    """A progress bar: Jupyter's widget where ipywidgets is installed, else text (no IProgress warning).

    Imported on first use, so ``import nn`` stays fast."""
    try:
        import ipywidgets  # noqa: F401  (tqdm's notebook bar needs it)
        from tqdm.auto import tqdm as bar
    except ImportError:
        from tqdm.std import tqdm as bar
    return bar(*args, **kwargs)


def _interactive(stream) -> bool:
    """Whether progress bars can redraw in place: a terminal, or a Jupyter kernel (whose streams are no tty)."""
    try:
        if stream is not None and stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        pass
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def _epoch_line(epoch: int, epochs: int, values: dict) -> str:
    """The plain progress line of one epoch, for logs and pipes: 'epoch 3/20  loss=0.41  val_loss=0.39'."""
    width = len(str(epochs))
    return "  ".join([f"epoch {epoch:>{width}}/{epochs}"] + [f"{name}={value:.4g}" for name, value in values.items()])


_NAMED_METRICS = {"accuracy": _metrics.accuracy,
                  "f1": lambda y, s: _metrics.f1_score(y, s, average="macro"),
                  "precision": lambda y, s: _metrics.precision(y, s, average="macro"),
                  "recall": lambda y, s: _metrics.recall(y, s, average="macro")}
_BATCH_BAR_MIN = 20  # an epoch of fewer batches gets no bar of its own, only the epochs bar


@contextmanager
def _flags_kept(model: Module):
    """Afterwards every sub-module gets back the training flag it had."""
    modes = [(module, module.training) for _, module in model.named_modules()]
    try:
        yield
    finally:
        for module, mode in modes:
            module.training = mode


@contextmanager
def _evaluation(model: Module):
    """Eval mode without a graph, then every sub-module's own training flag back."""
    with _flags_kept(model), no_grad():
        model.eval()
        yield


def predict(model: Module, X, batch_size: int = 512) -> np.ndarray:
    """The model's outputs for ``X`` in evaluation mode, without recording a graph, as an ndarray."""
    loader = DataLoader(X, batch_size=batch_size, shuffle=False)
    with _evaluation(model):
        outputs = [model(xb)._data for xb in loader]
        if not outputs:  # no samples: the model on the empty batch gives the outputs' shape and dtype
            outputs = [model(Tensor(loader.X[:0]))._data]
    return np.concatenate(outputs)


def _binary_rule(loss_fn) -> tuple[float, int]:
    """(threshold, negative label) that turn one output column into class labels, chosen by the loss:
    probabilities (F.binary_cross_entropy) are class 1 above 0.5, hinge scores are +1 / -1 by sign, and
    anything else is read as a logit: class 1 where it is above 0."""
    if loss_fn is F.binary_cross_entropy:
        return 0.5, 0
    if loss_fn is F.hinge_loss:
        return 0.0, -1
    return 0.0, 0


def _with_binary_labels(metric, threshold: float, negative: int):
    """``metric(y_true, labels)``, where a single-column float output ((n,) or (n, 1)) becomes class labels first."""
    def thresholded(y_true, scores):
        scores = np.asarray(scores)
        if scores.dtype.kind == "f" and (scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1)):
            scores = np.where(scores.reshape(-1) > threshold, 1, negative)
        return metric(y_true, scores)
    return thresholded


def _metric_functions(metrics, y: np.ndarray, loss_fn=None) -> dict:
    """{name: fn(y_true, scores)} from names, callables or a dict; None means accuracy for class labels
    (integer targets, or 0/1 targets of a binary cross-entropy loss)."""
    if metrics is None:
        binary_loss = loss_fn is F.binary_cross_entropy or loss_fn is F.binary_cross_entropy_with_logits
        labels = y.dtype.kind in "biu" or (binary_loss and y.size > 0 and bool(np.isin(y, (0, 1)).all()))
        metrics = ("accuracy",) if labels else ()
    elif isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    pairs = metrics.items() if isinstance(metrics, dict) else ((getattr(m, "__name__", None), m) for m in metrics)
    functions = {}
    for name, m in pairs:
        if isinstance(m, str):
            if m not in _NAMED_METRICS:
                raise ValueError(f"fit: unknown metric {m!r}; use one of {sorted(_NAMED_METRICS)} or a callable")
            name, m = m, _with_binary_labels(_NAMED_METRICS[m], *_binary_rule(loss_fn))
        elif not callable(m):
            raise TypeError(f"fit: a metric must be a name or a callable(y_true, scores), got {m!r}")
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"fit: metric {m!r} has no usable name; pass metrics as a dict {{name: function}}")
        if name in functions:
            raise ValueError(f"fit: two metrics are named {name!r}; pass metrics as a dict {{name: function}}")
        functions[name] = m
    return functions


def _scores(functions: dict, targets: list, outputs: list) -> dict:
    """Each metric over the concatenated batches, as a float."""
    if not functions:
        return {}
    y, scores = np.concatenate(targets), np.concatenate(outputs)
    return {name: float(fn(y, scores)) for name, fn in functions.items()}


def _check_count(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"fit: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def _check_loader(name: str, loader) -> DataLoader:
    if not isinstance(loader, DataLoader):
        raise TypeError(f"fit: {name} must be a nn.data.DataLoader, got {type(loader).__name__}")
    if loader.y is None:
        raise ValueError(f"fit: {name} has no targets; build it as DataLoader(X, y)")
    if len(loader) == 0:
        raise ValueError(f"fit: {name} yields no batches ({loader!r})")
    return loader


def _validation_loader(val, loader: DataLoader) -> DataLoader | None:
    """``val`` as a DataLoader: an (X, y) pair is batched in order, in batches of at least 256."""
    if val is None:
        return None
    if isinstance(val, DataLoader):
        return _check_loader("val", val)
    if not isinstance(val, (tuple, list)) or len(val) != 2:
        described = f"a {type(val).__name__} of {len(val)} items" if isinstance(val, (tuple, list)) \
            else type(val).__name__
        raise TypeError(f"fit: val must be a pair (X, y) or a DataLoader, got {described}")
    try:
        return _check_loader("val", DataLoader(*val, batch_size=max(loader.batch_size, 256), shuffle=False))
    except (TypeError, ValueError) as error:
        raise type(error)(f"fit: val: {error}") from None


def fit(model: Module, loss_fn, optimizer, loader: DataLoader, epochs: int = 10, val=None,
        metrics=None, early_stopping: int | None = None, progress: bool = True, compile: bool = False) -> History:
    """Train ``model`` for ``epochs`` passes over ``loader``, calling ``loss_fn(output, y_batch)``; returns the History.

    ``val`` is an (X, y) pair or a DataLoader, evaluated after every epoch in eval mode without a
    graph. ``early_stopping=k`` stops once the validation loss has not improved for k epochs, and the
    model ends with the best epoch's weights. Ctrl-C stops cleanly and returns the completed epochs
    with ``interrupted=True``. Afterwards each module has its training flag back.

    ``metrics`` is a dict ``{name: fn(y_true, y_pred)}`` (``y_pred``: the model's raw outputs for the
    epoch, as an ndarray; ``fn`` returns a number), a list of names and callables (a callable is named
    by its ``__name__``), one of them alone, or ``{}`` for none. The names "accuracy", "f1",
    "precision" and "recall" (macro averages) are built in. The default, None, is accuracy when the
    targets are class labels (integers, or 0/1 with ``F.binary_cross_entropy[_with_logits]``), else
    nothing. Each lands in ``History.metrics[name]`` and, with ``val``, ``["val_" + name]``, one value
    per epoch; training metrics come from the outputs seen during the epoch. The built-in metrics
    take (n, C) outputs as class scores (argmax), and a single output column, (n,) or (n, 1), as a
    binary logit: class 1 where it is above 0 (above 0.5 when ``loss_fn`` is
    ``F.binary_cross_entropy``, which takes probabilities; -1 / +1 by sign with ``F.hinge_loss``);
    targets may be (n,) or (n, 1).

    ``progress``: in a terminal or Jupyter, a bar over the epochs (and one over the batches of an
    epoch of 20 or more); when stderr is not a terminal (a log file, a pipe, CI) one plain line per
    epoch instead, with the loss and metrics. ``progress=False`` prints nothing.

    ``compile=True`` runs the training step through ``autograd.compile``: recorded once per batch shape
    and replayed as its NumPy calls, with the same results, faster at small batches.

    A Ctrl-C (SIGINT) that arrives during a training step (forward, loss, zero_grad, backward,
    optimizer.step) waits until the step has ended, so the model never holds half-updated weights:
    it keeps the weights of step ``History.steps`` (or the best epoch's, with early stopping; see
    History). This deferral needs the main thread; elsewhere, and for a KeyboardInterrupt raised by
    code rather than by the signal, the step is cut short where the exception is raised.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a nn.Module, got {type(model).__name__}")
    if not isinstance(compile, (bool, np.bool_)):
        raise TypeError(f"fit: compile must be True or False, got {compile!r}")
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))):
        raise TypeError(f"fit: optimizer must be an optimizer with step() and zero_grad() (e.g. "
                        f"nn.optim.SGD(model.parameters(), lr=0.1)), got {type(optimizer).__name__}")
    loader = _check_loader("loader", loader)
    epochs = _check_count("epochs", epochs, 0)
    if early_stopping is not None:
        early_stopping = _check_count("early_stopping", early_stopping, 1)
        if val is None:
            raise ValueError("fit: early_stopping needs validation data (val=(X, y) or a DataLoader)")
    val = _validation_loader(val, loader)
    functions = _metric_functions(metrics, loader.y, loss_fn)
    history = History()
    best, best_state, waited = math.inf, None, 0
    bars = progress and _interactive(sys.stderr)  # escape codes and \r only where they redraw a bar
    lines = progress and not bars and sys.stderr is not None
    show_batches = bars and len(loader) >= _BATCH_BAR_MIN
    step = _training_step(model, loss_fn, optimizer, compile)
    try:
        with _flags_kept(model), tqdm(range(1, epochs + 1), desc="epochs", file=sys.stderr,
                                      disable=not bars) as bar:
            model.train()
            for epoch in bar:
                train_loss, scores = _train_epoch(step, loader, functions, f"epoch {epoch}", show_batches, history)
                summary = {"loss": train_loss}
                if val is not None:
                    summary["val_loss"], val_scores = _evaluate(model, loss_fn, val, functions)
                    scores.update({f"val_{name}": value for name, value in val_scores.items()})
                # only a complete epoch enters the history, so Ctrl-C never leaves ragged lists
                history.train_loss.append(train_loss)
                history.epoch_steps.append(history.steps)
                if val is not None:
                    history.val_loss.append(summary["val_loss"])
                for name, value in scores.items():
                    history.metrics.setdefault(name, []).append(value)
                bar.set_postfix({name: f"{value:.4g}" for name, value in {**summary, **scores}.items()})
                if lines:
                    print(_epoch_line(epoch, epochs, {**summary, **scores}), file=sys.stderr, flush=True)
                if val is None:
                    continue
                if summary["val_loss"] < best:
                    best, waited, history.best_epoch = summary["val_loss"], 0, epoch
                    if early_stopping is not None:
                        best_state = model.state_dict()
                else:
                    waited += 1
                if early_stopping is not None and waited >= early_stopping:
                    history.stopped_early = True
                    break
    except KeyboardInterrupt:
        history.interrupted = True
    if best_state is not None:
        model.load_state_dict(best_state)
        history.restored_best = True
    return history


class _DeferredInterrupt:
    """``with`` it, SIGINT only sets a flag; on leaving, the previous handler comes back (always) and a
    SIGINT that came meanwhile is raised again for it, so Ctrl-C lands between steps, not inside one.

    Signal handlers belong to the main thread: elsewhere, or when the previous handler was not set
    from Python (``signal.getsignal`` gives None, so it could not be put back), nothing is deferred."""

    def __init__(self):
        self.pending = False
        self.previous = None

    def _handler(self, signum, frame):
        self.pending = True

    def __enter__(self):
        self.pending, self.previous = False, None
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not None:
                signal.signal(signal.SIGINT, self._handler)
                self.previous = previous
        return self

    def __exit__(self, *exc):
        if self.previous is None:
            return False
        signal.signal(signal.SIGINT, self.previous)
        self.previous = None
        if self.pending:
            self.pending = False
            if exc[0] is None:
                signal.raise_signal(signal.SIGINT)  # the previous handler's turn: Ctrl-C raises here
            # else the step failed anyway: its exception goes on, the deferred SIGINT is dropped
        return False


def _training_step(model: Module, loss_fn, optimizer, captured: bool):
    """One optimizer step on a batch; returns the loss (a float) and the model's output. Captured
    (``autograd.compile``) if asked: the output comes back as a copy, the loss as the same float."""
    def step(Xb, yb):
        out = model(Xb)
        loss = loss_fn(out, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item(), out

    return autograd.compile(step) if captured else step


def _train_epoch(step, loader: DataLoader, functions: dict, description: str, show: bool,
                 history: History) -> tuple[float, dict]:
    """One pass of optimizer steps over ``loader``; the sample-weighted mean loss and the metrics.

    Each step runs whole under a deferred SIGINT and counts itself in ``history.steps``."""
    total, count, outputs, targets = 0.0, 0, [], []
    deferred = _DeferredInterrupt()
    with tqdm(loader, desc=description, file=sys.stderr, leave=False, disable=not show) as batches:
        for Xb, yb in batches:
            with deferred:
                loss, out = step(Xb, yb)
                history.steps += 1
                total += loss * len(Xb)
                count += len(Xb)
                if functions:
                    outputs.append(out._data)
                    targets.append(yb._data)
    return total / count, _scores(functions, targets, outputs)


def _evaluate(model: Module, loss_fn, loader: DataLoader, functions: dict) -> tuple[float, dict]:
    """The sample-weighted mean loss and the metrics over ``loader``, in eval mode without a graph."""
    total, count, outputs, targets = 0.0, 0, [], []
    with _evaluation(model):
        for Xb, yb in loader:
            out = model(Xb)
            total += loss_fn(out, yb).item() * len(Xb)
            count += len(Xb)
            outputs.append(out._data)
            targets.append(yb._data)
    return total / count, _scores(functions, targets, outputs)
