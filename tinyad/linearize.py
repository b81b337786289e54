"""``linearize`` and ``linear_transpose``: reverse mode as forward mode, transposed.

A JVP computes f(x) and J v together. ``linearize(f, x)`` separates them: it runs one JVP and
writes down, as the interpreter applies them (an observer, modes.py), the operations whose inputs
depend on the tangent input: exactly the tangent computation, the linear map v ↦ J v, with every
primal value it needs baked in as a constant. That recording is a program (a Wengert list);
``f_jvp(v)`` runs it again on a new v without running f:

    y, f_jvp = linearize(f, x)          # one pass of f, the linear part recorded
    f_jvp(v) == jvp(f, (x,), (v,))[1]   # replays only the recorded tangent operations

Transposing that linear program gives Jᵀ: ``linear_transpose(f_jvp, x)(u) == vjp(f, x)[1](u)``.
This is how JAX derives reverse mode from forward mode (linearize, then transpose); here the
transpose is the tape's backward pass over the replayed program.
"""
from . import modes, tape, tree
from .dual import dual_level, unpack
from .dual_constructor import dual
from .errors import GradError
from .interpreter import apply
from .tensor import zeros_like
from .transforms import arguments, as_tensor, float_leaf, leaf_name, vjp


def linearize(f, *primals):
    """``(f(*primals), f_jvp)`` with ``f_jvp(*tangents) = J·tangents`` (JAX's linearize): the
    tangents have the primals' structure, the result the output's."""
    leaves, treedef = tree.flatten(primals)
    xs = [float_leaf(p, "linearize", leaf_name("primal ", treedef, k))
          for k, p in enumerate(leaves)]
    # tracked starts: every tangent operation runs through apply, none in a fused kernel
    starts = [zeros_like(x).requires_grad_() for x in xs]
    program, depends = [], {id(s) for s in starts}

    def observe(prim, args, params, out):      # one tangent operation: part of the program
        if any(id(a) in depends for a in args):
            depends.add(id(out))
            program.append((prim, args, params, out))
    with dual_level() as level, tape.enable_grad(), modes.entered("observers", observe):
        out = f(*treedef.unflatten([dual(x, t) for x, t in zip(xs, starts)]))
        out_leaves, out_def = tree.flatten(out)
        pairs = [unpack(as_tensor(o, "linearize", "an output"), level) for o in out_leaves]
    values = [p for p, _ in pairs]          # on the tape only if an outer transform tracks x

    def f_jvp(*tangents):
        try:
            new = tree.flatten_as(treedef, arguments(tangents), "linearize: f_jvp")
        except ValueError as e:
            raise GradError(f"{e} (tangents must match the primals)") from None
        new = [_checked(t, x) for t, x in zip(new, xs)]
        return out_def.unflatten(_replay(program, starts, new, [t for _, t in pairs]))
    return out_def.unflatten(values), f_jvp


def _checked(t, x):
    t = as_tensor(t, "linearize", "a tangent")
    if t.shape != x.shape:
        raise GradError(f"linearize: f_jvp got a tangent of shape {t.shape} for a primal of shape "
                        f"{x.shape}")
    return t if t.dtype == x.dtype else t.astype(x.dtype)


def _replay(program, starts, new, outputs):
    """Run the recorded operations again with `new` in place of `starts`; the values of
    `outputs` (those that do not depend on a start stay as recorded: zero tangents)."""
    value = {id(s): n for s, n in zip(starts, new)}
    for prim, args, params, out in program:
        value[id(out)] = apply(prim, *(value.get(id(a), a) for a in args), **params)
    return [value.get(id(o), o) for o in outputs]


def linear_transpose(f, *primals):
    """The transpose of linear f: ``f_t(u) = (Jᵀ u for each primal)``, a tuple of trees shaped like
    `primals` (whose values are not used: a linear map's transpose is the same everywhere), as
    JAX's linear_transpose. It is reverse mode over f at zero."""
    _, pullback = vjp(f, *tree.map(_zeros, primals))
    return pullback


def _zeros(p):
    return zeros_like(as_tensor(p, "linear_transpose", "a primal"))
