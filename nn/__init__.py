"""chainrule nn: layers, losses, optimizers, data and training on top of autograd."""
