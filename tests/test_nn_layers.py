"""ad.nn layers beyond Linear and Conv2d: buffers and train/eval, LayerNorm, BatchNorm1d/2d,
GroupNorm, Dropout, Embedding, Identity, the activation modules and the MLP options, against
NumPy references written from PyTorch's formulas, with gradcheck of each (to second order where
the layer is smooth)."""
import math

import numpy as np
import pytest

import tinyad as ad
from tinyad import learning, nn
from tinyad.nn import functional as F

RNG = np.random.default_rng(3)


def randn(*shape):
    return RNG.standard_normal(shape)


def check_module(module, x, order=1):
    """gradcheck with respect to the input and every parameter (float64 copies)."""
    names = [n for n, _ in module.named_parameters()]
    values = [p.numpy().astype(np.float64) for _, p in module.named_parameters()]

    def f(x, *params):
        return nn.functional_call(module, dict(zip(names, params)), x)
    assert ad.gradcheck(f, x, *values, order=order)


# ---- buffers and train/eval ---------------------------------------------------------------------
class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("total", ad.zeros(2))
        self.register_buffer("scratch", ad.ones(1), persistent=False)
        self.register_buffer("nothing", None)

    def forward(self, x):
        self.total = self.total + x.detach().sum(axis=0)     # assignment replaces the buffer
        return self.lin(x)


def test_buffers_register_save_load_and_move():
    m = nn.Sequential(Counter(), nn.BatchNorm1d(2))
    assert [n for n, _ in m.named_buffers()] == ["0.total", "0.scratch", "1.running_mean",
                                                 "1.running_var", "1.num_batches_tracked"]
    assert list(m.state_dict()) == ["0.lin.weight", "0.lin.bias", "1.weight", "1.bias",
                                    "0.total", "1.running_mean", "1.running_var",
                                    "1.num_batches_tracked"]
    m(ad.tensor([[1.0, 2.0], [3.0, 5.0]]))
    assert m[0].total.numpy().tolist() == [4.0, 7.0] and m[0].nothing is None
    assert m[1].num_batches_tracked.item() == 1
    saved = m.state_dict()
    fresh = nn.Sequential(Counter(), nn.BatchNorm1d(2))
    buffer = fresh[1].running_mean
    fresh.load_state_dict(saved)
    assert fresh[1].running_mean is buffer                  # loaded in place
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, saved[name])
    fresh.to(dtype=np.float64)
    assert fresh[1].running_var.dtype == np.float64 and fresh[0].total.dtype == np.float64
    assert fresh[1].num_batches_tracked.dtype == np.int64  # a counter stays an integer
    with pytest.raises(TypeError, match="buffer 'total' of Counter: a buffer is a Tensor"):
        fresh[0].total = 3.0
    with pytest.raises(ValueError, match=r"buffer '1.running_mean' has shape \(2,\)"):
        fresh.load_state_dict({**saved, "1.running_mean": np.zeros(3)})
    del fresh[0].total
    assert "0.total" not in fresh.state_dict()


def test_train_and_eval_reach_every_sub_module():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(4)))
    assert model.eval() is model and not any(m.training for m in model.modules())
    assert all(m.training for m in model.train().modules())
    model[1].eval()
    assert model.training and not model[1][0].training and not model[1][1].training


# ---- normalization ------------------------------------------------------------------------------
def normalized(x, axes, eps=1e-5):
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def test_layer_norm_matches_the_formula_and_its_options():
    x = randn(2, 3, 4)
    ln = nn.LayerNorm(4, dtype=np.float64)
    ln.weight._data, ln.bias._data = randn(4), randn(4)
    np.testing.assert_allclose(ln(ad.tensor(x)).numpy(),
                               normalized(x, -1) * ln.weight.numpy() + ln.bias.numpy(), rtol=1e-10)
    both = nn.LayerNorm((3, 4), eps=1e-3, elementwise_affine=False)
    assert both.weight is None and list(both.parameters()) == []
    np.testing.assert_allclose(both(ad.tensor(x)).numpy(), normalized(x, (1, 2), 1e-3), rtol=1e-10)
    assert nn.LayerNorm(4, bias=False).bias is None
    with pytest.raises(ValueError, match=r"\(2, 3, 4\) does not end in normalized_shape \(3,\)"):
        nn.LayerNorm(3)(ad.tensor(x))
    check_module(nn.LayerNorm((3, 4), dtype=np.float64), x, order=2)


def test_batch_norm_in_training_normalizes_by_the_batch_and_tracks_unbiased_statistics():
    x = randn(5, 3, 2, 2) * 2 + 1
    bn = nn.BatchNorm2d(3, momentum=0.2)
    y = bn(ad.tensor(x.astype(np.float32)))
    np.testing.assert_allclose(y.numpy(), normalized(x, (0, 2, 3)), rtol=1e-4, atol=1e-5)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)      # n = 20: unbiased
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.2 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.8 + 0.2 * var, rtol=1e-5)
    assert bn.running_mean.dtype == np.float32 and bn.num_batches_tracked.item() == 1
    bn.eval()                                  # a fixed affine map by the running statistics
    want = (x - bn.running_mean.numpy()[:, None, None]) / np.sqrt(
        bn.running_var.numpy()[:, None, None] + 1e-5)
    np.testing.assert_allclose(bn(ad.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)
    assert bn.num_batches_tracked.item() == 1


def test_batch_norm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [randn(4, 2), randn(6, 2) + 3, randn(3, 2) - 1]
    for b in batches:
        bn(ad.tensor(b))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-12)


def test_batch_norm_without_running_statistics_and_its_errors():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert bn.running_mean is None and bn.state_dict() == {} and list(bn.parameters()) == []
    x = randn(4, 3, 5)
    np.testing.assert_allclose(bn.eval()(ad.tensor(x)).numpy(), normalized(x, (0, 2)), rtol=1e-10)
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(N, C, \.\.\.\), "
                                         r"got 4D"):
        nn.BatchNorm1d(3)(ad.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="expected 3 channels on axis 1"):
        nn.BatchNorm1d(3)(ad.zeros(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(ad.zeros(1, 3))


@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_batch_norm(training):
    bn = nn.BatchNorm2d(2, dtype=np.float64)
    bn.weight._data, bn.bias._data = randn(2), randn(2)
    bn.running_mean._data, bn.running_var._data = randn(2), RNG.random(2) + 0.5
    check_module(bn.train(training), randn(3, 2, 2, 3), order=2)
    check_module(nn.BatchNorm1d(3, dtype=np.float64), randn(4, 3))


def test_group_norm_matches_the_formula():
    x = randn(2, 6, 3)
    gn = nn.GroupNorm(3, 6, dtype=np.float64)
    gn.weight._data, gn.bias._data = randn(6), randn(6)
    want = normalized(x.reshape(2, 3, 6), 2).reshape(2, 6, 3) * gn.weight.numpy()[:, None] \
        + gn.bias.numpy()[:, None]
    np.testing.assert_allclose(gn(ad.tensor(x)).numpy(), want, rtol=1e-10)
    check_module(gn, x, order=2)
    with pytest.raises(ValueError, match="num_channels=5 must be divisible by num_groups=2"):
        nn.GroupNorm(2, 5)


# ---- dropout, embedding, identity ---------------------------------------------------------------
def test_dropout_is_seeded_inverted_and_the_identity_in_eval():
    x = ad.ones(100, 100)
    nn.init.seed(1)
    a = nn.Dropout(0.3)(x).numpy()
    nn.init.seed(1)
    b = nn.Dropout(0.3)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.7)}
    assert abs((a == 0).mean() - 0.3) < 0.02
    layer = nn.Dropout(0.3).eval()
    assert layer(x) is x and nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    np.testing.assert_array_equal(nn.Dropout(0.5, generator=4)(x).numpy(),
                                  nn.Dropout(0.5, generator=4)(x).numpy())
    assert ad.gradcheck(lambda x: F.dropout(x, 0.4, generator=np.random.default_rng(0)),
                        randn(3, 4), order=2)
    with pytest.raises(ValueError, match="p must be a probability"):
        nn.Dropout(1.5)


def test_embedding_looks_up_rows_and_padding_gets_no_derivative():
    emb = nn.Embedding(5, 3, padding_idx=-1, dtype=np.float64)
    assert emb.padding_idx == 4 and np.all(emb.weight.numpy()[4] == 0)
    idx = np.array([[0, 4, 2], [2, 2, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[idx])
    (out * ad.tensor(randn(2, 3, 3))).sum().backward()
    grad = emb.weight.grad.numpy()
    assert np.all(grad[4] == 0) and np.all(grad[3] == 0) and np.any(grad[2] != 0)
    v = randn(5, 3)
    _, jv = ad.jvp(lambda w: nn.functional_call(emb, {"weight": w}, idx), (emb.weight.detach(),),
                   (v,))
    np.testing.assert_array_equal(jv.numpy(), np.where((idx == 4)[..., None], 0, v[idx]))
    assert ad.gradcheck(lambda w: F.embedding(idx, w), randn(5, 3), order=2)
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 5\), got values from 0 to 5"):
        emb([0, 5])
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(np.array([0.0, 1.0]))
    frozen = nn.Embedding.from_pretrained(np.eye(3))
    assert not frozen.weight.requires_grad and frozen([2]).numpy().tolist() == [[0, 0, 1]]
    assert nn.Identity(7, unused=True)(out) is out


# ---- activations ------------------------------------------------------------------------------
def softplus_reference(x, beta=1.0, threshold=20.0):
    soft = np.log1p(np.exp(np.minimum(beta * x, threshold))) / beta
    return np.where(beta * x > threshold, x, soft)


ACTIVATIONS = [
    (nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                      * (x + 0.044715 * x ** 3)))),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.ELU(1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(np.minimum(x, 0)))),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.Softplus(), softplus_reference),
    (nn.Softplus(beta=2.0, threshold=3.0), lambda x: softplus_reference(x, 2.0, 3.0)),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=0), lambda x: x - np.log(np.exp(x).sum(0, keepdims=True))),
    (nn.ReLU(), lambda x: np.maximum(x, 0)), (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))), (nn.Identity(), lambda x: x)]


@pytest.mark.parametrize("module, reference", ACTIVATIONS, ids=[repr(m) for m, _ in ACTIVATIONS])
def test_activation_modules_match_their_formulas_with_derivatives(module, reference):
    x = randn(4, 5) * 3
    np.testing.assert_allclose(module(ad.tensor(x)).numpy(), reference(x), rtol=1e-12,
                               atol=1e-15)
    x32 = module(ad.tensor(x.astype(np.float32)))
    assert x32.dtype == np.float32
    if not isinstance(module, (nn.ReLU, nn.LeakyReLU)):   # kinks: order 2 needs smoothness
        assert ad.gradcheck(module, x, order=2)
    assert ad.gradcheck(module, x)


def test_activations_stay_finite_and_take_pytorchs_derivative_at_kinks():
    big = ad.tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4]), requires_grad=True)
    for fn in (F.elu, F.softplus, F.silu, F.gelu):
        fn(big).sum().backward()
        assert np.all(np.isfinite(big.grad.numpy())), fn.__name__
        big.grad = None
    zero = ad.tensor([0.0], requires_grad=True)
    F.leaky_relu(zero, 0.1).backward()
    F.elu(zero, 2.0).backward()
    assert zero.grad.item() == pytest.approx(0.1 + 2.0)       # the left branches at 0
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        assert nn.Softmax()(ad.ones(2, 3)).numpy().sum(axis=1) == pytest.approx([1, 1])
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(zero, approximate="erf")


# ---- the MLP options and the hand-written learning rules ----------------------------------------
def test_a_bias_free_linear_mlp_is_a_product_of_weights():
    model = nn.MLP([6, 4, 3], activation=None, bias=False, dtype=np.float64)
    assert [type(m).__name__ for m in model.layers] == ["Linear", "Linear"]
    assert [n for n, _ in model.named_parameters()] == ["layers.0.weight", "layers.1.weight"]
    assert nn.MLP([6, 4, 3], activation="identity").state_dict().keys() == {
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}
    x, y = randn(5, 6), np.array([0, 1, 2, 0, 1])
    w1, w2 = (m.weight.numpy() for m in model.layers)
    np.testing.assert_allclose(model(ad.tensor(x)).numpy(), x @ w1.T @ w2.T, rtol=1e-12)
    learning.Backprop().backward(model, F.cross_entropy, ad.tensor(x), y)
    want = [p.grad.numpy() for p in model.parameters()]
    model.zero_grad()
    learning.ManualBackprop().backward(model, F.cross_entropy, ad.tensor(x), y)
    for p, w in zip(model.parameters(), want):
        np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-10)
    model.zero_grad()
    learning.DFA(seed=0).backward(model, F.cross_entropy, ad.tensor(x), y)
    np.testing.assert_allclose(model.layers[1].weight.grad.numpy(), want[1], rtol=1e-10)


@pytest.mark.parametrize("extra", [nn.Dropout(0.1), nn.GELU(), nn.LayerNorm(4)])
def test_hand_written_rules_refuse_layers_they_would_skip(extra):
    model = nn.Sequential(nn.Linear(3, 4), extra, nn.Linear(4, 2))
    with pytest.raises(TypeError, match=f"found {type(extra).__name__}"):
        learning.DFA(seed=0).backward(model, F.cross_entropy, ad.randn(2, 3, seed=0), [0, 1])
