"""Tutorial 3: reverse mode, the tape and the order it is read in.

    python docs/tutorial_3_reverse_mode.py [--quick] [--out DIR]

Tutorial 2 pushed derivatives forward, one input direction per pass. Reverse mode pulls them
backward: run f once while writing each primitive application on a *tape*, then read the tape from
the end, turning the output's cotangent into every input's at once. We print a tape, see why it
must be read in Wengert order (and what goes wrong otherwise), differentiate a derivative, compare
Hessian-vector products with the full Hessian, draw the graph, and time reverse against forward
mode as the number of inputs grows. Plots go to DIR (default runs/tutorial_3).
"""
import argparse
import shutil
import time
from pathlib import Path

import matplotlib
import numpy as np

import tinyad as ad
from tinyad.node import Node

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)


def section(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


# --- 1. The tape ----------------------------------------------------------------------------------
def layer_loss(x, w):
    """A one-layer network's loss: sum of tanh(x @ w)², plus a small penalty on w."""
    return (ad.tanh(x @ w) ** 2).sum() + 0.1 * (w * w).sum()


def the_tape():
    section("1. the tape")
    x = np.array([[1.0, -0.5, 2.0], [0.3, 0.8, -1.2]])
    w = np.array([[0.2, -0.1], [0.4, 0.3], [-0.3, 0.1]])
    print("Running layer_loss(x, w) while x and w require a gradient records one node per")
    print("primitive. '#' is the node's Wengert number, a counter that only grows, so every node")
    print("is numbered after the nodes that made its inputs:")
    ad.viz.tape(layer_loss, x, w)
    print("'saved for backward' lists what each node keeps for its VJP rules, and nothing else:")
    print("matmul both factors (each one's rule reads the other), tanh only its output")
    print("(1 - out²), power its base and exponent, 0.1 * s the 0.1 (s's rule reads only the")
    print("other factor), sum and add no values at all (a cotangent is fitted from shapes). What")
    print("is kept stays alive until backward runs: reverse mode's price in memory, about one")
    print("array per layer; everything else is freed as the forward pass moves on.")


# --- 2. Shared nodes and the order of the backward pass -------------------------------------------
def shared(t):
    """x = 3t is used three times: twice by x*x, once by the + (so dy/dt = 3(2x + 1))."""
    x = 3 * t
    return x * x + x


def naive_backward(node, grads, visits):
    """Deliberately wrong: whenever a consumer hands a node a share, visit it at once and push
    its running total down to its parents. A value used three times is visited three times, and
    the earlier shares are pushed again each time."""
    visits[node.index] = visits.get(node.index, 0) + 1
    for parent, share in node.cotangents(grads[node]):
        grads[parent] = grads.get(parent, 0) + share
        if isinstance(parent, Node):
            naive_backward(parent, grads, visits)


def wengert_backward(y):
    """Right: collect the recorded nodes, visit each once, newest Wengert number first. By then
    every consumer (all numbered later) has added its share. This is tinyad/tape.py's loop.
    A node's parents are the nodes that computed its inputs, or the leaves themselves; its
    ``cotangents(g)`` runs the VJP rules on what it saved."""
    seen, stack = set(), [y._node]
    while stack:
        node = stack.pop()
        if isinstance(node, Node) and node not in seen:
            seen.add(node)
            stack.extend(p for p in node.parents if p is not None)
    grads = {y._node: ad.ones_like(y)}
    for node in sorted(seen, key=lambda n: n.index, reverse=True):
        for parent, share in node.cotangents(grads[node]):
            grads[parent] = grads.get(parent, 0) + share
    return grads


def shared_nodes():
    section("2. a shared node: visit it once, after all its consumers")
    t = ad.tensor(1.0, dtype="float64", requires_grad=True)
    y = shared(t)
    ad.viz.tape(y, names={"t": t})
    x = 3 * t.item()
    print(f"t = {t.item()}, x = 3t = {x}, y = x·x + x = {y.item()}; "
          f"dy/dt = 3(2x + 1) = {3 * (2 * x + 1)}")
    grads, visits = {y._node: ad.ones_like(y)}, {}
    naive_backward(y._node, grads, visits)
    print(f"naive visit-per-use backward:  dy/dt = {grads[t].item()}   "
          f"(node visits by Wengert number: {visits})")
    print("x's consumers hand it its shares one by one: x = 3 and 3 from the two factors of")
    print("x·x, then 1 from the +. The naive walk visits x after each and pushes x's running")
    print("total (3, then 6, then 7) times dx/dt = 3 down to t: 9 + 18 + 21 = 48. Only the")
    print("last push, of the complete total, is right. (Pushing just the new share would give")
    print("21, but then the visits multiply along every path: exponential in the depth.)")
    right = wengert_backward(shared(t))
    print(f"Wengert-order backward:        dy/dt = {right[t].item()}   (each node once)")
    print(f"ad.grad(shared)(1.0):          dy/dt = {ad.grad(shared)(1.0).item()}")


# --- 3. Higher order ------------------------------------------------------------------------------
def higher_order():
    section("3. grad of grad")
    f = lambda x: x ** 3 + ad.sin(x)                                      # noqa: E731
    x = ad.tensor(2.0, dtype="float64")
    d1, d2, d3 = ad.grad(f), ad.grad(ad.grad(f)), ad.grad(ad.grad(ad.grad(f)))
    print("f(x) = x³ + sin x at x = 2. The VJP rules are written with tinyad's own operations, so")
    print("the backward pass is recorded on a tape of its own and can be differentiated again:")
    print(f"  f'(2)   = {d1(x).item():.10f}   3x² + cos x = {12 + np.cos(2):.10f}")
    print(f"  f''(2)  = {d2(x).item():.10f}   6x - sin x  = {12 - np.sin(2):.10f}")
    print(f"  f'''(2) = {d3(x).item():.10f}   6 - cos x   = {6 - np.cos(2):.10f}")


def rosenbrock(v):
    return ((1 - v[:-1]) ** 2 + 100 * (v[1:] - v[:-1] ** 2) ** 2).sum()


def hessian_vector_products(n):
    section("4. Hessian-vector products without the Hessian")
    rng = np.random.default_rng(0)
    x, v = ad.tensor(rng.uniform(-1, 1, n)), ad.tensor(rng.standard_normal(n))
    _, hv = ad.hvp(rosenbrock, (x,), (v,))
    H = ad.hessian(rosenbrock)(x).numpy()
    print(f"Rosenbrock in n = {n}. ad.hvp pushes one tangent v through the gradient computation")
    print("(forward over reverse): H v for about the cost of a few gradients. ad.hessian builds")
    print(f"all of H, one such column per input ({n} of them), then multiplies:")
    print(f"  ad.hvp              H v = {np.array2string(hv.numpy()[:4], precision=5)} ...")
    print(f"  ad.hessian(f)(x) @ v    = {np.array2string((H @ v.numpy())[:4], precision=5)} ...")
    print(f"  max |difference| = {np.abs(hv.numpy() - H @ v.numpy()).max():.2e}")


# --- 4. Pictures and timings ----------------------------------------------------------------------
def draw_graph(out):
    section("5. the graph, drawn")
    x = ad.tensor([[1.0, -0.5, 2.0]], dtype="float64", requires_grad=True)
    w = ad.tensor(np.full((3, 2), 0.1), requires_grad=True)
    y = layer_loss(x, w)
    dot_path = out / "layer_loss.dot"
    dot_path.write_text(ad.viz.to_dot(y, names={"x": x, "w": w}))
    print(f"DOT text: {dot_path}")
    if shutil.which("dot"):
        print(f"picture:  {ad.viz.render(y, out / 'layer_loss.png', names={'x': x, 'w': w})}")
    else:
        print("(Graphviz's dot program is not installed, so no picture: apt-get install graphviz)")


def scaling(quick, out):
    section("6. reverse vs forward mode as the inputs grow")
    sizes = [2, 8, 32] if quick else [2, 8, 32, 128, 512]
    f = lambda x: (ad.tanh(x) ** 2).sum() + (x[1:] * x[:-1]).sum()       # noqa: E731
    rows = []
    for n in sizes:
        x = ad.tensor(np.linspace(-1, 1, n))
        rows.append((n, _seconds(lambda: ad.grad(f)(x)), _seconds(lambda: ad.jacfwd(f)(x))))
        assert np.allclose(ad.grad(f)(x).numpy(), ad.jacfwd(f)(x).numpy())
    print("The gradient of f: Rⁿ -> R by one backward pass, and by n JVPs (ad.jacfwd):")
    print(f"  {'n':>5}  {'ad.grad (ms)':>12}  {'ad.jacfwd (ms)':>14}  {'ratio':>6}")
    for n, rev, fwd in rows:
        print(f"  {n:>5}  {1e3 * rev:>12.2f}  {1e3 * fwd:>14.2f}  {fwd / rev:>6.1f}")
    print("Reverse mode's cost does not grow with the number of inputs: one scalar loss, any")
    print("number of parameters. That is why neural networks are trained with it.")
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ns = [r[0] for r in rows]
    ax.loglog(ns, [1e3 * r[1] for r in rows], "o-", label="reverse: ad.grad")
    ax.loglog(ns, [1e3 * r[2] for r in rows], "s-", label="forward: ad.jacfwd (n JVPs)")
    ax.set_xlabel("number of inputs n")
    ax.set_ylabel("milliseconds per gradient")
    ax.legend()
    fig.tight_layout()
    path = out / "reverse_vs_forward.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot: {path}")


def _seconds(fn):
    """The best of a few runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (for tests)")
    parser.add_argument("--out", type=Path, default=Path("runs/tutorial_3"),
                        help="folder for plots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    the_tape()
    shared_nodes()
    higher_order()
    hessian_vector_products(4 if args.quick else 8)
    draw_graph(args.out)
    scaling(args.quick, args.out)


if __name__ == "__main__":
    main()
