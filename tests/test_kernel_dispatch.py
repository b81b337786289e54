"""tinyad.kernels' switch and dispatch: which backend runs, side arguments, validation, the
import without Numba, the on-disk cache, and the source tree importable without installing."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyad.kernels as K
from tinyad.kernels import cpu, jit
from tinyad.kernels import reference as ref

ROOT = Path(__file__).resolve().parents[1]


def data(shape, dtype, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)


def test_switch_use_using_backend():
    before = K.backend()
    with K.using("auto"):
        with K.using("numpy"):
            assert K.backend() == "numpy"
            with K.using("numba"):
                assert K.backend() == "numba"
            assert K.backend() == "numpy"
        assert K.backend() == "auto"
    assert K.backend() == before
    K.use("numba")
    try:
        assert K.select("softmax_xent", np.zeros((2, 2))) is K.NUMBA_CPU
    finally:
        K.use(before)
    with pytest.raises(ValueError, match="unknown kernel backend"):
        K.use("torch")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_table_decides_what_auto_runs_per_device_and_dtype(dtype):
    x = np.zeros(3, dtype)
    with K.using("auto"):
        for key, name in K.AUTO["cpu", dtype].items():
            assert K.select(key, x) is K.BACKENDS["cpu", name]
    with K.using("numba"):
        assert {K.select(key, x) for key in K.AUTO["cpu", dtype]} == {K.NUMBA_CPU}
    with K.using("numpy"):
        assert {K.select(key, x) for key in K.AUTO["cpu", dtype]} == {K.NUMPY}
    assert set(K.AUTO["cuda", dtype]) == set(K.AUTO["cpu", dtype])


def test_every_backend_has_every_entry_point():
    for backend in K.BACKENDS.values():
        assert all(m in backend.modules for m in K.backends.ENTRY_POINTS), backend
    for entry in K.backends.ENTRY_POINTS:                       # CPU modules import anywhere
        assert callable(getattr(K.NUMPY, entry)) and callable(getattr(K.NUMBA_CPU, entry))
    with pytest.raises(AttributeError, match="no entry point"):
        K.NUMPY.conv3d


def test_dispatch_routes_by_switch_and_dtype():
    x = data((4, 6), np.float32)
    with K.using("numpy"):
        np.testing.assert_array_equal(K.act_forward("gelu", x)[0], ref.act_forward("gelu", x)[0])
    with K.using("numba"):
        np.testing.assert_array_equal(K.act_forward("gelu", x)[0], cpu.act_forward("gelu", x)[0])
        y, d = K.act_forward("relu", np.array([-2, 0, 3]))        # integers: float64, NumPy's
        assert y.dtype == np.float64 and list(y) == [0, 0, 3] and list(d) == [0, 0, 1]
        a, b = data((3, 4), np.float64), data((4, 2), np.float64)
        np.testing.assert_allclose(K.matmul(a, b), a @ b, rtol=1e-12)
        batched = data((2, 3, 4), np.float64)                     # not 2-D: NumPy's matmul
        np.testing.assert_allclose(K.matmul(batched, b), batched @ b)


def test_side_arguments_are_cast_broadcast_and_labels_stay_integers():
    x = data((3, 5), np.float32)
    for mode in ("numpy", "numba"):
        with K.using(mode):
            y, ty = K.act_jvp("tanh", x, 2.0)              # a scalar tangent, float64
            assert ty.dtype == np.float32 and ty.shape == x.shape
            np.testing.assert_allclose(ty, 2 * ref.act_forward("tanh", x)[1], rtol=1e-5)
            y, d = K.bias_act("relu", x, np.arange(5.0))   # a float64 bias
            assert y.dtype == np.float32
            loss, g = K.softmax_xent(x, [0, 4, 2])         # a list of labels
            assert g.dtype == np.float32 and loss.shape == ()


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
    loss, g = K.softmax_xent(x[:0], np.zeros(0, int))              # empty batch: NaN, as NumPy
    assert np.isnan(loss) and loss.dtype == x.dtype and g.shape == (0, 5)
    with pytest.raises(ValueError, match="do not chain"):
        K.matmul(x, x)
    with pytest.raises(ValueError, match="do not come from an input"):
        K.col2im(x, (1, 1, 3, 3), (3, 3), (1, 1), (0, 0))


def _python(code, cwd=None, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120, cwd=cwd)


def test_environment_variable_and_cheap_import():
    code = ("import sys, tinyad.kernels as K; "
            "print(K.backend(), 'numba' in sys.modules, 'cupy' in sys.modules)")
    assert _python(code, TINYAD_KERNELS="numba").stdout.split() == ["numba", "False", "False"]
    assert _python(code, TINYAD_KERNELS="").stdout.split() == ["auto", "False", "False"]
    bad = _python(code, TINYAD_KERNELS="fortran")
    assert bad.returncode != 0 and "unknown kernel backend 'fortran'" in bad.stderr


def test_the_source_tree_imports_without_installing(tmp_path):
    """PYTHONPATH=. in a checkout: tinyad.kernels is found in kernels/ beside tinyad/."""
    code = ("import sys; drop = lambda f: str(getattr(f, '__module__', '')).startswith("
            "'__editable__'); sys.meta_path[:] = [f for f in sys.meta_path if not drop(f)]; "
            "sys.path_hooks[:] = [h for h in sys.path_hooks if not drop(h)]; "
            "sys.path_importer_cache.clear(); sys.path.insert(0, sys.argv[-1]); "
            "import tinyad, tinyad.kernels.cpu; "
            "print(tinyad.__file__, tinyad.kernels.cpu.__file__, tinyad.relu(tinyad.ones(2)))")
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    tinyad_file, cpu_file, *_ = proc.stdout.split()
    assert tinyad_file == str(ROOT / "tinyad" / "__init__.py")
    assert cpu_file == str(ROOT / "kernels" / "cpu.py")


def test_cache_location_falls_back_when_the_source_tree_is_read_only(tmp_path, monkeypatch):
    monkeypatch.setattr(jit.numba.config, "CACHE_DIR", "")
    blocked = str(tmp_path / "file")
    open(blocked, "w").close()                                # a file: no folder can go under it
    assert jit.cache_location(os.path.join(blocked, "x"), [os.path.join(blocked, "y"),
                                                           str(tmp_path / "ok")])
    assert jit.numba.config.CACHE_DIR == str(tmp_path / "ok")
    monkeypatch.setattr(jit.numba.config, "CACHE_DIR", "")
    assert not jit.cache_location(os.path.join(blocked, "x"), [os.path.join(blocked, "y")])


def test_cache_is_emptied_when_any_kernel_source_changes():
    """Numba checks a kernel's own file only; an edited definition must not run stale code."""
    kernel = jit.serial(lambda x: x + 1)
    kernel(1.0)                                                # compiled and saved
    index = kernel._cache._cache_file._index_path
    assert os.path.exists(index) and open(index + ".sources").read() == jit.SOURCES
    assert kernel._cache._cache_file._load_index() != {}
    jit.cached(kernel, sources="an edited definition")
    assert kernel._cache._cache_file._load_index() == {}       # emptied
    assert open(index + ".sources").read() == "an edited definition"
    assert jit.fingerprint() == jit.SOURCES
