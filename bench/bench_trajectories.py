"""Optimisation trajectories on two test functions: gradient descent on the true gradient and on
forward gradients, from the same starting point.

    Beale       f(x, y) = (1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²,  min f(3, 0.5) = 0
    Rosenbrock  f(x, y) = (1 - x)² + 100 (y - x²)²,                                  min f(1, 1) = 0

    GD   p <- p - lr ∇f(p)                   ∇f by reverse mode: ``ad.grad(f)``
    FG   p <- p - lr (∇f(p)·v) v,  v ~ N(0, I)  ∇f·v by one forward-mode pass: ``ad.jvp(f, (p,), (v,))``

Both use the same step size per function (chosen so that both converge; larger steps make the
forward gradient diverge on some seeds while plain GD still converges, see the README), float64,
and fixed seeds: the forward-gradient path shown is seed 0, the loss plot adds seeds 1-4. Writes
trajectories_{beale,rosenbrock}.png (contours on log-spaced levels with both paths, and loss
against iterations) and trajectories.{json,md}.

    python bench/bench_trajectories.py [--quick] [--out DIR]
"""
import time

import numpy as np

import tinyad as ad
from tinyad.commands.plotting import pyplot
from tinyad.commands.results import markdown_table, write

from common import arguments


def beale(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


#        function, start, minimum, step size, iterations, plot window (x0, x1, y0, y1)
PROBLEMS = {
    "beale": (beale, (1.0, 1.5), (3.0, 0.5), 3e-3, 4000, (-0.5, 4.0, -1.0, 2.0)),
    "rosenbrock": (rosenbrock, (-1.2, 1.0), (1.0, 1.0), 1e-3, 10000, (-2.0, 2.0, -1.0, 3.0)),
}
SEEDS = (0, 1, 2, 3, 4)


def descend(f, start, lr, iters, forward_gradient, seed=0):
    """The path (iters + 1, 2) and losses (iters + 1,) of gradient descent from `start`."""
    rng = np.random.default_rng(seed)
    grad = ad.grad(f)
    p = np.array(start, dtype=np.float64)
    path, losses = [p.copy()], [float(f(ad.tensor(p)).item())]
    for _ in range(iters):
        if forward_gradient:
            v = rng.standard_normal(2)
            value, slope = ad.jvp(f, (ad.tensor(p),), (ad.tensor(v),))
            g = float(slope.item()) * v
        else:
            g = grad(ad.tensor(p)).numpy()
        p = p - lr * g
        path.append(p.copy())
        losses.append(float(f(ad.tensor(p)).item()))
        if not np.all(np.isfinite(p)):
            break
    return np.array(path), np.array(losses)


def plot(name, f, result, window, minimum, out_dir):
    try:
        plt = pyplot()
    except ImportError as e:
        print(f"{e}: no plots")
        return None
    from matplotlib.colors import LogNorm
    x0, x1, y0, y1 = window
    xs, ys = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    zs = f(ad.tensor(np.stack([xs, ys]))).numpy()             # f is elementwise in (x, y)
    levels = np.logspace(np.log10(max(zs.min(), 1e-3)), np.log10(zs.max()), 25)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5))
    cs = ax.contour(xs, ys, zs, levels=levels, norm=LogNorm(), cmap="viridis", linewidths=0.8)
    fig.colorbar(cs, ax=ax, label="f (log-spaced levels)")
    gd, fg = result["gd"]["path"], result["fg"][0]["path"]
    ax.plot(gd[:, 0], gd[:, 1], "-", color="C3", lw=1.8, label="GD (true gradient, ad.grad)")
    ax.plot(fg[:, 0], fg[:, 1], "-", color="C0", lw=0.9, alpha=0.85,
            label="FG (forward gradient, ad.jvp), seed 0")
    ax.plot(*gd[0], "ko", ms=6, label="start")
    ax.plot(*minimum, "*", color="gold", mec="k", ms=14, label="minimum")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"{name}: step size {result['lr']:g}, {result['iters']} iterations")
    ax.legend(fontsize=8, loc="upper left")
    bx.semilogy(result["gd"]["losses"], color="C3", lw=1.8, label="GD")
    for i, run in enumerate(result["fg"]):
        bx.semilogy(run["losses"], color="C0", lw=0.8, alpha=1.0 if i == 0 else 0.35,
                    label="FG, seeds 0-4" if i == 0 else None)
    bx.set_xlabel("iteration")
    bx.set_ylabel("f")
    bx.set_title(f"{name}: loss against iterations")
    bx.grid(alpha=0.3, which="both")
    bx.legend()
    fig.tight_layout()
    path = out_dir / f"trajectories_{name}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    parser = arguments(__doc__)
    args = parser.parse_args(argv)
    out_dir = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, payload, plots = [], {"problems": {}}, []
    for name, (f, start, minimum, lr, iters, window) in PROBLEMS.items():
        iters = 50 if args.quick else iters
        seeds = SEEDS[:1] if args.quick else SEEDS
        t = time.perf_counter()
        path, losses = descend(f, start, lr, iters, False)
        result = {"lr": lr, "iters": iters, "start": start, "minimum": minimum,
                  "gd": {"path": path, "losses": losses},
                  "fg": [dict(zip(("path", "losses"), descend(f, start, lr, iters, True, s)))
                         for s in seeds]}
        seconds = time.perf_counter() - t
        plots.append(plot(name, f, result, window, minimum, out_dir))
        fg_final = [r["losses"][-1] for r in result["fg"]]
        rows.append({"function": name, "start": str(start), "step size": lr, "iterations": iters,
                     "GD final f": float(losses[-1]), "FG final f (seed 0)": float(fg_final[0]),
                     "FG final f (median of seeds)": float(np.median(fg_final)),
                     "FG final f (worst seed)": float(np.max(fg_final)),
                     "GD distance to min": float(np.linalg.norm(path[-1] - minimum)),
                     "FG distance to min (seed 0)":
                         float(np.linalg.norm(result["fg"][0]["path"][-1] - minimum)),
                     "seconds": seconds})
        # keep the JSON small: every 10th point of the paths and losses
        payload["problems"][name] = {
            "lr": lr, "iters": iters, "start": start, "minimum": minimum, "seeds": list(seeds),
            "gd_path_every_10": path[::10].round(6).tolist(),
            "gd_loss_every_10": losses[::10].tolist(),
            "fg_path_every_10": result["fg"][0]["path"][::10].round(6).tolist(),
            "fg_loss_every_10": {s: r["losses"][::10].tolist()
                                 for s, r in zip(seeds, result["fg"])}}
    cols = list(rows[0])
    table = (("**Smoke run (--quick): these numbers mean nothing.**\n\n" if args.quick else "")
             + markdown_table(rows, cols) + "\n\nPlots: "
             + ", ".join(p.name for p in plots if p is not None) + ".")
    payload["rows"] = rows
    write(out_dir, "trajectories", payload, table,
          "Gradient descent: true gradient vs forward gradient")
    return rows


if __name__ == "__main__":
    main()
