"""What the tape keeps of one primitive application: a ``Node``.

A node serves the backward pass twice over: as a vertex of the graph it walks, and as the memory
of the values its VJP rules will read. For memory, it keeps no more than that:

    parents    per input, where the input's cotangent goes: the Node that computed the input,
               the leaf tensor itself (a parameter: its ``.grad`` collects it), or None (a
               constant, or an input that needs no gradient)
    inputs     per input, the tensor if some VJP rule to be run reads it, else a stand-in
               (``StandIn``): its shape, dtype and device, all that fitting a cotangent needs;
               the node behind an input stands in for it, an ``Unsaved`` for a leaf or constant
    out        the output's array if a rule reads it (rebuilt into a tensor on this node when
               the rule runs: a node never holds the tensor that points back at it); else the
               node itself stands in for its output
    residual   what the forward pass computed on the side for the VJP (a fused kernel's
               derivative, softmax cross-entropy's gradient), or None

So ``relu(h @ w + b)`` keeps one array per layer: matmul keeps h and w (each one's rule reads
the other), add keeps nothing (its rule is ``g``), and relu keeps its output (its mask), which is
the next matmul's h. Everything else is freed as soon as the forward pass moves on, as in
PyTorch's ``save_for_backward``.

What a rule reads is declared by its primitive (``saves=``, parsed by ``Saves``): a rule that
reads something it did not declare meets an ``Unsaved`` and raises, naming the primitive. The
values a node saved must not change before the backward pass: a saved tensor whose values were
replaced (``Tensor._assign``: an optimizer step, ``load_state_dict``) after the node was recorded
has a version later than the node's number, and the rules refuse to run, as PyTorch's version
counter makes them.
"""
import weakref

import numpy as np

from .errors import GradError
from .modes import current
from .tensor import Clock, Tensor

_ticks = Clock.ticks

OUT = "out"     # in a declaration: the rule reads the primitive's output
ALL = "all"     # the default declaration: every input and the output


class Saves:
    """A primitive's declaration of what its VJP rules read, parsed once:

        ALL                    every input and the output (the safe default)
        (0, OUT)               every rule reads input 0 and the output; () reads nothing
        ((1,), (0,))           per input's rule: input 0's reads input 1, input 1's input 0 (a
                               bilinear map: mul, matmul), so ``h * 0.5`` keeps 0.5, not h
    """
    __slots__ = ("spec", "rules", "plans")

    def __init__(self, spec=ALL):
        self.spec, self.plans = spec, {}
        if spec == ALL:
            self.rules = None
        elif spec and all(isinstance(s, tuple) for s in spec):
            self.rules = tuple(_parsed(s, spec) for s in spec)
        else:
            self.rules = _parsed(spec, spec)            # one for every rule

    def plan(self, runs, n):
        """For n inputs whose rules will run where bit k of `runs` is set: (per input whether
        to keep it, None for every one; whether to keep the output; whether to keep any input).
        Worked out once per pattern."""
        key = runs << 16 | n
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = self._plan(runs, n)
        return plan

    def _plan(self, runs, n):
        if self.rules is None:
            return None, True, n > 0
        rules = [self.rules] * n if type(self.rules[0]) is frozenset else self.rules
        running = [rules[k] for k in range(n) if runs >> k & 1]
        inputs = frozenset().union(*(ins for ins, _ in running))
        return tuple(k in inputs for k in range(n)), any(o for _, o in running), bool(inputs)

    def __repr__(self):
        return repr(self.spec)


def _parsed(items, spec):
    if not isinstance(items, tuple) or any(i != OUT and not isinstance(i, int) for i in items):
        raise ValueError(f"saves={spec!r}: name inputs by position (0, 1...) and the output as "
                         f"{OUT!r}, in a tuple, or per input a tuple of tuples")
    return frozenset(i for i in items if i != OUT), OUT in items


class StandIn:
    """What a VJP rule sees of a value the tape did not keep: its shape, dtype and device (enough
    to fit a cotangent, sum broadcast axes, cast, make zeros), and an error naming the value for
    anything else. ``Unsaved`` is one for a leaf or a constant; a ``Node`` is one for its own
    output (and for its consumers' input), so keeping nothing costs no object."""
    __slots__ = ()

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape)))

    @property
    def _xp(self):
        if self.kind.__module__.split(".")[0] == "cupy":
            import cupy
            return cupy
        return np

    @property
    def device(self):
        return "cpu" if self._xp is np else "cuda"

    def __getattr__(self, name):               # only for names the class does not have
        raise NotSavedError(f"a {self.dtype} value of shape {self.shape} (through {name})")


def _refuse(name):
    def refuse(self, *args):
        return self.__getattr__(name)
    return refuse


for _name in ("add", "sub", "mul", "truediv", "pow", "matmul"):       # operators with values
    for _side in ("__{}__", "__r{}__"):
        setattr(StandIn, _side.format(_name), _refuse(_side.format(_name)))
for _name in ("__neg__", "__getitem__", "__array__", "__float__", "__iter__"):
    setattr(StandIn, _name, _refuse(_name))


class Unsaved(StandIn):
    """The stand-in of a leaf or constant input whose values the VJP rules do not read."""
    __slots__ = ("shape", "dtype", "kind")

    def __init__(self, x):
        data = x._data
        self.shape = data.shape if type(x) is Tensor else x.shape
        self.dtype, self.kind = data.dtype, type(data)

    def __repr__(self):
        return f"<unsaved {self.dtype} {self.shape}>"


class NotSavedError(GradError):
    """A VJP rule read a value its primitive does not declare in ``saves``."""


class Node(StandIn):
    """One recorded application ``out = prim(*inputs, **params)`` (the module docstring); its
    number `index` comes from the clock (tensor.Clock), so nodes are numbered in the order they
    are made, in every thread; `shape`, `dtype` and `kind` (the array type) are its output's.
    `extra` holds what few nodes need (``Extra``: a retained gradient, a watched dual input)."""
    __slots__ = ("prim", "params", "index", "parents", "inputs", "out", "residual", "shape",
                 "dtype", "kind", "extra")

    def __init__(self, prim, args, params, out, residual=None):
        self.prim = prim
        self.params = params
        self.residual = residual
        self.index = next(_ticks)
        data = out._data
        self.dtype, self.kind = data.dtype, type(data)
        parents, nodes, runs, bit = [], 0, 0, 1    # where each input's cotangent goes
        for a in args:
            if not a._requires_grad:
                parents.append(None)
            else:
                runs |= bit                          # its rule will run
                if a._node is None:
                    parents.append(a)                # a leaf
                else:
                    parents.append(a._node)
                    nodes += 1
            bit <<= 1
        self.parents = parents = tuple(parents)
        if type(out) is Tensor:
            self.shape, self.extra = data.shape, None
        else:                                        # a tracer (its shape: one example's, the primal's)
            self.shape, self.extra = out.shape, Extra.watching(args, parents)
        keep, keep_out, any_kept = prim.saves.plan(runs, len(args))
        if keep is None:
            self.inputs = args
        elif not any_kept and nodes == len(args):
            self.inputs = parents                    # the nodes stand in for the inputs
        else:                                        # kept, a node standing in, or an Unsaved
            self.inputs = tuple([a if k else p if type(p) is Node else Unsaved(a)
                                 for a, p, k in zip(args, parents, keep)])
        self.out = None if not keep_out else data if type(out) is Tensor else out._relinked(None)

    def cotangents(self, g):
        """[(parent, its input's cotangent)] for the output cotangent `g`: each VJP rule run on
        the saved values (after checking they are unchanged), fitted to its input. The rules
        also get the residual (keyword ``residual``) when this backward pass is not recorded;
        a recorded one (create_graph) differentiates the rules' exact formulas instead."""
        params = self.params
        if self.residual is not None and not current().recording:
            params = {**params, "residual": self.residual}
        try:
            return self.prim.cotangents(g, self.output(), self.saved_inputs(), params,
                                        self.parents)
        except NotSavedError as e:
            raise NotSavedError(f"{self.prim.name}: a VJP rule read {e} that the primitive "
                                f"does not keep for it; declare it in saves= (now "
                                f"{self.prim.saves!r})") from None

    def saved_inputs(self):
        """The inputs as the rules get them: kept tensors (checked not to have been given new
        values since this node was recorded) and stand-ins."""
        if Clock.last_assigned > self.index:          # some tensor was, since: this one?
            for i, x in enumerate(self.inputs):
                if not isinstance(x, StandIn) and x._version > self.index:
                    raise GradError(
                        f"backward: node #{self.index} '{self.prim.name}' saved its input {i} "
                        f"(shape {x.shape}) for its VJP, and that tensor was given new values "
                        "after the forward pass (an optimizer step or load_state_dict between "
                        "the forward pass and backward()?); run the forward pass again")
        return self.inputs

    def output(self):
        """The output as the rules read it: a new tensor on this node, or this node itself
        standing in for it."""
        out = self.out
        if out is None:
            return self
        if isinstance(out, Tensor):
            return out._relinked(self)
        t = Tensor(out)
        t._node, t._requires_grad = self, True
        return t

    def free(self):
        """Let go of the saved values (backward without retain_graph). The parents stay, as in
        PyTorch, so that a second backward pass through this node can say what it was."""
        self.inputs = self.out = self.residual = None

    @property
    def watched(self):
        """An input is a constant dual number whose primal or tangent is on the tape."""
        return self.extra is not None and self.extra.watched

    def retain(self, t):
        """Fill tensor t's ``.grad`` with this node's cotangent (``Tensor.retain_grad``)."""
        self._extra().retains = weakref.ref(t)

    def retained(self):
        """The tensor that asked for this node's cotangent, None if none (or it is gone)."""
        extra = self.extra
        return None if extra is None or extra.retains is None else extra.retains()

    def _extra(self):
        if self.extra is None:
            self.extra = Extra()
        return self.extra

    def __repr__(self):
        return f"<node #{self.index} {self.prim.name}>"


class Extra:
    """What few nodes need: a retained gradient's tensor (a weak reference), whether a constant
    input is a tracer tracked below (tape._watched)."""
    __slots__ = ("retains", "watched")

    def __init__(self, watched=False):
        self.retains, self.watched = None, watched

    @staticmethod
    def watching(args, parents):
        """An Extra for a node on tracers with such a constant input, else None."""
        if any(p is None and a._level >= 0 and tracked_below(a) for a, p in zip(args, parents)):
            return Extra(watched=True)
        return None


def tracked_below(t):
    """A dual number whose primal or tangent, or a batch whose values, are on the tape (at any
    lower level)."""
    parts = t._parts() if t._level >= 0 else ()
    return any(p._requires_grad or tracked_below(p) for p in parts)
