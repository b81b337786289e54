"""Exact gradients two ways: the tape, and a hand-written backward network.

``ManualBackprop`` is what the tape computes, spelled out for an MLP. From the output error
e = dL/dlogits, the errors travel back through the *transposed forward weights*:

    delta_L = e
    delta_i = (delta_{i+1} W_{i+1}) * f'(a_i)          (N, out_{i+1}) @ (out_{i+1}, out_i)

Feedback alignment (feedback.py) is this same network with W_{i+1} swapped for a fixed random B.
"""
from .. import tape
from .network import accumulate_layer, derivative, forward, layers_of, output_error, raw


class Backprop:
    """The tape: ``loss_fn(model(x), y).backward()``."""
    name = "bp"

    def backward(self, model, loss_fn, x, y):
        loss = loss_fn(model(x), y)
        loss.backward()
        return float(loss.item())


class ManualBackprop:
    """Backprop by a hand-written backward network with transposed weights (no tape)."""
    name = "manual"

    def backward(self, model, loss_fn, x, y):
        layers = layers_of(model, "ManualBackprop")
        with tape.no_grad():
            ins, pre, outs = forward(layers, raw(x))
            loss, delta = output_error(loss_fn, outs[-1], y)
            for i in reversed(range(len(layers))):
                accumulate_layer(layers[i], delta, ins[i])
                if i:
                    below = layers[i - 1]
                    delta = (delta @ layers[i].linear.weight.data) * \
                        derivative(below.activation, pre[i - 1], outs[i - 1])
        return loss

