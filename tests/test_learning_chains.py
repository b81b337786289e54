"""Every learning rule on convolutional and normalised chains (network.py's raw-array chain
through Conv2d, MaxPool2d, Flatten and LayerNorm) and block by block on local losses; activity
perturbation on conv activations; weight-perturbed forward gradients with an exact readout."""
import numpy as np
import pytest

import tinyad as ad
from tinyad import learning, nn
from tinyad.nn import functional as F

from test_learning import flat_grads, run_rule


def cnn(bias=True, seed=0, dtype=np.float64):
    nn.init.seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, bias=bias, dtype=dtype), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(3, 4, 3, stride=2, bias=bias, dtype=dtype),
                          nn.Tanh(), nn.Flatten(), nn.Linear(4 * 1 * 1, 5, bias=bias, dtype=dtype),
                          nn.Sigmoid(), nn.Linear(5, 3, dtype=dtype))
    rng = np.random.default_rng(seed)
    x = ad.tensor(rng.standard_normal((6, 1, 6, 6)).astype(dtype))
    return model, x, rng.integers(0, 3, 6)


@pytest.mark.parametrize("bias", [True, False])
def test_manual_backprop_equals_the_tape_through_conv_and_pool(bias):
    model, x, y = cnn(bias)
    l_bp, g_bp = run_rule(learning.Backprop(), model, x, y)
    l_mb, g_mb = run_rule(learning.ManualBackprop(), model, x, y)
    assert l_mb == pytest.approx(l_bp, rel=1e-10)
    np.testing.assert_allclose(g_mb, g_bp, rtol=1e-9, atol=1e-12)


def test_feedback_rules_train_every_layer_of_a_cnn():
    model, x, y = cnn()
    for rule in (learning.DFA(seed=0), learning.FeedbackAlignment(seed=0)):
        _, g = run_rule(rule, model, x, y)
        assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
        assert np.all(np.isfinite(g)) and np.abs(g).sum() > 0
        again = run_rule(type(rule)(seed=0), model, x, y)[1]     # same seed, same matrices
        np.testing.assert_array_equal(g, again)
    _, g_bp = run_rule(learning.Backprop(), model, x, y)
    out = slice(len(g_bp) - 5 * 3 - 3, None)                     # the readout: exact for both
    np.testing.assert_allclose(run_rule(learning.DFA(seed=0), model, x, y)[1][out], g_bp[out],
                               rtol=1e-9)


def test_activity_perturbation_is_unbiased_on_conv_activations():
    model, x, y = cnn()
    _, true = run_rule(learning.Backprop(), model, x, y)
    rule = learning.ForwardGradient(perturb="activities", seed=0)
    mean = np.mean([run_rule(rule, model, x, y)[1] for _ in range(800)], axis=0)
    assert learning.cosine(mean, true) > 0.95
    first = slice(0, 3 * 9)                                      # the first conv's weight
    assert learning.cosine(mean[first], true[first]) > 0.8


def test_deep_linear_network_without_bias():
    """Seed 002's network: MLP(identity activation, no bias); manual backprop = the tape."""
    nn.init.seed(0)
    model = nn.MLP([16, 4, 3], activation="identity", bias=False)
    assert [name for name, _ in model.named_parameters()] == ["layers.0.weight",
                                                              "layers.1.weight"]
    x = ad.randn(5, 16, seed=1)
    y = np.array([0, 1, 2, 0, 1])
    _, g_bp = run_rule(learning.Backprop(), model, x, y)
    for rule in (learning.ManualBackprop(), learning.DFA(seed=0), learning.FeedbackAlignment(0),
                 learning.ForwardGradient(perturb="activities", seed=0)):
        _, g = run_rule(rule, model, x, y)
        assert g.shape == g_bp.shape
    np.testing.assert_allclose(run_rule(learning.ManualBackprop(), model, x, y)[1], g_bp,
                               rtol=1e-5, atol=1e-7)


def test_exact_readout_gives_the_readout_its_true_gradient():
    nn.init.seed(0)
    model = nn.MLP([6, 5, 3], activation="tanh", dtype=np.float64)
    x = ad.tensor(np.random.default_rng(0).standard_normal((8, 6)))
    y = np.arange(8) % 3
    _, true = run_rule(learning.Backprop(), model, x, y)
    rule = learning.ForwardGradient(exact_readout=True, seed=0)
    assert rule.name == "fg-readout"
    body = slice(0, 6 * 5 + 5)
    draws = [run_rule(rule, model, x, y)[1] for _ in range(1500)]
    for g in draws[:3]:
        np.testing.assert_allclose(g[body.stop:], true[body.stop:], rtol=1e-10)
    assert learning.cosine(np.mean(draws, axis=0)[body], true[body]) > 0.95
    loss, d = rule.directional_derivative(model, F.cross_entropy, x, y,
                                          tangents=[np.zeros((5, 6)), np.zeros(5)])
    assert d == 0 and loss > 0
    with pytest.raises(ValueError, match="exact_readout is for perturb='weights'"):
        learning.ForwardGradient(perturb="activities", exact_readout=True)
    with pytest.raises(TypeError, match="last layer must be an nn.Linear"):
        learning.ForwardGradient(exact_readout=True).backward(
            nn.Sequential(nn.Linear(6, 3), nn.ReLU()), F.cross_entropy, x, y)


def test_unsupported_layers_are_named():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2, stride=1), nn.Flatten(),
                          nn.Linear(2 * 3 * 3, 3))
    x, y = ad.randn(2, 1, 6, 6, seed=0), np.array([0, 1])
    with pytest.raises(TypeError, match="DFA: MaxPool2d with a stride other than its kernel"):
        learning.DFA().backward(model, F.cross_entropy, x, y)
    with pytest.raises(TypeError, match="activation must directly follow"):
        learning.FeedbackAlignment().backward(
            nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(2 * 2 * 2, 3)), F.cross_entropy, x, y)


def test_manual_backprop_through_nn_layer_norm():
    """network.py's raw-array LayerNorm stage (its gain and bias updated on the way back)
    against the tape through nn.LayerNorm."""
    nn.init.seed(0)
    model = nn.Sequential(nn.LayerNorm(6), nn.Linear(6, 5), nn.ReLU(), nn.LayerNorm(5),
                          nn.Linear(5, 3))
    model.load_state_dict({k: v + 0.1 * np.arange(v.size).reshape(v.shape)
                           for k, v in model.state_dict().items()})      # gains and biases != 1, 0
    x = ad.tensor(np.random.default_rng(0).standard_normal((7, 6)), dtype="float32")
    y = np.arange(7) % 3
    _, g_bp = run_rule(learning.Backprop(), model, x, y)
    _, g_mb = run_rule(learning.ManualBackprop(), model, x, y)
    np.testing.assert_allclose(g_mb, g_bp, rtol=1e-4, atol=1e-5)
    assert flat_grads(model).shape == g_bp.shape


def local_problem(norm):
    nn.init.seed(0)
    model = learning.LocalNet([6, 5, 4], classes=3, norm=norm)
    x = ad.randn(7, 6, seed=0)
    return model, x, np.arange(7) % 3


def check_local_losses(norm):
    """Each block and its head get the gradient of their own loss; nothing crosses a block."""
    model, x, y = local_problem(norm)
    model.zero_grad()
    for i, (block, head) in enumerate(zip(model.blocks, model.heads)):
        F.cross_entropy(head(block(x)), y).backward()
        x = block(x).detach()
    expected = flat_grads(model)
    model2, x2, _ = local_problem(norm)
    for rule in (learning.Backprop(), learning.ManualBackprop()):
        _, got = run_rule(learning.LocalLosses(rule), model2, x2, y)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    for rule in (learning.DFA(seed=0), learning.ForwardGradient(perturb="activities", seed=0),
                 learning.ForwardGradient(exact_readout=True, seed=0)):
        local = learning.LocalLosses(rule)
        assert local.name == f"local-{rule.name}"
        loss, g = run_rule(local, model2, x2, y)
        assert g.shape == expected.shape and np.isfinite(loss)
    with pytest.raises(TypeError, match="wrap the rule in LocalLosses"):
        learning.DFA().backward(model2, F.cross_entropy, x2, y)


def test_local_losses_without_layer_norm():
    check_local_losses(norm=False)


def test_local_losses_with_layer_norm():
    model = learning.LocalNet([6, 5, 4], classes=3)
    assert all(isinstance(block[0], nn.LayerNorm) for block in model.blocks)   # the default
    check_local_losses(norm=True)


def test_layer_norm_over_more_than_the_last_axis_is_refused():
    model = nn.Sequential(nn.Flatten(), nn.LayerNorm((2, 3)), nn.Linear(6, 3))
    with pytest.raises(TypeError, match="DFA: LayerNorm is supported over the last axis only"):
        learning.DFA().backward(model, F.cross_entropy, ad.randn(4, 6, seed=0), [0, 1, 2, 0])


@pytest.mark.parametrize("options", [{"exact_readout": True}, {"perturb": "activities"}],
                         ids=["weights-exact-readout", "activities-cnn"])
def test_tangents_in_one_vmapped_pass_give_the_estimate_of_separate_passes(options):
    """batched=True (K directions in one vmapped pass) and batched=False (K passes) draw the
    same directions: the same update, with the exact readout and on conv activations too."""
    grads = []
    for batched in (True, False):
        model, x, y = cnn()
        rule = learning.ForwardGradient(tangents=3, seed=0, batched=batched, **options)
        grads.append(run_rule(rule, model, x, y)[1])
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-12)
    assert np.abs(grads[0]).sum() > 0


def test_dfa_and_activity_perturbation_train_a_layer_norm_from_the_layers_own_signal():
    """A LayerNorm before layer i learns from delta_i sent back through W_i: with W_i's own
    delta given by backprop (the last layer: the exact output error e), its gradient is exact."""
    nn.init.seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.LayerNorm(5), nn.Linear(5, 3))
    x, y = ad.randn(7, 6, seed=0), np.arange(7) % 3
    _, exact = run_rule(learning.Backprop(), model, x, y)
    norm = slice(6 * 5 + 5, 6 * 5 + 5 + 10)                  # the LayerNorm's gain and bias
    for rule in (learning.DFA(seed=0), learning.ForwardGradient(perturb="activities", seed=0)):
        _, g = run_rule(rule, model, x, y)
        np.testing.assert_allclose(g[norm], exact[norm], rtol=1e-5, atol=1e-7)


def test_manual_backprop_through_a_dilated_grouped_conv_and_what_is_refused():
    nn.init.seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=2, dilation=2, groups=2, dtype=np.float64),
                          nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3, dtype=np.float64))
    x, y = ad.tensor(np.random.default_rng(0).standard_normal((3, 2, 6, 6))), np.array([0, 1, 2])
    _, g_bp = run_rule(learning.Backprop(), model, x, y)
    _, g_mb = run_rule(learning.ManualBackprop(), model, x, y)
    np.testing.assert_allclose(g_mb, g_bp, rtol=1e-9, atol=1e-12)
    x = ad.randn(2, 1, 4, 4, seed=0)
    for layers, message in (([nn.Conv2d(1, 2, 3, padding="same")], "numeric zero padding"),
                            ([nn.MaxPool2d(2, padding=1)], "MaxPool2d with padding")):
        model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(8, 3))   # refused before it runs
        with pytest.raises(TypeError, match=f"DFA: .*{message}"):
            learning.DFA().backward(model, F.cross_entropy, x, np.array([0, 2]))
