"""``tinyad walkthrough``: linear regression by hand, one mini-batch at a time.

The model is a line, y' = a·x + b, with a = b = 1 at the start; the loss is the mean squared error
over a batch of B points, with residuals r = y' - y:

    L = (1/B) sum r²          dL/da = (1/B) sum 2·r·x          dL/db = (1/B) sum 2·r

and SGD moves both against the gradient: a <- a - lr·dL/da, b <- b - lr·dL/db. The first step,
on the points (0.2, 0.18) and (0.4, 0.32):

    y' = 1.2, 1.4         r = 1.02, 1.08          L = (1.02² + 1.08²) / 2 = 1.1034
    dL/da = (2·1.02·0.2 + 2·1.08·0.4) / 2 = 0.636          dL/db = (2·1.02 + 2·1.08) / 2 = 2.1
    a = 1 - 0.1·0.636 = 0.9364                             b = 1 - 0.1·2.1 = 0.79

The training loop is tinyad's own, exactly as for a network: a and b are ``nn.Parameter``s, the
loss is ``F.mse_loss``, ``loss.backward()`` fills ``a.grad`` and ``b.grad``, ``optim.SGD`` steps.
Plots (``--out``): ``fit.gif`` (the line moving, if Pillow is installed), ``frames/step_NNN.png``
(the same frames as images) and ``loss.png`` (the loss per batch).
"""
import numpy as np

from .. import nn, optim, tensor
from ..nn import functional as F
from .checks import positive_float, positive_int, require_plots, writable_folder

X = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2], dtype=np.float64)
Y = np.array([0.18, 0.32, 0.42, 0.48, 0.58, 0.72], dtype=np.float64)


def add_arguments(parser):
    parser.add_argument("--epochs", type=positive_int, default=3,
                        help="passes over the six points (default 3)")
    parser.add_argument("--lr", type=positive_float, default=0.1,
                        help="SGD learning rate (default 0.1)")
    parser.add_argument("--batch-size", type=positive_int, default=2,
                        help="points per step, taken in order (default 2)")
    parser.add_argument("--out", default="runs/walkthrough", help="folder for the plots")
    parser.add_argument("--no-plots", action="store_true", help="print the trace only")


def train(epochs=3, lr=0.1, batch_size=2):
    """Run the walk-through; returns one record per step (plain floats and NumPy arrays)."""
    a = nn.Parameter(tensor(1.0, dtype=np.float64))
    b = nn.Parameter(tensor(1.0, dtype=np.float64))
    opt = optim.SGD([("a", a), ("b", b)], lr=lr)
    steps = []
    for epoch in range(1, epochs + 1):
        for start in range(0, len(X), batch_size):
            x, y = X[start:start + batch_size], Y[start:start + batch_size]
            opt.zero_grad()
            pred = a * tensor(x) + b
            loss = F.mse_loss(pred, tensor(y))
            loss.backward()
            before = (a.item(), b.item())
            opt.step()
            steps.append({"epoch": epoch, "rows": (start, start + len(x) - 1), "x": x, "y": y,
                          "pred": pred.numpy(), "residual": pred.numpy() - y,
                          "loss": loss.item(), "dL/da": a.grad.item(), "dL/db": b.grad.item(),
                          "before": before, "a": a.item(), "b": b.item()})
    return steps


def print_step(i, s, lr):
    print(f"step {i} (epoch {s['epoch']}, points {s['rows'][0]}-{s['rows'][1]}):  "
          f"a = {s['before'][0]:.6f}, b = {s['before'][1]:.6f}")
    print("        x        y    y' = a x + b    r = y' - y")
    for x, y, p, r in zip(s["x"], s["y"], s["pred"], s["residual"]):
        print(f"  {x:7.3f}  {y:7.3f}  {p:14.6f}  {r:12.6f}")
    print(f"  loss  = mean(r²)    = {s['loss']:.6f}")
    print(f"  dL/da = mean(2 r x) = {s['dL/da']:.6f}    "
          f"a <- {s['before'][0]:.6f} - {lr} * {s['dL/da']:.6f} = {s['a']:.6f}")
    print(f"  dL/db = mean(2 r)   = {s['dL/db']:.6f}    "
          f"b <- {s['before'][1]:.6f} - {lr} * {s['dL/db']:.6f} = {s['b']:.6f}")
    print()


def run(args):
    if not args.no_plots:
        plt = require_plots()
        out = writable_folder(args.out)
    print(f"Fit y' = a x + b to {len(X)} points; MSE loss, SGD lr {args.lr}, batch size "
          f"{args.batch_size}, {args.epochs} epoch(s); a = b = 1 at the start.\n")
    steps = train(args.epochs, args.lr, args.batch_size)
    for i, s in enumerate(steps, 1):
        print_step(i, s, args.lr)
    a, b = steps[-1]["a"], steps[-1]["b"]
    best_a, best_b = np.polyfit(X, Y, 1)
    print(f"after {len(steps)} steps: a = {a:.6f}, b = {b:.6f}, loss on all points "
          f"{np.mean((a * X + b - Y) ** 2):.6f}")
    print(f"least squares (the loss's minimum): a = {best_a:.6f}, b = {best_b:.6f}, loss "
          f"{np.mean((best_a * X + best_b - Y) ** 2):.6f}")
    if not args.no_plots:
        for path in plot(plt, steps, out):
            print(f"wrote {path}")
    return 0


def plot(plt, steps, out):
    """Write the frames, the GIF (when Pillow is there) and the loss curve into folder `out`;
    returns the paths."""
    from matplotlib.animation import PillowWriter
    frames = out / "frames"
    frames.mkdir(parents=True, exist_ok=True)
    written = [frames]
    fig, ax = plt.subplots(figsize=(5, 4))
    grid = np.linspace(0, 1.4, 2)
    gif = out / "fit.gif"
    try:
        import PIL  # noqa: F401  (PillowWriter needs it)
        writer = PillowWriter(fps=2)
        writer.setup(fig, gif, dpi=80)
    except ImportError:
        writer = None
    for i, s in enumerate(steps, 1):
        ax.clear()
        ax.scatter(X, Y, color="grey", label="data")
        ax.scatter(s["x"], s["y"], color="tab:red", label="this batch")
        ax.plot(grid, s["before"][0] * grid + s["before"][1], "--", color="tab:blue",
                label="before the step")
        ax.plot(grid, s["a"] * grid + s["b"], color="tab:blue", label="after the step")
        ax.set(xlim=(0, 1.4), ylim=(0, 2.6), xlabel="x", ylabel="y",
               title=f"step {i}: a = {s['a']:.3f}, b = {s['b']:.3f}, loss {s['loss']:.4f}")
        ax.legend(loc="upper left")
        fig.savefig(frames / f"step_{i:03d}.png", dpi=80)
        if writer is not None:
            writer.grab_frame()
    if writer is not None:
        writer.finish()
        written.append(gif)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(1, len(steps) + 1), [s["loss"] for s in steps], "o-")
    ax.set(xlabel="step (batch)", ylabel="MSE loss on the batch", yscale="log",
           title="loss per batch")
    fig.tight_layout()
    fig.savefig(out / "loss.png", dpi=80)
    plt.close(fig)
    return written + [out / "loss.png"]
