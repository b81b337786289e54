"""ad.nn losses: values against NumPy references written from PyTorch's documented formulas
(weights, ignored targets, label smoothing, class probabilities, (N, C, d...) scores, the three
reductions), derivatives by gradcheck to second order, stability, the fused fast path, the loss
modules and the errors."""
import numpy as np
import pytest

import tinyad as ad
from tinyad import nn
from tinyad.nn import functional as F

RNG = np.random.default_rng(7)


def randn(*shape):
    return RNG.standard_normal(shape)


def log_softmax_ref(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def ce_reference(x, y, weight=None, ignore_index=-100, smoothing=0.0, reduction="mean"):
    """PyTorch's cross_entropy with class indices, one target at a time."""
    c = x.shape[1]
    logp = np.moveaxis(log_softmax_ref(x, 1), 1, -1).reshape(-1, c)
    w = np.ones(c) if weight is None else weight
    losses, total_weight = [], 0.0
    for row, label in zip(logp, y.reshape(-1)):
        if label == ignore_index:
            losses.append(0.0)
            continue
        nll = -w[label] * row[label]
        spread = -(w * row).sum()
        losses.append((1 - smoothing) * nll + smoothing / c * spread)
        total_weight += w[label]
    losses = np.array(losses).reshape(y.shape)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / total_weight


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 2)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index, smoothing", [(-100, 0.0), (2, 0.0), (-100, 0.2), (1, 0.3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_the_reference(shape, weighted, ignore_index, smoothing, reduction):
    x = randn(*shape)
    y = RNG.integers(0, shape[1], (shape[0],) + shape[2:])
    y.reshape(-1)[::3] = ignore_index if ignore_index >= 0 else -100       # some ignored
    weight = RNG.random(shape[1]) + 0.5 if weighted else None
    got = F.cross_entropy(ad.tensor(x), y, weight, ignore_index, reduction, smoothing)
    want = ce_reference(x, y, weight, ignore_index, smoothing, reduction)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)
    assert got.shape == np.shape(want)


def test_cross_entropy_with_class_probabilities():
    """l_n = -sum_c w_c t'_nc log p_nc, t' = (1 - eps) t + eps / C; the mean divides by N·d
    (not by the weights), as PyTorch does."""
    x = randn(3, 4, 2)
    t = RNG.random((3, 4, 2))
    t /= t.sum(axis=1, keepdims=True)
    w = np.array([0.5, 1.0, 2.0, 1.5])
    smoothed = 0.9 * t + 0.1 / 4
    per = -(log_softmax_ref(x, 1) * smoothed * w[None, :, None]).sum(axis=1)       # (3, 2)
    for reduction, want in (("none", per), ("sum", per.sum()), ("mean", per.sum() / 6)):
        got = F.cross_entropy(ad.tensor(x), ad.tensor(t), weight=w, reduction=reduction,
                              label_smoothing=0.1)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    assert ad.gradcheck(lambda x, t, w: F.cross_entropy(x, t, w, label_smoothing=0.1), x, t, w,
                        order=2)


def test_nll_loss_and_one_dimensional_scores():
    x = randn(5, 3)
    y = np.array([0, 2, -100, 1, 2])
    logp = F.log_softmax(ad.tensor(x), dim=1)
    np.testing.assert_allclose(F.nll_loss(logp, y).item(), ce_reference(x, y), rtol=1e-12)
    w = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(F.nll_loss(logp, y, weight=w, reduction="none").numpy(),
                               ce_reference(x, y, w, reduction="none"), rtol=1e-12)
    single = F.cross_entropy(ad.tensor(x[0]), 2, reduction="none")        # (C,) and a 0-d label
    assert single.shape == () and single.item() == pytest.approx(-log_softmax_ref(x[0], 0)[2])
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(F.cross_entropy(ad.tensor(x[:2]), [-100, -100]).item())  # nothing left


def test_the_plain_case_is_the_fused_primitive_and_agrees_with_the_general_path(monkeypatch):
    x, y = randn(6, 4), RNG.integers(0, 4, 6)
    calls = []
    fused = ad.ops.softmax_cross_entropy
    monkeypatch.setattr(ad.ops, "softmax_cross_entropy",
                        lambda *a, **k: calls.append(1) or fused(*a, **k))
    plain = F.cross_entropy(ad.tensor(x), y)
    assert calls == [1]
    general = F.cross_entropy(ad.tensor(x), y, weight=np.ones(4))        # the composed path
    assert calls == [1] and plain.item() == pytest.approx(general.item(), rel=1e-12)
    grads = [ad.grad(lambda z, w=w: F.cross_entropy(z, y, weight=w))(ad.tensor(x)).numpy()
             for w in (None, np.ones(4))]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_class_losses_to_second_order(reduction):
    y = np.array([[0, 2], [1, -100], [2, 1]])
    w = np.array([0.5, 1.0, 2.0])
    assert ad.gradcheck(lambda x, w: F.cross_entropy(x, y, w, reduction=reduction,
                                                     label_smoothing=0.2),
                        randn(3, 3, 2), w, order=2)
    assert ad.gradcheck(lambda p, w: F.nll_loss(p, y[:, 0], w, ignore_index=1,
                                                reduction=reduction), randn(3, 3), w, order=2)


def bce_reference(p, t, w=1.0):
    return -w * (t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))


def bce_logits_reference(x, t, w=1.0, pos_weight=1.0):
    return w * (pos_weight * t * np.logaddexp(0, -x) + (1 - t) * np.logaddexp(0, x))


def test_binary_cross_entropy_values_clamp_and_gradients():
    p, t, w = RNG.random((4, 3)) * 0.9 + 0.05, RNG.random((4, 3)), RNG.random(3)
    np.testing.assert_allclose(F.binary_cross_entropy(ad.tensor(p), ad.tensor(t), w).item(),
                               bce_reference(p, t, w).mean(), rtol=1e-12)
    assert ad.gradcheck(lambda p, t: F.binary_cross_entropy(p, t, reduction="sum"), p, t, order=2)
    edge = ad.tensor(np.array([0.0, 1.0, 0.5]), requires_grad=True)
    loss = F.binary_cross_entropy(edge, ad.tensor(np.array([1.0, 0.0, 1.0])), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100, 100, np.log(2)], rtol=1e-12)   # log clamped
    loss.sum().backward()
    assert np.all(np.isfinite(edge.grad.numpy()))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got values from -0.5"):
        F.binary_cross_entropy(ad.tensor([-0.5, 0.5]), ad.tensor([0.0, 1.0]))


def test_binary_cross_entropy_with_logits_is_stable_and_weighted():
    x = np.array([[-1e4, -30.0, -1.0, 0.0], [0.0, 2.0, 40.0, 1e4]])
    t = np.array([[0.0, 1.0, 0.3, 1.0], [0.0, 0.5, 1.0, 0.0]])
    w, pw = np.array([1.0, 2.0, 0.5, 1.0]), np.array([3.0, 1.0, 2.0, 0.5])
    got = F.binary_cross_entropy_with_logits(ad.tensor(x), ad.tensor(t), w, "none", pw)
    np.testing.assert_allclose(got.numpy(), bce_logits_reference(x, t, w, pw), rtol=1e-12,
                               atol=1e-16)       # log(1 + 4e-18) is 0 without a log1p primitive
    assert np.all(np.isfinite(ad.grad(lambda z: F.binary_cross_entropy_with_logits(
        z, ad.tensor(t), pos_weight=pw))(ad.tensor(x)).numpy()))
    z = randn(3, 4)
    assert ad.gradcheck(lambda z, t: F.binary_cross_entropy_with_logits(z, t, w, pos_weight=pw),
                        np.concatenate([z, np.zeros((1, 4))]), RNG.random((4, 4)), order=2)


def test_regression_losses_by_hand_and_gradcheck():
    x, t = np.array([0.0, 0.5, 3.0, -2.0]), np.zeros(4)
    #  |d| = 0, 0.5, 3, 2;  smooth_l1 (beta 1): 0, 0.125, 2.5, 1.5;  beta 2: 0, 0.0625, 2, 1
    #  huber (delta 1): 0, 0.125, 2.5, 1.5;  delta 2: 0, 0.125, 4, 2
    cases = [(F.l1_loss, {}, [0, 0.5, 3, 2]), (F.mse_loss, {}, [0, 0.25, 9, 4]),
             (F.smooth_l1_loss, {}, [0, 0.125, 2.5, 1.5]),
             (F.smooth_l1_loss, {"beta": 2.0}, [0, 0.0625, 2, 1]),
             (F.smooth_l1_loss, {"beta": 0.0}, [0, 0.5, 3, 2]),
             (F.huber_loss, {}, [0, 0.125, 2.5, 1.5]),
             (F.huber_loss, {"delta": 2.0}, [0, 0.125, 4, 2])]
    for fn, kwargs, want in cases:
        got = fn(ad.tensor(x), ad.tensor(t), reduction="none", **kwargs)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, err_msg=fn.__name__)
        assert fn(ad.tensor(x), ad.tensor(t), **kwargs).item() == pytest.approx(np.mean(want))
        assert fn(ad.tensor(x), ad.tensor(t), "sum", **kwargs).item() == pytest.approx(np.sum(want))
        a, b = randn(3, 2) * 2, randn(3, 2)
        assert ad.gradcheck(lambda a, b: fn(a, b, **kwargs), a, b, order=2), fn.__name__


def test_regression_losses_broadcast_with_pytorchs_warning():
    for fn in (F.l1_loss, F.mse_loss, F.smooth_l1_loss, F.huber_loss):
        with pytest.warns(UserWarning, match=r"target size \(3,\) that is different"):
            loss = fn(ad.tensor(randn(3, 1)), ad.tensor(randn(3)), reduction="none")
        assert loss.shape == (3, 3)


def test_loss_modules_call_their_functions_and_move_their_weights():
    x, y = randn(4, 3), np.array([0, 2, 1, 2])
    w = np.array([1.0, 2.0, 0.5])
    loss_fn = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1, ignore_index=1)
    assert loss_fn(ad.tensor(x), y).item() == pytest.approx(ce_reference(x, y, w, 1, 0.1))
    assert set(loss_fn.state_dict()) == {"weight"} and "label_smoothing=" not in repr(loss_fn)
    p, t = RNG.random((2, 3)) * 0.8 + 0.1, RNG.random((2, 3))
    pairs = [(nn.NLLLoss(reduction="sum"), F.nll_loss(ad.tensor(x), y, reduction="sum"), (x, y)),
             (nn.BCELoss(), F.binary_cross_entropy(ad.tensor(p), ad.tensor(t)), (p, t)),
             (nn.BCEWithLogitsLoss(pos_weight=np.array([2.0, 1.0, 1.0])),
              F.binary_cross_entropy_with_logits(ad.tensor(x[:2]), ad.tensor(t),
                                                 pos_weight=np.array([2.0, 1.0, 1.0])), (x[:2], t)),
             (nn.L1Loss(), F.l1_loss(ad.tensor(p), ad.tensor(t)), (p, t)),
             (nn.MSELoss(), F.mse_loss(ad.tensor(p), ad.tensor(t)), (p, t)),
             (nn.SmoothL1Loss(beta=0.5), F.smooth_l1_loss(ad.tensor(p), ad.tensor(t), beta=0.5),
              (p, t)),
             (nn.HuberLoss(delta=0.5), F.huber_loss(ad.tensor(p), ad.tensor(t), delta=0.5), (p, t))]
    for module, want, (a, b) in pairs:
        assert module(ad.tensor(a), b if b.dtype.kind == "i" else ad.tensor(b)).item() == \
            pytest.approx(want.item(), rel=1e-12), type(module).__name__
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of"):
        nn.MSELoss(reduction="avg")


def test_loss_errors_name_the_loss_and_the_shapes():
    z = ad.tensor(randn(3, 4))
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.cross_entropy(z, [0, 1, 2], weight=np.ones(3))
    with pytest.raises(IndexError, match=r"labels must lie in \[0, 4\) or equal ignore_index=-1, "
                                         r"got values from -2"):
        F.cross_entropy(z, [0, -2, -1], ignore_index=-1)
    with pytest.raises(ValueError, match=r"labels must have shape \(3, 5\)"):
        F.cross_entropy(ad.tensor(randn(3, 4, 5)), [0, 1, 2])
    with pytest.raises(TypeError, match=r"class probabilities and must be float"):
        F.cross_entropy(z, np.zeros((3, 4), np.int64))
    with pytest.raises(ValueError, match="ignore_index is not supported for class-probability"):
        F.cross_entropy(z, np.full((3, 4), 0.25), ignore_index=0)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(z, [0, 1, 2], label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target shape \(3,\)"):
        F.binary_cross_entropy_with_logits(ad.tensor(randn(3, 1)), ad.tensor(np.ones(3)))
    with pytest.raises(ValueError, match="huber_loss: delta must be > 0"):
        F.huber_loss(z, z, delta=0)


def test_matches_torch_when_available():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, y = randn(5, 4, 3), RNG.integers(0, 4, (5, 3))
    y[0, 0] = 1
    w = RNG.random(4) + 0.5
    for kwargs in (dict(weight=w, ignore_index=1, label_smoothing=0.15), dict(label_smoothing=0.3)):
        tw = {k: (torch.tensor(v) if k == "weight" else v) for k, v in kwargs.items()}
        np.testing.assert_allclose(
            F.cross_entropy(ad.tensor(x), y, **kwargs).item(),
            tf.cross_entropy(torch.tensor(x), torch.tensor(y), **tw).item(), rtol=1e-10)
    p, t = RNG.random((4, 3)), RNG.random((4, 3))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(ad.tensor(x[:4, :3, 0]), ad.tensor(t), w[:3],
                                           pos_weight=w[1:]).item(),
        tf.binary_cross_entropy_with_logits(torch.tensor(x[:4, :3, 0]), torch.tensor(t),
                                            torch.tensor(w[:3]), pos_weight=torch.tensor(w[1:])
                                            ).item(), rtol=1e-10)
    np.testing.assert_allclose(F.smooth_l1_loss(ad.tensor(p), ad.tensor(t), beta=0.3).item(),
                               tf.smooth_l1_loss(torch.tensor(p), torch.tensor(t), beta=0.3).item(),
                               rtol=1e-10)


@pytest.mark.parametrize("ignore_index", [None, -100, -1, 0, 3, 4])
def test_the_label_check_answers_as_a_loop_over_the_labels_would(ignore_index):
    """ops.class_targets against the rule written out per label: each label is a class in
    [0, C) or equals ignore_index, else IndexError; `ignoring` says whether one equals it (an
    ignore_index inside [0, C), outside it, or none, over labels drawn to hit every case)."""
    from tinyad.ops import class_targets
    scores = ad.tensor(np.zeros((6, 4)))
    rng = np.random.default_rng(3)
    for _ in range(300):
        labels = rng.choice([-100, -2, -1, 0, 1, 2, 3, 4, 5], size=6, p=[.05] * 6 + [.5, .1, .1])
        allowed = [0 <= v < 4 or v == ignore_index for v in labels]
        if not all(allowed):
            with pytest.raises(IndexError, match=r"labels must lie in \[0, 4\)"):
                class_targets(scores, labels, "cross_entropy", ignore_index)
            continue
        y, ignoring = class_targets(scores, labels, "cross_entropy", ignore_index)
        assert np.array_equal(y, labels)
        assert ignoring == any(v == ignore_index for v in labels)
