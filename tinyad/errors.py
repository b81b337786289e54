"""Errors that name the operation, the shapes and the rule that failed.

Each class also derives from the built-in exception a NumPy or PyTorch user would catch, so
``except ValueError`` still works for a shape mismatch.
"""


class ShapeError(ValueError):
    """Shapes that no rule of the operation accepts (broadcasting, matmul, reshape...)."""


class AxisError(ShapeError, IndexError):
    """An axis outside [-ndim, ndim), an axis named twice, or axes that are not a permutation.
    Like NumPy's AxisError, both a ValueError and an IndexError."""


class IndexingError(IndexError):
    """An index that does not fit the tensor: an integer out of range, more indices than axes."""


class DtypeError(TypeError):
    """A dtype tinyad does not handle, or an integer tensor where a gradient is asked for."""


class DeviceError(RuntimeError):
    """Tensors on different devices (CPU and GPU) meeting in one operation."""


class BatchingError(RuntimeError):
    """Misuse of vmap: axes that do not fit, values read per example, a batched tensor used
    outside its vmap, a primitive without a batching rule."""


class GradError(RuntimeError):
    """Misuse of reverse mode: freed graph, non-scalar output without a seed, nothing to differentiate."""


def shapes(*xs):
    """'(2, 3), (3,)': the shapes of tensors or arrays, for messages."""
    return ", ".join(str(tuple(x.shape)) for x in xs)
