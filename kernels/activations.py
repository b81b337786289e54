"""Each activation written once: its value and its derivative, two functions of x.

The same functions run on NumPy (or CuPy) arrays as they stand, and are compiled for one element
at a time by Numba for the CPU (cpu.py) and for CUDA (cuda.py): ``compile_rules`` makes a copy of
each function whose elementary operations (``exp``, ``tanh_``, ``where``, ``maximum``,
``const``) are the target's, so the formulas below are the only ones (minitorch compiles its
scalar operators the same way). A compiled kernel computes both in one pass (the compiler shares
their common work). The CuPy kernels' CUDA C sources and the engine's differentiable formulas
for higher orders are tested against these::

    relu(x)    = max(x, 0)                 relu'(x)    = 1 if x > 0 else 0
    tanh(x)                                tanh'(x)    = 4e / (1 + e)^2,    e = exp(-2|x|)
    sigmoid(x) = 1/(1 + e) if x >= 0 else e/(1 + e),   sigmoid'(x) = e / (1 + e)^2,  e = exp(-|x|)
    gelu(x)    = x sigmoid(2u),  u = k (x + a x^3),  k = sqrt(2/pi),  a = 0.044715
    gelu'(x)   = sigmoid(2u) + x sigmoid'(2u) 2k (1 + 3 a x^2)

Why these forms: every exp is of an argument <= 0, so nothing overflows, nothing cancels in
either tail, and a value and its derivative share their exp (one per element in a kernel).
``(1 + tanh(x/2)) / 2`` gives sigmoid(-20) = 0 in float32 (the true value is 2.06e-9),
``s (1 - s)`` gives sigmoid'(20) = 0, and ``1 - tanh^2`` gives tanh'(20) = 0 for 1.7e-17. GELU is the tanh approximation (Hendrycks & Gimpel 2016, as in GPT-2),
x/2 (1 + tanh u), written as x sigmoid(2u): the same function, without the cancellation of
1 + tanh u for x << 0. ``relu(nan)`` is nan and every other function passes NaN through.

Writing one: two functions of x alone, no ``if`` (arrays have no truth value: use ``where``),
constants through ``const(x, v)`` (x's precision: in a float32 kernel a bare 0.5 would make the
arithmetic float64), then an entry in RULES. It is then an activation everywhere: the kernels,
the engine's switch, the registry tests (tests/kernel_specs.py), and the names ``nn`` and the
CLI offer.
"""
import types

import numpy as np

GELU_K = 0.7978845608028654          # sqrt(2 / pi)
GELU_A = 0.044715

# The elementary operations, here NumPy's (they also take CuPy arrays); compile_rules swaps them.
exp, tanh_, where, maximum = np.exp, np.tanh, np.where, np.maximum


def const(x, v):
    """The number v in x's precision (x an array or a NumPy scalar)."""
    return x.dtype.type(v)


def relu(x):
    return maximum(x, const(x, 0))


def relu_derivative(x):
    return where(x > const(x, 0), const(x, 1), const(x, 0))


def tanh(x):
    return tanh_(x)


def tanh_derivative(x):
    e = exp(const(x, -2) * abs(x))
    return const(x, 4) * e / ((const(x, 1) + e) * (const(x, 1) + e))


def sigmoid(x):
    e = exp(-abs(x))
    return where(x >= const(x, 0), const(x, 1) / (const(x, 1) + e), e / (const(x, 1) + e))


def sigmoid_derivative(x):
    e = exp(-abs(x))
    return e / ((const(x, 1) + e) * (const(x, 1) + e))


def gelu(x):
    return x * sigmoid(const(x, 2 * GELU_K) * (x + const(x, GELU_A) * x * x * x))


def gelu_derivative(x):
    k2, a, x2 = const(x, 2 * GELU_K), const(x, GELU_A), x * x
    u = k2 * (x + a * x * x2)
    return sigmoid(u) + x * sigmoid_derivative(u) * k2 * (const(x, 1) + const(x, 3) * a * x2)


RULES = {"relu": (relu, relu_derivative), "tanh": (tanh, tanh_derivative),
         "sigmoid": (sigmoid, sigmoid_derivative), "gelu": (gelu, gelu_derivative)}
ACTIVATIONS = tuple(RULES)           # the names, in order: a kernel's `kind` is the index here


def check(name):
    """`name` if it is an activation, else a ValueError listing the ones there are."""
    if name not in RULES:
        raise ValueError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}")
    return name


def index_of(name):
    """The index of activation `name` in ACTIVATIONS: what a compiled kernel takes."""
    return ACTIVATIONS.index(check(name))


def scalar_where(c, a, b):
    """``where`` for one element, as compiled kernels run it."""
    return a if c else b


def scalar_maximum(a, b):
    """``maximum`` for one element: NaN in a stays NaN, as in NumPy."""
    return b if a < b else a


def scalar_const(x, v):
    """``const`` for one element: v in the type of the scalar x."""
    return type(x)(v)


def compile_rules(jit, exp, tanh):
    """RULES compiled for one element by `jit` (``numba.njit(inline="always")``,
    ``cuda.jit(device=True)``...) with the target's `exp` and `tanh` and the scalar ``where``,
    ``maximum`` and ``const``. Returns {name: compiled pair(x) -> (f(x), f'(x))}."""
    scalar = {"where": jit(scalar_where), "maximum": jit(scalar_maximum),
              "const": jit(scalar_const), "exp": exp, "tanh_": tanh}
    functions = {fn.__name__: fn for pair in RULES.values() for fn in pair}
    compiled = compile_copies(jit, functions, globals(), scalar)
    return {name: _pair(jit, compiled[value.__name__], compiled[derivative.__name__])
            for name, (value, derivative) in RULES.items()}


def _pair(jit, value, derivative):
    def pair(x):
        return value(x), derivative(x)
    return jit(pair)


def compile_copies(jit, functions, module_globals, elementary):
    """{name: jit(copy)} for each function of `functions` (defined in `module_globals`): copies
    that share the function's code and read their globals from `module_globals` updated with
    `elementary` and with the compiled copies themselves, in order."""
    namespace = {**module_globals, **elementary}
    compiled = {}
    for name, fn in functions.items():
        copy = types.FunctionType(fn.__code__, namespace, fn.__name__)
        namespace[fn.__name__] = compiled[name] = jit(copy)
    return compiled


def by_kind(jit, rules):
    """One compiled ``rule(kind, x) = rules[kind](x)``: the activation chosen by its index in
    ACTIVATIONS, as a chain of comparisons that the compiler resolves per launch."""
    head = rules[0]
    if len(rules) == 1:
        def rule(kind, x):
            return head(x)
    else:
        tail = by_kind(jit, rules[1:])

        def rule(kind, x):
            return head(x) if kind == 0 else tail(kind - 1, x)
    return jit(rule)
