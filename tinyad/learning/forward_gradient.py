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

Where the tangents come from (the seam every benchmark times the rule through):

- drawn by the rule: ``distribution`` from ``draw_flat`` (default: the fastest generator there
  is, ``tangents.fastest()``), fed by the rule's own seeded NumPy ``Generator``;
- pre-drawn: ``rule.update_direction(model, loss_fn, x, y, tangents=vs)`` uses `vs` as given;
- per layer (``per_layer=True``, weights, an ``nn.Sequential`` or ``nn.MLP``): each layer's
  tangent is drawn when the forward pass reaches that layer, from a key of its own, and drawn
  again, identically, for the update, so no parameter-sized tangent is held through the pass.
"""
import numpy as np

from .. import backend, nn, ops, tape
from ..dual import dual_level, unpack
from ..dual_constructor import dual
from ..tensor import Tensor, zeros_like
from ..transforms import jvp
from ..vmap import vmap
from . import tangents as tangent_draw
from .network import accumulate, accumulate_layer, derivative, layers_of, output_error, raw
from .rule import LearningRule

PASS_NUMBERS = 2 ** 24        # tangent numbers per vmapped pass by default (64 MiB in float32)

class ForwardGradient(LearningRule):
    """``tangents`` estimates per step (averaged), v ~ ``distribution`` ('normal' or
    'rademacher') of the weights or of the hidden pre-activations (``perturb``); ``seed`` seeds the
    rule's generator; ``draw_flat(n, distribution, rng, dtype)`` draws n numbers (default
    ``tangents.fastest()``); ``per_layer`` and ``batched``: see the module docstring."""
    name = "fg"

    def __init__(self, tangents=1, distribution="normal", perturb="weights", seed=None,
                 draw_flat=None, per_layer=False, batched=None):
        if tangents < 1:
            raise ValueError(f"ForwardGradient: tangents must be >= 1, got {tangents}")
        if not (batched is None or isinstance(batched, bool) or int(batched) >= 1):
            raise ValueError(f"ForwardGradient: batched must be None, a bool or an int >= 1, "
                             f"got {batched!r}")
        if perturb not in ("weights", "activities"):
            raise ValueError(f"ForwardGradient: perturb must be 'weights' or 'activities', "
                             f"got {perturb!r}")
        if per_layer and perturb != "weights":
            raise ValueError("ForwardGradient: per_layer draws weight tangents layer by layer; "
                             "it needs perturb='weights'")
        tangent_draw.check_distribution(distribution)
        self.tangents, self.distribution, self.perturb = tangents, distribution, perturb
        self.draw_flat, self.per_layer, self.batched = draw_flat, per_layer, batched
        self.rng = np.random.default_rng(seed)
        self._device_rng = None
        if perturb == "activities":
            self.name = "fg-activity"

    def update_direction(self, model, loss_fn, x, y, tangents=None):
        """Accumulate (∇f·v) v (mean of ``self.tangents`` draws) into each ``p.grad``; returns
        the loss. `tangents`: pre-drawn v for one estimate instead of drawing, read and not
        changed: one array per parameter in ``model.parameters()`` order (weights), or one
        (N, out_i) array per hidden layer (activities)."""
        if tangents is not None and self.tangents != 1:
            raise ValueError(f"ForwardGradient: pre-drawn tangents give one estimate, but this "
                             f"rule averages tangents={self.tangents}")
        step = self._weights if self.perturb == "weights" else self._activities
        if tangents is not None:
            return float(step(model, loss_fn, x, y, tangents, 1))
        each = self.per_pass(model, x)
        passes = [min(each, self.tangents - s) for s in range(0, self.tangents, each)]
        return float(np.mean([step(model, loss_fn, x, y, None, k) for k in passes]))

    def per_pass(self, model, x):
        """How many of the K tangents one vmapped pass carries (see ``batched``; one with
        per_layer, which draws a layer's tangent when the pass reaches it)."""
        if self.per_layer:
            return 1
        if self.batched is None:
            numbers = (sum(p.size for p in model.parameters()) if self.perturb == "weights"
                       else len(x) * sum(p.shape[0] for p in model.parameters() if p.ndim == 2))
            return max(1, min(self.tangents, PASS_NUMBERS // numbers))
        if isinstance(self.batched, bool):
            return self.tangents if self.batched else 1
        return min(self.tangents, int(self.batched))

    def draw(self, shapes, like, rng=None):
        """One tangent per shape as this rule draws them (its distribution and generator), in the
        float dtype and on the device of array `like`; from `rng`, default the rule's own."""
        return tangent_draw.draw(shapes, self.distribution,
                                 self.rng_for(like) if rng is None else rng, like,
                                 draw_flat=self.draw_flat)

    def draws(self, shapes, k, like):
        """k directions (the same numbers, in the same order, as k single draws): one array per
        shape, (k, *shape) for k > 1."""
        draws = [self.draw(shapes, like) for _ in range(k)]
        if k == 1:
            return draws[0]
        xp = backend.xp_of(like)
        return [xp.stack(vs) for vs in zip(*draws)]

    def rng_for(self, like):
        """The generator of tangents like array `like`: this rule's NumPy generator on the CPU;
        on the GPU a CuPy generator seeded once from it, so tangents are drawn on the device."""
        if backend.device_of(like) == "cpu":
            return self.rng
        if self._device_rng is None:
            self._device_rng = tangent_draw.device_generator(self.rng)
        return self._device_rng

    def directional_derivative(self, model, loss_fn, x, y, tangents=None):
        """(loss, ∇f·v): the weight-perturbed rule's dual-number pass alone, along `tangents`
        (one per parameter) or along v drawn as ``update_direction`` draws it (per layer when so
        set)."""
        blocks = self._blocks(model)
        loss, d = self._pass(blocks, loss_fn, x, y, self._tangents_of(blocks, tangents))
        return float(loss.item()), float(d.item())

    def _blocks(self, model):
        """[(module, its [(name, parameter)])] in the order the forward pass runs them: the whole
        model as one block, or with per_layer each module of its Sequential."""
        if not self.per_layer:
            return [(model, list(model.named_parameters()))]
        chain = model.layers if isinstance(model, nn.MLP) else model
        if not isinstance(chain, nn.Sequential):
            raise TypeError(f"ForwardGradient(per_layer=True) runs the layers one by one: it "
                            f"needs an nn.Sequential or nn.MLP, got {type(model).__name__}")
        blocks = [(m, list(m.named_parameters())) for m in chain]
        if [id(p) for _, named in blocks for _, p in named] != [id(p) for p in model.parameters()]:
            raise ValueError("ForwardGradient(per_layer=True): a parameter is shared between "
                             "layers; draw its tangent once with per_layer=False")
        return blocks

    def _tangents_of(self, blocks, given):
        """block index -> that block's tangents: slices of `given` (checked against the
        parameters), one draw for the whole model, or per layer a draw from the key
        ``[step key, block index]``, which gives the same arrays each time it is asked."""
        named = [item for _, block in blocks for item in block]
        if given is not None:
            given = _checked(given, [p.shape for _, p in named],
                             [name for name, _ in named], "one per parameter")
            starts = np.cumsum([0] + [len(block) for _, block in blocks])
            return lambda i: given[starts[i]:starts[i + 1]]
        if not self.per_layer:
            vs = self.draw([p.shape for _, p in named], named[0][1].data)
            return lambda i: vs
        key = int(self.rng.integers(2**63))

        def layer(i):
            params = [p for _, p in blocks[i][1]]
            if not params:
                return []
            return self.draw([p.shape for p in params], params[0].data,
                             np.random.default_rng([key, i]))
        return layer

    @staticmethod
    def _pass(blocks, loss_fn, x, y, tangents_of):
        """(loss, ∇f·v) as tensors (on the parameters' device: no host sync) from one dual-number
        pass, block by block, recording nothing."""
        with tape.no_grad(), dual_level() as level:
            h = x
            for i, (module, named) in enumerate(blocks):
                duals = {n: dual(p.detach(), v) for (n, p), v in zip(named, tangents_of(i))}
                h = nn.functional_call(module, duals, h)
                del duals
            return unpack(loss_fn(h, y), level)

    def _weights(self, model, loss_fn, x, y, given, k):
        """k estimates (d_j v_j, d_j = ∇f·v_j): one dual-number pass, vmapped over k > 1."""
        blocks = self._blocks(model)
        if k > 1:
            return self._weights_batched(blocks, loss_fn, x, y, k)
        tangents_of = self._tangents_of(blocks, given)
        loss, d = self._pass(blocks, loss_fn, x, y, tangents_of)
        scale = d.data / self.tangents           # stays on the device: no host sync
        for i, (_, named) in enumerate(blocks):
            for (_, p), v in zip(named, tangents_of(i)):
                if given is None and p.grad is None and v.dtype == p.dtype:
                    v *= scale                 # v is fresh: scale it in place into .grad
                    p.grad = Tensor(v)
                else:
                    accumulate(p, scale * v)
        return float(loss.item())

    def _weights_batched(self, blocks, loss_fn, x, y, k):
        """The mean of k estimates from one pass vmapped over k directions of the whole model
        (one block: per_layer passes carry one direction)."""
        params = [p for _, p in blocks[0][1]]
        vs = self.draws([p.shape for p in params], k, params[0].data)

        def directional(*tangents):
            return self._pass(blocks, loss_fn, x, y, lambda i: tangents)
        with tape.no_grad():
            loss, d = vmap(directional, out_axes=(None, 0))(*map(Tensor, vs))
        xp = backend.xp_of(vs[0])
        for p, v in zip(params, vs):
            accumulate(p, xp.tensordot(d.data / self.tangents, v, axes=1))
        return float(loss.item())

    def _activities(self, model, loss_fn, x, y, given, k):
        """k estimates from perturbed pre-activations: one pass, vmapped over k > 1."""
        layers = layers_of(model, "ForwardGradient(perturb='activities')")
        hidden, last = layers[:-1], layers[-1]
        x = Tensor(raw(x)).reshape(len(x), -1)
        ins = []
        shapes = [(x.shape[0], layer.linear.weight.shape[0]) for layer in hidden]
        us = (_checked(given, shapes, [f"hidden layer {i}" for i in range(len(hidden))],
                       "one (N, out_i) per hidden layer") if given is not None
              else self.draws(shapes, k, last.linear.weight.data))

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


def _checked(given, shapes, names, rule):
    """The pre-drawn tangents as a list, after checking their number and shapes."""
    given = [raw(v) for v in given]
    if len(given) != len(shapes):
        raise ValueError(f"ForwardGradient: got {len(given)} pre-drawn tangents, expected "
                         f"{len(shapes)} ({rule})")
    for name, shape, v in zip(names, shapes, given):
        if tuple(v.shape) != tuple(shape):
            raise ValueError(f"ForwardGradient: the pre-drawn tangent for {name} has shape "
                             f"{tuple(v.shape)}, expected {tuple(shape)}")
    return given


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
