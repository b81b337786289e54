"""NumPy, PyTorch and JAX semantics at the edges: axes that never wrap, Python scalars that keep
the tensor's dtype (NEP 50), true division, minimum, x**y at zero, means of nothing, and zeros
(not None) for a parameter seen only through a ReLU's mask in a gradient penalty."""
import numpy as np
import pytest

import tinyad as ad
from tinyad.nn import functional as F

X = np.arange(6.0).reshape(2, 3)


# --- axes: out of range, repeated, not a permutation: an AxisError, as in NumPy ---------------
@pytest.mark.parametrize("call", [
    lambda x: x.sum(axis=2), lambda x: x.sum(axis=-3), lambda x: x.mean(axis=2),
    lambda x: x.max(axis=2), lambda x: ad.log_softmax(x, 2), lambda x: ad.softmax(x, -3),
    lambda x: ad.logsumexp(x, 2), lambda x: x.transpose(0, 2), lambda x: ad.squeeze(x, 2),
    lambda x: ad.expand_dims(x, 3), lambda x: ad.expand_dims(x, -4),
    lambda x: ad.concatenate([x, x], 2), lambda x: ad.stack([x, x], 3),
    lambda x: x.sum(axis=(0, 0)), lambda x: x.sum(axis=(1, -1)), lambda x: x.transpose(0, 0),
    lambda x: x.transpose(1,),
])
def test_bad_axes_raise_instead_of_wrapping(call):
    with pytest.raises(ad.AxisError) as info:
        call(ad.tensor(X))
    assert "(2, 3)" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, IndexError)


@pytest.mark.parametrize("call", [
    lambda x: x.sum(axis=0), lambda x: x.mean(axis=-1), lambda x: x.max(axis=0),
    lambda x: ad.softmax(x), lambda x: ad.log_softmax(x), lambda x: ad.logsumexp(x),
    lambda x: ad.squeeze(x, 0), lambda x: ad.concatenate([x, x]),
])
def test_a_0d_tensor_has_no_axis(call):
    with pytest.raises(ad.AxisError, match=r"shape \(\)"):
        call(ad.tensor(1.0))


def test_axes_in_range_still_work_negative_ones_included():
    x = ad.tensor(X)
    np.testing.assert_array_equal(x.sum(axis=-2).numpy(), X.sum(axis=0))
    np.testing.assert_array_equal(x.max(axis=(0, -1)).numpy(), X.max())
    assert ad.expand_dims(x, -3).shape == (1, 2, 3) and ad.expand_dims(x, 2).shape == (2, 3, 1)
    assert ad.stack([x, x], -1).shape == (2, 3, 2) and ad.concatenate([x, x], -1).shape == (2, 6)
    assert x.transpose(-1, 0).shape == (3, 2) and ad.squeeze(ad.tensor(X[None]), -3).shape == (2, 3)
    assert ad.tensor(1.0).sum(axis=()).shape == () and ad.tensor(1.0).sum().shape == ()


# --- minimum: its own primitive ---------------------------------------------------------------
def test_minimum_keeps_float64_and_handles_int32_and_bool():
    x64 = ad.tensor(np.array([2.0, 0.5]))
    out = ad.minimum(x64, 1.2)
    assert out.dtype == np.float64 and out.numpy()[0] == 1.2          # not 1.2000000476837158
    low = np.iinfo(np.int32).min
    ints = ad.minimum(ad.tensor(np.array([low, 5], np.int32)), 0)
    assert ints.dtype == np.int32 and ints.numpy().tolist() == [low, 0]
    bools = ad.minimum(ad.tensor(np.array([True, False])), ad.tensor(np.array([True, True])))
    assert bools.numpy().tolist() == [True, False]


def test_minimum_splits_the_derivative_between_ties():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ad.minimum(x, 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.5, 0.0])


# --- Python scalars: NumPy 2's weak-scalar rule (NEP 50) --------------------------------------
def test_python_numbers_keep_the_tensors_dtype_in_every_binary_op():
    i32 = ad.tensor(np.array([1, 2], np.int32))
    f64 = ad.tensor(np.array([1.0, 2.0]))
    for out in (i32 * 3, 3 + i32, i32 - 1, i32 ** 2, i32 + True, ad.maximum(i32, 1),
                ad.minimum(i32, 1), ad.where(np.array([True, False]), i32, 7)):
        assert out.dtype == np.int32
    for out in (f64 * 0.1, 0.1 - f64, f64 / 3, ad.maximum(f64, 0.1), ad.where([1, 0], 0.1, f64)):
        assert out.dtype == np.float64
    np.testing.assert_array_equal((f64 * 0.1).numpy(), np.array([1.0, 2.0]) * 0.1)
    f32 = ad.tensor([1.0, 2.0])
    assert (f32 * 0.1).dtype == np.float32 and (f32 + 2**40).dtype == np.float32
    assert (ad.tensor([True, False]) + 1).dtype == np.int64                # as NumPy and PyTorch


def test_an_integer_tensor_meeting_a_python_float_gives_float32():
    """The documented choice: tinyad's default float, as PyTorch and JAX (NumPy 2: float64)."""
    i64 = ad.tensor([1, 2])
    for out in (i64 * 1.5, 1.5 + i64, ad.where([True, False], i64, 0.5), ad.maximum(i64, 1.5),
                ad.tensor([True, False]) * 1.5):
        assert out.dtype == np.float32
    np.testing.assert_array_equal((i64 * 1.5).numpy(), [1.5, 3.0])


def test_a_python_int_that_does_not_fit_overflows_and_comparisons_are_exact():
    i32 = ad.tensor(np.array([1], np.int32))
    with pytest.raises(OverflowError):
        i32 + 2**40
    assert (i32 < 2**40).numpy().tolist() == [True]
    assert (ad.tensor([16777217]) > 16777216.5).numpy().tolist() == [True]   # not via float32


# --- true division ------------------------------------------------------------------------------
def test_integer_true_division_gives_floats():
    a, b = ad.tensor([1, 2, 3]), ad.tensor([2, 2, 4])
    for out, want, dtype in ((a / b, [0.5, 1.0, 0.75], np.float32),
                             (a / 2, [0.5, 1.0, 1.5], np.float32),
                             (3 / a, [3.0, 1.5, 1.0], np.float32),
                             (ad.tensor(np.array([1.0, 3.0, 3.0])) / b, [0.5, 1.5, 0.75], np.float64)):
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), want)
    x = ad.tensor([1.0, 3.0, 3.0], requires_grad=True)
    (x / b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5, 0.25])


# --- x ** y where x = 0 -------------------------------------------------------------------------
def f64(v):
    return ad.tensor(v, dtype="float64")


@pytest.mark.parametrize("y, first", [(2.0, 0.0), (0.5, 0.0), (0.0, 0.0)])
def test_d_dy_of_zero_to_the_y_is_zero_to_second_order(y, first):
    """0^y is flat in y (0 for y > 0, 1 at y = 0): PyTorch and JAX give 0, tinyad gave NaN or
    -inf. The second derivative is 0 too (JAX's)."""
    power_of_zero = lambda y: (f64(0.0) ** y).sum()
    assert ad.grad(power_of_zero)(f64(y)).item() == first
    assert ad.jvp(power_of_zero, (f64(y),), (f64(1.0),))[1].item() == first
    assert ad.grad(ad.grad(power_of_zero))(f64(y)).item() == 0.0


def test_d_dx_of_x_to_the_zero_at_zero_is_zero_to_second_order():
    """x^0 = 1 is flat: d/dx is 0 at x = 0 as in PyTorch (y x^(y-1) would be 0·inf = NaN), and so
    is the second derivative; the mixed one away from x = 0 keeps its value 1/x."""
    flat = lambda x: (x ** f64(0.0)).sum()
    assert ad.grad(flat)(f64(0.0)).item() == 0.0
    assert ad.grad(ad.grad(flat))(f64(0.0)).item() == 0.0
    mixed = ad.grad(lambda y: ad.grad(lambda x: (x ** y).sum())(f64(2.0)))(f64(0.0))
    assert mixed.item() == pytest.approx(0.5)                      # d²(x^y)/dxdy = 1/x at y = 0
    both = lambda x: (x ** f64([1.0, 2.0, 3.0])).sum()             # at x = 0: 1 + 0 + 0
    assert ad.grad(both)(f64(0.0)).item() == 1.0
    assert ad.grad(ad.grad(both))(f64(0.0)).item() == 2.0          # d²(x²)/dx² = 2


# --- means of nothing -------------------------------------------------------------------------
def test_mean_over_an_empty_axis_is_nan():
    out = ad.tensor(np.zeros((0, 3))).mean(axis=0)                    # NumPy's: [nan, nan, nan]
    np.testing.assert_array_equal(out.numpy(), np.full(3, np.nan))
    assert np.isnan(ad.tensor(np.zeros(0)).mean().item())


def test_cross_entropy_on_an_empty_batch_is_nan_and_its_rules_do_not_crash():
    z = ad.tensor(np.zeros((0, 4)), requires_grad=True)
    labels = np.zeros(0, dtype=np.int64)
    assert np.isnan(F.cross_entropy(z, labels).item())
    loss = ad.ops.softmax_cross_entropy(z, labels)                   # the fused primitive
    assert np.isnan(loss.item())
    loss.backward(create_graph=True)                                  # rules in tinyad ops
    assert z.grad.shape == (0, 4)
    ad.ops.softmax_cross_entropy(z.detach().requires_grad_(), labels).backward()


# --- a parameter seen only through a zero-derivative mask gets zeros -------------------------
def test_gradient_penalty_gives_zeros_to_a_parameter_behind_a_relu_mask():
    """penalty = |d out/dx|², out = sum(w2 relu(w1 x + b)). d out/dx = w2 relu'(w1 x + b) w1:
    b enters only through the mask relu', so d penalty/db = 0, given as zeros, not None (as
    PyTorch, whose weight decay then moves b). By hand, with mask m = [1, 0, 0] and
    g = w2 m w1 = [0.45, 0, 0]: d/dw2 = 2 g m w1, d/dw1 = 2 g w2 m, d/db = d/dx = 0."""
    x = ad.tensor([0.5, -1.0, 2.0], dtype="float64", requires_grad=True)
    w1 = ad.tensor([1.5, 2.0, -0.5], dtype="float64", requires_grad=True)
    b = ad.tensor([0.1, 0.5, 0.2], dtype="float64", requires_grad=True)
    w2 = ad.tensor([0.3, -0.7, 1.1], dtype="float64", requires_grad=True)
    (w2 * (w1 * x + b).relu()).sum().backward(create_graph=True)
    g = x.grad
    for p in (x, w1, b, w2):
        p.grad = None
    (g * g).sum().backward()
    np.testing.assert_allclose(w2.grad.numpy(), [1.35, 0.0, 0.0])
    np.testing.assert_allclose(w1.grad.numpy(), [0.27, 0.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("through", [lambda z: z.abs(), lambda z: ad.maximum(z, 0.0),
                                     lambda z: ad.minimum(z, 0.0), lambda z: z.max()])
def test_every_mask_and_sign_keeps_its_parameter_connected(through):
    b = ad.tensor([0.3, -0.2], dtype="float64", requires_grad=True)
    x = ad.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    through(x * 2.0 + b).sum().backward(create_graph=True)
    g = x.grad
    x.grad = b.grad = None
    (g * g).sum().backward()
    assert b.grad is not None and not b.grad.numpy().any()
