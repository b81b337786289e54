"""Elementwise functions: exp, log, sqrt, abs, sin, cos, each from its one derivative."""
import numpy as np

from .. import ops
from .rules import array_module, elementwise, mask

exp = elementwise("exp", np.exp, lambda out, x: out)
log = elementwise("log", np.log, lambda out, x: 1 / x)
sqrt = elementwise("sqrt", np.sqrt, lambda out, x: 0.5 / out)
abs = elementwise("abs", np.abs, lambda out, x: mask(lambda x: array_module(x).sign(x), x, out=out))
sin = elementwise("sin", np.sin, lambda out, x: ops.cos(x))
cos = elementwise("cos", np.cos, lambda out, x: -ops.sin(x))
