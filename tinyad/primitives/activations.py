"""Activations: tanh, sigmoid, relu, gelu. Fused kernels at first order (tinyad.kernels), the
formula, written in tinyad ops, for every higher order."""
import numpy as np

from .. import kernels, ops, tape
from ..backend import FLOATS
from .rules import array_module, const, elementwise, mask


def activation(name, value, partial):
    """An activation f whose value, and whose derivative when nothing will differentiate it
    again (a backward pass without create_graph, a JVP of untracked values), come from one fused
    pass of ``tinyad.kernels.act_forward`` when the kernel switch says "numba", or says "auto"
    (the default) and f is in FUSED. Otherwise: NumPy's `value`, and `partial` written in tinyad
    ops, which stays exact to any order."""
    def impl(x):
        return kernels.act_forward(name, x)[0] if _fused(name, x) else value(x)

    def derivative(out, x):
        if x._level < 0 and not (tape.recording() and x._requires_grad) and _fused(name, x._data):
            return const(kernels.act_forward(name, x._data)[1])
        return partial(out, x)
    return elementwise(name, impl, derivative)


FUSED = {"gelu"}   # where "auto" fuses: measured faster inside the engine, whole forward and
                   # backward counted (bench/results/engine_kernels.md; relu's kernel wins alone,
                   # but not once the engine needs only one of its two outputs per pass)


def _fused(name, x):
    choice = kernels.backend()
    return x.dtype in FLOATS and (choice == "numba" or (choice == "auto" and name in FUSED))


GELU_K, GELU_A = 0.7978845608028654, 0.044715           # sqrt(2/pi), and the cubic's weight


def _gelu(x):
    """x/2 (1 + tanh(k (x + a x³))): GELU's tanh approximation (Hendrycks and Gimpel 2016)."""
    k, a = x.dtype.type(GELU_K), x.dtype.type(GELU_A)
    return 0.5 * x * (1 + np.tanh(k * (x + a * x * x * x)))


def _gelu_partial(out, x):
    """(1 + tanh u)/2 + x/2 (1 - tanh² u) k (1 + 3 a x²), u = k (x + a x³), in tinyad ops."""
    th = ops.tanh(GELU_K * (x + GELU_A * x * x * x))
    return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * GELU_K * (1 + 3 * GELU_A * x * x)


def _sigmoid(x):
    """1 / (1 + e^-x): for x << 0, e^-x overflows to inf and the result is the correct 0 (no
    NaN, full relative precision elsewhere, unlike the cancelling (1 + tanh(x/2)) / 2)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + array_module(x).exp(-x))


tanh = activation("tanh", np.tanh, lambda out, x: 1 - out * out)
sigmoid = activation("sigmoid", _sigmoid, lambda out, x: out * (1 - out))
relu = activation("relu", lambda x: np.maximum(x, 0),
                  lambda out, x: mask(lambda x: x > 0, x, out=out))
gelu = activation("gelu", _gelu, _gelu_partial)
