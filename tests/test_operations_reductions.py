"""Reductions, cumulative operations, sorting, norms and einsum: values against NumPy, ties and
NaN as NumPy and PyTorch place them, composites through gradcheck to second order, integer
results without a gradient."""
import numpy as np
import pytest

import tinyad as ad

RNG = np.random.default_rng(1)
X = RNG.uniform(-2, 2, (3, 4))


def t(v, **kw):
    return ad.tensor(np.asarray(v, dtype=np.float64), **kw)


AXES = [None, 0, 1, -1, (0, 1)]


# --- min, prod, var, std ------------------------------------------------------------------------
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_min_prod_var_std_match_numpy(axis, keepdims):
    x = t(X)
    for ours, theirs in ((ad.min, np.min), (ad.prod, np.prod), (ad.var, np.var),
                         (ad.std, np.std)):
        np.testing.assert_allclose(ours(x, axis, keepdims=keepdims).numpy(),
                                   theirs(X, axis=axis, keepdims=keepdims), rtol=1e-12)
    np.testing.assert_allclose(ad.var(x, axis, ddof=1).numpy(), np.var(X, axis=axis, ddof=1))
    np.testing.assert_allclose(x.std(axis, correction=1).numpy(), np.std(X, axis=axis, ddof=1))


@pytest.mark.parametrize("op", [ad.min, ad.prod, ad.var, ad.std,
                                lambda x: ad.var(x, 1, correction=1),
                                lambda x: ad.prod(x, (0, 1), keepdims=True)])
def test_reductions_derivatives_to_second_order(op):
    assert ad.gradcheck(op, t(X), order=2)


def test_prod_derivative_is_exact_at_zeros_to_second_order():
    for v in ([2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.5], [0.0]):
        x = t(v)
        assert ad.gradcheck(ad.prod, x, order=2)
        others = [np.prod(np.delete(v, i)) for i in range(len(v))]
        np.testing.assert_allclose(ad.grad(ad.prod)(x).numpy(), others)
    m = t([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])
    assert ad.gradcheck(lambda x: ad.cumprod(x, 1), m, order=2)


def test_prod_over_nothing_is_one_and_integers_stay_integers():
    empty = t(np.zeros((0, 3)), requires_grad=True)
    out = ad.prod(empty, 0)
    np.testing.assert_array_equal(out.numpy(), np.ones(3))
    out.sum().backward()
    assert empty.grad.shape == (0, 3)
    ints = ad.prod(ad.tensor(np.array([2, 3, 4], np.int32)))
    assert ints.item() == 24 and ints.dtype == np.prod(np.array([2], np.int32)).dtype


def test_var_with_too_few_entries_is_nan_or_inf_as_numpy():
    with np.errstate(all="ignore"):
        assert np.isnan(ad.var(t([1.0]), ddof=1).item())
        assert ad.var(t([1.0, 2.0]), ddof=2).item() == np.inf
    with pytest.raises(ValueError, match="ddof.*correction"):
        ad.var(t(X), ddof=1, correction=1)


def test_min_of_integers_and_ties():
    low = np.iinfo(np.int64).min
    assert ad.min(ad.tensor([3, low, 5])).item() == low                    # no -INT_MIN overflow
    x = t([1.0, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(ad.grad(ad.min)(x).numpy(), [0, 0.5, 0.5, 0])
    assert np.isnan(ad.min(t([1.0, np.nan])).item())
    with pytest.raises(ad.ShapeError):
        ad.min(ad.tensor(np.zeros(0, np.int64)))


# --- argmax, argmin ----------------------------------------------------------------------------
def test_argmax_argmin_first_tie_first_nan_int64_no_gradient():
    x = t([[1.0, 3.0, 3.0], [np.nan, 5.0, np.nan]], requires_grad=True)
    for op, ref in ((ad.argmax, np.argmax), (ad.argmin, np.argmin)):
        for axis in (None, 0, 1, -1):
            out = op(x, axis)
            assert out.dtype == np.int64 and not out.requires_grad
            np.testing.assert_array_equal(out.numpy(), ref(x.numpy(), axis))
    assert ad.argmax(x, 1).numpy().tolist() == [1, 0]
    assert x.argmax(1, keepdims=True).shape == (2, 1)
    with pytest.raises(ad.ShapeError, match="argmax.*empty"):
        ad.argmax(t(np.zeros((2, 0))), 1)
    with pytest.raises(ad.AxisError, match="argmin"):
        ad.argmin(x, 2)


# --- cumulative -----------------------------------------------------------------------------------
def test_cumulative_operations_match_numpy_and_accumulate_small_integers_in_int64():
    for axis in (None, 0, 1, -1):
        np.testing.assert_allclose(ad.cumsum(t(X), axis).numpy(), np.cumsum(X, axis))
        np.testing.assert_allclose(t(X).cumprod(axis).numpy(), np.cumprod(X, axis))
        ref = np.logaddexp.accumulate(X.reshape(-1) if axis is None else X, axis=axis or 0)
        np.testing.assert_allclose(ad.logcumsumexp(t(X), axis).numpy(), ref, rtol=1e-12)
    small = ad.tensor(np.array([1, 2, 3], np.int8))
    assert ad.cumsum(small).dtype == np.cumsum(np.int8([1])).dtype == np.int64
    assert ad.cumsum(ad.tensor([True, True])).numpy().tolist() == [1, 2]
    assert ad.logcumsumexp(ad.tensor([0, 0])).dtype == np.float64


def test_logcumsumexp_never_overflows_and_its_wide_rule_is_exact():
    x = t([-1000.0, 0.0, 1000.0])
    np.testing.assert_allclose(ad.logcumsumexp(x).numpy(), [-1000.0, 0.0, 1000.0])
    wide = t([0.0, 650.0, 651.0, -3.0])                 # out climbs past SPREAD: the (n, n) rule
    assert ad.gradcheck(lambda x: ad.logcumsumexp(x), wide, order=2)
    g = ad.grad(lambda x: ad.logcumsumexp(x)[1])(wide).numpy()
    np.testing.assert_allclose(g, [np.exp(-650.0), 1.0, 0.0, 0.0], rtol=1e-12)
    empty = t(np.zeros((0, 2)), requires_grad=True)
    ad.logcumsumexp(empty, 0).sum().backward()
    assert empty.grad.shape == (0, 2)


def test_cummax_cummin_index_the_last_tie_and_follow_nan_as_pytorch():
    x = t([1.0, 3.0, 2.0, 3.0, np.nan, 4.0, np.nan, 0.0])
    values, indices = ad.cummax(x, 0)
    np.testing.assert_array_equal(values.numpy(), [1, 3, 3, 3, np.nan, np.nan, np.nan, np.nan])
    assert indices.numpy().tolist() == [0, 1, 1, 3, 4, 4, 6, 6] and indices.dtype == np.int64
    values, indices = ad.cummin(t([2.0, 1.0, 1.0, 3.0]), 0)
    assert values.numpy().tolist() == [2, 1, 1, 1] and indices.numpy().tolist() == [0, 1, 2, 2]
    y = t(X)
    g = ad.grad(lambda y: ad.cummax(y, 1).values.sum())(y).numpy()
    idx = ad.cummax(y, 1).indices.numpy()
    want = np.zeros_like(X)
    for r in range(3):
        np.add.at(want[r], idx[r], 1.0)
    np.testing.assert_array_equal(g, want)
    assert ad.gradcheck(lambda y: ad.cummin(y, 0).values, y, order=2)
    scalar = ad.cummax(t(2.0), 0)
    assert scalar.values.item() == 2.0 and scalar.indices.item() == 0


# --- sorting ----------------------------------------------------------------------------------------
def test_sort_and_argsort_are_stable_with_nan_largest():
    x = t([3.0, np.nan, 1.0, 3.0, -np.inf, 1.0])
    assert ad.argsort(x).numpy().tolist() == [4, 2, 5, 0, 3, 1]
    assert ad.argsort(x, descending=True).numpy().tolist() == [1, 0, 3, 2, 5, 4]
    np.testing.assert_array_equal(ad.sort(x).numpy(), np.sort(x.numpy()))
    np.testing.assert_array_equal(ad.sort(x, descending=True).numpy(),
                                  [np.nan, 3, 3, 1, 1, -np.inf])
    ints = ad.tensor([np.iinfo(np.int64).min, 5, 5, 0])
    assert ad.argsort(ints, descending=True).numpy().tolist() == [1, 2, 3, 0]
    for axis in (0, 1, -1, None):
        np.testing.assert_array_equal(ad.sort(t(X), axis).numpy(), np.sort(X, axis))
        np.testing.assert_array_equal(t(X).argsort(axis).numpy(), np.argsort(X, axis))


def test_topk_values_indices_and_gradient():
    x = t([[1.0, 5.0, 5.0, 2.0], [0.0, -1.0, 7.0, np.nan]])
    values, indices = ad.topk(x, 2)
    assert indices.numpy().tolist() == [[1, 2], [3, 2]]
    np.testing.assert_array_equal(values.numpy(), [[5, 5], [np.nan, 7]])
    assert ad.topk(x, 1, largest=False).indices.numpy().tolist() == [[0], [1]]
    assert x.topk(2, axis=0).values.shape == (2, 4)
    assert ad.gradcheck(lambda y: ad.topk(y, 3).values, t(X), order=2)
    assert ad.gradcheck(lambda y: ad.sort(y, 0, descending=True), t(X), order=2)
    with pytest.raises(ad.ShapeError, match="topk: k = 5"):
        ad.topk(x, 5)


# --- norm --------------------------------------------------------------------------------------------
VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -2]
MATRIX_ORDS = [None, "fro", 1, -1, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norms_match_numpy(ord):
    for axis in (0, 1, -1):
        for keepdims in (False, True):
            np.testing.assert_allclose(ad.norm(t(X), ord, axis, keepdims).numpy(),
                                       np.linalg.norm(X, ord, axis, keepdims), rtol=1e-12)
    np.testing.assert_allclose(ad.norm(t(X[0]), ord).numpy(), np.linalg.norm(X[0], ord))
    if ord != 0:
        assert ad.gradcheck(lambda x: ad.norm(x, ord, 1), t(X), order=2)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norms_match_numpy(ord):
    np.testing.assert_allclose(ad.norm(t(X), ord).numpy(), np.linalg.norm(X, ord), rtol=1e-12)
    batch = RNG.uniform(-1, 1, (2, 3, 4))
    np.testing.assert_allclose(ad.norm(t(batch), ord, (2, 1), keepdims=True).numpy(),
                               np.linalg.norm(batch, ord, (2, 1), keepdims=True), rtol=1e-12)
    assert ad.gradcheck(lambda x: ad.norm(x, ord, (0, 1)), t(X), order=2)


def test_norm_of_zero_has_zero_gradient_and_refuses_what_needs_singular_values():
    for ord in (None, 2, 3):
        assert ad.grad(lambda x: ad.norm(x, ord))(t([0.0, 0.0])).numpy().tolist() == [0, 0]
    assert ad.norm(t(np.zeros((3, 3)))).item() == 0.0
    with pytest.raises(ValueError, match="singular values"):
        ad.norm(t(X), 2, (0, 1))
    with pytest.raises(ValueError, match="matrix norm"):
        ad.norm(t(X), "fro", 1)
    with pytest.raises(ad.ShapeError, match="norm"):
        ad.norm(t(np.zeros((2, 2, 2))), 1)


# --- einsum -------------------------------------------------------------------------------------------
EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]), ("bi,bi->b", [(4, 3), (4, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("iij->j", [(2, 2, 3)]),
    ("ab,cd->abcd", [(1, 2), (2, 1)]), ("ij,ij->ij", [(1, 3), (2, 3)]), (",i->i", [(), (3,)]),
    ("i...->...", [(2, 3, 4)]), ("Ab,bC->CA", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("subscripts, shapes", EINSUMS)
def test_einsum_matches_numpy_with_derivatives(subscripts, shapes):
    arrays = [RNG.uniform(-1, 1, s) for s in shapes]
    out = ad.einsum(subscripts, *[t(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), np.einsum(subscripts, *arrays), rtol=1e-12,
                               atol=1e-15)
    assert ad.gradcheck(lambda *xs: ad.einsum(subscripts, *xs), *[t(a) for a in arrays],
                        order=2)


def test_einsum_over_empty_axes():
    a = t(np.ones((0, 3)), requires_grad=True)
    out = ad.einsum("ij,ij->i", a, t(np.ones((1, 3))))
    assert out.shape == (0,)
    np.testing.assert_array_equal(ad.einsum("ij,jk->ik", t(np.ones((2, 0))), t(np.ones((0, 3))))
                                  .numpy(), np.zeros((2, 3)))
    ad.einsum("ij->j", a).sum().backward()
    assert a.grad.shape == (0, 3)


@pytest.mark.parametrize("subscripts, shapes, match", [
    ("ij,jk->ik", [(2, 3), (4, 5)], "letter 'j'"), ("ij->ik", [(2, 3)], "output"),
    ("ij", [(2, 3, 4)], "does not match"), ("i,j", [(2,)], "names 2 operands"),
    ("i1->i", [(2, 2)], "only letters"),
])
def test_einsum_errors_name_the_subscripts(subscripts, shapes, match):
    with pytest.raises(ad.ShapeError, match=match):
        ad.einsum(subscripts, *[t(np.ones(s)) for s in shapes])
