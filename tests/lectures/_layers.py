"""makemore parts 3 and 5's home-made layer classes (Linear, BatchNorm1d, Tanh, Embedding,
FlattenConsecutive, Sequential), written once in our own words over a library ``lib``: chainrule's
``autograd`` or ``torch``, so one program runs on both. Weights come in from NumPy as given (the
lecture's fan-in scaling is ``fan_in_scaled``), so both libraries start from the same numbers."""


def fan_in_scaled(weight):
    """The lecture's ``randn((fan_in, fan_out)) / fan_in**0.5``, applied to NumPy weights."""
    return weight / weight.shape[0] ** 0.5


def lecture_layers(lib):
    """The six layer classes bound to ``lib``."""

    class Linear:
        def __init__(self, weight, bias=True):
            self.weight = lib.tensor(weight)
            self.bias = lib.zeros(weight.shape[1]) if bias else None

        def __call__(self, x):
            self.out = x @ self.weight
            if self.bias is not None:
                self.out += self.bias  # in place on a tensor that is already part of the graph
            return self.out

        def parameters(self):
            return [self.weight] + ([] if self.bias is None else [self.bias])

    class BatchNorm1d:
        def __init__(self, dim, eps=1e-5, momentum=0.1):
            self.eps, self.momentum, self.training = eps, momentum, True
            self.gamma, self.beta = lib.ones(dim), lib.zeros(dim)
            self.running_mean, self.running_var = lib.zeros(dim), lib.ones(dim)

        def __call__(self, x):
            if self.training:
                dim = 0 if x.ndim == 2 else (0, 1)  # statistics over the batch and, in 3-D, the groups
                xmean = x.mean(dim, keepdim=True)
                xvar = x.var(dim, keepdim=True)  # unbiased, as the lecture's layer
            else:
                xmean, xvar = self.running_mean, self.running_var
            xhat = (x - xmean) / lib.sqrt(xvar + self.eps)
            self.out = self.gamma * xhat + self.beta
            if self.training:
                with lib.no_grad():
                    self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                    self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
            return self.out

        def parameters(self):
            return [self.gamma, self.beta]

    class Tanh:
        def __call__(self, x):
            self.out = lib.tanh(x)
            return self.out

        def parameters(self):
            return []

    class Embedding:
        def __init__(self, weight):
            self.weight = lib.tensor(weight)

        def __call__(self, IX):
            self.out = self.weight[IX]
            return self.out

        def parameters(self):
            return [self.weight]

    class FlattenConsecutive:
        """Concatenate every ``n`` neighbouring time steps: (B, T, C) -> (B, T//n, C*n), squeezing T = 1."""

        def __init__(self, n):
            self.n = n

        def __call__(self, x):
            B, T, C = x.shape
            x = x.view(B, T // self.n, C * self.n)
            if x.shape[1] == 1:
                x = x.squeeze(1)
            self.out = x
            return self.out

        def parameters(self):
            return []

    class Sequential:
        def __init__(self, layers):
            self.layers = layers

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            self.out = x
            return self.out

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    return Linear, BatchNorm1d, Tanh, Embedding, FlattenConsecutive, Sequential
