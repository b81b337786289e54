"""Convolution windows: im2col and col2im, linear maps, each the other's adjoint (so each is
the other's VJP, and every order of derivative works).

im2col turns a convolution into one matrix product. For an input (N, C, H, W), a kernel kh x kw,
stride s, dilation d and zero padding ((pt, pb), (pl, pr)), every output position (y, x) sees one
window of kh·kw·C input values, laid out as the rows of one matrix, columns ordered (i, j, c):

    cols[(n, y, x), (i, j, c)] = xpad[n, c, y·sh + i·dh, x·sw + j·dw]     (N·OH·OW, kh·kw·C)
    OH = (H + pt + pb - dh·(kh - 1) - 1) // sh + 1,  OW alike

so a convolution is ``cols @ weight.transpose(0, 2, 3, 1).reshape(out, kh·kw·C).T``. col2im adds
each window back in place (one strided add per kernel offset; ``tinyad.kernels.col2im`` runs it
in NumPy or Numba). ``F.conv2d`` does not build this matrix (115 MB for the paper's CNN at batch
64): its primitives (convolution.py) take about 1 MB of rows at a time on the CPU; the whole
matrix serves the GPU path. Both take kernel, stride and dilation as (rows, columns) pairs and
padding as ((top, bottom), (left, right)) (ops/windows.py brings every accepted spelling to
these).

Inside vmap a batch of B inputs (N, C, H, W) is one input of B·N images: its window rows,
ordered (image, y, x), are the B examples' rows one after the other."""
from .. import kernels, ops
from ..interpreter import LINEAR, Primitive, apply
from ..kernels.reference import pads, window_grid
from .rules import array_module

WINDOWS = "x must be (N, C, H, W) and the kernel must fit the padded input"


def _im2col_batch(prim, xs, batched, **params):
    x = xs[0]                                                  # (B, N, C, H, W)
    cols = apply(prim, ops.reshape(x, -1, *x.shape[2:]), **params)
    return ops.reshape(cols, x.shape[0], -1, cols.shape[1])


def _col2im_batch(prim, cs, batched, shape, **params):
    c = cs[0]                                                  # (B, N·OH·OW, K)
    size = c.shape[0]
    images = apply(prim, ops.reshape(c, -1, c.shape[2]), shape=(size * shape[0],) + shape[1:],
                   **params)
    return ops.reshape(images, size, *shape)


im2col = Primitive("im2col", lambda x, kernel, stride, padding, dilation:
                   _im2col(x, kernel, stride, padding, dilation),
                   jvp=LINEAR, shape_rule=WINDOWS, saves=(), batch=_im2col_batch,
                   vjp=(lambda g, out, x, **geometry: ops.col2im(g, x.shape, **geometry),))
col2im = Primitive("col2im", lambda c, shape, kernel, stride, padding, dilation:  # Numba, NumPy
                   kernels.col2im(c, shape, kernel, stride, padding, dilation), jvp=LINEAR,
                   shape_rule=WINDOWS, saves=(), batch=_col2im_batch,
                   vjp=(lambda g, out, c, shape, **geometry: ops.im2col(g, **geometry),))


def _windows(shape, kernel, stride, padding, dilation):
    """(OH, OW) for an (N, C, H, W) input (kernels/reference.py's window_grid), checked >= 1."""
    oh, ow = window_grid(shape, kernel, stride, padding, dilation)
    if oh < 1 or ow < 1:
        ((pt, pb), (pl, pr)), (h, w) = pads(padding), shape[2:]
        raise ValueError(f"kernel {kernel} with dilation {dilation} larger than the padded input "
                         f"{(h + pt + pb, w + pl + pr)}")
    return oh, ow


def _im2col(x, kernel, stride, padding, dilation):
    """cols[(n, y, x), (i, j, c)] = xpad[n, c, y·sh + i·dh, x·sw + j·dw]: (N·OH·OW, kh·kw·C).

    The windows are one strided view of the zero-padded input held channels-last (N, Hp, Wp, C),
    copied once; (i, j, c) column order keeps the innermost copy runs C-long and contiguous."""
    xp = array_module(x)
    oh, ow = _windows(x.shape, kernel, stride, padding, dilation)
    (kh, kw), (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = kernel, stride, dilation, pads(padding)
    n, c, h, w = x.shape
    xt = x.transpose(0, 2, 3, 1)
    if pt or pb or pl or pr:
        padded = xp.zeros((n, h + pt + pb, w + pl + pr, c), dtype=x.dtype)
        padded[:, pt:pt + h, pl:pl + w, :] = xt
        xt = padded
    s0, s1, s2, s3 = xt.strides
    win = xp.lib.stride_tricks.as_strided(xt, (n, oh, ow, kh, kw, c),
                                          (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3))
    return win.reshape(n * oh * ow, kh * kw * c)
