"""chainrule nn: a thin layer on autograd — modules, scalar networks, layers, losses, optimizers, data, training."""

import importlib
import os

from autograd.debug import register_internal

from . import init, optim
from . import functional
from .layers import (ELU, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Embedding, Flatten, Identity, LayerNorm,
                     LeakyReLU, Linear, LogSoftmax, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh)
from .module import Module, Sequential
from .scalar import MLP, Layer, Neuron, Perceptron

# Training, data, checkpoints and diagnostics load on first use (name -> its module), so `import nn` stays fast.
_LAZY = {"data": "data", "metrics": "metrics", "fit": "train", "predict": "train", "History": "history",
         "save": "checkpoint", "load": "checkpoint", "gradient_flow": "gradient_flow",
         "plot_gradient_flow": "gradient_flow", "GradientFlow": "gradient_flow",
         **{name: "diagnose" for name in ("Diagnostics", "Snapshot", "Watch", "diagnostics", "snapshot", "watch")}}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'nn' has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    value = module if name == _LAZY[name] and name in ("data", "metrics") else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["Module", "Sequential", "save", "load", "Neuron", "Layer", "MLP", "Perceptron",
           "fit", "predict", "History", "data", "init", "metrics", "optim",
           "functional", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d",
           "BatchNorm2d", "ReLU", "LeakyReLU", "ELU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Identity",
           "Embedding", "LayerNorm",
           "diagnostics", "snapshot", "watch", "Diagnostics", "Snapshot", "Watch",
           "gradient_flow", "plot_gradient_flow", "GradientFlow"]

register_internal(os.path.dirname(os.path.abspath(__file__)))  # anomaly errors name the user's line, not nn's
