"""Forward gradients (Baydin, Pearlmutter, Syme, Wood, Torr 2022): gradients without backprop.

Draw a random direction v with E[v vᵀ] = I. One forward pass with dual numbers gives the loss and
its directional derivative d = ∇f · v at once; then

    g = d v            is unbiased:   E[g] = E[v vᵀ] ∇f = ∇f

at the cost of variance: for normal v in n dimensions, E||g||² = (n + 2) ||∇f||².
``tangents=K`` averages K such estimates, several per pass: one JVP vmapped over their
directions computes the loss once and their K tangents as one batch. ``batched`` sets how many
per pass: None (the default) as many as keep a pass's tangents within PASS_NUMBERS numbers
(beyond, fresh memory costs more than the shared primal saves: bench/results/fg_tangents.md),
True all K, False one (K plain passes), or an int. Every setting draws the same directions and
gives the same estimate (to rounding).

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

from .. import nn, ops, tape
from ..dual import dual_level, unpack
from ..dual_constructor import dual
from ..tensor import Tensor, zeros_like
from ..transforms import jvp
from ..vmap import vmap
from . import tangents as tangent_draw
from .network import accumulate, accumulate_layer, derivative, layers_of, output_error, raw

PASS_NUMBERS = 2 ** 24        # tangent numbers per vmapped pass by default (64 MiB in float32)


class ForwardGradient:
    name = "fg"

    def __init__(self, tangents=1, distribution="normal", perturb="weights", seed=None,
                 batched=None):
        if tangents < 1:
            raise ValueError(f"ForwardGradient: tangents must be >= 1, got {tangents}")
        if not (batched is None or isinstance(batched, bool) or int(batched) >= 1):
            raise ValueError(f"ForwardGradient: batched must be None, a bool or an int >= 1, "
                             f"got {batched!r}")
        if perturb not in ("weights", "activities"):
            raise ValueError(f"ForwardGradient: perturb must be 'weights' or 'activities', "
                             f"got {perturb!r}")
        tangent_draw.draw_flat_numpy(1, distribution, np.random.default_rng(0))   # check the name
        self.tangents, self.distribution, self.perturb = tangents, distribution, perturb
        self.batched = batched
        self.rng = np.random.default_rng(seed)
        if perturb == "activities":
            self.name = "fg-activity"

    def backward(self, model, loss_fn, x, y):
        step = self._weights if self.perturb == "weights" else self._activities
        each = self.per_pass(model, x)
        passes = [min(each, self.tangents - s) for s in range(0, self.tangents, each)]
        return float(np.mean([step(model, loss_fn, x, y, k) for k in passes]))

    def per_pass(self, model, x):
        """How many of the K tangents one vmapped pass carries (see ``batched``)."""
        if self.batched is None:
            numbers = (sum(p.size for p in model.parameters()) if self.perturb == "weights"
                       else len(x) * sum(p.shape[0] for p in model.parameters() if p.ndim == 2))
            return max(1, min(self.tangents, PASS_NUMBERS // numbers))
        if isinstance(self.batched, bool):
            return self.tangents if self.batched else 1
        return min(self.tangents, int(self.batched))

    def _draw(self, shapes, k, like):
        """k directions (the same numbers, in the same order, as k single draws): one array per
        shape, (k, *shape) for k > 1."""
        draws = [tangent_draw.draw(shapes, self.distribution, self.rng, like) for _ in range(k)]
        return draws[0] if k == 1 else [np.stack(vs) for vs in zip(*draws)]

    def _weights(self, model, loss_fn, x, y, k):
        """k estimates (d_j v_j, d_j = ∇f·v_j): one dual-number pass, vmapped over k > 1."""
        names, params = zip(*model.named_parameters())
        vs = self._draw([p.shape for p in params], k, params[0].data)

        def directional(*tangents):
            with dual_level() as level:
                duals = {n: dual(p.detach(), v) for n, p, v in zip(names, params, tangents)}
                return unpack(loss_fn(nn.functional_call(model, duals, x), y), level)
        with tape.no_grad():
            loss, d = _mapped(directional, k)(*map(Tensor, vs))
        if k > 1:                              # the mean of the k estimates, one per parameter
            for p, v in zip(params, vs):
                accumulate(p, np.tensordot(d.data / self.tangents, v, axes=1))
            return float(loss.item())
        scale = float(d.item()) / self.tangents
        for p, v in zip(params, vs):
            if p.grad is None and v.dtype == p.dtype:
                v *= scale                     # v is fresh: scale it in place into .grad
                p.grad = Tensor(v)
            else:
                accumulate(p, scale * v)
        return float(loss.item())

    def _activities(self, model, loss_fn, x, y, k):
        """k estimates from perturbed pre-activations: one pass, vmapped over k > 1."""
        layers = layers_of(model, "ForwardGradient(perturb='activities')")
        hidden, last = layers[:-1], layers[-1]
        x = Tensor(raw(x)).reshape(len(x), -1)
        ins = []
        shapes = [(x.shape[0], layer.linear.weight.shape[0]) for layer in hidden]
        us = self._draw(shapes, k, last.linear.weight.data)

        def directional(*u):
            return jvp(lambda *eps: _perturbed(layers, x, eps, ins), [zeros_like(v) for v in u], u)
        with tape.no_grad():
            logits, t = _mapped(directional, k)(*map(Tensor, us))
            loss, e = output_error(loss_fn, logits.data, y)
        d = (e * t.data).sum(axis=-1, keepdims=True)      # per example: ∇_{a_n} L · u_n
        for layer, (h_in, live), u in zip(hidden, ins, us):
            du = d * u if k == 1 else (d * u).sum(axis=0)
            accumulate_layer(layer, du * live / self.tangents, h_in)
        accumulate_layer(last, e * (k / self.tangents), ins[-1][0])
        return loss


def _mapped(directional, k):
    """`directional` (tangents -> (value, derivative)) itself for one direction, else vmapped
    over k: the value once, the derivatives as a batch."""
    return directional if k == 1 else vmap(directional, out_axes=(None, 0))


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
