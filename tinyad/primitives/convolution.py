"""Convolution as three primitives, each the others' derivative: no window matrix in the graph.

For x (N, C, H, W), w (O, C/G, kh, kw) in G groups, stride s = (sh, sw), dilation d = (dh, dw)
(the kernel's taps d apart), zero padding p = ((pt, pb), (pl, pr)), and OH = (H + pt + pb -
dh·(kh - 1) - 1) // sh + 1 (OW alike), with xpad the padded input and X[n,c,y,x,i,j] =
xpad[n, c, y·sh + i·dh, x·sw + j·dw] its windows::

    conv2d(x, w[, b])       (N, O, OH, OW)   out[n,o,y,x] = Σ_{c,i,j} w[o,c,i,j] X[n,c',y,x,i,j]
                                             (+ b[o] when a bias is given)
    conv2d_transpose(g, w)  (N, C, H, W)     the adjoint of x -> conv2d(x, w), applied to g
    conv2d_weight(x, g)     (O, C/G, kh, kw) dw[o,c,i,j] = Σ_{n,y,x} g[n,o,y,x] X[n,c',y,x,i,j]

where c' = k·C/G + c for the group k = o // (O/G) of output channel o: each group is a
convolution of its C/G input channels into its O/G outputs (G = 1: all of them; G = C: a
depthwise convolution). All three are bilinear, so each JVP is the same map with one argument
replaced by its tangent, and each VJP is one of the three (<u, A v> = <Aᵀ u, v> read three ways):

    conv2d:            x̄ = conv2d_transpose(ḡ, w)     w̄ = conv2d_weight(x, ḡ)
    conv2d_transpose:  ḡ = conv2d(c̄, w)               w̄ = conv2d_weight(c̄, g)
    conv2d_weight:     x̄ = conv2d_transpose(g, c̄)     ḡ = conv2d(x, c̄)

so higher derivatives never leave the family, and stride, padding, dilation and groups pass
through unchanged; each input's VJP reads only the other input (the tape keeps x for w's rule
and w for x's; ``saves``). The bias, when given, is added to each block of the output while it
is in cache (its JVP broadcasts t, its VJP sums ḡ over N, OH and OW). NumPy arrays run
tinyad.kernels.cpu_conv (windows a block of rows at a time, BLAS, Numba); other arrays (CuPy)
the whole window matrix of each group, through the table's im2col and col2im. The wrappers that
lift arguments and call these are in tinyad/ops/windows.py. Inside vmap, shared weights see the
B examples' N images as one batch of B·N (groups split channels, so they are untouched).
"""
import numpy as np

from .. import ops
from ..interpreter import Primitive, apply
from ..kernels.reference import pads, window_grid
from .batching import per_example
from .rules import array_module
from .windows import col2im, im2col

RULE = ("x (N, C, H, W) and w (O, C/G, kh, kw) agree on C and G divides O, the dilated kernel "
        "fits the padded input, and g is (N, O, OH, OW) for those windows")


# --- the arrays: checked, one dtype, then the CPU kernels or the whole window matrix -----------
def _windows(shape, kernel, stride, padding, dilation):
    """(OH, OW) of an (N, C, H, W) input; ValueError when the kernel does not fit."""
    padding = pads(padding)
    if len(shape) != 4 or min(kernel + stride + dilation) < 1 or min(sum(padding, ())) < 0:
        raise ValueError(f"need a 4-D input, kernel, stride and dilation >= 1, padding >= 0; got "
                         f"shape {tuple(shape)}, kernel {kernel}, stride {stride}, dilation "
                         f"{dilation}, padding {padding}")
    oh, ow = window_grid(shape, kernel, stride, padding, dilation)
    if oh < 1 or ow < 1:
        ((pt, pb), (pl, pr)) = padding
        raise ValueError(f"kernel {kernel} with dilation {dilation} larger than the padded input "
                         f"{(shape[2] + pt + pb, shape[3] + pl + pr)}")
    return oh, ow


def _check(x_shape, w_shape, g_shape, stride, padding, dilation, groups):
    """The common shape rule (RULE); returns nothing, raises ValueError."""
    if (len(w_shape) != 4 or len(x_shape) != 4 or groups < 1 or w_shape[0] % groups
            or x_shape[1] != w_shape[1] * groups):
        raise ValueError(f"input {tuple(x_shape)} and weight {tuple(w_shape)} must be 4-D and "
                         f"agree on C in {groups} group(s): C = {groups}·weight.shape[1], and "
                         f"{groups} must divide O")
    oh, ow = _windows(x_shape, tuple(w_shape[2:]), stride, padding, dilation)
    if g_shape is not None and tuple(g_shape) != (x_shape[0], w_shape[0], oh, ow):
        raise ValueError(f"g has shape {tuple(g_shape)}, the windows need "
                         f"{(x_shape[0], w_shape[0], oh, ow)}")


def _common(*arrays):
    dtype = np.result_type(*arrays)
    return [a.astype(dtype, copy=False) for a in arrays]


def _forward(x, w, *bias, **geometry):
    _check(x.shape, w.shape, None, **geometry)
    if bias and tuple(bias[0].shape) != (w.shape[0],):
        raise ValueError(f"bias has shape {tuple(bias[0].shape)}, the weight needs "
                         f"({w.shape[0]},)")
    x, w, *bias = _common(x, w, *bias)
    from ..kernels import cpu_conv
    impl = cpu_conv.forward if isinstance(x, np.ndarray) else whole_forward
    return impl(x, w, bias=bias[0] if bias else None, **geometry)


def _transpose(g, w, shape, **geometry):
    _check(shape, w.shape, g.shape, **geometry)
    g, w = _common(g, w)
    from ..kernels import cpu_conv
    impl = cpu_conv.input_grad if isinstance(g, np.ndarray) else whole_transpose
    return impl(g, w, shape, **geometry)


def _weight(x, g, kernel, **geometry):
    groups = geometry["groups"]
    per_group = x.shape[1] // groups if x.shape[1] % groups == 0 else -1     # -1: _check refuses
    w_shape = (g.shape[1], per_group) + kernel
    _check(x.shape, w_shape, g.shape, **geometry)
    x, g = _common(x, g)
    from ..kernels import cpu_conv
    impl = cpu_conv.weight_grad if isinstance(x, np.ndarray) else whole_weight
    return impl(x, g, kernel, **geometry)


# The same three maps through the whole window matrix of each group (the table's im2col and
# col2im): for CuPy arrays, and the yardstick the blocked CPU kernels are tested against.
def whole_forward(x, w, stride, padding, bias=None, dilation=(1, 1), groups=1):
    from ..kernels.cpu_conv import groups_of, weight_matrix
    n, o, kernel = x.shape[0], w.shape[0], tuple(w.shape[2:])
    oh, ow = _windows(x.shape, kernel, stride, padding, dilation)
    out = [im2col.impl(x[:, cs], kernel, stride, padding, dilation) @ weight_matrix(w[os])
           for cs, os in groups_of(groups, x.shape[1], o)]
    out = out[0] if groups == 1 else array_module(x).concatenate(out, axis=1)
    out = out if bias is None else out + bias
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)


def whole_transpose(g, w, shape, stride, padding, dilation=(1, 1), groups=1):
    from ..kernels.cpu_conv import groups_of, weight_matrix
    (n, c, h, wd), og = shape, w.shape[0] // groups
    dx = []
    for cs, os in groups_of(groups, c, w.shape[0]):
        cols = g[:, os].transpose(0, 2, 3, 1).reshape(-1, og) @ weight_matrix(w[os]).T
        dx.append(col2im.impl(cols, (n, c // groups, h, wd), tuple(w.shape[2:]), stride,
                              padding, dilation))
    return dx[0] if groups == 1 else array_module(g).concatenate(dx, axis=1)


def whole_weight(x, g, kernel, stride, padding, dilation=(1, 1), groups=1):
    from ..kernels.cpu_conv import groups_of
    (o, c), kernel = (g.shape[1], x.shape[1]), tuple(kernel)
    dw = []
    for cs, os in groups_of(groups, c, o):
        cols = im2col.impl(x[:, cs], kernel, stride, padding, dilation)
        part = cols.T @ g[:, os].transpose(0, 2, 3, 1).reshape(-1, o // groups)
        dw.append(part.reshape(*kernel, c // groups, o // groups).transpose(3, 2, 0, 1))
    return dw[0] if groups == 1 else array_module(x).concatenate(dw, axis=0)


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
    jvp=(lambda t, out, x, w, *b, **geometry: ops.conv2d(t, w, None, **geometry),
         lambda t, out, x, w, *b, **geometry: ops.conv2d(x, t, None, **geometry),
         lambda t, out, x, w, b, **geometry:
         ops.broadcast_to(ops.reshape(t, 1, -1, 1, 1), out.shape)),
    vjp=(lambda g, out, x, w, *b, **geometry: ops.conv2d_transpose(g, w, x.shape, **geometry),
         lambda g, out, x, w, *b, **geometry: ops.conv2d_weight(x, g, w.shape[2:], **geometry),
         lambda g, out, x, w, b, **geometry: ops.sum(g, (0, 2, 3))))
conv2d_transpose = Primitive(
    "conv2d_transpose", _transpose, shape_rule=RULE, saves=((1,), (0,)), batch=_batch_images,
    jvp=bilinear(lambda a, b, **params: ops.conv2d_transpose(a, b, **params)),
    vjp=(lambda c, out, g, w, shape, **geometry: ops.conv2d(c, w, None, **geometry),
         lambda c, out, g, w, shape, **geometry:
         ops.conv2d_weight(c, g, w.shape[2:], **geometry)))
conv2d_weight = Primitive(                    # sums over each example's images: one at a time
    "conv2d_weight", _weight, shape_rule=RULE, saves=((1,), (0,)), batch=per_example,
    jvp=bilinear(lambda a, b, **params: ops.conv2d_weight(a, b, **params)),
    vjp=(lambda c, out, x, g, kernel, **geometry:
         ops.conv2d_transpose(g, c, x.shape, **geometry),
         lambda c, out, x, g, kernel, **geometry: ops.conv2d(x, c, None, **geometry)))
