"""A test registry: for every primitive, how to draw its inputs and what NumPy says it computes.

``SPECS[name] = Spec(draw, call, ref)``: ``draw(data, dtype)`` returns a list of NumPy inputs,
``call(*tensors)`` runs the primitive through tinyad's public ops and ``ref(*arrays)`` through
NumPy. tests/test_primitives.py checks every entry, and fails if a primitive has none. vmap's
test maps the float and boolean arrays (and integer ones too with ``mapped_ints``: labels).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyad as ad
from tinyad import backend, ops
from tinyad.batching import map_arrays
from tinyad.primitives import pooling


@dataclass
class Spec:
    draw: Callable
    call: Callable
    ref: Callable
    second_order: bool = True
    atol32: float = 0.0          # absolute slack in float32 (a cancellation-prone formula)
    mapped_ints: bool = False    # vmap may map its integer arrays too (labels, not indices)


def shape(data, min_dims=0, max_dims=3, min_side=1):
    return data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                      max_side=3))


def values(data, shp, dtype, low=-2.0, high=2.0, away_from=None):
    """Uniform values in [low, high]; `away_from` keeps them off a kink (|x - a| >= 0.1)."""
    seed = data.draw(st.integers(0, 2**31 - 1))
    x = np.random.default_rng(seed).uniform(low, high, size=shp)
    if away_from is not None:
        x = np.where(np.abs(x - away_from) < 0.1, away_from + 0.1 + np.abs(x), x)
    return x.astype(dtype)


def broadcast_pair(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    return shapes.input_shapes


def unary(low=-2.0, high=2.0, away_from=None):
    return lambda data, dtype: [values(data, shape(data), dtype, low, high, away_from)]


def binary(low=-2.0, high=2.0, low2=None, high2=None):
    def draw(data, dtype):
        a, b = broadcast_pair(data)
        return [values(data, a, dtype, low, high),
                values(data, b, dtype, low if low2 is None else low2,
                       high if high2 is None else high2)]
    return draw


def distinct_pair(data, dtype):
    """Two broadcastable inputs that never tie (maximum has a kink where x == y)."""
    x, y = binary()(data, dtype)
    y = np.where(np.abs(x - y) < 0.1, y + 0.5, y).astype(dtype)
    return [x, y]


def select_draw(data, dtype):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    x, y, c = shapes.input_shapes
    return [values(data, x, dtype), values(data, y, dtype), values(data, c, dtype) > 0]


def matmul_pair(data, dtype):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,), (2, 1)]))
    left = batch + (n, k)
    right = data.draw(st.sampled_from([(k, m), batch[-1:] + (k, m)]))
    return [values(data, left, dtype), values(data, right, dtype)]


def axis_of(data, ndim):
    if ndim == 0:
        return None
    return data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                               st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                        unique=True).map(tuple)))


def reduction(name):
    def draw(data, dtype):
        x = values(data, shape(data), dtype)
        return [x, axis_of(data, x.ndim), data.draw(st.booleans())]
    return Spec(draw, lambda x, axis, keep: getattr(ops, name)(x, axis, keep),
                lambda x, axis, keep: getattr(np, name)(x, axis=axis, keepdims=keep))


def transpose_draw(data, dtype):
    x = values(data, shape(data, min_dims=1), dtype)
    return [x, tuple(data.draw(st.permutations(range(x.ndim))))]


def reshape_draw(data, dtype):
    x = values(data, shape(data), dtype)
    return [x, x.reshape(-1).shape if data.draw(st.booleans()) else (1,) + x.shape + (1,)]


def broadcast_draw(data, dtype):
    a, b = broadcast_pair(data)
    return [values(data, a, dtype), np.broadcast_shapes(a, b)]


def index_draw(data, dtype):
    x = values(data, shape(data, min_dims=1), dtype)
    n = x.shape[0]
    index = data.draw(st.sampled_from([
        0, slice(None, None, 2), (Ellipsis, 0), None,
        np.array([n - 1, 0, n - 1]),                     # repeats: gradients add up
        (np.arange(n), np.zeros(n, dtype=int)) if x.ndim > 1 else np.array([0, 0]),
    ]))
    return [x, index]


def scatter_draw(data, dtype):
    x = values(data, shape(data, min_dims=1), dtype)
    index = np.array([x.shape[0] - 1, 0, x.shape[0] - 1])
    return [values(data, (3,) + x.shape[1:], dtype), index, x.shape]


def scatter_ref(g, index, shp):
    out = np.zeros(shp, g.dtype)
    np.add.at(out, index, g)
    return out


def concat_draw(data, dtype):
    base = list(shape(data, min_dims=1))
    axis = data.draw(st.integers(0, len(base) - 1))
    parts = []
    for _ in range(data.draw(st.integers(1, 3))):
        base[axis] = data.draw(st.integers(1, 3))
        parts.append(values(data, tuple(base), dtype))
    return parts + [axis]


def windows_geometry(data):
    """An input shape (N, C, H, W) and a kernel, stride, padding that fit it (overlapping,
    gapped and padded windows all occur)."""
    kernel = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)))
    padding = (data.draw(st.integers(0, 1)), data.draw(st.integers(0, 1)))
    hw = [max(k - 2 * p, 1) + data.draw(st.integers(0, 3)) for k, p in zip(kernel, padding)]
    return (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), *hw), kernel, stride, padding


def im2col_draw(data, dtype):
    shp, kernel, stride, padding = windows_geometry(data)
    return [values(data, shp, dtype), kernel, stride, padding]


def im2col_ref(x, kernel, stride, padding):
    """The window matrix by loops: row (n, y, x), column (i, j, c)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, w = xp.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    rows = [xp[b, :, y * sh:y * sh + kh, z * sw:z * sw + kw].transpose(1, 2, 0).ravel()
            for b in range(n) for y in range(oh) for z in range(ow)]
    return np.array(rows, dtype=x.dtype).reshape(n * oh * ow, kh * kw * c)


def col2im_draw(data, dtype):
    shp, kernel, stride, padding = windows_geometry(data)
    rows = im2col_ref(np.zeros(shp), kernel, stride, padding).shape
    return [values(data, rows, dtype), shp, kernel, stride, padding]


def col2im_ref(cols, shp, kernel, stride, padding):
    """The adjoint of im2col_ref, read off its matrix: cols summed into each window's place."""
    x = np.arange(np.prod(shp)).reshape(shp).astype(float)
    where = im2col_ref(x, kernel, stride, padding).astype(int)        # flat positions (pad: 0)
    inside = im2col_ref(np.ones(shp), kernel, stride, padding) > 0
    out = np.zeros(int(np.prod(shp)), dtype=np.float64)
    np.add.at(out, where[inside], cols[inside].astype(np.float64))
    return out.reshape(shp).astype(cols.dtype)


def conv_draw(data, dtype):
    """x, w, bias, stride, padding for conv2d (O = 1..3 output channels)."""
    shp, kernel, stride, padding = windows_geometry(data)
    o = data.draw(st.integers(1, 3))
    w = values(data, (o, shp[1]) + kernel, dtype)
    return [values(data, shp, dtype), w, values(data, (o,), dtype), stride, padding]


def conv_ref(x, w, b, stride, padding):
    """The window matrix times the weight as a (kh·kw·C, O) matrix, plus the bias, back to
    (N, O, OH, OW)."""
    cols = im2col_ref(x, w.shape[2:], stride, padding)
    n, o = x.shape[0], w.shape[0]
    oh = (x.shape[2] + 2 * padding[0] - w.shape[2]) // stride[0] + 1
    out = cols @ w.transpose(2, 3, 1, 0).reshape(-1, o) + b
    return out.reshape(n, oh, -1, o).transpose(0, 3, 1, 2)


def conv_transpose_draw(data, dtype):
    x, w, _, stride, padding = conv_draw(data, dtype)
    g = values(data, conv_ref(x, w, 0, stride, padding).shape, dtype)
    return [g, w, x.shape, stride, padding]


def conv_transpose_ref(g, w, shp, stride, padding):
    """Each g[n, o, y, x] times w[o] added back over its window: col2im of g @ Wᵀ."""
    cols = g.transpose(0, 2, 3, 1).reshape(-1, w.shape[0]) @ w.transpose(2, 3, 1, 0).reshape(
        -1, w.shape[0]).T
    return col2im_ref(cols, shp, w.shape[2:], stride, padding)


def conv_weight_draw(data, dtype):
    x, w, _, stride, padding = conv_draw(data, dtype)
    g = values(data, conv_ref(x, w, 0, stride, padding).shape, dtype)
    return [x, g, w.shape[2:], stride, padding]


def conv_weight_ref(x, g, kernel, stride, padding):
    """Window matrixᵀ @ g, as (O, C, kh, kw)."""
    o, c = g.shape[1], x.shape[1]
    dw = im2col_ref(x, kernel, stride, padding).T @ g.transpose(0, 2, 3, 1).reshape(-1, o)
    return dw.reshape(*kernel, c, o).transpose(3, 2, 0, 1)


def pool_geometry(data):
    kernel = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    h, w = (k + data.draw(st.integers(0, 3)) for k in kernel)
    return (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), h, w), kernel


def pool_draw(data, dtype):
    """Distinct values 0.1 apart (max has a kink where two tie) and a window that fits."""
    shp, kernel = pool_geometry(data)
    seed = data.draw(st.integers(0, 2**31 - 1))
    x = np.random.default_rng(seed).permutation(int(np.prod(shp))).reshape(shp) * 0.1 - 1
    return [x.astype(dtype), kernel]


def pool_ref(x, kernel):
    (kh, kw), (n, c, h, w) = kernel, x.shape
    out = np.empty((n, c, h // kh, w // kw), x.dtype)
    for b, ch, y, z in np.ndindex(*out.shape):
        out[b, ch, y, z] = x[b, ch, y * kh:(y + 1) * kh, z * kw:(z + 1) * kw].max()
    return out


def pool_share(x, kernel):
    """Per input element: 1 / (number of maxima) of its window where it is one, else 0."""
    (kh, kw), (n, c, h, w) = kernel, x.shape
    share = np.zeros(x.shape)
    for b, ch, y, z in np.ndindex(n, c, h // kh, w // kw):
        win = x[b, ch, y * kh:(y + 1) * kh, z * kw:(z + 1) * kw]
        share[b, ch, y * kh:(y + 1) * kh, z * kw:(z + 1) * kw] = (win == win.max()) / np.sum(
            win == win.max())
    return share


def pool_linear_draw(data, dtype, input_of):
    """A tangent or cotangent and, as constants, x with ties (whole numbers) and the window."""
    shp, kernel = pool_geometry(data)
    x = np.round(values(data, shp, np.float64, -2, 2))
    return [values(data, input_of(shp, kernel), dtype), Constant(x), kernel]


def pooled_shape(shp, kernel):
    return shp[:2] + (shp[2] // kernel[0], shp[3] // kernel[1])


class Constant:
    """An array the checks must not differentiate or convert (not a pytree: gradcheck and the
    device tests pass it through as it is)."""
    def __init__(self, array):
        self.array = array


def pool_gather_ref(t, xs, kernel):
    (kh, kw), weighted = kernel, t * pool_share(xs.array, kernel)
    out = np.zeros(pooled_shape(t.shape, kernel), t.dtype)
    for b, ch, y, z in np.ndindex(*out.shape):
        out[b, ch, y, z] = weighted[b, ch, y * kh:(y + 1) * kh, z * kw:(z + 1) * kw].sum()
    return out


def pool_scatter_ref(g, xs, kernel):
    (kh, kw), share = kernel, pool_share(xs.array, kernel)
    spread = np.zeros(xs.array.shape)
    for b, ch, y, z in np.ndindex(*g.shape):
        spread[b, ch, y * kh:(y + 1) * kh, z * kw:(z + 1) * kw] = g[b, ch, y, z]
    return (spread * share).astype(g.dtype)


def pool_call(fn):
    """Call max_pool2d's gather or scatter with x and its window maxima as constants."""
    def call(a, xs, kernel):
        x = backend.asarray(xs.array, a.device, a.dtype)       # a constant on a's device
        return fn(a, x, pooling.whole_forward(x, kernel), kernel)
    return call


def log_softmax_draw(data, dtype):
    x = values(data, shape(data, min_dims=1), dtype, -5.0, 5.0)
    return [x, data.draw(st.integers(-x.ndim, x.ndim - 1))]


def log_softmax_ref(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def xent_draw(data, dtype):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    labels = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1))).integers(0, c, n)
    return [values(data, (n, c), dtype, -5.0, 5.0), labels]


def xent_ref(z, labels):
    return np.mean(-log_softmax_ref(z, 1)[np.arange(len(labels)), labels])


SPECS = {
    "add": Spec(binary(), ops.add, np.add),
    "neg": Spec(unary(), ops.neg, np.negative),
    "mul": Spec(binary(), ops.mul, np.multiply),
    "power": Spec(binary(0.5, 2.0, -2.0, 2.0), ops.power, np.power),
    "maximum": Spec(distinct_pair, ops.maximum, np.maximum),
    "minimum": Spec(distinct_pair, ops.minimum, np.minimum),
    "locally_constant": Spec(unary(away_from=0.0), lambda x: ad.apply(
        ad.PRIMITIVES["locally_constant"], x, map_arrays(np.sign, x)), np.sign),
    "select": Spec(select_draw, lambda x, y, c: ops.where(c, x, y),
                   lambda x, y, c: np.where(c, x, y)),
    "identity": Spec(unary(), ops.identity, lambda x: x),
    "astype": Spec(unary(), lambda x: ad.apply(ad.PRIMITIVES["astype"], x, dtype=x.dtype),
                   lambda x: x),
    "exp": Spec(unary(), ops.exp, np.exp),
    "log": Spec(unary(0.2, 3.0), ops.log, np.log),
    "sqrt": Spec(unary(0.2, 3.0), ops.sqrt, np.sqrt),
    "abs": Spec(unary(away_from=0.0), ops.abs, np.abs),
    "sin": Spec(unary(), ops.sin, np.sin),
    "cos": Spec(unary(), ops.cos, np.cos),
    "tanh": Spec(unary(), ops.tanh, np.tanh),
    "sigmoid": Spec(unary(-6, 6), ops.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "relu": Spec(unary(away_from=0.0), ops.relu, lambda x: np.maximum(x, 0)),
    "gelu": Spec(unary(-4, 4), ops.gelu,        # 1 + tanh(u) cancels for x << 0: 1e-7 absolute
                 lambda x: 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))),
                 atol32=1e-6),
    "matmul": Spec(matmul_pair, ops.matmul, np.matmul),
    "sum": reduction("sum"),
    "max": reduction("max"),
    "reshape": Spec(reshape_draw, ops.reshape, np.reshape),
    "transpose": Spec(transpose_draw, ops.transpose, np.transpose),
    "broadcast_to": Spec(broadcast_draw, ops.broadcast_to, np.broadcast_to),
    "getitem": Spec(index_draw, ops.getitem, lambda x, i: x[i]),
    "scatter_add": Spec(scatter_draw, ops.scatter_add, scatter_ref),
    "concatenate": Spec(concat_draw, lambda *a: ops.concatenate(a[:-1], a[-1]),
                        lambda *a: np.concatenate(a[:-1], a[-1])),
    "im2col": Spec(im2col_draw, ops.im2col, im2col_ref),
    "col2im": Spec(col2im_draw, ops.col2im, col2im_ref),
    "conv2d": Spec(conv_draw, ops.conv2d, conv_ref, atol32=2e-5),
    "conv2d_transpose": Spec(conv_transpose_draw, ops.conv2d_transpose,
                             conv_transpose_ref, atol32=2e-5),
    "conv2d_weight": Spec(conv_weight_draw, ops.conv2d_weight, conv_weight_ref,
                          atol32=2e-5),
    "max_pool2d": Spec(pool_draw, ops.max_pool2d, pool_ref),
    "max_pool2d_gather": Spec(lambda d, t: pool_linear_draw(d, t, lambda s, k: s),
                              pool_call(ops.max_pool2d_gather), pool_gather_ref, atol32=1e-6),
    "max_pool2d_scatter": Spec(lambda d, t: pool_linear_draw(d, t, pooled_shape),
                               pool_call(ops.max_pool2d_scatter), pool_scatter_ref,
                               atol32=1e-6),
    "log_softmax": Spec(log_softmax_draw, ops.log_softmax, log_softmax_ref, atol32=1e-6),
    "cross_entropy": Spec(xent_draw, ops.softmax_cross_entropy, xent_ref, atol32=1e-6,
                          mapped_ints=True),
}

from operation_specs import BREADTH_SPECS  # noqa: E402  (it reads the helpers above)

SPECS.update(BREADTH_SPECS)
