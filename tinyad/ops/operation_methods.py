"""The operations of the breadth files as Tensor operators and methods, each one line into the
op layer (tensor_methods.py explains why methods are attached this way). Methods take the
arguments of the function of the same name without the tensor: ``x.clip(0, 1)``,
``x.gather(1, idx)``, ``x.cumsum(0)``.

Where NumPy's ndarray and PyTorch's Tensor disagree on a method's meaning, the method is
NumPy's, as the functions are: ``x.repeat(2)`` repeats each entry (PyTorch's meaning is
``x.tile``), ``x.nonzero()`` is a tuple of index tensors (PyTorch's: ``x.argwhere()``). There
is no ``x.sort()``: NumPy's sorts in place and PyTorch's returns a pair; ``ad.sort(x)`` gives
the values and ``x.argsort()`` the order.
"""
from .. import ops
from ..tensor import Tensor
from .tensor_methods import attach


class OperationMethods:
    # ---- operators ------------------------------------------------------------------------
    def __mod__(self, o): return ops.remainder(self, o)
    def __rmod__(self, o): return ops.remainder(o, self)
    def __floordiv__(self, o): return ops.floor_divide(self, o)
    def __rfloordiv__(self, o): return ops.floor_divide(o, self)
    def __and__(self, o): return ops.bitwise_and(self, o)
    def __rand__(self, o): return ops.bitwise_and(o, self)
    def __or__(self, o): return ops.bitwise_or(self, o)
    def __ror__(self, o): return ops.bitwise_or(o, self)
    def __xor__(self, o): return ops.bitwise_xor(self, o)
    def __rxor__(self, o): return ops.bitwise_xor(o, self)
    def __invert__(self): return ops.bitwise_not(self)
    def __lshift__(self, o): return ops.left_shift(self, o)
    def __rlshift__(self, o): return ops.left_shift(o, self)
    def __rshift__(self, o): return ops.right_shift(self, o)
    def __rrshift__(self, o): return ops.right_shift(o, self)
    def __round__(self, ndigits=None): return ops.round(self, ndigits or 0)

    # ---- elementwise ----------------------------------------------------------------------
    def tan(self): return ops.tan(self)
    def arcsin(self): return ops.arcsin(self)
    def arccos(self): return ops.arccos(self)
    def arctan(self): return ops.arctan(self)
    def arctan2(self, other): return ops.arctan2(self, other)
    def sinh(self): return ops.sinh(self)
    def cosh(self): return ops.cosh(self)
    def arcsinh(self): return ops.arcsinh(self)
    def arccosh(self): return ops.arccosh(self)
    def arctanh(self): return ops.arctanh(self)
    asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
    asinh, acosh, atanh = arcsinh, arccosh, arctanh
    def log1p(self): return ops.log1p(self)
    def expm1(self): return ops.expm1(self)
    def log2(self): return ops.log2(self)
    def log10(self): return ops.log10(self)
    def exp2(self): return ops.exp2(self)
    def erf(self): return ops.erf(self)
    def square(self): return ops.square(self)
    def reciprocal(self): return ops.reciprocal(self)
    def rsqrt(self): return ops.rsqrt(self)
    def logaddexp(self, other): return ops.logaddexp(self, other)
    def lerp(self, end, weight): return ops.lerp(self, end, weight)
    def copysign(self, other): return ops.copysign(self, other)
    def clip(self, min=None, max=None): return ops.clip(self, min, max)
    clamp = clip
    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)
    def floor(self): return ops.floor(self)
    def ceil(self): return ops.ceil(self)
    def trunc(self): return ops.trunc(self)
    def sign(self): return ops.sign(self)
    def round(self, decimals=0): return ops.round(self, decimals)
    def remainder(self, other): return ops.remainder(self, other)
    def fmod(self, other): return ops.fmod(self, other)
    def floor_divide(self, other): return ops.floor_divide(self, other)

    # ---- predicates and logic (no gradient) ---------------------------------------------
    def isnan(self): return ops.isnan(self)
    def isinf(self): return ops.isinf(self)
    def isfinite(self): return ops.isfinite(self)
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return ops.isclose(self, other, rtol, atol, equal_nan)
    def all(self, axis=None, keepdims=False): return ops.all(self, axis, keepdims)
    def any(self, axis=None, keepdims=False): return ops.any(self, axis, keepdims)
    def logical_and(self, other): return ops.logical_and(self, other)
    def logical_or(self, other): return ops.logical_or(self, other)
    def logical_xor(self, other): return ops.logical_xor(self, other)
    def logical_not(self): return ops.logical_not(self)
    def bitwise_and(self, other): return ops.bitwise_and(self, other)
    def bitwise_or(self, other): return ops.bitwise_or(self, other)
    def bitwise_xor(self, other): return ops.bitwise_xor(self, other)
    def bitwise_not(self): return ops.bitwise_not(self)

    # ---- reductions, cumulative, sorting -----------------------------------------------
    def min(self, axis=None, keepdims=False): return ops.min(self, axis, keepdims)
    def argmax(self, axis=None, keepdims=False): return ops.argmax(self, axis, keepdims)
    def argmin(self, axis=None, keepdims=False): return ops.argmin(self, axis, keepdims)
    def prod(self, axis=None, keepdims=False): return ops.prod(self, axis, keepdims)
    def var(self, axis=None, ddof=0, keepdims=False, *, correction=None):
        return ops.var(self, axis, ddof, keepdims, correction=correction)
    def std(self, axis=None, ddof=0, keepdims=False, *, correction=None):
        return ops.std(self, axis, ddof, keepdims, correction=correction)
    def norm(self, ord=None, axis=None, keepdims=False): return ops.norm(self, ord, axis, keepdims)
    def cumsum(self, axis=None): return ops.cumsum(self, axis)
    def cumprod(self, axis=None): return ops.cumprod(self, axis)
    def logcumsumexp(self, axis=None): return ops.logcumsumexp(self, axis)
    def cummax(self, axis): return ops.cummax(self, axis)
    def cummin(self, axis): return ops.cummin(self, axis)
    def argsort(self, axis=-1, descending=False): return ops.argsort(self, axis, descending)
    def topk(self, k, axis=-1, largest=True, sorted=True):
        return ops.topk(self, k, axis, largest, sorted)

    # ---- shape and movement --------------------------------------------------------------
    def flip(self, axis=None): return ops.flip(self, axis)
    def roll(self, shift, axis=None): return ops.roll(self, shift, axis)
    def tril(self, k=0): return ops.tril(self, k)
    def triu(self, k=0): return ops.triu(self, k)
    def diagonal(self, offset=0, axis1=0, axis2=1): return ops.diagonal(self, offset, axis1, axis2)
    def tile(self, reps): return ops.tile(self, reps)
    def repeat(self, repeats, axis=None): return ops.repeat(self, repeats, axis)
    def repeat_interleave(self, repeats, axis=None): return ops.repeat(self, repeats, axis)
    def squeeze(self, axis=None): return ops.squeeze(self, axis)
    def unsqueeze(self, axis): return ops.unsqueeze(self, axis)
    def flatten(self, start_axis=0, end_axis=-1): return ops.flatten(self, start_axis, end_axis)
    def unflatten(self, axis, sizes): return ops.unflatten(self, axis, sizes)
    def chunk(self, chunks, axis=0): return ops.chunk(self, chunks, axis)
    def permute(self, *axes): return ops.permute(self, *axes)
    def moveaxis(self, source, destination): return ops.moveaxis(self, source, destination)
    movedim = moveaxis
    def swapaxes(self, axis1, axis2): return ops.swapaxes(self, axis1, axis2)
    swapdims = swapaxes

    # ---- indexing ------------------------------------------------------------------------
    def gather(self, dim, index): return ops.gather(self, dim, index)
    def scatter(self, dim, index, src): return ops.scatter(self, dim, index, src)
    def scatter_add(self, dim, index, src): return ops.torch_scatter_add(self, dim, index, src)
    def scatter_reduce(self, dim, index, src, reduce, include_self=True):
        return ops.scatter_reduce(self, dim, index, src, reduce, include_self)
    def index_select(self, dim, index): return ops.index_select(self, dim, index)
    def take(self, indices, axis=None): return ops.take(self, indices, axis)
    def masked_select(self, mask): return ops.masked_select(self, mask)
    def nonzero(self): return ops.nonzero(self)
    def argwhere(self): return ops.argwhere(self)


attach(OperationMethods, Tensor)
