"""Activations: tanh, sigmoid, relu, gelu. Their one definition lives in tinyad.kernels
(kernels/activations.py); the fused kernel gives value and derivative at first order where the
kernel table says so, and the formula written here in tinyad ops serves every higher order."""
from .. import kernels, ops, tape
from ..kernels.activations import GELU_A, GELU_K
from .rules import const, elementwise, mask


def activation(name, partial):
    """Activation `name` of tinyad.kernels.ACTIVATIONS. Its value, and its derivative when
    nothing will differentiate that again (a backward pass without create_graph, a JVP of
    untracked values), come from one fused pass of ``kernels.act_forward`` when
    ``kernels.fused(name, x)`` says the kernel table picks one for x's device and dtype. Otherwise
    the value is ``kernels.act_value`` (the definition on whole arrays) and the derivative is
    `partial`, written in tinyad ops, which stays exact to any order (tests hold it to the
    definition)."""
    def impl(x):
        return kernels.act_forward(name, x)[0] if kernels.fused(name, x) \
            else kernels.act_value(name, x)

    def derivative(out, x):
        if x._level < 0 and not (tape.recording() and x._requires_grad) \
                and kernels.fused(name, x._data):
            return const(kernels.act_forward(name, x._data)[1])
        return partial(out, x)
    return elementwise(name, impl, derivative)


def _gelu_partial(out, x):
    """gelu' = s + 2k x s (1 - s) (1 + 3 a x²), s = sigmoid(2k (x + a x³)), in tinyad ops."""
    k, a = GELU_K, GELU_A
    s = ops.sigmoid(2 * k * (x + a * x * x * x))
    return s + 2 * k * x * s * (1 - s) * (1 + 3 * a * x * x)


tanh = activation("tanh", lambda out, x: 1 - out * out)
sigmoid = activation("sigmoid", lambda out, x: out * (1 - out))
relu = activation("relu", lambda out, x: mask(lambda x: x > 0, x, out=out))
gelu = activation("gelu", _gelu_partial)
