"""tinyad.kernels: the definitions are right, every backend matches them, the switch switches.

The registry (kernel_specs.py) runs here on the NumPy and Numba CPU backends; tests/cudasim runs
it on the Numba CUDA kernels under the simulator, and the gpu-marked tests on a device. Numba
kernels compile on first use (seconds each, then cached on disk).
"""
import shutil
import subprocess

import numpy as np
import pytest

import kernel_specs as specs
import tinyad.kernels as K
from tinyad.kernels import activations, cpu, cpu_math, cpu_softmax, cupy_kernels, jit
from tinyad.kernels import reference as ref

DTYPES = [np.float32, np.float64]
NAMES = list(K.ACTIVATIONS)
CASES = [case for dtype in DTYPES for case in specs.cases(dtype)]


@pytest.mark.parametrize("backend", [K.NUMPY, K.NUMBA_CPU], ids=lambda b: b.name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_registry(backend, case):
    specs.check(backend, case)


# --- the definitions against independent formulas, in float64 --------------------------------
K_GELU, A_GELU = activations.GELU_K, activations.GELU_A
INDEPENDENT = {                  # value, derivative; exp(-logaddexp(0, -x)) = 1/(1 + e^-x) exactly
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2),
    "sigmoid": (lambda x: np.exp(-np.logaddexp(0, -x)),
                lambda x: np.exp(-np.logaddexp(0, -x) - np.logaddexp(0, x))),
    "gelu": (lambda x: 0.5 * x * (1 + np.tanh(K_GELU * (x + A_GELU * x ** 3))), None),
}


@pytest.mark.parametrize("name", NAMES)
def test_definitions_match_independent_formulas_and_finite_differences(name):
    x = np.concatenate([np.linspace(-6, 6, 241) + 0.013, specs.TAILS])
    y, d = ref.act_forward(name, x)
    value, derivative = INDEPENDENT[name]
    moderate = np.abs(x) < 7                             # gelu's tanh form cancels beyond
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(y[moderate], value(x)[moderate], rtol=1e-14, atol=1e-15)
        if derivative is not None:
            np.testing.assert_allclose(d, derivative(x), rtol=1e-13, atol=1e-300)
    h = 1e-6
    numeric = (ref.act_forward(name, x + h)[0] - ref.act_forward(name, x - h)[0]) / (2 * h)
    np.testing.assert_allclose(d[moderate], numeric[moderate], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tails_are_relative_accurate_in_both_directions(dtype):
    x = np.array([-20.0, 20.0], dtype)
    s, ds = K.act_forward("sigmoid", x)
    np.testing.assert_allclose(s, [2.0611537e-09, 1.0], rtol=1e-6)
    np.testing.assert_allclose(ds, [2.0611537e-09, 2.0611537e-09], rtol=1e-6)
    t, dt = K.act_forward("tanh", x)
    np.testing.assert_allclose(dt, [1.6993417e-17] * 2, rtol=1e-6)
    with K.using("numba"):
        np.testing.assert_array_equal(K.act_forward("sigmoid", x)[0] > 0, True)


def test_unknown_activation_is_an_error_on_every_path():
    x = np.zeros(3, np.float32)
    for fn in (lambda: K.act_forward("swish", x), lambda: K.fused("swish", x),
               lambda: cpu.act_forward("swish", x), lambda: ref.act_forward("swish", x),
               lambda: K.bias_act("swish", x, x)):
        with pytest.raises(ValueError, match="unknown activation 'swish'"):
            fn()


def test_one_activation_table_names_every_rule():
    assert K.ACTIVATIONS == tuple(activations.RULES) == tuple(cupy_kernels.RULES)
    assert [activations.index_of(n) for n in K.ACTIVATIONS] == list(range(len(K.ACTIVATIONS)))


def test_reference_values():
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    np.testing.assert_allclose(ref.act_forward("gelu", x)[0], [-0.158808, 0.0, 0.841192, 1.954598],
                               atol=1e-6)
    np.testing.assert_allclose(ref.act_forward("sigmoid", x)[0], 1 / (1 + np.exp(-x)), rtol=1e-15)
    assert np.isnan(ref.act_forward("relu", np.array([np.nan]))[0][0])


def test_reference_softmax_xent_gradient_and_stability():
    z = specs._normal(np.random.default_rng(1), (5, 4), np.float64)
    labels = np.array([0, 3, 1, 1, 2])
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
    np.testing.assert_allclose(g.sum(1), 0, atol=1e-15)                 # softmax sums to 1
    big_loss, big_g = ref.softmax_xent(z * 1e4, labels)              # exp would overflow unshifted
    assert np.isfinite(big_loss) and np.isfinite(big_g).all()


def loop_col2im(cols, shape, kernel, stride, padding, dilation=(1, 1)):
    """col2im by its definition, one element at a time, in float64."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ((pt, pb), (pl, pr)) = ref.pads(padding)
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros(shape)
    for (b, y, x, i, j, ch), v in np.ndenumerate(cols.reshape(n, oh, ow, kh, kw, c)):
        yy, xx = y * sh + i * dh - pt, x * sw + j * dw - pl
        if 0 <= yy < h and 0 <= xx < w:
            out[b, ch, yy, xx] += v
    return out


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation", [
    ((2, 3, 5, 6), (3, 3), (1, 1), (1, 1), (1, 1)),          # overlapping, padded
    ((1, 2, 7, 5), (2, 3), (2, 1), (0, 1), (1, 1)),          # uneven kernel and stride
    ((2, 1, 6, 6), (2, 2), (3, 3), (0, 0), (1, 1)),          # gaps between windows
    ((1, 4, 3, 3), (3, 3), (1, 1), (2, 2), (1, 1)),          # more padding than image
    ((2, 2, 7, 6), (2, 3), (1, 2), ((0, 2), (1, 0)), (3, 2)),  # dilated, padded on one side
])
def test_col2im_matches_its_definition_and_numba_matches_bit_for_bit(shape, kernel, stride,
                                                                      padding, dilation):
    n, c = shape[:2]
    oh, ow = ref.window_grid(shape, kernel, stride, padding, dilation)
    cols = specs._normal(np.random.default_rng(0), (n * oh * ow, kernel[0] * kernel[1] * c),
                         np.float64)
    got = ref.col2im(cols, shape, kernel, stride, padding, dilation)
    np.testing.assert_allclose(got, loop_col2im(cols, shape, kernel, stride, padding, dilation),
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(K.NUMBA_CPU.col2im(cols, shape, kernel, stride, padding,
                                                     dilation), got)


def test_numba_matmul_is_c_ordered_and_takes_transposed_views():
    a, b = specs._normal(np.random.default_rng(0), (9, 6), np.float64), \
        specs._normal(np.random.default_rng(1), (11, 9), np.float64)
    got = K.NUMBA_CPU.matmul(a.T, b.T)
    assert got.flags.c_contiguous
    np.testing.assert_allclose(got, a.T @ b.T, rtol=1e-12)


# --- the CPU target's elementary functions ------------------------------------------------------
@pytest.fixture(scope="module")
def elementwise():
    @jit.numba.njit
    def run(fn_index, x):
        y = np.empty_like(x)
        for i in range(x.size):
            y[i] = cpu_math.exp(x[i]) if fn_index == 0 else cpu_math.tanh(x[i])
        return y
    return run


@pytest.mark.parametrize("dtype", DTYPES)
def test_vectorizable_exp_is_within_2_ulp_and_overflows_to_inf(dtype, elementwise):
    x = np.concatenate([np.linspace(-800, 800, 8001), np.geomspace(1e-30, 800, 1000)])
    x = np.concatenate([x, -x]).astype(dtype)
    y = elementwise(0, x)
    with np.errstate(over="ignore"):
        want = np.exp(x.astype(np.float64)).astype(dtype).astype(np.float64)  # inf where it is
        want = np.where(np.isinf(want), np.inf, np.exp(x.astype(np.float64)))
    normal = (want > np.finfo(dtype).tiny) & np.isfinite(want)
    assert (np.abs(y[normal] - want[normal]) / want[normal]).max() <= 2 * np.finfo(dtype).eps
    assert (y[want <= np.finfo(dtype).tiny] < 2 * np.finfo(dtype).tiny).all()
    assert np.isinf(y[np.isinf(want)]).all()
    special = elementwise(0, np.array([np.nan, -np.inf, -1e9, 0.0, np.inf, 1e9], dtype))
    assert np.isnan(special[0]) and list(special[1:]) == [0, 0, 1, np.inf, np.inf]


@pytest.mark.parametrize("dtype", DTYPES)
def test_vectorizable_tanh_is_within_4_ulp(dtype, elementwise):
    tiny = np.geomspace(1e-30, 1, 2000)
    x = np.concatenate([np.linspace(-25, 25, 100_001), tiny, -tiny]).astype(dtype)
    want = np.tanh(x.astype(np.float64))
    rel = np.abs(elementwise(1, x) - want) / np.abs(want).clip(1e-300)
    assert rel.max() <= 4 * np.finfo(dtype).eps


def test_softmax_xent_nan_stays_in_its_row():
    z = specs._normal(np.random.default_rng(0), (3, 4), np.float32)
    z[1, 2] = np.nan
    loss, g = cpu_softmax.softmax_xent(z, np.array([0, 1, 2]))
    assert np.isnan(loss) and np.isnan(g[1]).all() and np.isfinite(g[[0, 2]]).all()


def test_large_inputs_run_on_all_threads_small_ones_on_one():
    rng = np.random.default_rng(0)
    x, b = specs._normal(rng, (520, 300), np.float32), specs._normal(rng, (300,), np.float32)
    labels = rng.integers(0, 300, 520)
    assert x.size >= jit.PARALLEL_MIN > x[:2].size
    threads = jit.numba.get_num_threads()
    for part in (x, x[:2]):
        for name in NAMES:
            specs.check(K.NUMBA_CPU, specs.Case("bias_act", (name,), (part, b)))
        specs.check(K.NUMBA_CPU, specs.Case("softmax_xent", (), (part, labels[:len(part)])))
        assert jit.numba.get_num_threads() == threads                  # restored after a launch


# --- the CuPy kernels' C sources, compiled for the host and held to the definitions -------------
@pytest.fixture(scope="module")
def host_rules(tmp_path_factory):
    """Each CUDA C rule of cupy_kernels.RULES, compiled by the host's C++ compiler (the sources
    use only C++'s exp, tanh and fabs), as ``rule(name, x) -> (fx, dfx)``."""
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler on this machine")
    source = "#include <cmath>\nusing std::exp; using std::tanh; using std::fabs;\n"
    for name, body in cupy_kernels.RULES.items():
        for ctype in ("float", "double"):
            source += (f'extern "C" void {name}_{ctype}(const {ctype}* x, {ctype}* y, '
                       f'{ctype}* d, long n) {{ typedef {ctype} T; for (long i = 0; i < n; i++) '
                       f'{{ const T v = x[i]; T fx, dfx; {body} y[i] = fx; d[i] = dfx; }} }}\n')
    folder = tmp_path_factory.mktemp("rules")
    (folder / "rules.cpp").write_text(source)
    subprocess.run([compiler, "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-o",
                    str(folder / "rules.so"), str(folder / "rules.cpp")], check=True)
    import ctypes
    lib = ctypes.CDLL(str(folder / "rules.so"))

    def rule(name, x):
        y, d = np.empty_like(x), np.empty_like(x)
        pointer = np.ctypeslib.as_ctypes_type(x.dtype)
        getattr(lib, f"{name}_{'float' if x.dtype == np.float32 else 'double'}")(
            *(a.ctypes.data_as(ctypes.POINTER(pointer)) for a in (x, y, d)),
            ctypes.c_long(x.size))
        return y, d
    return rule


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_cupy_rule_sources_match_the_definitions(host_rules, name, dtype):
    for case in specs.cases(dtype):
        if case.kernel == "act_forward" and case.params == (name,) and case.layout == "c":
            x = np.ascontiguousarray(case.arrays[0]).reshape(-1)
            specs.check(type("HostC", (), {"act_forward": staticmethod(host_rules)}),
                        specs.Case("act_forward", (name,), (x,), tails=case.tails))


# --- on the device: the registry on both CUDA backends, and the switch on CUDA tensors ----------
# (``cp``, from conftest: CuPy on a GPU, or the strict fake CuPy whose CUDA kernels are NumPy
# stand-ins; Numba CUDA launches need a real GPU, and run under the simulator in test_cudasim)
def _real_gpu_only(cp, what):
    if hasattr(cp, "fake"):
        pytest.skip(f"{what} launch on a real GPU only (the simulator: test_cudasim)")


@pytest.mark.gpu
@pytest.mark.parametrize("backend", [K.CUPY, K.NUMBA_CUDA], ids=lambda b: b.name)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_registry_on_the_gpu(cp, backend):
    if backend is K.NUMBA_CUDA:
        _real_gpu_only(cp, "Numba CUDA kernels")
    for case in CASES:
        specs.check(backend, case, to_device=cp.asarray, to_host=cp.asnumpy)


@pytest.mark.gpu
def test_the_switch_picks_the_cuda_backend_on_cupy_arrays(cp):
    import tinyad as ad
    _real_gpu_only(cp, "Numba CUDA kernels")
    x = cp.asarray(specs._normal(np.random.default_rng(0), (33, 17), np.float32))
    w = cp.asarray(specs._normal(np.random.default_rng(1), (17, 5), np.float32))
    with K.using("numba"):
        assert K.select("gelu", x) is K.NUMBA_CUDA and K.select("matmul", x) is K.NUMBA_CUDA
        assert isinstance(K.act_forward("gelu", x)[0], cp.ndarray)
        fused = ad.gelu(ad.tensor(x) @ ad.tensor(w)).numpy()
    with K.using("auto"):
        assert K.select("gelu", x) is K.CUPY
        plain = ad.gelu(ad.tensor(x) @ ad.tensor(w)).numpy()
    np.testing.assert_allclose(fused, plain, rtol=1e-4, atol=1e-5)
    loss, g = K.softmax_xent(x, np.arange(33) % 17)            # NumPy labels: moved to the GPU
    assert isinstance(g, cp.ndarray)
