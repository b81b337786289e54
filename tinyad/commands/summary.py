"""From trials to conclusions: per-method mean ± standard deviation over seeds, the learning
rate each method's validation accuracy picks from a grid, and the tables ``tinyad compare``
writes.

Every statistic keeps its per-seed values beside the mean and the standard deviation (n - 1 in
the denominator; 0 for one seed). A method's learning rate from a grid is the one with the best
mean over seeds of the best-epoch validation accuracy; the test accuracy reported is that of the
pick (the test split played no part in choosing it).
"""
from collections import defaultdict

import numpy as np

METRICS = ("test_acc", "test_acc_best", "best_val_acc", "final_val_acc", "best_epoch",
           "train_loss", "ms_per_step", "steps_per_s", "compile_ms", "warmup_ms", "peak_mib",
           "steps_to_target", "seconds_to_target", "align_hidden", "align_output",
           "align_mean_hidden")


def mean_sd(values):
    """{"mean", "sd", "values", "n"} over the values that are not None (mean None if none)."""
    have = np.array([v for v in values if v is not None], dtype=float)
    return {"mean": float(have.mean()) if len(have) else None,
            "sd": float(have.std(ddof=1)) if len(have) > 1 else 0.0,
            "n": int(len(have)), "values": list(values)}


def readouts(layers):
    """The output layers among the weight matrices `layers`: the last one, or on local losses
    every block's head."""
    heads = [k for k in layers if k.startswith("heads.")]
    return heads or layers[-1:]


def alignment_split(align, layers):
    """(mean cosine over the hidden weight layers, mean over the output layers) from {name:
    cosine}: the output layers apart, since DFA, FA, fg-readout and activity-perturbed FG all
    update them exactly."""
    out = readouts(layers)
    hidden = [align[k] for k in layers if k not in out and k in align]
    return ((float(np.mean(hidden)) if hidden else None),
            float(np.mean([align[k] for k in out])))


def per_trial(result):
    """The trial's numbers that are summarised over seeds."""
    out = {k: result.get(k) for k in METRICS}
    layers = result["layers"]
    if result.get("diverged"):
        return out
    out["align_hidden"], out["align_output"] = alignment_split(
        result["history"][-1]["alignment"], layers)
    if result.get("alignment_mean"):
        out["align_mean_hidden"] = alignment_split(result["alignment_mean"], layers)[0]
    return out


def group(results):
    """{(method, lr): [results, in seed order]}."""
    groups = defaultdict(list)
    for r in results:
        groups[(r["spec"]["method"], r["spec"]["lr"])].append(r)
    return {k: sorted(v, key=lambda r: r["spec"]["seed"]) for k, v in groups.items()}


def summarise(runs):
    """{metric: mean_sd} over the seeds of one (method, lr), plus the seeds."""
    rows = [per_trial(r) for r in runs]
    out = {k: mean_sd([row[k] for row in rows]) for k in METRICS}
    out["seeds"] = [r["spec"]["seed"] for r in runs]
    out["diverged"] = [r["spec"]["seed"] for r in runs if r.get("diverged")]
    return out


def pick(results):
    """({method: chosen lr}, {method: {lr: summary}}): per method, the learning rate whose mean
    best-epoch validation accuracy is highest (ties: the smaller rate)."""
    grid = defaultdict(dict)
    for (method, lr), runs in group(results).items():
        grid[method][lr] = summarise(runs)
    chosen = {m: max(sorted(by_lr), key=lambda lr: by_lr[lr]["best_val_acc"]["mean"])
              for m, by_lr in grid.items()}
    return chosen, dict(grid)


# ---- tables ------------------------------------------------------------------------------------
COLUMNS = ["method", "lr", "test acc (final)", "test acc (best val)", "best epoch", "val acc",
           "train loss", "ms/step", "warm-up extra ms", "peak MiB", "align hidden",
           "align output", "align hidden (mean)", "steps to target"]
LEGEND = ("mean ± sd over the seeds (per-seed values in results.json). test acc (final): the "
          "last epoch's weights; (best val): the weights of the epoch with the best validation "
          "accuracy (early stopping), at that epoch; val acc: that best validation accuracy. "
          "ms/step: training steps after the warm-up steps; warm-up extra ms: what the warm-up "
          "steps took beyond as many ordinary steps (Numba compilation and other first-use "
          "costs). peak MiB: tracemalloc's peak during one step. align: cosine between the "
          "rule's update and the true gradient (on local losses: of each block's own loss) on a "
          "fixed training batch after the last epoch, "
          "averaged over the hidden weight matrices, and for the output layer apart (exact for "
          "dfa, fa, fg-activity and fg-readout); (mean): of the mean of many forward-gradient "
          "draws. steps to target: first step where the running mean of the training loss "
          "(20 steps) reaches the target loss (-: not reached by every seed). A run whose update "
          "turned non-finite stopped there (diverged) and counts in no column but val acc")


def fmt(stat, kind="num"):
    """'mean ± sd' as a table cell ('-' when no seed has a value)."""
    mean, sd = stat["mean"], stat["sd"]
    if mean is None:
        return "-"
    if kind == "pct":
        return f"{100 * mean:.2f} ± {100 * sd:.2f}"
    if kind == "int":
        return f"{mean:.1f} ± {sd:.1f}" if stat["n"] > 1 else f"{mean:.0f}"
    if kind == "prec":
        return f"{mean:.3f} ± {sd:.3f}"
    return f"{mean:.4g} ± {sd:.2g}"


def table_row(method, lr, s):
    reached = s["steps_to_target"]
    diverged = f" ({len(s['diverged'])} of {len(s['seeds'])} diverged)" if s["diverged"] else ""
    return dict(zip(COLUMNS, (
        method + diverged, f"{lr:g}", fmt(s["test_acc"], "pct"), fmt(s["test_acc_best"], "pct"),
        fmt(s["best_epoch"], "int"), fmt(s["best_val_acc"], "pct"), fmt(s["train_loss"], "prec"),
        fmt(s["ms_per_step"]), fmt(s["compile_ms"]), fmt(s["peak_mib"]),
        fmt(s["align_hidden"], "prec"), fmt(s["align_output"], "prec"),
        fmt(s["align_mean_hidden"], "prec"),
        fmt(reached, "int") if reached["n"] == len(reached["values"]) else "-")))


GRID_COLUMNS = ["method", "lr", "val acc (best epoch)", "picked"]


def grid_rows(chosen, grid):
    for method, by_lr in grid.items():
        for lr in sorted(by_lr):
            s = by_lr[lr]
            diverged = f" ({len(s['diverged'])} diverged)" if s["diverged"] else ""
            yield dict(zip(GRID_COLUMNS, (method, f"{lr:g}", fmt(s["best_val_acc"], "pct")
                                          + diverged,
                                          "yes" if lr == chosen[method] else "")))
