"""`make demo`: the lecture's sigmoid neuron, differentiated and drawn; writes out/sigmoid_neuron.{svg,png}."""

from __future__ import annotations

import os

from autograd import Value, draw_graph


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


def main(out_dir: str = "out") -> None:
    os.makedirs(out_dir, exist_ok=True)
    f, inputs = sigmoid_neuron()
    print(f"sigmoid neuron  f = {f.data:.4f}")
    for name, node in inputs.items():
        print(f"  df/d{name:<3} = {node.grad:+.4f}")
    paths = [os.path.join(out_dir, f"sigmoid_neuron.{ext}") for ext in ("svg", "png")]
    for path in paths:
        draw_graph(f, filename=path)
    print("compute graph written to " + " and ".join(paths))


if __name__ == "__main__":
    main()
