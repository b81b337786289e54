"""Functions with derivative rules of their own: ``custom_jvp`` and ``custom_vjp``, as in JAX.

    @ad.custom_jvp                              @ad.custom_vjp
    def f(x): ...                               def f(x): ...
    @f.defjvp                                   def f_fwd(x): return f(x), residuals
    def f_jvp(primals, tangents):               def f_bwd(residuals, g): return (x_cotangent,)
        return f(*primals), tangent_out         f.defvjp(f_fwd, f_bwd)

custom_jvp: the rule gets the primal arguments and their tangents (tuples of trees shaped like
the arguments) and returns (primal output, tangent output), the tangent linear in the tangents.
Forward mode uses it directly (one call per input that carries a tangent; the primal output is f's,
which a correct rule reproduces). Reverse mode uses its *transpose*: the rule's tangent output is
linear in the tangents t, ``T(t) = J t``, so reverse mode over it with respect to t gives ``Jᵀ g``
(calls.py puts the call on the tape as one node with that VJP). Higher orders differentiate the
rule itself, so grad of grad, hessian and jvp of grad all go through it.

custom_vjp: ``fwd`` takes f's arguments and returns (output, residuals); ``bwd(residuals, g)``
returns one cotangent per argument (a tuple; None for zero). Reverse mode only: forward mode
raises, as in JAX. fwd runs on the actual inputs, so residuals stay connected to them and grad of
grad differentiates bwd through them.

Both: f alone computes the value when nothing is differentiated (it may leave tinyad, through
``.numpy()``); ``nondiff_argnums`` marks arguments that are not differentiated, passed to the
rule, or to bwd, first (JAX's convention). A function that uses a tensor being differentiated
without receiving it as an argument (a closure) is an error, not a lost gradient.
"""
import contextvars
import functools

from . import tape, tree
from .backend import FLOATS
from .batching import constant
from .calls import (Outputs, carries_tangent, check_batch_levels, check_unbatched, clock,
                    closed_over, differentiated, one_node, stand_in)
from .errors import GradError, ShapeError
from .ops import sum
from .tensor import zeros_like
from .transforms import as_tensor, leaf_name
from .vmap import vmap


_IN_FWD = contextvars.ContextVar("custom_vjp functions whose fwd is running", default=frozenset())


class _Custom:
    """What custom_jvp and custom_vjp share: the function, its non-differentiated arguments."""

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(int(i) for i in nondiff_argnums)
        self.name = f"{type(self).__name__}[{getattr(fun, '__name__', 'f')}]"

    def _split(self, args):
        """(the non-differentiated arguments, the flat differentiable leaves as tensors, their
        structure as a tuple of arguments, a function giving all the arguments back)."""
        fixed = [args[i] for i in self.nondiff_argnums]
        diff = tuple(a for i, a in enumerate(args) if i not in self.nondiff_argnums)
        leaves, treedef = tree.flatten(diff)
        xs = [as_tensor(x, self.name, leaf_name("argument ", treedef, k))
              for k, x in enumerate(leaves)]

        def merged(leaves):
            rest = iter(treedef.unflatten(leaves))
            return [args[i] if i in self.nondiff_argnums else next(rest) for i in range(len(args))]
        return fixed, xs, treedef, merged

    def _closure_error(self, what):
        return GradError(f"{self.name} uses {what} without receiving it as an argument (a "
                         "closure); pass it as an argument so the rule sees it")

    def _check_no_closure(self, leaves, xs):
        if any(carries_tangent(o) for o in leaves):
            raise self._closure_error("a tensor that carries a tangent (forward mode)")
        if any(differentiated(o) for o in leaves):
            raise self._closure_error("a tensor that requires a gradient")
        check_batch_levels(leaves, xs, self.name)

    def _leaves(self, out):
        return [as_tensor(o, self.name, "an output") for o in tree.leaves(out)]


class custom_jvp(_Custom):
    """A function with its own JVP rule (``f.defjvp(rule)``), used by every transform; see the
    module docstring."""
    rule = None

    def defjvp(self, rule):
        """``rule(*nondiff_args, primals, tangents) -> (primal_out, tangent_out)``; returns rule,
        so it can decorate it."""
        self.rule = rule
        return rule

    def __call__(self, *args):
        fixed, xs, treedef, merged = self._split(args)
        check_unbatched(fixed, "a non-differentiated argument", self.name)
        out = self.fun(*merged([constant(x) for x in xs]))
        self._check_no_closure(self._leaves(out), xs)
        if not any(differentiated(x) for x in xs):
            return out
        if self.rule is None:
            raise GradError(f"{self.name} is being differentiated but has no rule: define one "
                            "with f.defjvp(rule)")
        outputs = Outputs(out, self.name)

        def tangent_out(primals, tangents):
            _, tan = self.rule(*fixed, treedef.unflatten(primals), treedef.unflatten(tangents))
            return outputs.check(tan, "the rule's tangent output")

        def tangent(i, t, args):
            ts = [t if k == i else _zeros(a) for k, a in enumerate(args)]
            return outputs.join(tangent_out(args, ts))

        def cotangents(args, g, out):
            outer = tape.recording()          # the backward pass is recorded: keep rule on tape
            with tape.enable_grad():
                primals = [stand_in(a, outer, False) for a in args]
                ts = [_zeros(a, variable=a.dtype in FLOATS) for a in args]
                tan = tangent_out(primals, ts)
                wrt = [t for t in ts if t._requires_grad]
                cts = iter(tape.grad_of(tan, wrt + [p for p in primals if p._requires_grad],
                                        outputs.split(g), retain_graph=True, create_graph=outer))
            return [next(cts) if t._requires_grad else None for t in ts]
        return one_node(self.name, xs, outputs, cotangents, tangent, lambda values, batched:
                        self._mapped(fixed, treedef, merged, values, batched))

    def _mapped(self, fixed, treedef, merged, values, batched):
        """The call on a batch's values: a custom_jvp of the leaves whose function and rule are
        this one's, vmapped (the batching rule of the call's node)."""
        axes = tuple(0 if b else None for b in batched)
        low = custom_jvp(vmap(lambda *leaves: self.fun(*merged(leaves)), in_axes=axes))

        def one(primals, tangents):
            return self.rule(*fixed, treedef.unflatten(primals), treedef.unflatten(tangents))
        low.defjvp(lambda primals, tangents: vmap(one, in_axes=(axes, axes))(primals, tangents))
        return low(*values)


def _zeros(like, variable=False):
    zeros = zeros_like(like)
    zeros._requires_grad = variable
    return zeros


class custom_vjp(_Custom):
    """A function with its own VJP (``f.defvjp(fwd, bwd)``), used by reverse mode (grad, vjp,
    jacrev, ``.backward()``); see the module docstring."""
    fwd = bwd = None

    def defvjp(self, fwd, bwd):
        """``fwd(*args) -> (output, residuals)``, ``bwd(*nondiff_args, residuals, g) -> tuple of
        cotangents, one per differentiable argument (None for zero)``."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        if self in _IN_FWD.get():
            return self.fun(*args)              # f called by its own fwd: just the value
        fixed, xs, treedef, merged = self._split(args)
        check_unbatched(fixed, "a non-differentiated argument", self.name)
        if any(carries_tangent(x) for x in xs):
            raise GradError(f"{self.name}: a custom_vjp function cannot be differentiated in "
                            "forward mode (jvp, jacfwd, hessian, hvp), as in JAX; give it a "
                            "custom_jvp rule for that")
        if not any(differentiated(x) for x in xs):
            out = self.fun(*merged(xs))
            self._check_no_closure(self._leaves(out), xs)
            return out
        if self.fwd is None:
            raise GradError(f"{self.name} is being differentiated but has no rule: define one "
                            "with f.defvjp(fwd, bwd)")
        since = clock()
        running = _IN_FWD.set(_IN_FWD.get() | {self})
        try:
            with tape.enable_grad():
                pair = self.fwd(*merged(xs))
        finally:
            _IN_FWD.reset(running)
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise GradError(f"{self.name}: fwd must return a pair (output, residuals)")
        out, residuals = pair
        leaves = self._leaves(out)
        if any(carries_tangent(o) for o in leaves):
            raise self._closure_error("a tensor that carries a tangent (forward mode)")
        if closed_over(leaves, since, xs):
            raise self._closure_error("a tensor that requires a gradient")
        check_batch_levels(leaves, xs, self.name)
        outputs = Outputs(out, self.name)

        def cotangents(args, g, _):
            cts = self.bwd(*fixed, residuals, outputs.tree(outputs.split(g), constants=False))
            return self._flat_cotangents(cts, xs, treedef)
        return one_node(self.name, xs, outputs, cotangents, mapped=lambda values, batched:
                        self._mapped(fixed, xs, treedef, merged, values, batched))

    def _mapped(self, fixed, xs, treedef, merged, values, batched):
        """The call on a batch's values: a custom_vjp of the leaves whose function, fwd and bwd
        are this one's, vmapped (the batching rule of the call's node). An input shared by the
        examples gets the sum of their cotangents."""
        axes = tuple(0 if b else None for b in batched)
        low = custom_vjp(vmap(lambda *leaves: self.fun(*merged(leaves)), in_axes=axes))

        def fwd(*leaves):
            running = _IN_FWD.set(_IN_FWD.get() | {self})
            try:
                return vmap(lambda *ls: self.fwd(*merged(ls)), in_axes=axes)(*leaves)
            finally:
                _IN_FWD.reset(running)

        def one(residuals, g):
            cts = self._flat_cotangents(self.bwd(*fixed, residuals, g), xs, treedef)
            return [zeros_like(x) if ct is None else ct for ct, x in zip(cts, xs)]

        def bwd(residuals, g):
            cts = vmap(one)(residuals, g)
            return tuple(ct if b else sum(ct, 0) for ct, b in zip(cts, batched))
        low.defvjp(fwd, bwd)
        return low(*values)

    def _flat_cotangents(self, cts, xs, treedef):
        """bwd's tuple of per-argument cotangents as a flat list matching the input leaves."""
        if not isinstance(cts, (tuple, list)) or len(cts) != len(treedef.children):
            raise GradError(f"{self.name}: bwd must return a tuple of {len(treedef.children)} "
                            f"cotangents (one per differentiable argument), got "
                            f"{type(cts).__name__}" + (f" of length {len(cts)}"
                                                       if isinstance(cts, (tuple, list)) else ""))
        flat = []
        for i, (ct, arg_def) in enumerate(zip(cts, treedef.children)):
            if ct is None:
                flat += [None] * arg_def.num_leaves
                continue
            flat += tree.flatten_as(arg_def, ct, f"{self.name}: bwd's cotangent {i}")
        for k, (ct, x) in enumerate(zip(flat, xs)):
            if ct is not None:
                ct = flat[k] = as_tensor(ct, self.name, "a cotangent")
                if ct.shape != x.shape:
                    raise ShapeError(f"{self.name}: bwd's cotangent for input "
                                     f"{leaf_name('', treedef, k)()} has shape {ct.shape}, the "
                                     f"input has shape {x.shape}")
        return flat
