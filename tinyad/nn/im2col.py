"""im2col: turn a convolution into one matrix product.

For an input (N, C, H, W), a kernel kh x kw, stride s and zero padding p, every output position
(y, x) sees one window of kh·kw·C input values. The ``im2col`` primitive lays those windows out as
the rows of one matrix, columns ordered (i, j, c):

    cols[(n, y, x), (i, j, c)] = xpad[n, c, y·s + i, x·s + j]          (N·OH·OW, kh·kw·C)
    OH = (H + 2p - kh) // s + 1,   OW = (W + 2p - kw) // s + 1

so a convolution is ``cols @ weight.transpose(0, 2, 3, 1).reshape(out, kh·kw·C).T``. The primitive
is linear: its VJP is ``col2im``, which adds each window back in place (one strided add per kernel
offset; ``tinyad.kernels.col2im`` runs it in NumPy or Numba), and col2im's VJP is im2col again
(primitives/windows.py). ``F.conv2d`` no longer builds this matrix (115 MB for the paper's CNN
at batch 64): its primitive (primitives/convolution.py) takes about 1 MB of rows at a time. The
whole matrix serves overlapping max-pools and the GPU path. This module checks the arguments.
"""
from .. import ops
from ..errors import ShapeError


def pair(v, name):
    """An int or a pair of ints -> (int, int)."""
    pv = (v, v) if isinstance(v, int) else tuple(v)
    if len(pv) != 2 or not all(isinstance(k, int) for k in pv):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return pv


def output_size(size, kernel, stride, padding, where):
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ShapeError(f"{where}: kernel {kernel} does not fit an input of size {size} with "
                         f"padding {padding}")
    return out


def geometry(x, kernel_size, stride, padding, where):
    """Checked (kh, kw), (sh, sw), (ph, pw) and the output size (OH, OW) for input x (N, C, H, W)."""
    if x.ndim != 4:
        raise ShapeError(f"{where}: input must be (N, C, H, W), got shape {x.shape}")
    (kh, kw), (sh, sw), (ph, pw) = (pair(kernel_size, "kernel_size"), pair(stride, "stride"),
                                    pair(padding, "padding"))
    if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{where}: kernel_size and stride must be >= 1 and padding >= 0, got "
                         f"{(kh, kw)}, {(sh, sw)}, {(ph, pw)}")
    oh = output_size(x.shape[2], kh, sh, ph, where)
    ow = output_size(x.shape[3], kw, sw, pw, where)
    return (kh, kw), (sh, sw), (ph, pw), (oh, ow)


def im2col(x, kernel_size, stride=1, padding=0, where="im2col"):
    """(N, C, H, W) -> (windows (N·OH·OW, kh·kw·C), (OH, OW)), as in the module docstring."""
    kernel, stride, padding, out = geometry(x, kernel_size, stride, padding, where)
    return ops.im2col(x, kernel, stride, padding), out
