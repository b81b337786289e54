"""gradcheck: both modes against central differences, against each other, and to second order.

For f: R^n -> R^m (in float64), with e_k the k-th unit vector:

    numeric column k of J  =  (f(x + h e_k) - f(x - h e_k)) / 2h        error O(h²)
    jacrev(f)(x) == numeric == jacfwd(f)(x)                             reverse, forward
    <u, J v> (one JVP) == <Jᵀ u, v> (one VJP)                           the dot-product test

``order=2`` repeats the check on x ↦ Jᵀ u (the VJP, differentiated by reverse and forward mode)
and on x ↦ J v (the JVP, likewise): every pairing of the two modes to second order.

Inputs and outputs may be pytrees (tuples, lists, dicts of tensors): the check runs on the leaves,
each input leaf named by its path (``input 0['w']``), the output leaves flattened and joined.

Everything runs on the inputs' device: on a GPU the differences, both modes and the comparison
are computed there (only a failure's message reads values back).
"""
import numpy as np

from . import backend, tape, tree
from .ops import concatenate, lift, reshape
from .tensor import Tensor
from .jacobians import jacfwd, jacrev
from .transforms import jvp, vjp


MODES = {"reverse": jacrev, "forward": jacfwd}


def gradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, order=1, seed=0,
              modes=("forward", "reverse")):
    """True if f's derivatives pass; else AssertionError naming the input, index and values.
    Float inputs are checked (in float64, on their device); other inputs (labels, indices) are passed through.
    ``modes=("reverse",)`` checks reverse mode alone (a custom_vjp function has no forward mode;
    JAX's ``check_grads`` has the same switch); the dot-product test needs both."""
    unknown = set(modes) - set(MODES)
    if unknown or not modes:
        raise ValueError(f"gradcheck: modes must be among {tuple(MODES)}, got {modes!r}")
    leaves, treedef = tree.flatten(inputs)
    f = _on_leaves(f, treedef)
    names = [f"input {i}{path}" for i, d in enumerate(treedef.children) for path in d.paths()]
    args = [_float64(x) for x in leaves]
    wrt = tuple(i for i, x in enumerate(args) if isinstance(x, Tensor) and x.dtype.kind == "f")
    if not wrt:
        raise ValueError("gradcheck: no float input to check")
    rng = np.random.default_rng(seed)
    for i in wrt:
        numeric = _numeric_jacobian(f, args, i, eps)
        for mode in (m for m in MODES if m in modes):
            analytic = _matrix(MODES[mode](f, argnums=i)(*args), numeric.shape)
            _compare(analytic, numeric, f"{mode}-mode d out / d {names[i]}", args[i].shape,
                     atol, rtol)
    if len(set(modes)) == 2:
        _dot_product_test(f, args, wrt, rng, atol, rtol)
    if order >= 2:
        u, vs = _random_directions(f, args, wrt, rng)
        again = dict(eps=eps, atol=atol, rtol=rtol, order=order - 1, seed=seed + 1, modes=modes)
        if "reverse" in modes:
            gradcheck(_vjp_as_function(f, args, wrt, u), *args, **again)
        if "forward" in modes:
            gradcheck(_jvp_as_function(f, args, wrt, vs), *args, **again)
    return True


def _on_leaves(f, treedef):
    """f as a function of its inputs' leaves, returning one tensor: its output if that is one,
    else the output's leaves flattened and joined."""
    def flat(*leaves):
        outs = tree.leaves(f(*treedef.unflatten(leaves)))
        return outs[0] if len(outs) == 1 else concatenate([reshape(lift(o), -1) for o in outs])
    return flat


def _float64(x):
    """A float input as a float64 leaf on its device; anything else (labels...) as it is."""
    if isinstance(x, (Tensor, np.ndarray, float)) or backend.device_of(x) == "cuda":
        t = lift(x)
        if t.dtype.kind == "f":
            return Tensor(t.data.astype(np.float64))
    return x


def _call(f, args):
    with tape.no_grad():
        return f(*args).data.astype(np.float64)


def _numeric_jacobian(f, args, i, eps):
    """(m, n) central differences of f's outputs by input i's elements."""
    x = args[i].data
    xp = backend.xp_of(x)
    cols = []
    for k in range(x.size):
        step = xp.zeros(x.size)
        step[k] = eps
        step = step.reshape(x.shape)
        plus = _call(f, args[:i] + [Tensor(x + step)] + args[i + 1:])
        minus = _call(f, args[:i] + [Tensor(x - step)] + args[i + 1:])
        cols.append(((plus - minus) / (2 * eps)).ravel())
    return xp.stack(cols, axis=1)


def _matrix(jac, shape):
    return jac.data.reshape(shape)


def _compare(analytic, numeric, what, in_shape, atol, rtol):
    xp = backend.xp_of(numeric)
    if bool((xp.abs(analytic - numeric) > atol + rtol * xp.abs(numeric)).any()):
        analytic, numeric = (backend.to_device(a, "cpu") for a in (analytic, numeric))
        bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
        o, k = np.argwhere(bad)[0]
        index = np.unravel_index(k, in_shape) if in_shape else ()
        raise AssertionError(f"gradcheck: {what}: output element {o}, input index "
                             f"{tuple(int(j) for j in index)}: analytic {analytic[o, k]:.8g}, "
                             f"numeric {numeric[o, k]:.8g} ({int(bad.sum())} of {bad.size} "
                             "entries differ)")


def _random_directions(f, args, wrt, rng):
    device = args[wrt[0]].device
    u = Tensor(backend.asarray(rng.standard_normal(_call(f, args).shape), device))
    vs = [Tensor(backend.asarray(rng.standard_normal(args[i].shape), device)) for i in wrt]
    return u, vs


def _dot_product_test(f, args, wrt, rng, atol, rtol):
    """<u, J v> from one forward pass equals <Jᵀ u, v> from one backward pass."""
    u, vs = _random_directions(f, args, wrt, rng)
    _, jv = jvp(_restrict(f, args, wrt), [args[i] for i in wrt], vs)
    _, pullback = vjp(_restrict(f, args, wrt), *[args[i] for i in wrt])
    jtu = pullback(u)
    left = float((u.data * jv.data).sum())
    right = float(sum((g.data * v.data).sum() for g, v in zip(jtu, vs)))
    if abs(left - right) > atol + rtol * abs(right):
        raise AssertionError(f"gradcheck: dot-product test <u, J v> = {left:.10g} but "
                             f"<J^T u, v> = {right:.10g} (inputs {list(wrt)})")


def _restrict(f, args, wrt):
    """f as a function of the inputs at `wrt` only."""
    def g(*xs):
        full = list(args)
        for i, x in zip(wrt, xs):
            full[i] = x
        return f(*full)
    return g


def _vjp_as_function(f, args, wrt, u):
    """x ↦ Jᵀ u, flattened: its derivatives are second derivatives of f."""
    def g(*full):
        _, pullback = vjp(_restrict(f, full, wrt), *[full[i] for i in wrt])
        return concatenate([reshape(c, -1) for c in pullback(u)])
    return g


def _jvp_as_function(f, args, wrt, vs):
    """x ↦ J v: differentiating it is forward-over-forward and reverse-over-forward."""
    def g(*full):
        return jvp(_restrict(f, full, wrt), [full[i] for i in wrt], vs)[1]
    return g
