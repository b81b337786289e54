"""Plots for ``tinyad compare``: loss against steps and against seconds, alignment per layer."""
from pathlib import Path

import numpy as np

from .plotting import smooth


def plot_compare(plt, results, out):
    """loss_vs_steps.png, loss_vs_seconds.png and alignment.png in folder `out`, from the
    per-method results of ``tinyad compare``; returns the paths."""
    out = Path(out)
    paths = []
    for xkey, xlabel, fname in (("steps", "step", "loss_vs_steps.png"),
                                ("seconds", "wall-clock seconds (training steps only)",
                                 "loss_vs_seconds.png")):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, r in results.items():
            y = smooth(r["losses"])
            x = np.arange(len(r["losses"])) if xkey == "steps" else np.asarray(r["seconds"])
            ax.plot(x[len(x) - len(y):], y, label=name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("training loss (running mean)")
        ax.set_yscale("log")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / fname, dpi=120)
        plt.close(fig)
        paths.append(out / fname)
    paths.append(_plot_alignment(plt, results, out))
    return paths


def _plot_alignment(plt, results, out):
    names = list(results)
    layers = [k for k in results[names[0]]["alignment"] if k.endswith("weight")]
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, name in enumerate(names):
        r = results[name]
        values = [r["alignment"][k] for k in layers]
        ax.bar(np.arange(len(layers)) + i * width, values, width, label=f"{name} (one draw)")
        if "alignment_mean" in r:
            ax.scatter(np.arange(len(layers)) + i * width,
                       [r["alignment_mean"][k] for k in layers], marker="*", s=80,
                       color="black", zorder=3)
    ax.set_xticks(np.arange(len(layers)) + 0.4 - width / 2)
    ax.set_xticklabels(layers, rotation=15)
    ax.set_ylabel("cosine with the true gradient")
    ax.set_title("gradient alignment per layer (*: mean of many forward-gradient draws)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "alignment.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
