"""Stateless functions (``F`` in PyTorch): activations, losses, normalization and the layers'
computations. This module gathers them; each is defined beside its kind:

    activations.py     relu tanh sigmoid gelu leaky_relu elu silu softplus softmax log_softmax
    losses.py          cross_entropy nll_loss binary_cross_entropy(_with_logits) l1_loss mse_loss
                       smooth_l1_loss huber_loss
    normalization.py   layer_norm batch_norm group_norm
    functional_conv.py conv1d conv2d conv_transpose2d (the conv2d primitives)
    functional_pool.py max_pool2d avg_pool2d adaptive_avg_pool2d adaptive_max_pool2d
    functional_interpolate.py  interpolate
    here               linear dropout embedding

    linear(x, W, b)          x @ W.T + b                             x (..., in), W (out, in)
    dropout(x, p)            x · mask / (1 - p), mask ~ Bernoulli(1 - p) per element (training)
    embedding(i, W)          W[i]: rows of W (num, dim) for integer indices i (...) -> (..., dim)

All are tinyad operations (the mean cross-entropy, log_softmax, the convolutions and the
non-overlapping max-pool are primitives with their own rules; the rest are compositions), so
reverse mode, forward mode and their nestings differentiate them.
"""
from .. import backend, ops
from ..errors import DtypeError, ShapeError
from ..ops import class_labels  # noqa: F401  (this namespace: the learning rules use it)
from ..ops import (celu, hardsigmoid, hardswish, hardtanh, logsigmoid, mish,  # noqa: F401
                   one_hot, relu6, selu, softmin, softsign)
from ..ops import torch_pad as pad  # noqa: F401  (PyTorch's F.pad; ad.pad is NumPy's)
from ..tensor import Tensor
from . import init
from .activations import (elu, gelu, leaky_relu, log_softmax, relu, sigmoid, silu,  # noqa: F401
                          softmax, softplus, tanh)
from .functional_conv import conv1d, conv2d, conv_transpose2d  # noqa: F401
from .functional_interpolate import interpolate  # noqa: F401
from .functional_pool import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d,  # noqa: F401
                              max_pool2d)
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                     cross_entropy, huber_loss, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from .normalization import batch_norm, group_norm, layer_norm  # noqa: F401


def linear(x, weight, bias=None):
    """``x @ weight.T + bias``: weight (out, in) as in PyTorch."""
    out = ops.matmul(x, ops.transpose(weight))
    return out if bias is None else out + bias


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """In training, each element zeroed with probability p and the rest scaled by 1/(1 - p), so
    the expectation is the input; the input itself otherwise (or for p = 0). The mask is drawn on
    the input's device from `generator` (a NumPy or CuPy generator; default nn.init's,
    ``init.generator_for``). ``inplace`` is accepted for PyTorch's signature and changes nothing."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    x = ops.lift(input)
    if not training or p == 0:
        return x
    if x.dtype.kind != "f":
        raise DtypeError(f"dropout: needs a float tensor, got dtype {x.dtype} with shape {x.shape}")
    rng = init.generator_for(x.device) if generator is None else generator
    kept = backend.asarray(rng.random(x.shape, dtype=x.dtype), x.device) >= p
    scale = kept.astype(x.dtype) * (1 / (1 - p)) if p < 1 else x._xp.zeros(x.shape, x.dtype)
    return x * Tensor(scale)


def embedding(input, weight, padding_idx=None):
    """``weight[input]``: the rows of weight (num_embeddings, dim) for integer indices of any
    shape (...) -> (..., dim). Row `padding_idx` is returned as it is but gets no derivative, in
    either mode. The indices must lie in [0, num_embeddings): checked, one host sync on a GPU
    (where an index out of range would otherwise read another row silently)."""
    weight = ops.lift(weight)
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be (num_embeddings, dim), got {weight.shape}")
    idx = backend.asarray(ops.raw_index(input, weight, "embedding"), weight.device)
    if idx.dtype.kind not in "iu":
        raise DtypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if idx.size and bool(((idx < 0) | (idx >= weight.shape[0])).any()):
        raise IndexError(f"embedding: indices must lie in [0, {weight.shape[0]}), got values from "
                         f"{int(idx.min())} to {int(idx.max())}")
    rows = weight[idx]
    if padding_idx is None:
        return rows
    padding = Tensor((idx == padding_idx % weight.shape[0])[..., None])
    return ops.where(padding, Tensor(rows.data), rows)             # a constant there: no derivative
