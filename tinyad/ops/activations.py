"""Activations composed from the table (each differentiable to every order), with PyTorch's
definitions and parameters; `where` picks a branch, and the branch not taken is fed a safe
argument so that its derivative never meets an overflow (no 0 · inf):

    softplus(x, β, t)   log(1 + e^(βx)) / β, and x where βx > t        (PyTorch's threshold)
    logsigmoid(x)       min(x, 0) - log(1 + e^-|x|)                     (never overflows)
    leaky_relu(x, a)    x if x > 0 else a·x
    elu(x, α)           x if x > 0 else α (e^x - 1);  selu = λ·elu(x, α) with SELU's λ, α
    celu(x, α)          x if x > 0 else α (e^(x/α) - 1)
    silu(x) (swish)     x · sigmoid(x);   mish(x) = x · tanh(softplus(x))
    hardtanh(x, lo, hi) x limited to [lo, hi];  relu6 = hardtanh(x, 0, 6)
    hardsigmoid(x)      0 below -3, 1 above 3, x/6 + 1/2 between
    hardswish(x)        0 below -3, x above 3, x (x + 3)/6 between
    softsign(x)         x / (1 + |x|)
    softmin(x, axis)    softmax(-x)

At the kinks the derivative is PyTorch's: leaky_relu and elu take the left one at 0 (a, α),
hardtanh, relu6 and hardsigmoid have zero derivative at their corners (PyTorch's strict
inequalities), hardswish the middle piece's at ±3 (-1/2 and 3/2).
"""
from .arithmetic import compare, minimum, where
from .composites import softmax
from .elementary import expm1, log1p
from .functions import abs, exp, sigmoid, tanh
from .lifting import lift

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _above(x, bound):
    return compare("greater", x, bound)


def softplus(x, beta=1.0, threshold=20.0):
    x = lift(x)
    linear = _above(beta * x, threshold)
    return where(linear, x, log1p(exp(where(linear, 0.0, beta * x))) / beta)


def logsigmoid(x):
    x = lift(x)
    return minimum(x, 0.0) - log1p(exp(-abs(x)))


def leaky_relu(x, negative_slope=0.01):
    x = lift(x)
    return where(_above(x, 0), x, negative_slope * x)


def elu(x, alpha=1.0):
    x = lift(x)
    positive = _above(x, 0)
    return where(positive, x, alpha * expm1(where(positive, 0.0, x)))


def selu(x):
    return SELU_SCALE * elu(x, SELU_ALPHA)


def celu(x, alpha=1.0):
    x = lift(x)
    positive = _above(x, 0)
    return where(positive, x, alpha * expm1(where(positive, 0.0, x) / alpha))


def silu(x):
    x = lift(x)
    return x * sigmoid(x)


swish = silu


def mish(x):
    x = lift(x)
    return x * tanh(softplus(x))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    x = lift(x)
    return where(compare("less_equal", x, min_val), min_val,
                 where(compare("greater_equal", x, max_val), max_val, x))


def relu6(x):
    return hardtanh(x, 0.0, 6.0)


def hardsigmoid(x):
    x = lift(x)
    return where(compare("less_equal", x, -3.0), 0.0,
                 where(compare("greater_equal", x, 3.0), 1.0, x / 6 + 0.5))


def hardswish(x):
    x = lift(x)
    return where(compare("less", x, -3.0), 0.0,
                 where(compare("less_equal", x, 3.0), x * (x + 3) / 6, x))


def softsign(x):
    x = lift(x)
    return x / (1 + abs(x))


def softmin(x, axis=-1):
    """softmax(-x) along `axis`: weights that favour the smallest entries."""
    return softmax(-lift(x), axis)
