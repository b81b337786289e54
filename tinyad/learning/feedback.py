"""Learning without weight transport: feedback alignment and direct feedback alignment.

Backprop sends the error back through Wᵀ, which a brain cannot do (the backward pathway would
need to know the forward weights). Two fixes that still learn, because the forward weights come
to align with the fixed random feedback:

Feedback alignment (Lillicrap et al. 2016): backprop's chain with each W replaced by a fixed
random B_i of the same shape (out_i, in_i):

    delta_L = e,     delta_i = (delta_{i+1} B_{i+1}) * f'(a_i)

Direct feedback alignment (Nøkland 2016): the output error goes straight to every hidden layer
through its own fixed random B_i of shape (classes, out_i); no chain at all:

    delta_i = (e B_i) * f'(a_i)
"""
import numpy as np

from .. import tape
from .network import (accumulate_layer, backward_chain, forward, layers_of, output_error, raw,
                      through_activation)
from .rule import LearningRule


class _FixedFeedback(LearningRule):
    """Holds the fixed random feedback matrices, drawn once per model from `seed`."""

    def __init__(self, seed=None):
        self.seed = seed
        self._matrices = {}

    def feedback(self, layers, shapes):
        key = tuple(id(layer.linear) for layer in layers)
        if key not in self._matrices:
            rng = np.random.default_rng(self.seed)
            xp_like = layers[0].linear.weight.data
            self._matrices = {key: [
                _as_like(rng.uniform(-1, 1, shape) / np.sqrt(shape[0]), xp_like)
                for shape in shapes]}
        return self._matrices[key]


def _as_like(array, like):
    from ..backend import xp_of
    return xp_of(like).asarray(array, dtype=like.dtype)


class FeedbackAlignment(_FixedFeedback):
    """Backprop's chain with every Wᵀ replaced by a fixed random B."""
    name = "fa"

    def update_direction(self, model, loss_fn, x, y):
        layers = layers_of(model, "FeedbackAlignment")
        bs = self.feedback(layers, [layer.linear.weight.shape for layer in layers])
        with tape.no_grad():
            return backward_chain(layers, loss_fn, x, y, bs)


class DFA(_FixedFeedback):
    """Direct feedback alignment: the output error reaches each hidden layer directly."""
    name = "dfa"

    def update_direction(self, model, loss_fn, x, y):
        layers = layers_of(model, "DFA")
        classes = layers[-1].linear.weight.shape[0]
        bs = self.feedback(layers[:-1], [(classes, layer.linear.weight.shape[0])
                                         for layer in layers[:-1]])
        with tape.no_grad():
            ins, derivs, outs = forward(layers, raw(x))
            loss, e = output_error(loss_fn, outs[-1], y)
            accumulate_layer(layers[-1], e, ins[-1])
            for i, layer in enumerate(layers[:-1]):
                delta = through_activation(e @ bs[i], derivs[i])
                accumulate_layer(layer, delta, ins[i])
        return loss
