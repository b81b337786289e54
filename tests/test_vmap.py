"""vmap: JAX's API (in_axes, out_axes, axis_size, trees), nesting, every composition with the
other transforms in both orders, levels never confused with dual levels, custom rules and
checkpoint under vmap, and clear errors. Each result is checked against a Python loop."""
import threading
from functools import partial

import numpy as np
import pytest

import tinyad as ad
from tinyad.nn import functional as F

RNG = np.random.default_rng(0)


def t(*shape):
    return ad.tensor(RNG.standard_normal(shape))


def close(a, b, rtol=1e-10, atol=1e-12):
    a = a.numpy() if isinstance(a, ad.Tensor) else np.asarray(a)
    b = b.numpy() if isinstance(b, ad.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def loop(f, *args, axes=None, out_axis=0):
    """The reference: f on each example, results stacked (the meaning of vmap)."""
    axes = axes or (0,) * len(args)
    size = next(a.shape[ax] for a, ax in zip(args, axes) if ax is not None)
    rows = []
    for i in range(size):
        picked = [a if ax is None else ad.tensor(np.take(a.numpy(), i, axis=ax))
                  for a, ax in zip(args, axes)]
        rows.append(f(*picked).numpy())
    return np.stack(rows, axis=out_axis)


def mlp(p, x):
    return (x @ p["w1"] + p["b1"]).tanh() @ p["w2"]


PARAMS = {"w1": t(4, 5), "b1": t(5), "w2": t(5, 3)}


# --- the API ---------------------------------------------------------------------------------
@pytest.mark.parametrize("in_axes,out_axes", [(0, 0), (1, 0), (-1, 1), ((2, None), -1),
                                              ((None, 0), 0), ([0, 1], 1)])
def test_axes_anywhere_against_a_loop(in_axes, out_axes):
    x, y = t(3, 3, 3), t(3, 3, 3)
    f = lambda a, b: (a * b.sin()).sum(0) + a.max(0)   # noqa: E731
    axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes, in_axes)
    close(ad.vmap(f, in_axes, out_axes)(x, y), loop(f, x, y, axes=axes, out_axis=out_axes))


def test_trees_in_and_out_with_prefix_axes():
    xs = t(6, 4)
    out = ad.vmap(lambda p, x: {"y": mlp(p, x), "n": [x.sum()]},
                  in_axes=({"w1": None, "b1": None, "w2": None}, 0))(PARAMS, xs)
    close(out["y"], loop(lambda x: mlp(PARAMS, x), xs))
    close(out["n"][0], xs.numpy().sum(1))
    shared_b = ad.vmap(mlp, in_axes=({"w1": None, "b1": 0, "w2": None}, None))
    bs = t(2, 5)
    close(shared_b(dict(PARAMS, b1=bs), xs),
          np.stack([mlp(dict(PARAMS, b1=bs[i]), xs).numpy() for i in range(2)]))


def test_unmapped_outputs_broadcast_and_axis_size():
    x = t(3)
    close(ad.vmap(lambda a, b: b * 2, in_axes=(0, None))(x, ad.tensor(5.0)), np.full(3, 10.0))
    close(ad.vmap(lambda b: b + 1, in_axes=None, axis_size=4)(x), np.tile(x.numpy() + 1, (4, 1)))
    close(ad.vmap(lambda a: a.sum(), out_axes=None, in_axes=None, axis_size=2)(x), x.numpy().sum())


def test_nested_vmap_is_a_double_loop():
    x, y = t(2, 3, 4), t(4, 5)
    inner = lambda r, w: (r @ w).relu()       # noqa: E731
    out = ad.vmap(ad.vmap(inner, in_axes=(0, None)), in_axes=(1, None), out_axes=1)(x, y)
    expected = np.stack([np.stack([inner(x[i, j], y).numpy() for j in range(3)])
                         for i in range(2)])
    close(out, expected)


def test_integer_bool_and_comparisons_inside_vmap():
    x = t(5, 3)
    f = lambda r: ad.where(r > 0, r, 0.1 * r) + (r == r.max()).astype("float64")  # noqa: E731
    close(ad.vmap(f)(x), loop(f, x))
    close(ad.vmap(lambda r: ad.softmax(r) + ad.logsumexp(r))(x),
          loop(lambda r: ad.softmax(r) + ad.logsumexp(r), x))
    assert ad.vmap(lambda r: r > 0)(x).dtype == np.bool_


def test_batched_indices_and_labels():
    table, idx = t(6, 3), ad.tensor(RNG.integers(-6, 6, (4, 2)))
    close(ad.vmap(lambda i: table[i])(idx), table.numpy()[idx.numpy()])
    rows = t(4, 6)
    close(ad.vmap(lambda x, i: x[i])(rows, idx), loop(lambda x, i: x[i], rows, idx))
    logits, labels = t(4, 5, 3), ad.tensor(RNG.integers(0, 3, (4, 5)))
    for reduction in ("mean", "none", "sum"):
        f = partial(F.cross_entropy, reduction=reduction)
        close(ad.vmap(f)(logits, labels), loop(f, logits, labels))
        close(ad.vmap(f, in_axes=(None, 0))(logits[0], labels), loop(f, logits[0], labels,
                                                                     axes=(None, 0)))
    with pytest.raises(ad.IndexingError, match="out of range"):
        ad.vmap(lambda i: table[i])(ad.tensor(np.array([[7]])))
    with pytest.raises(ad.BatchingError, match="integer arrays"):
        ad.vmap(lambda i: table[i, :2])(idx)


# --- compositions, both orders -----------------------------------------------------------------
def loss(p, x, y):
    return F.cross_entropy(mlp(p, x)[None], y[None])


def test_per_example_gradients():
    xs, ys = t(7, 4), ad.tensor(RNG.integers(0, 3, 7))
    per = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))(PARAMS, xs, ys)
    for i in range(7):
        one = ad.grad(loss)(PARAMS, xs[i], ys[i:i + 1][0])
        for k in PARAMS:
            close(per[k][i], one[k])


def test_per_example_gradients_of_a_cnn_module():
    """Convolution (im2col), ReLU, max-pooling, flatten, linear: a CNN's rules, per example."""
    ad.nn.init.seed(0)
    model = ad.nn.Sequential(ad.nn.Conv2d(1, 2, 3, padding=1), ad.nn.ReLU(), ad.nn.MaxPool2d(2),
                             ad.nn.Flatten(), ad.nn.Linear(2 * 4 * 4, 3))
    params = dict(model.named_parameters())
    xs, ys = ad.randn(5, 1, 8, 8, seed=1), ad.tensor(np.array([0, 1, 2, 1, 0]))

    def cnn_loss(p, x, y):
        return F.cross_entropy(ad.nn.functional_call(model, p, x[None]), y[None])
    per = ad.vmap(ad.grad(cnn_loss), in_axes=(None, 0, 0))(params, xs, ys)
    for i in range(5):
        one = ad.grad(cnn_loss)(params, xs[i], ys[i])
        for k in params:
            close(per[k][i], one[k], rtol=1e-5, atol=1e-6)


def test_grad_of_vmap_is_the_sum_of_the_loop():
    xs, ys = t(7, 4), ad.tensor(RNG.integers(0, 3, 7))
    total = ad.grad(lambda p: ad.vmap(loss, in_axes=(None, 0, 0))(p, xs, ys).sum())(PARAMS)
    each = [ad.grad(loss)(PARAMS, xs[i], ys[i]) for i in range(7)]
    for k in PARAMS:
        close(total[k], sum(g[k].numpy() for g in each))


def test_jvp_and_vmap_in_both_orders():
    xs, v = t(5, 4), t(4, 5)
    f = lambda w, x: (x @ w).tanh().sum()           # noqa: E731
    w = PARAMS["w1"]
    _, jv = ad.jvp(lambda w: ad.vmap(f, in_axes=(None, 0))(w, xs), (w,), (v,))
    close(jv, [ad.jvp(lambda w: f(w, xs[i]), (w,), (v,))[1].numpy() for i in range(5)])
    vs = t(5, 4, 5)
    out = ad.vmap(lambda v: ad.jvp(lambda w: f(w, xs[0]), (w,), (v,))[1])(vs)
    close(out, [ad.jvp(lambda w: f(w, xs[0]), (w,), (vs[i],))[1].numpy() for i in range(5)])


def test_vmap_of_vjp_and_of_jacobians_and_hessian():
    xs, us = t(4, 3), t(4, 3)
    f = lambda x: x.sin() * x.sum()                 # noqa: E731
    close(ad.vmap(lambda x, u: ad.vjp(f, x)[1](u)[0])(xs, us),
          loop(lambda x, u: ad.vjp(f, x)[1](u)[0], xs, us))
    for jac in (ad.jacfwd, ad.jacrev, ad.hessian):
        g = jac(f) if jac is not ad.hessian else jac(lambda x: f(x).sum())
        close(ad.vmap(g)(xs), loop(g, xs))
    whole = ad.hessian(lambda x: ad.vmap(f)(x).sum())(xs).numpy()          # (4, 3, 4, 3)
    blocks = loop(ad.hessian(lambda x: f(x).sum()), xs)                     # (4, 3, 3)
    close(np.einsum("ijik->ijk", whole), blocks)
    close(np.abs(whole).sum(), np.abs(blocks).sum())                        # zero off the diagonal


def test_grad_of_grad_through_vmap():
    x = t(3)
    inner = ad.grad(lambda s, xi: (s * xi).sin() * xi)
    g = ad.grad(lambda x: ad.vmap(inner)(x, x).sum())(x)
    h = ad.grad(lambda x: sum(inner(x[i], x[i]) for i in range(3)))(x)
    close(g, h)


# --- levels ----------------------------------------------------------------------------------
def test_perturbation_confusion_across_vmap_and_jvp():
    """d/dx [x · d/dy (x + y)] = 1 per example, whichever transform is outside."""
    xs = t(4)

    def inner(x):
        return x * ad.jvp(lambda y: x + y, (ad.tensor(1.0),), (ad.tensor(1.0),))[1]
    outer = lambda x: ad.jvp(inner, (x,), (ad.tensor(1.0),))[1]      # noqa: E731
    close(ad.vmap(outer)(xs), np.ones(4))
    # the mapped function differentiates with respect to its batched input and a shared one
    close(ad.vmap(lambda x: ad.jvp(lambda y: x * y, (ad.tensor(2.0),), (ad.tensor(1.0),))[1])(xs),
          xs.numpy())
    _, tan = ad.jvp(lambda s: ad.vmap(lambda x: s * x * x)(xs), (ad.tensor(3.0),),
                    (ad.tensor(1.0),))
    close(tan, xs.numpy() ** 2)


def test_vmap_over_tangents_only_and_over_primals_only():
    x, vs = t(3), t(6, 3)
    f = lambda x: (x ** 3).sum()                    # noqa: E731
    close(ad.vmap(lambda v: ad.jvp(f, (x,), (v,))[1])(vs), vs.numpy() @ (3 * x.numpy() ** 2))
    xs, v = t(6, 3), t(3)
    close(ad.vmap(lambda x: ad.jvp(f, (x,), (v,))[1])(xs), (3 * xs.numpy() ** 2) @ v.numpy())


def test_a_dual_at_an_outer_level_cannot_hold_a_batch():
    with pytest.raises(ad.BatchingError, match="dual_level"):
        ad.vmap(lambda x: ad.dual(x, ad.ones_like(x)))(t(3, 2))
    with ad.dual_level():                 # opened before the vmap: below its batch level
        with pytest.raises(ad.BatchingError, match="dual_level"):
            ad.vmap(lambda x: ad.dual(x, x))(t(3, 2))

    def inside(x):
        with ad.dual_level():
            return ad.dual(x, x).tangent * 2
    x = t(3, 2)
    close(ad.vmap(inside)(x), 2 * x.numpy())


def test_reading_values_inside_vmap_and_leaking_a_batch_raise():
    with pytest.raises(ad.BatchingError, match="no values of its own"):
        ad.vmap(lambda x: x * float(x.sum()))(t(3, 2))
    with pytest.raises(ad.BatchingError, match="no values of its own"):
        ad.vmap(lambda x: ad.tensor(x))(t(3, 2))
    kept = []
    ad.vmap(lambda x: kept.append(x) or x)(t(3, 2))
    with pytest.raises(ad.BatchingError, match="outside the vmap"):
        kept[0] + 1


def test_batch_levels_are_per_thread():
    kept, errors = [], []

    def mapped(x):
        kept.append(x)
        done = threading.Event()

        def other():
            try:
                kept[0] * 2
            except ad.BatchingError as e:
                errors.append(e)
            done.set()
        threading.Thread(target=other).start()
        done.wait()
        return x * 2
    ad.vmap(mapped)(t(3))
    assert len(errors) == 1


# --- custom rules and checkpoint -------------------------------------------------------------
@ad.custom_jvp
def cube(x):
    return x ** 3


@cube.defjvp
def cube_jvp(primals, tangents):      # deliberately not 3x²: shows which derivative is used
    (x,), (v,) = primals, tangents
    return cube(x), 7.0 * x * v


@ad.custom_vjp
def scaled(x, s):
    return x * s


scaled.defvjp(lambda x, s: (scaled(x, s), (x, s)),
              lambda res, g: (g * res[1] * 10.0, (g * res[0]).sum() * 0 + g.sum()))


@pytest.mark.parametrize("order", ["vmap", "vmap(grad)", "grad(vmap)", "vmap(jvp)", "jvp(vmap)"])
def test_custom_jvp_rule_is_used_under_vmap(order):
    xs = t(4, 3)
    total = lambda x: cube(x).sum()                 # noqa: E731
    rule = 7.0 * xs.numpy()
    if order == "vmap":
        close(ad.vmap(cube)(xs), xs.numpy() ** 3)
    elif order == "vmap(grad)":
        close(ad.vmap(ad.grad(total))(xs), rule)
    elif order == "grad(vmap)":
        close(ad.grad(lambda x: ad.vmap(total)(x).sum())(xs), rule)
    elif order == "vmap(jvp)":
        close(ad.vmap(lambda x: ad.jvp(cube, (x,), (ad.ones_like(x),))[1])(xs), rule)
    else:
        close(ad.jvp(ad.vmap(cube), (xs,), (ad.ones_like(xs),))[1], rule)


def test_custom_vjp_under_vmap_sums_a_shared_input():
    xs, s = t(4, 3), ad.tensor(2.0)
    close(ad.vmap(scaled, in_axes=(0, None))(xs, s), 2.0 * xs.numpy())
    gx, gs = ad.vmap(ad.grad(lambda x, s: scaled(x, s).sum(), argnums=(0, 1)),
                     in_axes=(0, None))(xs, s)
    close(gx, np.full((4, 3), 20.0))
    close(gs, np.full(4, 3.0))
    gx, gs = ad.grad(lambda x, s: ad.vmap(scaled, in_axes=(0, None))(x, s).sum(),
                     argnums=(0, 1))(xs, s)
    close(gx, np.full((4, 3), 20.0))
    close(gs, 12.0)


def test_checkpoint_under_vmap_in_both_orders():
    xs, w = t(5, 4), PARAMS["w1"]
    runs = []

    @ad.checkpoint
    def layer(x, w):
        runs.append(1)
        return (x @ w).tanh()
    f = lambda w, x: layer(x, w).sum()                 # noqa: E731
    per = ad.vmap(ad.grad(f), in_axes=(None, 0))(w, xs)
    close(per, loop(lambda x: ad.grad(f)(w, x), xs))
    total = ad.grad(lambda w: ad.vmap(f, in_axes=(None, 0))(w, xs).sum())(w)
    close(total, per.numpy().sum(0))
    with pytest.raises(ad.BatchingError, match="closure"):
        ad.vmap(lambda x, y: ad.grad(lambda x: ad.checkpoint(lambda x: x * y)(x).sum())(x))(xs, xs)


def test_errors_name_the_problem():
    x = t(3, 2)
    with pytest.raises(ad.BatchingError, match="one length"):
        ad.vmap(lambda a, b: a + b)(x, t(4, 2))
    with pytest.raises(ad.BatchingError, match="out of range"):
        ad.vmap(lambda a: a, in_axes=2)(x)
    with pytest.raises(ad.BatchingError, match="axis_size"):
        ad.vmap(lambda a: a, in_axes=None)(x)
    with pytest.raises(ad.BatchingError, match="2 entries for 1 arguments"):
        ad.vmap(lambda a: a, in_axes=(0, 0))(x)
    with pytest.raises(ad.BatchingError, match="out_axes is None"):
        ad.vmap(lambda a: a, out_axes=None)(x)
    with pytest.raises(ad.BatchingError, match="does not match"):
        ad.vmap(lambda p: p["a"], in_axes=({"b": 0},))({"a": x})
    with pytest.raises(ad.BatchingError, match="ints or None"):
        ad.vmap(lambda a: a, in_axes="0")(x)
    with pytest.raises(ad.ShapeError, match="add"):
        ad.vmap(lambda a: a + ad.ones(3))(x)


def test_a_primitive_without_a_batching_rule_or_with_a_wrong_one_raises():
    from tinyad.interpreter import LINEAR
    bare = ad.Primitive("bare", np.negative, jvp=LINEAR, vjp=(lambda g, out, x: -g,),
                        register=False)
    with pytest.raises(ad.BatchingError, match="bare: no batching rule"):
        ad.vmap(lambda x: bare(x))(t(3, 2))
    wrong = ad.Primitive("wrong", np.negative, jvp=LINEAR, vjp=(lambda g, out, x: -g,),
                         batch=lambda prim, xs, batched: ad.apply(prim, xs[0].T), register=False)
    with pytest.raises(ad.BatchingError, match="batch axis must come first"):
        ad.vmap(lambda x: wrong(x))(t(3, 2))


def test_custom_functions_must_receive_what_varies_across_the_batch():
    ys = t(4, 3)

    @partial(ad.custom_jvp, nondiff_argnums=(0,))
    def scale(s, x):
        return s * x
    scale.defjvp(lambda s, primals, tangents: (scale(s, *primals), s * tangents[0]))
    with pytest.raises(ad.BatchingError, match="non-differentiated argument"):
        ad.vmap(lambda s, x: scale(s, x))(ys, ys)

    def closes_over(y):
        @ad.custom_jvp
        def f(x):
            return x * y
        f.defjvp(lambda primals, tangents: (f(*primals), tangents[0] * y))
        return f(ad.tensor(np.ones(3)))
    with pytest.raises(ad.BatchingError, match="closure"):
        ad.vmap(closes_over)(ys)
