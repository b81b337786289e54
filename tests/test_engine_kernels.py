"""The engine's activations on the fused kernels: same values and derivatives either way, the
kernel used at first order only, the exact formula wherever a derivative is differentiated."""
import numpy as np
import pytest

import tinyad as ad
from tinyad import kernels

NAMES = ["relu", "tanh", "sigmoid", "gelu"]


def first_order(name, x, t):
    xt = ad.tensor(x, requires_grad=True)
    y = getattr(ad, name)(xt)
    y.backward(ad.tensor(t))
    _, tangent = ad.jvp(getattr(ad, name), (ad.tensor(x),), (ad.tensor(t),))
    return y.numpy(), xt.grad.numpy(), tangent.numpy()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_and_numpy_paths_agree(name, dtype):
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (33, 17)).astype(dtype)
    x[np.abs(x) < 1e-3] = 0.5                          # off relu's kink
    t = rng.standard_normal((33, 17)).astype(dtype)
    with kernels.using("numpy"):
        expected = first_order(name, x, t)
    with kernels.using("numba"):
        fused = first_order(name, x, t)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fused, expected):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_first_order_uses_the_fused_kernel_and_higher_order_the_formula(monkeypatch):
    calls = []
    real = kernels.act_forward
    monkeypatch.setattr(kernels, "act_forward",
                        lambda name, x: calls.append(name) or real(name, x))
    x = ad.tensor(np.linspace(-2, 2, 7), requires_grad=True)
    with kernels.using("numba"):
        ad.gelu(x).sum().backward()                   # forward value + first-order derivative
        assert calls == ["gelu", "gelu"]
        calls.clear()
        second = ad.grad(lambda v: ad.grad(lambda u: ad.gelu(u).sum())(v).sum())(x.detach())
    k, a = 0.7978845608028654, 0.044715
    xs = np.linspace(-2, 2, 7)
    u, du = k * (xs + a * xs ** 3), k * (1 + 3 * a * xs ** 2)
    th = np.tanh(u)
    exact = (1 - th ** 2) * du + 0.5 * xs * (-2 * th * (1 - th ** 2) * du ** 2
                                             + (1 - th ** 2) * 6 * k * a * xs)
    np.testing.assert_allclose(second.numpy(), exact, rtol=1e-10)


def test_auto_fuses_where_the_engine_measured_a_gain():
    from tinyad.primitives.activations import FUSED, _fused
    x = np.zeros(3, np.float32)
    assert kernels.backend() == "auto" and FUSED == {"gelu"}
    assert _fused("gelu", x) and not _fused("relu", x) and not _fused("gelu", x.astype(int))
    with kernels.using("numba"):
        assert _fused("relu", x)
    with kernels.using("numpy"):
        assert not _fused("gelu", x)
