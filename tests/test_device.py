"""Where host and device meet: raw arrays, labels, indices, targets, data, checkpoints and kernels
given on one device and used with tensors on the other.

The rule (CONTRACT.md, Tensors): a raw array or a Python number that meets a tensor is a constant
on that tensor's device; two tensors on different devices are an error naming the operation.
Every test here runs on the session's device (the fake CuPy on CI, the GPU where there is one).
"""
import numpy as np
import pytest

import tinyad as ad
import tinyad.kernels as K
from tinyad import nn
from tinyad.nn import functional as F

pytestmark = pytest.mark.gpu


def on(device, values, **kw):
    return ad.tensor(np.asarray(values, np.float32), device=device, **kw)


def test_a_raw_device_array_is_a_constant_on_the_device_of_the_tensor_it_meets(cp):
    t = on("cuda", [1.0, 2.0], requires_grad=True)
    raw = cp.asarray([3.0, 4.0], dtype=cp.float32)
    for out in (raw * t, t * raw, raw + t, t - raw, raw / t):
        assert out.device == "cuda" and out.dtype == np.float32
    (raw * t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [3.0, 4.0])
    cpu = on("cpu", [1.0, 2.0])
    for out in (raw * cpu, cpu * raw):                    # moved to the CPU tensor's device
        assert out.device == "cpu"
        np.testing.assert_array_equal(out.numpy(), [3.0, 8.0])
    assert (np.array([3.0, 4.0], np.float32) * t).device == "cuda"


def test_tensor_of_a_device_array_stays_on_the_device(cp):
    x = ad.tensor(cp.zeros(2, cp.float64))
    assert x.device == "cuda" and x.dtype == np.float64
    assert ad.tensor(cp.zeros(2), device="cpu").device == "cpu"
    assert ad.tensor(cp.asarray([1, 2]), dtype="float32").dtype == np.float32


def test_minimum_and_maximum_with_a_python_number(device):
    x = on(device, [1.0, -2.0], requires_grad=True)
    lo = ad.minimum(x, 0.0)
    assert lo.device == device and lo.dtype == np.float32
    np.testing.assert_array_equal(lo.numpy(), [0.0, -2.0])
    lo.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])
    assert ad.minimum(0.0, x).device == ad.maximum(0.0, x).device == device


def test_mse_loss_with_a_host_target(device):
    pred = on(device, np.ones((4, 2)), requires_grad=True)
    loss = F.mse_loss(pred, np.zeros((4, 2), np.float32))
    assert loss.device == device and float(loss.item()) == 1.0
    loss.backward()
    assert pred.grad.device == device


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_raw_labels_of_either_device(cp, reduction):
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    labels = np.array([0, 3, 1])
    want = F.cross_entropy(on("cpu", z), labels, reduction=reduction).numpy()
    for device in ("cpu", "cuda"):
        for raw in (labels, cp.asarray(labels), list(labels)):
            got = F.cross_entropy(on(device, z), raw, reduction=reduction)
            assert got.device == device
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_labels_as_a_tensor_on_the_other_device_are_a_device_error(cp):
    with pytest.raises(ad.DeviceError, match=r"cross_entropy.*cuda.*cpu"):
        F.cross_entropy(on("cpu", np.zeros((2, 3))), ad.tensor([0, 1], device="cuda"))
    with pytest.raises(ad.DeviceError, match=r"cross_entropy.*cpu.*cuda"):
        F.cross_entropy(on("cuda", np.zeros((2, 3))), ad.tensor([0, 1], device="cpu"))


def test_index_arrays_of_either_device(cp):
    x = on("cpu", [1.0, 2.0, 3.0], requires_grad=True)
    y = x[cp.asarray([2, 0, 2])]                   # a raw device index on a CPU tensor
    assert y.device == "cpu"
    np.testing.assert_array_equal(y.numpy(), [3.0, 1.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 2.0])
    assert on("cuda", [1.0, 2.0])[np.array([1])].device == "cuda"
    with pytest.raises(ad.DeviceError, match=r"getitem.*cuda.*\(3,\)"):
        x[ad.tensor([0], device="cuda")]


def test_comparisons_and_where_across_devices(cp):
    x = on("cuda", [1.0, -1.0])
    np.testing.assert_array_equal(ad.where(cp.asarray([True, False]), x, 0.0).numpy(), [1.0, 0.0])
    np.testing.assert_array_equal(ad.where(np.array([False, True]), x, 0.0).numpy(), [0.0, -1.0])
    with pytest.raises(ad.DeviceError, match="where"):
        ad.where(ad.tensor([True, False], device="cpu"), x, 0.0)
    with pytest.raises(ad.DeviceError, match="greater"):
        x > on("cpu", [0.0, 0.0])


def test_data_loader_over_device_arrays(cp):
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    host = list(ad.data.DataLoader(x, y, 4, shuffle=True, seed=3))
    dev = list(ad.data.DataLoader(cp.asarray(x), cp.asarray(y), 4, shuffle=True, seed=3))
    assert len(dev) == len(host) == 3
    for (xh, yh), (xd, yd) in zip(host, dev):
        assert isinstance(xd, cp.ndarray) and isinstance(yd, cp.ndarray)
        np.testing.assert_array_equal(cp.asnumpy(xd), xh)
        np.testing.assert_array_equal(cp.asnumpy(yd), yh)


def test_data_loader_moves_host_data_to_a_device_once(cp):
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    loader = ad.data.DataLoader(x, y, 4, device="cuda")
    assert all(isinstance(a, cp.ndarray) for batch in loader for a in batch)
    back = ad.data.DataLoader(cp.asarray(x), cp.asarray(y), 4, device="cpu")
    assert all(isinstance(a, np.ndarray) for batch in back for a in batch)


def test_load_state_dict_with_values_of_either_device(cp):
    nn.init.seed(0)
    state = nn.MLP([3, 4, 2]).state_dict()
    for device in ("cpu", "cuda"):
        model = nn.MLP([3, 4, 2]).to(device)
        model.load_state_dict({k: cp.asarray(v) for k, v in state.items()})
        for (name, p) in model.named_parameters():
            assert p.device == device
            np.testing.assert_array_equal(p.numpy(), state[name])


def test_save_and_load_raw_device_arrays_and_device_state(cp, tmp_path):
    model = nn.MLP([3, 4, 2]).to("cuda")
    opt = ad.optim.Adam(model.parameters())
    F.cross_entropy(model(on("cuda", np.ones((2, 3)))), [0, 1]).backward()
    opt.step()
    ad.save({"x": cp.arange(3.0), "model": model.state_dict(), "optim": opt.state_dict(),
             "w": model.layers[0].weight}, tmp_path / "ckpt.npz")
    back = ad.load(tmp_path / "ckpt.npz")
    np.testing.assert_array_equal(back["x"], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(back["w"], model.layers[0].weight.numpy())
    fresh = nn.MLP([3, 4, 2]).to("cuda")
    fresh_opt = ad.optim.Adam(fresh.parameters())
    fresh.load_state_dict(back["model"])
    fresh_opt.load_state_dict(back["optim"])
    assert all(p.device == "cuda" for p in fresh.parameters())
    assert all(isinstance(v, cp.ndarray) for s in fresh_opt.state.values() for v in s.values()
               if hasattr(v, "shape"))


def test_kernels_take_host_side_arguments(cp):
    rng = np.random.default_rng(0)
    z, labels = rng.standard_normal((5, 4)).astype(np.float32), np.array([0, 3, 1, 1, 2])
    loss, g = K.softmax_xent(cp.asarray(z), labels)
    want_loss, want_g = K.softmax_xent(z, labels)
    np.testing.assert_allclose(cp.asnumpy(g), want_g, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(float(loss), float(want_loss), rtol=1e-5)
    x, t, b = (rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (3, 4), (4,)))
    for name in K.ACTIVATIONS:
        for got, want in [(K.act_jvp(name, cp.asarray(x), t), K.act_jvp(name, x, t)),
                          (K.bias_act(name, cp.asarray(x), b), K.bias_act(name, x, b))]:
            for a, w in zip(got, want):
                assert isinstance(a, cp.ndarray)
                np.testing.assert_allclose(cp.asnumpy(a), w, rtol=1e-5, atol=1e-6)


def test_gradcheck_checks_derivatives_on_the_device(cp):
    seen = set()

    def f(x):
        seen.add(x.device)
        return (x.sin() * x).sum()
    assert ad.gradcheck(f, on("cuda", [0.3, 0.7]), order=2)
    assert seen == {"cuda"}


def test_gradcheck_on_the_device_catches_a_wrong_rule(cp, monkeypatch):
    monkeypatch.setattr(ad.PRIMITIVES["sin"], "vjp", (lambda g, out, x: g * x.cos() * 1.01,))
    with pytest.raises(AssertionError, match="reverse-mode"):
        ad.gradcheck(lambda x: x.sin().sum(), on("cuda", [0.3, 0.7]))


def test_seeds_and_tangents_of_either_device(cp):
    x = on("cpu", [1.0, 2.0], requires_grad=True)
    (x * x).backward(cp.asarray([1.0, 0.5]))               # a raw device seed for a CPU output
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    y = on("cuda", [1.0, 2.0], requires_grad=True)
    (y * y).backward(np.array([1.0, 0.5]))
    assert y.grad.device == "cuda"
    _, t = ad.jvp(lambda v: v * v, (on("cuda", [3.0]),), (np.array([1.0], np.float32),))
    assert t.device == "cuda" and t.item() == 6.0
    with pytest.raises(ad.DeviceError, match=r"dual: .*cpu.*cuda.*\(1,\)"):
        ad.dual(on("cpu", [3.0]), on("cuda", [1.0]))
