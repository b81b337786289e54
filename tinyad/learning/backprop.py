"""Exact gradients two ways: the tape, and a hand-written backward network.

``ManualBackprop`` is what the tape computes, spelled out for a chain of dense and convolution
layers (network.py). From the output error
e = dL/dlogits, the errors travel back through the *transposed forward weights*:

    delta_L = e
    delta_i = (delta_{i+1} W_{i+1}) * f'(a_i)          (N, out_{i+1}) @ (out_{i+1}, out_i)

Feedback alignment (feedback.py) is this same network with W_{i+1} swapped for a fixed random B.
"""
from .. import tape
from .network import backward_chain, layers_of
from .rule import LearningRule


class Backprop(LearningRule):
    """The tape: ``loss_fn(model(x), y).backward()``."""
    name = "bp"

    def update_direction(self, model, loss_fn, x, y):
        loss = loss_fn(model(x), y)
        loss.backward()
        return float(loss.item())


class ManualBackprop(LearningRule):
    """Backprop by a hand-written backward network with transposed weights (no tape)."""
    name = "manual"

    def update_direction(self, model, loss_fn, x, y):
        layers = layers_of(model, "ManualBackprop")
        with tape.no_grad():
            return backward_chain(layers, loss_fn, x, y,
                                  [layer.module.weight.data for layer in layers])
