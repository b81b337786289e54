"""Jacobians and Hessians of functions of pytrees, nested as JAX nests them.

For f with inputs x_j (the leaves of the differentiated argument, or of the tuple of arguments
for a tuple `argnums`) and outputs y_o (the leaves of f's result), the Jacobian has one block
per pair, of shape ``y_o.shape + x_j.shape``, holding ∂y_o/∂x_j. The blocks are arranged as the
output's tree, each entry a tree of the input's structure:

    jacfwd(f)(x)                      one array when x and f(x) are tensors
    jacrev(f)(params_dict)            {name: ∂y/∂params[name]}
    jacfwd(f, argnums=(0, 1))(x, y)   (∂f/∂x, ∂f/∂y)
    hessian(f, argnums=(0, 1))(x, y)  ((∂²f/∂x∂x, ∂²f/∂x∂y), (∂²f/∂y∂x, ∂²f/∂y∂y))

jacfwd runs one JVP per input element, jacrev one VJP per output element.
"""
from . import tree
from .ops import reshape, stack
from .tensor import Tensor, zeros_like
from .transforms import argnums_tuple, float_leaf, jvp, leaf_name, vjp


def _basis(x):
    """The unit vectors e_0, e_1, ... of x's shape, as constant tensors."""
    eye = x._xp.eye(x.size, dtype=x.dtype)
    return [Tensor(eye[k].reshape(x.shape)) for k in range(x.size)]


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


def _block(pieces, axis, shape, like):
    """The pieces stacked along `axis` and reshaped to `shape` (zeros when there are none)."""
    if not pieces:
        return Tensor(like._xp.zeros(shape, dtype=like.dtype))
    return reshape(stack(pieces, axis=axis), *shape)


def _nest(out_def, in_def, blocks):
    """blocks[o][j] arranged as the output's tree of input trees."""
    return out_def.unflatten([in_def.unflatten(row) for row in blocks])


def jacfwd(f, argnums=0, has_aux=False):
    """The Jacobian by forward mode, one JVP per input element: blocks of shape out + in, nested
    as the output's tree of the input's trees (``(jacobian, aux)`` with has_aux=True)."""
    def jac(*args):
        xs, in_def, with_leaves = _inputs(args, argnums, "jacfwd")
        zeros = [zeros_like(x) for x in xs]
        directions = [zeros[:j] + [e] + zeros[j + 1:] for j, x in enumerate(xs) for e in _basis(x)]
        columns = [jvp(lambda *leaves: f(*with_leaves(*leaves)), xs, ts, has_aux)
                   for ts in directions or [zeros]]          # one pass for the shapes if no column
        out_def = tree.structure(columns[0][0])
        tangents = [tree.leaves(c[1]) for c in columns] if directions else []
        outs = tree.leaves(columns[0][0])
        blocks = []
        for o, y in enumerate(outs):
            row, start = [], 0
            for x in xs:
                cols = [t[o] for t in tangents[start:start + x.size]]
                row.append(_block(cols, -1, y.shape + x.shape, y))
                start += x.size
            blocks.append(row)
        jacobian = _nest(out_def, in_def, blocks)
        return (jacobian, columns[0][2]) if has_aux else jacobian
    return jac


def jacrev(f, argnums=0, has_aux=False):
    """The Jacobian by reverse mode, one VJP per output element: blocks of shape out + in, nested
    as the output's tree of the input's trees (``(jacobian, aux)`` with has_aux=True)."""
    def jac(*args):
        xs, in_def, with_leaves = _inputs(args, argnums, "jacrev")
        out, pullback, *aux = vjp(lambda *leaves: f(*with_leaves(*leaves)), *xs, has_aux=has_aux)
        outs, out_def = tree.flatten(out)
        zeros = [zeros_like(y) for y in outs]
        blocks = []
        for o, y in enumerate(outs):
            rows = [pullback(out_def.unflatten(zeros[:o] + [e] + zeros[o + 1:]))
                    for e in _basis(y)]
            blocks.append([_block([r[j] for r in rows], 0, y.shape + x.shape, x)
                           for j, x in enumerate(xs)])
        jacobian = _nest(out_def, in_def, blocks)
        return (jacobian, aux[0]) if has_aux else jacobian
    return jac


def hessian(f, argnums=0, has_aux=False):
    """∂²f/∂x²: forward mode over reverse mode, ``jacfwd(jacrev(f))``. For a tuple `argnums`
    the blocks nest as ``H[i][j] = ∂²f/∂x_i∂x_j`` (shape x_i.shape + x_j.shape)."""
    return jacfwd(jacrev(f, argnums, has_aux), argnums, has_aux)
