"""ad.nn: registration, state dicts, layers against NumPy references, and every module's
derivatives by gradcheck (reverse and forward mode against finite differences)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyad as ad
from tinyad import nn
from tinyad.nn import functional as F

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(ad.ones(3))
        self.inner = nn.Linear(3, 2)
        self.note = "not registered"
        self.buffer = ad.zeros(3)                      # a plain tensor is just an attribute

    def forward(self, x):
        return self.inner(x * self.scale)


# ---- registration and the module tree ----------------------------------------------------------
def test_parameters_and_modules_register_in_order_with_dotted_names():
    model = nn.Sequential(Block(), nn.ReLU(), nn.Linear(2, 4))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.scale", "0.inner.weight", "0.inner.bias", "2.weight", "2.bias"]
    assert [type(m).__name__ for m in model.modules()] == \
        ["Sequential", "Block", "Linear", "ReLU", "Linear"]
    assert [type(m).__name__ for m in model.children()] == ["Block", "ReLU", "Linear"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert [n for n, _ in model[0].named_parameters(recurse=False)] == ["scale"]
    assert nn.MLP([4, 3, 2]).state_dict().keys() == \
        {"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"}


def test_a_shared_parameter_is_listed_once():
    lin = nn.Linear(2, 2)
    model = nn.Sequential(lin, nn.Tanh(), lin)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_assignment_rules():
    b = Block()
    with pytest.raises(TypeError, match="parameter 'scale'.*nn.Parameter"):
        b.scale = ad.ones(3)
    b.scale = None                                     # unregisters, like PyTorch
    assert b.scale is None and "scale" not in dict(b.named_parameters())
    del b.inner
    assert [n for n, _ in b.named_parameters()] == []

    class Forgot(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ad.ones(1))
    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Forgot()
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        Block().missing


def test_sequential_indexing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and list(seq)[1] is seq[1]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2 and tail[1] is seq[2]
    with pytest.raises(TypeError, match="argument 0 is a int"):
        nn.Sequential(3)


def test_train_eval_and_zero_grad():
    model = nn.MLP([3, 4, 2])
    assert model.eval() is model and not any(m.training for m in model.modules())
    assert all(m.training for m in model.train().modules())
    F.cross_entropy(model(ad.randn(5, 3, seed=0)), [0, 1, 0, 1, 1]).backward()
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) and p.grad.shape == p.shape for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_repr_reads_like_pytorch():
    text = repr(nn.MLP([4, 3, 2], activation="tanh"))
    assert "(layers): Sequential(" in text and "(0): Linear(in_features=4, out_features=3" in text
    assert "(1): Tanh()" in text


# ---- state dicts and devices ---------------------------------------------------------------------
def test_state_dict_is_a_copy_and_loads_in_place():
    a, b = nn.MLP([3, 4, 2]), nn.MLP([3, 4, 2])
    sd = a.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["layers.0.weight"][...] = 7                     # editing the copy leaves the model alone
    assert not np.any(a.layers[0].weight.numpy() == 7)
    weight = b.layers[0].weight
    assert b.load_state_dict(a.state_dict()) == ([], [])
    assert b.layers[0].weight is weight               # same Parameter object (optimizers keep it)
    x = ad.randn(2, 3, seed=1)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_load_state_dict_errors_name_the_parameter_and_change_nothing():
    model = nn.MLP([3, 4, 2])
    before = model.state_dict()
    bad = dict(before)
    bad["layers.0.bias"] = np.zeros(4, np.float32) + 5
    bad["layers.2.weight"] = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="'layers.2.weight' has shape \\(2, 4\\).*\\(3, 4\\)"):
        model.load_state_dict(bad)
    bad["layers.2.weight"] = before["layers.2.weight"].astype(np.str_)   # float64 now casts (#11)
    with pytest.raises(TypeError, match="'layers.2.weight' has dtype float32.*<U"):
        model.load_state_dict(bad)
    for name, value in model.state_dict().items():       # layers.0.bias was not written
        np.testing.assert_array_equal(value, before[name])
    partial = {k: v for k, v in before.items() if k != "layers.2.bias"}
    partial["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match="missing keys \\['layers.2.bias'\\].*unexpected keys "
                                       "\\['extra'\\]"):
        model.load_state_dict(partial)
    assert model.load_state_dict(partial, strict=False) == (["layers.2.bias"], ["extra"])


def test_to_keeps_the_parameters_and_casts():
    model = nn.MLP([3, 4, 2])
    params = list(model.parameters())
    assert model.to("cpu") is model and list(model.parameters()) == params
    model.to(dtype=np.float64)
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model(ad.randn(2, 3, seed=0, dtype=np.float64, device="cpu")).dtype == np.float64


@pytest.mark.gpu
def test_to_cuda_moves_the_arrays():
    model = nn.MLP([3, 4, 2]).to("cuda")
    assert all(p.device == "cuda" for p in model.parameters())
    out = model(ad.randn(2, 3, seed=0, device="cuda"))
    F.cross_entropy(out, np.array([0, 1])).backward()
    assert model.layers[0].weight.grad.device == "cuda"
    assert isinstance(model.state_dict()["layers.0.weight"], np.ndarray)


# ---- initialisation --------------------------------------------------------------------------
def test_seeded_construction_is_reproducible_and_generators_are_independent():
    nn.init.seed(3)
    a = nn.MLP([5, 4, 2]).state_dict()
    nn.init.seed(3)
    state = nn.init.get_rng_state()
    b = nn.MLP([5, 4, 2]).state_dict()
    c = nn.MLP([5, 4, 2]).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(b["layers.0.weight"], c["layers.0.weight"])
    nn.init.set_rng_state(state)
    assert np.array_equal(nn.MLP([5, 4, 2]).state_dict()["layers.0.weight"], a["layers.0.weight"])
    w1, w2 = ad.zeros(3, 3), ad.zeros(3, 3, dtype=np.float64)
    nn.init.normal_(w1, generator=np.random.default_rng(1))
    nn.init.normal_(w2, generator=np.random.default_rng(1))
    assert w1.dtype == np.float32 and np.array_equal(w1.numpy(), w2.numpy().astype(np.float32))


def test_pytorch_default_init_bounds():
    lin = nn.Linear(50, 40)
    conv = nn.Conv2d(3, 8, (3, 5))
    for layer, fan_in in ((lin, 50), (conv, 3 * 3 * 5)):
        bound = 1 / math.sqrt(fan_in)
        for p in (layer.weight, layer.bias):
            v = p.numpy()
            assert v.dtype == np.float32 and np.abs(v).max() <= bound
            assert np.abs(v).max() > 0.8 * bound        # it fills the interval
    assert nn.Linear(3, 2, bias=False).bias is None


@pytest.mark.parametrize("fill, std", [
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda t: nn.init.xavier_uniform_(t), math.sqrt(2 / 500)),
    (lambda t: nn.init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / 500)),
    (lambda t: nn.init.uniform_(t, -1, 1), 1 / math.sqrt(3)),
    (lambda t: nn.init.normal_(t, 0.0, 0.5), 0.5),
])
def test_initialisers_have_pytorch_standard_deviations(fill, std):
    w = ad.zeros(300, 200, dtype=np.float64)        # fan_in 200, fan_out 300
    assert fill(w) is w
    assert w.numpy().std() == pytest.approx(std, rel=0.02)


def test_fans_gain_and_zeros():
    assert nn.init.fan_in_and_fan_out(ad.zeros(8, 3, 5, 5)) == (75, 200)
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert np.all(nn.init.zeros_(ad.ones(2, 2)).numpy() == 0)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(ad.zeros(3))


# ---- layers against references ---------------------------------------------------------------
def conv_reference(x, w, b, stride, padding):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", window, w) + b
    return out


def pool_reference(x, k, s):
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    return np.array([[[[x[a, b, i * s:i * s + k, j * s:j * s + k].max() for j in range(ow)]
                       for i in range(oh)] for b in range(c)] for a in range(n)])


def test_linear_computes_x_wt_plus_b():
    lin = nn.Linear(4, 3)
    x = randn(5, 4).astype(np.float32)
    out = lin(ad.tensor(x))
    assert out.shape == (5, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), x @ lin.weight.numpy().T + lin.bias.numpy(), rtol=1e-6)


@given(stride=st.integers(1, 3), padding=st.integers(0, 2), k=st.integers(1, 3),
       h=st.integers(3, 7), w=st.integers(3, 7))
def test_conv2d_matches_a_loop(stride, padding, k, h, w):
    x, weight, bias = randn(2, 3, h, w), randn(4, 3, k, k), randn(4)
    out = F.conv2d(ad.tensor(x), ad.tensor(weight), ad.tensor(bias), stride, padding)
    np.testing.assert_allclose(out.numpy(), conv_reference(x, weight, bias, stride, padding),
                               rtol=1e-10, atol=1e-10)


@given(k=st.integers(1, 3), s=st.integers(1, 3), h=st.integers(3, 7), w=st.integers(3, 7))
def test_max_pool2d_matches_a_loop(k, s, h, w):
    x = randn(2, 3, h, w)
    np.testing.assert_array_equal(nn.MaxPool2d(k, s)(ad.tensor(x)).numpy(), pool_reference(x, k, s))


def test_conv_and_pool_shapes_and_errors():
    conv = nn.Conv2d(1, 2, 3, stride=2, padding=1)
    assert conv(ad.randn(4, 1, 9, 8, seed=0)).shape == (4, 2, 5, 4)
    assert nn.MaxPool2d(2)(ad.randn(1, 2, 5, 5, seed=0)).shape == (1, 2, 2, 2)
    assert nn.Flatten()(ad.randn(2, 3, 4, 5, seed=0)).shape == (2, 60)
    with pytest.raises(ValueError, match="agree on C"):
        conv(ad.randn(4, 3, 9, 9, seed=0))
    with pytest.raises(ValueError, match="does not fit"):
        nn.MaxPool2d(4)(ad.randn(1, 1, 3, 3, seed=0))


def test_mlp_structure_and_activations():
    model = nn.MLP([6, 5, 4, 3], activation="sigmoid")
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    assert [m.weight.shape for m in model.layers[0::2]] == [(5, 6), (4, 5), (3, 4)]
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.MLP([2, 2], activation="gelu")


# ---- gradients -----------------------------------------------------------------------------
def check_module(module, x):
    """gradcheck with respect to the input and every parameter (float64 copies)."""
    names = [n for n, _ in module.named_parameters()]
    values = [p.numpy().astype(np.float64) for _, p in module.named_parameters()]

    def f(x, *params):
        return nn.functional_call(module, dict(zip(names, params)), x)
    assert ad.gradcheck(f, x, *values)


def test_gradcheck_linear():
    check_module(nn.Linear(3, 2), randn(4, 3))


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (1, 2)])
def test_gradcheck_conv2d(stride, padding):
    check_module(nn.Conv2d(2, 3, 3, stride=stride, padding=padding), randn(2, 2, 5, 4))


@pytest.mark.parametrize("k, s", [(2, None), (3, 1), (2, 3)])
def test_gradcheck_max_pool2d(k, s):
    check_module(nn.MaxPool2d(k, s), randn(2, 2, 5, 6))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_gradcheck_mlp(activation):
    check_module(nn.MLP([3, 4, 2], activation=activation), randn(3, 3))


def test_gradcheck_losses_and_softmax():
    labels = np.array([0, 2, 1, 2])
    for reduction in ("mean", "sum", "none"):
        assert ad.gradcheck(lambda z: F.cross_entropy(z, labels, reduction=reduction), randn(4, 3))
    assert ad.gradcheck(lambda p, t: F.mse_loss(p, t), randn(3, 2), randn(3, 2))
    assert ad.gradcheck(lambda z: F.log_softmax(z, dim=1), randn(2, 3))
    assert ad.gradcheck(lambda z: F.softmax(z, dim=0), randn(3, 2))
    assert ad.gradcheck(lambda z: F.cross_entropy(z, labels), randn(4, 3), order=2)
    assert ad.gradcheck(lambda z: ad.logsumexp(z, axis=0), randn(3, 2), order=2)


def test_fused_cross_entropy_equals_the_composed_loss():
    """The mean loss is one primitive; it must agree with -log_softmax indexed and averaged, in
    value, gradient and forward mode, and stay finite for huge logits (as logsumexp does)."""
    z = randn(5, 4) * 30
    labels = np.array([3, 0, 1, 1, 2])
    picked = lambda t: -ad.mean(F.log_softmax(t, dim=1)[np.arange(5), labels])  # noqa: E731
    fused = lambda t: F.cross_entropy(t, labels)                                 # noqa: E731
    assert fused(ad.tensor(z)).shape == ()
    np.testing.assert_allclose(fused(ad.tensor(z)).item(), picked(ad.tensor(z)).item(), rtol=1e-12)
    np.testing.assert_allclose(ad.grad(fused)(ad.tensor(z)).numpy(),
                               ad.grad(picked)(ad.tensor(z)).numpy(), rtol=1e-10, atol=1e-14)
    v = randn(5, 4)
    np.testing.assert_allclose(ad.jvp(fused, (z,), (v,))[1].item(),
                               ad.jvp(picked, (z,), (v,))[1].item(), rtol=1e-10)
    big = ad.tensor(np.array([[1e4, -1e4, 0.0]]))
    assert np.isfinite(F.cross_entropy(big, np.array([1])).item())
    np.testing.assert_allclose(ad.logsumexp(big, axis=1).numpy(), [1e4])


def test_conv2d_forward_mode_matches_finite_differences():
    """ad.jvp through the module (input and weights perturbed at once) against
    (f(x + h v) - f(x - h v)) / 2h."""
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=np.float64)
    x, v_x = randn(2, 2, 6, 5), randn(2, 2, 6, 5)
    w, v_w = conv.weight.numpy(), randn(*conv.weight.shape)

    def f(x, w):
        return nn.functional_call(conv, {"weight": w}, x)
    _, jv = ad.jvp(f, (x, w), (v_x, v_w))
    h = 1e-6
    with ad.no_grad():
        numeric = (f(ad.tensor(x + h * v_x), ad.tensor(w + h * v_w)).numpy()
                   - f(ad.tensor(x - h * v_x), ad.tensor(w - h * v_w)).numpy()) / (2 * h)
    np.testing.assert_allclose(jv.numpy(), numeric, rtol=1e-6, atol=1e-8)


# ---- functional_call -------------------------------------------------------------------------
def test_functional_call_substitutes_and_restores_even_on_errors():
    lin = nn.Linear(2, 2)
    weight = lin.weight
    w = ad.tensor(np.eye(2, dtype=np.float32))
    x = ad.tensor([[1.0, 2.0]])
    out = nn.functional_call(lin, {"weight": w}, (x,))
    np.testing.assert_allclose(out.numpy(), x.numpy() + lin.bias.numpy())
    assert lin.weight is weight
    with pytest.raises(ValueError):
        nn.functional_call(lin, {"weight": ad.zeros(2, 5)}, x)
    assert lin.weight is weight and dict(lin.named_parameters())["weight"] is weight
    with pytest.raises(KeyError, match="no parameter named \\['weights'\\]"):
        nn.functional_call(lin, {"weights": w}, x)


def test_functional_call_with_dual_weights_gives_the_directional_derivative():
    model = nn.MLP([3, 4, 2], activation="tanh", dtype=np.float64)
    x, y = randn(5, 3), np.array([0, 1, 1, 0, 1])
    names, params = zip(*model.named_parameters())
    vs = [randn(*p.shape) for p in params]

    def loss(*ps):
        return F.cross_entropy(nn.functional_call(model, dict(zip(names, ps)), ad.tensor(x)), y)
    _, d = ad.jvp(loss, [p.detach() for p in params], vs)
    F.cross_entropy(model(ad.tensor(x)), y).backward()
    expected = sum(np.sum(p.grad.numpy() * v) for p, v in zip(params, vs))
    assert d.item() == pytest.approx(expected, rel=1e-10)


# ---- losses ----------------------------------------------------------------------------------
def test_cross_entropy_is_stable_and_matches_the_definition():
    z = np.array([[1e4, 0.0, -1e4], [3.0, 1.0, 0.5]])
    y = np.array([1, 0])
    loss = F.cross_entropy(ad.tensor(z), ad.tensor(y), reduction="none").numpy()
    assert np.all(np.isfinite(loss)) and loss[0] == pytest.approx(1e4)
    p = np.exp(z[1]) / np.exp(z[1]).sum()
    assert loss[1] == pytest.approx(-np.log(p[0]))
    assert F.cross_entropy(ad.tensor(z), y).item() == pytest.approx(loss.mean())
    assert F.cross_entropy(ad.tensor(z), list(y), reduction="sum").item() == pytest.approx(loss.sum())


def test_loss_errors():
    z = ad.randn(3, 4, seed=0)
    with pytest.raises(IndexError, match="\\[0, 4\\)"):
        F.cross_entropy(z, [0, 4, 1])
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="shape \\(3,\\)"):
        F.cross_entropy(z, [0, 1])
    with pytest.raises(ValueError, match="reduction must be"):
        F.cross_entropy(z, [0, 1, 2], reduction="avg")
    with pytest.warns(UserWarning, match=r"target size \(3,\) that is different to the input "
                                         r"size \(3, 1\)"):      # PyTorch's broadcast, warned
        loss = F.mse_loss(ad.tensor([[1.0], [2.0], [3.0]]), ad.tensor([1.0, 2.0, 3.0]))
    assert loss.item() == pytest.approx(12 / 9)           # (i - j)² over the 3 x 3 pairs
    with pytest.raises(ValueError, match=r"\(3, 2\) and target shape \(3,\) do not broadcast"):
        with pytest.warns(UserWarning):
            F.mse_loss(ad.zeros(3, 2), ad.zeros(3))
    assert F.mse_loss(ad.tensor([1.0, 3.0]), ad.tensor([0.0, 0.0])).item() == 5.0
