"""Every primitive in the table, over random shapes (broadcasting, size-1 axes) and both dtypes:
value against NumPy, JVP and VJP against float64 central differences, JVP against VJP by the
dot-product identity, second order, dtype preservation, and its batching rule: vmap (of the
primitive, of its JVP and of its VJP) against a Python loop over the examples."""
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
        assert callable(prim.batch), f"{name}: no batching rule"


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


def mappable(spec, args):
    """The positions vmap may map: float and boolean arrays (integer ones for labels)."""
    kinds = "fbiu" if spec.mapped_ints else "fb"
    return [k for k, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind in kinds]


def draw_batch(data, spec, args, size):
    """Each mappable input either shared (in_axes None) or `size` examples (its values shuffled,
    so each example stays in the spec's domain) stacked along a random axis."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    batched, axes, examples = [], [], []
    for k in mappable(spec, args):
        a = args[k]
        if data.draw(st.booleans()):
            shuffled = [rng.permutation(a.ravel()).reshape(a.shape) for _ in range(size)]
            axis = data.draw(st.integers(-a.ndim - 1, a.ndim))
            batched.append(np.stack(shuffled, axis=axis))
            axes.append(axis)
            examples.append(shuffled)
        else:
            batched.append(a)
            axes.append(None)
            examples.append([a] * size)
    return batched, axes, examples


def with_inputs(spec, args, inputs):
    """args with the mappable positions replaced by `inputs` (tensors)."""
    it = iter(inputs)
    return [next(it) if k in mappable(spec, args) else a for k, a in enumerate(args)]


def as_input(a):
    return ad.tensor(a) if a.dtype.kind == "f" else ad.Tensor(a)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_vmap_matches_a_loop(name, dtype, data):
    """The batching rule: vmap of the primitive equals a Python loop over the examples, for any
    mapped axis, some inputs shared (in_axes None), results stacked along any axis."""
    spec = SPECS[name]
    args = spec.draw(data, dtype)
    size = data.draw(st.integers(1, 3))
    batched, axes, examples = draw_batch(data, spec, args, size)
    call = lambda *inputs: spec.call(*with_inputs(spec, args, inputs))  # noqa: E731
    out_axis = data.draw(st.integers(-1, 0))
    mapped = ad.vmap(call, in_axes=tuple(axes), out_axes=out_axis, axis_size=size)
    out = mapped(*map(as_input, batched))
    loop = [call(*map(as_input, inputs)).numpy() for inputs in zip(*examples)]
    expected = np.stack(loop, axis=out_axis)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out.numpy(), expected, **tol)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_vmap_of_jvp_and_vjp_matches_a_loop(name, data):
    """The JVP and VJP rules run on batches too (vmap of jvp, vmap of grad): masks and signs
    they read from values are read example by example."""
    spec = SPECS[name]
    args = spec.draw(data, np.float64)
    size = data.draw(st.integers(1, 3))
    batched, axes, examples = draw_batch(data, spec, args, size)
    floats = [k for k, a in enumerate(mappable(spec, args)) if args[a].dtype.kind == "f"]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    out_shape = spec.call(*as_tensors(args)).shape
    tangents = [rng.standard_normal((size,) + args[mappable(spec, args)[k]].shape) for k in floats]
    cotangent = rng.standard_normal((size,) + out_shape)

    def derivatives(*inputs_and_directions):
        inputs = list(inputs_and_directions[:len(axes)])
        ts, u = inputs_and_directions[len(axes):-1], inputs_and_directions[-1]

        def f(*xs):
            for k, x in zip(floats, xs):
                inputs[k] = x
            return spec.call(*with_inputs(spec, args, inputs))
        xs = [inputs[k] for k in floats]
        _, jv = ad.jvp(f, xs, list(ts))
        _, pullback = ad.vjp(f, *xs)
        return (jv,) + tuple(pullback(u))

    mapped = ad.vmap(derivatives, in_axes=tuple(axes) + (0,) * (len(floats) + 1))
    got = mapped(*map(as_input, batched), *map(ad.tensor, tangents), ad.tensor(cotangent))
    for b, inputs in enumerate(zip(*examples)):
        expected = derivatives(*map(as_input, inputs), *(ad.tensor(t[b]) for t in tangents),
                               ad.tensor(cotangent[b]))
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.numpy()[b], e.numpy(), rtol=1e-10, atol=1e-12)
