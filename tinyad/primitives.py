"""The table of primitives: each one's computation, JVP rule and VJP rule side by side.

Everything else in tinyad (subtraction, division, mean, softmax, convolution around its im2col...)
is composed from these; a few composites that every training step runs (log_softmax, the mean
softmax cross-entropy) are entries of their own, one node instead of many. Rules receive Tensors
and use tinyad operations, so they can be differentiated again. Notation: ``out = f(x, y)``;
``t`` a tangent, ``g`` a cotangent.

Elementwise primitives give their partial derivatives once, ``d_i(out, *args) = ∂out/∂arg_i``;
both rules follow from it: ``jvp_i = t * d_i`` and ``vjp_i = g * d_i`` (broadcast inputs are
summed back to their shape by the tape's one ``unbroadcast`` step). Masks such as ``x > 0`` are
constants: their own derivative is zero almost everywhere.
"""
import numpy as np

from . import kernels, ops, tape
from .backend import xp_of
from .kernels.activations import GELU_A, GELU_K
from .primitive import LINEAR, Primitive
from .tensor import Tensor


BROADCAST = "broadcasting: aligned from the right, each axis pair must be equal or contain a 1"


def elementwise(name, impl, *partials):
    """A primitive applied elementwise, from its partial derivatives ``d_i(out, *args)``."""
    rules = tuple(_times(d) for d in partials)
    return Primitive(name, impl, jvp=rules, vjp=rules, rule=BROADCAST)


def _times(d):
    return lambda t, out, *args, **params: t * d(out, *args, **params)


def const(array):
    """A constant tensor (no tangent, no gradient) from a raw array."""
    return Tensor(array)


def mask(cond, like):
    """1.0 where `cond`, else 0.0, in the dtype of `like`: the derivative of a selection."""
    return const(cond.astype(like.dtype))


# --- arithmetic -----------------------------------------------------------------------------
add = Primitive("add", np.add, jvp=LINEAR, rule=BROADCAST,
                vjp=(lambda g, out, x, y: g,
                     lambda g, out, x, y: g))
neg = Primitive("neg", np.negative, jvp=LINEAR,
                vjp=(lambda g, out, x: -g,))
mul = elementwise("mul", np.multiply,
                  lambda out, x, y: y,
                  lambda out, x, y: x)
power = elementwise("power", np.power,
                    lambda out, x, y: y * x ** (y - 1),
                    lambda out, x, y: out * ops.log(x))
maximum = elementwise("maximum", np.maximum,
                      lambda out, x, y: mask((x.data > y.data) + 0.5 * (x.data == y.data), out),
                      lambda out, x, y: mask((y.data > x.data) + 0.5 * (x.data == y.data), out))
select = elementwise("select", lambda x, y, cond: _xp(x).where(cond, x, y),
                     lambda out, x, y, cond: mask(cond, out),
                     lambda out, x, y, cond: mask(~cond, out))
identity = Primitive("identity", lambda x: x, jvp=LINEAR,      # a fresh variable for ``grad``
                     vjp=(lambda g, out, x: g,))
astype = Primitive("astype", lambda x, dtype: x.astype(dtype), jvp=LINEAR,
                   vjp=(lambda g, out, x, dtype: ops.astype(g, x.dtype),))

# --- elementwise functions --------------------------------------------------------------------
exp = elementwise("exp", np.exp, lambda out, x: out)
log = elementwise("log", np.log, lambda out, x: 1 / x)
sqrt = elementwise("sqrt", np.sqrt, lambda out, x: 0.5 / out)
abs = elementwise("abs", np.abs, lambda out, x: const(_xp(out.data).sign(x.data)))
sin = elementwise("sin", np.sin, lambda out, x: ops.cos(x))
cos = elementwise("cos", np.cos, lambda out, x: -ops.sin(x))


# --- activations: the one definition (tinyad.kernels), and the formula for higher orders -------
def activation(name, partial):
    """Activation `name` of tinyad.kernels.ACTIVATIONS. Its value, and its derivative when
    nothing will differentiate that again (a backward pass without create_graph, a JVP of
    untracked values), come from one fused pass of ``kernels.act_forward`` when
    ``kernels.fused(name, x)`` says the kernel table picks one for x's device and dtype. Otherwise
    the value is ``kernels.act_value`` (the definition on whole arrays) and the derivative is
    `partial`, written in tinyad ops, which stays exact to any order (tests hold it to the
    definition)."""
    def impl(x):
        return kernels.act_forward(name, x)[0] if kernels.fused(name, x) \
            else kernels.act_value(name, x)

    def derivative(out, x):
        if x._level < 0 and not (tape.recording() and x._requires_grad) \
                and kernels.fused(name, x.data):
            return const(kernels.act_forward(name, x.data)[1])
        return partial(out, x)
    return elementwise(name, impl, derivative)


def _gelu_partial(out, x):
    """gelu' = s + 2k x s (1 - s) (1 + 3 a x²), s = sigmoid(2k (x + a x³)), in tinyad ops."""
    k, a = GELU_K, GELU_A
    s = ops.sigmoid(2 * k * (x + a * x * x * x))
    return s + 2 * k * x * s * (1 - s) * (1 + 3 * a * x * x)


tanh = activation("tanh", lambda out, x: 1 - out * out)
sigmoid = activation("sigmoid", lambda out, x: out * (1 - out))
relu = activation("relu", lambda out, x: mask(x.data > 0, out))
gelu = activation("gelu", _gelu_partial)

# --- linear algebra ---------------------------------------------------------------------------
matmul = Primitive("matmul", kernels.matmul,                # x (..., n, k) @ y (..., k, m)
                   rule="x.shape[-1] must equal y.shape[-2]; leading (batch) axes broadcast",
                   jvp=(lambda t, out, x, y: t @ y,
                        lambda t, out, x, y: x @ t),
                   vjp=(lambda g, out, x, y: g @ ops.swap_last(y),
                        lambda g, out, x, y: ops.swap_last(x) @ g))

# --- reductions -------------------------------------------------------------------------------
sum = Primitive("sum", lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims), jvp=LINEAR,
                vjp=(lambda g, out, x, axis, keepdims: ops.expand_to(g, x.shape, axis),))
max = Primitive("max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
                jvp=(lambda t, out, x, axis, keepdims:
                     ops.sum(t * ops.argmax_mask(x, out, axis), axis, keepdims),),
                vjp=(lambda g, out, x, axis, keepdims:
                     ops.expand_to(g, x.shape, axis) * ops.argmax_mask(x, out, axis),))

# --- shape and indexing (all linear) ----------------------------------------------------------
reshape = Primitive("reshape", lambda x, shape: x.reshape(shape), jvp=LINEAR,
                    rule="the new shape must hold as many elements as the old",
                    vjp=(lambda g, out, x, shape: ops.reshape(g, x.shape),))
transpose = Primitive("transpose", lambda x, axes: x.transpose(axes), jvp=LINEAR,
                      rule="axes must be a permutation of the input's axes",
                      vjp=(lambda g, out, x, axes: ops.transpose(g, *np.argsort(axes)),))
broadcast_to = Primitive("broadcast_to", lambda x, shape: _xp(x).broadcast_to(x, shape),
                         jvp=LINEAR, rule=BROADCAST,
                         vjp=(lambda g, out, x, shape: ops.unbroadcast(g, x.shape),))
getitem = Primitive("getitem", lambda x, index: x[index], jvp=LINEAR,
                    vjp=(lambda g, out, x, index: ops.scatter_add(g, index, x.shape),))
scatter_add = Primitive("scatter_add",                      # zeros(shape) with g added at index
                        lambda g, index, shape: _scatter_add(g, index, shape), jvp=LINEAR,
                        vjp=(lambda c, out, g, index, shape: ops.getitem(c, index),))
concatenate = Primitive("concatenate", lambda *xs, axis: _concatenate(xs, axis),
                        jvp=LINEAR, rule="every axis but the joined one must be equal",
                        vjp=lambda i, g, out, *xs, axis: ops.getitem(g, _piece(xs, i, axis)))

# --- convolution windows (linear maps, each the other's adjoint) -------------------------------
WINDOWS = "x must be (N, C, H, W) and the kernel must fit the padded input"
im2col = Primitive("im2col", lambda x, kernel, stride, padding: _im2col(x, kernel, stride, padding),
                   jvp=LINEAR, rule=WINDOWS,
                   vjp=(lambda g, out, x, kernel, stride, padding:
                        ops.col2im(g, x.shape, kernel, stride, padding),))
col2im = Primitive("col2im", lambda c, shape, kernel, stride, padding:    # Numba's, or NumPy's
                   kernels.col2im(c, shape, kernel, stride, padding), jvp=LINEAR, rule=WINDOWS,
                   vjp=(lambda g, out, c, shape, kernel, stride, padding:
                        ops.im2col(g, kernel, stride, padding),))

# --- fused composites: one node instead of many, rules still in tinyad ops ---------------------
log_softmax = Primitive(              # out = x - logsumexp(x); softmax = e^out, along `axis`
    "log_softmax", lambda x, axis: _log_softmax(x, axis),
    jvp=(lambda t, out, x, axis: t - ops.sum(ops.exp(out) * t, axis, keepdims=True),),
    vjp=(lambda g, out, x, axis: g - ops.exp(out) * ops.sum(g, axis, keepdims=True),))
cross_entropy = Primitive(            # out = mean_n (logsumexp(z[n]) - z[n, y_n]), a scalar
    "cross_entropy", lambda z, labels: _cross_entropy(z, labels),
    jvp=(lambda t, out, z, labels: ops.sum(t * _xent_grad(z, labels)),),
    vjp=(lambda g, out, z, labels: g * _xent_grad(z, labels),),
    rule="logits (N, C) with N >= 1 and integer labels (N,) in [0, C)")


def _xent_grad(z, labels):
    """d out / dz = (softmax(z) - onehot(labels)) / N, (N, C). A constant from
    ``kernels.softmax_xent`` when nothing will differentiate it again (as for the activations);
    otherwise written in tinyad ops, exact to any order."""
    if z._level < 0 and not (tape.recording() and z._requires_grad):
        return const(kernels.softmax_xent(z.data, labels)[1])
    onehot = _xp(z.data).zeros(z.shape, dtype=z.dtype)
    onehot[_xp(z.data).arange(len(labels)), labels] = 1
    return (ops.exp(ops.log_softmax(z, -1)) - const(onehot)) * (1.0 / z.shape[0])


def _xp(array):
    """numpy or cupy, as `array` is (NumPy's own arrays answered without a lookup)."""
    return np if type(array) is np.ndarray else xp_of(array)


def _log_softmax(x, axis):
    """(x - m) - log sum e^(x - m), m = max x: no exponential overflows."""
    xp = _xp(x)
    s = x - x.max(axis=axis, keepdims=True)
    return s - xp.log(xp.exp(s).sum(axis=axis, keepdims=True))


def _cross_entropy(z, labels):
    """mean over rows of lse - z[n, y_n] (kernels.softmax_xent, which also gives the gradient)."""
    return kernels.softmax_xent(z, labels)[0]


def _windows(shape, kernel, stride, padding):
    """(OH, OW) for an (N, C, H, W) input (kernels.reference.window_grid), checked to be >= 1."""
    oh, ow = kernels.reference.window_grid(shape, kernel, stride, padding)
    if oh < 1 or ow < 1:
        (ph, pw), (h, w) = padding, shape[2:]
        raise ValueError(f"kernel {kernel} larger than the padded input {(h + 2 * ph, w + 2 * pw)}")
    return oh, ow


def _im2col(x, kernel, stride, padding):
    """cols[(n, y, x), (i, j, c)] = xpad[n, c, y·sh + i, x·sw + j]: (N·OH·OW, kh·kw·C).

    The windows are one strided view of the zero-padded input held channels-last (N, Hp, Wp, C),
    copied once; (i, j, c) column order keeps the innermost copy runs C-long and contiguous."""
    xp = _xp(x)
    oh, ow = _windows(x.shape, kernel, stride, padding)
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    xt = x.transpose(0, 2, 3, 1)
    if ph or pw:
        padded = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
        padded[:, ph:ph + h, pw:pw + w, :] = xt
        xt = padded
    s0, s1, s2, s3 = xt.strides
    win = xp.lib.stride_tricks.as_strided(xt, (n, oh, ow, kh, kw, c),
                                          (s0, s1 * sh, s2 * sw, s1, s2, s3))
    return win.reshape(n * oh * ow, kh * kw * c)


def _concatenate(xs, axis):
    """``concatenate`` into a C-ordered result. NumPy's own picks the inputs' memory order, so
    joining transposed views gives a strided result that every later reshape must copy; writing
    into a C-ordered ``out`` costs the same and keeps those reshapes views."""
    xp = _xp(xs[0])
    nd = xs[0].ndim
    ax = axis + nd if axis < 0 else axis
    if not 0 <= ax < nd or any(x.ndim != nd for x in xs):
        return xp.concatenate(xs, axis)               # let NumPy raise its own error
    shape = list(xs[0].shape)
    shape[ax] = int(np.sum([x.shape[ax] for x in xs], dtype=np.int64))
    out = xp.empty(tuple(shape), dtype=xp.result_type(*xs))
    return xp.concatenate(xs, axis, out=out)


def _scatter_add(g, index, shape):
    xp = _xp(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g                       # a basic index never repeats a position
    elif xp is np:
        np.add.at(out, index, g)             # an integer array may: repeats add up
    else:
        import cupyx
        cupyx.scatter_add(out, index, g)
    return out


def _is_basic(index):
    index = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in index)


def _piece(xs, i, axis):
    """The index of input i's block in concatenate's output."""
    start = int(np.sum([x.shape[axis] for x in xs[:i]], dtype=int))
    axis = axis % xs[0].ndim
    return (slice(None),) * axis + (slice(start, start + xs[i].shape[axis]),)
