"""Linear algebra: NumPy's matmul (1-D operands included) and the matrix transpose."""
from .. import primitives as P
from ..errors import ShapeError
from ..interpreter import apply
from .lifting import lift_pair
from .shape import reshape, transpose


def matmul(x, y):
    """NumPy's matmul: a 1-D operand is a row (left) or a column (right) that is dropped again."""
    x, y = lift_pair(x, y)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least one axis, got shapes "
                         f"{x.shape} and {y.shape}")
    if x.ndim == 1 and y.ndim == 1:
        return reshape(apply(P.matmul, reshape(x, 1, -1), reshape(y, -1, 1)), ())
    if x.ndim == 1:
        out = apply(P.matmul, reshape(x, 1, -1), y)
        return reshape(out, *out.shape[:-2], out.shape[-1])
    if y.ndim == 1:
        out = apply(P.matmul, x, reshape(y, -1, 1))
        return reshape(out, *out.shape[:-1])
    return apply(P.matmul, x, y)


def swap_last(x):
    """Swap the last two axes: the transpose of a (batch of) matrices."""
    if x.ndim == 2:
        return apply(P.transpose, x, axes=(1, 0))
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return transpose(x, *axes)
