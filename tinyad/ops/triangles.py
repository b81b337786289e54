"""Triangles and diagonals of matrices: tril, triu, diagonal, diag. All are linear composites:
tril and triu select with a constant mask (``where``, so integer tensors keep their dtype),
diagonal and diag read and write through ``getitem`` and its adjoint ``scatter_add``.

    tril(x, k)[..., i, j] = x[..., i, j] if j <= i + k else 0       (triu: j >= i + k)
    diagonal(x, offset, axis1, axis2): the entries x[i, i + offset] of the two axes, as a new
        last axis (NumPy's and PyTorch's diagonal)
    diag(v, k): a 1-D v on the k-th diagonal of a square matrix; of a 2-D x, its k-th diagonal
"""
from .. import backend
from .. import primitives as P
from ..errors import ShapeError
from ..interpreter import apply
from .arithmetic import where
from .axes import one_axis
from .indexing import getitem
from .lifting import lift
from .shape import transpose


def _triangle(op, x, k, keep):
    x = lift(x)
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs a matrix (at least 2 axes), got shape {x.shape}")
    xp = backend.xp_of(x.data)
    rows, cols = xp.arange(x.shape[-2])[:, None], xp.arange(x.shape[-1])
    return where(keep(cols - rows, k), x, 0)


def tril(x, k=0):
    """The lower triangle of the last two axes: entries with j <= i + k, zeros above."""
    return _triangle("tril", x, k, lambda d, k: d <= k)


def triu(x, k=0):
    """The upper triangle of the last two axes: entries with j >= i + k, zeros below."""
    return _triangle("triu", x, k, lambda d, k: d >= k)


def _diagonal_positions(xp, rows, cols, offset):
    """(i, j) of the k-th diagonal of a (rows, cols) matrix."""
    start_i, start_j = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(rows - start_i, cols - start_j))
    steps = xp.arange(length)
    return steps + start_i, steps + start_j


def diagonal(x, offset=0, axis1=0, axis2=1):
    x = lift(x)
    if x.ndim < 2:
        raise ShapeError(f"diagonal: needs at least 2 axes, got shape {x.shape}")
    a1, a2 = one_axis("diagonal", axis1, x.shape), one_axis("diagonal", axis2, x.shape)
    if a1 == a2:
        raise ShapeError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2} for "
                         f"shape {x.shape}")
    rest = [a for a in range(x.ndim) if a not in (a1, a2)]
    moved = transpose(x, *rest, a1, a2)
    i, j = _diagonal_positions(backend.xp_of(x.data), x.shape[a1], x.shape[a2], offset)
    return getitem(moved, (Ellipsis, i, j))


def diag(x, k=0):
    """NumPy's diag: a 1-D x placed on the k-th diagonal of a square matrix of side len + |k|;
    of a 2-D x, its k-th diagonal."""
    x = lift(x)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ShapeError(f"diag: takes a 1-D or 2-D tensor, got shape {x.shape}")
    side = x.shape[0] + abs(k)
    i, j = _diagonal_positions(backend.xp_of(x.data), side, side, k)
    return apply(P.scatter_add, x, index=(i, j), shape=(side, side))
