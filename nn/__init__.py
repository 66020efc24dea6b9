"""chainrule nn: a thin layer on autograd — modules, scalar networks, layers, losses, optimizers, data, training."""

from .module import Module, Sequential, load, save
from .scalar import MLP, Layer, Neuron, Perceptron

__all__ = ["Module", "Sequential", "save", "load", "Neuron", "Layer", "MLP", "Perceptron"]
