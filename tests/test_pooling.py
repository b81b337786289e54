"""Pooling layers against loops written from PyTorch's documentation: output sizes (ceil_mode's
last window starts inside the input or the padding before it), the windows over padding and
dilation, the maximum PyTorch picks (first of equals, the last NaN) and its flat plane indices,
the divisor of avg_pool2d, the adaptive windows; gradients of both modes; the one-pass CPU argmax
against its array yardstick; PyTorch's values, indices and gradients where torch is installed."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyad as ad
from tinyad import nn
from tinyad.kernels import cpu_pool
from tinyad.nn import functional as F
from tinyad.nn import functional_pool as fp


def out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's formula: floor (or ceil) of (size + 2p - d(k - 1) - 1) / s, plus 1; in ceil mode
    a last window starting at or beyond size + p is dropped."""
    rounding = math.ceil if ceil_mode else math.floor
    n = rounding((size + 2 * p - d * (k - 1) - 1) / s) + 1
    return n - 1 if ceil_mode and (n - 1) * s >= size + p else n


def max_reference(x, k, s, p, d, ceil_mode):
    """(values, plane indices) by loops: over the taps inside the input, row by row, a tap wins
    when it is larger than the best so far or NaN (PyTorch's CPU kernel)."""
    n, c, h, w = x.shape
    oh, ow = (out_size(h, k[0], s[0], p[0], d[0], ceil_mode),
              out_size(w, k[1], s[1], p[1], d[1], ceil_mode))
    values, index = np.zeros((n, c, oh, ow)), np.zeros((n, c, oh, ow), np.int64)
    for b, ch, y, z in np.ndindex(n, c, oh, ow):
        best, at = -np.inf, None
        for i, j in np.ndindex(*k):
            r, q = y * s[0] - p[0] + i * d[0], z * s[1] - p[1] + j * d[1]
            if 0 <= r < h and 0 <= q < w:
                v = x[b, ch, r, q]
                if at is None or v > best or np.isnan(v):
                    best, at = v, r * w + q
        values[b, ch, y, z], index[b, ch, y, z] = best, at
    return values, index


def avg_reference(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    n, c, h, w = x.shape
    oh, ow = out_size(h, k[0], s[0], p[0], 1, ceil_mode), out_size(w, k[1], s[1], p[1], 1,
                                                                     ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for y, z in np.ndindex(oh, ow):
        r0, q0 = y * s[0] - p[0], z * s[1] - p[1]
        r1, q1 = min(r0 + k[0], h + p[0]), min(q0 + k[1], w + p[1])
        pool = (r1 - r0) * (q1 - q0)
        r0, q0, r1, q1 = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
        divisor = divisor_override or (pool if count_include_pad else (r1 - r0) * (q1 - q0))
        out[:, :, y, z] = x[:, :, r0:r1, q0:q1].sum(axis=(2, 3)) / divisor
    return out


def ties_and_nans(shape, seed):
    """Whole numbers (ties), some NaN and -inf."""
    x = np.round(np.random.default_rng(seed).standard_normal(shape) * 1.5)
    x.flat[::7] = np.nan
    x.flat[3::11] = -np.inf
    return x


geometry = st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(lambda k: st.tuples(
    st.just(k), st.tuples(st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.integers(0, k[0] // 2), st.integers(0, k[1] // 2)),
    st.tuples(st.integers(1, 2), st.integers(1, 2)), st.booleans()))


@given(g=geometry, seed=st.integers(0, 1000))
@settings(max_examples=60, deadline=None)
def test_max_pool2d_values_and_indices_follow_the_definition(g, seed):
    k, s, p, d, ceil_mode = g
    x = ties_and_nans((2, 2, 7, 6), seed)
    if any(dd * (kk - 1) + 1 > size + 2 * pp for kk, pp, dd, size in zip(k, p, d, (7, 6))):
        return
    values, index = F.max_pool2d(ad.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
    want_values, want_index = max_reference(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(values.numpy(), want_values)
    np.testing.assert_array_equal(index.numpy(), want_index)
    assert index.dtype == np.int64
    plain = F.max_pool2d(ad.tensor(x), k, s, p, d, ceil_mode).numpy()
    if not np.isnan(want_values).any() and (s == k and p == (0, 0) and d == (1, 1)):
        np.testing.assert_array_equal(plain, want_values)       # the fast path: same values


def test_ceil_mode_shapes_and_the_last_window_rule():
    x = ad.randn(1, 1, 5, 5, seed=0)
    assert F.max_pool2d(x, 2, 2).shape == (1, 1, 2, 2)
    assert F.max_pool2d(x, 2, 2, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.max_pool2d(x, 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)   # 4th would start
    assert F.avg_pool2d(x, 3, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)   # in the padding
    assert nn.MaxPool2d(3, 2, ceil_mode=True)(ad.randn(2, 3, 8, 8, seed=0)).shape == (2, 3, 4, 4)


def test_the_gradient_goes_to_the_picked_tap():
    x = ad.tensor(np.array([[[[1., 3., 3.], [0., 3., 2.], [5., 5., 0.]]]]), requires_grad=True)
    out, index = F.max_pool2d(x, 2, 1, return_indices=True)
    np.testing.assert_array_equal(index.numpy(), [[[[1, 1], [6, 7]]]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 2, 0], [0, 0, 0], [1, 1, 0]]]])


@pytest.mark.parametrize("args", [
    ((2, 2), (2, 2), (0, 0), False, True, None),
    ((3, 3), (2, 2), (1, 1), False, True, None),
    ((3, 2), (2, 1), (1, 1), True, False, None),
    ((2, 3), (3, 2), (1, 1), True, True, None),
    ((3, 3), (2, 3), (1, 0), True, True, 4),
])
def test_avg_pool2d_follows_the_definition(args):
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 8))
    k, s, p, ceil_mode, include, override = args
    got = F.avg_pool2d(ad.tensor(x), k, s, p, ceil_mode, include, override).numpy()
    np.testing.assert_allclose(got, avg_reference(x, *args), rtol=1e-12, atol=1e-15)
    layer = nn.AvgPool2d(k, s, p, ceil_mode, include, override)
    np.testing.assert_allclose(layer(ad.tensor(x)).numpy(), got, rtol=0)


@pytest.mark.parametrize("size", [(3, 4), (7, 8), (5, 3), (1, 1), (9, 11), (None, 2)])
def test_adaptive_pools_follow_the_definition(size):
    x = ties_and_nans((2, 3, 7, 8), 3)
    oh, ow = (7 if size[0] is None else size[0]), size[1]
    y = np.random.default_rng(2).standard_normal((2, 3, 7, 8))
    avg = F.adaptive_avg_pool2d(ad.tensor(y), size).numpy()
    values, index = F.adaptive_max_pool2d(ad.tensor(x), size, return_indices=True)
    for i, j in np.ndindex(oh, ow):
        r0, r1 = i * 7 // oh, -(-(i + 1) * 7 // oh)
        q0, q1 = j * 8 // ow, -(-(j + 1) * 8 // ow)
        np.testing.assert_allclose(avg[:, :, i, j], y[:, :, r0:r1, q0:q1].mean(axis=(2, 3)),
                                   rtol=1e-12)
        v, at = max_reference(x[:, :, r0:r1, q0:q1], (r1 - r0, q1 - q0), (1, 1), (0, 0), (1, 1),
                              False)
        np.testing.assert_array_equal(values.numpy()[:, :, i, j], v[:, :, 0, 0])
        np.testing.assert_array_equal(index.numpy()[:, :, i, j],
                                      (at[:, :, 0, 0] // (q1 - q0) + r0) * 8
                                      + at[:, :, 0, 0] % (q1 - q0) + q0)


@pytest.mark.parametrize("name, f", [
    ("max_pool2d", lambda x: F.max_pool2d(x, (3, 2), (2, 1), 1, (1, 2), True)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, True, False)),
    ("avg_pool2d override", lambda x: F.avg_pool2d(x, 2, 1, divisor_override=3)),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 4))),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (4, 3))),
])
def test_gradients_of_both_modes_to_second_order(name, f):
    x = np.random.default_rng(3).permutation(2 * 2 * 6 * 5).reshape(2, 2, 6, 5) * 0.1  # no ties
    assert ad.gradcheck(f, ad.tensor(x), order=2), name


def test_the_one_pass_argmax_equals_its_array_yardstick():
    x = ties_and_nans((2, 5, 9, 8), 4).astype(np.float32)
    rows = np.arange(4)[:, None] * 2 - 1 + np.arange(3) * 2
    cols = np.arange(5)[:, None] * 2 - 1 + np.arange(2)
    real_rows, real_cols = (rows >= 0) & (rows < 9), (cols >= 0) & (cols < 8)
    cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    want = fp.whole_tap_argmax(x, rows, cols, real_rows, real_cols)
    for layout in (x, cl):
        np.testing.assert_array_equal(cpu_pool.tap_argmax(layout, rows, cols, real_rows,
                                                          real_cols), want)


def test_unbatched_input_and_bad_arguments():
    x = ad.randn(3, 6, 6, seed=0)
    values, index = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    assert values.shape == index.shape == (3, 3, 3)
    assert F.avg_pool2d(x, 2).shape == nn.AdaptiveAvgPool2d(3)(x).shape == (3, 3, 3)
    with pytest.raises(ValueError, match="max_pool2d: padding .* at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ad.ShapeError, match="avg_pool2d: kernel 7 .* does not fit"):
        F.avg_pool2d(x, 7)
    with pytest.raises(ValueError, match="divisor_override must be a nonzero int"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="adaptive_avg_pool2d: output_size"):
        F.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(ad.ShapeError, match="max_pool2d: input must be"):
        F.max_pool2d(ad.randn(6, 6, seed=0), 2)


@pytest.mark.gpu
def test_pools_on_the_device_match_the_cpu():
    x = ties_and_nans((2, 3, 7, 8), 5)
    x[np.isnan(x)] = 0.5
    for f in (lambda t: F.max_pool2d(t, 3, 2, 1, 2, True, True),
              lambda t: F.adaptive_max_pool2d(t, (3, 5), True),
              lambda t: F.avg_pool2d(t, 3, 2, 1, True, False),
              lambda t: F.adaptive_avg_pool2d(t, (3, 5))):
        cpu, gpu = (f(ad.tensor(x, device=device)) for device in ("cpu", "cuda"))
        for a, b in zip(cpu if isinstance(cpu, tuple) else [cpu],
                        gpu if isinstance(gpu, tuple) else [gpu]):
            assert b.device == "cuda"
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12)


# --- PyTorch, where it is installed -------------------------------------------------------------
@given(g=geometry, seed=st.integers(0, 1000), include=st.booleans())
@settings(max_examples=40, deadline=None)
def test_values_indices_and_gradients_match_pytorch(g, seed, include):
    torch = pytest.importorskip("torch")
    k, s, p, d, ceil_mode = g
    x = np.random.default_rng(seed).permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6) * 0.1
    if any(dd * (kk - 1) + 1 > size + 2 * pp for kk, pp, dd, size in zip(k, p, d, (7, 6))):
        return
    cases = [(lambda t: F.max_pool2d(t, k, s, p, d, ceil_mode, True),
              lambda t: torch.nn.functional.max_pool2d(t, k, s, p, d, ceil_mode, True)),
             (lambda t: F.avg_pool2d(t, k, s, p, ceil_mode, include),
              lambda t: torch.nn.functional.avg_pool2d(t, k, s, p, ceil_mode, include)),
             (lambda t: F.adaptive_max_pool2d(t, k, True),
              lambda t: torch.nn.functional.adaptive_max_pool2d(t, k, True)),
             (lambda t: F.adaptive_avg_pool2d(t, (k[0] + 2, k[1] + 3)),
              lambda t: torch.nn.functional.adaptive_avg_pool2d(t, (k[0] + 2, k[1] + 3)))]
    for ours, theirs in cases:
        a, t = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, tout = ours(a), theirs(t)
        if isinstance(out, tuple):
            np.testing.assert_array_equal(out[1].numpy(), tout[1].numpy())
            out, tout = out[0], tout[0]
        g = np.random.default_rng(seed + 1).standard_normal(out.shape)
        out.backward(ad.tensor(g))
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layer", [nn.AvgPool2d(2), nn.AdaptiveMaxPool2d(2), nn.Upsample(size=4)])
def test_the_hand_written_rules_refuse_a_pool_they_cannot_see_through(layer):
    """DFA and the other MLP rules skip parameterless layers they know (Flatten, activations);
    a pool between two Linear layers would be skipped silently, so they refuse it."""
    from tinyad import learning
    model = nn.Sequential(layer, nn.Flatten(), nn.Linear(16, 3))
    with pytest.raises(TypeError, match=f"DFA: supports MLPs.*{type(layer).__name__}"):
        learning.DFA().backward(model, F.cross_entropy, ad.randn(2, 1, 4, 4, seed=0),
                                np.array([0, 2]))
