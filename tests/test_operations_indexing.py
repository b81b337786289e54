"""Indexing along an axis: take_along_axis and gather, take and index_select, the scatters
(against loops written from PyTorch's definitions), masked_select, nonzero, argwhere, one_hot;
derivatives by gradcheck, index checks that raise instead of wrapping."""
import numpy as np
import pytest

import tinyad as ad

RNG = np.random.default_rng(3)
X = RNG.uniform(-2, 2, (3, 4))
IDX = np.array([[3, 0, 3], [1, 1, 2], [0, 2, 2]])          # repeats: derivatives add up


def t(v, **kw):
    return ad.tensor(np.asarray(v, dtype=np.float64), **kw)


def test_take_along_axis_and_gather_match_numpy_with_derivatives():
    np.testing.assert_array_equal(ad.take_along_axis(t(X), IDX, 1).numpy(),
                                  np.take_along_axis(X, IDX, 1))
    np.testing.assert_array_equal(ad.gather(t(X), 1, IDX).numpy(), np.take_along_axis(X, IDX, 1))
    np.testing.assert_array_equal(t(X).gather(0, IDX[:2, :3] % 3).numpy(),
                                  np.take_along_axis(X[:, :3], IDX[:2, :3] % 3, 0))
    bcast = np.array([[-1], [0], [2]])                           # broadcast, negative: NumPy's
    np.testing.assert_array_equal(ad.take_along_axis(t(X), bcast, 1).numpy(),
                                  np.take_along_axis(X, bcast, 1))
    np.testing.assert_array_equal(ad.take_along_axis(t(X), np.array([5, 0]), None).numpy(),
                                  np.take_along_axis(X, np.array([5, 0]), None))
    assert ad.gradcheck(lambda x: ad.gather(x, 1, IDX), t(X), order=2)
    assert ad.gradcheck(lambda x: ad.take_along_axis(x, bcast, 1), t(X), order=2)


def test_gather_refuses_negative_or_large_indices_and_bigger_index_shapes():
    with pytest.raises(ad.IndexingError, match=r"gather: indices must lie in \[0, 4\)"):
        ad.gather(t(X), 1, [[-1]])
    with pytest.raises(ad.IndexingError, match="take_along_axis"):
        ad.take_along_axis(t(X), np.array([[4]]), 1)
    with pytest.raises(ad.ShapeError, match="no larger than the input"):
        ad.gather(t(X), 1, np.zeros((4, 1), int))
    with pytest.raises(ad.ShapeError, match="as many axes"):
        ad.gather(t(X), 0, np.zeros(3, int))
    with pytest.raises(ad.DtypeError, match="integers"):
        ad.gather(t(X), 0, np.zeros((1, 1)))


def scatter_ref(x, dim, index, src, combine):
    """PyTorch's definition, by loops: out[... index[p] on dim ...] combined with src[p]."""
    out = {}
    for p in np.ndindex(*index.shape):
        target = list(p)
        target[dim] = index[p]
        out.setdefault(tuple(target), []).append(src[p])
    result = x.copy()
    for target, values in out.items():
        result[target] = combine(x[target], values)
    return result


SCATTERS = {
    "scatter": (lambda x, s: ad.scatter(x, 1, IDX, s), lambda x, v: v[-1]),
    "scatter_add": (lambda x, s: ad.scatter_add(x, 1, IDX, s), lambda x, v: x + sum(v)),
    "sum": (lambda x, s: ad.scatter_reduce(x, 1, IDX, s, "sum"), lambda x, v: x + sum(v)),
    "sum_only_src": (lambda x, s: ad.scatter_reduce(x, 1, IDX, s, "sum", include_self=False),
                     lambda x, v: sum(v)),
    "prod": (lambda x, s: ad.scatter_reduce(x, 1, IDX, s, "prod"), lambda x, v: x * np.prod(v)),
    "prod_only_src": (lambda x, s: x.scatter_reduce(1, IDX, s, "prod", include_self=False),
                      lambda x, v: np.prod(v)),
    "mean": (lambda x, s: ad.scatter_reduce(x, 1, IDX, s, "mean"),
             lambda x, v: (x + sum(v)) / (len(v) + 1)),
    "mean_only_src": (lambda x, s: ad.scatter_reduce(x, 1, IDX, s, "mean", include_self=False),
                      lambda x, v: sum(v) / len(v)),
    "amax": (lambda x, s: ad.scatter_reduce(x, 1, IDX, s, "amax"), lambda x, v: max(x, *v)),
    "amin_only_src": (lambda x, s: ad.scatter_reduce(x, 1, IDX, s, "amin", include_self=False),
                      lambda x, v: min(v)),
}


@pytest.mark.parametrize("name", sorted(SCATTERS))
def test_scatters_match_pytorchs_definition_with_derivatives(name):
    ours, combine = SCATTERS[name]
    src = RNG.uniform(-2, 2, (3, 5))                             # bigger than the index: cut
    want = scatter_ref(X, 1, IDX, src[:, :3], combine)
    np.testing.assert_allclose(ours(t(X), t(src)).numpy(), want, rtol=1e-12)
    assert ad.gradcheck(ours, t(X), t(src), order=2)


def test_scatter_gives_the_derivative_to_the_last_write_only():
    src = t([[1.0, 2.0, 3.0]], requires_grad=True)
    x = t(np.zeros((1, 4)), requires_grad=True)
    out = ad.scatter(x, 1, [[2, 0, 2]], src)
    assert out.numpy().tolist() == [[2.0, 0.0, 3.0, 0.0]]
    out.sum().backward()
    assert src.grad.numpy().tolist() == [[0.0, 1.0, 1.0]]
    assert x.grad.numpy().tolist() == [[0.0, 1.0, 0.0, 1.0]]
    assert ad.scatter(t(np.zeros(3)), 0, [1], 5.0).numpy().tolist() == [0, 5, 0]


def test_scatter_reduce_ties_share_the_derivative_and_integers_work():
    x = t([2.0, 0.0], requires_grad=True)
    src = t([2.0, 2.0], requires_grad=True)
    ad.scatter_reduce(x, 0, [0, 0], src, "amax").sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 1.0])
    np.testing.assert_allclose(src.grad.numpy(), [1 / 3, 1 / 3])
    ints = ad.scatter_reduce(ad.tensor([1, 1, 1]), 0, [0, 0, 2], ad.tensor([4, 6, 3]), "mean")
    assert ints.dtype == np.int64 and ints.numpy().tolist() == [3, 1, 2]       # floor, as PyTorch
    with pytest.raises(ValueError, match="reduce must be one of"):
        ad.scatter_reduce(x, 0, [0], src, "max")


def test_take_index_select_masked_select():
    np.testing.assert_array_equal(ad.take(t(X), [[5, -1]]).numpy(), np.take(X, [[5, -1]]))
    np.testing.assert_array_equal(t(X).take([2, 0], axis=1).numpy(), np.take(X, [2, 0], 1))
    np.testing.assert_array_equal(ad.index_select(t(X), 0, [2, 2]).numpy(), X[[2, 2]])
    mask = X > 0
    np.testing.assert_array_equal(ad.masked_select(t(X), mask).numpy(), X[mask])
    np.testing.assert_array_equal(ad.masked_select(t(X[0]), mask).numpy(),
                                  np.broadcast_to(X[0], X.shape)[mask])
    assert ad.gradcheck(lambda x: ad.masked_select(x, mask), t(X), order=2)
    assert ad.gradcheck(lambda x: ad.index_select(x, 1, [3, 3, 0]), t(X), order=2)
    with pytest.raises(ad.IndexingError, match="index_select"):
        ad.index_select(t(X), 0, [-1])
    with pytest.raises(ad.ShapeError, match="1-D"):
        ad.index_select(t(X), 0, [[0]])
    with pytest.raises(ad.DtypeError, match="bool"):
        ad.masked_select(t(X), np.ones((3, 4), int))


def test_nonzero_argwhere_one_hot():
    x = ad.tensor([[0, 2], [3, 0]])
    rows, cols = ad.nonzero(x)
    assert rows.numpy().tolist() == [0, 1] and cols.numpy().tolist() == [1, 0]
    assert rows.dtype == np.int64 and x.nonzero()[0].numpy().tolist() == [0, 1]
    assert ad.argwhere(x).numpy().tolist() == [[0, 1], [1, 0]]
    assert ad.argwhere(ad.tensor(np.zeros((0, 2)))).shape == (0, 2)
    with pytest.raises(ad.ShapeError, match="0-d"):
        ad.nonzero(ad.tensor(1.0))
    hot = ad.one_hot(ad.tensor([[0, 2]]))
    assert hot.dtype == np.int64 and hot.numpy().tolist() == [[[1, 0, 0], [0, 0, 1]]]
    assert ad.one_hot(ad.tensor([1]), 4).shape == (1, 4)
    with pytest.raises(ad.IndexingError, match="one_hot"):
        ad.one_hot(ad.tensor([3]), 3)
    with pytest.raises(ad.DtypeError, match="one_hot"):
        ad.one_hot(ad.tensor([1.0]))


@pytest.mark.gpu
def test_indexing_on_the_device(cp):
    x = ad.tensor(X, device="cuda")
    for call in (lambda x: ad.gather(x, 1, IDX), lambda x: ad.scatter(x, 1, IDX, x),
                 lambda x: ad.scatter_reduce(x, 1, IDX, x, "amax"),
                 lambda x: ad.scatter_reduce(x, 1, IDX, x, "mean"),
                 lambda x: ad.masked_select(x, X > 0), lambda x: ad.cummax(x, 1).values,
                 lambda x: ad.topk(x, 2).values, lambda x: ad.pad(x, 2, "reflect")):
        out = call(x)
        assert out.device == "cuda"
        np.testing.assert_allclose(out.numpy(), call(ad.tensor(X)).numpy())
