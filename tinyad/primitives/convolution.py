"""Convolution as three primitives, each the others' derivative: no window matrix in the graph.

For x (N, C, H, W), w (O, C, kh, kw), stride s = (sh, sw), zero padding p = (ph, pw), and
OH = (H + 2ph - kh) // sh + 1 (OW alike), with xpad the padded input and X[n,c,y,x,i,j] =
xpad[n, c, y·sh + i, x·sw + j] its windows::

    conv2d(x, w[, b])       (N, O, OH, OW)   out[n,o,y,x] = Σ_{c,i,j} w[o,c,i,j] X[n,c,y,x,i,j]
                                             (+ b[o] when a bias is given)
    conv2d_transpose(g, w)  (N, C, H, W)     the adjoint of x -> conv2d(x, w), applied to g
    conv2d_weight(x, g)     (O, C, kh, kw)   dw[o,c,i,j] = Σ_{n,y,x} g[n,o,y,x] X[n,c,y,x,i,j]

All three are bilinear, so each JVP is the same map with one argument replaced by its tangent,
and each VJP is one of the three (<u, A v> = <Aᵀ u, v> read three ways):

    conv2d:            x̄ = conv2d_transpose(ḡ, w)     w̄ = conv2d_weight(x, ḡ)
    conv2d_transpose:  ḡ = conv2d(c̄, w)               w̄ = conv2d_weight(c̄, g)
    conv2d_weight:     x̄ = conv2d_transpose(g, c̄)     ḡ = conv2d(x, c̄)

so higher derivatives never leave the family, and each input's VJP reads only the other
input (the tape keeps x for w's rule and w for x's; ``saves``). The bias, when given, is added to each block of
the output while it is in cache (its JVP broadcasts t, its VJP sums ḡ over N, OH and OW).
NumPy arrays run tinyad.kernels.cpu_conv (windows a block of rows at a time, BLAS, Numba);
other arrays (CuPy) the whole window matrix, through the table's im2col and col2im. The
wrappers that lift arguments and call these are in tinyad/ops/windows.py.
"""
import numpy as np

from .. import ops
from ..interpreter import Primitive, apply
from ..kernels.reference import window_grid
from .batching import per_example
from .windows import col2im, im2col

RULE = ("x (N, C, H, W) and w (O, C, kh, kw) agree on C, the kernel fits the padded input, and "
        "g is (N, O, OH, OW) for those windows")


# --- the arrays: checked, one dtype, then the CPU kernels or the whole window matrix -----------
def _windows(shape, kernel, stride, padding):
    """(OH, OW) of an (N, C, H, W) input; ValueError when the kernel does not fit."""
    if len(shape) != 4 or min(kernel + stride) < 1 or min(padding) < 0:
        raise ValueError(f"need a 4-D input, kernel and stride >= 1, padding >= 0; got shape "
                         f"{tuple(shape)}, kernel {kernel}, stride {stride}, padding {padding}")
    oh, ow = window_grid(shape, kernel, stride, padding)
    if oh < 1 or ow < 1:
        raise ValueError(f"kernel {kernel} larger than the padded input "
                         f"{(shape[2] + 2 * padding[0], shape[3] + 2 * padding[1])}")
    return oh, ow


def _check(x_shape, w_shape, g_shape, stride, padding):
    """The common shape rule (RULE); returns nothing, raises ValueError."""
    if len(w_shape) != 4 or len(x_shape) != 4 or x_shape[1] != w_shape[1]:
        raise ValueError(f"input {tuple(x_shape)} and weight {tuple(w_shape)} must be 4-D and "
                         "agree on C")
    oh, ow = _windows(x_shape, tuple(w_shape[2:]), stride, padding)
    if g_shape is not None and tuple(g_shape) != (x_shape[0], w_shape[0], oh, ow):
        raise ValueError(f"g has shape {tuple(g_shape)}, the windows need "
                         f"{(x_shape[0], w_shape[0], oh, ow)}")


def _common(*arrays):
    dtype = np.result_type(*arrays)
    return [a.astype(dtype, copy=False) for a in arrays]


def _forward(x, w, *bias, stride, padding):
    _check(x.shape, w.shape, None, stride, padding)
    if bias and tuple(bias[0].shape) != (w.shape[0],):
        raise ValueError(f"bias has shape {tuple(bias[0].shape)}, the weight needs "
                         f"({w.shape[0]},)")
    x, w, *bias = _common(x, w, *bias)
    from ..kernels import cpu_conv
    impl = cpu_conv.forward if isinstance(x, np.ndarray) else whole_forward
    return impl(x, w, stride, padding, *bias)


def _transpose(g, w, shape, stride, padding):
    _check(shape, w.shape, g.shape, stride, padding)
    g, w = _common(g, w)
    from ..kernels import cpu_conv
    impl = cpu_conv.input_grad if isinstance(g, np.ndarray) else whole_transpose
    return impl(g, w, shape, stride, padding)


def _weight(x, g, kernel, stride, padding):
    _check(x.shape, (g.shape[1], x.shape[1]) + kernel, g.shape, stride, padding)
    x, g = _common(x, g)
    from ..kernels import cpu_conv
    impl = cpu_conv.weight_grad if isinstance(x, np.ndarray) else whole_weight
    return impl(x, g, kernel, stride, padding)


# The same three maps through the whole window matrix (the table's im2col and col2im): for CuPy
# arrays, and the yardstick the blocked CPU kernels are tested against.
def whole_forward(x, w, stride, padding, bias=None):
    from ..kernels.cpu_conv import weight_matrix
    n, o = x.shape[0], w.shape[0]
    oh, ow = _windows(x.shape, tuple(w.shape[2:]), stride, padding)
    cols = im2col.impl(x, tuple(w.shape[2:]), stride, padding)
    out = cols @ weight_matrix(w) if bias is None else cols @ weight_matrix(w) + bias
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)


def whole_transpose(g, w, shape, stride, padding):
    from ..kernels.cpu_conv import weight_matrix
    cols = g.transpose(0, 2, 3, 1).reshape(-1, w.shape[0]) @ weight_matrix(w).T
    return col2im.impl(cols, shape, tuple(w.shape[2:]), stride, padding)


def whole_weight(x, g, kernel, stride, padding):
    o, c = g.shape[1], x.shape[1]
    cols = im2col.impl(x, kernel, stride, padding)
    dw = cols.T @ g.transpose(0, 2, 3, 1).reshape(-1, o)
    return dw.reshape(*kernel, c, o).transpose(3, 2, 0, 1)


# --- batching (vmap): images of every example as one batch when the weights are shared --------
def _batch_images(prim, values, batched, **params):
    """conv2d (x, w[, b]) and conv2d_transpose (g, w): with only the first input batched, the B
    examples' N images are one batch of B·N (conv2d_transpose's `shape` says so too); with the
    weights batched, one example at a time."""
    if not batched[0] or any(batched[1:]):
        return per_example(prim, values, batched, **params)
    first = values[0]
    size, n = first.shape[:2]
    if "shape" in params:
        params = dict(params, shape=(size * n,) + tuple(params["shape"][1:]))
    out = apply(prim, ops.reshape(first, size * n, *first.shape[2:]), *values[1:], **params)
    return ops.reshape(out, size, n, *out.shape[1:])


# --- the primitives: value, JVP and VJP rules side by side ------------------------------------
def bilinear(op):
    """The JVP rules of a map op(a, b, **params) linear in each of a and b: op(t, b), op(a, t)."""
    return (lambda t, out, a, b, **params: op(t, b, **params),
            lambda t, out, a, b, **params: op(a, t, **params))


conv2d = Primitive(                   # inputs x, w and an optional bias b
    "conv2d", _forward, shape_rule=RULE, saves=((1,), (0,), ()), batch=_batch_images,
    jvp=(lambda t, out, x, w, *b, stride, padding: ops.conv2d(t, w, None, stride, padding),
         lambda t, out, x, w, *b, stride, padding: ops.conv2d(x, t, None, stride, padding),
         lambda t, out, x, w, b, stride, padding:
         ops.broadcast_to(ops.reshape(t, 1, -1, 1, 1), out.shape)),
    vjp=(lambda g, out, x, w, *b, stride, padding:
         ops.conv2d_transpose(g, w, x.shape, stride, padding),
         lambda g, out, x, w, *b, stride, padding:
         ops.conv2d_weight(x, g, w.shape[2:], stride, padding),
         lambda g, out, x, w, b, stride, padding: ops.sum(g, (0, 2, 3))))
conv2d_transpose = Primitive(
    "conv2d_transpose", _transpose, shape_rule=RULE, saves=((1,), (0,)), batch=_batch_images,
    jvp=bilinear(lambda a, b, **params: ops.conv2d_transpose(a, b, **params)),
    vjp=(lambda c, out, g, w, shape, stride, padding: ops.conv2d(c, w, None, stride, padding),
         lambda c, out, g, w, shape, stride, padding:
         ops.conv2d_weight(c, g, w.shape[2:], stride, padding)))
conv2d_weight = Primitive(                    # sums over each example's images: one at a time
    "conv2d_weight", _weight, shape_rule=RULE, saves=((1,), (0,)), batch=per_example,
    jvp=bilinear(lambda a, b, **params: ops.conv2d_weight(a, b, **params)),
    vjp=(lambda c, out, x, g, kernel, stride, padding:
         ops.conv2d_transpose(g, c, x.shape, stride, padding),
         lambda c, out, x, g, kernel, stride, padding: ops.conv2d(x, c, None, stride, padding)))
