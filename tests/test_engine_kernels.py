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
        ad.gelu(x).sum().backward()                   # one call: the value, and the derivative
        assert calls == ["gelu"]                      # the backward pass reads from the tape
        calls.clear()
        second = ad.grad(lambda v: ad.grad(lambda u: ad.gelu(u).sum())(v).sum())(x.detach())
    k, a = 0.7978845608028654, 0.044715
    xs = np.linspace(-2, 2, 7)
    u, du = k * (xs + a * xs ** 3), k * (1 + 3 * a * xs ** 2)
    th = np.tanh(u)
    exact = (1 - th ** 2) * du + 0.5 * xs * (-2 * th * (1 - th ** 2) * du ** 2
                                             + (1 - th ** 2) * 6 * k * a * xs)
    np.testing.assert_allclose(second.numpy(), exact, rtol=1e-10)


def test_the_engine_asks_the_one_table():
    x = np.zeros(3, np.float32)
    auto = kernels.AUTO["cpu", "float32"]
    with kernels.using("auto"):
        for name in NAMES:
            assert kernels.fused(name, x) == (auto[name] != "numpy")
        assert not kernels.fused("gelu", x.astype(int))
    with kernels.using("numba"):
        assert all(kernels.fused(name, x) for name in NAMES)
    with kernels.using("numpy"):
        assert not any(kernels.fused(name, x) for name in NAMES)


@pytest.mark.parametrize("setting", ["numpy", "numba", "auto"])
def test_sigmoid_tails_agree_on_every_setting(setting):
    x = ad.tensor(np.array([-20.0, 20.0], np.float32), requires_grad=True)
    with kernels.using(setting):
        y = ad.sigmoid(x)
        y.backward(ad.ones(2))
    np.testing.assert_allclose(y.numpy(), [2.0611537e-09, 1.0], rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy()[0], 2.0611537e-09, rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_higher_order_formulas_match_the_definitions(name):
    """The engine's differentiable partials (used whenever a derivative is differentiated again)
    give the derivative of kernels/activations.py."""
    x = np.concatenate([np.linspace(-7, 7, 57) + 0.011, [-20.0, 20.0]])
    xt = ad.tensor(x, requires_grad=True)
    grad, = ad.grad(lambda v: getattr(ad, name)(v).sum(), argnums=0)(xt),
    with ad.enable_grad():
        y = getattr(ad, name)(xt)
        g, = ad.vjp(lambda v: getattr(ad, name)(v), xt)[1](ad.ones_like(y))
    want = kernels.reference.act_forward(name, x)[1]
    for got in (grad, g):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-15)
    second = ad.grad(lambda v: ad.grad(lambda u: getattr(ad, name)(u).sum())(v).sum())(xt)
    h = 1e-5
    numeric = (kernels.reference.act_forward(name, x + h)[1]
               - kernels.reference.act_forward(name, x - h)[1]) / (2 * h)
    np.testing.assert_allclose(second.numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_the_engine_matmul_runs_on_the_selected_backend(monkeypatch):
    calls = []
    monkeypatch.setattr(kernels.NUMBA_CPU, "matmul", lambda a, b: calls.append(a.shape) or a @ b)
    a, b = np.ones((3, 4), np.float32), np.ones((4, 2), np.float32)
    with kernels.using("numba"):
        out = ad.tensor(a, requires_grad=True) @ ad.tensor(b)
        out.sum().backward()
    assert calls[0] == (3, 4) and len(calls) >= 2                 # forward, and a VJP product
    with kernels.using("numpy"):
        calls.clear()
        ad.tensor(a) @ ad.tensor(b)
    assert calls == []


def test_the_engine_kernel_benchmark_runs(tmp_path):
    """bench/bench_engine_kernels.py --quick: runs and writes its table (numbers not checked)."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "bench" / "bench_engine_kernels.py"),
                           "--quick", "--out", str(tmp_path)], cwd=root, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "engine forward+backward" in (tmp_path / "engine_kernels.md").read_text()
