"""Linear algebra: matmul, with NumPy's batch broadcasting."""
import numpy as np

from .. import kernels, ops
from ..interpreter import Primitive
from .batching import broadcasting

matmul = Primitive("matmul", kernels.matmul,                # x (..., n, k) @ y (..., k, m)
                   shape_rule="x.shape[-1] must equal y.shape[-2]; leading (batch) axes broadcast",
                   saves=((1,), (0,)),                      # each input's rule reads the other
                   batch=broadcasting,                      # vmap's axis is one more leading axis
                   jvp=(lambda t, out, x, y: t @ y,
                        lambda t, out, x, y: x @ t),
                   vjp=(lambda g, out, x, y: g @ ops.swap_last(y),
                        lambda g, out, x, y: ops.swap_last(x) @ g))
