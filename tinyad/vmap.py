"""``ad.vmap(f, in_axes=0, out_axes=0, axis_size=None)``: f mapped over an axis, as JAX's vmap.

    vmap(f)(xs)                         f(xs[0]), f(xs[1]), ... stacked along axis 0
    vmap(f, in_axes=(None, 0))(w, xs)   w shared by every example, xs mapped over axis 0
    vmap(f, in_axes=1, out_axes=-1)     mapped over axis 1 of every argument, results on the last
    vmap(grad(loss), in_axes=(None, 0, 0))(params, xs, ys)     per-example gradients

f runs once, on ``Batched`` tensors (batching.py) that stand for one example each and hold the
whole batch: every primitive runs its batching rule, one application for all examples, so vmap is
as fast as the batched operations, not as slow as a Python loop. It nests (each vmap opens its own
level) and composes with every transform in either order: ``vmap(grad(f))``, ``grad(vmap(f))``,
``jvp(vmap(f))``, ``vmap(jvp(f))``, ``vmap(hessian(f))``, ...

``in_axes`` is an int or None for every argument, or a tuple with one entry per argument, each an
int, None (not mapped: shared by every example), or a tree matching that argument's structure down
to some depth (JAX's tree prefixes: ``({"w": None, "b": 0},)``). ``out_axes`` likewise for the
output. ``axis_size`` gives the batch size when no argument is mapped. Inside f, values are one
example's: their shapes lack the mapped axis, and reading values (``.numpy()``, ``bool(x)``)
raises, since the example is not one but all of them.
"""
import functools
import numbers

from . import tree
from .batching import Batched, batch_level
from .errors import BatchingError
from .ops import broadcast_to, expand_dims, transpose
from .transforms import as_tensor


def vmap(f, in_axes=0, out_axes=0, axis_size=None):
    """f mapped over axis `in_axes` of its arguments, results stacked along `out_axes` (see the
    module docstring)."""
    @functools.wraps(f)
    def mapped(*args):
        leaves, treedef = tree.flatten(args)
        axes = _axes(in_axes, args, "in_axes", per_argument=True)
        leaves = [as_tensor(x, "vmap", "an argument") if a is not None else x
                  for x, a in zip(leaves, axes)]
        size = _size(leaves, axes, treedef, axis_size)
        with batch_level() as level:
            ins = [x if a is None else Batched(_to_front(x, a), level)
                   for x, a in zip(leaves, axes)]
            out = f(*treedef.unflatten(ins))
            outs, out_def = tree.flatten(out)
            ends = _axes(out_axes, out, "out_axes")
            return out_def.unflatten([_unbatched(o, level, size, a) for o, a in zip(outs, ends)])
    return mapped


def _axes(spec, args, name, per_argument=False):
    """One axis (an int or None) per leaf of `args`, from an int, None, or a tree prefix."""
    if per_argument and isinstance(spec, list):
        spec = tuple(spec)
    if per_argument and isinstance(spec, tuple) and len(spec) != len(args):
        raise BatchingError(f"vmap: {name} has {len(spec)} entries for {len(args)} arguments; "
                            "give one per argument (or one int or None for all)")
    try:
        axes = tree.broadcast_prefix(spec, args, _is_axis, f"vmap: {name}")
    except ValueError as e:
        raise BatchingError(str(e)) from None
    for a in axes:
        if isinstance(a, bool) or not (a is None or isinstance(a, numbers.Integral)):
            raise BatchingError(f"vmap: {name} entries must be ints or None, got {a!r}")
    return axes


def _is_axis(node):
    """An entry of in_axes or out_axes: anything but a container (checked to be an int later)."""
    return not isinstance(node, (tuple, list, dict))


def _size(leaves, axes, treedef, axis_size):
    """The batch size: the mapped axes' common length (or `axis_size` when none is mapped)."""
    paths = treedef.paths()
    sizes = {}
    for x, a, path in zip(leaves, axes, paths):
        if a is not None:
            if not -x.ndim <= a < x.ndim:
                raise BatchingError(f"vmap: in_axes {a} is out of range for argument{path} of "
                                    f"shape {x.shape}")
            sizes[f"argument{path}"] = x.shape[a]
    found = set(sizes.values()) | ({axis_size} if axis_size is not None else set())
    if len(found) > 1:
        listed = ", ".join(f"{k} has {n}" for k, n in sizes.items())
        given = f"; axis_size={axis_size}" if axis_size is not None else ""
        raise BatchingError(f"vmap: the mapped axes must have one length: {listed}{given}")
    if not found:
        raise BatchingError("vmap: no argument is mapped (in_axes is None for all); pass "
                            "axis_size= to say how many examples there are")
    return found.pop()


def _to_front(x, axis):
    """The mapped axis of an argument moved to the front, where a batch holds it."""
    axis %= x.ndim
    return transpose(x, axis, *(a for a in range(x.ndim) if a != axis)) if axis else x


def _unbatched(o, level, size, axis):
    """An output of the mapped function as a whole batch, its batch axis at `axis`; one that
    does not depend on the batch is the same for every example (broadcast), or, for axis None,
    returned as it is."""
    o = as_tensor(o, "vmap", "an output")
    batched = isinstance(o, Batched) and o._level == level
    if axis is None:
        if batched:
            raise BatchingError(f"vmap: out_axes is None for an output that varies across the "
                                f"batch (shape {o.shape} per example); map it (out_axes=0)")
        return o
    v = o.value if batched else broadcast_to(expand_dims(o, 0), (size,) + o.shape)
    if not -v.ndim <= axis < v.ndim:
        raise BatchingError(f"vmap: out_axes {axis} is out of range for an output of shape "
                            f"{o.shape} per example")
    axis %= v.ndim
    return transpose(v, *range(1, axis + 1), 0, *range(axis + 1, v.ndim)) if axis else v
