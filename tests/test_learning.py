"""Learning rules: exactness, unbiasedness, variance, and that the alternatives learn."""
import time

import numpy as np
import pytest

import tinyad as ad
from tinyad import learning, nn, optim
from tinyad.nn import functional as F


def small_problem(sizes=(6, 5, 3), activation="tanh", n=16, seed=0, dtype=np.float32):
    nn.init.seed(seed)
    model = nn.MLP(list(sizes), activation=activation)
    rng = np.random.default_rng(seed)
    x = ad.tensor(rng.standard_normal((n, sizes[0])).astype(dtype))
    y = rng.integers(0, sizes[-1], n)
    return model, x, y


def flat_grads(model):
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()]).astype(np.float64)


def run_rule(rule, model, x, y, loss_fn=F.cross_entropy):
    model.zero_grad()
    loss = rule.backward(model, loss_fn, x, y)
    return loss, flat_grads(model)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("sizes", [(6, 3), (6, 5, 3), (6, 7, 5, 4, 3)])
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_manual_backprop_equals_the_tape(activation, sizes, loss):
    model, x, y = small_problem(sizes, activation)
    if loss == "ce":
        loss_fn, target = F.cross_entropy, y
    else:
        loss_fn = F.mse_loss
        target = ad.tensor(np.random.default_rng(1).standard_normal((len(y), sizes[-1])),
                           dtype="float32")
    l_bp, g_bp = run_rule(learning.Backprop(), model, x, target, loss_fn)
    l_mb, g_mb = run_rule(learning.ManualBackprop(), model, x, target, loss_fn)
    assert l_mb == pytest.approx(l_bp, rel=1e-5)
    np.testing.assert_allclose(g_mb, g_bp, rtol=1e-5, atol=1e-5 * np.abs(g_bp).max())
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_forward_gradient_is_unbiased_and_has_the_predicted_second_moment():
    """mean of 20,000 draws ≈ ∇f (cosine > 0.99); E||g||² = (n + 2) ||∇f||² for normal v."""
    model, x, y = small_problem((3, 4, 2), "tanh", n=8, dtype=np.float64)
    _, true = run_rule(learning.Backprop(), model, x, y)
    rule = learning.ForwardGradient(seed=0)
    draws = 20_000
    total, squares = np.zeros_like(true), 0.0
    for _ in range(draws):
        _, g = run_rule(rule, model, x, y)
        total += g
        squares += g @ g
    mean = total / draws
    assert learning.cosine(mean, true) > 0.99
    n = true.size
    assert squares / draws == pytest.approx((n + 2) * (true @ true), rel=0.05)


def test_mean_alignment_approaches_one():
    model, x, y = small_problem((3, 4, 2), "tanh", n=8, dtype=np.float64)
    rule = learning.ForwardGradient(distribution="rademacher", seed=1)
    one = learning.alignment(rule, model, F.cross_entropy, x, y)
    many = learning.alignment(rule, model, F.cross_entropy, x, y, draws=2000)
    assert np.mean(list(many.values())) > 0.9 > np.mean(list(one.values()))
    assert all(p.grad is None for p in model.parameters())      # .grad left as it was


def test_activity_perturbation_has_lower_variance_on_the_same_layer():
    """Weight perturbation draws 64·32 + ... ≈ 2,200 numbers; activity perturbation 4 examples ×
    (32 + 3) units = 140: the first layer's estimate is far less noisy."""
    model, x, y = small_problem((64, 32, 3), "relu", n=4, dtype=np.float64)
    _, true = run_rule(learning.Backprop(), model, x, y)
    layer = slice(0, 64 * 32)                                    # the first weight matrix
    errors = {}
    for perturb in ("weights", "activities"):
        rule = learning.ForwardGradient(perturb=perturb, seed=2)
        errs = [np.sum((run_rule(rule, model, x, y)[1][layer] - true[layer]) ** 2)
                for _ in range(300)]
        errors[perturb] = np.mean(errs)
    assert errors["activities"] < errors["weights"] / 3


@pytest.mark.parametrize("perturb", ["weights", "activities"])
@pytest.mark.parametrize("distribution", ["normal", "rademacher"])
def test_k_tangents_in_one_batched_pass_equal_k_passes(perturb, distribution):
    """tangents=K, vmapped over the K directions (all in one pass by default here, or 2 per pass),
    draws the same directions as K passes and averages the same K estimates."""
    model, x, y = small_problem((6, 5, 4, 3), "relu", n=8, dtype=np.float64)
    k = 5
    rules = [learning.ForwardGradient(k, distribution, perturb, seed=5, batched=b)
             for b in (False, None, 2)]
    assert [r.per_pass(model, x) for r in rules] == [1, 5, 2]
    for _ in range(2):                     # the generators stay in step
        (l1, g1), *others = [run_rule(rule, model, x, y) for rule in rules]
        for l2, g2 in others:
            assert l1 == pytest.approx(l2, rel=1e-6)           # float32 parameters
            np.testing.assert_allclose(g2, g1, rtol=1e-5, atol=1e-7)


def test_activity_perturbation_is_unbiased():
    model, x, y = small_problem((5, 6, 3), "tanh", n=4, dtype=np.float64)
    _, true = run_rule(learning.Backprop(), model, x, y)
    rule = learning.ForwardGradient(perturb="activities", seed=3)
    mean = np.mean([run_rule(rule, model, x, y)[1] for _ in range(4000)], axis=0)
    assert learning.cosine(mean, true) > 0.98


def blobs(n=600, seed=0):
    """Four Gaussian clusters in 10-D: an easy task that chance gets 25% of."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((4, 10)) * 2
    y = rng.integers(0, 4, n)
    return (centers[y] + rng.standard_normal((n, 10))).astype(np.float32), y


@pytest.mark.parametrize("rule", [learning.DFA(seed=0), learning.FeedbackAlignment(seed=0)],
                         ids=["dfa", "fa"])
def test_feedback_rules_learn(rule):
    x, y = blobs()
    nn.init.seed(0)
    model = nn.MLP([10, 32, 32, 4])
    opt = optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    for epoch in range(15):
        for i in range(0, 400, 32):
            opt.zero_grad()
            rule.backward(model, F.cross_entropy, ad.tensor(x[i:i + 32]), y[i:i + 32])
            opt.step()
    with ad.no_grad():
        acc = (model(ad.tensor(x[400:])).numpy().argmax(1) == y[400:]).mean()
    assert acc > 0.85 and time.perf_counter() - start < 20


def test_forward_gradient_works_on_a_cnn():
    nn.init.seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(2 * 4 * 4, 3))
    x = ad.randn(4, 1, 8, 8, seed=0)
    y = np.array([0, 1, 2, 1])
    _, true = run_rule(learning.Backprop(), model, x, y)
    rule = learning.ForwardGradient(seed=0)
    mean = np.mean([run_rule(rule, model, x, y)[1] for _ in range(300)], axis=0)
    assert learning.cosine(mean, true) > 0.5
    with pytest.raises(TypeError, match="DFA: supports MLPs.*Conv2d"):
        learning.DFA().backward(model, F.cross_entropy, x, y)


def test_bad_options():
    with pytest.raises(ValueError, match="rademacher"):
        learning.ForwardGradient(distribution="uniform")
    with pytest.raises(ValueError, match="perturb"):
        learning.ForwardGradient(perturb="biases")
    with pytest.raises(ValueError, match="batched"):
        learning.ForwardGradient(4, batched=0)
