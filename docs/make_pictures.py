"""Regenerate the README's pictures: `python docs/make_pictures.py` (needs Graphviz's `dot`)."""

from pathlib import Path

import numpy as np

import nn
import nn.functional as F
from autograd import Tensor, Value, draw_graph, trace_backward

HERE = Path(__file__).resolve().parent


def sigmoid_neuron() -> None:
    """The lecture's sigmoid neuron after backward: label, data and grad on every node."""
    w0, x0, w1, x1, w2 = (Value(v, label=n) for n, v in
                          (("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0)))
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    f.label = "f"
    f.backward()
    draw_graph(f, filename=HERE / "sigmoid_neuron.png")


def chain_rule() -> None:
    """(x + y) z with every edge's local derivative and the gradient it carried."""
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    trace_backward(f, show=False)
    draw_graph(f, show_local=True, filename=HERE / "chain_rule.png")


def collapsed_mlp() -> None:
    """A 3-layer MLP on a batch, one box per layer call."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 16, rng=rng), nn.ReLU(), nn.Linear(16, 16, rng=rng), nn.ReLU(),
                          nn.Linear(16, 3, rng=rng))
    loss = F.cross_entropy(model(Tensor(rng.standard_normal((32, 4)).astype(np.float32))), rng.integers(0, 3, 32))
    loss.label = "loss"
    loss.backward()
    draw_graph(loss, collapse="module", rankdir="TB", filename=HERE / "mlp_collapsed.png")


if __name__ == "__main__":
    sigmoid_neuron()
    chain_rule()
    collapsed_mlp()
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("*.png"))))
