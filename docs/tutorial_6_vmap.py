"""Tutorial 6: vmap: write a function for one example, run it on a batch.

    python docs/tutorial_6_vmap.py [--quick] [--out DIR]

Section 1 maps a function over an axis and looks inside: the function sees one example, every
primitive runs once for the whole batch. Section 2 shows how, with the batching rules of the table
and the levels vmap shares with jvp (no perturbation confusion between them). Section 3 computes
per-example gradients, vmap(grad(loss)), and clips them one by one as differentially private SGD
does, against a Python loop. Section 4 builds Jacobians and Hessians from vmap over basis vectors,
and section 5 averages K forward gradients in one batched pass. The plot goes to DIR (default
runs/tutorial_6).
"""
import argparse
import time
from pathlib import Path

import matplotlib
import numpy as np

import tinyad as ad
from tinyad import learning, nn
from tinyad.nn import functional as F

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)


def section(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def seconds(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# --- 1. One example in, a batch out ----------------------------------------------------------
def one_example_in_a_batch_out():
    section("1. vmap: the function sees one example, the primitives see the batch")
    w = ad.tensor(np.random.default_rng(0).standard_normal((3, 2)))

    def layer(x):                         # written for one example x of shape (3,)
        print(f"  inside f: x.shape = {x.shape}, a {type(x).__name__} tensor")
        return ad.tanh(x @ w).sum()

    xs = ad.tensor(np.random.default_rng(1).standard_normal((5, 3)))
    out = ad.vmap(layer)(xs)
    loop = [layer_plain(w, x) for x in xs.numpy()]
    print(f"vmap(f)(xs) = {np.round(out.numpy(), 4).tolist()}")
    print(f"a loop      = {np.round(loop, 4).tolist()}")
    print("f ran once. Its x stands for one example (shape (3,)) and holds all five; each")
    print("primitive applied to it ran its batching rule: one matmul for the five examples, one")
    print("tanh, one sum. in_axes picks the mapped axis of each argument (None: shared by all),")
    print("out_axes where the results go:")
    pairs = ad.vmap(lambda a, b: a * b, in_axes=(1, None), out_axes=1)(xs, ad.tensor(2.0))
    print(f"  vmap(a * b, in_axes=(1, None), out_axes=1)(xs, 2.0).shape = {pairs.shape}")
    print("Inside f the values are not one example's, so reading them (x.numpy(), bool(x > 0))")
    print("raises; comparisons and ad.where work per example: ad.where(x > 0, x, 0.1 * x).")


def layer_plain(w, x):
    return float(np.tanh(x @ w.numpy()).sum())


# --- 2. Batching rules and levels ------------------------------------------------------------
def rules_and_levels():
    section("2. how: a batching rule per primitive, levels shared with jvp")
    print("Each primitive in ad.PRIMITIVES has a fourth rule next to its computation, JVP and VJP:")
    print("given the inputs with the batch axis first (or shared), apply the primitive to the")
    print("whole batch. Elementwise primitives and matmul line the batch axes up and broadcast")
    print("(tinyad/primitives/batching.py); a reduction moves its axes one place right; reshape")
    print("and transpose keep the batch axis in front; getitem puts a ':' before the index:")
    for name in ("mul", "matmul", "sum", "max"):
        print(f"  ad.PRIMITIVES[{name!r}].batch is {ad.PRIMITIVES[name].batch.__name__}")
    print("A batch is a tensor at a level, like a dual number, numbered by the same counter: each")
    print("operation interprets the highest level among its inputs first. So jvp inside vmap and")
    print("vmap inside jvp never mix their perturbations and batches. d/dx [x * d/dy (x + y)] is")
    print("1 for every example, however the transforms are stacked:")

    def inner(x):
        return x * ad.jvp(lambda y: x + y, (ad.tensor(1.0),), (ad.tensor(1.0),))[1]
    xs = ad.tensor([1.0, 2.0, 3.0])
    per = ad.vmap(lambda x: ad.jvp(inner, (x,), (ad.tensor(1.0),))[1])(xs)
    print(f"  vmap(jvp(x * jvp(x + y)))(xs) = {per.numpy().tolist()}")


# --- 3. Per-example gradients ----------------------------------------------------------------
def per_example_gradients(quick, out):
    section("3. per-example gradients: vmap(grad(loss), in_axes=(None, 0, 0))")
    nn.init.seed(0)
    model = nn.MLP([20, 32, 4])
    params = dict(model.named_parameters())
    rng = np.random.default_rng(0)

    def loss(p, x, y):                    # one example: x (20,), y a label
        return F.cross_entropy(nn.functional_call(model, p, x[None]), y[None])
    per_example = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))
    sizes = (8, 32, 128) if quick else (8, 32, 128, 512)
    rows = []
    for n in sizes:
        x = ad.tensor(rng.standard_normal((n, 20)).astype(np.float32))
        y = ad.tensor(rng.integers(0, 4, n))
        grads = per_example(params, x, y)
        looped = [ad.grad(loss)(params, x[i], y[i]) for i in range(n)]
        diff = max(float(np.abs(grads[k].numpy()[i] - g[k].numpy()).max())
                   for i, g in enumerate(looped) for k in params)
        t_vmap = seconds(lambda: per_example(params, x, y))
        t_loop = seconds(lambda: [ad.grad(loss)(params, x[i], y[i]) for i in range(n)], 1)
        rows.append((n, t_loop, t_vmap))
        print(f"  batch {n:4d}: loop {1e3 * t_loop:8.1f} ms, vmap {1e3 * t_vmap:6.1f} ms "
              f"({t_loop / t_vmap:5.1f}x), largest difference {diff:.1e}")
    norms = np.sqrt(sum((g.numpy().reshape(len(g.numpy()), -1) ** 2).sum(1)
                        for g in grads.values()))
    clip = np.median(norms)
    scale = np.minimum(1.0, clip / norms)
    clipped = {k: (g.numpy() * scale.reshape((-1,) + (1,) * (g.ndim - 1))).mean(0)
               for k, g in grads.items()}
    print(f"Clipping each example's gradient to norm {clip:.3f} (the median) before averaging, as")
    mean_norm = np.sqrt(sum((v ** 2).sum() for v in clipped.values()))
    print(f"DP-SGD does, shrinks {int((scale < 1).sum())} of {len(scale)} examples; the mean "
          f"clipped gradient has norm {mean_norm:.4f}.")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog([r[0] for r in rows], [1e3 * r[1] for r in rows], "o-", label="Python loop")
    ax.loglog([r[0] for r in rows], [1e3 * r[2] for r in rows], "s-", label="vmap(grad(loss))")
    ax.set_xlabel("examples")
    ax.set_ylabel("ms for all per-example gradients")
    ax.set_title("MLP 20-32-4, per-example gradients")
    ax.legend()
    fig.tight_layout()
    path = out / "per_example_gradients.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot: {path}")


# --- 4. Jacobians from vmap ------------------------------------------------------------------
def jacobians():
    section("4. Jacobians and Hessians: vmap over basis vectors")
    rng = np.random.default_rng(3)
    a = ad.tensor(rng.standard_normal((50, 50)) / 7)
    f = lambda x: ad.sin(a @ ad.tanh(x))            # noqa: E731
    x = ad.tensor(rng.standard_normal(50))
    eye = np.eye(50)
    loop = lambda: ad.stack([ad.jvp(f, (x,), (ad.tensor(e),))[1] for e in eye], axis=-1)  # noqa
    print("jacfwd(f)(x) is one JVP vmapped over the unit vectors: all 50 columns in one batched")
    print("pass; jacrev vmaps the pullback over the output's unit vectors; hessian is")
    print("jacfwd(jacrev(f)), a vmapped JVP of a vmapped VJP:")
    print(f"  same matrix as 50 JVPs: {np.allclose(ad.jacfwd(f)(x).numpy(), loop().numpy())}")
    mapped = seconds(lambda: ad.jacfwd(f)(x))
    print(f"  50 JVPs {1e3 * seconds(loop):.1f} ms, jacfwd {1e3 * mapped:.1f} ms "
          "(bench/bench_jacobians.py measures these at 100 x 100)")


# --- 5. K forward gradients in one pass ------------------------------------------------------
def forward_gradients(quick):
    section("5. forward gradients with K tangents in one batched JVP")
    nn.init.seed(0)
    model = nn.MLP([20, 64, 4])
    rng = np.random.default_rng(4)
    x = ad.tensor(rng.standard_normal((32, 20)).astype(np.float32))
    y = rng.integers(0, 4, 32)
    model.zero_grad()
    learning.Backprop().backward(model, F.cross_entropy, x, y)
    true = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
    print("ForwardGradient(tangents=K) averages K estimates (∇f·v) v. By default it runs one JVP")
    print("vmapped over the K directions (the loss once, the K tangents as one batch) instead of")
    print("K passes; the directions are the same ones, so is the estimate. The cosine with the")
    print("true gradient grows like sqrt(K / n):")
    for k in (1, 4, 16) if quick else (1, 4, 16, 64):
        rule = learning.ForwardGradient(tangents=k, seed=0)
        model.zero_grad()
        took = seconds(lambda: (model.zero_grad(), rule.backward(model, F.cross_entropy, x, y)))
        g = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
        print(f"  K = {k:2d}: cosine {learning.cosine(g, true):6.3f}, "
              f"{1e3 * took:6.2f} ms per step")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (for tests)")
    parser.add_argument("--out", type=Path, default=Path("runs/tutorial_6"),
                        help="folder for plots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    one_example_in_a_batch_out()
    rules_and_levels()
    per_example_gradients(args.quick, args.out)
    jacobians()
    forward_gradients(args.quick)


if __name__ == "__main__":
    main()
