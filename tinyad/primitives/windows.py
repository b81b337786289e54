"""Convolution windows: im2col and col2im, linear maps, each the other's adjoint (so each is
the other's VJP, and every order of derivative works). nn/im2col.py explains the layout.

Inside vmap a batch of B inputs (N, C, H, W) is one input of B·N images: its window rows,
ordered (image, y, x), are the B examples' rows one after the other."""
from .. import kernels, ops
from ..interpreter import LINEAR, Primitive, apply
from ..kernels.reference import window_grid
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


im2col = Primitive("im2col", lambda x, kernel, stride, padding: _im2col(x, kernel, stride, padding),
                   jvp=LINEAR, shape_rule=WINDOWS, saves=(), batch=_im2col_batch,
                   vjp=(lambda g, out, x, kernel, stride, padding:
                        ops.col2im(g, x.shape, kernel, stride, padding),))
col2im = Primitive("col2im", lambda c, shape, kernel, stride, padding:    # Numba's, or NumPy's
                   kernels.col2im(c, shape, kernel, stride, padding), jvp=LINEAR,
                   shape_rule=WINDOWS, saves=(), batch=_col2im_batch,
                   vjp=(lambda g, out, c, shape, kernel, stride, padding:
                        ops.im2col(g, kernel, stride, padding),))


def _windows(shape, kernel, stride, padding):
    """(OH, OW) for an (N, C, H, W) input (window_grid, kernels/reference.py), checked to be >= 1."""
    oh, ow = window_grid(shape, kernel, stride, padding)
    if oh < 1 or ow < 1:
        (ph, pw), (h, w) = padding, shape[2:]
        raise ValueError(f"kernel {kernel} larger than the padded input {(h + 2 * ph, w + 2 * pw)}")
    return oh, ow


def _im2col(x, kernel, stride, padding):
    """cols[(n, y, x), (i, j, c)] = xpad[n, c, y·sh + i, x·sw + j]: (N·OH·OW, kh·kw·C).

    The windows are one strided view of the zero-padded input held channels-last (N, Hp, Wp, C),
    copied once; (i, j, c) column order keeps the innermost copy runs C-long and contiguous."""
    xp = array_module(x)
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
