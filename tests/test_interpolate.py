"""F.interpolate and nn.Upsample against hand values and loops written from PyTorch's formulas:
nearest (size or scale_factor, which sets the step unless recompute_scale_factor), nearest-exact,
linear and bilinear (align_corners False and True), area; a NaN reaches only the outputs that
read it; gradients of both modes; PyTorch's values and gradients where torch is installed."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyad as ad
from tinyad import nn
from tinyad.nn import functional as F


def resize(x, **kwargs):
    return F.interpolate(ad.tensor(x), **kwargs).numpy()


def test_bilinear_by_hand():
    """A 2x2 image doubled, corners aligned (1/3 steps) or not (edge values repeated)."""
    a = np.array([[[[1., 2.], [4., 5.]]]])
    aligned = resize(a, scale_factor=2, mode="bilinear", align_corners=True)
    steps = np.array([0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(aligned[0, 0], 1 + 3 * steps[:, None] + steps[None, :])
    np.testing.assert_allclose(resize(a, size=(4, 4), mode="bilinear")[0, 0],
                               [[1, 1.25, 1.75, 2], [1.75, 2, 2.5, 2.75],
                                [3.25, 3.5, 4, 4.25], [4, 4.25, 4.75, 5]])


@pytest.mark.parametrize("size_in, kwargs, want", [
    (3, dict(size=7), [0, 0, 0, 1, 1, 2, 2]),                  # step 3/7
    (3, dict(scale_factor=2.4), [0, 0, 0, 1, 1, 2, 2]),        # 7 outputs, step 1/2.4
    (5, dict(scale_factor=0.5), [0, 2]),
    (5, dict(scale_factor=1.6), [0, 0, 1, 1, 2, 3, 3, 4]),     # floor(i / 1.6)
    (5, dict(scale_factor=1.6, recompute_scale_factor=True), [0, 0, 1, 1, 2, 3, 3, 4]),
    (4, dict(size=3, mode="nearest-exact"), [0, 2, 3]),        # floor((i + 0.5)·4/3)
])
def test_nearest_picks_floor_of_position(size_in, kwargs, want):
    x = np.arange(float(size_in))[None, None]
    np.testing.assert_array_equal(resize(x, **kwargs)[0, 0], want)


def linear_reference(x, out, align_corners, factor=None):
    """Along the last axis, by the formula of the module docstring (float64)."""
    size = x.shape[-1]
    if align_corners:
        scale = (size - 1) / (out - 1) if out > 1 else 0
    else:
        scale = 1 / factor if factor else size / out
    result = np.zeros(x.shape[:-1] + (out,))
    for i in range(out):
        src = scale * i if align_corners else max(scale * (i + 0.5) - 0.5, 0)
        i0 = min(int(src), size - 1)
        i1, lam = min(i0 + 1, size - 1), src - i0
        result[..., i] = (1 - lam) * x[..., i0] + lam * x[..., i1]
    return result


@given(h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 9), ow=st.integers(1, 9),
       align_corners=st.booleans())
@settings(max_examples=30, deadline=None)
def test_bilinear_is_linear_along_width_then_height(h, w, oh, ow, align_corners):
    x = np.random.default_rng(h * 10 + w).standard_normal((2, 3, h, w))
    got = resize(x, size=(oh, ow), mode="bilinear", align_corners=align_corners)
    along_w = linear_reference(x, ow, align_corners)
    want = linear_reference(along_w.swapaxes(2, 3), oh, align_corners).swapaxes(2, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    line = resize(x[:, :, 0], size=ow, mode="linear", align_corners=align_corners)
    np.testing.assert_allclose(line, along_w[:, :, 0], rtol=1e-12, atol=1e-12)


def test_a_nan_reaches_only_the_outputs_that_read_it():
    x = np.random.default_rng(0).standard_normal((1, 1, 8, 8))
    x[0, 0, 5, 6] = np.nan
    for mode in ("nearest", "bilinear", "area"):
        out = resize(x, size=(16, 4) if mode != "area" else (4, 4), mode=mode)
        assert 0 < np.isnan(out).sum() <= 4, mode


def test_area_is_the_adaptive_average_and_upsample_is_a_layer():
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 9))
    np.testing.assert_array_equal(resize(x, size=(3, 4), mode="area"),
                                  F.adaptive_avg_pool2d(ad.tensor(x), (3, 4)).numpy())
    layer = nn.Upsample(scale_factor=(2, 1.5), mode="bilinear", align_corners=True)
    np.testing.assert_array_equal(layer(ad.tensor(x)).numpy(), resize(
        x, scale_factor=(2, 1.5), mode="bilinear", align_corners=True))
    assert layer(ad.tensor(x)).shape == (2, 3, 14, math.floor(9 * 1.5))


@pytest.mark.parametrize("kwargs", [dict(size=(5, 7), mode="nearest"),
                                    dict(scale_factor=1.7, mode="bilinear"),
                                    dict(size=(3, 2), mode="bilinear", align_corners=True),
                                    dict(size=(2, 3), mode="area")])
def test_gradients_of_both_modes_to_second_order(kwargs):
    x = ad.tensor(np.random.default_rng(2).standard_normal((2, 2, 4, 3)))
    assert ad.gradcheck(lambda t: F.interpolate(t, **kwargs), x, order=2)


def test_float32_stays_float32_and_bad_arguments_are_refused():
    x = ad.randn(1, 2, 4, 4, seed=0)
    assert F.interpolate(x, scale_factor=2, mode="bilinear").dtype == np.float32
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="mode 'linear' takes 3-D inputs"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.interpolate(x, size=3, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners goes only with the linear modes"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(ValueError, match="leaves no output"):
        F.interpolate(x, scale_factor=0.1)


@pytest.mark.gpu
def test_on_the_device_as_on_the_cpu():
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 4))
    for kwargs in (dict(size=(7, 3)), dict(scale_factor=1.5, mode="bilinear")):
        cpu, gpu = (F.interpolate(ad.tensor(x, device=d), **kwargs) for d in ("cpu", "cuda"))
        assert gpu.device == "cuda"
        np.testing.assert_allclose(gpu.numpy(), cpu.numpy(), rtol=1e-12)


# --- PyTorch, where it is installed -------------------------------------------------------------
@given(h=st.integers(1, 7), w=st.integers(1, 7), data=st.data(),
       mode=st.sampled_from(["nearest", "nearest-exact", "bilinear", "area"]),
       dtype=st.sampled_from([np.float32, np.float64]))
@settings(max_examples=60, deadline=None)
def test_values_and_gradients_match_pytorch(h, w, data, mode, dtype):
    torch = pytest.importorskip("torch")
    if data.draw(st.booleans()):
        kwargs = dict(size=(data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))))
    else:
        factors = [data.draw(st.sampled_from([0.5, 0.75, 1.0, 1.3, 2.0, 2.4, 3.0]))
                   for _ in "hw"]
        if min(math.floor(s * f) for s, f in zip((h, w), factors)) < 1:
            return
        kwargs = dict(scale_factor=tuple(factors),
                      recompute_scale_factor=data.draw(st.sampled_from([None, True])))
    if mode == "bilinear":
        kwargs["align_corners"] = data.draw(st.sampled_from([None, False, True]))
    x = np.random.default_rng(h * 7 + w).standard_normal((2, 2, h, w)).astype(dtype)
    a, t = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = F.interpolate(a, mode=mode, **kwargs), torch.nn.functional.interpolate(
        t, mode=mode, **kwargs)
    g = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    out.backward(ad.tensor(g))
    tout.backward(torch.tensor(g))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **tol)
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), **tol)
