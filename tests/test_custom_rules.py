"""custom_jvp and custom_vjp: JAX's API, under every transform, nested, and under .backward()."""
from functools import partial

import numpy as np
import pytest

import tinyad as ad

X = np.array([-3.0, -0.5, 0.0, 0.7, 2.0])


def x64():
    return ad.tensor(X)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# --- custom_jvp ----------------------------------------------------------------------------------
@ad.custom_jvp
def softplus(x):
    """log(1 + e^x), stable for large |x|; the rule gives the derivative sigmoid(x) directly."""
    return ad.maximum(x, 0.0) + ad.log(1 + ad.exp(-ad.abs(x)))


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * ad.sigmoid(x)


def test_custom_jvp_under_every_transform():
    x, v = x64(), ad.tensor(np.linspace(-1, 1, 5))
    s, ds = sigmoid(X), sigmoid(X) * (1 - sigmoid(X))
    np.testing.assert_allclose(softplus(x).numpy(), np.logaddexp(0, X), rtol=1e-12)
    total = lambda x: softplus(x).sum()
    np.testing.assert_allclose(ad.grad(total)(x).numpy(), s, rtol=1e-12)
    np.testing.assert_allclose(ad.jvp(softplus, (x,), (v,))[1].numpy(), s * v.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ad.vjp(softplus, x)[1](v)[0].numpy(), s * v.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ad.jacfwd(softplus)(x).numpy(), np.diag(s), rtol=1e-12)
    np.testing.assert_allclose(ad.jacrev(softplus)(x).numpy(), np.diag(s), rtol=1e-12)
    # second order differentiates the rule: d/dx sigmoid(x) = sigmoid(1 - sigmoid)
    np.testing.assert_allclose(ad.hessian(total)(x).numpy(), np.diag(ds), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ad.grad(lambda x: ad.grad(total)(x).sum())(x).numpy(), ds,
                               rtol=1e-12)
    np.testing.assert_allclose(ad.jvp(ad.grad(total), (x,), (v,))[1].numpy(), ds * v.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(ad.hvp(total, (x,), (v,))[1].numpy(), ds * v.numpy(), rtol=1e-12)
    assert ad.gradcheck(softplus, x, order=2)


def test_reverse_over_forward_through_the_rule():
    x, v = x64(), ad.tensor(np.linspace(-1, 1, 5))
    s = sigmoid(X)
    got = ad.grad(lambda x: ad.jvp(softplus, (x,), (v,))[1].sum())(x)
    np.testing.assert_allclose(got.numpy(), s * (1 - s) * v.numpy(), rtol=1e-12)


def test_custom_jvp_under_backward_and_with_tape_variables():
    w = ad.tensor(X, requires_grad=True)
    (softplus(w * 2) ** 2).sum().backward()
    want = 2 * np.logaddexp(0, 2 * X) * sigmoid(2 * X) * 2
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-12)


def test_the_rule_is_used_not_f():
    """A rule that differs from f's true derivative shows up in every mode (so it is used)."""
    @ad.custom_jvp
    def f(x):
        return x * 1.0

    f.defjvp(lambda p, t: (f(*p), 3.0 * t[0]))
    x = x64()
    assert np.all(ad.grad(lambda x: f(x).sum())(x).numpy() == 3.0)
    assert np.all(ad.jvp(f, (x,), (ad.ones_like(x),))[1].numpy() == 3.0)
    w = ad.tensor(X, requires_grad=True)
    f(w).sum().backward()
    assert np.all(w.grad.numpy() == 3.0)


def test_straight_through_estimator():
    """f leaves tinyad (NumPy's sign); the rule passes the tangent straight through."""
    @ad.custom_jvp
    def sign(x):
        return ad.tensor(np.sign(x.numpy()))

    sign.defjvp(lambda p, t: (sign(*p), t[0]))
    x = x64()
    np.testing.assert_array_equal(sign(x).numpy(), np.sign(X))
    np.testing.assert_array_equal(ad.grad(lambda x: (sign(x) * x).sum())(x).numpy(),
                                  np.sign(X) + X)


def test_custom_jvp_trees_in_and_out_and_nondiff_argnums():
    @partial(ad.custom_jvp, nondiff_argnums=(0,))
    def scaled(power, p):
        return {"y": p["a"] ** power * p["b"], "n": p["b"].sum()}

    @scaled.defjvp
    def scaled_jvp(power, primals, tangents):
        (p,), (t,) = primals, tangents
        out = scaled(power, p)
        dy = power * p["a"] ** (power - 1) * t["a"] * p["b"] + p["a"] ** power * t["b"]
        return out, {"y": dy, "n": t["b"].sum()}

    p = {"a": ad.tensor([1.0, 2.0], dtype="float64"), "b": ad.tensor([3.0, -1.0], dtype="float64")}
    want = ad.jacrev(lambda p: {"y": p["a"] ** 3 * p["b"], "n": p["b"].sum()})(p)
    for jac in (ad.jacfwd, ad.jacrev):
        got = jac(lambda p: scaled(3, p))(p)
        for o in ("y", "n"):
            for i in ("a", "b"):
                np.testing.assert_allclose(got[o][i].numpy(), want[o][i].numpy(), rtol=1e-12)
    assert ad.gradcheck(lambda p: scaled(3, p), p, order=2)


def test_custom_jvp_several_arguments_jvp_sums_input_rules():
    @ad.custom_jvp
    def mul(x, y):
        return x * y

    mul.defjvp(lambda p, t: (mul(*p), t[0] * p[1] + p[0] * t[1]))
    x, y = x64(), ad.tensor(X[::-1].copy())
    vx, vy = ad.ones_like(x), ad.tensor(np.arange(5.0))
    _, t = ad.jvp(mul, (x, y), (vx, vy))
    np.testing.assert_allclose(t.numpy(), X[::-1] + X * np.arange(5.0), rtol=1e-12)
    gx, gy = ad.grad(lambda x, y: mul(x, y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx.numpy(), X[::-1])
    np.testing.assert_allclose(gy.numpy(), X)
    assert ad.gradcheck(mul, x, y, order=2)


def test_custom_jvp_errors():
    @ad.custom_jvp
    def no_rule(x):
        return x * 2

    assert no_rule(ad.ones(2)).numpy().tolist() == [2, 2]          # no transform: just f
    with pytest.raises(ad.GradError, match="no rule.*defjvp"):
        ad.grad(lambda x: no_rule(x).sum())(ad.ones(2))

    @ad.custom_jvp
    def bad_shape(x):
        return x * 2

    bad_shape.defjvp(lambda p, t: (bad_shape(*p), t[0].sum()))
    with pytest.raises(ad.ShapeError, match="tangent output has shape \\(\\) where the output "
                                             "has shape \\(2,\\)"):
        ad.jvp(bad_shape, (ad.ones(2),), (ad.ones(2),))

    w = ad.tensor([1.0, 2.0], requires_grad=True)

    @ad.custom_jvp
    def closure(x):
        return x * w

    closure.defjvp(lambda p, t: (closure(*p), t[0] * w))
    with pytest.raises(ad.GradError, match="closure"):
        closure(ad.ones(2)).sum().backward()


# --- custom_vjp ----------------------------------------------------------------------------------
@ad.custom_vjp
def sin(x):
    return ad.sin(x)


def sin_fwd(x):
    return sin(x), ad.cos(x)              # f may call itself in its fwd (as in JAX's examples)


def sin_bwd(cos_x, g):
    return (cos_x * g,)


sin.defvjp(sin_fwd, sin_bwd)


def test_custom_vjp_reverse_mode_and_grad_of_grad_through_residuals():
    x = x64()
    total = lambda x: sin(x).sum()
    np.testing.assert_allclose(ad.grad(total)(x).numpy(), np.cos(X), rtol=1e-12)
    np.testing.assert_allclose(ad.jacrev(sin)(x).numpy(), np.diag(np.cos(X)), rtol=1e-12)
    np.testing.assert_allclose(ad.grad(lambda x: ad.grad(total)(x).sum())(x).numpy(), -np.sin(X),
                               rtol=1e-12)
    w = ad.tensor(X, requires_grad=True)
    (sin(w) ** 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.sin(X) * np.cos(X), rtol=1e-12)
    assert ad.gradcheck(sin, x, order=2, modes=("reverse",))


@pytest.mark.parametrize("transform", [
    lambda f, x: ad.jvp(f, (x,), (x,)),
    lambda f, x: ad.jacfwd(f)(x),
    lambda f, x: ad.hessian(lambda x: f(x).sum())(x),
])
def test_custom_vjp_under_forward_mode_raises_as_in_jax(transform):
    with pytest.raises(ad.GradError, match="cannot be differentiated in forward mode"):
        transform(sin, x64())


def test_gradient_clipping_in_the_backward_pass():
    @partial(ad.custom_vjp, nondiff_argnums=(0,))
    def clip_gradient(bound, x):
        return x

    clip_gradient.defvjp(lambda bound, x: (x, None),
                         lambda bound, _, g: (ad.maximum(ad.minimum(g, bound), -bound),))
    x = ad.tensor([1.0, 2.0, 3.0], dtype="float64")
    w = ad.tensor([-2.0, 0.1, 3.0], dtype="float64")
    g = ad.grad(lambda x: (clip_gradient(0.5, x) * w).sum())(x)
    np.testing.assert_array_equal(g.numpy(), [-0.5, 0.1, 0.5])
    assert clip_gradient(0.5, x) is x                        # no transform: just f


def test_custom_vjp_trees_none_cotangent_and_checks():
    @ad.custom_vjp
    def pair(x, p):
        return {"sum": x + p["y"], "prod": x * p["y"]}

    def fwd(x, p):
        return pair(x, p), (x, p["y"])

    def bwd(res, g):
        x, y = res
        return g["sum"] + g["prod"] * y, {"y": g["sum"] + g["prod"] * x}

    pair.defvjp(fwd, bwd)
    x, p = x64(), {"y": ad.tensor(np.arange(5.0))}
    g = ad.grad(lambda x, p: (pair(x, p)["prod"] * 2 + pair(x, p)["sum"]).sum(), (0, 1))(x, p)
    np.testing.assert_allclose(g[0].numpy(), 2 * np.arange(5.0) + 1)
    np.testing.assert_allclose(g[1]["y"].numpy(), 2 * X + 1)
    assert ad.gradcheck(pair, x, p, modes=("reverse",), order=2)

    pair.defvjp(fwd, lambda res, g: (None, {"y": g["sum"]}))        # None: zero cotangent
    assert np.all(ad.grad(lambda x: pair(x, p)["sum"].sum())(x).numpy() == 0)
    pair.defvjp(fwd, lambda res, g: (g["sum"],))
    with pytest.raises(ad.GradError, match="bwd must return a tuple of 2 cotangents"):
        ad.grad(lambda x: pair(x, p)["sum"].sum())(x)
    pair.defvjp(fwd, lambda res, g: (g["sum"][:2], None))
    with pytest.raises(ad.ShapeError, match="cotangent for input \\[0\\] has shape \\(2,\\)"):
        ad.grad(lambda x: pair(x, p)["sum"].sum())(x)


def test_custom_vjp_closure_and_missing_rule_raise():
    w = ad.tensor([1.0, 2.0], requires_grad=True)

    @ad.custom_vjp
    def closure(x):
        return x * w

    closure.defvjp(lambda x: (x * w, None), lambda _, g: (g * w,))
    with pytest.raises(ad.GradError, match="closure"):
        closure(ad.ones(2, requires_grad=True)).sum().backward()
    with pytest.raises(ad.GradError, match="closure"):
        closure(ad.ones(2)).sum().backward()

    def over_a_dual(d):
        @ad.custom_vjp
        def f(x):
            return x * d

        f.defvjp(lambda x: (x * d, None), lambda _, g: (g,))
        return f(ad.ones(2, requires_grad=True))
    with pytest.raises(ad.GradError, match="carries a tangent"):
        ad.jvp(over_a_dual, (ad.ones(2),), (ad.ones(2),))

    @ad.custom_vjp
    def no_rule(x):
        return x * 2

    with pytest.raises(ad.GradError, match="no rule.*defvjp"):
        ad.grad(lambda x: no_rule(x).sum())(ad.ones(2))
