"""col2im, the adjoint of im2col, as one Numba loop (same signature as ``reference.col2im``).

im2col copies every (kh x kw x C) window of a padded (N, C, H, W) input into one row of a matrix
(N·OH·OW, kh·kw·C), columns ordered (i, j, c). col2im sends each row back where it came from,
adding where windows overlap::

    out[n, c, y·sh + i·dh - pt, x·sw + j·dw - pl] += cols[(n, y, x), (i, j, c)]   (inside the image)

NumPy does this as kh·kw strided ``+=`` of whole slices (reference.py), each through a 4-D
iterator whose inner runs are only C long. The same passes as plain loops, adding C-long runs
into a channels-last buffer, run faster on the CNN's windows (bench/results/kernels_cpu.md) and
give the reference's result bit for bit.
"""
import numpy as np

from .jit import serial
from .reference import pads, window_grid


@serial
def col2im_kernel(cols, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, out):
    """Add the rows of `cols` into `out` (N, H, W, C), zero-filled by the caller: one pass per
    kernel offset (i, j), the reference's order, so each output element sums its terms in the
    same order and the two results are equal bit for bit."""
    n, h, w, c = out.shape
    for i in range(kh):
        for j in range(kw):
            base = (i * kw + j) * c
            for b in range(n):
                for y in range(oh):
                    yy = y * sh + i * dh - pt
                    if yy < 0 or yy >= h:
                        continue
                    for x in range(ow):
                        xx = x * sw + j * dw - pl
                        if xx < 0 or xx >= w:
                            continue
                        row = (b * oh + y) * ow + x
                        for ch in range(c):
                            out[b, yy, xx, ch] += cols[row, base + ch]


def col2im(cols, shape, kernel, stride, padding, dilation=(1, 1)):
    """(N·OH·OW, kh·kw·C) windows summed into an (N, C, H, W) array (a channels-last buffer seen
    as NCHW, as the reference returns it)."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ((pt, _), (pl, _)) = pads(padding)
    oh, ow = window_grid(shape, kernel, stride, padding, dilation)
    out = np.zeros((n, h, w, c), dtype=cols.dtype)
    col2im_kernel(np.ascontiguousarray(cols), oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, out)
    return out.transpose(0, 3, 1, 2)
