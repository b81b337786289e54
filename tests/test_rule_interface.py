"""The learning rules' one interface (``update_direction``, alias ``backward``) and the seam that
hands ``ForwardGradient`` its tangents: pre-drawn, drawn by a given generator, or per layer."""
import numpy as np
import pytest

import tinyad as ad
from tinyad import learning, nn
from tinyad.learning import tangents
from tinyad.nn import functional as F


def problem(sizes=(5, 4, 3), n=6, seed=0):
    nn.init.seed(seed)
    model = nn.MLP(list(sizes), activation="tanh", dtype=np.float64)
    rng = np.random.default_rng(seed)
    return model, ad.tensor(rng.standard_normal((n, sizes[0]))), rng.integers(0, sizes[-1], n)


def grads(model):
    return [p.grad.numpy().copy() for p in model.parameters()]


def direction(rule, model, x, y, method="update_direction", **kwargs):
    model.zero_grad()
    loss = getattr(rule, method)(model, F.cross_entropy, x, y, **kwargs)
    return loss, grads(model)


class Spy:
    """A draw_flat that records what it drew (NumPy's generator underneath)."""

    def __init__(self):
        self.draws = []

    def __call__(self, n, distribution, rng, dtype):
        flat = tangents.draw_flat_numpy(n, distribution, rng, dtype)
        self.draws.append(flat.copy())
        return flat


def expected(model, x, y, vs):
    """(∇f·v) v, from the exact gradient."""
    _, true = direction(learning.Backprop(), model, x, y)
    d = sum(float(np.sum(g * v)) for g, v in zip(true, vs))
    return [d * v for v in vs]


@pytest.mark.parametrize("make", [learning.Backprop, learning.ManualBackprop,
                                  lambda: learning.DFA(seed=1),
                                  lambda: learning.FeedbackAlignment(seed=1),
                                  lambda: learning.ForwardGradient(seed=1),
                                  lambda: learning.ForwardGradient(perturb="activities", seed=1)])
def test_backward_is_update_direction_under_its_first_name(make):
    model, x, y = problem()
    loss_a, a = direction(make(), model, x, y, "update_direction")
    loss_b, b = direction(make(), model, x, y, "backward")
    assert isinstance(make(), learning.LearningRule) and loss_a == loss_b
    for ga, gb in zip(a, b):
        np.testing.assert_array_equal(ga, gb)


def test_pre_drawn_tangents_are_used_as_given_and_left_unchanged():
    model, x, y = problem()
    vs = [np.random.default_rng(3).standard_normal(p.shape) for p in model.parameters()]
    kept = [v.copy() for v in vs]
    rule = learning.ForwardGradient(seed=0)
    loss, got = direction(rule, model, x, y, tangents=vs)
    for g, e, v, k in zip(got, expected(model, x, y, vs), vs, kept):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(v, k)
    true_loss = F.cross_entropy(model(x), y).item()
    assert loss == pytest.approx(true_loss, rel=1e-12)
    value, d = rule.directional_derivative(model, F.cross_entropy, x, y, tangents=vs)
    assert value == pytest.approx(true_loss, rel=1e-12)
    assert d * vs[0] == pytest.approx(expected(model, x, y, vs)[0], rel=1e-10)


def test_a_given_generator_draws_the_tangents():
    model, x, y = problem()
    spy = Spy()
    _, got = direction(learning.ForwardGradient(seed=0, draw_flat=spy), model, x, y)
    assert len(spy.draws) == 1 and spy.draws[0].size == sum(p.size for p in model.parameters())
    vs = tangents.draw([p.shape for p in model.parameters()], "normal",
                       np.random.default_rng(0), np.zeros(1), draw_flat=lambda *a: spy.draws[0])
    for g, e in zip(got, expected(model, x, y, vs)):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_per_layer_draws_each_layer_twice_from_its_own_key():
    """Per layer: a draw for each Linear when the pass reaches it, the same draws again for the
    update (ReLU has no parameters and draws nothing); the estimate is (∇f·v) v for that v."""
    model, x, y = problem(sizes=(5, 4, 4, 3))
    spy = Spy()
    rule = learning.ForwardGradient(seed=0, draw_flat=spy, per_layer=True)
    _, got = direction(rule, model, x, y)
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    assert [d.size for d in spy.draws] == [m.weight.size + m.bias.size for m in linears] * 2
    for first, again in zip(spy.draws[:3], spy.draws[3:]):
        np.testing.assert_array_equal(first, again)
    vs = []
    for flat, m in zip(spy.draws, linears):
        vs += [flat[:m.weight.size].reshape(m.weight.shape), flat[m.weight.size:]]
    for g, e in zip(got, expected(model, x, y, vs)):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    first = spy.draws[0]
    spy.draws.clear()
    direction(rule, model, x, y)
    assert not np.array_equal(spy.draws[0], first)                  # a new step, new keys


def test_per_layer_holds_one_layer_of_tangents_at_a_time():
    """The dual-number pass of 8 layers of 256: all tangents at once hold every parameter's
    worth; per layer, the peak stays under a fifth of it."""
    import tracemalloc
    model, x, y = problem(sizes=(64,) + (256,) * 8 + (3,), n=2)
    size = sum(p.data.nbytes for p in model.parameters())
    peaks = {}
    for per_layer in (False, True):
        rule = learning.ForwardGradient(seed=0, per_layer=per_layer)
        tracemalloc.start()
        try:
            rule.directional_derivative(model, F.cross_entropy, x, y)
            peaks[per_layer] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peaks[False] > size and peaks[True] < size / 5


def test_per_layer_needs_a_chain_of_layers_and_weights():
    model, x, y = problem()
    wrapped = nn.Sequential(model)
    direction(learning.ForwardGradient(per_layer=True), wrapped, x, y)     # one block: fine

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(5, 3, dtype=np.float64)

        def forward(self, x):
            return self.inner(x)
    with pytest.raises(TypeError, match="per_layer=True.*nn.Sequential or nn.MLP, got Twice"):
        direction(learning.ForwardGradient(per_layer=True), Twice(), x, y)
    with pytest.raises(ValueError, match="per_layer.*perturb='weights'"):
        learning.ForwardGradient(perturb="activities", per_layer=True)


def test_pre_drawn_tangents_are_checked():
    model, x, y = problem()
    shapes = [p.shape for p in model.parameters()]
    vs = [np.zeros(s) for s in shapes]
    rule = learning.ForwardGradient()
    with pytest.raises(ValueError, match="got 3 pre-drawn tangents, expected 4"):
        rule.update_direction(model, F.cross_entropy, x, y, tangents=vs[:3])
    with pytest.raises(ValueError, match=r"layers.2.weight has shape \(4, 3\), expected \(3, 4\)"):
        rule.update_direction(model, F.cross_entropy, x, y,
                              tangents=vs[:2] + [np.zeros((4, 3))] + vs[3:])
    with pytest.raises(ValueError, match="one estimate.*tangents=2"):
        learning.ForwardGradient(tangents=2).update_direction(model, F.cross_entropy, x, y,
                                                              tangents=vs)
    assert all(p.grad is None for p in model.parameters())


def test_pre_drawn_activity_tangents():
    model, x, y = problem()
    us = [np.random.default_rng(1).standard_normal((len(y), 4))]
    rule = learning.ForwardGradient(perturb="activities")
    _, a = direction(rule, model, x, y, tangents=us)
    _, b = direction(rule, model, x, y, tangents=us)
    _, c = direction(rule, model, x, y, tangents=[2 * us[0]])
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(c[0], 4 * a[0], rtol=1e-12)      # d and u both scale by 2
    np.testing.assert_array_equal(c[2], a[2])                  # the output layer: exact e
    with pytest.raises(ValueError, match=r"hidden layer 0 has shape \(6, 5\), expected \(6, 4\)"):
        rule.update_direction(model, F.cross_entropy, x, y, tangents=[np.zeros((6, 5))])
