"""Training on the device: every learning rule with every optimizer against the CPU, forward
gradients with tangents drawn on the device, convolution, checkpoints mid-training, and what a
training step costs in host syncs and copies (counted by the fake device).

Float64 runs must agree with the CPU to rounding; float32 runs must agree to 1e-5 and stay in
float32 on the device (parameters, gradients, optimizer state).
"""
import numpy as np
import pytest

import tinyad as ad
from tinyad import learning, nn, optim
from tinyad.nn import functional as F

RULES = {"bp": lambda: learning.Backprop(), "manual": lambda: learning.ManualBackprop(),
         "fg": lambda: learning.ForwardGradient(seed=0),
         "fg-rademacher": lambda: learning.ForwardGradient(distribution="rademacher", seed=0),
         "fg-activity": lambda: learning.ForwardGradient(perturb="activities", seed=0),
         "dfa": lambda: learning.DFA(seed=0), "fa": lambda: learning.FeedbackAlignment(seed=0)}
OPTIMIZERS = {"sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-4),
              "adam": lambda ps: optim.Adam(ps, lr=1e-2),
              "adamw": lambda ps: optim.AdamW(ps, lr=1e-2)}
EXACT_RULES = ("bp", "manual", "dfa", "fa")      # no random tangents: the CPU gives the same run
MORE_OPTIMIZERS = {              # trained with Backprop only (the rules are the same for every one)
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=1e-2, weight_decay=1e-4, momentum=0.9,
                                        centered=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1),
    "amsgrad": lambda ps: optim.AdamW(ps, lr=1e-2, amsgrad=True),
    "sgd-maximize": lambda ps: optim.SGD(ps, lr=0.01, momentum=0.5, maximize=True)}


def batch(n=16, features=12, classes=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(np.float32), rng.integers(0, classes, n)


def mlp(device, dtype=np.float32, sizes=(12, 16, 16, 5)):
    nn.init.seed(0)
    return nn.MLP(list(sizes)).to(device, dtype)


def train(device, rule, opt, dtype, steps=3, labels_on_device=False):
    x, y = batch()
    model = mlp(device, dtype)
    r, o = RULES[rule](), {**OPTIMIZERS, **MORE_OPTIMIZERS}[opt](model.parameters())
    xt = ad.tensor(x.astype(dtype), device=device)
    yt = ad.tensor(y, device=device) if labels_on_device else y
    losses = []
    for _ in range(steps):
        o.zero_grad()
        losses.append(r.backward(model, F.cross_entropy, xt, yt))
        o.step()
    return model, o, losses


def test_hand_written_rules_take_any_loss(device):
    """ManualBackprop, FA, DFA and activity-perturbed FG differentiate a custom loss (run under
    their no_grad): its output error must match Backprop's gradient at the output layer."""
    def loss_fn(z, y):
        return F.cross_entropy(z, y) * 2.0 + (z * z).mean() * 0.1
    x, y = batch()
    xt = ad.tensor(x, device=device)
    model = mlp(device)
    learning.Backprop().backward(model, loss_fn, xt, y)
    want = [p.grad.numpy() for p in model.parameters()]
    for rule in (learning.ManualBackprop(), learning.FeedbackAlignment(seed=0),
                 learning.DFA(seed=0), learning.ForwardGradient(perturb="activities", seed=0)):
        model.zero_grad()
        rule.backward(model, loss_fn, xt, y)
        got = [p.grad.numpy() for p in model.parameters()]
        np.testing.assert_allclose(got[-2], want[-2], rtol=1e-4, atol=1e-6)    # output layer
        np.testing.assert_allclose(got[-1], want[-1], rtol=1e-4, atol=1e-6)
        if isinstance(rule, learning.ManualBackprop):
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_and_optimizer_on_the_device_matches_the_cpu(rule, opt):
    """Three steps from one start on both devices: float64 to rounding (the tangents of the
    forward-gradient rules are drawn on each device from its own stream, so those must only
    stay finite and on the device); float32 to 1e-5, and nothing leaves float32 or the device."""
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        cpu, _, cpu_losses = train("cpu", rule, opt, dtype)
        gpu, gpu_opt, gpu_losses = train("cuda", rule, opt, dtype, labels_on_device=True)
        for (name, p), (_, q) in zip(cpu.named_parameters(), gpu.named_parameters()):
            assert q.device == "cuda" and q.dtype == dtype and q.grad.dtype == dtype, name
            assert np.all(np.isfinite(q.numpy())), name
            if rule in EXACT_RULES:
                np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=tol, atol=tol, err_msg=name)
        for state in gpu_opt.state.values():
            for v in state.values():
                if hasattr(v, "shape"):
                    assert ad.backend.device_of(v) == "cuda" and v.dtype == dtype
        if rule in EXACT_RULES:
            np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=tol)


@pytest.mark.gpu
@pytest.mark.parametrize("opt", sorted(MORE_OPTIMIZERS))
def test_more_optimizers_on_the_device_match_the_cpu_and_sync_once(opt, traffic):
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        cpu, _, cpu_losses = train("cpu", "bp", opt, dtype)
        gpu, gpu_opt, gpu_losses = train("cuda", "bp", opt, dtype, labels_on_device=True)
        for p, q in zip(cpu.parameters(), gpu.parameters()):
            assert q.device == "cuda" and q.dtype == dtype
            np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=tol, atol=tol)
        arrays = [v for state in gpu_opt.state.values() for v in state.values()
                  if hasattr(v, "shape")]
        assert all(ad.backend.device_of(v) == "cuda" and v.dtype == dtype for v in arrays)
        np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=tol)
    for p in gpu.parameters():
        p.grad = ad.zeros(*p.shape, device="cuda")
    with traffic() as seen:
        gpu_opt.step()
    assert not seen or (seen.syncs == 1 and seen.h2d == 0), seen.report()


def layered_model(device, dtype=np.float64):
    nn.init.seed(0)
    return nn.Sequential(nn.Linear(12, 16, bias=False),         # a bias before BatchNorm: its
                         nn.BatchNorm1d(16, momentum=None),    # gradient is 0 up to rounding
                         nn.LeakyReLU(0.1),
                         nn.Dropout(0.2), nn.LayerNorm(16), nn.GELU("tanh"), nn.Linear(16, 5)
                         ).to(device, dtype)


@pytest.mark.gpu
def test_normalization_dropout_and_losses_train_on_the_device(traffic):
    """Two steps of a model with BatchNorm, LayerNorm, Dropout and a smoothed, weighted loss: the
    device agrees with the CPU (dropout off: its masks come from each device's own generator),
    parameters and running statistics stay there; with dropout on, a step copies nothing over
    and syncs no more than the MLP's step."""
    x, y = batch()
    weights = {d: ad.tensor(np.linspace(0.5, 1.5, 5), device=d) for d in ("cpu", "cuda")}

    def loss_fn(z, labels):
        return F.cross_entropy(z, labels, weight=weights[z.device].astype(z.dtype),
                               label_smoothing=0.1)
    trained = {}
    for device in ("cpu", "cuda"):
        model = layered_model(device)
        model[3].eval()
        opt = optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(2):
            opt.zero_grad()
            learning.Backprop().backward(model, loss_fn, ad.tensor(x.astype(np.float64),
                                                                   device=device), y)
            opt.step()
        trained[device] = model.state_dict()
        assert all(t.device == device for t in model.buffers())
    for name, value in trained["cpu"].items():
        np.testing.assert_allclose(trained["cuda"][name], value, rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    model = layered_model("cuda", np.float32)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    xt, yt = ad.tensor(x, device="cuda"), ad.tensor(y, device="cuda")
    for step in range(2):
        with traffic() as seen:
            opt.zero_grad()
            learning.Backprop().backward(model, loss_fn, xt, yt)
            opt.step()
        if seen:
            assert seen.h2d == 0 and seen.syncs <= SYNCS_PER_STEP, seen.report()
    model.eval()
    assert model(xt).device == "cuda" and model[1].running_var.dtype == np.float32


@pytest.mark.gpu
def test_embedding_and_losses_on_the_device():
    emb = nn.Embedding(6, 3, padding_idx=0).to("cuda")
    idx = ad.tensor(np.array([[0, 2], [5, 2]]), device="cuda")
    out = emb(idx)
    F.binary_cross_entropy_with_logits(out, ad.ones(2, 2, 3, device="cuda")).backward()
    grad = emb.weight.grad
    assert out.device == grad.device == "cuda" and np.all(grad.numpy()[0] == 0)
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 6\)"):
        emb(ad.tensor(np.array([6]), device="cuda"))
    z = ad.tensor(np.random.default_rng(0).standard_normal((3, 4, 2)), device="cuda")
    labels = ad.tensor(np.array([[0, -100], [3, 1], [2, 2]]), device="cuda")
    cpu = F.cross_entropy(z.to("cpu"), labels.to("cpu"), reduction="none")
    np.testing.assert_allclose(F.cross_entropy(z, labels, reduction="none").numpy(), cpu.numpy(),
                               rtol=1e-12)
    for fn in (F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.mse_loss):
        assert fn(z, ad.zeros(3, 4, 2, dtype=np.float64, device="cuda")).device == "cuda"


@pytest.mark.gpu
def test_convolution_gradients_on_the_device_match_the_cpu():
    x, y = np.random.default_rng(1).standard_normal((4, 1, 10, 10)), np.array([0, 3, 1, 2])
    grads = {}
    for device in ("cpu", "cuda"):
        nn.init.seed(0)
        model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(3, 2, 3, stride=2, padding=1), nn.ReLU(),
                              nn.MaxPool2d(3, 2), nn.Flatten(), nn.Linear(2, 4)).to(device)
        F.cross_entropy(model(ad.tensor(x.astype(np.float32), device=device)), y).backward()
        grads[device] = [p.grad for p in model.parameters()]
    for g, h in zip(grads["cpu"], grads["cuda"]):
        assert h.device == "cuda" and h.dtype == np.float32
        np.testing.assert_allclose(h.numpy(), g.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
def test_a_checkpointed_block_differentiates_on_the_device():
    """ad.checkpoint recomputes the block in the backward pass and checks that the recomputation
    gave the same values (on the device: one boolean read back)."""
    rng = np.random.default_rng(2)
    w, x = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal((3, 4))

    def loss(w, x):
        return (ad.checkpoint(lambda h, w: (h @ w).tanh() @ w)(x, w) ** 2).sum()
    grads = {d: ad.grad(loss)(ad.tensor(w, device=d), ad.tensor(x, device=d))
             for d in ("cpu", "cuda")}
    assert grads["cuda"].device == "cuda"
    np.testing.assert_allclose(grads["cuda"].numpy(), grads["cpu"].numpy(), rtol=1e-12)


@pytest.mark.gpu
def test_forward_gradient_tangents_are_drawn_on_the_device(cp):
    model = mlp("cuda")
    params = list(model.parameters())
    rule = learning.ForwardGradient(seed=0)
    x, y = batch()
    rule.backward(model, F.cross_entropy, ad.tensor(x, device="cuda"), ad.tensor(y, device="cuda"))
    assert all(p.grad.device == "cuda" and p.grad.dtype == np.float32 for p in params)
    vs = learning.tangents.draw([(1000,), (50, 20)], "normal", rule.rng_for(params[0].data),
                                params[0].data)
    assert all(isinstance(v, cp.ndarray) and v.dtype == np.float32 for v in vs)
    flat = cp.asnumpy(cp.concatenate([v.ravel() for v in vs]))
    assert abs(flat.mean()) < 0.1 and abs(flat.std() - 1) < 0.1
    signs = learning.tangents.draw([(3000,)], "rademacher", rule.rng_for(params[0].data),
                                   params[0].data)[0]
    assert set(np.unique(cp.asnumpy(signs))) == {-1.0, 1.0}


@pytest.mark.gpu
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_a_checkpoint_of_device_training_resumes_on_either_device(device, tmp_path):
    """Train two steps on the device, save, resume on `device`: the third step is the one an
    uninterrupted run takes."""
    full, full_opt, _ = train("cuda", "bp", "adam", np.float64, steps=3)
    half, half_opt, _ = train("cuda", "bp", "adam", np.float64, steps=2)
    ad.save({"model": half.state_dict(), "optim": half_opt.state_dict()}, tmp_path / "c.npz")
    ckpt = ad.load(tmp_path / "c.npz")
    model = mlp(device, np.float64)
    opt = OPTIMIZERS["adam"](model.parameters())
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optim"])
    x, y = batch()
    opt.zero_grad()
    learning.Backprop().backward(model, F.cross_entropy, ad.tensor(x.astype(np.float64),
                                                                   device=device), y)
    opt.step()
    for p, q in zip(full.parameters(), model.parameters()):
        assert q.device == device
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-12)


# ---- what a step costs: host syncs and copies (the fake device counts them) -------------------
SYNCS_PER_STEP = 3      # the loss as a float (the rules' contract), the labels' range check, and
                        # the optimizer's finiteness check of the whole step


@pytest.mark.gpu
@pytest.mark.parametrize("rule", sorted(RULES))
def test_a_training_step_syncs_three_times_and_copies_nothing(traffic, rule):
    x, y = batch(64, 12, 5)
    loader = ad.data.DataLoader(x, y, 32, shuffle=True, seed=0, device="cuda")
    model = mlp("cuda")
    r, opt = RULES[rule](), OPTIMIZERS["adam"](model.parameters())
    for step, (xb, yb) in enumerate(loader):
        with traffic() as seen:
            opt.zero_grad()
            r.backward(model, F.cross_entropy, ad.tensor(xb), yb)
            opt.step()
        if step and seen:   # the first step copies DFA and FA's fixed feedback matrices over, once
            assert seen.h2d == 0 and seen.syncs <= SYNCS_PER_STEP, seen.report()
    assert all(p.device == "cuda" and np.all(np.isfinite(p.numpy())) for p in model.parameters())


@pytest.mark.gpu
def test_the_finiteness_check_syncs_once_per_step(traffic):
    model = mlp("cuda")
    opt = optim.Adam(model.parameters())
    x, y = batch()
    F.cross_entropy(model(ad.tensor(x, device="cuda")), y).backward()
    with traffic() as seen:
        opt.step()
    assert not seen or (seen.syncs == 1 and seen.h2d == 0), seen.report()
    model.layers[-1].bias.grad = ad.tensor(np.full(5, np.nan, np.float32), device="cuda")
    with pytest.raises(FloatingPointError, match=r"'parameter 5'.*not finite.*5 non-finite"):
        opt.step()


@pytest.mark.gpu
def test_clip_grad_norm_stays_on_the_device(traffic):
    a, b = (nn.Parameter(ad.zeros(n, device="cuda")) for n in (2, 1))
    a.grad, b.grad = ad.tensor([3.0, 4.0], device="cuda"), ad.tensor([12.0], device="cuda")
    with traffic() as seen:
        total = optim.clip_grad_norm_([a, b], max_norm=6.5)
        inf = optim.clip_grad_norm_([a, b], max_norm=1e9, norm_type=float("inf"))
    assert not seen or (seen.syncs == 0 and seen.h2d == 0), seen.report()
    assert total.device == a.grad.device == "cuda" and a.grad.dtype == np.float32
    assert total.item() == pytest.approx(13) and inf.item() == pytest.approx(6.0)
    np.testing.assert_allclose(a.grad.numpy(), [1.5, 2.0], rtol=1e-6)


# ---- what `tinyad compare` and `tinyad bench` call, on the device -----------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("where", ["cpu", "cuda"])
def test_fit_puts_each_batch_on_the_models_device(where):
    """A loader on the host or on the device trains a model on the device."""
    from tinyad.learning.training import device_of, fit
    x, y = batch(48, 12, 5)
    model = mlp("cuda")
    opt = optim.SGD(model.parameters(), lr=0.1)
    run = fit(learning.Backprop(), model, opt, ad.data.DataLoader(x, y, 16, device=where), 2)
    assert device_of(model) == "cuda" and len(run["losses"]) == 6
    assert all(np.isfinite(run["losses"])) and run["losses"][-1] < run["losses"][0]


@pytest.mark.gpu
def test_the_compare_and_bench_library_calls_run_on_the_device():
    from argparse import Namespace

    from tinyad.commands import bench, compare
    from tinyad.commands.bench_cases import load_batch
    from tinyad.learning.training import accuracy, step_memory
    x, y = batch(40, 12, 5)
    args = Namespace(seed=0, tangents=1, activation="relu", batch_size=16, epochs=1,
                     align_draws=2, device="cuda")
    nn.init.seed(0)
    initial = nn.MLP([12, 8, 5]).state_dict()
    assert 0 <= accuracy(nn.MLP([12, 8, 5]).to("cuda"), x, y) <= 1
    for name in ("bp", "fg", "dfa"):
        result = compare.train_method(name, 1e-3, initial, [12, 8, 5], (x, y), (x, y), args)
        assert len(result["losses"]) == 3 and 0 <= result["test_acc"] <= 1
        assert result["peak_mib"] >= 0 and set(result["alignment"]) == set(initial)
    model = mlp("cuda")
    assert step_memory(learning.Backprop(), model, x, y) >= 0
    assert all(p.grad.device == "cuda" for p in model.parameters())
    measured = bench.measure(("logreg",), load_batch(8), engines=("tinyad",), quick=True,
                             device="cuda")
    assert measured["device"] == "cuda" and measured["rows"][0]["R_b"] > 0
    assert not any(case.startswith("tinyad:fgN") for case in measured["raw"]["logreg"]["wall_s"])
