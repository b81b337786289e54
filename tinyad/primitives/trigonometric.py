"""Trigonometric and hyperbolic functions, each from its partial derivatives (rules.elementwise):

    tan' = 1 + tan²          arcsin' = 1/√(1 - x²)    arccos' = -1/√(1 - x²)   arctan' = 1/(1 + x²)
    sinh' = cosh             cosh' = sinh             arcsinh' = 1/√(x² + 1)   arccosh' = 1/√(x² - 1)
    arctanh' = 1/(1 - x²)    arctan2(y, x) = the angle of the point (x, y):
                             ∂/∂y = x / (x² + y²),  ∂/∂x = -y / (x² + y²)

Values are NumPy's (CuPy's) own ufuncs, so they are correctly rounded where those are.
"""
import numpy as np

from .. import ops
from .rules import elementwise

tan = elementwise("tan", np.tan, lambda out, x: 1 + out * out)
arcsin = elementwise("arcsin", np.arcsin, lambda out, x: (1 - x * x) ** -0.5)
arccos = elementwise("arccos", np.arccos, lambda out, x: -(1 - x * x) ** -0.5)
arctan = elementwise("arctan", np.arctan, lambda out, x: 1 / (1 + x * x))
arctan2 = elementwise("arctan2", np.arctan2,
                      lambda out, y, x: x / (x * x + y * y),
                      lambda out, y, x: -y / (x * x + y * y))
sinh = elementwise("sinh", np.sinh, lambda out, x: ops.cosh(x))
cosh = elementwise("cosh", np.cosh, lambda out, x: ops.sinh(x))
arcsinh = elementwise("arcsinh", np.arcsinh, lambda out, x: (x * x + 1) ** -0.5)
arccosh = elementwise("arccosh", np.arccosh, lambda out, x: (x * x - 1) ** -0.5)
arctanh = elementwise("arctanh", np.arctanh, lambda out, x: 1 / (1 - x * x))
