"""Transforms, forward mode, higher order, and their composition."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyad as ad


def rosenbrock(v):
    return ((1 - v[:-1]) ** 2 + 100 * (v[1:] - v[:-1] ** 2) ** 2).sum()


def rosenbrock_hessian(v):
    """Closed form: the tridiagonal Hessian of sum (1-x_i)² + 100 (x_{i+1} - x_i²)²."""
    n = len(v)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 2 - 400 * (v[i + 1] - v[i] ** 2) + 800 * v[i] ** 2
        h[i, i + 1] += -400 * v[i]
        h[i + 1, i] += -400 * v[i]
        h[i + 1, i + 1] += 200
    return h


@given(st.lists(st.floats(-2, 2), min_size=2, max_size=5))
def test_rosenbrock_hessian_matches_closed_form(values):
    v = np.array(values)
    h = ad.hessian(rosenbrock)(ad.tensor(v))
    np.testing.assert_allclose(h.numpy(), rosenbrock_hessian(v), rtol=1e-10, atol=1e-8)
    hv = ad.hvp(rosenbrock, (ad.tensor(v),), (ad.tensor(np.ones_like(v)),))[1]
    np.testing.assert_allclose(hv.numpy(), rosenbrock_hessian(v) @ np.ones_like(v),
                               rtol=1e-10, atol=1e-8)


def test_perturbation_confusion():
    """d/dx [x · (d/dy (x + y) at y = 1)] at x = 1 is 1; mixing the two ε would give 2."""
    def f(x):
        inner = ad.jvp(lambda y: x + y, (1.0,), (1.0,))[1]
        return x * inner
    assert ad.jvp(f, (1.0,), (1.0,))[1].item() == 1.0


def test_reverse_mode_nesting_keeps_variables_apart():
    """d/dx [x · (d/dy (x·y))] = d/dx x² = 2x: the inner grad is with respect to y alone."""
    f = ad.grad(lambda x: x * ad.grad(lambda y: x * y)(ad.tensor(1.0)))
    assert f(ad.tensor(3.0)).item() == pytest.approx(6.0)


def test_dual_numbers_by_hand():
    x = ad.dual(ad.tensor(2.0), ad.tensor(1.0))
    y = x * x * x
    assert y.primal.item() == 8.0 and y.tangent.item() == 12.0
    with ad.dual_level():
        inner = ad.dual(x, ad.tensor(1.0))
        z = inner * inner
        assert z.tangent.primal.item() == 4.0      # the inner ε's coefficient, itself a dual


def test_grad_of_grad_and_third_order():
    f = lambda x: x.sin() * x
    x = ad.tensor(0.7, dtype="float64")
    d2 = ad.grad(ad.grad(f))(x).item()
    d3 = ad.grad(ad.grad(ad.grad(f)))(x).item()
    assert d2 == pytest.approx(2 * np.cos(0.7) - 0.7 * np.sin(0.7))
    assert d3 == pytest.approx(-3 * np.sin(0.7) - 0.7 * np.cos(0.7))


def test_forward_over_reverse_equals_reverse_over_forward():
    f = lambda x: (x.tanh() * x[::-1]).sum()
    x = ad.tensor(np.linspace(-1, 1, 4))
    v = ad.tensor(np.array([1.0, -2.0, 0.5, 3.0]))
    fwd_rev = ad.jvp(ad.grad(f), (x,), (v,))[1]
    rev_fwd = ad.grad(lambda x: ad.jvp(f, (x,), (v,))[1])(x)
    np.testing.assert_allclose(fwd_rev.numpy(), rev_fwd.numpy(), rtol=1e-12)


def test_jacfwd_equals_jacrev():
    f = lambda x, w: (w @ x).tanh() * x[0]
    x, w = ad.tensor(np.arange(3.0)), ad.tensor(np.random.default_rng(0).standard_normal((2, 3)))
    for argnums in (0, 1):
        a = ad.jacfwd(f, argnums)(x, w).numpy()
        b = ad.jacrev(f, argnums)(x, w).numpy()
        assert a.shape == (2,) + (x.shape if argnums == 0 else w.shape)
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_value_and_grad_with_tuple_argnums():
    f = lambda a, b: (a * b ** 2).sum()
    a, b = ad.tensor([1.0, 2.0]), ad.tensor([3.0, 4.0])
    value, (ga, gb) = ad.value_and_grad(f, argnums=(0, 1))(a, b)
    assert value.item() == 1 * 9 + 2 * 16
    np.testing.assert_allclose(ga.numpy(), [9, 16])
    np.testing.assert_allclose(gb.numpy(), [6, 16])
    assert not value.requires_grad


def test_vjp_is_reusable_and_handles_tuples():
    out, pullback = ad.vjp(lambda x: (x * 2, x.sum()), ad.tensor([1.0, 2.0]))
    (g,) = pullback((ad.tensor([1.0, 1.0]), ad.tensor(1.0)))
    np.testing.assert_allclose(g.numpy(), [3, 3])
    (g,) = pullback((ad.tensor([0.0, 1.0]), ad.tensor(0.0)))
    np.testing.assert_allclose(g.numpy(), [0, 2])


def test_grad_leaves_user_leaves_alone():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    g = ad.grad(lambda x: (x * w).sum())(ad.tensor([3.0, 4.0]))
    np.testing.assert_allclose(g.numpy(), [1, 2])
    assert w.grad is None


def test_maml_style_second_order_through_an_update():
    """Differentiate a loss after one gradient step with respect to the starting point."""
    def after_step(w):
        inner = ad.grad(lambda w: ((w - 3.0) ** 2).sum())(w)
        return ((w - 0.1 * inner) ** 2).sum()
    w = ad.tensor([1.0], dtype="float64")
    # w' = w - 0.2 (w - 3) = 0.8 w + 0.6; d/dw w'² = 2 w' 0.8
    assert ad.grad(after_step)(w).item() == pytest.approx(2 * (0.8 + 0.6) * 0.8)
    assert ad.gradcheck(after_step, w, order=2)


def test_gradcheck_reports_a_wrong_rule():
    bad = ad.Primitive("bad_square", lambda x: x * x,
                       jvp=(lambda t, out, x: t * x,), vjp=(lambda g, out, x: g * x,))
    try:
        with pytest.raises(AssertionError, match="input 0.*analytic.*numeric"):
            ad.gradcheck(lambda x: ad.apply(bad, x), ad.tensor([1.0, 2.0]))
    finally:
        del ad.PRIMITIVES["bad_square"]


def test_linearize_replays_the_tangent_program_without_running_f():
    calls = []

    def f(p):
        calls.append(1)
        return {"a": (p["x"].sin() * p["y"]).sum(), "b": p["x"].tanh() * 2}
    rng = np.random.default_rng(0)
    p = {"x": ad.tensor(rng.standard_normal(3)), "y": ad.tensor(rng.standard_normal(3))}
    out, f_jvp = ad.linearize(f, p)
    assert len(calls) == 1
    for _ in range(3):
        v = {k: ad.tensor(rng.standard_normal(3)) for k in p}
        got, want = f_jvp(v), ad.jvp(f, (p,), (v,))[1]
        for k in "ab":
            np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-12)
    assert len(calls) == 4                                   # three jvp calls, no f_jvp call
    np.testing.assert_array_equal(out["b"].numpy(), np.tanh(p["x"].numpy()) * 2)
    with pytest.raises(ad.GradError, match="tangents must match"):
        f_jvp({"x": ad.ones(3)})
    with pytest.raises(ad.GradError, match="shape \\(2,\\)"):
        f_jvp({"x": ad.ones(2), "y": ad.ones(3)})


def test_linear_transpose_of_the_linearization_is_the_vjp():
    """Reverse mode as forward mode transposed: linearize, then transpose."""
    f = lambda x: (x.sin() * x[::-1], (x ** 2).sum())
    x = ad.tensor(np.linspace(-1, 1, 4))
    _, f_jvp = ad.linearize(f, x)
    u = (ad.tensor(np.arange(4.0)), ad.tensor(0.5, dtype="float64"))
    (transposed,) = ad.linear_transpose(f_jvp, x)(u)
    (pulled,) = ad.vjp(f, x)[1](u)
    np.testing.assert_allclose(transposed.numpy(), pulled.numpy(), rtol=1e-12)
    # and it is differentiable: d/dx of a linearized JVP is a second derivative
    v = ad.tensor(np.ones(4))
    np.testing.assert_allclose(ad.grad(lambda x: ad.linearize(f, x)[0][1])(x).numpy(),
                               2 * x.numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        ad.grad(lambda x: ad.linearize(f, x)[1](v)[1])(x).numpy(),
        ad.grad(lambda x: ad.jvp(f, (x,), (v,))[1][1])(x).numpy(), rtol=1e-12)
