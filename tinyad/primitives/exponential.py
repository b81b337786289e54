"""Exponentials and logarithms beyond exp and log, each from its partial derivatives:

    log1p(x) = log(1 + x)       log1p' = 1 / (1 + x)      (exact near x = 0, where 1 + x is not)
    expm1(x) = e^x - 1          expm1' = e^x              (exact near x = 0)
    log2, log10                 1 / (x ln 2), 1 / (x ln 10)
    logaddexp(x, y) = log(e^x + e^y), never overflowing:  ∂/∂x = e^(x - out), ∂/∂y = e^(y - out)

log2 and log10 are primitives rather than log(x) / ln 2: that quotient gives log2(8) =
2.9999999999999996 in float64, NumPy's ufunc gives 3.
"""
import math

import numpy as np

from .. import ops
from .rules import elementwise

log1p = elementwise("log1p", np.log1p, lambda out, x: 1 / (1 + x))
expm1 = elementwise("expm1", np.expm1, lambda out, x: ops.exp(x))
log2 = elementwise("log2", np.log2, lambda out, x: 1 / (x * math.log(2)))
log10 = elementwise("log10", np.log10, lambda out, x: 1 / (x * math.log(10)))
logaddexp = elementwise("logaddexp", np.logaddexp,
                        lambda out, x, y: ops.exp(x - out),
                        lambda out, x, y: ops.exp(y - out))
