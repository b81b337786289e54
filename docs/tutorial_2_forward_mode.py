"""Tutorial 2: forward mode, from dual numbers to forward gradients.

    python docs/tutorial_2_forward_mode.py [--quick] [--out DIR]

Tutorial 1 trained with ``loss.backward()`` as a black box; this one and the next open it.
Forward mode differentiates *while* it computes: every value carries, next to itself, how fast it
moves when the input moves in one chosen direction. We build that by hand on a scalar, meet
tinyad's version (``ad.dual``, ``ad.jvp``), assemble a Jacobian one column at a time, see why
nested derivatives need *levels*, and end with the forward gradient: an unbiased estimate of a
whole gradient from forward passes alone. The plot goes to DIR (default runs/tutorial_2).
"""
import argparse
import math
from pathlib import Path

import matplotlib
import numpy as np

import tinyad as ad

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)


def section(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


# --- 1. Dual numbers by hand ----------------------------------------------------------------------
class HandDual:
    """``value + deriv·ε`` with ε² = 0. Multiplying two of them,

        (a + a'ε)(b + b'ε) = ab + (a'b + ab')ε + a'b'ε² = ab + (a'b + ab')ε,

    is the product rule: arithmetic on these pairs *is* differentiation."""

    def __init__(self, value, deriv=0.0):
        self.value, self.deriv = value, deriv

    def __add__(self, other):
        other = other if isinstance(other, HandDual) else HandDual(other)
        return HandDual(self.value + other.value, self.deriv + other.deriv)

    def __mul__(self, other):
        other = other if isinstance(other, HandDual) else HandDual(other)
        return HandDual(self.value * other.value,
                        self.deriv * other.value + self.value * other.deriv)

    __radd__, __rmul__ = __add__, __mul__


def hand_sin(x):
    """sin(a + a'ε) = sin a + cos(a)·a' ε: each function brings its own derivative rule."""
    return HandDual(math.sin(x.value), math.cos(x.value) * x.deriv)


def hand_derivative(f, x):
    """f'(x): seed the input with derivative 1, read the output's ε part."""
    return f(HandDual(x, 1.0)).deriv


def dual_numbers_by_hand():
    section("1. dual numbers by hand")
    f = lambda x: x * hand_sin(x) + x                      # noqa: E731
    x = 2.0
    out = f(HandDual(x, 1.0))
    exact = math.sin(x) + x * math.cos(x) + 1
    print(f"f(x) = x·sin(x) + x at x = {x}:")
    print(f"  one pass with x = {x} + 1ε gives value {out.value:.6f} and ε part {out.deriv:.6f}")
    print(f"  by hand, f'(x) = sin x + x cos x + 1 = {exact:.6f}")
    print("tinyad does the same with ad.dual, for tensors, primitive by primitive: each row is one")
    print("primitive's output, its primal and its tangent (the ε part), v<k> naming row k:")
    ad.viz.forward_trace(lambda x: x * ad.sin(x) + x, (ad.tensor(x, dtype="float64"),),
                         (ad.tensor(1.0, dtype="float64"),))


# --- 2. One JVP, one direction --------------------------------------------------------------------
def f2(x):
    """f: R³ -> R², a small function with a non-trivial Jacobian."""
    return ad.stack([x[0] * x[1] + ad.sin(x[2]), ad.exp(x[0]) * x[2] ** 2])


def one_jvp():
    section("2. ad.jvp: one forward pass, one directional derivative")
    x = ad.tensor([0.5, -1.0, 2.0], dtype="float64")
    v = ad.tensor([1.0, 2.0, -0.5], dtype="float64")
    y, jv = ad.jvp(f2, (x,), (v,))
    h = 1e-6
    fd = (f2(x + h * v).numpy() - f2(x - h * v).numpy()) / (2 * h)
    print(f"f(x) = {y.numpy()}")
    print(f"J v  = {jv.numpy()}   (forward mode)")
    print(f"       {fd}   (central difference (f(x + hv) - f(x - hv)) / 2h)")
    print("One pass gives J v for the one v we chose: how f moves along v, never J itself.")
    return x


def jacobian_by_columns(x):
    section("3. the Jacobian, column by column")
    print("J e_k is column k of J, so n input dimensions cost n JVPs:")
    columns = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = 1.0
        columns.append(ad.jvp(f2, (x,), (ad.tensor(e),))[1].numpy())
        print(f"  J e_{k} = {columns[-1]}")
    J = np.stack(columns, axis=1)
    print(f"stacked:\n{J}")
    print(f"max |J - ad.jacfwd(f)(x)| = {np.abs(J - ad.jacfwd(f2)(x).numpy()).max():.2e}, "
          f"max |J - ad.jacrev(f)(x)| = {np.abs(J - ad.jacrev(f2)(x).numpy()).max():.2e}")
    print("Forward mode suits few inputs and many outputs; reverse mode (tutorial 3) the opposite.")


# --- 4. Perturbation confusion --------------------------------------------------------------------
def perturbation_confusion():
    section("4. perturbation confusion, and why levels fix it")
    print("g(x) = x · [d/dy (x + y) at y = 1]. The bracket is 1 for every x, so g(x) = x and")
    print("g'(1) = 1. Nest our hand-made derivative inside itself:")
    wrong = hand_derivative(lambda x: x * hand_derivative(lambda y: x + y, 1.0), 1.0)
    print(f"  HandDual (one ε for everything): g'(1) = {wrong}")
    print("Inside the bracket, x already carries the outer ε; the inner derivative adds x's ε")
    print("part to y's and reports 2 where 1 is right: two perturbations were confused.")
    right = ad.jvp(lambda x: x * ad.jvp(lambda y: x + y, (1.0,), (1.0,))[1], (1.0,), (1.0,))[1]
    print(f"  ad.jvp (a fresh level per jvp):  g'(1) = {right.item()}")
    print("Each jvp tags its dual numbers with a new, higher level. x + y meets x at the outer")
    print("level and y at the inner one: the primitive works at the highest level among its")
    print("inputs and treats x as a constant there, so the inner derivative is 1; the outer ε")
    print("rides along in the primal parts, untouched, and the outer jvp reads it at the end.")


# --- 5. The forward gradient ----------------------------------------------------------------------
def rosenbrock(v):
    return ((1 - v[:-1]) ** 2 + 100 * (v[1:] - v[:-1] ** 2) ** 2).sum()


def forward_gradient(quick, out):
    section("5. the forward gradient: (∇f·v) v from forward passes only")
    n, k_max, trials = 10, (64 if quick else 512), (8 if quick else 40)
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.uniform(-1, 1, n))
    true = ad.grad(rosenbrock)(x).numpy()
    print(f"f = Rosenbrock in n = {n} dimensions. For v ~ N(0, I), one JVP gives ∇f·v, and")
    print("g = (∇f·v) v has mean E[v vᵀ] ∇f = ∇f: an unbiased gradient estimate with no backward")
    print("pass. Its error is large: E|g - ∇f|² = (n + 1)|∇f|², so the mean of K independent")
    print(f"estimates has relative squared error (n + 1)/K. Measured over {trials} trials:")
    ks = 2 ** np.arange(int(math.log2(k_max)) + 1)
    errors = np.empty((trials, len(ks)))
    for trial in range(trials):
        vs = rng.standard_normal((k_max, n))
        slopes = np.array([ad.jvp(rosenbrock, (x,), (ad.tensor(v),))[1].item() for v in vs])
        means = np.cumsum(slopes[:, None] * vs, axis=0) / np.arange(1, k_max + 1)[:, None]
        errors[trial] = np.sum((means[ks - 1] - true) ** 2, axis=1) / np.sum(true ** 2)
    measured = errors.mean(axis=0)
    print(f"  {'K':>5}  {'measured |mean - ∇f|²/|∇f|²':>28}  {'theory (n+1)/K':>15}")
    for k, m in zip(ks, measured):
        print(f"  {k:>5}  {m:>28.4f}  {(n + 1) / k:>15.4f}")
    last = means[-1]
    cosine = last @ true / (np.linalg.norm(last) * np.linalg.norm(true))
    print(f"With K = {k_max} the mean points along ∇f with cosine {cosine:.4f}: unbiased, but the")
    print("variance only falls as 1/K, and the constant grows with the dimension n.")
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.loglog(ks, measured, "o-", label="measured")
    ax.loglog(ks, (n + 1) / ks, "k--", label="(n + 1) / K")
    ax.set_xlabel("tangents K")
    ax.set_ylabel("|mean of K estimates - ∇f|² / |∇f|²")
    ax.set_title(f"Forward gradient on Rosenbrock, n = {n}")
    ax.legend()
    fig.tight_layout()
    path = out / "forward_gradient_error.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plot: {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (for tests)")
    parser.add_argument("--out", type=Path, default=Path("runs/tutorial_2"),
                        help="folder for plots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    dual_numbers_by_hand()
    x = one_jvp()
    jacobian_by_columns(x)
    perturbation_confusion()
    forward_gradient(args.quick, args.out)


if __name__ == "__main__":
    main()
