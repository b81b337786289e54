"""A test registry: for every primitive, how to draw its inputs and what NumPy says it computes.

``SPECS[name] = Spec(draw, call, ref)``: ``draw(data, dtype)`` returns a list of NumPy inputs,
``call(*tensors)`` runs the primitive through tinyad's public ops and ``ref(*arrays)`` through
NumPy. tests/test_primitives.py checks every entry, and fails if a primitive has none. vmap's
test maps the float and boolean arrays (and integer ones too with ``mapped_ints``: labels).
spec_base.py holds ``Spec`` and the drawing helpers; window_specs.py the entries of the
convolution and pooling primitives; operation_specs.py those of issue #15's operations.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyad as ad
from tinyad import ops
from tinyad.batching import map_arrays

from spec_base import Spec, shape, values
from window_specs import WINDOW_SPECS


def broadcast_pair(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    return shapes.input_shapes


def unary(low=-2.0, high=2.0, away_from=None):
    return lambda data, dtype: [values(data, shape(data), dtype, low, high, away_from)]


def binary(low=-2.0, high=2.0, low2=None, high2=None):
    def draw(data, dtype):
        a, b = broadcast_pair(data)
        return [values(data, a, dtype, low, high),
                values(data, b, dtype, low if low2 is None else low2,
                       high if high2 is None else high2)]
    return draw


def distinct_pair(data, dtype):
    """Two broadcastable inputs that never tie (maximum has a kink where x == y)."""
    x, y = binary()(data, dtype)
    y = np.where(np.abs(x - y) < 0.1, y + 0.5, y).astype(dtype)
    return [x, y]


def select_draw(data, dtype):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    x, y, c = shapes.input_shapes
    return [values(data, x, dtype), values(data, y, dtype), values(data, c, dtype) > 0]


def matmul_pair(data, dtype):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,), (2, 1)]))
    left = batch + (n, k)
    right = data.draw(st.sampled_from([(k, m), batch[-1:] + (k, m)]))
    return [values(data, left, dtype), values(data, right, dtype)]


def axis_of(data, ndim):
    if ndim == 0:
        return None
    return data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                               st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                        unique=True).map(tuple)))


def reduction(name):
    def draw(data, dtype):
        x = values(data, shape(data), dtype)
        return [x, axis_of(data, x.ndim), data.draw(st.booleans())]
    return Spec(draw, lambda x, axis, keep: getattr(ops, name)(x, axis, keep),
                lambda x, axis, keep: getattr(np, name)(x, axis=axis, keepdims=keep))


def transpose_draw(data, dtype):
    x = values(data, shape(data, min_dims=1), dtype)
    return [x, tuple(data.draw(st.permutations(range(x.ndim))))]


def reshape_draw(data, dtype):
    x = values(data, shape(data), dtype)
    return [x, x.reshape(-1).shape if data.draw(st.booleans()) else (1,) + x.shape + (1,)]


def broadcast_draw(data, dtype):
    a, b = broadcast_pair(data)
    return [values(data, a, dtype), np.broadcast_shapes(a, b)]


def index_draw(data, dtype):
    x = values(data, shape(data, min_dims=1), dtype)
    n = x.shape[0]
    index = data.draw(st.sampled_from([
        0, slice(None, None, 2), (Ellipsis, 0), None,
        np.array([n - 1, 0, n - 1]),                     # repeats: gradients add up
        (np.arange(n), np.zeros(n, dtype=int)) if x.ndim > 1 else np.array([0, 0]),
    ]))
    return [x, index]


def scatter_draw(data, dtype):
    x = values(data, shape(data, min_dims=1), dtype)
    index = np.array([x.shape[0] - 1, 0, x.shape[0] - 1])
    return [values(data, (3,) + x.shape[1:], dtype), index, x.shape]


def scatter_ref(g, index, shp):
    out = np.zeros(shp, g.dtype)
    np.add.at(out, index, g)
    return out


def concat_draw(data, dtype):
    base = list(shape(data, min_dims=1))
    axis = data.draw(st.integers(0, len(base) - 1))
    parts = []
    for _ in range(data.draw(st.integers(1, 3))):
        base[axis] = data.draw(st.integers(1, 3))
        parts.append(values(data, tuple(base), dtype))
    return parts + [axis]


def log_softmax_draw(data, dtype):
    x = values(data, shape(data, min_dims=1), dtype, -5.0, 5.0)
    return [x, data.draw(st.integers(-x.ndim, x.ndim - 1))]


def log_softmax_ref(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def xent_draw(data, dtype):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    labels = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1))).integers(0, c, n)
    return [values(data, (n, c), dtype, -5.0, 5.0), labels]


def xent_ref(z, labels):
    return np.mean(-log_softmax_ref(z, 1)[np.arange(len(labels)), labels])


SPECS = {
    "add": Spec(binary(), ops.add, np.add),
    "neg": Spec(unary(), ops.neg, np.negative),
    "mul": Spec(binary(), ops.mul, np.multiply),
    "power": Spec(binary(0.5, 2.0, -2.0, 2.0), ops.power, np.power),
    "maximum": Spec(distinct_pair, ops.maximum, np.maximum),
    "minimum": Spec(distinct_pair, ops.minimum, np.minimum),
    "locally_constant": Spec(unary(away_from=0.0), lambda x: ad.apply(
        ad.PRIMITIVES["locally_constant"], x, map_arrays(np.sign, x)), np.sign),
    "select": Spec(select_draw, lambda x, y, c: ops.where(c, x, y),
                   lambda x, y, c: np.where(c, x, y)),
    "identity": Spec(unary(), ops.identity, lambda x: x),
    "astype": Spec(unary(), lambda x: ad.apply(ad.PRIMITIVES["astype"], x, dtype=x.dtype),
                   lambda x: x),
    "exp": Spec(unary(), ops.exp, np.exp),
    "log": Spec(unary(0.2, 3.0), ops.log, np.log),
    "sqrt": Spec(unary(0.2, 3.0), ops.sqrt, np.sqrt),
    "abs": Spec(unary(away_from=0.0), ops.abs, np.abs),
    "sin": Spec(unary(), ops.sin, np.sin),
    "cos": Spec(unary(), ops.cos, np.cos),
    "tanh": Spec(unary(), ops.tanh, np.tanh),
    "sigmoid": Spec(unary(-6, 6), ops.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "relu": Spec(unary(away_from=0.0), ops.relu, lambda x: np.maximum(x, 0)),
    "gelu": Spec(unary(-4, 4), ops.gelu,        # 1 + tanh(u) cancels for x << 0: 1e-7 absolute
                 lambda x: 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))),
                 atol32=1e-6),
    "matmul": Spec(matmul_pair, ops.matmul, np.matmul),
    "sum": reduction("sum"),
    "max": reduction("max"),
    "reshape": Spec(reshape_draw, ops.reshape, np.reshape),
    "transpose": Spec(transpose_draw, ops.transpose, np.transpose),
    "broadcast_to": Spec(broadcast_draw, ops.broadcast_to, np.broadcast_to),
    "getitem": Spec(index_draw, ops.getitem, lambda x, i: x[i]),
    "scatter_add": Spec(scatter_draw, ops.scatter_add, scatter_ref),
    "concatenate": Spec(concat_draw, lambda *a: ops.concatenate(a[:-1], a[-1]),
                        lambda *a: np.concatenate(a[:-1], a[-1])),
    **WINDOW_SPECS,
    "log_softmax": Spec(log_softmax_draw, ops.log_softmax, log_softmax_ref, atol32=1e-6),
    "cross_entropy": Spec(xent_draw, ops.softmax_cross_entropy, xent_ref, atol32=1e-6,
                          mapped_ints=True),
}

from operation_specs import BREADTH_SPECS  # noqa: E402  (it reads the helpers above)

SPECS.update(BREADTH_SPECS)
