"""The convolution and max-pooling primitives' CPU kernels (tinyad.kernels.cpu_conv, cpu_pool):
equal to the whole-array maps for every geometry, dtype, input layout and block split; never the
whole window matrix in memory; no page faults in a warm CNN step; safe from several threads;
clear errors. (Values, both rules, the dot-product identity and second order are checked for
every primitive in test_primitives.py.)"""
import threading
import tracemalloc

import numpy as np
import pytest

import tinyad as ad
from tinyad.primitives import convolution as cp
from tinyad import nn
from tinyad.primitives import pooling as pp
from tinyad.kernels import cpu_conv, cpu_pool

GEOMETRIES = [  # (N, C, H, W), (O, kh, kw), stride, padding[, dilation, groups]
    ((2, 3, 7, 6), (4, 3, 3), (1, 1), (1, 1)),
    ((3, 2, 9, 8), (5, 3, 2), (2, 1), (0, 1)),
    ((1, 4, 8, 9), (2, 1, 3), (3, 2), (1, 0)),
    ((2, 1, 5, 5), (3, 5, 5), (1, 1), (2, 2)),
    ((2, 3, 6, 6), (2, 2, 2), (2, 2), (0, 0)),
    ((2, 3, 9, 8), (4, 3, 2), (1, 2), ((0, 2), (1, 0)), (2, 3), 1),      # dilated, uneven pads
    ((2, 6, 7, 6), (4, 3, 3), (2, 1), (1, 1), (1, 1), 2),                # two groups
    ((1, 4, 8, 8), (8, 3, 3), (1, 1), ((2, 0), (1, 1)), (2, 1), 4),      # depthwise, x2
]


def layouts(a):
    """The same values as a C-ordered NCHW array and as a channels-last buffer seen as NCHW."""
    return [np.ascontiguousarray(a),
            np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)]


@pytest.fixture(params=[1 << 20, 200])
def block_bytes(request, monkeypatch):
    """The default blocks, and blocks of a row or two (splits inside images and windows)."""
    monkeypatch.setattr(cpu_conv, "BLOCK_BYTES", request.param)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_blocked_kernels_equal_the_whole_window_matrix(geometry, dtype, block_bytes):
    shape, (o, kh, kw), stride, padding, *more = geometry
    dilation, groups = more or ((1, 1), 1)
    extra = dict(dilation=dilation, groups=groups)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((o, shape[1] // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    out = cp.whole_forward(x, w, stride, padding, **extra)
    g = rng.standard_normal(out.shape).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for xl, gl in zip(layouts(x), layouts(g)):
        got = cpu_conv.forward(xl, w, stride, padding, **extra)
        assert got.dtype == dtype and got.shape == out.shape
        np.testing.assert_allclose(got, out, **tol)
        np.testing.assert_allclose(cpu_conv.forward(xl, w, stride, padding, b, **extra),
                                   out + b[:, None, None], **tol)
        dx = cpu_conv.input_grad(gl, w, shape, stride, padding, **extra)
        assert dx.dtype == dtype and dx.shape == shape
        np.testing.assert_allclose(dx, cp.whole_transpose(g, w, shape, stride, padding, **extra),
                                   **tol)
        dw = cpu_conv.weight_grad(xl, gl, (kh, kw), stride, padding, **extra)
        assert dw.dtype == dtype and dw.shape == w.shape
        np.testing.assert_allclose(dw, cp.whole_weight(x, g, (kh, kw), stride, padding, **extra),
                                   **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel", [((2, 3, 6, 6), (2, 2)), ((1, 4, 7, 5), (2, 3)),
                                           ((2, 2, 5, 4), (1, 1)), ((1, 1, 3, 3), (3, 3))])
def test_pool_kernels_equal_the_array_expressions(shape, kernel, dtype):
    """Ties (whole numbers), ragged edges, NaN windows, both layouts."""
    rng = np.random.default_rng(5)
    x = np.round(rng.standard_normal(shape) * 1.5).astype(dtype)
    x[0, 0, 0, 0] = np.nan
    m = pp.whole_forward(x, kernel)
    t = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(m.shape).astype(dtype)
    for xl, tl, gl in zip(layouts(x), layouts(t), layouts(g)):
        np.testing.assert_array_equal(cpu_pool.forward(xl, kernel), m)
        np.testing.assert_allclose(cpu_pool.gather(tl, xl, m, kernel),
                                   pp.whole_gather(t, x, m, kernel), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(cpu_pool.scatter(gl, xl, m, kernel),
                                   pp.whole_scatter(g, x, m, kernel), rtol=1e-6, atol=1e-6)
    assert np.isnan(m[0, 0, 0, 0]) and np.isnan(cpu_pool.scatter(g, x, m, kernel)[0, 0, 0, 0])


def test_results_are_channels_last_buffers_seen_as_nchw():
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    out = cpu_conv.forward(x, np.ones((4, 3, 3, 3), np.float32), (1, 1), (1, 1))
    assert out.transpose(0, 2, 3, 1).flags.c_contiguous
    dx = cpu_conv.input_grad(out, np.ones((4, 3, 3, 3), np.float32), x.shape, (1, 1), (1, 1))
    assert dx.transpose(0, 2, 3, 1).flags.c_contiguous


def test_a_training_step_never_holds_the_whole_window_matrix():
    """Forward and backward of Conv2d(64, 64, 3, padding=1) on (8, 64, 28, 28): the window
    matrix is 8·784 x 576 floats (14.5 MB), and an im2col step holds it and its cotangent at
    once. Here the peak is the layer's own arrays (x channels-last, out, g, dx: 1.6 MB each) and
    the block buffers: about 8.5 MB."""
    conv = nn.Conv2d(64, 64, 3, padding=1)
    x = ad.tensor(np.random.default_rng(2).standard_normal((8, 64, 28, 28)).astype(np.float32),
                  requires_grad=True)
    conv(x).sum().backward()                                  # compile and warm the buffers
    window_matrix = 8 * 28 * 28 * 9 * 64 * 4
    tracemalloc.start()
    try:
        conv(x).sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.7 * window_matrix, peak


def test_threads_share_nothing():
    """Each thread has its own block buffer: four threads convolving at once get what one does."""
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((4, 8, 12, 12)).astype(np.float32) for _ in range(4)]
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    want = [cpu_conv.forward(x, w, (1, 1), (1, 1)) for x in xs]
    got = [None] * 4

    def work(i):
        for _ in range(20):
            got[i] = cpu_conv.forward(xs[i], w, (1, 1), (1, 1))
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_conv2d_layer_matches_its_definition_and_trains_in_both_modes():
    """nn.Conv2d with bias: value against the loops of its definition, and gradcheck of both modes
    through the layer (float64)."""
    rng = np.random.default_rng(4)
    conv = nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1, dtype=np.float64)
    x = rng.standard_normal((2, 2, 6, 5))
    w, b = conv.weight.numpy(), conv.bias.numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = conv(ad.tensor(x)).numpy()
    for n, o, y, z in np.ndindex(*out.shape):
        window = xp[n, :, 2 * y:2 * y + 3, z:z + 2]
        assert np.isclose(out[n, o, y, z], b[o] + np.sum(w[o] * window))
    assert ad.gradcheck(lambda x, w, b: ad.nn.functional.conv2d(x, w, b, (2, 1), 1),
                        ad.tensor(x), ad.tensor(w), ad.tensor(b), order=2)


def test_bad_shapes_name_the_operation():
    x = ad.tensor(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ad.ShapeError, match="conv2d"):
        ad.ops.conv2d(x, ad.tensor(np.zeros((3, 4, 3, 3), np.float32)))       # C differs
    with pytest.raises(ad.ShapeError, match="conv2d"):
        ad.ops.conv2d(x, ad.tensor(np.zeros((3, 2, 7, 7), np.float32)))       # kernel too big
    with pytest.raises(ad.ShapeError, match="conv2d_transpose.*windows need"):
        ad.ops.conv2d_transpose(ad.tensor(np.zeros((1, 3, 4, 4), np.float32)),
                            ad.tensor(np.zeros((3, 2, 3, 3), np.float32)), (1, 2, 5, 5))
    with pytest.raises(ad.ShapeError, match="conv2d_weight"):
        ad.ops.conv2d_weight(x, ad.tensor(np.zeros((1, 3, 2, 2), np.float32)), (3, 3))
    with pytest.raises(ad.ShapeError, match="conv2d.*agree on C in 2 group"):
        ad.ops.conv2d(x, ad.tensor(np.zeros((3, 1, 3, 3), np.float32)), groups=2)  # 2 ∤ 3
    with pytest.raises(ad.ShapeError, match="conv2d.*with dilation \\(3, 3\\) larger"):
        ad.ops.conv2d(x, ad.tensor(np.zeros((3, 2, 3, 3), np.float32)), dilation=3)
    with pytest.raises(ad.ShapeError, match="col2im.*dilation \\(2, 2\\)"):    # 4 windows
        ad.ops.col2im(ad.tensor(np.zeros((5, 18), np.float32)), (1, 2, 5, 5), 3, 1,
                      ((1, 0), (0, 1)), 2)


FAULTS = """
import resource, numpy as np, tinyad as ad
from tinyad import nn
from tinyad.commands.bench_cases import build_model
from tinyad.nn import functional as F
nn.init.seed(0)
model = build_model("cnn")
x = ad.tensor(np.random.default_rng(0).random((64, 1, 28, 28), dtype=np.float32))
y = np.arange(64) % 10
def step():
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(2):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 2)
"""


def test_a_cnn_step_faults_no_memory_in_with_the_default_allocator():
    """The paper's CNN at batch 64, backprop steps in a fresh process with glibc's defaults: once
    warm, a step maps no new pages (the im2col path faulted in about 230 MB a step, and zeroed
    input gradients from calloc faulted in 19 MB). Page faults, not times: load cannot move it."""
    import subprocess
    import sys
    if sys.platform != "linux":
        pytest.skip("minor page faults are counted by Linux's getrusage")
    out = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert float(out.split()[-1]) < 256, out            # 1 MB of 4 KB pages: noise, not arrays
