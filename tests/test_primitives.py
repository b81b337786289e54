"""Every primitive in the table, over random shapes (broadcasting, size-1 axes) and both dtypes:
value against NumPy, JVP and VJP against float64 central differences, JVP against VJP by the
dot-product identity, second order, and dtype preservation."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyad as ad
from tinyad.interpreter import LINEAR

from primitive_specs import SPECS

NAMES = sorted(SPECS)


def as_tensors(args, requires_grad=False):
    return [ad.tensor(a, requires_grad=requires_grad)
            if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args]


def test_every_primitive_has_both_rules_and_a_spec():
    for name, prim in ad.PRIMITIVES.items():
        assert callable(prim.impl), name
        assert prim.jvp == LINEAR or (isinstance(prim.jvp, tuple) and
                                      all(callable(r) for r in prim.jvp)), f"{name}: no JVP rule"
        assert callable(prim.vjp) or (isinstance(prim.vjp, tuple) and prim.vjp and
                                      all(callable(r) for r in prim.vjp)), f"{name}: no VJP rule"
        if isinstance(prim.jvp, tuple) and isinstance(prim.vjp, tuple):
            assert len(prim.jvp) == len(prim.vjp), f"{name}: rule arity differs"
        assert name in SPECS, f"{name}: no entry in tests/primitive_specs.py"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_value_matches_numpy(name, dtype, data):
    spec = SPECS[name]
    args = spec.draw(data, dtype)
    out = spec.call(*as_tensors(args))
    expected = spec.ref(*args)
    assert out.dtype == np.asarray(expected).dtype
    if dtype == np.float32:
        np.testing.assert_allclose(out.numpy(), expected, rtol=2e-6, atol=spec.atol32)
    else:
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_first_order_against_finite_differences(name, data):
    """gradcheck: reverse and forward Jacobians vs central differences, and <u,Jv> = <Jᵀu,v>."""
    spec = SPECS[name]
    assert ad.gradcheck(spec.call, *as_tensors(spec.draw(data, np.float64)))


@pytest.mark.parametrize("name", [n for n in NAMES if SPECS[n].second_order])
@settings(max_examples=3)
@given(data=st.data())
def test_second_order(name, data):
    spec = SPECS[name]
    assert ad.gradcheck(spec.call, *as_tensors(spec.draw(data, np.float64)), order=2)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=4)
@given(data=st.data())
def test_float32_in_float32_gradients_out(name, data):
    spec = SPECS[name]
    args = as_tensors(spec.draw(data, np.float32), requires_grad=True)
    out = spec.call(*args)
    out.backward(ad.ones(*out.shape))
    floats = [a for a in args if isinstance(a, ad.Tensor) and a.requires_grad]
    for a in floats:
        assert a.grad.dtype == np.float32 and a.grad.shape == a.shape
    tangents = [ad.ones(*a.shape) for a in floats]
    _, t = ad.jvp(lambda *fs: spec.call(*_replace(args, fs)), floats, tangents)
    assert t.dtype == np.float32 and t.shape == out.shape


def _replace(args, floats):
    it = iter(floats)
    return [next(it) if isinstance(a, ad.Tensor) and a.requires_grad else a for a in args]
