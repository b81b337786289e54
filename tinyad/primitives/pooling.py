"""Max-pooling over non-overlapping windows as a primitive, with its two linear derivatives.

For x (N, C, H, W) and a (kh, kw) window moving by its own size (OH = H // kh, OW = W // kw, a
ragged edge dropped), m the window maxima and hit = (x == m) / (how many elements equal m)::

    max_pool2d(x)             m                                  (N, C, OH, OW)
    max_pool2d_gather(t)      Σ_window hit · t                   (N, C, OH, OW)   JVP: t ↦ dm
    max_pool2d_scatter(g)     hit · g, at each window element    (N, C, H, W)     VJP: g ↦ dx

where x and m are inputs of the two derivatives with a zero derivative of their own (pooling is
piecewise linear, so its second derivative is zero almost everywhere, and ties share the
gradient as before). gather and scatter are linear in their first input and each other's
adjoint, so each is its own JVP and the other's VJP. Inside vmap a batch of image batches is one
batch of images (batching.images).
NumPy arrays run tinyad.kernels.cpu_pool (one pass each); others (CuPy) the array expressions
below, which are also what the kernels are tested against.
"""
import numpy as np

from .. import ops
from ..backend import xp_of
from ..interpreter import Primitive
from ..node import OUT
from .batching import images
from .rules import zeros_like

RULE = "x is (N, C, H, W) with H >= kh and W >= kw"


def _fits(shape, kernel):
    if len(shape) != 4 or min(kernel) < 1 or shape[2] < kernel[0] or shape[3] < kernel[1]:
        raise ValueError(f"kernel {kernel} does not fit an input of shape {tuple(shape)}")


def _forward(x, kernel):
    _fits(x.shape, kernel)
    if isinstance(x, np.ndarray):
        from ..kernels import cpu_pool
        return cpu_pool.forward(x, kernel)
    return whole_forward(x, kernel)


def _gather_impl(t, x, m, kernel):
    if isinstance(t, np.ndarray) and isinstance(x, np.ndarray):
        from ..kernels import cpu_pool
        return cpu_pool.gather(t, x, m, kernel)
    return whole_gather(t, x, m, kernel)


def _scatter_impl(g, x, m, kernel):
    if isinstance(g, np.ndarray) and isinstance(x, np.ndarray):
        from ..kernels import cpu_pool
        return cpu_pool.scatter(g, x, m, kernel)
    return whole_scatter(g, x, m, kernel)


# --- the array expressions (CuPy, and the yardstick of the kernels) ---------------------------
def windows(a, kernel):
    """(N, C, H, W) -> (N, OH, kh, OW, kw, C): the windows as axes 2 and 4 (ragged edge dropped)."""
    (kh, kw), (n, c, h, w) = kernel, a.shape
    oh, ow = h // kh, w // kw
    return a.transpose(0, 2, 3, 1)[:, :oh * kh, :ow * kw, :].reshape(n, oh, kh, ow, kw, c)


def share(x, m, kernel):
    """hit: 1 / (number of maxima) where a window element equals its window's maximum, else 0."""
    hit = windows(x, kernel) == m.transpose(0, 2, 3, 1)[:, :, None, :, None, :]
    hit = hit.astype(m.dtype)
    with np.errstate(invalid="ignore"):                  # a NaN window: 0 / 0, NaN by design
        return hit / hit.sum(axis=(2, 4), keepdims=True)


def whole_forward(x, kernel):
    return windows(x, kernel).max(axis=(2, 4)).transpose(0, 3, 1, 2)


def whole_gather(t, x, m, kernel):
    return (windows(t, kernel) * share(x, m, kernel)).sum(axis=(2, 4)).transpose(0, 3, 1, 2)


def whole_scatter(g, x, m, kernel):
    (kh, kw), (n, c, h, w) = kernel, x.shape
    oh, ow = m.shape[2:]
    spread = g.transpose(0, 2, 3, 1)[:, :, None, :, None, :] * share(x, m, kernel)
    out = xp_of(g).zeros((n, h, w, c), g.dtype)
    out[:, :oh * kh, :ow * kw, :] = spread.reshape(n, oh * kh, ow * kw, c)
    return out.transpose(0, 3, 1, 2)


# --- the primitives ----------------------------------------------------------------------------
def _zero_tangent(t, out, *args, **params):
    return zeros_like(out)                 # the window maxima's positions: locally constant


max_pool2d = Primitive(
    "max_pool2d", _forward, shape_rule=RULE, batch=images, saves=(0, OUT),
    jvp=(lambda t, out, x, kernel: ops.max_pool2d_gather(t, x, out, kernel),),
    vjp=(lambda g, out, x, kernel: ops.max_pool2d_scatter(g, x, out, kernel),))
max_pool2d_gather = Primitive(                 # inputs t, and x, m: constants in effect
    "max_pool2d_gather", _gather_impl, shape_rule=RULE, batch=images, saves=((1, 2), (), ()),
    jvp=(lambda dt, out, t, x, m, kernel: ops.max_pool2d_gather(dt, x, m, kernel),
         _zero_tangent, _zero_tangent),
    vjp=(lambda c, out, t, x, m, kernel: ops.max_pool2d_scatter(c, x, m, kernel),
         lambda c, out, t, x, m, kernel: zeros_like(x),
         lambda c, out, t, x, m, kernel: zeros_like(m)))
max_pool2d_scatter = Primitive(                # inputs g, and x, m: constants in effect
    "max_pool2d_scatter", _scatter_impl, shape_rule=RULE, batch=images, saves=((1, 2), (), ()),
    jvp=(lambda dg, out, g, x, m, kernel: ops.max_pool2d_scatter(dg, x, m, kernel),
         _zero_tangent, _zero_tangent),
    vjp=(lambda c, out, g, x, m, kernel: ops.max_pool2d_gather(c, x, m, kernel),
         lambda c, out, g, x, m, kernel: zeros_like(x),
         lambda c, out, g, x, m, kernel: zeros_like(m)))
