"""Pytrees: the tree module, and every transform on nested tuples, lists and dicts of tensors.

The references are hand-written loops: central differences in float64, one leaf element at a
time, assembled into JAX's nesting (the output's tree outside, the input's inside), so nothing
here trusts the transforms it checks.
"""
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import tinyad as ad
from tinyad import tree

Pair = namedtuple("Pair", "left right")
RNG = np.random.default_rng(0)


def t64(*shape):
    return ad.tensor(RNG.standard_normal(shape))


def numeric_jacobian(f, args, argnums, eps=1e-6):
    """By loops: blocks[o][j] = (f(x + h e_k) - f(x - h e_k)) / 2h for every output leaf o and
    every element k of input leaf j, nested as JAX nests jacobians."""
    single = isinstance(argnums, int)
    nums = (argnums,) if single else argnums
    chosen = args[nums[0]] if single else tuple(args[i] for i in nums)
    leaves, in_def = tree.flatten(chosen)
    arrays = [leaf.numpy() for leaf in leaves]

    def call(arrays):
        picked = in_def.unflatten([ad.tensor(a) for a in arrays])
        full = list(args)
        for i, t in zip(nums, (picked,) if single else picked):
            full[i] = t
        return [o.numpy() for o in tree.leaves(f(*full))]

    outs, out_def = tree.flatten(f(*args))
    blocks = [[np.zeros(o.shape + a.shape) for a in arrays] for o in outs]
    for j, a in enumerate(arrays):
        for k in np.ndindex(a.shape):
            plus = [b.copy() for b in arrays]
            minus = [b.copy() for b in arrays]
            plus[j][k] += eps
            minus[j][k] -= eps
            for o, (p, m) in enumerate(zip(call(plus), call(minus))):
                blocks[o][j][(...,) + k] = (p - m) / (2 * eps)
    return out_def.unflatten([in_def.unflatten(row) for row in blocks])


def assert_trees_close(got, want, rtol=1e-6, atol=1e-8):
    got_leaves, got_def = tree.flatten(got)
    want_leaves, want_def = tree.flatten(want)
    assert got_def == want_def, f"{got_def} != {want_def}"
    for g, w in zip(got_leaves, want_leaves):
        g, w = (x.numpy() if isinstance(x, ad.Tensor) else x for x in (g, w))
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# --- the tree module --------------------------------------------------------------------------
def test_flatten_unflatten_round_trip_and_jax_leaf_order():
    value = {"w": 1, "b": [2, (3,)], "none": None, "pair": Pair(4, 5),
             "ordered": OrderedDict([("z", 6), ("a", 7)])}
    leaves, treedef = tree.flatten(value)
    assert leaves == [2, 3, 6, 7, 4, 5, 1]        # dict keys sorted; OrderedDict keeps its order
    assert tree.unflatten(treedef, leaves) == value
    assert treedef.num_leaves == 7
    assert treedef.paths() == ["['b'][0]", "['b'][1][0]", "['ordered']['z']", "['ordered']['a']",
                               "['pair'].left", "['pair'].right", "['w']"]
    assert repr(tree.structure((1, [2, None]))) == "PyTreeDef((*, [*, None]))"
    assert tree.structure({"a": 1, "b": 2}) == tree.structure({"b": 0, "a": 0})
    assert tree.structure((1, 2)) != tree.structure([1, 2])


def test_map_over_several_trees_and_mismatch():
    params = {"w": 1.0, "b": [2.0, 3.0]}
    grads = {"w": 10.0, "b": [20.0, 30.0]}
    assert tree.map(lambda p, g: p - 0.1 * g, params, grads) == {"w": 0.0, "b": [0.0, 0.0]}
    with pytest.raises(ValueError, match="structure"):
        tree.map(lambda p, g: p, params, {"w": 1.0, "b": [2.0]})
    with pytest.raises(ValueError, match="holds 2 leaves, got 1"):
        tree.unflatten(tree.structure((1, 2)), [1])


class Affine:
    """A user container: two tensors and a name that is not a leaf."""

    def __init__(self, w, b, name="layer"):
        self.w, self.b, self.name = w, b, name


tree.register_pytree_node(Affine, lambda a: ((a.w, a.b), a.name),
                          lambda name, children: Affine(*children, name=name))


def test_registered_container_flows_through_grad():
    layer = Affine(t64(2, 3), t64(3), name="first")
    x = t64(4, 2)
    loss = lambda a: ((x @ a.w + a.b).tanh() ** 2).sum()
    g = ad.grad(loss)(layer)
    assert isinstance(g, Affine) and g.name == "first"
    want = numeric_jacobian(loss, (layer,), 0)
    np.testing.assert_allclose(g.w.numpy(), want.w, rtol=1e-6)
    np.testing.assert_allclose(g.b.numpy(), want.b, rtol=1e-6)
    with pytest.raises(ValueError, match="already"):
        tree.register_pytree_node(Affine, None, None)


# --- transforms on trees ------------------------------------------------------------------------
def mlp_loss(params, x):
    h = (x @ params["layers"][0]["w"] + params["layers"][0]["b"]).tanh()
    out = h @ params["layers"][1]["w"]
    return ((out - params["target"]) ** 2).sum()


def mlp_params():
    return {"layers": [{"w": t64(3, 4), "b": t64(4)}, {"w": t64(4, 2)}], "target": t64(2)}


def test_grad_of_a_dict_returns_the_same_dict():
    params, x = mlp_params(), t64(5, 3)
    g = ad.grad(mlp_loss)(params, x)
    assert tree.structure(g) == tree.structure(params)
    assert_trees_close(g, numeric_jacobian(mlp_loss, (params, x), 0))


def test_tuple_argnums_over_tree_arguments_and_has_aux():
    params, x = mlp_params(), t64(5, 3)

    def loss_aux(p, x):
        return mlp_loss(p, x), {"norm": (p["target"] ** 2).sum(), "step": 3}

    (value, aux), (gp, gx) = ad.value_and_grad(loss_aux, argnums=(0, 1), has_aux=True)(params, x)
    assert value.item() == pytest.approx(mlp_loss(params, x).item())
    assert aux["step"] == 3 and not aux["norm"].requires_grad
    assert_trees_close((gp, gx), numeric_jacobian(mlp_loss, (params, x), (0, 1)))
    g, aux2 = ad.grad(loss_aux, has_aux=True)(params, x)
    assert_trees_close(g, gp, rtol=0, atol=0)
    assert aux2["norm"].item() == aux["norm"].item()


def test_has_aux_needs_a_pair():
    with pytest.raises(ad.GradError, match="has_aux=True f must return a pair"):
        ad.grad(lambda x: x.sum(), has_aux=True)(ad.ones(3))


def test_python_floats_and_arrays_are_converted():
    assert ad.grad(lambda p: p["a"] * p["b"] ** 2)({"a": 2.0, "b": 3.0})["b"].item() == 12.0
    g = ad.grad(lambda xs: (xs[0] * xs[1]).sum())([np.ones(2), np.arange(2.0)])
    np.testing.assert_array_equal(g[0].numpy(), [0, 1])
    with pytest.raises(ad.DtypeError, match=r"argument 0\['n'\] has dtype int64"):
        ad.grad(lambda p: p["x"].sum())({"x": ad.ones(2), "n": ad.tensor([1, 2])})
    with pytest.raises(TypeError, match=r"argument 0\[1\] is a str"):
        ad.grad(lambda p: p[0].sum())((ad.ones(2), "name"))


def tree_function(p):
    """dict and list in, tuple (with a dict) out."""
    a, b = p["a"], p["bs"]
    return (a.sin() * b[0], {"s": (a * b[1]).sum(), "m": a[:, None] * b[0]})


def tree_inputs():
    return {"a": t64(3), "bs": [t64(3), t64(3)]}


@pytest.mark.parametrize("jac", [ad.jacfwd, ad.jacrev])
def test_jacobians_nest_output_tree_of_input_trees(jac):
    p = tree_inputs()
    J = jac(tree_function)(p)
    assert J[1]["m"]["bs"][0].shape == (3, 3, 3)
    assert_trees_close(J, numeric_jacobian(tree_function, (p,), 0))


@pytest.mark.parametrize("jac", [ad.jacfwd, ad.jacrev])
def test_jacobians_with_tuple_argnums_and_aux(jac):
    f = lambda x, y: ((x * y).sum(), x * 2.0)
    x, y = t64(2), t64(2)
    J, aux = jac(lambda x, y: (f(x, y), {"y": y}), argnums=(0, 1), has_aux=True)(x, y)
    assert_trees_close(J, numeric_jacobian(f, (x, y), (0, 1)))
    np.testing.assert_array_equal(aux["y"].numpy(), y.numpy())


def test_vjp_and_jvp_on_trees():
    p = tree_inputs()
    out, pullback = ad.vjp(tree_function, p)
    u = tree.map(lambda o: ad.tensor(RNG.standard_normal(o.shape)), out)
    (ct,) = pullback(u)
    v = tree.map(lambda x: ad.tensor(RNG.standard_normal(x.shape)), p)
    value, jv = ad.jvp(tree_function, (p,), (v,))
    assert_trees_close(value, out, rtol=0, atol=0)
    # <u, J v> == <Jᵀ u, v>, and J v against the loop Jacobian
    dot = lambda a, b: sum(float((x.numpy() * y.numpy()).sum())
                           for x, y in zip(tree.leaves(a), tree.leaves(b)))
    assert dot(u, jv) == pytest.approx(dot(ct, v), rel=1e-10)
    J = numeric_jacobian(tree_function, (p,), 0)
    for o, row in zip(tree.leaves(jv), [J[0], J[1]["m"], J[1]["s"]]):     # leaf order: m < s
        want = sum(np.tensordot(b, x.numpy(), axes=x.ndim)
                   for b, x in zip(tree.leaves(row), tree.leaves(v)))
        np.testing.assert_allclose(o.numpy(), want, rtol=1e-6, atol=1e-8)


def test_vjp_has_aux_and_cotangent_structure_checked():
    out, pullback, aux = ad.vjp(lambda x: ({"y": x * 2}, x.sum()), ad.ones(2), has_aux=True)
    assert aux.item() == 2.0
    np.testing.assert_array_equal(pullback({"y": ad.ones(2)})[0].numpy(), [2, 2])
    with pytest.raises(ValueError, match="cotangent.*structure"):
        pullback(ad.ones(2))


def test_jvp_tangents_must_match_primals_and_has_aux():
    with pytest.raises(ad.GradError, match="tangents must match"):
        ad.jvp(lambda p: p["a"], ({"a": ad.ones(2)},), ({"b": ad.ones(2)},))
    out, tangent, aux = ad.jvp(lambda x: (x * 3, {"x": x}), (ad.ones(2),), (ad.ones(2),),
                               has_aux=True)
    np.testing.assert_array_equal(tangent.numpy(), [3, 3])
    assert type(aux["x"]) is ad.Tensor                   # the primal, not a dual number


def test_hessian_with_tuple_argnums_nests_as_jax():
    """issue #11: hessian(f, argnums=(0, 1)) crashed with AttributeError."""
    f = lambda x, y: (x ** 2 * y).sum() + (x * y ** 3).sum()
    x, y = t64(2), t64(2)
    H = ad.hessian(f, argnums=(0, 1))(x, y)
    xs, ys = x.numpy(), y.numpy()
    want = ((np.diag(2 * ys), np.diag(2 * xs + 3 * ys ** 2)),
            (np.diag(2 * xs + 3 * ys ** 2), np.diag(6 * xs * ys)))
    assert_trees_close(H, want, rtol=1e-10)


def test_hessian_of_a_dict_and_hvp_on_trees():
    p = {"a": t64(2), "b": t64(3)}
    f = lambda p: (p["a"].sum() * p["b"] ** 2).sum() + (p["a"] ** 3).sum()
    H = ad.hessian(f)(p)
    grad_of = lambda p: ad.grad(f)(p)
    assert_trees_close(H, numeric_jacobian(grad_of, (p,), 0), rtol=1e-6)
    v = {"a": t64(2), "b": t64(3)}
    _, hv = ad.hvp(f, (p,), (v,))
    want = {k: sum(np.tensordot(H[k][j].numpy(), v[j].numpy(), axes=1) for j in "ab")
            for k in "ab"}
    assert_trees_close(hv, want, rtol=1e-10)


def test_argnums_errors():
    f = lambda x, y: (x * y).sum()
    with pytest.raises(ad.GradError, match="out of range"):
        ad.grad(f, argnums=2)(ad.ones(2), ad.ones(2))
    with pytest.raises(ad.GradError, match="twice"):
        ad.grad(f, argnums=(0, 0))(ad.ones(2), ad.ones(2))
    with pytest.raises(TypeError, match="argnums must be an int or a tuple"):
        ad.jacrev(f, argnums="x")(ad.ones(2), ad.ones(2))


def test_gradcheck_on_trees_names_the_leaf():
    p = {"w": t64(2, 2), "b": t64(2)}
    assert ad.gradcheck(lambda p, x: {"y": (x @ p["w"] + p["b"]).tanh(), "n": p["b"].sum()},
                        p, t64(3, 2), order=2)
    bad = ad.Primitive("bad_cube", lambda x: x ** 3, register=False,
                       jvp=(lambda t, out, x: t * x,), vjp=(lambda g, out, x: g * x,))
    with pytest.raises(AssertionError, match=r"input 0\['w'\].*analytic.*numeric"):
        ad.gradcheck(lambda p: ad.apply(bad, p["w"]), {"w": ad.tensor([1.0, 2.0])})
    assert "bad_cube" not in ad.PRIMITIVES
