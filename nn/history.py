"""History, fit's record of a training run, and write_figure, which saves its plots whole or not at all."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field

import numpy as np

from autograd.files import write_atomically

__all__ = ["History", "write_figure"]


@dataclass
class History:
    """Per-epoch training record: losses, metrics, and how training ended.

    Which weights the model holds afterwards: ``best_epoch``'s when ``restored_best`` (early stopping
    loads them back, also after Ctrl-C), else those after the last completed optimizer step, step
    number ``steps``. ``epoch_steps[e-1]`` is the step count at the end of epoch ``e``, so
    ``weights_epoch`` tells which entry describes the model: after a Ctrl-C mid-epoch (or during
    validation) it is None, as the model then holds weights of ``steps`` steps that no entry covers
    (``epochs`` entries, interrupted during epoch ``epochs + 1``). ``best_epoch`` is only the epoch of
    the lowest validation loss seen; without early stopping the model does not go back to it.
    """

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)  # "accuracy": [...], "val_accuracy": [...], one entry per epoch
    best_epoch: int | None = None  # 1-based epoch of the lowest validation loss seen (see restored_best)
    stopped_early: bool = False
    interrupted: bool = False
    steps: int = 0  # optimizer steps completed in all; a Ctrl-C stops only after a whole step
    epoch_steps: list = field(default_factory=list)  # the value of steps at the end of each recorded epoch
    restored_best: bool = False  # early stopping loaded best_epoch's weights back into the model

    @property
    def epochs(self) -> int:
        """The number of completed epochs."""
        return len(self.train_loss)

    @property
    def weights_epoch(self) -> int | None:
        """The epoch whose end-of-epoch weights the model holds (0: untrained), None if no entry has them."""
        if self.restored_best:
            return self.best_epoch
        if self.steps == 0:
            return 0
        return self.epochs if self.epoch_steps and self.epoch_steps[-1] == self.steps else None

    def plot(self, ax=None, filename: str | os.PathLike | None = None):
        """Loss curves with matplotlib (the best epoch marked); returns the axes.

        With ``filename`` the figure is also written there, in the format its suffix names (.png,
        .svg, .pdf, ...; another suffix, or none, is refused before anything is written), missing
        folders made, the usual ``0o666 & ~umask`` permissions, and one line saying where it went."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        epochs = np.arange(1, self.epochs + 1)
        ax.plot(epochs, self.train_loss, label="train loss")
        if self.val_loss:
            ax.plot(epochs, self.val_loss, label="validation loss")
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch, color="grey", linestyle=":", label=f"best epoch {self.best_epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(loc="upper right")
        if filename is not None:
            print(f"loss curves written to {write_figure(ax.figure, filename, 'History.plot')}")
        return ax


def write_figure(figure, filename: str | os.PathLike, who: str = "write_figure", **savefig_options) -> str:
    """Save a matplotlib figure atomically; returns the absolute path written.

    The format comes from the suffix, which must be one matplotlib writes (else ValueError naming the
    path, and nothing is written); missing folders are made; the file gets ``0o666 & ~umask``; errors
    name the user's path. ``who`` starts the messages."""
    path = os.fspath(filename)
    suffix = os.path.splitext(path)[1][1:].lower()
    formats = figure.canvas.get_supported_filetypes()
    if suffix not in formats:
        problem = f"ends in .{suffix}, which matplotlib does not write" if suffix else "has no suffix"
        others = ", .".join(sorted(set(formats) - {"png", "svg", "pdf"}))
        raise ValueError(f"{who}: {path!r} {problem}; use .png, .svg or .pdf (or .{others}); nothing was written")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=suffix, **savefig_options)
    return write_atomically(path, buffer.getvalue(), who)
