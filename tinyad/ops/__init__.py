"""Tensor operations: thin wrappers over the primitives, and the composites built from them.

A wrapper lifts Python numbers and arrays to tensors (a Python number takes the dtype of the
tensor it meets, so ``x32 * 0.5`` stays float32) and calls ``apply``. Composites combine
primitives, so both of their derivatives come for free. One thing they read from arrays: softmax
and logsumexp subtract the max of their input as a constant, so that no exponential overflows;
the shift cancels in the result, so treating it as a constant leaves both derivatives exact.

One file per kind, matching tinyad/primitives/: lifting, axes, arithmetic, functions, linalg,
reductions, shape, indexing, windows, composites; and tensor_methods, which gives the Tensor
class its operators and methods (``x + y``, ``x.sum()``...), each one line into this package.

The breadth of NumPy's and PyTorch's operations, one file per kind: elementary (trigonometric,
exponential, erf, clip...), rounding (floor... and the remainders), logical (predicates, bitwise
and logical operations: no gradient), activations, statistics (min, prod, var, norm, argmax...),
cumulative, sorting, einsum, movement (flip, roll, tile, repeat...), splitting, padding,
triangles (tril, diagonal...), gather (gather, scatter, take...); operation_methods attaches
them to Tensor.
"""
from .arithmetic import add, compare, div, identity, maximum, minimum, mul, neg, power, sub, where  # noqa: F401,E501
from .composites import (class_labels, class_targets, log_softmax, logsumexp,  # noqa: F401
                         rows_cross_entropy,
                         softmax, softmax_cross_entropy)
from .functions import abs, cos, exp, gelu, log, relu, sigmoid, sin, sqrt, tanh  # noqa: F401
from .indexing import getitem, one_hot, raw_index, scatter_add  # noqa: F401
from .lifting import astype, lift  # noqa: F401
from .linalg import matmul, swap_last  # noqa: F401
from .reductions import expand_to, max, mean, sum  # noqa: F401
from .shape import broadcast_to, concatenate, expand_dims, reshape, squeeze, stack, transpose  # noqa: F401,E501
from .windows import (col2im, conv2d, conv2d_transpose, conv2d_weight, im2col,  # noqa: F401
                      max_pool2d, max_pool2d_gather, max_pool2d_scatter)
from .rounding import (ceil, floor, floor_divide, fmod, piecewise_constant, remainder,  # noqa: F401
                       round, sign, trunc)
from .elementary import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,  # noqa: F401,E501
                         arctanh, asin, asinh, atan, atan2, atanh, clamp, clip, copysign, cosh,
                         erf, exp2, expm1, lerp, log1p, log2, log10, logaddexp, masked_fill,
                         reciprocal, rsqrt, sinh, square, tan)
from .logical import (all, any, bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or,  # noqa: F401,E501
                      bitwise_right_shift, bitwise_xor, invert, isclose, isfinite, isinf, isnan,
                      left_shift, logical_and, logical_not, logical_or, logical_xor, right_shift)
from .activations import (celu, elu, hardsigmoid, hardswish, hardtanh, leaky_relu,  # noqa: F401
                          logsigmoid, mish, relu6, selu, silu, softmin, softplus, softsign, swish)
from .statistics import argmax, argmin, min, norm, prod, std, var  # noqa: F401
from .gather import (argwhere, gather, index_select, masked_select, nonzero, one_hot,  # noqa: F401
                     scatter, scatter_reduce, take, take_along_axis)
from .gather import scatter_add as torch_scatter_add  # noqa: F401  (scatter_add: the primitive's)
from .sorting import ValuesIndices, argsort, sort, topk  # noqa: F401
from .cumulative import cummax, cummin, cumprod, cumsum, logcumsumexp  # noqa: F401
from .triangles import diag, diagonal, tril, triu  # noqa: F401
from .einsum import einsum  # noqa: F401
from .movement import (flatten, flip, movedim, moveaxis, permute, repeat,  # noqa: F401
                       repeat_interleave, roll, swapaxes, swapdims, tile, unflatten, unsqueeze)
from .splitting import array_split, chunk, split  # noqa: F401
from .padding import pad, torch_pad  # noqa: F401
from . import tensor_methods  # noqa: F401,E402  (last: it attaches the names above to Tensor)
from . import operation_methods  # noqa: F401,E402
