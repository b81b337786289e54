"""Normalization layers: LayerNorm, BatchNorm1d, BatchNorm2d, GroupNorm, and their functions.

Each normalizes x by a mean mu and a biased variance s² (divided by n, not n - 1) taken over some
axes, then applies a per-feature affine map (weight gamma, bias beta):

    y = (x - mu) / sqrt(s² + eps) · gamma + beta

    layer_norm   over the last len(normalized_shape) axes of each example; gamma, beta of
                 normalized_shape
    batch_norm   per channel (axis 1) over the batch and every other axis: (N, C), (N, C, L) or
                 (N, C, H, W); gamma, beta (C,)
    group_norm   per example over each group of C / G channels (and the axes after them);
                 gamma, beta (C,)

BatchNorm in training normalizes by the batch's statistics and updates its running estimates
(buffers, saved in the state dict), as PyTorch does:

    running_mean = (1 - m)·running_mean + m·mu
    running_var  = (1 - m)·running_var  + m·s²·n/(n - 1)         (the unbiased variance)

with m = momentum, or 1/num_batches_tracked when momentum is None (a cumulative average). In
eval it normalizes by the running estimates (a fixed affine map); with
``track_running_stats=False`` it keeps none and always uses the batch's. The estimates are
updated on raw arrays, on the device, with no host sync and nothing recorded on the tape.

All are compositions of tinyad operations (the variance as the mean of squared deviations: swap
in ``ops.var`` when the ops breadth work lands), so both modes differentiate them to any order.
"""
import numbers

import numpy as np

from .. import backend, ops
from ..errors import ShapeError
from ..tensor import ones, tensor, zeros
from . import init
from .module import Module, Parameter


# ---- functions ----------------------------------------------------------------------------------
def _normalize(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over `axes` (biased variance); also returns mean and var."""
    mean = ops.mean(x, axes, keepdims=True)
    centred = x - mean
    var = ops.mean(centred * centred, axes, keepdims=True)
    return centred * _rsqrt(var + eps), mean, var


def _rsqrt(v):
    """1 / sqrt(v) for v > 0, as e^{-log(v)/2}: the power primitive's derivative reads a flag
    back from the device (its 0^0 check), a host sync per layer per backward pass on a GPU,
    which exp and log do not. Swap in ``ops.rsqrt`` when the ops breadth work lands."""
    return ops.exp(ops.log(v) * -0.5)


def _affine(y, weight, bias, shape):
    """y·weight + bias, each reshaped to `shape` for broadcasting (None: left out)."""
    if weight is not None:
        y = y * ops.reshape(ops.lift(weight, y), *shape)
    if bias is not None:
        y = y + ops.reshape(ops.lift(bias, y), *shape)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize each example over its last len(normalized_shape) axes, which must equal
    normalized_shape."""
    x = ops.lift(input)
    shape = _shape_tuple(normalized_shape)
    if x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ShapeError(f"layer_norm: input of shape {x.shape} does not end in normalized_shape "
                         f"{shape}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    return _affine(_normalize(x, axes, eps)[0], weight, bias, shape)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (axis 1) of (N, C, ...): by the batch's statistics when
    ``training`` (then running_mean and running_var, Tensors or None, are updated in place with
    factor `momentum`, a number or a 0-d array), else by running_mean and running_var."""
    x = ops.lift(input)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: input must be (N, C, ...), got shape {x.shape}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: outside training it needs running_mean and running_var")
        scale = _rsqrt(ops.lift(running_var, x) + eps)
        y = (x - ops.reshape(ops.lift(running_mean, x), *shape)) * ops.reshape(scale, *shape)
        return _affine(y, weight, bias, shape)
    count = x.size // max(x.shape[1], 1)
    if count <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got "
                         f"input of shape {x.shape}")
    y, mean, var = _normalize(x, axes, eps)
    unbiased = var.data * (count / (count - 1))
    for buffer, batch in ((running_mean, mean.data), (running_var, unbiased)):
        if buffer is not None:
            _moving_average(buffer, batch.reshape(-1), momentum)
    return _affine(y, weight, bias, shape)


def _moving_average(buffer, value, momentum):
    """buffer = (1 - m)·buffer + m·value, in place, in the buffer's dtype (raw arrays: no tape)."""
    old = buffer.data
    m = backend.asarray(momentum, backend.device_of(old), old.dtype)
    buffer._assign(((1 - m) * old + m * value.astype(old.dtype)).astype(old.dtype))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each example's channels (axis 1 of (N, C, ...)) in num_groups groups of C / G
    consecutive channels, each over its channels and every axis after them."""
    x = ops.lift(input)
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ShapeError(f"group_norm: input (N, C, ...) of shape {x.shape} needs C divisible by "
                         f"num_groups={num_groups}")
    grouped = ops.reshape(x, x.shape[0], num_groups, -1)
    y = ops.reshape(_normalize(grouped, (2,), eps)[0], *x.shape)
    return _affine(y, weight, bias, (1, x.shape[1]) + (1,) * (x.ndim - 2))


def _shape_tuple(shape):
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(n) for n in shape)


# ---- modules ------------------------------------------------------------------------------------
class LayerNorm(Module):
    """Normalize over the trailing normalized_shape (an int or a tuple) of each example; weight
    (ones) and bias (zeros) of that shape when elementwise_affine (bias=False: weight only)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=np.float32):
        super().__init__()
        self.normalized_shape, self.eps = _shape_tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        affine = elementwise_affine
        self.weight = Parameter(ones(*self.normalized_shape, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(*self.normalized_shape, dtype=dtype)) if affine and bias \
            else None

    def forward(self, x):
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in the input ranks they accept."""
    ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float32):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_features, dtype=dtype)) if affine else None
        stats = track_running_stats
        self.register_buffer("running_mean", zeros(num_features, dtype=dtype) if stats else None)
        self.register_buffer("running_var", ones(num_features, dtype=dtype) if stats else None)
        self.register_buffer("num_batches_tracked",
                             tensor(np.array(0, np.int64)) if stats else None)

    def reset_running_stats(self):
        if self.track_running_stats:
            for buffer, fill in ((self.running_mean, init.zeros_), (self.running_var, init.ones_)):
                fill(buffer)
            self.num_batches_tracked._assign(self.num_batches_tracked.data * 0)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        x = ops.lift(x)
        if x.ndim not in self.ranks:
            raise ShapeError(f"{type(self).__name__}: expected " + " or ".join(
                f"{r}D" for r in self.ranks) + f" input (N, C, ...), got {x.ndim}D input of "
                f"shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: expected {self.num_features} channels on "
                             f"axis 1, got input of shape {x.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            count = self.num_batches_tracked
            count._assign(count.data + 1)
            if self.momentum is None:                      # a cumulative average: 1/n, on device
                momentum = 1.0 / count.data
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        return batch_norm(x, self.running_mean if keep else None,
                          self.running_var if keep else None, self.weight, self.bias,
                          use_batch, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L): per channel C, over N (and L)."""
    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W): per channel C, over N, H and W."""
    ranks = (4,)


class GroupNorm(Module):
    """Normalize (N, C, ...) in num_groups groups of channels per example; weight (ones) and bias
    (zeros) of shape (C,) when affine."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float32):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by "
                             f"num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                    eps, affine)
        self.weight = Parameter(ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_channels, dtype=dtype)) if affine else None

    def forward(self, x):
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
