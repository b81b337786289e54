"""Convolutions (``F.conv1d``, ``F.conv2d``, ``F.conv_transpose2d``), PyTorch's signatures and
semantics (cross-correlation, NCHW), all on the conv2d family of primitives
(tinyad/primitives/convolution.py), whose arguments window_args.py checks:

    conv2d(x, w)             out[n,o,y,x] = b[o] + Σ_{c,i,j} w[o,c,i,j] xpad[n, c', y·sh + i·dh,
                             x·sw + j·dw], x (N, C, H, W), w (O, C/groups, kh, kw), c' the input
                             channel c of o's group; OH = (H + pt + pb - dh·(kh - 1) - 1) // sh + 1
    conv1d(x, w)             conv2d of the (N, C, 1, L) image with the (O, C/groups, 1, k) kernel
    conv_transpose2d(x, w)   the adjoint (transpose) of conv2d(·, w) applied to x, plus the bias:
                             x (N, C_in, H, W), w (C_in, C_out/groups, kh, kw); each input pixel
                             scatters w times itself to output rows y·sh + i·dh - pt, so
                             H_out = (H - 1)·sh - pt - pb + dh·(kh - 1) + output_padding + 1

The transpose is the conv2d_transpose primitive of an output of that size: the padding after it
is chosen so that its grid of windows is exactly H by W (with output_padding >= stride + that
padding, rows no window reaches are zeros, appended: the bias alone there, as in PyTorch).
"""
import numpy as np

from .. import ops
from ..errors import ShapeError
from .window_args import batched, conv_pads, pads, sizes, unbatched, window_count


def _channels(x, weight, groups, where, transposed=False):
    """Check C against the weight and the groups (transposed: w is (C_in, C_out/G, ...))."""
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be an int >= 1, got {groups!r}")
    per_group = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != per_group or weight.shape[0] % groups:
        layout = "(C_in, C_out/groups, k...)" if transposed else "(O, C/groups, k...)"
        raise ShapeError(f"{where}: input {x.shape} and weight {layout} {weight.shape} must "
                         f"agree on C with groups={groups} (which must divide the weight's "
                         "first axis)")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation (module docstring): input (N, C, H, W) or (C, H, W), weight
    (O, C/groups, kh, kw), bias (O,) or None -> (N, O, OH, OW). padding: an int, (ph, pw),
    ((top, bottom), (left, right)), "valid" or "same"."""
    x, added = batched(input, 2, "conv2d")
    weight = ops.lift(weight)
    if weight.ndim != 4:
        raise ShapeError(f"conv2d: weight must be (O, C/groups, kh, kw), got {weight.shape}")
    _channels(x, weight, groups, "conv2d")
    kernel = weight.shape[2:]
    stride = sizes(stride, 2, "stride", "conv2d")
    dilation = sizes(dilation, 2, "dilation", "conv2d")
    pad = conv_pads(padding, kernel, stride, dilation, "conv2d")
    for axis in range(2):
        window_count(x.shape[2 + axis], kernel[axis], stride[axis], pad[axis], dilation[axis],
                     "conv2d")
    return unbatched(ops.conv2d(x, weight, bias, stride, pad, dilation, groups), added)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation: input (N, C, L) or (C, L), weight (O, C/groups, k) -> (N, O, OL),
    OL = (L + before + after - d·(k - 1) - 1) // s + 1; padding an int, (before, after) as
    ((before, after),), "valid" or "same"."""
    x, added = batched(input, 1, "conv1d")
    weight = ops.lift(weight)
    if weight.ndim != 3:
        raise ShapeError(f"conv1d: weight must be (O, C/groups, k), got {weight.shape}")
    _channels(x, weight, groups, "conv1d")
    stride = sizes(stride, 1, "stride", "conv1d")
    dilation = sizes(dilation, 1, "dilation", "conv1d")
    pad = conv_pads(padding, weight.shape[2:], stride, dilation, "conv1d")
    window_count(x.shape[2], weight.shape[2], stride[0], pad[0], dilation[0], "conv1d")
    out = ops.conv2d(ops.reshape(x, *x.shape[:2], 1, x.shape[2]),
                     ops.reshape(weight, *weight.shape[:2], 1, weight.shape[2]), bias,
                     (1,) + stride, ((0, 0),) + pad, (1,) + dilation, groups)
    return unbatched(ops.reshape(out, *out.shape[:2], out.shape[3]), added)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The transposed convolution (module docstring): input (N, C_in, H, W) or (C_in, H, W),
    weight (C_in, C_out/groups, kh, kw), bias (C_out,) or None -> (N, C_out, H_out, W_out).
    output_padding (an int or a pair) adds rows after the output, each < stride or dilation."""
    x, added = batched(input, 2, "conv_transpose2d")
    weight = ops.lift(weight)
    if weight.ndim != 4:
        raise ShapeError(f"conv_transpose2d: weight must be (C_in, C_out/groups, kh, kw), got "
                         f"{weight.shape}")
    _channels(x, weight, groups, "conv_transpose2d", transposed=True)
    where = "conv_transpose2d"
    stride, dilation = sizes(stride, 2, "stride", where), sizes(dilation, 2, "dilation", where)
    extra = sizes(output_padding, 2, "output_padding", where, low=0)
    pad = pads(padding, 2, where)
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{where}: output_padding {extra} must be smaller than either stride "
                         f"{stride} or dilation {dilation}")
    full, grid_pad, zero_rows = [], [], []
    for size, k, s, d, (before, after), e in zip(x.shape[2:], weight.shape[2:], stride, dilation,
                                                 pad, extra):
        out = (size - 1) * s - before - after + d * (k - 1) + e + 1
        if out < 1:
            raise ShapeError(f"{where}: input {x.shape} with kernel {weight.shape[2:]} and "
                             f"padding {pad} gives no output")
        missing = max(0, e - after - (s - 1))          # rows after every window: zeros
        full.append(out)
        grid_pad.append((before, max(0, after - e)))
        zero_rows.append(missing)
    shape = (x.shape[0], weight.shape[1] * groups, full[0] - zero_rows[0], full[1] - zero_rows[1])
    out = ops.conv2d_transpose(x, weight, shape, stride, tuple(grid_pad), dilation, groups)
    for axis, rows in ((2, zero_rows[0]), (3, zero_rows[1])):
        if rows:
            zeros = out._xp.zeros(out.shape[:axis] + (rows,) + out.shape[axis + 1:], out.dtype)
            out = ops.concatenate([out, ops.lift(zeros, out)], axis)
    if bias is not None:
        out = out + ops.reshape(ops.lift(bias, out), 1, -1, 1, 1)
    return unbatched(out, added)
