"""Tensor operations: thin wrappers over the primitives, and the composites built from them.

A wrapper lifts Python numbers and arrays to tensors (a Python number takes the dtype of the
tensor it meets, so ``x32 * 0.5`` stays float32) and calls ``apply``. Composites never touch
arrays: they only combine primitives, so both of their derivatives come for free.
"""
import builtins

import numpy as np

from . import backend
from . import primitives as P
from .errors import DeviceError
from .primitive import apply
from .tensor import Tensor


def lift(x, like=None):
    """`x` as a Tensor. Meeting tensor `like`, a constant on its device: a Python number in its
    floating dtype (filled in place there: nothing is copied from the host), a raw array (NumPy
    or CuPy) with its own dtype, moved to that device if it is on the other one."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (int, float, bool, np.number)):
        dtype = like.dtype if like.dtype.kind == "f" else (np.float32 if isinstance(x, float) else None)
        return Tensor(like._xp.full((), x, dtype=dtype))
    from .tensor import tensor
    return tensor(x, device=None if like is None else like.device)


def _pair(x, y):
    return (lift(x, y if isinstance(y, Tensor) else None),
            lift(y, x if isinstance(x, Tensor) else None))


# --- arithmetic ------------------------------------------------------------------------------
def add(x, y): return apply(P.add, *_pair(x, y))
def mul(x, y): return apply(P.mul, *_pair(x, y))
def power(x, y): return apply(P.power, *_pair(x, y))
def maximum(x, y): return apply(P.maximum, *_pair(x, y))
def neg(x): return apply(P.neg, lift(x))
def sub(x, y): return add(x, neg(lift(y, x if isinstance(x, Tensor) else None)))
def div(x, y): return mul(x, power(lift(y, x if isinstance(x, Tensor) else None), -1))
def minimum(x, y): return neg(maximum(*(neg(v) for v in _pair(x, y))))


def where(cond, x, y):
    """``cond ? x : y`` elementwise; `cond` is a boolean tensor or array (no gradient)."""
    x, y = _pair(x, y)
    if isinstance(cond, Tensor):
        _same_device("where", x, cond)
        cond = cond._data
    return apply(P.select, x, y, cond=backend.asarray(cond, x.device).astype(bool))


def astype(x, dtype):
    x = lift(x)
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else apply(P.astype, x, dtype=dtype)


def identity(x): return apply(P.identity, lift(x))


# --- elementwise functions -----------------------------------------------------------------
def exp(x): return apply(P.exp, lift(x))
def log(x): return apply(P.log, lift(x))
def sqrt(x): return apply(P.sqrt, lift(x))
def abs(x): return apply(P.abs, lift(x))
def sin(x): return apply(P.sin, lift(x))
def cos(x): return apply(P.cos, lift(x))
def tanh(x): return apply(P.tanh, lift(x))
def sigmoid(x): return apply(P.sigmoid, lift(x))
def relu(x): return apply(P.relu, lift(x))
def gelu(x): return apply(P.gelu, lift(x))


def compare(name, x, y):
    """A comparison (``<``, ``==``...): a bool tensor of the primal values, with no gradient."""
    x, y = _pair(x, y)
    _same_device(name, x, y)
    return Tensor(getattr(np, name)(x._data, y._data))


def _same_device(op, x, y):
    """Two tensors that must share a device (an operation that is no primitive checks here)."""
    if x.device != y.device:
        raise DeviceError(f"{op}: inputs on different devices {[x.device, y.device]} with shapes "
                          f"{x.shape}, {y.shape}; move them with .to('cuda') or .to('cpu')")


# --- linear algebra ------------------------------------------------------------------------
def matmul(x, y):
    """NumPy's matmul: a 1-D operand is a row (left) or a column (right) that is dropped again."""
    x, y = _pair(x, y)
    if x.ndim == 0 or y.ndim == 0:
        from .errors import ShapeError
        raise ShapeError(f"matmul: operands must have at least one axis, got shapes "
                         f"{x.shape} and {y.shape}")
    if x.ndim == 1 and y.ndim == 1:
        return reshape(apply(P.matmul, reshape(x, 1, -1), reshape(y, -1, 1)), ())
    if x.ndim == 1:
        out = apply(P.matmul, reshape(x, 1, -1), y)
        return reshape(out, *out.shape[:-2], out.shape[-1])
    if y.ndim == 1:
        out = apply(P.matmul, x, reshape(y, -1, 1))
        return reshape(out, *out.shape[:-1])
    return apply(P.matmul, x, y)


def swap_last(x):
    """Swap the last two axes: the transpose of a (batch of) matrices."""
    if x.ndim == 2:
        return apply(P.transpose, x, axes=(1, 0))
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return transpose(x, *axes)


# --- reductions ----------------------------------------------------------------------------
def _axis(axis, ndim):
    """None, or a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % builtins.max(ndim, 1) for a in axes))


def sum(x, axis=None, keepdims=False):
    x = lift(x)
    return apply(P.sum, x, axis=_axis(axis, x.ndim), keepdims=bool(keepdims))


def max(x, axis=None, keepdims=False):
    x = lift(x)
    return apply(P.max, x, axis=_axis(axis, x.ndim), keepdims=bool(keepdims))


def mean(x, axis=None, keepdims=False):
    x = lift(x)
    axes = _axis(axis, x.ndim)
    count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    return sum(x, axes, keepdims) * (1.0 / builtins.max(count, 1))


def expand_to(g, shape, axis):
    """Undo a reduction over `axis`: put the reduced axes back as 1s, then broadcast to `shape`.
    The reshape is skipped when broadcasting alone lines g up (a full reduction, keepdims, or
    leading axes only): (10,) -> (64, 10) needs none, (64,) -> (64, 10) needs (64, 1)."""
    kept = tuple(1 if axis is None or i in axis else n for i, n in enumerate(shape))
    lead = len(kept) - g.ndim
    if lead < 0 or g.shape != kept[lead:] or any(n != 1 for n in kept[:lead]):
        g = reshape(g, *kept)
    return broadcast_to(g, shape)


def argmax_mask(x, out, axis):
    """Where x attains its max along `axis`, split evenly between ties (a constant)."""
    xd = x.data
    kept = expand_to(out, x.shape, axis).data if out.ndim != x.ndim else out.data
    hit = (xd == kept).astype(xd.dtype)
    return Tensor(hit / hit.sum(axis=axis, keepdims=True))


def unbroadcast(g, shape):
    """Sum `g` down to `shape`: the adjoint of broadcasting `shape` to g's shape. Leading axes
    that broadcasting added are summed away; kept axes of size 1 are summed with keepdims."""
    extra = g.ndim - len(shape)
    lead = tuple(range(extra))
    ones = tuple(extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    if not ones:
        return sum(g, lead) if lead else g        # a bias gradient: one reduction, no reshape
    return reshape(sum(g, lead + ones, keepdims=True), *shape)


# --- shape ---------------------------------------------------------------------------------
def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def reshape(x, *shape):
    x = lift(x)
    shape = tuple(int(n) for n in _shape(shape))
    if -1 in shape:
        known = int(np.prod([n for n in shape if n != -1]))
        shape = tuple(x.size // builtins.max(known, 1) if n == -1 else n for n in shape)
    return x if shape == x.shape else apply(P.reshape, x, shape=shape)


def transpose(x, *axes):
    """Permute axes (reverse them when none are given), as ``ndarray.transpose``."""
    x = lift(x)
    axes = tuple(int(a) % builtins.max(x.ndim, 1) for a in _shape(axes)) or \
        tuple(reversed(range(x.ndim)))
    return x if axes == tuple(range(x.ndim)) else apply(P.transpose, x, axes=axes)


def broadcast_to(x, shape):
    x = lift(x)
    shape = tuple(shape)
    return x if x.shape == shape else apply(P.broadcast_to, x, shape=shape)


def expand_dims(x, axis):
    x = lift(x)
    axis = axis % (x.ndim + 1)
    return reshape(x, *x.shape[:axis], 1, *x.shape[axis:])


def squeeze(x, axis=None):
    x = lift(x)
    axes = _axis(axis, x.ndim) or tuple(i for i, n in enumerate(x.shape) if n == 1)
    return reshape(x, *(n for i, n in enumerate(x.shape) if i not in axes))


def getitem(x, index):
    """Basic (ints, slices, None, ...) and integer-array indexing; gradients scatter back."""
    x = lift(x)
    return apply(P.getitem, x, index=raw_index(index, x, "getitem"))


def raw_index(index, x, op):
    """Index arrays as arrays of tensor x's device: a raw array (NumPy, CuPy, a list) is moved
    there; a Tensor index on another device is an error naming `op`."""
    if isinstance(index, tuple):
        return tuple(raw_index(i, x, op) for i in index)
    if isinstance(index, Tensor):
        _same_device(op, x, index)
        index = index._data
    if isinstance(index, (list, np.ndarray)) or backend.device_of(index) == "cuda":
        return backend.asarray(index, x.device)
    return index


def scatter_add(g, index, shape):
    g = lift(g)
    return apply(P.scatter_add, g, index=raw_index(index, g, "scatter_add"), shape=tuple(shape))


def concatenate(xs, axis=0):
    xs = [lift(x) for x in xs]
    return apply(P.concatenate, *xs, axis=int(axis))


def stack(xs, axis=0):
    xs = [lift(x) for x in xs]
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


# --- convolution windows --------------------------------------------------------------------
def _two(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(k) for k in v)


def im2col(x, kernel, stride=1, padding=0):
    """(N, C, H, W) -> the (N·OH·OW, kh·kw·C) matrix of its windows, columns ordered (i, j, c):
    ``cols[(n, y, x), (i, j, c)] = xpad[n, c, y·sh + i, x·sw + j]`` (see nn/im2col.py)."""
    return apply(P.im2col, lift(x), kernel=_two(kernel), stride=_two(stride), padding=_two(padding))


def col2im(cols, shape, kernel, stride=1, padding=0):
    """im2col's adjoint: windows (N·OH·OW, kh·kw·C) summed back into an input of `shape`."""
    return apply(P.col2im, lift(cols), shape=tuple(int(n) for n in shape), kernel=_two(kernel),
                 stride=_two(stride), padding=_two(padding))


# --- composites used by models -------------------------------------------------------------
def logsumexp(x, axis=-1, keepdims=False):
    """log sum exp x, shifted by the (constant) max so nothing overflows."""
    x = lift(x)
    shift = Tensor(x.data.max(axis=axis, keepdims=True))
    out = log(sum(exp(x - shift), axis, keepdims=True)) + shift
    return out if keepdims else squeeze(out, axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along one axis: one fused primitive (its rules: primitives.py)."""
    x = lift(x)
    return apply(P.log_softmax, x, axis=int(axis) % builtins.max(x.ndim, 1))


def softmax_cross_entropy(logits, labels):
    """The mean softmax cross-entropy, one fused primitive (its rules: primitives.py):
    ``mean_n (logsumexp(z[n]) - z[n, labels[n]])`` for logits z (N, C), N >= 1, and integer
    labels (N,) in [0, C), moved to z's device. Checked inputs: nn.functional.cross_entropy."""
    z = lift(logits)
    return apply(P.cross_entropy, z, labels=raw_index(labels, z, "cross_entropy"))


def softmax(x, axis=-1):
    x = lift(x)
    e = exp(x - Tensor(x.data.max(axis=axis, keepdims=True)))
    return e / sum(e, axis, keepdims=True)
