"""ad.optim: two steps of every update rule against numbers worked out by hand, dtypes, gradient
accumulation, all-or-nothing steps, state dicts, schedules and clipping."""
import numpy as np
import pytest

import tinyad as ad
from tinyad import nn, optim
from tinyad.nn import functional as F

P0 = [1.0, -2.0]
G1, G2 = [0.5, 1.0], [-1.0, 0.25]


def two_steps(make, dtype=np.float64):
    """Start at P0, take a step with gradient G1 and one with G2; returns the parameter."""
    p = nn.Parameter(ad.tensor(P0, dtype=dtype))
    opt = make([p])
    for g in (G1, G2):
        p.grad = ad.tensor(g, dtype=dtype)
        opt.step()
    return p, opt


# Worked by hand from PyTorch's documented algorithms, lr = 0.1:
#   SGD:       p1 = p0 - 0.1 g1 = (0.95, -2.1);   p2 = p1 - 0.1 g2 = (1.05, -2.125)
#   momentum:  b1 = g1, p1 = (0.95, -2.1);  b2 = 0.9 b1 + g2 = (-0.55, 1.15),  p2 = p1 - 0.1 b2
#   nesterov:  p1 = p0 - 0.1 (g1 + 0.9 b1) = (0.905, -2.19);  p2 = p1 - 0.1 (g2 + 0.9 b2)
#              = (0.905 + 0.1495, -2.19 - 0.1285)
#   decay 0.5: g = g1 + 0.5 p0 = (1, 0), p1 = (0.9, -2);  g = g2 + 0.5 p1 = (-0.55, -0.75)
#   Adam:      step 1 moves each coordinate by lr·sign(g) (m̂ = g, v̂ = g²): p1 = (0.9, -2.1);
#              step 2: m = (-0.055, 0.115), v = (0.00124975, 0.0010615), m̂ = m / 0.19,
#              v̂ = v / 0.001999, p2 = p1 - 0.1 m̂ / (sqrt(v̂) + 1e-8)
#   AdamW:     as Adam, with p multiplied by 1 - 0.1·0.1 = 0.99 before each step
#   maximize:  the gradient negated first: SGD's p2 = p0 + 0.1 (g1 + g2) = (0.95, -1.875);
#              Adam's mirrors the plain run about p0
#   RMSprop (alpha 0.9): v1 = 0.1 g1², so g1 / sqrt(v1) = sign(g1)·sqrt(10): p1 = p0 - 0.1 sqrt(10)
#              sign(g1) = (0.6837722, -2.3162278); v2 = 0.9 v1 + 0.1 g2² = (0.1225, 0.09625),
#              p2 = p1 - 0.1 g2 / sqrt(v2) = (0.6837722 + 0.2857143, -2.3162278 - 0.0805823)
#   centered:  a = 0.1 g1 then 0.9 a + 0.1 g2; the denominator sqrt(v - a²)
#   momentum:  b1 = g1 / d1, b2 = 0.5 b1 + g2 / d2, p -= 0.1 b
#   Adagrad:   s1 = g1² = (0.25, 1), p1 = p0 - 0.1 sign(g1) = (0.9, -2.1); s2 = (1.25, 1.0625),
#              p2 = p1 - 0.1 g2 / sqrt(s2) = (0.9 + 0.0894427, -2.1 - 0.0242536)
#   decay:     s starts at 0.25; step 2's rate is 0.1 / (1 + 0.5) = 0.0666667:
#              p1 = (1 - 0.05 / sqrt(0.5), -2 - 0.1 / sqrt(1.25)) = (0.9292893, -2.0894427),
#              p2 = p1 - 0.0666667 g2 / sqrt((1.5, 1.3125)) = (0.9837224, -2.1039906)
@pytest.mark.parametrize("make, expected", [
    (lambda ps: optim.SGD(ps, lr=0.1), [1.05, -2.125]),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), [1.005, -2.215]),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True), [1.0545, -2.3185]),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.5), [0.955, -1.925]),
    (lambda ps: optim.Adam(ps, lr=0.1), [0.9366103542, -2.1830597512]),
    (lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1), [0.9252635194, -2.1706400356]),
    (lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.1), [0.9177103542, -2.1422597512]),
    (lambda ps: optim.SGD(ps, lr=0.1, maximize=True), [0.95, -1.875]),
    (lambda ps: optim.Adam(ps, lr=0.1, maximize=True), [1.0633896458, -1.8169402488]),
    (lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.9), [0.9694865315, -2.3968100498]),
    (lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.9, centered=True), [0.9559753716, -2.4200965203]),
    (lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.9, momentum=0.5), [0.8113726585, -2.5549239278]),
    (lambda ps: optim.RMSprop(ps, lr=0.1, weight_decay=0.5), [0.7088812371, -1.0000001333]),
    (lambda ps: optim.Adagrad(ps, lr=0.1), [0.9894427191, -2.1242535625]),
    (lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.5, initial_accumulator_value=0.25),
     [0.9837224273, -2.1039905784]),
    (lambda ps: optim.Adagrad(ps, lr=0.1, weight_decay=0.5), [0.948191875, -1.9000000000]),
], ids=["sgd", "momentum", "nesterov", "weight-decay", "adam", "adam-l2", "adamw", "sgd-maximize",
        "adam-maximize", "rmsprop", "rmsprop-centered", "rmsprop-momentum", "rmsprop-l2",
        "adagrad", "adagrad-decay", "adagrad-l2"])
def test_two_steps_by_hand(make, expected):
    p, _ = two_steps(make)
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-9)
    p32, opt = two_steps(make, np.float32)
    assert p32.dtype == np.float32
    assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values()
               if hasattr(v, "dtype"))
    np.testing.assert_allclose(p32.numpy(), expected, rtol=1e-6)


def test_amsgrad_divides_by_the_largest_second_moment_so_far():
    """A third step with gradient 0 shrinks v (v3 = 0.999 v2): Adam divides by it, amsgrad by
    the larger v2 (state max_exp_avg_sq), so amsgrad's last step is the smaller."""
    def three(amsgrad):
        p = nn.Parameter(ad.tensor(P0, dtype=np.float64))
        opt = optim.Adam([p], lr=0.1, amsgrad=amsgrad)
        for g in (G1, G2, [0.0, 0.0]):
            p.grad = ad.tensor(g, dtype=np.float64)
            opt.step()
        return p.numpy(), opt.state[0]
    plain, _ = three(False)
    ams, state = three(True)
    np.testing.assert_allclose(plain, [0.9649102626, -2.2472651802], rtol=1e-9)
    np.testing.assert_allclose(ams, [0.9648961091, -2.2472330695], rtol=1e-9)
    np.testing.assert_allclose(state["max_exp_avg_sq"], [0.00124975, 0.0010615], rtol=1e-12)


def test_adam_state_after_two_steps():
    _, opt = two_steps(lambda ps: optim.Adam(ps, lr=0.1))
    state = opt.state[0]
    assert state["step"] == 2
    np.testing.assert_allclose(state["exp_avg"], [-0.055, 0.115], rtol=1e-12)
    np.testing.assert_allclose(state["exp_avg_sq"], [0.00124975, 0.0010615], rtol=1e-12)


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.01)), ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)), ("AdamW", dict(amsgrad=True)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, momentum=0.9, centered=True)),
    ("RMSprop", dict(alpha=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5))])
def test_matches_torch_when_available(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0, grads = rng.standard_normal(5), rng.standard_normal((3, 5))
    p = nn.Parameter(ad.tensor(p0))
    tp = torch.tensor(p0, requires_grad=True)
    ours, theirs = getattr(optim, name)([p], **kwargs), getattr(torch.optim, name)([tp], **kwargs)
    for g in grads:
        p.grad, tp.grad = ad.tensor(g), torch.tensor(g)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_parameters_without_gradient_are_skipped():
    a, b = nn.Parameter(ad.ones(2)), nn.Parameter(ad.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = ad.tensor([1.0, 1.0])
    opt.step()
    assert np.all(b.numpy() == 1) and 1 not in opt.state and opt.state[0]["step"] == 1


# ---- gradient accumulation -----------------------------------------------------------------
@pytest.mark.parametrize("make, dtype", [
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), np.float32),
    (lambda ps: optim.Adam(ps, lr=1e-2), np.float64)])
def test_two_half_batches_accumulate_to_the_full_batch(make, dtype):
    rng = np.random.default_rng(0)
    x, y = ad.tensor(rng.standard_normal((8, 5)).astype(dtype)), rng.integers(0, 3, 8)
    nn.init.seed(0)
    full = nn.MLP([5, 6, 3], dtype=dtype)
    halves = nn.MLP([5, 6, 3], dtype=dtype)
    halves.load_state_dict(full.state_dict())
    opt_full, opt_halves = make(full.parameters()), make(halves.parameters())
    for _ in range(2):
        opt_full.zero_grad()
        F.cross_entropy(full(x), y).backward()
        opt_full.step()
        opt_halves.zero_grad()
        for part in (slice(0, 4), slice(4, 8)):
            (F.cross_entropy(halves(x[part]), y[part]) * 0.5).backward()
        opt_halves.step()
    for a, b in zip(full.parameters(), halves.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-6)


# ---- a failed step changes nothing -----------------------------------------------------------
@pytest.mark.parametrize("bad, error, match", [
    (np.zeros(3), ValueError, "'1.bias' \\(shape \\(2,\\)\\) has a gradient of shape \\(3,\\)"),
    (np.array([np.nan, 0.0]), FloatingPointError, "'1.bias'.*not finite.*1 non-finite"),
])
@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps),
    lambda ps: optim.AdamW(ps, amsgrad=True),
    lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True), lambda ps: optim.Adagrad(ps)])
def test_a_failed_step_leaves_parameters_and_state_unchanged(make, bad, error, match):
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    opt = make(model.named_parameters())
    x = ad.randn(5, 3, seed=0)
    F.cross_entropy(model(x), [0, 1, 0, 1, 1]).backward()
    opt.step()                                              # a good step: state exists
    F.cross_entropy(model(x), [0, 1, 0, 1, 1]).backward()
    params, state = model.state_dict(), opt.state_dict()
    model[1].bias.grad = ad.tensor(bad.astype(np.float32))  # the last parameter; others are fine
    with pytest.raises(error, match=match):
        opt.step()
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, params[name])
    after = opt.state_dict()
    for i, s in state["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(after["state"][i][k], v)


# ---- checkpoints -----------------------------------------------------------------------------
def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((4, 3)).astype(np.float32)
    a = nn.Parameter(ad.ones(3))
    opt_a = optim.Adam([a], lr=0.1, betas=(0.8, 0.99))
    for g in grads[:2]:
        a.grad = ad.tensor(g)
        opt_a.step()
    b = nn.Parameter(ad.tensor(a.numpy().copy()))
    opt_b = optim.Adam([b])
    opt_b.load_state_dict(opt_a.state_dict())
    assert opt_b.param_groups[0]["betas"] == (0.8, 0.99) and opt_b.param_groups[0]["lr"] == 0.1
    for g in grads[2:]:
        for p, opt in ((a, opt_a), (b, opt_b)):
            p.grad = ad.tensor(g)
            opt.step()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="groups of \\[1\\] parameters.*\\[2\\]"):
        optim.Adam([nn.Parameter(ad.ones(3)), b]).load_state_dict(opt_a.state_dict())
    with pytest.raises(ValueError, match="'exp_avg' of 'parameter 0' has shape \\(3,\\)"):
        optim.Adam([nn.Parameter(ad.ones(2))]).load_state_dict(opt_a.state_dict())


@pytest.mark.parametrize("make", [
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1, initial_accumulator_value=0.2),
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True, maximize=True)], ids=["rmsprop", "adagrad",
                                                                          "amsgrad"])
def test_the_new_optimizers_resume_from_a_checkpoint(make, tmp_path):
    grads = np.random.default_rng(2).standard_normal((4, 3))
    a = nn.Parameter(ad.ones(3, dtype=np.float64))
    opt_a = make([a])
    for g in grads[:2]:
        a.grad = ad.tensor(g)
        opt_a.step()
    b = nn.Parameter(ad.tensor(a.numpy().copy()))
    opt_b = make([b])
    opt_b.param_groups[0]["lr"] = 5.0                       # overwritten by the load
    ad.save(opt_a.state_dict(), tmp_path / "opt.npz")
    opt_b.load_state_dict(ad.load(tmp_path / "opt.npz"))
    for g in grads[2:]:
        for p, opt in ((a, opt_a), (b, opt_b)):
            p.grad = ad.tensor(g)
            opt.step()
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_zero_grad_and_bad_arguments():
    p = nn.Parameter(ad.ones(2))
    opt = optim.SGD([p], lr=0.1)
    p.grad = ad.ones(2)
    opt.zero_grad(set_to_none=False)
    assert np.all(p.grad.numpy() == 0)
    opt.zero_grad()
    assert p.grad is None
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of tensors"):
        optim.Adam(p)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))


def test_param_groups_have_their_own_hyper_parameters():
    a, b = nn.Parameter(ad.ones(1)), nn.Parameter(ad.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = ad.ones(1), ad.ones(1)
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.0)


# ---- schedules and clipping ------------------------------------------------------------------
def test_learning_rate_schedules():
    opt = optim.SGD([nn.Parameter(ad.ones(1))], lr=0.1)
    exp = optim.ExponentialLR(opt, gamma=0.5)
    lrs = []
    for _ in range(3):
        exp.step()
        lrs.append(exp.get_last_lr()[0])
    assert lrs == pytest.approx([0.05, 0.025, 0.0125]) and opt.param_groups[0]["lr"] == lrs[-1]

    opt = optim.Adam([nn.Parameter(ad.ones(1))], lr=1.0)
    sched = optim.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(5):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == pytest.approx([1.0, 0.1, 0.1, 0.01, 0.01])
    again = optim.StepLR(opt, step_size=2, gamma=0.1)
    again.load_state_dict(sched.state_dict())
    again.step()
    assert again.get_last_lr() == pytest.approx([0.001]) and again.last_epoch == 6


def run_schedule(make, lr=1.0, epochs=5):
    """The rate set at construction, then after each of `epochs` steps."""
    opt = optim.SGD([nn.Parameter(ad.ones(1))], lr=lr)
    sched = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(epochs):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert opt.param_groups[0]["lr"] == lrs[-1] and opt.param_groups[0]["initial_lr"] == lr
    return lrs, sched


def test_cosine_linear_and_sequential_schedules():
    """By hand: cosine eta_min + (1 - eta_min)(1 + cos(pi e / 4)) / 2, eta_min 0.2: 1, 0.8828427,
    0.6, 0.3171573, 0.2, then back up as PyTorch's (e = 5 mirrors e = 3). LinearLR from 0.25 to
    1 over 3 epochs: 0.25, 0.5, 0.75, 1, 1. SequentialLR: a 2-epoch warm-up from 0.25 (0.25,
    0.625), then the cosine over 2 epochs restarted at 1 (1, 0.5, 0)."""
    lrs, _ = run_schedule(lambda o: optim.CosineAnnealingLR(o, T_max=4, eta_min=0.2))
    assert lrs == pytest.approx([1, 0.8828427125, 0.6, 0.3171572875, 0.2, 0.3171572875])
    lrs, _ = run_schedule(lambda o: optim.LinearLR(o, start_factor=0.25, total_iters=3))
    assert lrs == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])

    def warm_then_cosine(opt):
        return optim.SequentialLR(opt, [optim.LinearLR(opt, 0.25, total_iters=2),
                                        optim.CosineAnnealingLR(opt, T_max=2)], milestones=[2])
    lrs, sched = run_schedule(warm_then_cosine, epochs=4)
    assert lrs == pytest.approx([0.25, 0.625, 1.0, 0.5, 0.0], abs=1e-12)
    opt = optim.SGD([nn.Parameter(ad.ones(1))], lr=1.0)
    again = warm_then_cosine(opt)
    again.load_state_dict(sched.state_dict())
    again.schedulers[1].step()
    assert again.last_epoch == 4 and again.schedulers[1].last_epoch == 3
    with pytest.raises(ValueError, match="one increasing milestone"):
        optim.SequentialLR(opt, [optim.LinearLR(opt)], milestones=[2])
    with pytest.raises(ValueError, match="start_factor must be in \\(0, 1\\]"):
        optim.LinearLR(opt, start_factor=0)


def test_clip_grad_norm():
    a, b = nn.Parameter(ad.zeros(2)), nn.Parameter(ad.zeros(1))
    a.grad, b.grad = ad.tensor([3.0, 4.0]), ad.tensor([12.0])        # global norm 13
    total = optim.clip_grad_norm_([a, b], max_norm=100.0)
    assert total.item() == pytest.approx(13) and a.grad.numpy().tolist() == [3.0, 4.0]
    total = optim.clip_grad_norm_([a, b], max_norm=6.5)
    assert total.item() == pytest.approx(13)
    assert np.sqrt(np.sum(a.grad.numpy() ** 2) + b.grad.item() ** 2) == pytest.approx(6.5, rel=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), [1.5, 2.0], rtol=1e-6)
    assert a.grad.dtype == np.float32
    assert optim.clip_grad_norm_(a, 1.0, norm_type=float("inf")).item() == pytest.approx(2.0)
