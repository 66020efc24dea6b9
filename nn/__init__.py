"""chainrule nn: a thin layer on autograd — modules, scalar networks, layers, losses, optimizers, data, training."""

import os

from autograd.debug import register_internal

from . import data, init, metrics, optim
from . import functional
from .diagnose import Diagnostics, Snapshot, Watch, diagnostics, snapshot, watch
from .gradient_flow import GradientFlow, gradient_flow, plot_gradient_flow
from .layers import (ELU, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Embedding, Flatten, Identity, LayerNorm,
                     LeakyReLU, Linear, LogSoftmax, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh)
from .checkpoint import load, save
from .module import Module, Sequential
from .scalar import MLP, Layer, Neuron, Perceptron
from .history import History
from .train import fit, predict

__all__ = ["Module", "Sequential", "save", "load", "Neuron", "Layer", "MLP", "Perceptron",
           "fit", "predict", "History", "data", "init", "metrics", "optim",
           "functional", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d",
           "BatchNorm2d", "ReLU", "LeakyReLU", "ELU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Identity",
           "Embedding", "LayerNorm",
           "diagnostics", "snapshot", "watch", "Diagnostics", "Snapshot", "Watch",
           "gradient_flow", "plot_gradient_flow", "GradientFlow"]

register_internal(os.path.dirname(os.path.abspath(__file__)))  # anomaly errors name the user's line, not nn's
