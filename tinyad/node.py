"""What the tape keeps of one primitive application: a ``Node``.

A node serves the backward pass twice over: as a vertex of the graph it walks, and as the memory
of the values its VJP rules will read. For memory, it keeps no more than that:

    parents    per input, where the input's cotangent goes: the Node that computed the input,
               the leaf tensor itself (a parameter: its ``.grad`` collects it), or None (a
               constant, or an input that needs no gradient)
    inputs     per input, the tensor if some VJP rule to be run reads it, else an ``Unsaved``
               stand-in: its shape, dtype and device, all that fitting a cotangent needs
    out        the output's array if a rule reads it (rebuilt into a tensor on this node when
               the rule runs: a node never holds the tensor that points back at it), else an
               ``Unsaved`` stand-in
    residual   what the forward pass computed on the side for the VJP (a fused kernel's
               derivative, softmax cross-entropy's gradient), or None

So ``relu(h @ w + b)`` keeps one array per layer: matmul keeps h and w (each one's rule reads
the other), add keeps nothing (its rule is ``g``), and relu keeps its output (its mask), which is
the next matmul's h. Everything else is freed as soon as the forward pass moves on, as in
PyTorch's ``save_for_backward``.

What a rule reads is declared by its primitive (``saves=``, parsed by ``Saves``): a rule that
reads something it did not declare meets an ``Unsaved`` and raises, naming the primitive. The
values a node saved must not change before the backward pass: each saved tensor's ``_version``
is remembered and checked when the rules run (``Tensor._assign`` raises it: an optimizer step
between the forward and the backward pass is an error, as in PyTorch).
"""
import itertools

import numpy as np

from .errors import GradError
from .modes import current
from .tensor import Tensor

_counter = itertools.count()   # Wengert numbers: one count for all threads, so they only grow

OUT = "out"     # in a declaration: the rule reads the primitive's output
ALL = "all"     # the default declaration: every input and the output


class Saves:
    """A primitive's declaration of what its VJP rules read, parsed once:

        ALL                    every input and the output (the safe default)
        (0, OUT)               every rule reads input 0 and the output; () reads nothing
        ((1,), (0,))           per input's rule: input 0's reads input 1, input 1's input 0 (a
                               bilinear map: mul, matmul), so ``h * 0.5`` keeps 0.5, not h
    """
    __slots__ = ("spec", "inputs", "out", "per_rule")

    def __init__(self, spec=ALL):
        self.spec, self.per_rule = spec, None
        if spec == ALL:
            self.inputs, self.out = None, True              # None: every input
        elif spec and all(isinstance(s, tuple) for s in spec):
            self.per_rule = tuple(_parsed(s, spec) for s in spec)
            self.inputs, self.out = None, True
        else:
            self.inputs, self.out = _parsed(spec, spec)

    def plan(self, parents):
        """(the input positions to keep, None for all; whether to keep the output), given the
        inputs' `parents` (None where no rule will run)."""
        if self.per_rule is None:
            return self.inputs, self.out
        keep, out = set(), False
        for parent, (inputs, reads_out) in zip(parents, self.per_rule):
            if parent is not None:
                keep |= inputs
                out = out or reads_out
        return keep, out

    def __repr__(self):
        return repr(self.spec)


def _parsed(items, spec):
    if not isinstance(items, tuple) or any(i != OUT and not isinstance(i, int) for i in items):
        raise ValueError(f"saves={spec!r}: name inputs by position (0, 1...) and the output as "
                         f"{OUT!r}, in a tuple, or per input a tuple of tuples")
    return frozenset(i for i in items if i != OUT), OUT in items


class Unsaved:
    """A value no VJP rule reads: its shape, dtype and device, enough to fit a cotangent (sum
    the broadcast axes, cast) and to make zeros of its shape. Its values were not kept."""
    __slots__ = ("shape", "dtype", "_array_type")
    _level = -1
    _requires_grad = False
    _node = None
    _version = None

    def __init__(self, x):
        self.shape, self.dtype, self._array_type = x.shape, x.dtype, type(x._data)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape)))

    @property
    def _xp(self):
        if self._array_type.__module__.split(".")[0] == "cupy":
            import cupy
            return cupy
        return np

    @property
    def device(self):
        return "cpu" if self._xp is np else "cuda"

    def __getattr__(self, name):
        raise NotSavedError(f"a {self.dtype} value of shape {self.shape} (through {name})")

    def __repr__(self):
        return f"<unsaved {self.dtype} {self.shape}>"


def _refuse(name):
    def refuse(self, *args):
        return self.__getattr__(name)
    return refuse


for _name in ("add", "sub", "mul", "truediv", "pow", "matmul"):       # operators with values
    for _side in ("__{}__", "__r{}__"):
        setattr(Unsaved, _side.format(_name), _refuse(_side.format(_name)))
for _name in ("__neg__", "__getitem__", "__array__", "__float__", "__bool__", "__iter__"):
    setattr(Unsaved, _name, _refuse(_name))


class NotSavedError(GradError):
    """A VJP rule read a value its primitive does not declare in ``saves``."""


class Node:
    """One recorded application ``out = prim(*inputs, **params)``: the module docstring."""
    __slots__ = ("prim", "params", "index", "parents", "inputs", "versions", "out", "residual",
                 "watched", "retains", "shapes")

    def __init__(self, prim, args, params, out, residual=None):
        self.prim, self.params, self.residual = prim, params, residual
        self.index = next(_counter)
        self.parents = parents = tuple([(a._node or a) if a._requires_grad else None
                                        for a in args])
        keep, keep_out = prim.saves.plan(parents)
        if keep is None:
            self.inputs = args
        else:
            self.inputs = tuple([a if k in keep else Unsaved(a) for k, a in enumerate(args)])
        self.versions = tuple([a._version for a in self.inputs])
        if not keep_out:
            self.out = Unsaved(out)
        else:
            self.out = out._data if type(out) is Tensor else out._relinked(None)
        self.watched = any(p is None and a._level >= 0 and tracked_below(a)
                           for a, p in zip(args, parents))
        self.retains = self.shapes = None

    def cotangents(self, g):
        """[(parent, its input's cotangent)] for the output cotangent `g`: each VJP rule run on
        the saved values (after checking they are unchanged), fitted to its input. The rules
        also get the residual (keyword ``residual``) when this backward pass is not recorded;
        a recorded one (create_graph) differentiates the rules' exact formulas instead."""
        args, out = self.saved_inputs(), self.output()
        params = self.params
        if self.residual is not None and not current().recording:
            params = {**params, "residual": self.residual}
        cotangent = self.prim.cotangent
        try:
            return [(p, cotangent(i, g, out, args, params))
                    for i, p in enumerate(self.parents) if p is not None]
        except NotSavedError as e:
            raise NotSavedError(f"{self.prim.name}: a VJP rule read {e} that the primitive "
                                f"does not keep for it; declare it in saves= (now "
                                f"{self.prim.saves!r})") from None

    def saved_inputs(self):
        for i, (x, version) in enumerate(zip(self.inputs, self.versions)):
            if x._version != version:
                raise GradError(
                    f"backward: node #{self.index} '{self.prim.name}' saved its input {i} (shape "
                    f"{x.shape}) for its VJP, and that tensor was given new values after the "
                    "forward pass (an optimizer step or load_state_dict between the forward pass "
                    "and backward()?); run the forward pass again")
        return self.inputs

    def output(self):
        """The output as the rules read it: a new tensor on this node, or the stand-in."""
        out = self.out
        if type(out) is Unsaved:
            return out
        if isinstance(out, Tensor):
            return out._relinked(self)
        t = Tensor(out)
        t._node, t._requires_grad = self, True
        return t

    def free(self):
        """Let go of the saved values and the parents (backward without retain_graph); the
        shapes stay, for the error a second walk through this node raises."""
        if self.parents is not None:
            self.shapes = ([x.shape for x in self.inputs], tuple(self.out.shape))
        self.parents = self.inputs = self.versions = self.out = self.residual = None

    def __repr__(self):
        return f"<node #{self.index} {self.prim.name}>"


def tracked_below(t):
    """A dual number whose primal or tangent (at any lower level) is on the tape."""
    parts = (t.primal, t.tangent) if t._level >= 0 else ()
    return any(p._requires_grad or tracked_below(p) for p in parts)
