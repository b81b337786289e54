"""Tutorial 5: JAX's vocabulary: pytrees, custom rules, checkpointing, linearize-then-transpose.

    python docs/tutorial_5_transforms.py [--quick] [--out DIR]

Tutorials 2 and 3 differentiated functions of one tensor. Real code differentiates a *model*: a
dict of parameters, a list of layers. Section 1 shows that every transform takes and returns such
nested containers (pytrees). Sections 2 to 4 give a function a derivative of your choosing: a
numerically stable rule, a straight-through estimator, gradient clipping inside the backward
pass. Section 5 trades time for memory with checkpointing and measures it. Section 6 splits a JVP
into "run f once" and "apply the linear map", then transposes that map: reverse mode, obtained
from forward mode. The plot goes to DIR (default runs/tutorial_5).
"""
import argparse
import math
import tracemalloc
from functools import partial
from pathlib import Path

import matplotlib
import numpy as np

import tinyad as ad

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)


def section(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


# --- 1. Pytrees ----------------------------------------------------------------------------------
def predict(params, x):
    """A two-layer network whose parameters are a dict holding a list of dicts."""
    h = ad.tanh(x @ params["hidden"][0]["w"] + params["hidden"][0]["b"])
    return h @ params["out"]


def mse(params, x, y):
    pred = predict(params, x)
    return ((pred - y) ** 2).mean(), {"pred": pred}       # (loss, aux)


def pytrees(steps):
    section("1. pytrees: a dict of parameters in, a dict of gradients out")
    rng = np.random.default_rng(0)
    params = {"hidden": [{"w": ad.tensor(rng.standard_normal((1, 16))),
                          "b": ad.tensor(rng.standard_normal(16))}],
              "out": ad.tensor(rng.standard_normal((16, 1)) * 0.1)}
    x = ad.tensor(np.linspace(-2, 2, 32).reshape(-1, 1))
    y = ad.sin(x * 1.5)
    leaves, treedef = ad.tree.flatten(params)
    print(f"ad.tree.flatten(params): {len(leaves)} leaves, structure {treedef}")
    print("Every transform flattens its arguments to such leaves, works on them, and rebuilds the")
    print("caller's structure, as JAX does. has_aux=True lets the loss return extra values")
    print("(here the predictions) that are passed through, not differentiated:")
    step = ad.value_and_grad(mse, has_aux=True)
    for i in range(steps):
        (loss, aux), grads = step(params, x, y)
        params = ad.tree.map(lambda p, g: p - 0.1 * g, params, grads)      # SGD, leaf by leaf
        if i % max(1, steps // 4) == 0 or i == steps - 1:
            print(f"  step {i:3d}: loss {loss.item():.4f}")
    print(f"grads has the structure of params: {ad.tree.structure(grads) == treedef}; "
          f"aux['pred'] has shape {aux['pred'].shape}")
    f = lambda a, b: (a ** 2).sum() * (b ** 3).sum()
    H = ad.hessian(f, argnums=(0, 1))(ad.tensor([1.0, 2.0]), ad.tensor([3.0, 4.0, 5.0]))
    print("hessian(f, argnums=(0, 1))(a, b) nests blocks as JAX does, H[i][j] = ∂²f/∂x_i∂x_j:")
    print("  " + ", ".join(f"H[{i}][{j}] {H[i][j].shape}" for i in range(2) for j in range(2)))


# --- 2. A numerically stable rule ----------------------------------------------------------------
def naive_log1pexp(x):
    return ad.log(1 + ad.exp(x))


@ad.custom_jvp
def log1pexp(x):
    """log(1 + e^x) without overflow: max(x, 0) + log(1 + e^-|x|)."""
    return ad.maximum(x, 0.0) + ad.log(1 + ad.exp(-ad.abs(x)))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    """d/dx log(1 + e^x) = e^x / (1 + e^x) = sigmoid(x): one stable operation."""
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * ad.sigmoid(x)


def stable_rule():
    section("2. custom_jvp: a numerically stable derivative")
    x = ad.tensor([0.0, 10.0, 100.0])                          # float32: e^100 overflows
    with np.errstate(over="ignore", invalid="ignore"):            # the overflow shown below
        naive = ad.grad(lambda x: naive_log1pexp(x).sum())(x)
        naive_value = naive_log1pexp(x)
    print(f"naive     log(1 + e^x) at {x.tolist()}: value {naive_value.tolist()}")
    print(f"          its gradient by the chain rule: {naive.tolist()}   (inf / inf at 100)")
    print(f"custom_jvp value: {log1pexp(x).tolist()}")
    for name, value in [("grad", ad.grad(lambda x: log1pexp(x).sum())(x)),
                        ("jvp", ad.jvp(log1pexp, (x,), (ad.ones(3),))[1]),
                        ("jacrev diagonal", ad.jacrev(log1pexp)(x).numpy().diagonal()),
                        ("second derivative (grad of grad)",
                         ad.grad(lambda x: ad.grad(lambda x: log1pexp(x).sum())(x).sum())(x))]:
        print(f"  {name:33s} {np.round(np.asarray(value.tolist()), 6).tolist()}")
    print("Forward mode calls the rule. Reverse mode uses its *transpose*: the rule's tangent is")
    print("linear in t, T(t) = J t, so reverse mode over it with respect to t gives J^T g. Second")
    print("derivatives differentiate the rule itself: sigmoid'(x) = sigmoid(x)(1 - sigmoid(x)).")


# --- 3. A straight-through estimator -------------------------------------------------------------
@ad.custom_jvp
def binarize(w):
    """sign(w) in {-1, +1}: its true derivative is 0 almost everywhere (f may even leave tinyad)."""
    return ad.tensor(np.where(w.numpy() >= 0, 1.0, -1.0).astype(w.dtype))


binarize.defjvp(lambda primals, tangents: (binarize(*primals), tangents[0]))   # pass t through


def straight_through(steps):
    section("3. custom_jvp: a straight-through estimator")
    rng = np.random.default_rng(1)
    x = ad.tensor(rng.standard_normal((64, 8)))
    target = ad.tensor(np.sign(rng.standard_normal(8)))
    y = x @ target
    w = ad.tensor(rng.standard_normal(8) * 0.1)
    loss = lambda w: ((x @ binarize(w) - y) ** 2).mean()
    print("Fitting binary weights: the quantizer's derivative is zero, so plain autodiff never")
    print("moves w; the straight-through rule treats sign() as the identity in the backward pass.")
    for i in range(steps):
        w = w - 0.05 * ad.grad(loss)(w)
    wrong = int((binarize(w).numpy() != target.numpy()).sum())
    print(f"after {steps} steps: loss {loss(w).item():.4f}, {wrong} of 8 signs wrong")


# --- 4. Gradient clipping in the backward pass ---------------------------------------------------
@partial(ad.custom_vjp, nondiff_argnums=(0,))
def clip_gradient(bound, x):
    """The identity going forward; the cotangent clipped to [-bound, bound] going backward."""
    return x


def clip_fwd(bound, x):
    return x, None                                    # (output, residuals): nothing to keep


def clip_bwd(bound, residuals, g):
    return (ad.maximum(ad.minimum(g, bound), -bound),)


clip_gradient.defvjp(clip_fwd, clip_bwd)


def clipping():
    section("4. custom_vjp: gradient clipping inside the backward pass")
    x = ad.tensor([0.5, 2.0, -3.0])
    f = lambda x: (x ** 4).sum()
    print(f"d/dx sum x^4 at {x.tolist()}:                  {ad.grad(f)(x).tolist()}")
    clipped = ad.grad(lambda x: f(clip_gradient(1.0, x)))(x)
    print(f"the same through clip_gradient(1.0, x):        {clipped.tolist()}")
    print("fwd returns (output, residuals), bwd(residuals, g) the input cotangents. A custom_vjp")
    print("has no forward-mode rule, so forward mode refuses it (as JAX does):")
    try:
        ad.jvp(lambda x: clip_gradient(1.0, x), (x,), (x,))
    except ad.GradError as e:
        print(f"  GradError: {e}")


# --- 5. Checkpointing -----------------------------------------------------------------------------
def deep_mlp(depth, width, seed=0):
    rng = np.random.default_rng(seed)
    return [ad.tensor(rng.standard_normal((width, width)) / math.sqrt(width)) for _ in range(depth)]


def segment(h, ws):
    for w in ws:
        h = ad.tanh(h @ w)
    return h


def loss_of(ws, x, per_segment):
    h = x
    for i in range(0, len(ws), per_segment or len(ws)):
        run = ad.checkpoint(segment) if per_segment else segment
        h = run(h, ws[i:i + (per_segment or len(ws))])
    return (h ** 2).mean()


def peak_mib(fn):
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        result = fn()
        return (tracemalloc.get_traced_memory()[1] - start) / 2**20, result
    finally:
        tracemalloc.stop()


def checkpointing(quick, out):
    section("5. checkpoint: recompute instead of storing")
    width, batch = (32, 64) if quick else (128, 512)
    depths = (4, 9, 16) if quick else (4, 9, 16, 25, 36)
    x = ad.tensor(np.random.default_rng(2).standard_normal((batch, width)))
    print("The tape keeps every intermediate until the backward pass reads it: memory grows with")
    print("depth. ad.checkpoint(segment) keeps only each segment's input and runs the segment")
    print("again, recording, when the backward pass reaches it: one more forward pass, and with")
    print("segments of √L layers O(√L) activations kept instead of O(L).")
    rows = []
    for depth in depths:
        ws = deep_mlp(depth, width)
        k = round(math.sqrt(depth))
        plain, g = peak_mib(lambda: ad.grad(loss_of)(ws, x, None))
        remat, g_k = peak_mib(lambda: ad.grad(loss_of)(ws, x, k))
        diff = max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(g, g_k))
        rows.append((depth, plain, remat))
        print(f"  {depth:2d} layers: backprop {plain:6.2f} MiB, checkpoint every {k} layers "
              f"{remat:6.2f} MiB (gradients differ by {diff:.1e})")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r[0] for r in rows], [r[1] for r in rows], "o-", label="backprop")
    ax.plot([r[0] for r in rows], [r[2] for r in rows], "s-", label="checkpoint every √L layers")
    ax.set_xlabel("hidden layers L")
    ax.set_ylabel("peak MiB during grad (tracemalloc)")
    ax.set_title(f"tanh MLP, width {width}, batch {batch}")
    ax.legend()
    fig.tight_layout()
    path = out / "checkpoint_memory.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot: {path}   (bench/bench_memory.py measures time too, at 1024 x 1024)")


# --- 6. Linearize, then transpose ----------------------------------------------------------------
def linearize_then_transpose():
    section("6. linearize, then transpose: reverse mode from forward mode")
    calls = []

    def f(x):
        calls.append(1)
        return ad.sin(x) * x[::-1]

    x = ad.tensor([0.3, -1.2, 2.0])
    y, f_jvp = ad.linearize(f, x)
    v = ad.tensor([1.0, 0.0, -1.0])
    print("ad.linearize(f, x) runs one JVP whose tangent is a variable on the tape: the tape then")
    print("holds the linear map v -> J v alone, primal values baked in as constants. f_jvp")
    print("replays that program; f does not run again:")
    print(f"  f_jvp(v) = {f_jvp(v).tolist()}")
    print(f"  jvp      = {ad.jvp(f, (x,), (v,))[1].tolist()}")
    print(f"f ran {len(calls)} times: once in linearize, once in jvp, never in f_jvp")
    print("The replayed program, recorded with v as the variable: every row is linear in v")
    ad.viz.tape(f_jvp, v.numpy(), names=None)
    u = ad.tensor([1.0, 2.0, 3.0])
    (transposed,) = ad.linear_transpose(f_jvp, x)(u)
    (pulled,) = ad.vjp(f, x)[1](u)
    print("Transposing the linear program (its backward pass) gives J^T u, which is what the")
    print("VJP computes directly; reverse mode is forward mode, linearized and transposed:")
    print(f"  linear_transpose(f_jvp)(u) = {np.round(transposed.numpy(), 6).tolist()}")
    print(f"  vjp(f, x)[1](u)            = {np.round(pulled.numpy(), 6).tolist()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (for tests)")
    parser.add_argument("--out", type=Path, default=Path("runs/tutorial_5"),
                        help="folder for plots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pytrees(40 if args.quick else 200)
    stable_rule()
    straight_through(30 if args.quick else 100)
    clipping()
    checkpointing(args.quick, args.out)
    linearize_then_transpose()


if __name__ == "__main__":
    main()
