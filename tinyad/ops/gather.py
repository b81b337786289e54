"""Indexing along an axis: take_along_axis (NumPy) and gather (PyTorch), take and index_select,
the scatters (PyTorch's scatter, scatter_add, scatter_reduce), masked_select, nonzero, argwhere,
one_hot.

All of them are composites of the ``getitem`` primitive and its adjoint ``scatter_add`` (which
adds repeated positions up): an index array of the same rank as x, ``idx``, names along `axis`
the entry to read at each of its own positions, so with ``grid`` holding each position's own
coordinate on every other axis (``_grid``)::

    gather(x, axis, idx)[p] = x[grid(p) with idx[p] on axis]        = getitem(x, grid)
    scatter_add(x, axis, idx, src) = x + scatter_add(src, grid, x.shape)

amax, amin and prod in scatter_reduce lay each line's contributions out as a dense (n, m) table
(n = x.shape[axis], m = idx.shape[axis]) and reduce it with max or prod, so ties share the
derivative evenly (PyTorch's rule) and a zero factor is exact. Index arrays come from the host
or the device (raw_index) and are checked: gather and the scatters take indices in [0, n), as
PyTorch; take_along_axis and take also count from the end, as NumPy. nonzero, argwhere and
one_hot return int64 tensors and no gradient; nonzero is NumPy's (a tuple of index tensors),
argwhere its transpose stacked, PyTorch's nonzero.
"""
import numpy as np

from .. import backend
from .. import primitives as P
from ..errors import BatchingError, DtypeError, IndexingError, ShapeError
from ..interpreter import apply
from ..tensor import Tensor
from . import indexing, statistics
from .arithmetic import where
from .axes import one_axis
from .indexing import getitem, raw_index
from .lifting import lift
from .reductions import max
from .shape import broadcast_to, concatenate, expand_dims


def _index_array(op, index, x):
    idx = backend.asarray(raw_index(index, x, op), x.device)
    if idx.dtype.kind not in "iu":
        raise DtypeError(f"{op}: indices must be integers, got dtype {idx.dtype} "
                         f"(shape {idx.shape})")
    return idx


def _check_range(op, idx, n, negative):
    """Indices in [0, n) (PyTorch's rule), or [-n, n) with `negative` (NumPy's). The check reads
    one boolean back from the device: an index out of range would wrap around on a GPU."""
    low = -n if negative else 0
    if idx.size and bool(((idx < low) | (idx >= n)).any()):
        raise IndexingError(f"{op}: indices must lie in [{low}, {n}) for an axis of length {n}, "
                            f"got values from {int(idx.min())} to {int(idx.max())} in an index "
                            f"of shape {tuple(idx.shape)}")


def _grid(idx, axis):
    """The full index: idx on `axis`, each position's own coordinate on every other axis."""
    xp = backend.xp_of(idx)
    return tuple(idx if d == axis else xp.arange(n).reshape((n,) + (1,) * (idx.ndim - d - 1))
                 for d, n in enumerate(idx.shape))


def _same_rank(op, x, idx):
    if idx.ndim != x.ndim:
        raise ShapeError(f"{op}: index of shape {idx.shape} must have as many axes as the "
                         f"input's shape {x.shape}")


def take_along_axis(x, indices, axis):
    """NumPy's take_along_axis: x and indices broadcast on every axis but `axis` (None: x
    flattened, indices 1-D); negative indices count from the end."""
    x = lift(x)
    idx = _index_array("take_along_axis", indices, x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    _same_rank("take_along_axis", x, idx)
    axis = one_axis("take_along_axis", axis, x.shape)
    try:
        other = np.broadcast_shapes(x.shape[:axis] + (1,) + x.shape[axis + 1:],
                                    idx.shape[:axis] + (1,) + idx.shape[axis + 1:])
    except ValueError:
        raise ShapeError(f"take_along_axis: input of shape {x.shape} and indices of shape "
                         f"{idx.shape} must broadcast on every axis but {axis}") from None
    x = broadcast_to(x, other[:axis] + (x.shape[axis],) + other[axis + 1:])
    idx = backend.xp_of(idx).broadcast_to(idx, other[:axis] + (idx.shape[axis],) + other[axis + 1:])
    _check_range("take_along_axis", idx, x.shape[axis], negative=True)
    return getitem(x, _grid(idx, axis))


def _fits_inside(op, idx, shape, axis, what):
    if any(m > n for d, (m, n) in enumerate(zip(idx.shape, shape)) if d != axis):
        raise ShapeError(f"{op}: index of shape {idx.shape} must be no larger than {what} "
                         f"of shape {shape} on every axis but {axis}")


def gather(x, dim, index):
    """PyTorch's gather: out[p] = x[p with index[p] on `dim`]; out has index's shape, which
    is no larger than x's on the other axes."""
    x = lift(x)
    idx = _index_array("gather", index, x)
    _same_rank("gather", x, idx)
    dim = one_axis("gather", dim, x.shape)
    _fits_inside("gather", idx, x.shape, dim, "the input")
    _check_range("gather", idx, x.shape[dim], negative=False)
    return getitem(x, _grid(idx, dim))


def _scatter_parts(op, x, dim, index, src):
    """x, the checked index, its grid, and src cut to the index's shape (a number broadcast)."""
    x = lift(x)
    idx = _index_array(op, index, x)
    _same_rank(op, x, idx)
    dim = one_axis(op, dim, x.shape)
    _fits_inside(op, idx, x.shape, dim, "the input")
    _check_range(op, idx, x.shape[dim], negative=False)
    src = lift(src, x)
    if src.ndim == 0:
        src = broadcast_to(src, idx.shape)
    else:
        _same_rank(op, src, idx)
        _fits_inside(op, idx, src.shape, None, "src")
        src = getitem(src, tuple(slice(0, m) for m in idx.shape))
    return x, idx, dim, _grid(idx, dim), src


def _written(x, grid):
    mask = backend.xp_of(x.data).zeros(x.shape, dtype=bool)
    mask[grid] = True
    return mask


def scatter_add(x, dim, index, src):
    """PyTorch's scatter_add: x + src added at index along `dim` (repeats add up)."""
    x, idx, dim, grid, src = _scatter_parts("scatter_add", x, dim, index, src)
    return x + apply(P.scatter_add, src, index=grid, shape=x.shape)


def scatter(x, dim, index, src):
    """PyTorch's scatter: x with src written at index along `dim`. Where an index repeats, the
    last write (in the index's C order) wins, and only its src entry gets a derivative."""
    x, idx, dim, grid, src = _scatter_parts("scatter", x, dim, index, src)
    xp = backend.xp_of(x.data)
    strides = np.cumprod((1,) + x.shape[:0:-1])[::-1]               # in elements, C order
    targets = xp.broadcast_to(sum(g * int(s) for g, s in zip(grid, strides)), idx.shape).ravel()
    last = targets.size - 1 - xp.unique(targets[::-1], return_index=True)[1]
    winner = xp.zeros(targets.size, dtype=bool)
    winner[last] = True
    kept = where(winner.reshape(idx.shape), src, 0)
    return where(_written(x, grid), apply(P.scatter_add, kept, index=grid, shape=x.shape), x)


def _axis_last(a, dim):
    """a (an array or a tensor) with axis `dim` moved to the end."""
    return a.transpose(*[d for d in range(a.ndim) if d != dim], dim)


def _dense(n, dim, idx, src, fill):
    """Per line along `dim`: an (n, m) table with src[j] in row idx[j] and `fill` elsewhere,
    `dim` moved last: shape (..., n, m)."""
    rows = _axis_last(idx, dim)[..., None, :] == backend.xp_of(idx).arange(n)[:, None]
    return where(rows, expand_dims(_axis_last(src, dim), -2), fill)


REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(x, dim, index, src, reduce, include_self=True):
    """PyTorch's scatter_reduce: each position of x that the index names combines (x if
    `include_self`, and) every src entry sent there, by "sum", "prod", "mean", "amax" or
    "amin"; positions nothing is sent to keep x. Ties of amax/amin share the derivative."""
    if reduce not in REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {REDUCTIONS}, got {reduce!r}")
    x, idx, dim, grid, src = _scatter_parts("scatter_reduce", x, dim, index, src)
    written = _written(x, grid)
    base = x if include_self else where(written, 0, x)
    if reduce in ("sum", "mean"):
        total = base + apply(P.scatter_add, src, index=grid, shape=x.shape)
        if reduce == "sum":
            return total
        xp = backend.xp_of(x.data)
        count = P.scatter_add.impl(xp.ones(idx.shape, x.dtype), index=grid, shape=x.shape)
        count = xp.maximum(count + (1 if include_self else 0), 1)
        return total // count if x.dtype.kind in "iu" else total / count
    return _dense_reduce(x, dim, idx, src, reduce, include_self, written)


def _dense_reduce(x, dim, idx, src, reduce, include_self, written):
    if reduce == "prod":
        fill = 1
    elif x.dtype.kind == "f":
        fill = -np.inf if reduce == "amax" else np.inf
    else:
        info = np.iinfo(x.dtype)
        fill = int(info.min if reduce == "amax" else info.max)
    block = tuple(slice(0, m) if d != dim else slice(None) for d, m in enumerate(idx.shape))
    table = _dense(x.shape[dim], dim, idx, src, fill)              # (..., n, m)
    if include_self:
        table = concatenate([table, expand_dims(_axis_last(getitem(x, block), dim), -1)], -1)
    if reduce == "prod":
        line = statistics.prod(table, -1)
    elif reduce == "amax":
        line = max(table, -1)
    else:
        line = statistics.min(table, -1)
    order = list(range(x.ndim - 1))
    line = line.transpose(*order[:dim], x.ndim - 1, *order[dim:])
    placed = apply(P.scatter_add, line, index=block, shape=x.shape)
    return where(written, placed, x)


def take(x, indices, axis=None):
    """NumPy's take: entries of x at `indices` along `axis` (of the flattened x when None);
    the result's shape puts the indices' shape in place of that axis."""
    x = lift(x)
    idx = _index_array("take", indices, x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = one_axis("take", axis, x.shape)
    _check_range("take", idx, x.shape[axis], negative=True)
    return getitem(x, (slice(None),) * axis + (idx,))


def index_select(x, dim, index):
    """PyTorch's index_select: the entries at the 1-D `index` along `dim`."""
    x = lift(x)
    idx = _index_array("index_select", index, x)
    if idx.ndim != 1:
        raise ShapeError(f"index_select: index must be 1-D, got shape {idx.shape}")
    dim = one_axis("index_select", dim, x.shape)
    _check_range("index_select", idx, x.shape[dim], negative=False)
    return getitem(x, (slice(None),) * dim + (idx,))


def nonzero(x):
    """NumPy's nonzero: a tuple (one per axis) of int64 tensors of the nonzero entries' indices."""
    x = lift(x)
    if x.ndim == 0:
        raise ShapeError("nonzero: a 0-d tensor has no axes to index; use nonzero(x.reshape(1))")
    return tuple(Tensor(i.astype(np.int64)) for i in backend.xp_of(x.data).nonzero(x.data))


def argwhere(x):
    """The (N, ndim) int64 indices of the nonzero entries (PyTorch's nonzero)."""
    x = lift(x)
    return Tensor(backend.xp_of(x.data).argwhere(x.data).astype(np.int64))


def masked_select(x, mask):
    """The entries of x where `mask` is True, as a 1-D tensor (x and mask broadcast)."""
    x = lift(x)
    mask = backend.asarray(raw_index(mask, x, "masked_select"), x.device)
    if mask.dtype != np.bool_:
        raise DtypeError(f"masked_select: mask must be bool, got dtype {mask.dtype} "
                         f"(shape {mask.shape})")
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise ShapeError(f"masked_select: input of shape {x.shape} and mask of shape "
                         f"{mask.shape} do not broadcast") from None
    where_true = backend.xp_of(mask).nonzero(backend.xp_of(mask).broadcast_to(mask, shape))
    return getitem(broadcast_to(x, shape), where_true)


def one_hot(labels, num_classes=-1, dtype=np.int64):
    """(..., C) with 1 at each label's class (PyTorch's; C = max label + 1 when -1)."""
    labels = lift(labels)
    if labels.dtype.kind not in "iu":
        raise DtypeError(f"one_hot: labels must be integer class indices, got dtype "
                         f"{labels.dtype} (shape {labels.shape})")
    y = labels._data                          # every example's labels inside vmap
    if num_classes < 0:
        if labels._batch_axes:
            raise BatchingError("one_hot: inside vmap num_classes must be given (the largest "
                                "label differs per example)")
        num_classes = int(y.max()) + 1 if y.size else 0
    _check_range("one_hot", y, num_classes, negative=False)
    return indexing.one_hot(labels, num_classes, dtype)          # batched as the labels are
