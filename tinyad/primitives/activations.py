"""Activations: tanh, sigmoid, relu, gelu. Their one definition lives in tinyad.kernels
(kernels/activations.py); the fused kernel gives value and derivative in one pass where the
kernel table says so, and the formula written here in tinyad ops serves every higher order."""
from .. import kernels, ops, tape
from ..interpreter import Primitive
from ..kernels.activations import GELU_A, GELU_K
from ..node import OUT
from ..tensor import Tensor
from .batching import broadcasting
from .rules import BROADCAST, const, mask


def activation(name, partial, saves, derivative_saved=True, of_output=False):
    """Activation `name` of tinyad.kernels.ACTIVATIONS; `partial(out, x)` its derivative in
    tinyad ops (exact to any order; tests hold it to the definition), reading what `saves` says.
    ``of_output=True``: the partial is arithmetic on the output alone (tanh' = 1 - out²), so a
    backward pass that is not recorded evaluates it on the output's array, not op by op.

    Where ``kernels.fused(name, x)`` picks a kernel for x's device and dtype, one pass gives
    the value and the derivative: the tape keeps the derivative as the node's residual, and a
    backward pass that is not itself recorded multiplies by it instead of evaluating `partial`
    (``derivative_saved=False``: relu, whose derivative is its output's sign, which the tape
    keeps anyway as the next layer's input: one more array would buy nothing). In forward mode,
    a tangent of an untracked value goes through ``kernels.act_jvp``: f(x) and f'(x) t in one
    pass. Elsewhere the value is ``kernels.act_value`` (the definition on whole arrays)."""
    def impl(x):
        return kernels.act_forward(name, x)[0] if kernels.fused(name, x) \
            else kernels.act_value(name, x)

    def forward(x):
        if kernels.fused(name, x):
            return kernels.act_forward(name, x)
        return kernels.act_value(name, x), None

    def value_and_tangent(x, t):
        return kernels.act_jvp(name, x, t) if kernels.fused(name, x) else None

    def derivative(out, x):
        """The JVP's factor: the kernel's derivative when x is a constant to every transform."""
        if x._level < 0 and not (tape.recording() and x._requires_grad) \
                and kernels.fused(name, x._data):
            return const(kernels.act_forward(name, x._data)[1])
        return partial(out, x)

    def vjp(g, out, x, residual=None):
        if residual is None and of_output and type(out) is Tensor and not tape.recording():
            residual = partial(out._data, None)         # first order, on a plain output
        return g * (const(residual) if residual is not None else partial(out, x))
    return Primitive(name, impl, jvp=(lambda t, out, x: t * derivative(out, x),), vjp=(vjp,),
                     shape_rule=BROADCAST, saves=saves, value_and_tangent=value_and_tangent,
                     forward=forward if derivative_saved else None, batch=broadcasting)


def _gelu_partial(out, x):
    """gelu' = s + 2k x s (1 - s) (1 + 3 a x²), s = sigmoid(2k (x + a x³)), in tinyad ops."""
    k, a = GELU_K, GELU_A
    s = ops.sigmoid(2 * k * (x + a * x * x * x))
    return s + 2 * k * x * s * (1 - s) * (1 + 3 * a * x * x)


tanh = activation("tanh", lambda out, x: 1 - out * out, saves=(OUT,), of_output=True)
sigmoid = activation("sigmoid", lambda out, x: out * (1 - out), saves=(OUT,), of_output=True)
relu = activation("relu", lambda out, x: mask(lambda o: o > 0, out, out=out), saves=(OUT,),
                  derivative_saved=False)
gelu = activation("gelu", _gelu_partial, saves=(0,))
