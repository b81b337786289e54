"""Layers without convolution or normalization: Linear, Flatten, Identity, Dropout, Embedding.

Linear holds weight (out, in) and bias (out,), as PyTorch does, and computes y = x @ W.T + b.
Its default initialisation is PyTorch's: ``kaiming_uniform_(W, a=sqrt(5))``, which works out to
W ~ U(-1/sqrt(in), 1/sqrt(in)), and b ~ U(-1/sqrt(in), 1/sqrt(in)) (see init.py).

Dropout and Embedding compute in functional.py's terms (``F.dropout``, ``F.embedding``).
"""
import math

import numpy as np

from .. import ops
from ..tensor import Tensor, zeros
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x @ weight.T + bias: (N, in_features) -> (N, out_features)."""

    def __init__(self, in_features, out_features, bias=True, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features, dtype=dtype))
        self.bias = Parameter(zeros(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, C, H, W) -> (N, C·H·W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        x = ops.lift(x)
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        return ops.reshape(x, *x.shape[:start], -1, *x.shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged (a placeholder: ``MLP(..., activation=None)`` needs none)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1 - p)
    (inverted dropout: the expected output is the input, so eval is the identity).

    The masks are drawn from ``generator`` (a ``numpy.random.Generator``, or an int seeding a
    stream of this layer's own) or, by default, from nn.init's generator (``nn.init.seed(n)``
    makes runs repeatable; on a GPU, a device generator seeded from it). ``inplace`` is
    accepted for PyTorch's signature; tinyad never writes into its input."""

    def __init__(self, p=0.5, inplace=False, generator=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p, self.inplace = p, inplace
        self.generator = (np.random.default_rng(generator) if isinstance(generator, int)
                          else generator)

    def forward(self, x):
        return F.dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Embedding(Module):
    """A lookup table: integer indices of any shape (...) -> rows of weight, (..., dim).

    weight (num_embeddings, embedding_dim) ~ N(0, 1), as in PyTorch. Row ``padding_idx`` (if
    given; negative counts from the end) starts at zero and gets no gradient, so it stays
    whatever it is set to."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=np.float32,
                 _weight=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(zeros(num_embeddings, embedding_dim, dtype=dtype))
        if _weight is None:
            self.reset_parameters()
        else:
            self.weight._assign(ops.lift(_weight).data.astype(dtype))

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            data = self.weight.data.copy()
            data[self.padding_idx] = 0
            self.weight._assign(data)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding `embeddings` (num, dim); ``freeze`` (the default) stops its
        gradient, as in PyTorch."""
        weights = embeddings if isinstance(embeddings, Tensor) else ops.lift(embeddings)
        if weights.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D (num, dim), got "
                             f"shape {weights.shape}")
        layer = cls(*weights.shape, padding_idx=padding_idx, dtype=weights.dtype,
                    _weight=weights)
        layer.weight.requires_grad = not freeze
        return layer

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
