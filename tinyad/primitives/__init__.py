"""The table of primitives: each one's computation, JVP, VJP and batching rules side by side.

Everything else in tinyad (subtraction, division, mean, softmax, convolution around its im2col...)
is composed from these; a few composites that every training step runs (log_softmax, the mean
softmax cross-entropy) are entries of their own, one node instead of many. Rules receive Tensors
and use tinyad operations, so they can be differentiated (and batched) again. Notation:
``out = f(x, y)``; ``t`` a tangent, ``g`` a cotangent.

A new primitive needs its batching rule (vmap), or vmap raises for it and the spec test fails:

- elementwise, made by ``rules.elementwise(name, impl, *partials)``: nothing to do, it gets
  ``batching.broadcasting`` (so does anything whose inputs broadcast NumPy-style: pass
  ``batch=broadcasting``, as add and matmul do);
- otherwise one line, ``batch=lambda prim, values, batched, **params: ...``: the values come with
  the batch axis first where ``batched[i]`` (shared by every example otherwise), and the rule
  returns the whole batch's output, batch axis first, usually `prim` applied with its axes or
  shape parameters moved past the batch axis (``batching.reduction``, shape.py's rules);
- a mask or a sign a rule reads from values is ``rules.mask(fn, *tensors, out=out)``, computed
  example by example inside vmap; never read ``x.data`` of an input in a rule.

What its VJP rules read is declared by ``saves=`` (node.Saves), so the tape keeps only that: input
positions and ``node.OUT`` (``saves=(0,)``: every rule reads input 0; ``((1,), (0,))``: per input,
as mul, whose rule for x reads y; ``()``: shapes and dtypes only, which stand-ins carry). The
default keeps every input and the output: safe, not lean. A rule that reads a value its primitive
does not declare raises ``node.NotSavedError``, naming the primitive.

One file per kind, each read one primitive at a time:

    rules.py         building blocks: rules from partial derivatives, constants, masks, and
                     locally_constant (a mask kept on the tape with a zero derivative)
    batching.py      building blocks of batching rules: broadcasting, reduction, batch_all
    arithmetic.py    add neg mul power maximum minimum select (cond an input) identity astype
    functions.py     exp log sqrt abs sin cos
    activations.py   tanh sigmoid relu gelu (fused kernels at first order)
    linalg.py        matmul
    reductions.py    sum max
    shape.py         reshape transpose broadcast_to concatenate
    indexing.py      getitem scatter_add
    windows.py       im2col col2im (convolution windows)
    convolution.py   conv2d conv2d_transpose conv2d_weight (each the others' derivative)
    pooling.py       max_pool2d and its linear derivatives max_pool2d_gather, max_pool2d_scatter
    fused.py         log_softmax cross_entropy
    trigonometric.py tan arcsin arccos arctan arctan2 sinh cosh arcsinh arccosh arctanh
    exponential.py   log1p expm1 log2 log10 logaddexp
    special.py       erf
    remainders.py    remainder fmod
    cumulative.py    cumsum cumprod logcumsumexp

Every primitive registers itself in ``PRIMITIVES`` (name -> Primitive), the table that tests
enumerate.
"""
from ..interpreter import PRIMITIVES  # noqa: F401  (the table, filled by the modules below)
from .activations import gelu, relu, sigmoid, tanh  # noqa: F401
from .arithmetic import add, astype, identity, maximum, minimum, mul, neg, power, select  # noqa: F401,E501
from .functions import abs, cos, exp, log, sin, sqrt  # noqa: F401
from .fused import cross_entropy, log_softmax  # noqa: F401
from .indexing import getitem, scatter_add  # noqa: F401
from .linalg import matmul  # noqa: F401
from .reductions import max, sum  # noqa: F401
from .rules import locally_constant  # noqa: F401
from .shape import broadcast_to, concatenate, reshape, transpose  # noqa: F401
from .windows import col2im, im2col  # noqa: F401
from .convolution import conv2d, conv2d_transpose, conv2d_weight  # noqa: F401
from .pooling import max_pool2d, max_pool2d_gather, max_pool2d_scatter  # noqa: F401
from .trigonometric import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh,  # noqa: F401
                            cosh, sinh, tan)
from .exponential import expm1, log10, log1p, log2, logaddexp  # noqa: F401
from .special import erf  # noqa: F401
from .remainders import fmod, remainder  # noqa: F401
from .cumulative import cumprod, cumsum, logcumsumexp  # noqa: F401
