"""Weight initialisation, with PyTorch's formulas, and where the random numbers come from.

Fans, for a weight of shape (out, in, *kernel) with r = prod(kernel) (r = 1 for Linear):

    fan_in = in * r          fan_out = out * r

    uniform_(t, a, b)               U(a, b)                 (zeros_, ones_: constants)
    normal_(t, mean, std)           N(mean, std²)
    kaiming_uniform_(t, a, mode)    U(-bound, bound),  bound = gain * sqrt(3 / fan),  gain = sqrt(2 / (1 + a²))
    kaiming_normal_(t, a, mode)     N(0, std²),        std = gain / sqrt(fan)
    xavier_uniform_(t, gain)        U(-bound, bound),  bound = gain * sqrt(6 / (fan_in + fan_out))
    xavier_normal_(t, gain)         N(0, std²),        std = gain * sqrt(2 / (fan_in + fan_out))

PyTorch's Linear and Conv2d use ``kaiming_uniform_(w, a=sqrt(5))``, which is U(±1/sqrt(fan_in)).

Reproducibility: every draw comes from one module-level NumPy ``Generator``, seeded with 0 when
tinyad is imported (so a fresh process builds the same model, as in PyTorch). ``seed(n)`` restarts
it; ``get_rng_state()`` / ``set_rng_state()`` save and restore it (for checkpoints); each function
also takes ``generator=`` (a ``numpy.random.Generator``) to draw from a stream of your own::

    nn.init.seed(0); a = nn.MLP([4, 8, 2])
    nn.init.seed(0); b = nn.MLP([4, 8, 2])       # identical to a

Values are drawn in float64 and then cast, so float32 and float64 models get the same numbers.
"""
import copy
import math

import numpy as np

from .. import backend

_generator = np.random.default_rng(0)
_device_generator = None         # CuPy's, seeded from _generator when first asked for


def seed(n):
    """Restart the default generator from seed `n` (and the device generator from it)."""
    global _generator, _device_generator
    _generator, _device_generator = np.random.default_rng(n), None


def get_rng_state():
    """The default generator's state (a dict of Python ints and strings)."""
    return copy.deepcopy(_generator.bit_generator.state)


def set_rng_state(state):
    global _device_generator
    _generator.bit_generator.state = copy.deepcopy(state)
    _device_generator = None


def generator_for(device):
    """The default generator of draws made on `device` (Dropout's masks): the NumPy generator on
    the CPU; on 'cuda' a CuPy generator seeded once by a draw from it, so masks are drawn where
    the activations live and nothing is copied over (the same seed, the same device draws; not
    the CPU's numbers). ``seed`` and ``set_rng_state`` restart both."""
    global _device_generator
    if backend.normalize_device(device) == "cpu":
        return _generator
    if _device_generator is None:
        _device_generator = backend.cupy().random.default_rng(int(_generator.integers(2**63)))
    return _device_generator


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through `nonlinearity` (PyTorch's)."""
    if nonlinearity in ("linear", "conv2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(f"fans need a weight with at least 2 dimensions, got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:]))
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in_and_fan_out(tensor)[0 if mode == "fan_in" else 1]


def _fill(tensor, values):
    """Write float64 `values` into `tensor` (its dtype, its device); returns the tensor."""
    tensor._assign(backend.to_device(values.astype(tensor.dtype), tensor.device))
    return tensor


def _rng(generator):
    return _generator if generator is None else generator


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def zeros_(tensor):
    return _fill(tensor, np.zeros(tensor.shape))


def ones_(tensor):
    return _fill(tensor, np.ones(tensor.shape))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan = _fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan) if fan else 0.0
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan = _fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return normal_(tensor, 0.0, std, generator)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return normal_(tensor, 0.0, std, generator)
