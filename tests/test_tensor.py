"""Tensors: construction, dtypes, operators, and the tape's bookkeeping (PyTorch semantics)."""
import numpy as np
import pytest

import tinyad as ad


def test_default_dtypes():
    assert ad.tensor(1.5).dtype == np.float32
    assert ad.tensor([1.0, 2.0]).dtype == np.float32
    assert ad.tensor([1, 2]).dtype == np.int64
    assert ad.tensor(np.zeros(2)).dtype == np.float64
    assert ad.randn(2, 3, seed=0).dtype == np.float32
    assert ad.zeros((2, 3), dtype="float64").shape == (2, 3)


def test_python_numbers_keep_the_tensor_dtype():
    x = ad.tensor([1.0, 2.0])
    for y in (x * 0.5, 2 ** x, x / 3, 1 - x, x ** 2):
        assert y.dtype == np.float32


def test_operators_match_numpy():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, y = ad.tensor(a), ad.tensor(b)
    np.testing.assert_allclose((x - y / (y * y + 1)).numpy(), a - b / (b * b + 1))
    np.testing.assert_allclose((x @ y.T).numpy(), a @ b.T)
    np.testing.assert_allclose(x.mean(axis=1, keepdims=True).numpy(), a.mean(1, keepdims=True))
    np.testing.assert_allclose(ad.stack([x, y], axis=1).numpy(), np.stack([a, b], 1))
    np.testing.assert_array_equal((x > y).numpy(), a > b)
    np.testing.assert_allclose(x[[0, 2], 1:].numpy(), a[[0, 2], 1:])
    np.testing.assert_allclose(ad.softmax(x).numpy().sum(-1), np.ones(3), rtol=1e-6)


def test_matmul_with_vectors():
    a = np.arange(6.0).reshape(2, 3)
    v = np.arange(3.0)
    for left, right in ((a, v), (v, a.T), (v, v)):
        out = ad.matmul(ad.tensor(left), ad.tensor(right))
        np.testing.assert_allclose(out.numpy(), left @ right)
    assert ad.gradcheck(lambda m, w: m @ w, ad.tensor(a), ad.tensor(v))


def test_gradients_accumulate_until_zeroed():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_unbroadcast_sums_over_broadcast_axes():
    col = ad.tensor(np.ones((3, 1)), requires_grad=True)
    mat = ad.tensor(np.ones((2, 3, 4)), requires_grad=True)
    (col * mat).sum().backward()
    assert col.grad.shape == (3, 1)
    np.testing.assert_allclose(col.grad.numpy(), np.full((3, 1), 8.0))


def test_shared_node_is_visited_once():
    x = ad.tensor(3.0, requires_grad=True)
    y = x * x
    z = y + y * x          # y is used twice: x² + x³
    z.backward()
    assert x.grad.item() == pytest.approx(2 * 3 + 3 * 9)


def test_long_chain_has_no_recursion_limit():
    x = ad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-3)


def test_retain_graph_allows_a_second_backward():
    x = ad.tensor(2.0, requires_grad=True)
    y = x.exp()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * np.exp(2.0), rel=1e-6)


def test_create_graph_records_the_backward_pass():
    x = ad.tensor(2.0, requires_grad=True)
    y = x ** 3
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.item() == pytest.approx(12.0)
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(12.0)       # d/dx 3x² = 6x


def test_no_grad_and_detach_record_nothing():
    x = ad.tensor([1.0], requires_grad=True)
    with ad.no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf
    z = (x * 2).detach()
    assert not z.requires_grad and z.is_leaf
    with ad.no_grad(), ad.enable_grad():
        assert (x * 2).requires_grad


def test_indexing_with_repeats_adds_gradients():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2]].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 0, 1])


def test_comparisons_carry_no_gradient():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    assert (x > 1).dtype == np.bool_ and not (x > 1).requires_grad


def test_where_and_maximum_route_gradients():
    x = ad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    ad.where(x > 0, x * 2, x * 0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 0, 2])
    x.grad = None
    ad.maximum(x, 0.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 0, 1])


def test_item_repr_and_numpy():
    x = ad.tensor([[1.0, 2.0]], requires_grad=True, device="cpu")
    assert "requires_grad=True" in repr(x)
    assert x.sum().item() == 3.0
    assert isinstance(x.numpy(), np.ndarray) and x.T.shape == (2, 1)
    assert x.to("cpu") is x and x.device == "cpu"
