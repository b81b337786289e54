"""Jacobians and Hessians of functions of pytrees, nested as JAX nests them.

For f with inputs x_j (the leaves of the differentiated argument, or of the tuple of arguments
for a tuple `argnums`) and outputs y_o (the leaves of f's result), the Jacobian has one block
per pair, of shape ``y_o.shape + x_j.shape``, holding ∂y_o/∂x_j. The blocks are arranged as the
output's tree, each entry a tree of the input's structure:

    jacfwd(f)(x)                      one array when x and f(x) are tensors
    jacrev(f)(params_dict)            {name: ∂y/∂params[name]}
    jacfwd(f, argnums=(0, 1))(x, y)   (∂f/∂x, ∂f/∂y)
    hessian(f, argnums=(0, 1))(x, y)  ((∂²f/∂x∂x, ∂²f/∂x∂y), (∂²f/∂y∂x, ∂²f/∂y∂y))

jacfwd is one JVP with every input element's unit vector at once, ``vmap`` over the basis
(n columns in one batched pass, not n passes); jacrev one VJP whose pullback is vmapped over the
output elements' unit vectors (m rows in one batched backward pass).
"""
from . import tree
from .ops import reshape, transpose
from .tensor import Tensor, zeros_like
from .transforms import argnums_tuple, float_leaf, jvp, leaf_name, vjp
from .vmap import vmap


def _basis(xs):
    """The unit vectors of the leaves `xs` joined: for each leaf, its part of every unit vector,
    (n, *x.shape) with n the total size (constants, in the leaf's dtype)."""
    n = sum(x.size for x in xs)
    parts, start = [], 0
    for x in xs:
        eye = x._xp.zeros((n, x.size), dtype=x.dtype)
        eye[start + x._xp.arange(x.size), x._xp.arange(x.size)] = 1
        parts.append(Tensor(eye.reshape((n,) + x.shape)))
        start += x.size
    return parts


def _inputs(args, argnums, where):
    """The leaves to differentiate (as float tensors), their structure, and a function that
    rebuilds f's arguments around new leaves."""
    nums = argnums_tuple(argnums, len(args), where)
    single = len(nums) == 1 and not isinstance(argnums, (tuple, list))
    chosen = args[nums[0]] if single else tuple(args[i] for i in nums)
    leaves, in_def = tree.flatten(chosen)
    what = f"argument {nums[0]}" if single else "arguments " + str(nums)
    xs = [float_leaf(x, where, leaf_name(what, in_def, k)) for k, x in enumerate(leaves)]

    def with_leaves(*new):
        full = list(args)
        picked = in_def.unflatten(new)
        for i, t in zip(nums, (picked,) if single else picked):
            full[i] = t
        return full
    return xs, in_def, with_leaves


def _block(rows, start, size, shape, like, last=False):
    """Rows start... of a batch of derivatives, (n, ...), as one Jacobian block of `shape` (the
    batch axis moved last first, for `last`; zeros when there are no rows)."""
    if not size:
        return Tensor(like._xp.zeros(shape, dtype=like.dtype))
    part = rows[start:start + size] if rows.shape[0] != size else rows
    if last:
        part = transpose(part, *range(1, part.ndim), 0)
    return reshape(part, *shape)


def _nest(out_def, in_def, blocks):
    """blocks[o][j] arranged as the output's tree of input trees."""
    return out_def.unflatten([in_def.unflatten(row) for row in blocks])


def jacfwd(f, argnums=0, has_aux=False):
    """The Jacobian by forward mode, one JVP per input element: blocks of shape out + in, nested
    as the output's tree of the input's trees (``(jacobian, aux)`` with has_aux=True)."""
    def jac(*args):
        xs, in_def, with_leaves = _inputs(args, argnums, "jacfwd")

        def column(*ts):
            return jvp(lambda *leaves: f(*with_leaves(*leaves)), xs, ts, has_aux)
        if sum(x.size for x in xs):
            ends = (None, 0, None) if has_aux else (None, 0)
            out, tangents, *aux = vmap(column, out_axes=ends)(*_basis(xs))
        else:                                                # no column: one pass for the shapes
            out, tangents, *aux = column(*(zeros_like(x) for x in xs))
        outs, out_def = tree.flatten(out)
        blocks = []
        for y, t in zip(outs, tree.leaves(tangents)):
            row, start = [], 0
            for x in xs:
                row.append(_block(t, start, x.size, y.shape + x.shape, y, last=True))
                start += x.size
            blocks.append(row)
        jacobian = _nest(out_def, in_def, blocks)
        return (jacobian, aux[0]) if has_aux else jacobian
    return jac


def jacrev(f, argnums=0, has_aux=False):
    """The Jacobian by reverse mode, one VJP per output element: blocks of shape out + in, nested
    as the output's tree of the input's trees (``(jacobian, aux)`` with has_aux=True)."""
    def jac(*args):
        xs, in_def, with_leaves = _inputs(args, argnums, "jacrev")
        out, pullback, *aux = vjp(lambda *leaves: f(*with_leaves(*leaves)), *xs, has_aux=has_aux)
        outs, out_def = tree.flatten(out)
        if sum(y.size for y in outs):
            rows = vmap(lambda *cts: pullback(out_def.unflatten(cts)))(*_basis(outs))
        else:
            rows = [zeros_like(x) for x in xs]
        blocks, start = [], 0
        for y in outs:
            blocks.append([_block(r, start, y.size, y.shape + x.shape, x)
                           for r, x in zip(rows, xs)])
            start += y.size
        jacobian = _nest(out_def, in_def, blocks)
        return (jacobian, aux[0]) if has_aux else jacobian
    return jac


def hessian(f, argnums=0, has_aux=False):
    """∂²f/∂x²: forward mode over reverse mode, ``jacfwd(jacrev(f))``. For a tuple `argnums`
    the blocks nest as ``H[i][j] = ∂²f/∂x_i∂x_j`` (shape x_i.shape + x_j.shape)."""
    return jacfwd(jacrev(f, argnums, has_aux), argnums, has_aux)
