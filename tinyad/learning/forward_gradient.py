"""Forward gradients (Baydin, Pearlmutter, Syme, Wood, Torr 2022): gradients without backprop.

Draw a random direction v with E[v vᵀ] = I. One forward pass with dual numbers gives the loss and
its directional derivative d = ∇f · v at once; then

    g = d v            is unbiased:   E[g] = E[v vᵀ] ∇f = ∇f

at the cost of variance: for normal v in n dimensions, E||g||² = (n + 2) ||∇f||².
``tangents=K`` averages K such estimates (K forward passes).

``perturb="activities"`` (Ren, Kornblith, Liao, Hinton 2022) perturbs the pre-activations a_i of
an MLP instead of the weights: with u_i (N, out_i) drawn per example and layer, one forward pass
carries the tangent Σ_i J_i u_i to the logits, and with the output error e = dL/dlogits each
example's directional derivative is d_n = e_n · (logit tangent)_n. Then

    ĝ(a_i) = d u_i      (per example)       dW_i = ĝ(a_i)ᵀ h_{i-1},   db_i = Σ_n ĝ(a_i)_n

(zeroed where the activation is flat, f'(a) = 0: the true gradient is zero there).

The perturbation has out_i dimensions per example instead of in_i · out_i weights: the variance
drops by about the fan-in. The network is traversed forward only; e comes from the loss alone.
The output layer's pre-activations are the logits, whose gradient e the rule holds exactly: that
layer is updated with e (as in DFA) and only the hidden layers are perturbed.
"""
import numpy as np

from .. import backend, nn, ops, tape
from ..dual import dual, dual_level, unpack
from ..tensor import Tensor, zeros_like
from ..transforms import jvp
from . import tangents as tangent_draw
from .network import accumulate, accumulate_layer, derivative, layers_of, output_error, raw


class ForwardGradient:
    name = "fg"

    def __init__(self, tangents=1, distribution="normal", perturb="weights", seed=None):
        if tangents < 1:
            raise ValueError(f"ForwardGradient: tangents must be >= 1, got {tangents}")
        if perturb not in ("weights", "activities"):
            raise ValueError(f"ForwardGradient: perturb must be 'weights' or 'activities', "
                             f"got {perturb!r}")
        tangent_draw.check_distribution(distribution)
        self.tangents, self.distribution, self.perturb = tangents, distribution, perturb
        self.rng = np.random.default_rng(seed)
        self._device_rng = None
        if perturb == "activities":
            self.name = "fg-activity"

    def backward(self, model, loss_fn, x, y):
        step = self._weights if self.perturb == "weights" else self._activities
        losses = [step(model, loss_fn, x, y) for _ in range(self.tangents)]
        return float(np.mean(losses))

    def rng_for(self, like):
        """The generator of tangents like array `like`: this rule's NumPy generator on the CPU;
        on the GPU a CuPy generator seeded once from it, so tangents are drawn on the device."""
        if backend.device_of(like) == "cpu":
            return self.rng
        if self._device_rng is None:
            self._device_rng = tangent_draw.device_generator(self.rng)
        return self._device_rng

    def _weights(self, model, loss_fn, x, y):
        names, params = zip(*model.named_parameters())
        like = params[0].data
        vs = tangent_draw.draw([p.shape for p in params], self.distribution, self.rng_for(like),
                               like)
        with tape.no_grad(), dual_level():
            duals = {n: dual(p.detach(), Tensor(v)) for n, p, v in zip(names, params, vs)}
            loss, d = unpack(loss_fn(nn.functional_call(model, duals, x), y),
                             duals[names[0]]._level)
        scale = d.data / self.tangents           # stays on the device: no host sync
        for p, v in zip(params, vs):
            if p.grad is None and v.dtype == p.dtype:
                v *= scale                     # v is fresh: scale it in place into .grad
                p.grad = Tensor(v)
            else:
                accumulate(p, scale * v)
        return float(loss.item())

    def _activities(self, model, loss_fn, x, y):
        layers = layers_of(model, "ForwardGradient(perturb='activities')")
        hidden, last = layers[:-1], layers[-1]
        x = Tensor(raw(x)).reshape(len(x), -1)
        ins = []
        with tape.no_grad():
            shapes = [(x.shape[0], layer.linear.weight.shape[0]) for layer in hidden]
            like = last.linear.weight.data
            us = [Tensor(u) for u in tangent_draw.draw(shapes, self.distribution,
                                                        self.rng_for(like), like)]
            logits, t = jvp(lambda *eps: _perturbed(layers, x, eps, ins),
                            [zeros_like(u) for u in us], us)
            loss, e = output_error(loss_fn, logits.data, y)
        d = (e * t.data).sum(axis=1, keepdims=True)       # per example: ∇_{a_n} L · u_n
        for layer, (h_in, live), u in zip(hidden, ins, us):
            accumulate_layer(layer, d * u.data * live / self.tangents, h_in)
        accumulate_layer(last, e / self.tangents, ins[-1][0])
        return loss


def _perturbed(layers, x, eps, ins):
    """The MLP with eps_i added to each hidden pre-activation. Records, per layer, its input and
    where f'(a) != 0: a unit the activation shuts off (ReLU, a <= 0) has zero gradient, so its
    share of d·u is pure noise; masking it keeps the estimate unbiased, with less variance."""
    h = x
    for i, layer in enumerate(layers):
        h_in = h.primal.data
        a = layer.linear(h) + eps[i] if i < len(eps) else layer.linear(h)
        h = ACTIVATION_OPS[layer.activation](a)
        ins.append((h_in, derivative(layer.activation, a.primal.data, h.primal.data) != 0))
    return h


ACTIVATION_OPS = {"relu": ops.relu, "tanh": ops.tanh, "sigmoid": ops.sigmoid, None: lambda a: a}
