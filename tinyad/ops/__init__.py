"""Tensor operations: thin wrappers over the primitives, and the composites built from them.

A wrapper lifts Python numbers and arrays to tensors (a Python number takes the dtype of the
tensor it meets, so ``x32 * 0.5`` stays float32) and calls ``apply``. Composites combine
primitives, so both of their derivatives come for free. One thing they read from arrays: softmax
and logsumexp subtract the max of their input as a constant, so that no exponential overflows;
the shift cancels in the result, so treating it as a constant leaves both derivatives exact.

One file per kind, matching tinyad/primitives/: lifting, axes, arithmetic, functions, linalg,
reductions, shape, indexing, windows, composites; and tensor_methods, which gives the Tensor
class its operators and methods (``x + y``, ``x.sum()``...), each one line into this package.
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
from . import tensor_methods  # noqa: F401,E402  (last: it attaches the names above to Tensor)
