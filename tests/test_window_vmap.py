"""vmap over the convolution, pooling and resizing layers (grouped, dilated, unevenly padded
convolutions; PyTorch's max pick with padding, ceil_mode and indices; average, adaptive and
resizing): values, per-example gradients and JVPs inside vmap, each against a Python loop."""
import numpy as np
import pytest

import tinyad as ad
from tinyad.nn import functional as F

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 2, 4, 6, 6))                    # 3 examples of (2, 4, 6, 6) images
W = RNG.standard_normal((6, 2, 3, 3))                       # 2 groups of 4 -> 6 channels
WT = RNG.standard_normal((4, 3, 3, 3))                      # transposed: 2 groups, 4 -> 6


def stack(f, xs):
    return np.stack([f(ad.tensor(x)).numpy() for x in xs])


LAYERS = {
    "conv2d same, dilated, grouped": lambda x: F.conv2d(x, W, None, 1, "same", 2, 2),
    "conv2d strided, uneven pads": lambda x: F.conv2d(x, W, None, 2, ((1, 0), (0, 2)), 1, 2),
    "conv_transpose2d grouped, dilated":
        lambda x: F.conv_transpose2d(x, WT, None, 2, 1, 1, 2, 2),
    "conv1d": lambda x: F.conv1d(x[:, :, 0], W[:, :, 0], None, 1, 1, 1, 2),
    "max_pool2d padded": lambda x: F.max_pool2d(x, 3, 2, 1),
    "max_pool2d dilated, ceil_mode": lambda x: F.max_pool2d(x, 2, 2, 0, 2, True),
    "max_pool2d non-overlapping": lambda x: F.max_pool2d(x, 2),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 3, 2, 1, True, False),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, (4, 5)),
    "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, (4, 5)),
    "interpolate bilinear": lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
    "interpolate nearest": lambda x: F.interpolate(x, size=(5, 7)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_values_gradients_and_jvps_per_example(name):
    f = LAYERS[name]
    np.testing.assert_allclose(ad.vmap(f)(ad.tensor(X)).numpy(), stack(f, X), atol=1e-12)
    loss = lambda x: (f(x) ** 2).sum()                                          # noqa: E731
    np.testing.assert_allclose(ad.vmap(ad.grad(loss))(ad.tensor(X)).numpy(),
                               stack(ad.grad(loss), X), atol=1e-11)
    v = RNG.standard_normal(X.shape)
    jvp = lambda x, t: ad.jvp(f, (x,), (t,))[1]                                 # noqa: E731
    want = np.stack([jvp(ad.tensor(x), ad.tensor(t)).numpy() for x, t in zip(X, v)])
    np.testing.assert_allclose(ad.vmap(jvp)(ad.tensor(X), ad.tensor(v)).numpy(), want,
                               atol=1e-11)


def test_max_pick_under_vmap_keeps_pytorch_ties_nans_and_indices():
    """Whole numbers tie; one example holds a NaN: the pick, the indices and the gradient (to
    the picked tap only) are each example's own."""
    xs = np.round(RNG.uniform(-2, 2, (3, 1, 2, 5, 5)))
    xs[1, 0, 1, 2, 3] = np.nan
    f = lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True)                 # noqa: E731
    values, index = ad.vmap(f)(ad.tensor(xs))
    for x, v, i in zip(xs, values.numpy(), index.numpy()):
        want_v, want_i = f(ad.tensor(x))
        np.testing.assert_array_equal(v, want_v.numpy())
        np.testing.assert_array_equal(i, want_i.numpy())
    grad = lambda x: ad.grad(lambda y: f(y)[0].sum())(x)                       # noqa: E731
    np.testing.assert_array_equal(ad.vmap(grad)(ad.tensor(xs)).numpy(), stack(grad, xs))


def test_per_example_weight_gradients_of_a_grouped_dilated_conv():
    """conv2d_weight one example at a time, with weights that vary across the batch too."""
    ws = RNG.standard_normal((3,) + W.shape)
    loss = lambda w, x: (F.conv2d(x, w, None, 1, 1, 2, 2) ** 2).sum()           # noqa: E731
    got = ad.vmap(ad.grad(loss))(ad.tensor(ws), ad.tensor(X)).numpy()
    want = np.stack([ad.grad(loss)(ad.tensor(w), ad.tensor(x)).numpy() for w, x in zip(ws, X)])
    np.testing.assert_allclose(got, want, atol=1e-11)
