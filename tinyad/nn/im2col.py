"""im2col: turn a convolution into one matrix product, from tinyad operations only.

For an input (N, C, H, W), a kernel kh x kw, stride s and zero padding p, every output position
(y, x) sees one window of C·kh·kw input values. ``im2col`` lays those windows out as

    cols[n, y, x, c, i·kw + j] = xpad[n, c, y·s + i, x·s + j]          (N, OH, OW, C, kh·kw)
    OH = (H + 2p - kh) // s + 1,   OW = (W + 2p - kw) // s + 1

so a convolution is ``cols.reshape(N·OH·OW, C·kh·kw) @ weight.reshape(out, C·kh·kw).T`` and a
max-pool is ``cols.max(axis=-1)``. The windows are gathered with kh·kw strided slices of the
padded input, one per kernel offset (i, j), then stacked: slicing, ``scatter_add`` (padding) and
``concatenate`` are linear primitives, so both modes differentiate im2col with no rule of its own.
Reverse mode sums each slice's cotangent back into place: that is col2im.
"""
from .. import ops
from ..errors import ShapeError


def pair(v, name):
    """An int or a pair of ints -> (int, int)."""
    pv = (v, v) if isinstance(v, int) else tuple(v)
    if len(pv) != 2 or not all(isinstance(k, int) for k in pv):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return pv


def pad2d(x, padding):
    """Zero-pad the last two axes by (ph, pw) on each side: (N, C, H, W) -> (N, C, H+2ph, W+2pw).

    This is ``scatter_add``: zeros of the padded shape with x added in the middle (its VJP crops)."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    *lead, h, w = x.shape
    inside = (Ellipsis, slice(ph, ph + h), slice(pw, pw + w))
    return ops.scatter_add(x, inside, (*lead, h + 2 * ph, w + 2 * pw))


def output_size(size, kernel, stride, padding, where):
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ShapeError(f"{where}: kernel {kernel} does not fit an input of size {size} with "
                         f"padding {padding}")
    return out


def im2col(x, kernel_size, stride=1, padding=0, where="im2col"):
    """(N, C, H, W) -> windows (N, OH, OW, C, kh·kw), as in the module docstring."""
    if x.ndim != 4:
        raise ShapeError(f"{where}: input must be (N, C, H, W), got shape {x.shape}")
    (kh, kw), (sh, sw), (ph, pw) = (pair(kernel_size, "kernel_size"), pair(stride, "stride"),
                                    pair(padding, "padding"))
    if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{where}: kernel_size and stride must be >= 1 and padding >= 0, got "
                         f"{(kh, kw)}, {(sh, sw)}, {(ph, pw)}")
    oh = output_size(x.shape[2], kh, sh, ph, where)
    ow = output_size(x.shape[3], kw, sw, pw, where)
    xt = ops.transpose(pad2d(x, (ph, pw)), 0, 2, 3, 1)                # (N, Hp, Wp, C)
    pieces = [xt[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
              for i in range(kh) for j in range(kw)]                   # each (N, OH, OW, C)
    return ops.stack(pieces, axis=-1)
