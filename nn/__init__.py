"""chainrule nn: a thin layer on autograd — modules, scalar networks, layers, losses, optimizers, data, training."""

from . import data, init, metrics, optim
from .module import Module, Sequential, load, save
from .scalar import MLP, Layer, Neuron, Perceptron
from .train import History, fit, predict

__all__ = ["Module", "Sequential", "save", "load", "Neuron", "Layer", "MLP", "Perceptron",
           "fit", "predict", "History", "data", "init", "metrics", "optim"]
