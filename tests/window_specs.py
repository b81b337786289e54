"""The registry entries of the convolution and pooling primitives (tests/primitive_specs.py):
im2col, col2im, the conv2d family and max-pooling, with references written as loops or as the
window matrix, over random geometries (overlapping, gapped, padded on either side, dilated and
grouped windows all occur)."""
import numpy as np
from hypothesis import strategies as st

from tinyad import backend, ops
from tinyad.primitives import pooling

from spec_base import Spec, values


def windows_geometry(data):
    """An input shape (N, C, H, W) and a kernel, stride, padding ((top, bottom), (left, right))
    and dilation that fit it (overlapping, gapped, dilated and unevenly padded windows all
    occur)."""
    kernel = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)))
    dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    padding = tuple((data.draw(st.integers(0, 1)), data.draw(st.integers(0, 1))) for _ in "hw")
    hw = [max(d * (k - 1) + 1 - sum(p), 1) + data.draw(st.integers(0, 3))
          for k, p, d in zip(kernel, padding, dilation)]
    return ((data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), *hw), kernel, stride,
            padding, dilation)


def im2col_draw(data, dtype):
    shp, kernel, stride, padding, dilation = windows_geometry(data)
    return [values(data, shp, dtype), kernel, stride, padding, dilation]


def im2col_ref(x, kernel, stride, padding, dilation):
    """The window matrix by loops: row (n, y, x), column (i, j, c)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    n, c, h, w = xp.shape
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    rows = [xp[b, :, y * sh:y * sh + dh * (kh - 1) + 1:dh,
               z * sw:z * sw + dw * (kw - 1) + 1:dw].transpose(1, 2, 0).ravel()
            for b in range(n) for y in range(oh) for z in range(ow)]
    return np.array(rows, dtype=x.dtype).reshape(n * oh * ow, kh * kw * c)


def col2im_draw(data, dtype):
    shp, kernel, stride, padding, dilation = windows_geometry(data)
    rows = im2col_ref(np.zeros(shp), kernel, stride, padding, dilation).shape
    return [values(data, rows, dtype), shp, kernel, stride, padding, dilation]


def col2im_ref(cols, shp, *geometry):
    """The adjoint of im2col_ref, read off its matrix: cols summed into each window's place."""
    x = np.arange(np.prod(shp)).reshape(shp).astype(float)
    where = im2col_ref(x, *geometry).astype(int)                      # flat positions (pad: 0)
    inside = im2col_ref(np.ones(shp), *geometry) > 0
    out = np.zeros(int(np.prod(shp)), dtype=np.float64)
    np.add.at(out, where[inside], cols[inside].astype(np.float64))
    return out.reshape(shp).astype(cols.dtype)


def conv_draw(data, dtype):
    """x, w, bias, stride, padding, dilation, groups for conv2d (G = 1..3 groups of 1..2 input
    and 1..2 output channels)."""
    shp, kernel, stride, padding, dilation = windows_geometry(data)
    groups = data.draw(st.integers(1, 3))
    shp = (shp[0], groups * data.draw(st.integers(1, 2))) + shp[2:]
    o = groups * data.draw(st.integers(1, 2))
    w = values(data, (o, shp[1] // groups) + kernel, dtype)
    return [values(data, shp, dtype), w, values(data, (o,), dtype), stride, padding, dilation,
            groups]


def split(a, groups, axis):
    return np.split(a, groups, axis=axis)


def conv_ref(x, w, b, stride, padding, dilation, groups):
    """Per group, the window matrix times the weight as a (kh·kw·C/G, O/G) matrix; the groups'
    outputs side by side, plus the bias, back to (N, O, OH, OW)."""
    outs = [im2col_ref(xg, wg.shape[2:], stride, padding, dilation)
            @ wg.transpose(2, 3, 1, 0).reshape(-1, wg.shape[0])
            for xg, wg in zip(split(x, groups, 1), split(w, groups, 0))]
    out = np.concatenate(outs, axis=1) + b
    padded_h = x.shape[2] + sum(padding[0])
    oh = (padded_h - dilation[0] * (w.shape[2] - 1) - 1) // stride[0] + 1
    return out.reshape(x.shape[0], oh, -1, w.shape[0]).transpose(0, 3, 1, 2)


def conv_transpose_draw(data, dtype):
    x, w, _, *geometry = conv_draw(data, dtype)
    g = values(data, conv_ref(x, w, 0, *geometry).shape, dtype)
    return [g, w, x.shape, *geometry]


def conv_transpose_ref(g, w, shp, stride, padding, dilation, groups):
    """Per group, each g[n, o, y, x] times w[o] added back over its window: col2im of g @ Wᵀ."""
    parts = []
    for gg, wg in zip(split(g, groups, 1), split(w, groups, 0)):
        o = wg.shape[0]
        cols = gg.transpose(0, 2, 3, 1).reshape(-1, o) @ wg.transpose(2, 3, 1, 0).reshape(-1, o).T
        parts.append(col2im_ref(cols, (shp[0], shp[1] // groups) + tuple(shp[2:]), wg.shape[2:],
                                stride, padding, dilation))
    return np.concatenate(parts, axis=1)


def conv_weight_draw(data, dtype):
    x, w, _, *geometry = conv_draw(data, dtype)
    g = values(data, conv_ref(x, w, 0, *geometry).shape, dtype)
    return [x, g, w.shape[2:], *geometry]


def conv_weight_ref(x, g, kernel, stride, padding, dilation, groups):
    """Per group, window matrixᵀ @ g, as (O/G, C/G, kh, kw); the groups stacked along O."""
    parts = []
    for xg, gg in zip(split(x, groups, 1), split(g, groups, 1)):
        o, c = gg.shape[1], xg.shape[1]
        cols = im2col_ref(xg, kernel, stride, padding, dilation)
        dw = cols.T @ gg.transpose(0, 2, 3, 1).reshape(-1, o)
        parts.append(dw.reshape(*kernel, c, o).transpose(3, 2, 0, 1))
    return np.concatenate(parts, axis=0)


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


WINDOW_SPECS = {
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
}
