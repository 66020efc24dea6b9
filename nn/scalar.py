"""Scalar networks in the lecture notation: Neuron, Layer, MLP on Values, and Rosenblatt's Perceptron."""

from __future__ import annotations

import numpy as np

from autograd import Value

from .module import Module

__all__ = ["Neuron", "Layer", "MLP", "Perceptron"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


def _normal(rng, std: float, n: int) -> np.ndarray:
    """n samples of N(0, std); NumPy's global generator when ``rng`` is None (np.random.seed applies)."""
    return (np.random if rng is None else rng).normal(0.0, std, size=n)


class Neuron(Module):
    """act(w . x + b): weights from N(0, 1/sqrt(nin)), bias 0; activation relu | tanh | sigmoid | linear."""

    def __init__(self, nin: int, activation: str = "relu", *, nonlin: bool | None = None, rng=None):
        if nonlin is not None:  # micrograd's flag: Neuron(nin, nonlin=False) is a linear neuron
            activation = "relu" if nonlin else "linear"
        if activation not in ACTIVATIONS:
            raise ValueError(f"Neuron: activation must be one of {ACTIVATIONS}, got {activation!r}")
        if not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        self.w = [Value(float(v)) for v in _normal(rng, 1 / np.sqrt(nin), nin)]
        self.b = Value(0.0)
        self.activation = activation

    def forward(self, x) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act if self.activation == "linear" else getattr(act, self.activation)()

    def extra_repr(self) -> str:
        return f"{len(self.w)}, activation={self.activation!r}"


class Layer(Module):
    """nout neurons reading the same inputs; returns a list of Values (one Value when nout == 1)."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", **kwargs):
        self.neurons = [Neuron(nin, activation, **kwargs) for _ in range(nout)]

    def forward(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def extra_repr(self) -> str:
        n = self.neurons[0]
        return f"{len(n.w)}, {len(self.neurons)}, activation={n.activation!r}"

    def _repr_lines(self) -> list[str]:
        return [f"Layer({self.extra_repr()})"]


class MLP(Module):
    """Layers of neurons: hidden layers use ``activation``, the last is linear (micrograd's convention)."""

    def __init__(self, nin: int, nouts: list[int], activation: str = "relu", *, seed=None):
        rng = None if seed is None else np.random.default_rng(seed)
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", rng=rng)
                       for i in range(len(nouts))]

    def forward(self, x):
        x = [xi if isinstance(xi, Value) else Value(xi) for xi in x]
        for layer in self.layers:
            x = layer(x)
            x = [x] if isinstance(x, Value) else x
        return x[0] if len(x) == 1 else x


class Perceptron:
    """Rosenblatt's perceptron: sign(w . x + b), trained by w <- w + y x on each misclassified point."""

    def __init__(self, n_inputs: int):
        self.w = np.zeros(n_inputs)
        self.b = 0.0

    @staticmethod
    def _signed(y) -> np.ndarray:
        y = np.asarray(y)
        labels = set(np.unique(y).tolist())
        if not labels <= {-1, 1} and not labels <= {0, 1}:
            raise ValueError(f"Perceptron: labels must be in {{-1, 1}} or {{0, 1}}, got {sorted(labels)}")
        return np.where(y > 0, 1, -1)

    def predict(self, X) -> np.ndarray:
        """+1 where w . x + b > 0, else -1 (the lecture's step function)."""
        return np.where(np.asarray(X, dtype=float) @ self.w + self.b > 0, 1, -1)

    def fit(self, X, y, epochs: int = 100) -> int:
        """Cycle over the data updating on mistakes; returns the number of updates made.

        Stops after an epoch without mistakes (the data is separated) or after ``epochs`` epochs.
        """
        X = np.asarray(X, dtype=float)
        y = self._signed(y)
        if X.ndim != 2 or X.shape != (len(y), len(self.w)):
            raise ValueError(f"Perceptron.fit: X must have shape ({len(y)}, {len(self.w)}), got {X.shape}")
        updates = 0
        for _ in range(epochs):
            mistakes = 0
            for xi, yi in zip(X, y):  # the rule is sequential: each update changes the next prediction
                if yi * (xi @ self.w + self.b) <= 0:
                    self.w += yi * xi
                    self.b += yi
                    mistakes += 1
            updates += mistakes
            if mistakes == 0:
                break
        return updates
