"""tinyad.kernels: references are right, fused Numba kernels match them, the switch switches.

Numba kernels compile on first use (a few seconds each the first time, then cached on disk), so
the tests share a few shapes and both dtypes rather than sweeping everything.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyad.kernels as K
from tinyad.kernels import cpu, cpu_matmul, cpu_softmax, cpu_windows, jit
from tinyad.kernels import reference as ref

DTYPES = [np.float32, np.float64]
NAMES = list(K.ACTIVATIONS)
SHAPES = [(), (1,), (1, 1), (7,), (3, 5), (17, 33), (2, 1, 9), (0, 4)]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def data(shape, dtype, seed=0, scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def close(got, want, dtype):
    assert got.dtype == np.dtype(dtype) and got.shape == want.shape
    np.testing.assert_allclose(got, want, equal_nan=True, **TOL[dtype])


# --- the references themselves ----------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_reference_derivative_matches_finite_differences(name):
    x = np.linspace(-6, 6, 241) + 0.013            # keeps relu's kink at 0 off the grid
    h = 1e-6
    _, d = ref.act_forward(name, x)
    numeric = (ref.act_forward(name, x + h)[0] - ref.act_forward(name, x - h)[0]) / (2 * h)
    np.testing.assert_allclose(d, numeric, rtol=1e-6, atol=1e-8)


def test_reference_values():
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    np.testing.assert_allclose(ref.gelu(x)[0], [-0.158808, 0.0, 0.841192, 1.954598], atol=1e-6)
    np.testing.assert_allclose(ref.sigmoid(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-15)
    assert np.isnan(ref.relu(np.array([np.nan]))[0][0])


def test_reference_softmax_xent_gradient_and_stability():
    z, labels = data((5, 4), np.float64, seed=1), np.array([0, 3, 1, 1, 2])
    loss, g = ref.softmax_xent(z, labels)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(loss, -np.log(p[range(5), labels]).mean(), rtol=1e-14)
    h, numeric = 1e-6, np.empty_like(z)
    for idx in np.ndindex(*z.shape):
        e = np.zeros_like(z)
        e[idx] = h
        up, down = ref.softmax_xent(z + e, labels)[0], ref.softmax_xent(z - e, labels)[0]
        numeric[idx] = (up - down) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)
    big_loss, big_g = ref.softmax_xent(z * 1e4, labels)              # exp would overflow unshifted
    assert np.isfinite(big_loss) and np.isfinite(big_g).all()


# --- Numba CPU kernels against the references ---------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_act_forward_and_jvp(shape, dtype):
    x, t = data(shape, dtype), data(shape, dtype, seed=1, scale=1.0)
    for name in NAMES:
        for got, want in zip(cpu.act_forward(name, x), ref.act_forward(name, x)):
            close(got, want, dtype)
        for got, want in zip(cpu.act_jvp(name, x, t), ref.act_jvp(name, x, t)):
            close(got, want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_vectorizable_tanh_is_within_4_ulp(dtype):
    tiny = np.geomspace(1e-30, 1, 2000)
    x = np.concatenate([np.linspace(-25, 25, 100_001), tiny, -tiny]).astype(dtype)
    want = np.tanh(x.astype(np.float64))
    rel = np.abs(cpu.act_forward("tanh", x)[0] - want) / np.abs(want).clip(1e-300)
    assert rel.max() <= 4 * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_match_reference(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, 1e-6, 9.0, -9.0, 30.0, -30.0, 1e4],
                 dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        for name in NAMES:
            for got, want in zip(cpu.act_forward(name, x), ref.act_forward(name, x)):
                close(got, want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 13), (13, 1), (17, 33), (3, 4, 5), (0, 6)])
def test_bias_act(shape, dtype):
    x, b = data(shape, dtype), data(shape[-1:], dtype, seed=2)
    for name in NAMES:
        for got, want in zip(cpu.bias_act(name, x, b), ref.bias_act(name, x, b)):
            close(got, want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,c", [(1, 1), (1, 7), (7, 1), (13, 10), (64, 129)])
def test_softmax_xent(n, c, dtype):
    z = data((n, c), dtype, scale=5.0)
    labels = np.random.default_rng(3).integers(0, c, n)
    loss, g = cpu_softmax.softmax_xent(z, labels)
    want_loss, want_g = ref.softmax_xent(z, labels)
    assert loss.shape == () and loss.dtype == np.dtype(dtype)
    close(loss, want_loss, dtype)
    close(g, want_g, dtype)
    np.testing.assert_allclose(g.sum(1), 0, atol=1e-6)               # softmax sums to 1
    huge = cpu_softmax.softmax_xent(z * 1e4, labels)                  # stable: max is subtracted
    assert np.isfinite(huge[0]) and np.isfinite(huge[1]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_vectorizable_exp_is_within_2_ulp(dtype):
    x = -np.concatenate([np.linspace(0, 800, 4001), np.geomspace(1e-30, 800, 1000)]).astype(dtype)
    y, want = np.empty_like(x), np.exp(x.astype(np.float64))
    for i, v in enumerate(x):                              # the inlined helper, run as Python
        y[i] = cpu_softmax.exp_nonpositive.py_func(v)
    normal = want > np.finfo(dtype).tiny
    assert (np.abs(y - want)[normal] / want[normal]).max() <= 2 * np.finfo(dtype).eps
    assert (y[~normal] < 2 * np.finfo(dtype).tiny).all()


def test_softmax_xent_nan_stays_in_its_row():
    z = data((3, 4), np.float32)
    z[1, 2] = np.nan
    loss, g = cpu_softmax.softmax_xent(z, np.array([0, 1, 2]))
    assert np.isnan(loss) and np.isnan(g[1]).all() and np.isfinite(g[[0, 2]]).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (1, 5, 1), (4, 4, 4), (37, 19, 23), (5, 130, 9),
                                   (64, 1, 3), (0, 3, 2), (3, 0, 2)])
def test_matmul(m, k, n, dtype):
    a, b = data((m, k), dtype), data((k, n), dtype, seed=1)
    got = cpu_matmul.matmul(a, b)
    assert got.flags.c_contiguous
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, a @ b, rtol=1e-4 if dtype == np.float32 else 1e-11,
                               atol=1e-4 if dtype == np.float32 else 1e-11)


def loop_col2im(cols, shape, kernel, stride, padding):
    """col2im by its definition, one element at a time, in float64."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out = np.zeros(shape)
    for (b, y, x, i, j, ch), v in np.ndenumerate(cols.reshape(n, oh, ow, kh, kw, c)):
        if 0 <= y * sh + i - ph < h and 0 <= x * sw + j - pw < w:
            out[b, ch, y * sh + i - ph, x * sw + j - pw] += v
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kernel,stride,padding", [
    ((2, 3, 5, 6), (3, 3), (1, 1), (1, 1)),          # overlapping, padded
    ((1, 2, 7, 5), (2, 3), (2, 1), (0, 1)),          # uneven kernel and stride
    ((2, 1, 6, 6), (2, 2), (3, 3), (0, 0)),          # gaps between windows
    ((1, 4, 3, 3), (3, 3), (1, 1), (2, 2)),          # more padding than image
])
def test_col2im_numba_and_reference_match_the_definition(shape, kernel, stride, padding, dtype):
    n, c, h, w = shape
    oh = (h + 2 * padding[0] - kernel[0]) // stride[0] + 1
    ow = (w + 2 * padding[1] - kernel[1]) // stride[1] + 1
    cols = data((n * oh * ow, kernel[0] * kernel[1] * c), dtype)
    want = loop_col2im(cols, shape, kernel, stride, padding)
    got = ref.col2im(cols, shape, kernel, stride, padding)
    assert got.dtype == np.dtype(dtype) and got.shape == shape
    np.testing.assert_allclose(got, want, **TOL[dtype])
    np.testing.assert_array_equal(cpu_windows.col2im(cols, shape, kernel, stride, padding), got)
    with K.using("numba"):
        np.testing.assert_array_equal(K.col2im(cols, shape, kernel, stride, padding),
                                      cpu_windows.col2im(cols, shape, kernel, stride, padding))
    with pytest.raises(ValueError, match="do not come from an input"):
        K.col2im(cols[1:], shape, kernel, stride, padding)


def test_matmul_takes_transposed_views():
    a, b = data((9, 6), np.float64), data((11, 9), np.float64)
    np.testing.assert_allclose(cpu_matmul.matmul(a.T, b.T), a.T @ b.T, rtol=1e-12)


def test_large_inputs_run_on_all_threads_small_ones_on_one():
    x, b = data((520, 300), np.float32), data((300,), np.float32, 1)      # over PARALLEL_MIN
    labels = np.random.default_rng(0).integers(0, 300, 520)
    assert x.size >= jit.PARALLEL_MIN > x[:2].size
    threads = jit.numba.get_num_threads()
    for part in (x, x[:2]):
        for name in NAMES:
            for got, want in zip(cpu.bias_act(name, part, b), ref.bias_act(name, part, b)):
                close(got, want, np.float32)
        for got, want in zip(cpu_softmax.softmax_xent(part, labels[:len(part)]),
                             ref.softmax_xent(part, labels[:len(part)])):
            close(got, want, np.float32)
        assert jit.numba.get_num_threads() == threads                  # restored after a launch


@given(rows=st.integers(1, 40), cols=st.integers(1, 40), name=st.sampled_from(NAMES),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
def test_fused_kernels_on_random_shapes(rows, cols, name, dtype, seed):
    x, b = data((rows, cols), dtype, seed), data((cols,), dtype, seed + 1)
    for got, want in zip(cpu.bias_act(name, x, b), ref.bias_act(name, x, b)):
        close(got, want, dtype)
    labels = np.random.default_rng(seed).integers(0, cols, rows)
    for got, want in zip(cpu_softmax.softmax_xent(x, labels), ref.softmax_xent(x, labels)):
        close(got, want, dtype)


# --- the switch and the dispatch surface --------------------------------------------------------
def test_switch_use_using_backend():
    before = K.backend()
    with K.using("auto"):
        assert K.backend("matmul") == K.AUTO["matmul"]
        with K.using("numpy"):
            assert K.backend() == K.backend("gelu") == "numpy"
            with K.using("numba"):
                assert K.backend("matmul") == "numba"
            assert K.backend() == "numpy"
        assert K.backend() == "auto"
    assert K.backend() == before
    K.use("numba")
    try:
        assert K.backend("softmax_xent") == "numba"
    finally:
        K.use(before)
    with pytest.raises(ValueError, match="unknown kernel backend"):
        K.use("torch")


def test_dispatch_routes_by_switch_and_dtype():
    x = data((4, 6), np.float32)
    with K.using("numpy"):
        y, d = K.act_forward("gelu", x)
        np.testing.assert_array_equal(y, ref.gelu(x)[0])
    with K.using("numba"):
        y, d = K.act_forward("gelu", x)
        np.testing.assert_array_equal(y, cpu.act_forward("gelu", x)[0])
        ints = np.array([-2, 0, 3])                       # not float: the reference, NumPy's rules
        np.testing.assert_array_equal(K.act_forward("relu", ints)[0], [0, 0, 3])
        a, b = data((3, 4), np.float64), data((4, 2), np.float64)
        np.testing.assert_allclose(K.matmul(a, b), a @ b, rtol=1e-12)
        batched = data((2, 3, 4), np.float64)             # not 2-D: NumPy's matmul
        np.testing.assert_allclose(K.matmul(batched, b), batched @ b)


def test_dispatch_casts_and_broadcasts_the_tangent_and_bias():
    x = data((3, 5), np.float32)
    for mode in ("numpy", "numba"):
        with K.using(mode):
            y, ty = K.act_jvp("tanh", x, 2.0)              # a scalar tangent, float64
            assert ty.dtype == np.float32 and ty.shape == x.shape
            close(ty, 2 * ref.tanh(x)[1], np.float32)
            y, d = K.bias_act("relu", x, np.arange(5.0))   # a float64 bias
            assert y.dtype == np.float32


def test_dispatch_validates_inputs():
    x = data((3, 5), np.float64)
    with pytest.raises(ValueError, match="unknown activation"):
        K.act_forward("swish", x)
    with pytest.raises(ValueError, match="needs b of shape"):
        K.bias_act("relu", x, np.zeros(3))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        K.softmax_xent(x, np.array([0, 5, 1]))
    with pytest.raises(ValueError, match="labels must be integers"):
        K.softmax_xent(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="logits must be"):
        K.softmax_xent(x[0], np.array([0]))
    with pytest.raises(ValueError, match="do not chain"):
        K.matmul(x, x)


def _python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_environment_variable_and_cheap_import():
    code = ("import sys, tinyad.kernels as K; "
            "print(K.backend(), 'numba' in sys.modules, 'cupy' in sys.modules)")
    assert _python(code, TINYAD_KERNELS="numba").stdout.split() == ["numba", "False", "False"]
    assert _python(code, TINYAD_KERNELS="").stdout.split() == ["auto", "False", "False"]
    bad = _python(code, TINYAD_KERNELS="fortran")
    assert bad.returncode != 0 and "unknown kernel backend 'fortran'" in bad.stderr


def test_cache_location_falls_back_when_the_source_tree_is_read_only(tmp_path, monkeypatch):
    monkeypatch.setattr(jit.numba.config, "CACHE_DIR", "")
    blocked = str(tmp_path / "file")
    open(blocked, "w").close()                                # a file: no folder can go under it
    assert jit.cache_location(os.path.join(blocked, "x"), [os.path.join(blocked, "y"),
                                                           str(tmp_path / "ok")])
    assert jit.numba.config.CACHE_DIR == str(tmp_path / "ok")
    monkeypatch.setattr(jit.numba.config, "CACHE_DIR", "")
    assert not jit.cache_location(os.path.join(blocked, "x"), [os.path.join(blocked, "y")])


# --- on the device (the fake CuPy on CI: the kernels' NumPy stand-ins; a GPU: the CUDA C) --------
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
def test_cupy_kernels_match_reference(cp, dtype):
    x, t, b = data((33, 65), dtype), data((33, 65), dtype, 1), data((65,), dtype, 2)
    for name in NAMES:
        gx, gt, gb = cp.asarray(x), cp.asarray(t), cp.asarray(b)
        for got, want in [(K.act_forward(name, gx), ref.act_forward(name, x)),
                          (K.act_jvp(name, gx, gt), ref.act_jvp(name, x, t)),
                          (K.bias_act(name, gx, gb), ref.bias_act(name, x, b))]:
            for g, w in zip(got, want):
                assert isinstance(g, cp.ndarray)
                close(g.get(), w, dtype)
    z, labels = data((37, 300), dtype, scale=5.0), np.random.default_rng(0).integers(0, 300, 37)
    loss, g = K.softmax_xent(cp.asarray(z), cp.asarray(labels))
    want_loss, want_g = ref.softmax_xent(z, labels)
    close(loss.get(), want_loss, dtype)
    close(g.get(), want_g, dtype)


@pytest.mark.gpu
def test_numba_cuda_kernels_on_cupy_arrays(cp):
    if hasattr(cp, "fake"):
        pytest.skip("Numba CUDA kernels launch on a real GPU only (the simulator: test_cudasim)")
    from tinyad.kernels import cuda as kc
    a, b = data((129, 70), np.float32), data((70, 33), np.float32, 1)
    c = kc.matmul(cp.asarray(a), cp.asarray(b))
    assert isinstance(c, cp.ndarray)
    np.testing.assert_allclose(c.get(), a @ b, rtol=1e-4, atol=1e-4)
    x, t = data((1000, 3), np.float32), data((1000, 3), np.float32, 1)
    for name in NAMES:
        y, d = kc.act_forward(name, cp.asarray(x))
        y2, ty = kc.act_jvp(name, cp.asarray(x), cp.asarray(t))
        want_y, want_d = ref.act_forward(name, x)
        close(y.get(), want_y, np.float32)
        close(d.get(), want_d, np.float32)
        close(ty.get(), want_d * t, np.float32)
