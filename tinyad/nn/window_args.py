"""The arguments of the windowed layers (convolutions, pools, resizing), checked and spelled out
once, with PyTorch's spellings and rules:

    sizes       kernel_size, stride, dilation: an int (every axis) or one int per spatial axis
    padding     an int, or one entry per axis, each an int (both sides) or a (before, after)
                pair (tinyad's spelling of uneven padding, as JAX's lax.conv takes it);
                convolutions also take "valid" (none) and "same" (stride 1 only: d·(k - 1)
                padding in all, the odd one after, as PyTorch pads)
    windows     (size + before + after - d·(k - 1) - 1) / s + 1 of them, rounded down, or up
                with ceil_mode (then a last window that would start in the padding after the
                input is dropped); fewer than 1 is an error
    batches     (C, *spatial) inputs are one example: a batch axis is added and removed again

Errors name the operation and the shapes (ShapeError for shapes, ValueError for arguments).
"""
import numpy as np

from .. import ops
from ..errors import ShapeError


def sizes(v, n, name, where, low=1):
    """An int, or a sequence of 1 or n ints -> n ints, each >= low."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        v = (v,)
    v = tuple(v) if isinstance(v, (tuple, list)) else ()
    if len(v) == 1:
        v = v * n
    if len(v) != n or not all(isinstance(k, (int, np.integer)) and k >= low for k in v):
        raise ValueError(f"{where}: {name} must be an int >= {low} or {n} of them, got {v!r}")
    return tuple(int(k) for k in v)


def pads(padding, n, where):
    """padding -> n (before, after) pairs of ints >= 0 (the module docstring's spellings)."""
    if isinstance(padding, (int, np.integer)):
        padding = (padding,) * n
    if not isinstance(padding, (tuple, list)) or len(padding) not in (1, n):
        raise ValueError(f"{where}: padding must be an int, or {n} entries each an int or a "
                         f"(before, after) pair, got {padding!r}")
    out = []
    for p in tuple(padding) * (n if len(padding) == 1 else 1):
        pair = (p, p) if isinstance(p, (int, np.integer)) else tuple(p)
        if len(pair) != 2 or not all(isinstance(k, (int, np.integer)) and k >= 0 for k in pair):
            raise ValueError(f"{where}: padding entries must be ints >= 0 or (before, after) "
                             f"pairs of them, got {padding!r}")
        out.append((int(pair[0]), int(pair[1])))
    return tuple(out)


def conv_pads(padding, kernel, stride, dilation, where):
    """A convolution's padding as (before, after) pairs, "same" and "valid" included."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * len(kernel)
        if padding != "same":
            raise ValueError(f"{where}: padding must be 'same', 'valid', an int or a tuple, "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{where}: padding='same' is not supported for strided "
                             f"convolutions (stride {stride})")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    return pads(padding, len(kernel), where)


def window_count(size, kernel, stride, pad, dilation, where, ceil_mode=False):
    """How many windows fit along an axis (module docstring); ShapeError if none does."""
    span = size + pad[0] + pad[1] - dilation * (kernel - 1) - 1
    count = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (count - 1) * stride >= size + pad[0]:
        count -= 1                                 # it would start in the padding after
    if span < 0 or count < 1:
        raise ShapeError(f"{where}: kernel {kernel} with dilation {dilation} does not fit an "
                         f"axis of size {size} padded by {pad}")
    return count


def batched(x, spatial, where):
    """(x with a batch axis, whether one was added): x has 1 + `spatial` or 2 + `spatial` axes."""
    x = ops.lift(x)
    if x.ndim == spatial + 2:
        return x, False
    if x.ndim == spatial + 1:
        return ops.reshape(x, 1, *x.shape), True
    raise ShapeError(f"{where}: input must be (N, C, {spatial}-D image) or (C, {spatial}-D "
                     f"image), got shape {x.shape}")


def unbatched(out, added):
    """Undo ``batched``: drop the batch axis it added."""
    return ops.reshape(out, *out.shape[1:]) if added else out
