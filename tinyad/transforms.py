"""Function transforms in JAX's style, built on the tape (reverse) and dual numbers (forward).

    grad(f)(x)            ∇f(x) for scalar f                      one backward pass
    jvp(f, (x,), (v,))    (f(x), J v)                             one forward pass with duals
    vjp(f, x)             (f(x), u ↦ Jᵀ u)                         one forward pass, a backward per u
    jacfwd(f)(x)          J, column by column (n JVPs)            cheap for few inputs
    jacrev(f)(x)          J, row by row (m VJPs)                  cheap for few outputs
    hessian(f)(x)         jacfwd(jacrev(f)): forward-over-reverse
    hvp(f, (x,), (v,))    (f(x), H v): one JVP of the gradient

They nest: ``grad(grad(f))``, ``jacfwd(grad(f))``, ``grad(lambda x: jvp(f, (x,), (v,))[1])``.
"""
from . import tape
from .backend import FLOATS
from .dual import dual_level, Dual, unpack
from .dual_constructor import dual
from .errors import DtypeError, GradError
from .ops import identity, lift, reshape, stack
from .tensor import Tensor


def _fresh(x, name, where):
    """A new variable to differentiate with respect to. If `x` is already on an outer tape, the
    new variable is ``identity(x)``, so outer derivatives still flow through it; gradients taken
    with respect to it alone cannot be confused with gradients with respect to x."""
    x = lift(x)
    if x.dtype not in FLOATS:
        raise DtypeError(f"{where}: argument {name} has dtype {x.dtype} and shape {x.shape}; "
                         "differentiation needs float32 or float64 inputs")
    if x._requires_grad and tape.recording():
        return identity(x)
    alias = Dual(x.primal, x.tangent, x._level) if isinstance(x, Dual) else Tensor(x._data)
    alias._requires_grad = True
    return alias


def _argnums(argnums, nargs, where):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise GradError(f"{where}: argnums {argnums} out of range for {nargs} arguments")
    return tuple(i % nargs for i in nums)


def _trace(f, args, argnums, where):
    """Run f with fresh variables at `argnums`; returns (output, variables)."""
    args = list(args)
    nums = _argnums(argnums, len(args), where)
    xs = [_fresh(args[i], i, where) for i in nums]
    for i, x in zip(nums, xs):
        args[i] = x
    with tape.enable_grad():
        out = f(*args)
    return out, xs


def _result(out, xs):
    """The output as the caller should see it: still on the tape only if an outer transform
    differentiates through it."""
    if isinstance(out, (tuple, list)):
        return type(out)(_result(o, xs) for o in out)
    return out if tape.outer_tracked([out], xs) else out.detach()


def value_and_grad(f, argnums=0):
    """``(f(*args), ∇f)``: the gradient with respect to argument(s) `argnums` (an int gives one
    gradient, a tuple gives a tuple). f must return a single-element float tensor."""
    def wrapped(*args):
        out, xs = _trace(f, args, argnums, "grad")
        if not isinstance(out, Tensor) or out.size != 1 or out.dtype not in FLOATS:
            desc = (f"shape {out.shape} and dtype {out.dtype}" if isinstance(out, Tensor)
                    else type(out).__name__)
            raise GradError(f"grad: f must return a scalar float tensor, got {desc}; use "
                            "jacrev or vjp for other outputs")
        value = _result(out, xs)           # before grad_of, which may free the graph
        grads = tape.grad_of([out], xs, [None])
        return value, (grads[0] if isinstance(argnums, int) else grads)
    return wrapped


def grad(f, argnums=0):
    """∇f: the gradient of scalar f with respect to argument(s) `argnums`."""
    vg = value_and_grad(f, argnums)
    return lambda *args: vg(*args)[1]


def vjp(f, *primals):
    """``(f(*primals), vjp_fn)`` with ``vjp_fn(u) = (uᵀ ∂f/∂primal_i for each i)``."""
    out, xs = _trace(f, primals, tuple(range(len(primals))), "vjp")
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)

    def vjp_fn(cotangent):
        cts = tuple(cotangent) if isinstance(out, (tuple, list)) else (cotangent,)
        return tape.grad_of(outs, xs, [lift(c, o) for c, o in zip(cts, outs)], retain_graph=True)
    return _result(out, xs), vjp_fn


def jvp(f, primals, tangents):
    """``(f(*primals), J·tangents)``: one forward pass with dual numbers at a fresh level."""
    primals = tuple(primals) if isinstance(primals, (tuple, list)) else (primals,)
    tangents = tuple(tangents) if isinstance(tangents, (tuple, list)) else (tangents,)
    if len(primals) != len(tangents):
        raise GradError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    with dual_level() as level:
        out = f(*(dual(p, t) for p, t in zip(primals, tangents)))
        return _unzip(out, level)


def _unzip(out, level):
    if isinstance(out, (tuple, list)):
        pairs = [_unzip(o, level) for o in out]
        return type(out)(p for p, _ in pairs), type(out)(t for _, t in pairs)
    return unpack(out, level)


def _one_arg(f, args, i):
    """f as a function of argument i alone."""
    def g(x):
        return f(*args[:i], x, *args[i + 1:])
    return g


def _basis(x):
    """The unit vectors e_0, e_1, ... of x's shape, as constant tensors."""
    eye = x._xp.eye(x.size, dtype=x.dtype)
    return [Tensor(eye[k].reshape(x.shape)) for k in range(x.size)]


def _jacobian(column_or_row):
    def make(f, argnums=0):
        def jac(*args):
            nums = _argnums(argnums, len(args), "jacobian")
            js = tuple(column_or_row(_one_arg(f, args, i), lift(args[i])) for i in nums)
            return js[0] if isinstance(argnums, int) else js
        return jac
    return make


def _jacfwd_one(g, x):
    """J[..., :] = stack of J e_k over the input basis, reshaped to out.shape + x.shape."""
    cols = [jvp(g, (x,), (e,))[1] for e in _basis(x)]
    out_shape = cols[0].shape
    return reshape(stack(cols, axis=-1), *out_shape, *x.shape)


def _jacrev_one(g, x):
    """J = stack of eᵀ J over the output basis, reshaped to out.shape + x.shape."""
    out, pullback = vjp(g, x)
    rows = [pullback(e)[0] for e in _basis(out)]
    return reshape(stack(rows, axis=0), *out.shape, *x.shape)


jacfwd = _jacobian(_jacfwd_one)
jacrev = _jacobian(_jacrev_one)
jacfwd.__doc__ = "The Jacobian by forward mode, one JVP per input element (shape out + in)."
jacrev.__doc__ = "The Jacobian by reverse mode, one VJP per output element (shape out + in)."


def hessian(f, argnums=0):
    """∂²f/∂x²: forward mode over reverse mode, ``jacfwd(jacrev(f))``."""
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f, primals, tangents):
    """``(f(x), H v)``: the JVP of the gradient, without forming H (a tuple for several x)."""
    primals = tuple(primals) if isinstance(primals, (tuple, list)) else (primals,)
    argnums = tuple(range(len(primals)))
    (value, _), (_, hv) = jvp(value_and_grad(f, argnums), primals, tangents)
    return value, (hv[0] if len(primals) == 1 else hv)
