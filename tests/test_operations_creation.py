"""Creation: arange, linspace, eye, full, full_like, empty, zeros_like/ones_like, rand, randint:
values as NumPy's, tinyad's default dtypes (float32, int64), seeds that repeat on every device."""
import numpy as np
import pytest

import tinyad as ad


def test_arange_as_numpy_with_tinyads_default_dtypes():
    assert ad.arange(5).numpy().tolist() == list(range(5)) and ad.arange(5).dtype == np.int64
    assert ad.arange(2, 11, 3).numpy().tolist() == [2, 5, 8]
    x = ad.arange(0, 1, 0.25)
    assert x.dtype == np.float32 and x.numpy().tolist() == [0, 0.25, 0.5, 0.75]
    assert ad.arange(3, dtype="float64").dtype == np.float64 and ad.arange(0).shape == (0,)
    assert ad.arange(5, 0, -2).numpy().tolist() == [5, 3, 1]
    with pytest.raises(ValueError, match="step"):
        ad.arange(0, 3, 0)


def test_linspace_eye_full():
    np.testing.assert_allclose(ad.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert ad.linspace(0, 1, 5).dtype == np.float32 and ad.linspace(0, 1).shape == (50,)
    np.testing.assert_allclose(ad.linspace(0, 1, 4, endpoint=False, dtype="float64").numpy(),
                               [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(ad.eye(3, 4, k=1).numpy(), np.eye(3, 4, 1))
    assert ad.eye(2).dtype == np.float32
    assert ad.full((2, 3), 7).dtype == np.int64 and ad.full(2, 0.5).dtype == np.float32
    assert ad.full((2,), True).dtype == np.bool_ and ad.full((), 1.5).item() == 1.5
    like = ad.full_like(ad.tensor(np.zeros((2, 2))), 3)
    assert like.dtype == np.float64 and like.numpy().tolist() == [[3, 3], [3, 3]]
    assert ad.empty(2, 3).shape == (2, 3) and ad.empty_like(like).dtype == np.float64


def test_zeros_like_and_ones_like_take_a_dtype_and_requires_grad():
    x = ad.tensor([1, 2])
    z = ad.zeros_like(x, dtype="float64", requires_grad=True)
    assert z.dtype == np.float64 and z.requires_grad and z.numpy().tolist() == [0, 0]
    assert ad.ones_like(x).dtype == np.int64
    with pytest.raises(ad.DtypeError):
        ad.zeros_like(x, requires_grad=True)


def test_rand_and_randint_repeat_with_a_seed_and_stay_in_range():
    a, b = ad.rand(100, 3, seed=4), ad.rand(100, 3, seed=4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == np.float32 and 0 <= a.numpy().min() and a.numpy().max() < 1
    assert ad.rand(2, seed=1, dtype="float64", requires_grad=True).requires_grad
    r = ad.randint(3, 7, (1000,), seed=2)
    assert r.dtype == np.int64 and set(r.numpy().tolist()) == {3, 4, 5, 6}
    assert ad.randint(5, size=4, seed=0).numpy().max() < 5                  # NumPy's form
    np.testing.assert_array_equal(ad.randint(10, (3,), seed=9).numpy(),      # PyTorch's form
                                  ad.randint(0, 10, (3,), seed=9).numpy())
    with pytest.raises(ValueError, match="randint"):
        ad.randint(3, 3)
    with pytest.raises(ValueError, match="rand"):
        ad.rand(2, dtype="int64")


@pytest.mark.gpu
def test_creation_on_the_device_gives_the_cpus_values(cp):
    for make in (lambda **d: ad.arange(0, 2, 0.5, **d), lambda **d: ad.rand(3, seed=1, **d),
                 lambda **d: ad.randint(0, 9, (4,), seed=1, **d), lambda **d: ad.eye(3, **d),
                 lambda **d: ad.full((2,), 4.0, **d), lambda **d: ad.linspace(0, 1, 3, **d)):
        on_device = make(device="cuda")
        assert on_device.device == "cuda"
        np.testing.assert_array_equal(on_device.numpy(), make().numpy())
