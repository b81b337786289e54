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
layer is updated with e (as in DFA) and only the hidden layers are perturbed. Convolutions are
perturbed the same way, one u per example, channel and position of their pre-activation (N, C, H,
W), through pooling and flattening, with dW = conv2d_weight(h_{i-1}, ĝ(a_i)). A LayerNorm before
layer i gets its gain's and bias's gradient from ĝ(a_i) sent back through W_i (network.py's
``update_stages``): nothing of it is perturbed.

``exact_readout=True`` (weights only; Ren et al.'s code does this) perturbs every parameter but the
readout layer's (the last Linear of an ``nn.Sequential`` or ``nn.MLP``) and gives the readout its
exact gradient from the same pass, eᵀ h_{L-1} and Σ e, as activity perturbation does: the
readout is then learnt as fast as by backprop, and the noisy estimate is spent on the layers below.

Where the tangents come from (the seam every benchmark times the rule through):

- drawn by the rule: ``distribution`` from ``draw_flat`` (default: the fastest generator there
  is, ``tangents.fastest()``), fed by the rule's own seeded NumPy ``Generator``;
- pre-drawn: ``rule.update_direction(model, loss_fn, x, y, tangents=vs)`` uses `vs` as given;
- per layer (``per_layer=True``, weights, an ``nn.Sequential`` or ``nn.MLP``): each layer's
  tangent is drawn when the forward pass reaches that layer, from a key of its own, and drawn
  again, identically, for the update, so no parameter-sized tangent is held through the pass.
"""
import math

import numpy as np

from .. import backend, nn, ops, tape
from ..dual import dual_level, unpack
from ..dual_constructor import dual
from ..tensor import Tensor, zeros_like
from ..transforms import jvp
from ..vmap import vmap
from . import tangents as tangent_draw
from .network import (Layer, accumulate, derivative, forward, layers_of, model_input,
                      output_error, raw)
from .rule import LearningRule

PASS_NUMBERS = 2 ** 24        # tangent numbers per vmapped pass by default (64 MiB in float32)

class ForwardGradient(LearningRule):
    """``tangents`` estimates per step (averaged), v ~ ``distribution`` ('normal' or
    'rademacher') of the weights or of the hidden pre-activations (``perturb``); ``seed`` seeds the
    rule's generator; ``draw_flat(n, distribution, rng, dtype)`` draws n numbers (default
    ``tangents.fastest()``); ``per_layer``, ``batched`` and ``exact_readout``: see the module
    docstring."""
    name = "fg"

    def __init__(self, tangents=1, distribution="normal", perturb="weights", seed=None,
                 draw_flat=None, per_layer=False, batched=None, exact_readout=False):
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
        if exact_readout and perturb != "weights":
            raise ValueError("ForwardGradient: exact_readout is for perturb='weights' (activity "
                             "perturbation always updates the output layer exactly)")
        tangent_draw.check_distribution(distribution)
        self.exact_readout = exact_readout
        self._unit_shapes = {}
        self.tangents, self.distribution, self.perturb = tangents, distribution, perturb
        self.draw_flat, self.per_layer, self.batched = draw_flat, per_layer, batched
        self.rng = np.random.default_rng(seed)
        self._device_rng = None
        if perturb == "activities":
            self.name = "fg-activity"
        elif exact_readout:
            self.name = "fg-readout"

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
                       else len(x) * self._hidden_units(model, x))
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
        (one per perturbed parameter) or along v drawn as ``update_direction`` draws it (per
        layer when so set)."""
        blocks, readout = self._blocks(model)
        loss, d, _ = self._pass(blocks, loss_fn, x, y, self._tangents_of(blocks, tangents),
                                readout)
        return float(loss.item()), float(d.item())

    def _blocks(self, model):
        """([(module, its [(name, parameter)])] in the order the forward pass runs them, the
        readout module or None): the whole model (less the readout) as one block, or with
        per_layer each module of its Sequential."""
        if not (self.per_layer or self.exact_readout):
            return [(model, list(model.named_parameters()))], None
        chain = model.layers if isinstance(model, nn.MLP) else model
        option = "per_layer=True" if self.per_layer else "exact_readout=True"
        if not isinstance(chain, nn.Sequential):
            raise TypeError(f"ForwardGradient({option}) runs the layers one by one: it "
                            f"needs an nn.Sequential or nn.MLP, got {type(model).__name__}")
        readout = None
        if self.exact_readout:
            readout, chain = chain[-1], chain[:-1]
            if not isinstance(readout, nn.Linear):
                raise TypeError(f"ForwardGradient(exact_readout=True): the last layer must be "
                                f"an nn.Linear (the readout), got {type(readout).__name__}")
        modules = chain if self.per_layer else [chain]
        blocks = [(m, list(m.named_parameters())) for m in modules]
        mine = [id(p) for _, named in blocks for _, p in named]
        mine += [id(p) for p in readout.parameters()] if readout is not None else []
        if mine != [id(p) for p in model.parameters()]:
            raise ValueError(f"ForwardGradient({option}): a parameter is shared between "
                             "layers; draw its tangent once with per_layer=False")
        return blocks, readout

    def _tangents_of(self, blocks, given):
        """block index -> that block's tangents: slices of `given` (checked against the
        parameters), one draw for the whole model, or per layer a draw from the key
        ``[step key, block index]``, which gives the same arrays each time it is asked."""
        named = [item for _, block in blocks for item in block]
        if given is not None:
            given = _checked(given, [p.shape for _, p in named],
                             [name for name, _ in named], "one per perturbed parameter")
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
    def _pass(blocks, loss_fn, x, y, tangents_of, readout=None):
        """(loss, ∇f·v, readout's (input, output) primal arrays or None) from one dual-number
        pass, block by block, then the unperturbed readout; recording nothing. The loss and
        ∇f·v are tensors on the parameters' device (no host sync)."""
        with tape.no_grad(), dual_level() as level:
            h = x
            for i, (module, named) in enumerate(blocks):
                duals = {n: dual(p.detach(), v) for (n, p), v in zip(named, tangents_of(i))}
                h = nn.functional_call(module, duals, h)
                del duals
            seen = None
            if readout is not None:
                features = unpack(h, level)[0].data
                h = readout(h)
                seen = features, unpack(h, level)[0].data
            return (*unpack(loss_fn(h, y), level), seen)

    def _weights(self, model, loss_fn, x, y, given, k):
        """k estimates (d_j v_j, d_j = ∇f·v_j): one dual-number pass, vmapped over k > 1."""
        blocks, readout = self._blocks(model)
        if k > 1:
            return self._weights_batched(blocks, readout, loss_fn, x, y, k)
        tangents_of = self._tangents_of(blocks, given)
        loss, d, seen = self._pass(blocks, loss_fn, x, y, tangents_of, readout)
        scale = d.data / self.tangents           # stays on the device: no host sync
        for i, (_, named) in enumerate(blocks):
            for (_, p), v in zip(named, tangents_of(i)):
                if given is None and p.grad is None and v.dtype == p.dtype:
                    v *= scale                 # v is fresh: scale it in place into .grad
                    p.grad = Tensor(v)
                else:
                    accumulate(p, scale * v)
        self._readout_update(readout, loss_fn, seen, y, 1)
        return float(loss.item())

    def _weights_batched(self, blocks, readout, loss_fn, x, y, k):
        """The mean of k estimates from one pass vmapped over k directions of the whole model
        (one block: per_layer passes carry one direction)."""
        params = [p for _, p in blocks[0][1]]
        vs = self.draws([p.shape for p in params], k, params[0].data)
        seen = []                  # the readout's primal input and output: one for all k

        def directional(*tangents):
            loss, d, primals = self._pass(blocks, loss_fn, x, y, lambda i: tangents, readout)
            seen.append(primals)
            return loss, d
        with tape.no_grad():
            loss, d = vmap(directional, out_axes=(None, 0))(*map(Tensor, vs))
        xp = backend.xp_of(vs[0])
        for p, v in zip(params, vs):
            accumulate(p, xp.tensordot(d.data / self.tangents, v, axes=1))
        self._readout_update(readout, loss_fn, seen[-1], y, k)
        return float(loss.item())

    def _readout_update(self, readout, loss_fn, seen, y, k):
        """exact_readout: the readout's exact gradient eᵀ h_{L-1}, Σ e from the pass's primal
        (input, logits) `seen`, weighted k / K (this pass stands for k of the K estimates)."""
        if readout is None:
            return
        features, logits = seen
        _, e = output_error(loss_fn, logits, y)
        Layer(readout).accumulate(e * (k / self.tangents), features)

    def _activities(self, model, loss_fn, x, y, given, k):
        """k estimates from perturbed pre-activations: one pass, vmapped over k > 1."""
        layers = layers_of(model, "ForwardGradient(perturb='activities')")
        hidden, last = layers[:-1], layers[-1]
        x = model_input(layers, raw(x))
        ins = []
        shapes = [(x.shape[0], *units) for units in self._units(layers, x)]
        us = (_checked(given, shapes, [f"hidden layer {i}" for i in range(len(hidden))],
                       "one (N, units of a_i) per hidden layer") if given is not None
              else self.draws(shapes, k, last.module.weight.data))

        def directional(*u):
            return jvp(lambda *eps: _perturbed(layers, Tensor(x), eps, ins),
                       [zeros_like(v) for v in u], u)
        with tape.no_grad():
            logits, t = _mapped(directional, k)(*map(Tensor, us))
            loss, e = output_error(loss_fn, logits.data, y)
        d = (e * t.data).sum(axis=-1)            # per example: ∇_{a_n} L · u_n; (k, N) if k > 1
        deltas = []
        for layer, (h_in, live), u in zip(hidden, ins, us):
            du = d.reshape(d.shape + (1,) * (u.ndim - d.ndim)) * u
            deltas.append((du if k == 1 else du.sum(axis=0)) * live / self.tangents)
        deltas.append(e * (k / self.tangents))
        for layer, delta, (h_in, _) in zip(layers, deltas, ins):
            layer.accumulate(delta, h_in)
        if any(stage.params for layer in layers for stage in layer.pre):   # LayerNorm gains
            record = forward(layers, x)
            for layer, delta, saved, h_in in zip(layers, deltas, record.saved, record.ins):
                layer.update_stages(delta, saved, h_in.shape)
        return loss

    def _hidden_units(self, model, x):
        """How many pre-activations per example activity perturbation draws a tangent for."""
        layers = layers_of(model, "ForwardGradient(perturb='activities')")
        return sum(math.prod(units) for units in self._units(layers, model_input(layers, raw(x))))

    def _units(self, layers, x):
        """Each hidden pre-activation's shape per example (units, or (C, H, W)), from a
        one-example pass, kept per model (each block of a LocalNet is one) and input shape."""
        key = (tuple((id(layer.module), layer.module.weight.shape) for layer in layers),
               x.shape[1:])
        if key not in self._unit_shapes:
            if len(self._unit_shapes) >= 16:
                self._unit_shapes.clear()
            outs = forward(layers, x[:1]).outs[:-1]
            self._unit_shapes[key] = [h.shape[1:] for h in outs]
        return self._unit_shapes[key]


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
    """The chain with eps_i added to each hidden pre-activation. Records, per layer, its
    affine input and where f'(a) != 0: a unit the activation shuts off (ReLU, a <= 0) has zero
    gradient, so its share of d·u is pure noise; masking it keeps the estimate unbiased, with
    less variance."""
    h = x
    for i, layer in enumerate(layers):
        for stage in layer.pre:
            h = stage.module(h)
        h_in = h.primal.data
        a = layer.module(h) + eps[i] if i < len(eps) else layer.module(h)
        h = ACTIVATION_OPS[layer.activation](a)
        ins.append((h_in, derivative(layer.activation, a.primal.data) != 0))
    return h


ACTIVATION_OPS = {"relu": ops.relu, "tanh": ops.tanh, "sigmoid": ops.sigmoid, None: lambda a: a}
