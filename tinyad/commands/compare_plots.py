"""Plots for ``tinyad compare``, each curve the mean over seeds with a band of ± one standard
deviation: training loss against steps and against seconds, validation accuracy per epoch, and
per-layer alignment with the true gradient over training (the output layer in its own panel)."""
from pathlib import Path

import numpy as np

from .plotting import smooth
from .summary import readouts


def band(ax, x, runs, label, color):
    """Mean of `runs` (equal-length rows) over the seeds, and ± one sd as a shaded band."""
    runs = np.asarray(runs, dtype=float)
    mean, sd = runs.mean(axis=0), runs.std(axis=0, ddof=1) if len(runs) > 1 else 0 * runs[0]
    ax.plot(x, mean, label=label, color=color)
    ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)


def plot_compare(plt, results, out):
    """loss_vs_steps.png, loss_vs_seconds.png, val_accuracy.png and alignment.png in folder
    `out` from {method: [trial results, one per seed]}; returns the paths."""
    out = Path(out)
    results = {m: [r for r in runs if not r.get("diverged")] for m, runs in results.items()}
    results = {m: runs for m, runs in results.items() if runs}     # diverged runs: not drawn
    if not results:
        return []
    colors = {m: f"C{i}" for i, m in enumerate(results)}
    seeds = max(len(runs) for runs in results.values())
    note = f" (mean ± sd over {seeds} seeds)" if seeds > 1 else ""
    paths = []
    for xkey, xlabel, fname in (("steps", "step", "loss_vs_steps.png"),
                                ("seconds", "wall-clock seconds (training steps only)",
                                 "loss_vs_seconds.png")):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, runs in results.items():
            ys = [smooth(r["losses"]) for r in runs]
            n = len(runs[0]["losses"])
            x = (np.arange(n) if xkey == "steps"
                 else np.mean([r["seconds"] for r in runs], axis=0))[n - len(ys[0]):]
            band(ax, x, ys, name, colors[name])
        ax.set(xlabel=xlabel, ylabel="training loss (running mean)", yscale="log",
               title="training loss" + note)
        ax.legend()
        ax.grid(alpha=0.3)
        paths.append(save(plt, fig, out / fname))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, runs in results.items():
        epochs = [h["epoch"] for h in runs[0]["history"]]
        band(ax, epochs, [[h["val_acc"] for h in r["history"]] for r in runs], name,
             colors[name])
    ax.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy" + note)
    ax.legend()
    ax.grid(alpha=0.3)
    paths.append(save(plt, fig, out / "val_accuracy.png"))
    paths.append(plot_alignment(plt, results, colors, out / "alignment.png", note))
    return paths


def plot_alignment(plt, results, colors, path, note):
    """One panel per weight matrix (the output layers named so), the cosine with the true
    gradient after each epoch."""
    layers = next(iter(results.values()))[0]["layers"]
    outputs = readouts(layers)
    fig, axes = plt.subplots(1, len(layers), figsize=(3.4 * len(layers) + 1, 3.8), sharey=True,
                             squeeze=False)
    for ax, layer in zip(axes[0], layers):
        for name, runs in results.items():
            epochs = [h["epoch"] for h in runs[0]["history"]]
            band(ax, epochs, [[h["alignment"][layer] for h in r["history"]] for r in runs],
                 name, colors[name])
        ax.set_title(("output layer " if layer in outputs else "") + layer, fontsize=9)
        ax.set_xlabel("epoch")
        ax.axhline(0, color="grey", lw=0.8)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("cosine with the true gradient")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle("alignment per layer over training (one draw per epoch)" + note, fontsize=10)
    return save(plt, fig, path)


def save(plt, fig, path):
    from matplotlib.ticker import MaxNLocator
    for ax in fig.axes:
        if ax.get_xlabel() == "epoch":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
