"""Function transforms in JAX's style, built on the tape (reverse) and dual numbers (forward).

    grad(f)(x)            ∇f(x) for scalar f                      one backward pass
    jvp(f, (x,), (v,))    (f(x), J v)                             one forward pass with duals
    vjp(f, x)             (f(x), u ↦ Jᵀ u)                         one forward pass, a backward per u
    jacfwd(f)(x)          J, column by column (n JVPs)            cheap for few inputs
    jacrev(f)(x)          J, row by row (m VJPs)                  cheap for few outputs
    hessian(f)(x)         jacfwd(jacrev(f)): forward-over-reverse
    hvp(f, (x,), (v,))    (f(x), H v): one JVP of the gradient

Arguments and results are pytrees (tree.py): nested tuples, lists and dicts of tensors, as in JAX.
``grad(loss)(params)`` with ``params = {"w": W, "b": b}`` returns ``{"w": dL/dW, "b": dL/db}``;
``argnums`` (an int, or a tuple giving a tuple of results) picks the arguments to differentiate;
``has_aux=True`` lets f return ``(output, aux)`` and passes aux through undifferentiated. Leaves are
tensors (NumPy arrays and Python floats are converted). The jacobians (jacobians.py) nest as JAX's:
the output's structure outside, the input's inside, each block of shape out.shape + in.shape.

They nest: ``grad(grad(f))``, ``jacfwd(grad(f))``, ``grad(lambda x: jvp(f, (x,), (v,))[1])``.
"""
import numpy as np

from . import tape, tree
from .backend import FLOATS
from .batching import Batched
from .dual import Dual, dual_level, unpack
from .dual_constructor import dual
from .errors import DtypeError, GradError
from .ops import identity, lift
from .tensor import Tensor


def as_tensor(x, where, name):
    """A leaf as a Tensor: arrays and Python numbers are converted, anything else is an error.
    `name` says which leaf it is in an error message (a string, or a function giving one)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic, int, float)) or \
            hasattr(x, "__cuda_array_interface__"):
        return lift(x)
    raise TypeError(f"{where}: {_text(name)} is a {type(x).__name__}; functions passed to "
                    "transforms take and return trees (tuples, lists, dicts) of ad.Tensors (NumPy "
                    "arrays and Python floats are converted)")


def float_leaf(x, where, name):
    """A leaf to differentiate with respect to: a float tensor."""
    x = as_tensor(x, where, name)
    if x.dtype not in FLOATS:
        raise DtypeError(f"{where}: {_text(name)} has dtype {x.dtype} and shape {x.shape}; "
                         "differentiation needs float32 or float64 inputs")
    return x


def _text(name):
    return name() if callable(name) else name


def leaf_name(what, treedef, k):
    """A function naming leaf k of a tree (paths are only spelled out for an error message)."""
    return lambda: f"{what}{treedef.paths()[k]}"


def _fresh(x, where, name):
    """A new variable to differentiate with respect to. If `x` is already on an outer tape, the
    new variable is ``identity(x)``, so outer derivatives still flow through it; gradients taken
    with respect to it alone cannot be confused with gradients with respect to x."""
    x = float_leaf(x, where, name)
    if x._requires_grad and tape.recording():
        return identity(x)
    if isinstance(x, Dual):
        alias = Dual(x.primal, x.tangent, x._level)
    else:
        alias = Batched(x.value, x._level) if isinstance(x, Batched) else Tensor(x._data)
    alias._requires_grad = True
    return alias


def argnums_tuple(argnums, nargs, where):
    """`argnums` (an int or a tuple of ints) as a tuple of distinct non-negative positions."""
    nums = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    for i in nums:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"{where}: argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -nargs <= i < nargs:
            raise GradError(f"{where}: argnums {argnums} out of range for {nargs} arguments")
    nums = tuple(int(i) % nargs for i in nums)
    if len(set(nums)) != len(nums):
        raise GradError(f"{where}: argnums {argnums} names an argument twice")
    return nums


def variables(args, nums, where):
    """`args` with the trees at positions `nums` replaced by trees of fresh variables; returns
    (args, the variables in flat order, one tree structure per position)."""
    args = list(args)
    xs, defs = [], []
    for i in nums:
        leaves, treedef = tree.flatten(args[i])
        fresh = [_fresh(x, where, leaf_name(f"argument {i}", treedef, k))
                 for k, x in enumerate(leaves)]
        args[i] = treedef.unflatten(fresh)
        xs += fresh
        defs.append(treedef)
    return args, xs, defs


def per_argument(flat, defs, argnums):
    """Split flat results back into one tree per differentiated argument: that tree for an int
    `argnums`, a tuple of them for a tuple."""
    trees, start = [], 0
    for treedef in defs:
        trees.append(treedef.unflatten(flat[start:start + treedef.num_leaves]))
        start += treedef.num_leaves
    return trees[0] if isinstance(argnums, (int, np.integer)) else tuple(trees)


def split_aux(out, has_aux, where):
    """(output, aux): f's result, or with has_aux=True the pair f returned."""
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise GradError(f"{where}: with has_aux=True f must return a pair (output, aux), got "
                        f"{type(out).__name__}" + (f" of length {len(out)}"
                                                   if isinstance(out, (tuple, list)) else ""))
    return out[0], out[1]


def _result(out, xs):
    """A tree as the caller should see it: each tensor stays on the tape only if an outer
    transform differentiates through it."""
    def leaf(o):
        if not isinstance(o, Tensor):
            return o
        return o if tape.outer_tracked([o], xs) else o.detach()
    return tree.map(leaf, out)


def value_and_grad(f, argnums=0, has_aux=False):
    """``(f(*args), ∇f)``: the gradient with respect to argument(s) `argnums`, each a tree of the
    argument's structure (a tuple of them for a tuple `argnums`). f returns a single-element float
    tensor, or ``(that, aux)`` with has_aux=True; then the result is ``((value, aux), grads)``."""
    def wrapped(*args):
        nums = argnums_tuple(argnums, len(args), "grad")
        args, xs, defs = variables(args, nums, "grad")
        with tape.enable_grad():
            out, aux = split_aux(f(*args), has_aux, "grad")
        if not isinstance(out, Tensor) or out.size != 1 or out.dtype not in FLOATS:
            desc = (f"shape {out.shape} and dtype {out.dtype}" if isinstance(out, Tensor)
                    else type(out).__name__)
            raise GradError(f"grad: f must return a scalar float tensor, got {desc}; use "
                            "jacrev or vjp for other outputs")
        value, aux = _result(out, xs), _result(aux, xs)   # before grad_of, which may free the graph
        grads = per_argument(tape.grad_of([out], xs, [None]), defs, argnums)
        return ((value, aux) if has_aux else value), grads
    return wrapped


def grad(f, argnums=0, has_aux=False):
    """∇f: the gradient of scalar f with respect to argument(s) `argnums` (``(∇f, aux)`` with
    has_aux=True)."""
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args):
        value, grads = vg(*args)
        return (grads, value[1]) if has_aux else grads
    return wrapped


def vjp(f, *primals, has_aux=False):
    """``(f(*primals), vjp_fn)`` (and aux with has_aux=True): ``vjp_fn(u)`` takes a cotangent of
    the output's structure and returns ``uᵀ ∂f/∂primal_i``, one tree per primal, as a tuple."""
    args, xs, defs = variables(primals, range(len(primals)), "vjp")
    with tape.enable_grad():
        out, aux = split_aux(f(*args), has_aux, "vjp")
    leaves, out_def = tree.flatten(out)
    outs = [as_tensor(o, "vjp", "an output") for o in leaves]

    def vjp_fn(cotangent):
        cts = tree.flatten_as(out_def, cotangent, "vjp: the cotangent")
        cts = [lift(c, o) for c, o in zip(cts, outs)]
        return per_argument(tape.grad_of(outs, xs, cts, retain_graph=True), defs, ())
    value = _result(out, xs)
    return (value, vjp_fn, _result(aux, xs)) if has_aux else (value, vjp_fn)


def arguments(primals):
    """jvp's primals or tangents: a tuple or list of argument trees (one tree alone is one)."""
    return tuple(primals) if isinstance(primals, (tuple, list)) else (primals,)


def jvp(f, primals, tangents, has_aux=False):
    """``(f(*primals), J·tangents)`` (and aux with has_aux=True): one forward pass with dual numbers
    at a fresh level. `tangents` has the structure and shapes of `primals`; the output tangent
    has the output's structure."""
    primals, tangents = arguments(primals), arguments(tangents)
    leaves, treedef = tree.flatten(primals)
    try:
        directions = tree.flatten_as(treedef, tangents, "jvp")
    except ValueError as e:
        raise GradError(f"{e} (tangents must match the primals)") from None
    with dual_level() as level:
        duals = [dual(float_leaf(p, "jvp", leaf_name("primal ", treedef, k)), t)
                 for k, (p, t) in enumerate(zip(leaves, directions))]
        out, aux = split_aux(f(*treedef.unflatten(duals)), has_aux, "jvp")
        out_leaves, out_def = tree.flatten(out)
        pairs = [unpack(as_tensor(o, "jvp", "an output"), level) for o in out_leaves]
        aux = tree.map(lambda a: unpack(a, level)[0] if isinstance(a, Tensor) else a, aux)
    value = out_def.unflatten([p for p, _ in pairs])
    tangent = out_def.unflatten([t for _, t in pairs])
    return (value, tangent, aux) if has_aux else (value, tangent)


def hvp(f, primals, tangents):
    """``(f(x), H v)``: the JVP of the gradient, without forming H (a tuple for several x; each
    a tree of its x's structure)."""
    primals = arguments(primals)
    argnums = tuple(range(len(primals)))
    (value, _), (_, hv) = jvp(value_and_grad(f, argnums), primals, tangents)
    return value, (hv[0] if len(primals) == 1 else hv)
