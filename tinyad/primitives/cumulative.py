"""Cumulative operations along one axis: cumsum, cumprod, logcumsumexp. Along the axis, for
positions i and k:

    cumsum        out_i = Σ_{k≤i} x_k          linear: its own JVP; VJP g ↦ Σ_{i≥k} g_i (reversed)
    cumprod       out_i = Π_{k≤i} x_k          ∂out_i/∂x_k = Π_{j≤i, j≠k} x_j  (k ≤ i)
    logcumsumexp  out_i = log Σ_{k≤i} e^x_k    ∂out_i/∂x_k = e^(x_k - out_i)   (k ≤ i)

cumprod's derivative is out_i / x_k where x has no zero. Where it has, the first zero of each
line (position z) is set aside: positions before it keep out_i / x_k; the others are the
derivative of cumprod of x with x_z replaced by 1 (``rest``), times x_z for k > z. That
recursion ends when no zero is left, costs O(n) per zero, and is written in tinyad ops like
every rule, so it is exact to every order, at zeros too (prod, which is cumprod's last entry,
inherits it). Inside vmap a line's zeros cannot be read example by example, so a batch with a
zero anywhere takes the (n, n) matrix of the derivatives instead: row k is cumprod of x with
x_k set to 1, kept where i ≥ k (O(n²), exact at zeros).

logcumsumexp's weights e^(x_k - out_i) lie in [0, 1]. Its rules factor them through c = out_0
(e^(x_k - c) · e^(c - out_i), one cumulative sum: O(n)) when out climbs less than ``SPREAD``
along the axis, so neither factor overflows; otherwise they build the (n, n) matrix of weights.
"""
import numpy as np

from .. import ops
from ..batching import map_arrays
from ..interpreter import LINEAR, Primitive
from .batching import along_axis
from .rules import array_module

SPREAD = {np.dtype(np.float32): 60.0, np.dtype(np.float64): 600.0}


def scan(ufunc_name, a, axis):
    """The inclusive scan of a binary ufunc (``"logaddexp"``, ``"maximum"``...) along `axis`:
    NumPy's ``accumulate``; elsewhere (CuPy) log2(n) doubling steps of the same ufunc."""
    xp = array_module(a)
    op = getattr(xp, ufunc_name)
    if xp is np:
        return op.accumulate(a, axis=axis)
    out, step, n = a, 1, a.shape[axis]
    while step < n:
        head = (slice(None),) * axis
        shifted = out.copy()
        shifted[head + (slice(step, None),)] = op(out[head + (slice(step, None),)],
                                                  out[head + (slice(None, n - step),)])
        out, step = shifted, 2 * step
    return out


def reverse_cumsum(g, axis):
    """Σ_{i≥k} g_i along `axis`: cumsum's adjoint."""
    return ops.flip(ops.cumsum(ops.flip(g, axis), axis), axis)


cumsum = Primitive("cumsum", lambda x, axis: array_module(x).cumsum(x, axis=axis), jvp=LINEAR,
                   vjp=(lambda g, out, x, axis: reverse_cumsum(g, axis),),
                   batch=along_axis)


# --- cumprod -----------------------------------------------------------------------------------
def _first_zero(x, zero, axis):
    """For each line along `axis`: before (k < z), at (k == z), x_z (keepdims) and rest (x with
    x_z set to 1), z the line's first zero (the line's length when it has none)."""
    xp = array_module(zero)
    n = x.shape[axis]
    pos = xp.arange(n).reshape((n,) + (1,) * (x.ndim - axis - 1))
    z = xp.where(zero.any(axis=axis, keepdims=True), zero.argmax(axis=axis, keepdims=True), n)
    before, at = pos < z, pos == z
    return before, at, ops.sum(ops.where(at, x, 0), axis, keepdims=True), ops.where(at, 1, x)


def _derivatives(x, axis):
    """D[..., k, i] = ∂out_i/∂x_k = Π_{j≤i, j≠k} x_j for i ≥ k, else 0, `axis` moved last."""
    line = ops.expand_dims(ops.moveaxis(x, axis, -1), -2)              # (..., 1, n)
    pos = x._xp.arange(x.shape[axis])
    products = ops.cumprod(ops.where(pos[:, None] == pos, 1, line), -1)   # (..., k, i)
    return ops.where(pos >= pos[:, None], products, 0)


def _cumprod_jvp(t, out, x, axis):
    """Σ_{k≤i} t_k Π_{j≤i, j≠k} x_j."""
    zero = x._data == 0
    if not zero.any():
        return out * ops.cumsum(t / x, axis)
    if x._batch_axes:
        line = ops.expand_dims(ops.moveaxis(t, axis, -1), -1)              # (..., k, 1)
        return ops.moveaxis(ops.sum(line * _derivatives(x, axis), -2), -1, axis)
    before, at, x_z, rest = _first_zero(x, zero, axis)
    head = out * ops.cumsum(ops.where(before, t, 0) / ops.where(before, x, 1), axis)
    carried = ops.where(before, 0, ops.where(at, t, x_z * t))
    return head + _cumprod_jvp(carried, ops.cumprod(rest, axis), rest, axis)


def _cumprod_vjp(g, out, x, axis):
    """Σ_{i≥k} g_i Π_{j≤i, j≠k} x_j."""
    zero = x._data == 0
    if not zero.any():
        return reverse_cumsum(g * out, axis) / x
    if x._batch_axes:
        line = ops.expand_dims(ops.moveaxis(g, axis, -1), -2)              # (..., 1, i)
        return ops.moveaxis(ops.sum(_derivatives(x, axis) * line, -1), -1, axis)
    before, at, x_z, rest = _first_zero(x, zero, axis)
    head = reverse_cumsum(g * out, axis) / ops.where(before, x, 1)
    tail = ops.where(at, 1, x_z) * _cumprod_vjp(g, ops.cumprod(rest, axis), rest, axis)
    return ops.where(before, head, tail)


cumprod = Primitive("cumprod", lambda x, axis: array_module(x).cumprod(x, axis=axis),
                    jvp=(_cumprod_jvp,), vjp=(_cumprod_vjp,), batch=along_axis)


# --- logcumsumexp ------------------------------------------------------------------------------
def _shift(out, axis):
    """c = out_0 along `axis` (keepdims), a constant, when out climbs less than SPREAD on every
    line (of every example, inside vmap) and is finite; None otherwise."""
    if out.shape[axis] == 0:
        return None
    tail = (slice(None),) * (out.ndim - axis - 1)       # `axis` counted from the end
    first = lambda o: o[(Ellipsis, slice(0, 1)) + tail]
    climb = out._data[(Ellipsis, slice(-1, None)) + tail] - first(out._data)
    xp = out._xp
    if not bool(xp.isfinite(climb).all()) or bool((climb >= SPREAD[out.dtype]).any()):
        return None
    return map_arrays(first, out)


def _weights(x, out, axis):
    """W[..., i, k] = e^(x_k - out_i) for k <= i, else 0, with `axis` moved last (O(n²))."""
    n = x.shape[axis]
    diff = ops.expand_dims(ops.moveaxis(x, axis, -1), -2) - \
        ops.expand_dims(ops.moveaxis(out, axis, -1), -1)
    pos = x._xp.arange(n)
    causal = pos[:, None] >= pos
    return ops.exp(ops.where(causal, diff, -np.inf))


def _lcse_jvp(t, out, x, axis):
    c = _shift(out, axis)
    if c is not None:
        return ops.exp(c - out) * ops.cumsum(t * ops.exp(x - c), axis)
    tangent = ops.matmul(_weights(x, out, axis), ops.expand_dims(ops.moveaxis(t, axis, -1), -1))
    return ops.moveaxis(ops.squeeze(tangent, -1), -1, axis)


def _lcse_vjp(g, out, x, axis):
    c = _shift(out, axis)
    if c is not None:
        return ops.exp(x - c) * reverse_cumsum(g * ops.exp(c - out), axis)
    cotangent = ops.matmul(ops.expand_dims(ops.moveaxis(g, axis, -1), -2), _weights(x, out, axis))
    return ops.moveaxis(ops.squeeze(cotangent, -2), -1, axis)


logcumsumexp = Primitive("logcumsumexp", lambda x, axis: scan("logaddexp", x, axis),
                         jvp=(_lcse_jvp,), vjp=(_lcse_vjp,), batch=along_axis)
