"""The primitive registry (tests/primitive_specs.py) with every input on the device: each
primitive's value against NumPy, its JVP and VJP against central differences computed on the
device (gradcheck never moves an input to the host), to second order, and float32 in, float32
out with the same JVP and VJP as on the CPU. Fewer examples than tests/test_primitives.py: the
rules are the same code, what is new here is where the arrays live."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyad as ad

from primitive_specs import SPECS

NAMES = sorted(SPECS)
pytestmark = pytest.mark.gpu


def placed(args, device="cuda", requires_grad=False):
    return [ad.tensor(a, device=device, requires_grad=requires_grad)
            if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args]


def on_device_only(call):
    """`call`, asserting that every output it makes is on the device."""
    def f(*xs):
        out = call(*xs)
        assert out.device == "cuda", f"output on {out.device}"
        return out
    return f


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=5)
@given(data=st.data())
def test_value_on_the_device_matches_numpy(name, dtype, data):
    spec = SPECS[name]
    args = spec.draw(data, dtype)
    out = on_device_only(spec.call)(*placed(args))
    expected = spec.ref(*args)
    assert out.dtype == np.asarray(expected).dtype
    tol = dict(rtol=2e-6, atol=spec.atol32) if dtype == np.float32 else dict(rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), expected, **tol)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=4)
@given(data=st.data())
def test_first_order_on_the_device(name, data):
    spec = SPECS[name]
    assert ad.gradcheck(on_device_only(spec.call), *placed(spec.draw(data, np.float64)))


@pytest.mark.parametrize("name", [n for n in NAMES if SPECS[n].second_order])
@settings(max_examples=2)
@given(data=st.data())
def test_second_order_on_the_device(name, data):
    spec = SPECS[name]
    assert ad.gradcheck(on_device_only(spec.call), *placed(spec.draw(data, np.float64)),
                        order=2)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=3)
@given(data=st.data())
def test_float32_rules_on_the_device_match_the_cpu(name, data):
    """VJP (a backward pass with a ones seed) and JVP (ones tangents) on both devices."""
    spec = SPECS[name]
    drawn = spec.draw(data, np.float32)
    results = {}
    for device in ("cpu", "cuda"):
        args = placed(drawn, device, requires_grad=True)
        out = spec.call(*args)
        out.backward(ad.ones(*out.shape, device=device))
        floats = [a for a in args if isinstance(a, ad.Tensor) and a.requires_grad]
        for a in floats:
            assert a.grad.device == device and a.grad.dtype == np.float32
        tangents = [ad.ones(*a.shape, device=device) for a in floats]
        _, t = ad.jvp(lambda *fs: spec.call(*_replace(args, fs)), floats, tangents)
        assert t.device == device and t.dtype == np.float32
        results[device] = [t.numpy()] + [a.grad.numpy() for a in floats]
    for got, want in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 + spec.atol32)


def _replace(args, floats):
    it = iter(floats)
    return [next(it) if isinstance(a, ad.Tensor) and a.requires_grad else a for a in args]
