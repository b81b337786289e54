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
import math

import numpy as np

from .. import tape
from ..backend import xp_of
from .network import backward_chain, forward, layers_of, output_error, raw, through_activation
from .rule import LearningRule


class _FixedFeedback(LearningRule):
    """Holds the fixed random feedback matrices, drawn once per model (and shape) from `seed`:
    B ~ U(-1, 1) / sqrt(fan-out), fan-out = B.size / B.shape[1] (out_i for a dense layer's
    (out_i, in_i), out·kh·kw for a convolution's (out, in, kh, kw))."""

    def __init__(self, seed=None):
        self.seed = seed
        self._matrices = {}

    def feedback(self, layers, shapes):
        key = (tuple(id(layer.module) for layer in layers), tuple(map(tuple, shapes)))
        if key not in self._matrices:
            rng = np.random.default_rng(self.seed)
            like = layers[0].module.weight.data
            self._matrices = {key: [
                xp_of(like).asarray(rng.uniform(-1, 1, shape)
                                    / np.sqrt(math.prod(shape) / shape[1]), dtype=like.dtype)
                for shape in shapes]}
        return self._matrices[key]


class FeedbackAlignment(_FixedFeedback):
    """Backprop's chain with every Wᵀ replaced by a fixed random B (through convolutions too:
    conv2d_transpose with B in place of W)."""
    name = "fa"

    def update_direction(self, model, loss_fn, x, y):
        layers = layers_of(model, "FeedbackAlignment")
        bs = self.feedback(layers, [layer.module.weight.shape for layer in layers])
        with tape.no_grad():
            return backward_chain(layers, loss_fn, x, y, bs)


class DFA(_FixedFeedback):
    """Direct feedback alignment: the output error reaches each hidden layer directly, through
    B_i of shape (classes, units of a_i) (a convolution's C·H·W units alike), reshaped to a_i.
    A LayerNorm before layer i learns from that layer's signal, sent back through W_i."""
    name = "dfa"

    def update_direction(self, model, loss_fn, x, y):
        layers = layers_of(model, "DFA")
        with tape.no_grad():
            record = forward(layers, raw(x))
            loss, e = output_error(loss_fn, record.outs[-1], y)
            shapes = [(e.shape[1], math.prod(h.shape[1:])) for h in record.outs[:-1]]
            bs = self.feedback(layers[:-1], shapes)
            deltas = [through_activation((e @ b).reshape(h.shape), d)
                      for b, h, d in zip(bs, record.outs, record.derivs)] + [e]
            for layer, delta, x_i, saved in zip(layers, deltas, record.ins, record.saved):
                layer.accumulate(delta, x_i)
                layer.update_stages(delta, saved, x_i.shape)
        return loss
