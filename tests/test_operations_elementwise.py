"""Elementwise operations of the breadth files: values against NumPy (or PyTorch's documented
formula where NumPy has none), composites through gradcheck to second order, derivatives at
kinks as PyTorch gives them, dtypes of results, and errors that name the operation."""
import math

import numpy as np
import pytest

import tinyad as ad
from tinyad.nn import functional as F

RNG = np.random.default_rng(0)
X = RNG.uniform(-3, 3, (3, 4))
X[0, :2] = 0.5, -0.25


def t(v, **kw):
    return ad.tensor(np.asarray(v, dtype=np.float64), **kw)


def numpy_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def numpy_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


# --- composites: value against NumPy, gradcheck at orders 1 and 2 --------------------------------
COMPOSITES = {
    "clip": (lambda x: ad.clip(x, -1.0, 1.5), lambda x: np.clip(x, -1.0, 1.5)),
    "clamp_min": (lambda x: ad.clamp(x, min=0.2), lambda x: np.maximum(x, 0.2)),
    "square": (ad.square, np.square),
    "exp2": (ad.exp2, np.exp2),
    "reciprocal": (ad.reciprocal, np.reciprocal),
    "rsqrt": (lambda x: ad.rsqrt(ad.abs(x) + 0.5), lambda x: 1 / np.sqrt(np.abs(x) + 0.5)),
    "lerp": (lambda x: ad.lerp(x, 2 * x + 1, 0.3), lambda x: x + 0.3 * (x + 1)),
    "copysign": (lambda x: ad.copysign(x, ad.flip(x, 0)), lambda x: np.copysign(x, x[::-1])),
    "masked_fill": (lambda x: ad.masked_fill(x, X > 1, 7.0), lambda x: np.where(X > 1, 7.0, x)),
    "softplus": (ad.softplus, numpy_softplus),
    "softplus_beta": (lambda x: ad.softplus(x, 2.0, 3.0), lambda x: numpy_softplus(x, 2.0, 3.0)),
    "logsigmoid": (ad.logsigmoid, lambda x: -np.log1p(np.exp(-x))),
    "leaky_relu": (lambda x: ad.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "elu": (lambda x: ad.elu(x, 0.7), lambda x: numpy_elu(x, 0.7)),
    "selu": (ad.selu, lambda x: 1.0507009873554805 * numpy_elu(x, 1.6732632423543772)),
    "celu": (lambda x: ad.celu(x, 2.0), lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2))),
    "silu": (ad.silu, lambda x: x / (1 + np.exp(-x))),
    "mish": (ad.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "hardtanh": (lambda x: ad.hardtanh(x, -1.0, 2.0), lambda x: np.clip(x, -1.0, 2.0)),
    "relu6": (lambda x: ad.relu6(3 * x), lambda x: np.clip(3 * x, 0, 6)),
    "hardsigmoid": (ad.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "hardswish": (ad.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "softsign": (ad.softsign, lambda x: x / (1 + np.abs(x))),
    "gelu_exact": (lambda x: ad.gelu(x, approximate="none"),
                   lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    "softmin": (lambda x: ad.softmin(x, 0), lambda x: np.exp(-x) / np.exp(-x).sum(0)),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composite_values_and_derivatives(name):
    op, ref = COMPOSITES[name]
    np.testing.assert_allclose(op(t(X)).numpy(), ref(X), rtol=1e-12, atol=1e-15)
    x = X + 0.05 * (np.abs(X - np.round(X)) < 0.05)          # off the kinks at integers
    assert ad.gradcheck(op, t(x), order=2)


@pytest.mark.parametrize("name", ["clip", "softplus", "elu", "hardswish", "gelu_exact"])
def test_composites_keep_float32(name):
    op, _ = COMPOSITES[name]
    x = ad.tensor(X.astype(np.float32), requires_grad=True)
    out = op(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_activations_at_their_kinks_take_pytorchs_derivative():
    at = t([0.0, -3.0, 3.0, 1.0, -1.0, 6.0])
    expect = {
        ad.leaky_relu: [0.01, 0.01, 1, 1, 0.01, 1],             # x > 0 is the positive branch
        ad.elu: [1, math.exp(-3), 1, 1, math.exp(-1), 1],
        ad.hardtanh: [1, 0, 0, 0, 0, 0],                        # corners excluded
        ad.relu6: [0, 0, 1, 1, 0, 0],
        ad.hardsigmoid: [1 / 6, 0, 0, 1 / 6, 1 / 6, 0],
        ad.hardswish: [0.5, -0.5, 1.5, 1 / 3 + 0.5, -1 / 3 + 0.5, 1],
        ad.logsigmoid: [0.5, 1 / (1 + math.exp(-3)), 1 / (1 + math.exp(3)),
                        1 / (1 + math.e), 1 / (1 + math.exp(-1)), 1 / (1 + math.exp(6))],
    }
    for op, want in expect.items():
        np.testing.assert_allclose(ad.grad(lambda x: op(x).sum())(at).numpy(), want,
                                   rtol=1e-12, err_msg=op.__name__)


def test_clamp_passes_the_derivative_at_its_bounds_and_to_tensor_bounds():
    x = t([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(ad.grad(lambda x: ad.clip(x, -1.0, 1.0).sum())(x).numpy(),
                                  [0, 1, 1, 1, 0])               # PyTorch's clamp: bounds in
    lo = t([-3.0, -0.5, 0.5, 0.0, 0.0])
    np.testing.assert_array_equal(ad.grad(lambda lo: ad.clip(x, lo).sum())(lo).numpy(),
                                  [0, 1, 1, 0, 0])
    assert ad.clip(x, 1.0, -1.0).numpy().tolist() == [-1.0] * 5  # min > max gives max (NumPy)
    assert np.isnan(ad.clip(t([np.nan]), 0, 1).item())
    ints = ad.clip(ad.tensor([-5, 0, 5]), -1, 1)
    assert ints.dtype == np.int64 and ints.numpy().tolist() == [-1, 0, 1]
    with pytest.raises(ValueError, match="clip"):
        ad.clip(x)


def test_softplus_is_finite_far_out_and_switches_to_x_above_the_threshold():
    x = t([-800.0, 0.0, 20.5, 800.0])
    np.testing.assert_allclose(ad.softplus(x).numpy(), [0.0, math.log(2), 20.5, 800.0])
    np.testing.assert_allclose(ad.grad(lambda x: ad.softplus(x).sum())(x).numpy(), [0, 0.5, 1, 1])
    np.testing.assert_allclose(ad.logsigmoid(t([-800.0, 800.0])).numpy(), [-800.0, 0.0])
    assert np.isfinite(ad.grad(lambda x: ad.elu(x).sum())(t([800.0])).numpy()).all()


def test_exact_gelu_and_the_tanh_one():
    x = t([-2.0, 0.5, 3.0])
    exact = 0.5 * x.numpy() * (1 + np.vectorize(math.erf)(x.numpy() / math.sqrt(2)))
    np.testing.assert_allclose(ad.gelu(x, approximate="none").numpy(), exact, rtol=1e-14)
    assert np.abs(ad.gelu(x).numpy() - exact).max() > 1e-6           # the default is tanh's
    with pytest.raises(ValueError, match="gelu"):
        ad.gelu(x, approximate="erf")


# --- step functions: values, dtypes, a zero derivative that stays on the tape ------------------
STEPS = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "sign": np.sign,
         "round": np.round}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_step_functions_have_a_zero_derivative_that_stays_connected(name):
    x = t([-1.5, -0.5, 0.0, 0.5, 2.5, np.nan], requires_grad=True)
    out = getattr(ad, name)(x)
    np.testing.assert_array_equal(out.numpy(), STEPS[name](x.numpy()))
    assert out.dtype == np.float64 and out.requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(6))
    _, tangent = ad.jvp(getattr(ad, name), (x,), (ad.ones_like(x),))
    np.testing.assert_array_equal(tangent.numpy(), np.zeros(6))
    ints = getattr(ad, name)(ad.tensor([-2, 3]))
    assert ints.dtype == np.int64 and not ints.requires_grad


def test_round_to_even_with_decimals():
    assert ad.round(t([0.5, 1.5, 2.5, -0.5])).numpy().tolist() == [0.0, 2.0, 2.0, -0.0]
    np.testing.assert_array_equal(round(t([1.234, 5.678]), 1).numpy(), [1.2, 5.7])
    np.testing.assert_array_equal(t([1.25]).round(1).numpy(), np.round([1.25], 1))


# --- remainders: Python's % and //, C's fmod ----------------------------------------------------
def test_remainder_and_floor_divide_follow_python_on_negative_numbers():
    a, b = [7, -7, 7, -7], [3, 3, -3, -3]
    ia, ib = ad.tensor(a), ad.tensor(b)
    assert (ia % ib).numpy().tolist() == [x % y for x, y in zip(a, b)] == [1, 2, -2, -1]
    assert (ia // ib).numpy().tolist() == [x // y for x, y in zip(a, b)]
    assert ad.fmod(ia, ib).numpy().tolist() == [math.fmod(x, y) for x, y in zip(a, b)]
    assert (ia % ib).dtype == np.int64 and (ad.tensor(np.int32([5])) % 3).dtype == np.int32
    fa, fb = t(a), t(b)
    np.testing.assert_array_equal((fa % fb).numpy(), np.remainder(a, b, dtype=float))
    np.testing.assert_array_equal((fa // fb).numpy(), np.floor_divide(a, b, dtype=float))
    np.testing.assert_array_equal((7.5 % fb).numpy(), np.remainder(7.5, np.array(b, float)))
    np.testing.assert_array_equal((1 // t([0.1])).numpy(), [9.0])        # NumPy's, not 10


def test_remainder_derivatives_are_pytorchs():
    x, y = t([7.5, -7.5, 7.5]), t([2.0, 2.0, -2.0])
    gx, gy = ad.grad(lambda x, y: (x % y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx.numpy(), [1, 1, 1])
    np.testing.assert_array_equal(gy.numpy(), -np.floor_divide(x.numpy(), y.numpy()))
    gy = ad.grad(lambda y: ad.fmod(x, y).sum())(y)
    np.testing.assert_array_equal(gy.numpy(), -np.trunc(x.numpy() / y.numpy()))
    z = t([5.0], requires_grad=True)
    (z // 2).sum().backward()
    assert z.grad.numpy().tolist() == [0.0]


def test_integer_division_by_zero_raises():
    for op in (lambda a, b: a % b, lambda a, b: a // b, ad.fmod):
        with pytest.raises(ZeroDivisionError, match="division by zero"):
            op(ad.tensor([1, 2]), ad.tensor([1, 0]))
    with np.errstate(invalid="ignore"):
        assert np.isnan((t([1.0]) % 0.0).item())                # floats: NaN, as NumPy


# --- predicates, logic, bits: no gradient, bool or integer results -----------------------------
def test_predicates_give_bool_tensors_without_a_node():
    x = t([1.0, np.nan, np.inf, -np.inf], requires_grad=True)
    for op, want in ((ad.isnan, [0, 1, 0, 0]), (ad.isinf, [0, 0, 1, 1]),
                     (ad.isfinite, [1, 0, 0, 0])):
        out = op(x)
        assert out.dtype == np.bool_ and not out.requires_grad
        assert out.numpy().tolist() == [bool(w) for w in want]
    assert ad.isclose(t([1.0, 1.0 + 1e-6, np.nan]), 1.0).numpy().tolist() == [True, True, False]
    assert ad.isclose(t([np.nan]), t([np.nan]), equal_nan=True).numpy().tolist() == [True]
    d = ad.dual(t([np.nan, 1.0]), t([1.0, 1.0]))
    assert ad.isnan(d).numpy().tolist() == [True, False]


def test_all_and_any_along_axes():
    x = np.array([[1, 0, 2], [3, 4, 5]])
    for axis in (None, 0, 1, (0, 1), -1):
        np.testing.assert_array_equal(ad.all(ad.tensor(x), axis).numpy(), np.all(x, axis))
        np.testing.assert_array_equal(ad.tensor(x).any(axis, keepdims=True).numpy(),
                                      np.any(x, axis, keepdims=True))
    assert ad.all(ad.tensor(np.zeros(0))).item() and not ad.any(ad.tensor(np.zeros(0))).item()
    with pytest.raises(ad.AxisError, match="any"):
        ad.any(ad.tensor(x), 2)


def test_bitwise_and_logical_operations_on_integers_and_bools():
    a, b = np.array([12, -7, 0], np.int32), np.array([10, 3, 5], np.int32)
    ta, tb = ad.tensor(a), ad.tensor(b)
    for out, want in ((ta & tb, a & b), (ta | tb, a | b), (ta ^ tb, a ^ b), (~ta, ~a),
                      (ta << 2, a << 2), (ta >> 1, a >> 1), (3 & ta, 3 & a), (1 << tb, 1 << b)):
        assert out.dtype == want.dtype == np.int32
        np.testing.assert_array_equal(out.numpy(), want)
    p, q = ad.tensor([True, True, False]), ad.tensor([True, False, False])
    assert (p & q).numpy().tolist() == [True, False, False] and (~p).dtype == np.bool_
    assert ad.logical_xor(p, q).numpy().tolist() == [False, True, False]
    assert ad.logical_and(t([0.5, 0.0]), 1.0).numpy().tolist() == [True, False]
    assert ad.logical_not(t([0.0, 2.0])).numpy().tolist() == [True, False]
    assert ad.logical_or(ta, 0).dtype == np.bool_


@pytest.mark.parametrize("op", [lambda x: x & 1, lambda x: ~x, lambda x: x << 1,
                                lambda x: ad.bitwise_xor(x, x)])
def test_bitwise_operations_refuse_floats(op):
    with pytest.raises(ad.DtypeError, match=r"(bitwise|shift).*float32.*\(2,\)"):
        op(ad.tensor([1.0, 2.0]))


def test_shifts_refuse_bools():
    with pytest.raises(ad.DtypeError, match="left_shift: takes integer"):
        ad.tensor([True]) << 1


# --- the rest --------------------------------------------------------------------------------------
def test_copysign_reads_the_sign_bit_and_gives_y_a_zero_gradient():
    x, y = t([1.0, -2.0, 3.0, 0.0]), t([-0.0, 1.0, -np.inf, -1.0], requires_grad=True)
    out = ad.copysign(x, y)
    np.testing.assert_array_equal(out.numpy(), np.copysign(x.numpy(), y.numpy()))
    out.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.zeros(4))
    assert ad.copysign(ad.tensor([1, -2]), -1).dtype == np.float64          # NumPy's dtype


def test_masked_fill_refuses_a_mask_that_widens_x():
    with pytest.raises(ad.ShapeError, match=r"masked_fill.*\(2, 3\).*\(3,\)"):
        ad.masked_fill(t([1.0, 2.0, 3.0]), np.ones((2, 3), bool), 0.0)
    assert t([1.0, 2.0]).masked_fill(ad.tensor([True, False]), -1).numpy().tolist() == [-1, 2]


def test_reciprocal_and_rsqrt_of_integers_are_float32():
    assert ad.reciprocal(ad.tensor([2, 4])).numpy().tolist() == [0.5, 0.25]
    assert ad.reciprocal(ad.tensor([2])).dtype == ad.rsqrt(ad.tensor([4])).dtype == np.float32
    assert ad.exp2(ad.tensor([3])).numpy().tolist() == [8.0]


def test_inverse_functions_invert_and_have_both_spellings():
    x = t([0.3, -0.6])
    for f, inverse in ((ad.sin, ad.asin), (ad.cos, ad.arccos), (ad.tan, ad.atan),
                       (ad.sinh, ad.asinh), (ad.tanh, ad.atanh), (ad.log1p, ad.expm1)):
        np.testing.assert_allclose(inverse(f(ad.abs(x) if f is ad.cos else x)).numpy(),
                                   np.abs(x.numpy()) if f is ad.cos else x.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ad.acosh(ad.cosh(ad.abs(x))).numpy(), np.abs(x.numpy()))
    assert ad.atan2(t([1.0]), t([-1.0])).item() == pytest.approx(3 * math.pi / 4)
    assert ad.log2(t([8.0])).item() == 3.0 and ad.log10(t([1000.0])).item() == 3.0
    np.testing.assert_allclose(ad.logaddexp(t([1000.0, -1000.0]), t([1000.0, -1000.0])).numpy(),
                               [1000 + math.log(2), -1000 + math.log(2)])


def test_methods_and_functional_names():
    x = t([[0.5, -1.5]])
    np.testing.assert_array_equal(x.clamp(0, 1).numpy(), [[0.5, 0.0]])
    np.testing.assert_array_equal(x.floor().numpy(), [[0.0, -2.0]])
    np.testing.assert_array_equal(x.square().numpy(), [[0.25, 2.25]])
    assert x.erf().shape == (1, 2) and x.isnan().dtype == np.bool_
    for name in ("softplus", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardtanh",
                 "relu6", "hardsigmoid", "hardswish", "logsigmoid", "softsign", "softmin"):
        assert getattr(F, name) is getattr(ad, name)
