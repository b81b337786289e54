"""The same programs through tinyad's transforms and JAX's: same structures, same numbers.

Skipped where JAX is not installed (it is never a dependency). Each program is written once,
against a namespace `m` (``tinyad`` or ``jax.numpy``), and run in float64.
"""
from functools import partial

import numpy as np
import pytest

import tinyad as ad
from tinyad import tree

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

RNG = np.random.default_rng(0)


def data(*shape):
    return RNG.standard_normal(shape)


PARAMS = {"layers": [{"w": data(3, 4), "b": data(4)}, {"w": data(4, 2), "b": data(2)}],
          "scale": data()}
X = data(5, 3)
TREE = {"a": data(3), "bs": [data(3), data(3)], "t": (data(2),)}


def mlp(m, params, x):
    h = x
    for layer in params["layers"]:
        h = m.tanh(h @ layer["w"] + layer["b"])
    return m.sum(h ** 2) * params["scale"]


def mlp_aux(m, params, x):
    return mlp(m, params, x), {"first": params["layers"][0]["b"] * 2, "count": 2}


def tree_out(m, p):
    return (m.sin(p["a"]) * p["bs"][0], {"s": m.sum(p["a"] * p["bs"][1]), "t": [p["t"][0] ** 2]})


def two(m, x, y):
    return m.sum(x ** 2 * y) + m.sum(m.sin(x) * y ** 3)


def as_tinyad(value):
    return tree.map(lambda a: ad.tensor(np.asarray(a, dtype=np.float64)), value)


def as_jax(value):
    return jax.tree_util.tree_map(jnp.asarray, value)


def same(got, want, rtol=1e-10):
    """tinyad's result `got` and JAX's `want`: equal structures, equal leaves."""
    want = jax.tree_util.tree_map(np.asarray, want)
    got_leaves, got_def = tree.flatten(got)
    want_leaves, want_def = tree.flatten(want)
    assert got_def == want_def, f"tinyad {got_def} vs JAX {want_def}"
    for g, w in zip(got_leaves, want_leaves):
        g = g.numpy() if isinstance(g, ad.Tensor) else g
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


def both(program, *args):
    """The program bound to each library, and the arguments converted for each."""
    return ((partial(program, ad), [as_tinyad(a) for a in args]),
            (partial(program, jnp), [as_jax(a) for a in args]))


CASES = [(mlp, (PARAMS, X), 0), (mlp, (PARAMS, X), (0, 1)), (two, (data(3), data(3)), (0, 1)),
         (two, (data(3), data(3)), 1)]


@pytest.mark.parametrize("program, args, argnums", CASES)
def test_grad_value_and_grad_hessian(program, args, argnums):
    (f, a), (g, b) = both(program, *args)
    same(ad.grad(f, argnums)(*a), jax.grad(g, argnums)(*b))
    same(ad.value_and_grad(f, argnums)(*a), jax.value_and_grad(g, argnums)(*b))
    if program is two:
        same(ad.hessian(f, argnums)(*a), jax.hessian(g, argnums)(*b))


def test_has_aux_everywhere():
    (f, a), (g, b) = both(mlp_aux, PARAMS, X)
    same(ad.grad(f, has_aux=True)(*a), jax.grad(g, has_aux=True)(*b))
    same(ad.value_and_grad(f, (0, 1), has_aux=True)(*a),
         jax.value_and_grad(g, (0, 1), has_aux=True)(*b))
    out, _, aux = ad.vjp(f, *a, has_aux=True)
    jout, _, jaux = jax.vjp(g, *b, has_aux=True)
    same((out, aux), (jout, jaux))
    for ours, theirs in ((ad.jacfwd, jax.jacfwd), (ad.jacrev, jax.jacrev)):
        same(ours(f, has_aux=True)(*a), theirs(g, has_aux=True)(*b))


@pytest.mark.parametrize("argnums", [0, (0,)])
def test_jacobians_of_trees(argnums):
    (f, a), (g, b) = both(tree_out, TREE)
    for ours, theirs in ((ad.jacfwd, jax.jacfwd), (ad.jacrev, jax.jacrev)):
        same(ours(f, argnums)(*a), theirs(g, argnums)(*b))


def test_jvp_vjp_linearize_of_trees():
    (f, a), (g, b) = both(tree_out, TREE)
    v = {"a": data(3), "bs": [data(3), data(3)], "t": (data(2),)}
    same(ad.jvp(f, a, [as_tinyad(v)]), jax.jvp(g, b, [as_jax(v)]))
    out, pullback = ad.vjp(f, *a)
    jout, jpullback = jax.vjp(g, *b)
    u = jax.tree_util.tree_map(lambda o: data(*o.shape), jout)
    same(pullback(as_tinyad(u)), jpullback(as_jax(u)))
    same(ad.linearize(f, *a)[1](as_tinyad(v)), jax.linearize(g, *b)[1](as_jax(v)))


def libraries():
    return [(ad, ad), (jax, jnp)]


def softplus_for(lib, m):
    @lib.custom_jvp
    def softplus(x):
        return m.log(1 + m.exp(x))

    @softplus.defjvp
    def rule(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1 + m.exp(-x))
    return softplus


def sin_for(lib, m):
    @lib.custom_vjp
    def sin(x):
        return m.sin(x)

    sin.defvjp(lambda x: (sin(x), m.cos(x)), lambda c, g: (c * g,))
    return sin


def test_custom_rules_under_transforms():
    x = data(4)
    results = []
    for lib, m in libraries():
        softplus, sin = softplus_for(lib, m), sin_for(lib, m)
        xs = as_tinyad(x) if lib is ad else jnp.asarray(x)
        total = lambda x: m.sum(softplus(x) * sin(x))
        results.append([lib.grad(total)(xs), lib.grad(lambda x: m.sum(lib.grad(total)(x)))(xs),
                        lib.jacfwd(softplus)(xs), lib.hessian(lambda x: m.sum(softplus(x)))(xs),
                        lib.jvp(softplus, (xs,), (xs,))])
    for ours, theirs in zip(*results):
        same(ours, theirs)


def test_custom_vjp_with_nondiff_argnums_and_trees():
    p = {"x": data(3), "y": data(3)}
    w = {"x": np.array([-3.0, 0.1, 2.0]), "y": np.array([0.2, -0.4, 5.0])}
    results = []
    for lib, m in libraries():
        @partial(lib.custom_vjp, nondiff_argnums=(0,))
        def clip_gradient(bound, p):
            return {"x": p["x"], "y": p["y"] * 2}

        def bwd(bound, _, g):
            clip = lambda v: m.maximum(m.minimum(v, bound), -bound)
            return ({"x": clip(g["x"]), "y": clip(2 * g["y"])},)
        clip_gradient.defvjp(lambda bound, p: (clip_gradient(bound, p), None), bwd)
        convert = as_tinyad if lib is ad else as_jax
        loss = lambda p: sum(m.sum(v * w[k]) for k, v in clip_gradient(0.5, p).items())
        results.append(lib.grad(loss)(convert(p)))
    same(*results)


def test_checkpoint_first_and_second_order():
    (f, a), (g, b) = both(mlp, PARAMS, X)
    same(ad.grad(ad.checkpoint(f))(*a), jax.grad(jax.checkpoint(g))(*b))
    results = []
    for lib, m, (p, x) in ((ad, ad, a), (jax, jnp, b)):
        dx = lib.grad(lib.checkpoint(partial(mlp, m)), argnums=1)
        results.append(lib.grad(lambda x: m.sum(dx(p, x) ** 2))(x))
    same(*results)


XS = data(4, 5, 3)            # 4 examples of X
TREES = {"a": data(4, 3), "bs": [data(3), data(4, 3)], "t": (data(2, 4),)}


def relu_where(m, x, y):
    return m.where(x > 0, x * y, 0.1 * x) + m.max(x)


def test_vmap_programs():
    """vmap alone, nested, with tree in_axes/out_axes, over every transform and under them."""
    (f, a), (g, b) = both(mlp, PARAMS, XS)
    same(ad.vmap(f, in_axes=(None, 0))(*a), jax.vmap(g, in_axes=(None, 0))(*b))
    same(ad.vmap(ad.grad(f), in_axes=(None, 0))(*a), jax.vmap(jax.grad(g), in_axes=(None, 0))(*b))
    same(ad.grad(lambda p, x: ad.vmap(f, (None, 0))(p, x).sum())(*a),
         jax.grad(lambda p, x: jax.vmap(g, (None, 0))(p, x).sum())(*b))
    same(ad.vmap(ad.vmap(f, in_axes=(None, 0)), in_axes=(None, 1), out_axes=-1)(*a),
         jax.vmap(jax.vmap(g, in_axes=(None, 0)), in_axes=(None, 1), out_axes=-1)(*b))
    axes = ({"a": 0, "bs": [None, 0], "t": (1,)},)
    (f, a), (g, b) = both(tree_out, TREES)
    same(ad.vmap(f, in_axes=axes, out_axes=(1, 0))(*a),
         jax.vmap(g, in_axes=axes, out_axes=(1, 0))(*b))
    same(ad.vmap(ad.jacrev(f), in_axes=axes)(*a), jax.vmap(jax.jacrev(g), in_axes=axes)(*b))
    (f, a), (g, b) = both(two, data(6, 3), data(3))
    same(ad.vmap(ad.hessian(f, (0, 1)), (0, None))(*a),
         jax.vmap(jax.hessian(g, (0, 1)), (0, None))(*b))
    v = data(6, 3)
    same(ad.vmap(lambda x, t: ad.jvp(lambda x: f(x, a[1]), (x,), (t,)))(a[0], as_tinyad(v)),
         jax.vmap(lambda x, t: jax.jvp(lambda x: g(x, b[1]), (x,), (t,)))(b[0], as_jax(v)))
    u = data(3)
    same(ad.jvp(ad.vmap(f, (0, None)), a, [as_tinyad(v), as_tinyad(u)]),
         jax.jvp(jax.vmap(g, (0, None)), b, [as_jax(v), as_jax(u)]))
    (f, a), (g, b) = both(relu_where, data(6, 3), data(3))
    same(ad.vmap(ad.grad(lambda x, y: f(x, y).sum()), (0, None))(*a),
         jax.vmap(jax.grad(lambda x, y: g(x, y).sum()), (0, None))(*b))
    same(ad.vmap(lambda x: x * 2, in_axes=None, axis_size=3)(a[1]),
         jax.vmap(lambda x: x * 2, in_axes=None, axis_size=3)(b[1]))


def test_vmap_over_custom_rules_and_checkpoint():
    xs = data(5, 4)
    results = []
    for lib, m in libraries():
        softplus, sin = softplus_for(lib, m), sin_for(lib, m)
        x = as_tinyad(xs) if lib is ad else jnp.asarray(xs)
        total = lambda x: m.sum(softplus(x) * sin(x))
        squares = lib.checkpoint(lambda x: m.sum(m.sin(x) ** 2))
        results.append([lib.vmap(softplus)(x), lib.vmap(lib.grad(total))(x),
                        lib.grad(lambda x: m.sum(lib.vmap(total)(x)))(x),
                        lib.vmap(lib.grad(squares))(x), lib.grad(lambda x: m.sum(
                            lib.vmap(squares)(x)))(x)])
    for ours, theirs in zip(*results):
        same(ours, theirs)
