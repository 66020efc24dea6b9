"""`make demo`: chainrule's main job in the terminal.

Differentiates and draws the lecture's sigmoid neuron, then trains a small convolutional network on
the real 8x8 handwritten digits with a progress bar, prints test accuracy and the confusion matrix,
and writes everything to out/: the compute graph (SVG, PNG), the loss curve (PNG), the model (.npz).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import nn
import nn.functional as F
from autograd import Value, draw_graph

from .history import write_figure


def sigmoid_neuron() -> tuple[Value, dict[str, Value]]:
    """f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at the lecture's point, after backward."""
    inputs = {name: Value(v, label=name) for name, v in
              (("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0))}
    w0, x0, w1, x1, w2 = inputs.values()
    n = w0 * x0 + w1 * x1 + w2
    n.label = "n"
    f = 1 / (1 + (-n).exp())
    f.label = "f"
    f.backward()
    return f, inputs


def digits_model(seed: int = 0) -> nn.Sequential:
    """A small CNN for 1x8x8 digits: conv 3x3 -> relu -> pool -> conv 3x3 -> relu -> linear."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10, rng=rng),
    )


def _confusion_table(matrix: np.ndarray) -> str:
    header = "true\\pred " + " ".join(f"{c:>4}" for c in range(matrix.shape[1]))
    rows = [f"{r:>9} " + " ".join(f"{v:>4}" for v in row) for r, row in enumerate(matrix)]
    return "\n".join([header] + rows)


def _save_loss_curve(history: nn.History, path: str) -> str:
    """The loss curves as a picture at ``path`` (format from its suffix, folders made); the absolute path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    try:
        history.plot(ax)
        ax.set_title("digits CNN: cross-entropy per epoch")
        fig.tight_layout()
        return write_figure(fig, path, "demo", dpi=120)
    finally:
        plt.close(fig)


def _output_folder(parser: argparse.ArgumentParser, out: str) -> str:
    """``--out``, made if missing; a file there or a folder that cannot be made is a usage error naming it."""
    if os.path.exists(out) and not os.path.isdir(out):
        parser.error(f"--out {out!r} is a file, not a folder; give a folder such as out/")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {out!r}: could not make the folder: {error.strerror or error}")
    if not os.access(out, os.W_OK | os.X_OK):
        parser.error(f"--out {out!r}: the folder is not writable")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="where to write the files (default: out/)")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    _output_folder(parser, args.out)
    written = []

    f, inputs = sigmoid_neuron()
    print(f"The lecture's sigmoid neuron: f = {f.data:.4f}")
    print("  " + "   ".join(f"df/d{name} = {node.grad:+.4f}" for name, node in inputs.items()))
    for ext in ("svg", "png"):
        path = os.path.join(args.out, f"sigmoid_neuron.{ext}")
        draw_graph(f, filename=path)
        written.append(path)

    X, y = nn.data.load_digits(images=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = nn.data.train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    X_train, X_val, y_train, y_val = nn.data.train_test_split(X_train, y_train, test_size=0.15, seed=1,
                                                              stratify=True)
    print(f"\nTraining a CNN on {len(X_train)} handwritten 8x8 digits "
          f"({len(X_val)} for validation, {len(X_test)} held out for the test)")
    model = digits_model()
    print(model)
    loader = nn.data.DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    history = nn.fit(model, F.cross_entropy, optimizer, loader, epochs=args.epochs, val=(X_val, y_val),
                     early_stopping=6, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    best = history.best_epoch
    print(f"trained {history.epochs} epochs in {seconds:.1f} s; best validation loss "
          f"{history.val_loss[best - 1]:.4f} at epoch {best} (weights restored)")

    predictions = nn.predict(model, X_test).argmax(axis=1)
    accuracy = nn.metrics.accuracy(y_test, predictions)
    print(f"\nTest accuracy: {accuracy:.2%} on {len(y_test)} digits never seen in training\n")
    print(_confusion_table(nn.metrics.confusion_matrix(y_test, predictions, num_classes=10)))

    curve = _save_loss_curve(history, os.path.join(args.out, "loss_curve.png"))
    checkpoint = os.path.join(args.out, "digits_cnn.npz")
    nn.save(model, checkpoint)
    written += [curve, checkpoint]
    print("\nFiles written:\n" + "\n".join(f"  {os.path.abspath(p)}" for p in written))


if __name__ == "__main__":
    main()
