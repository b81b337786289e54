"""checkpoint (remat): the same values and derivatives as without it, to second order, with less
kept on the tape."""
import json
import tracemalloc

import numpy as np
import pytest

import tinyad as ad

RNG = np.random.default_rng(0)


def layers(depth=3, width=4):
    return [{"w": ad.tensor(RNG.standard_normal((width, width)) * 0.5),
             "b": ad.tensor(RNG.standard_normal(width))} for _ in range(depth)]


def block(h, params):
    for p in params:
        h = (h @ p["w"] + p["b"]).tanh()
    return h


def loss(params, x, wrap=lambda f: f):
    return (wrap(block)(x, params) ** 3).sum()


def checkpointed(params, x):
    return loss(params, x, ad.checkpoint)


def close(a, b, rtol=1e-12):
    for u, v in zip(ad.tree.leaves(a), ad.tree.leaves(b)):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=rtol, atol=1e-14)


def test_same_values_gradients_and_second_derivatives():
    params, x = layers(), ad.tensor(RNG.standard_normal((2, 4)))
    assert checkpointed(params, x).item() == loss(params, x).item()
    close(ad.grad(checkpointed)(params, x), ad.grad(loss)(params, x))
    close(ad.grad(checkpointed, argnums=1)(params, x), ad.grad(loss, argnums=1)(params, x))
    # grad of grad: the recomputation inside a recorded backward pass stays differentiable
    second = lambda f: ad.grad(lambda x: (ad.grad(f, argnums=1)(params, x) ** 2).sum())(x)
    close(second(checkpointed), second(loss))
    close(ad.hessian(checkpointed, argnums=1)(params, x), ad.hessian(loss, argnums=1)(params, x))
    v = ad.tensor(RNG.standard_normal((2, 4)))
    close(ad.jvp(lambda x: checkpointed(params, x), (x,), (v,)),
          ad.jvp(lambda x: loss(params, x), (x,), (v,)))
    assert ad.gradcheck(lambda x: checkpointed(params, x), x, order=2)


def test_closed_over_parameters_and_backward():
    """A checkpointed layer that closes over its parameters (as nn modules do) still sends them
    their gradients, through .backward() and through grad; so does a tensor both passed and
    closed over."""
    model = ad.nn.Sequential(ad.nn.Linear(4, 8), ad.nn.Tanh(), ad.nn.Linear(8, 3))
    x = ad.tensor(RNG.standard_normal((5, 4)).astype(np.float32))

    def grads(wrap):
        model.zero_grad()
        (wrap(model)(x) ** 2).sum().backward()
        return [p.grad.numpy().copy() for p in model.parameters()]
    for got, want in zip(grads(ad.checkpoint), grads(lambda f: f)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    w = ad.tensor(RNG.standard_normal(3))
    twice = lambda w: (ad.checkpoint(lambda v: (v * w).sin())(w)).sum()
    np.testing.assert_allclose(ad.grad(twice)(w).numpy(), 2 * w.numpy() * np.cos(w.numpy() ** 2))


def test_inner_grad_of_closed_over_variable():
    """The closed-over tensor is an inner grad's variable (an identity of the outer one): the
    checkpoint must send the gradient to it, not past it."""
    x = ad.tensor(RNG.standard_normal((2, 3)))
    W = ad.tensor(RNG.standard_normal((3, 3)))

    def outer(wrap):
        inner = lambda V: (wrap(lambda h: (h @ V).tanh())(x) ** 2).sum()
        return lambda W: (ad.grad(inner)(W * 1.0) ** 2).sum()
    close(ad.grad(outer(ad.checkpoint))(W), ad.grad(outer(lambda f: f))(W))


def test_tree_outputs_and_untracked_calls():
    f = ad.remat(lambda p: {"y": p["a"].sin(), "n": 3, "z": p["a"].sum() * 2})
    p = {"a": ad.tensor(np.arange(3.0))}
    out = f(p)
    assert out["n"] == 3 or out["n"].item() == 3
    g = ad.grad(lambda p: (f(p)["y"] * f(p)["z"]).sum())(p)
    a = np.arange(3.0)
    np.testing.assert_allclose(g["a"].numpy(), np.cos(a) * 2 * a.sum() + 2 * np.sin(a).sum())
    with ad.no_grad():
        assert not f(p)["y"].requires_grad


def test_nondeterministic_function_is_an_error():
    f = ad.checkpoint(lambda x: x * ad.tensor(np.random.default_rng().random(3)))
    with pytest.raises(ad.GradError, match="different values when run again"):
        ad.grad(lambda x: f(x).sum())(ad.ones(3, dtype="float64"))


def peak_backward_bytes(wrap, depth=32, width=64, batch=512):
    """Peak traced memory of one forward and backward pass of a deep tanh MLP. (The tape keeps
    one activation per layer, tanh's output; deep enough that these outweigh the gradients and
    the backward pass's temporaries, which checkpointing does not change.)"""
    rng = np.random.default_rng(1)
    ws = [ad.tensor(rng.standard_normal((width, width)) / np.sqrt(width), requires_grad=True)
          for _ in range(depth)]
    x = ad.tensor(rng.standard_normal((batch, width)))

    def segment(h, ws):
        for w in ws:
            h = (h @ w).tanh()
        return h
    tracemalloc.start()
    try:
        h, k = x, 4
        for i in range(0, depth, k):
            h = wrap(segment)(h, ws[i:i + k])
        (h ** 2).sum().backward()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_checkpointing_lowers_peak_memory():
    plain = peak_backward_bytes(lambda f: f)
    remat = peak_backward_bytes(ad.checkpoint)
    assert remat < 0.6 * plain, (remat, plain)


def test_memory_benchmark_runs_quick(tmp_path):
    """bench/bench_memory.py --quick writes its table (a smoke run: the numbers mean nothing)."""
    from test_bench_smoke import BENCH, _run
    _run([str(BENCH / "bench_memory.py"), "--quick", "--out", str(tmp_path)], tmp_path)
    rows = json.loads((tmp_path / "memory.json").read_text())["rows"]
    methods = {"backprop", "checkpoint √L", "checkpoint 1", "forward gradient"}
    assert methods <= {r["method"] for r in rows} <= methods | {"PyTorch backprop"}
    assert all(r["rss_peak_MiB"] is None or r["rss_peak_MiB"] >= 0 for r in rows)
    assert all(r["max_rel_diff_vs_bp"] < 1e-6 for r in rows if "checkpoint" in r["method"])
