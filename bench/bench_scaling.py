"""Cost growth with depth and width: step time and peak memory for backprop, forward gradients
(weight perturbation) and DFA.

Depth: MLPs 784 -> [256] * L -> 10 with L = 2, 4, 8, 16, 32 hidden layers, at batch 64 and 1024.
Width: 784 -> [W] * L -> 10 with W = 64 ... 4096 and L = 1, 2, at batch 64. ReLU, softmax
cross-entropy, float32, MNIST-shaped data.

Rules (each one step, ``model.zero_grad(); rule.backward(model, loss, x, y)``):

    bp        ad.learning.Backprop(): the tape keeps every intermediate for the backward pass
    fg        ad.learning.ForwardGradient(): one dual-number pass under no_grad (nothing taped),
              v drawn for all parameters first, then p.grad = (∇f·v) v
    fg-lean   ad.learning.ForwardGradient(per_layer=True): the same estimate, layer by layer:
              each layer's v is drawn (from a key of its own) when the pass reaches it and drawn
              again for the update, so no parameter-sized tangent is held through the pass
    dfa       ad.learning.DFA(): a forward pass keeping each layer's input and pre-activation,
              then one random projection of the output error per layer

Memory (tracemalloc, which sees NumPy's buffers): the peak during one whole step above what was
allocated before it (it includes the gradients the step writes, the same for every rule, and fg's
tangents, one number per parameter), and the peak of the forward pass alone (forward_MiB): what
each rule keeps per layer. Time: medians of repetitions interleaved across rules, wall clock and
process CPU time, without tracemalloc.

The forward pass alone is measured through the rules too: ``ForwardGradient.
directional_derivative`` (the dual-number pass without the update) for fg and fg-lean.

    python bench/bench_scaling.py [--threads 1] [--quick] [--out DIR]
"""
import gc
import statistics
import tracemalloc

import numpy as np

import tinyad as ad
from tinyad import nn
from tinyad.commands import machine
from tinyad.commands.bench_cases import load_batch
from tinyad.commands.plotting import pyplot
from tinyad.commands.results import markdown_table, write
from tinyad.commands.timing import interleaved
from tinyad.learning import DFA, Backprop, ForwardGradient, network
from tinyad.nn import functional as F

from common import arguments, script

RULES = ("bp", "fg", "fg-lean", "dfa")


def make_rule(name, seed=0):
    if name == "bp":
        return Backprop()
    if name in ("fg", "fg-lean"):
        return ForwardGradient(seed=seed, per_layer=name == "fg-lean")
    return DFA(seed=seed)


def step_fn(rule, model, x, y):
    def step():
        model.zero_grad()
        return rule.update_direction(model, F.cross_entropy, x, y)
    return step


def peak_memory(rule, model, x, y, steps=2):
    """(peak bytes above the start of the step, gradient bytes): the smallest peak of `steps`
    steps (the first may include one-off allocations)."""
    step = step_fn(rule, model, x, y)
    step()
    peaks = []
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(steps):
            model.zero_grad()
            gc.collect(1)
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            rule.update_direction(model, F.cross_entropy, x, y)
            peaks.append(tracemalloc.get_traced_memory()[1] - start)
    finally:
        tracemalloc.stop()
    grads = sum(p.grad.data.nbytes for p in model.parameters() if p.grad is not None)
    return min(peaks), grads


def forward_memory(name, model, x, y):
    """Peak bytes of the forward pass alone, above the weights (and, for fg, the tangents, drawn
    before): what each rule keeps per layer. bp: the taped forward pass (its nodes hold the
    activations the backward pass reads); fg: the rule's dual-number pass under no_grad
    (``directional_derivative``); fg-lean: the same with each layer's tangent drawn on the way;
    dfa: the hand-written forward pass that keeps each layer's input and pre-activation."""
    rule = make_rule(name)
    params = list(model.parameters())
    vs = rule.draw([p.shape for p in params], params[0].data) if name == "fg" else None
    gc.collect(1)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        if name == "bp":
            keep = F.cross_entropy(model(x), y)                 # the tape: kept until measured
        elif name in ("fg", "fg-lean"):
            keep = rule.directional_derivative(model, F.cross_entropy, x, y, tangents=vs)
        else:
            keep = network.forward(network.layers_of(model, "dfa"), x.data)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    del keep
    return peak


def measure_config(sizes, batch, x, y, repeat, warmup, rules=RULES):
    """One MLP shape: per rule, median step times (wall and CPU, interleaved) and memory."""
    nn.init.seed(0)
    model = nn.MLP(sizes)
    xb = ad.tensor(np.resize(x, (batch, x.shape[1])))
    yb = np.resize(y, batch)
    rule_objs = {name: make_rule(name) for name in rules}
    wall, cpu = interleaved({name: step_fn(r, model, xb, yb) for name, r in rule_objs.items()},
                            repeat, warmup)
    n_params = sum(p.size for p in model.parameters())
    rows = []
    for name, rule in rule_objs.items():
        peak, grads = peak_memory(rule, model, xb, yb)
        tangents = 4 * n_params if name == "fg" else 0
        forward_peak = forward_memory(name, model, xb, yb)
        rows.append({
            "rule": name, "hidden": len(sizes) - 2, "width": sizes[1], "batch": batch,
            "params": n_params, "ms": 1e3 * statistics.median(wall[name]),
            "cpu_ms": 1e3 * statistics.median(cpu[name]), "peak_MiB": peak / 2**20,
            "grads_MiB": grads / 2**20, "tangents_MiB": tangents / 2**20,
            "forward_MiB": forward_peak / 2**20})
    return rows


def run(quick, repeat, warmup):
    x, y, source = load_batch(1024)
    depths = (2, 3) if quick else (2, 4, 8, 16, 32)
    widths = (32, 64) if quick else (64, 128, 256, 512, 1024, 2048, 4096)
    batches = (64,) if quick else (64, 1024)
    hiddens = (1,) if quick else (1, 2)
    depth_rows, width_rows = [], []
    for batch in batches:
        for depth in depths:
            depth_rows += measure_config([784] + [256] * depth + [10], batch, x, y, repeat, warmup)
            print(f"depth {depth} batch {batch} done", flush=True)
    for hidden in hiddens:
        for width in widths:
            reps = repeat if width <= 1024 else max(3, repeat // 3)
            width_rows += measure_config([784] + [width] * hidden + [10], 64, x, y, reps, warmup)
            print(f"width {width} x{hidden} done", flush=True)
    return {"data": source, "depth": depth_rows, "width": width_rows}


def slopes(rows, key):
    """Least-squares MiB (or ms) per added hidden layer, per rule and batch."""
    out = {}
    for batch in sorted({r["batch"] for r in rows}):
        for rule in RULES:
            pts = [(r["hidden"], r[key]) for r in rows if r["rule"] == rule and r["batch"] == batch]
            if len(pts) > 1:
                d, v = np.array(pts, dtype=float).T
                out[f"{rule} batch {batch}"] = float(np.polyfit(d, v, 1)[0])
    return out


def plot(result, out_dir):
    try:
        plt = pyplot()
    except ImportError as e:
        print(f"{e}: no plots")
        return []
    paths = []
    colors = {"bp": "C0", "fg": "C1", "fg-lean": "C2", "dfa": "C3"}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for batch, style in ((64, "-"), (1024, "--")):
        for rule in RULES:
            rows = [r for r in result["depth"] if r["rule"] == rule and r["batch"] == batch]
            if not rows:
                continue
            d = [r["hidden"] for r in rows]
            kw = dict(color=colors[rule], ls=style, marker="o", label=f"{rule}, batch {batch}")
            axes[0].plot(d, [r["ms"] for r in rows], **kw)
            axes[1].plot(d, [r["peak_MiB"] for r in rows], **kw)
            axes[2].plot(d, [r["forward_MiB"] for r in rows], **kw)
    paths.append(_finish(plt, fig, axes, "hidden layers of 256", out_dir / "scaling_depth.png"))

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for hidden, style in ((1, "-"), (2, "--")):
        for rule in RULES:
            rows = [r for r in result["width"] if r["rule"] == rule and r["hidden"] == hidden]
            if not rows:
                continue
            w = [r["width"] for r in rows]
            kw = dict(color=colors[rule], ls=style, marker="o",
                      label=f"{rule}, {hidden} hidden layer{'s' if hidden > 1 else ''}")
            axes[0].plot(w, [r["ms"] for r in rows], **kw)
            axes[1].plot(w, [r["peak_MiB"] for r in rows], **kw)
    paths.append(_finish(plt, fig, axes, "hidden width (batch 64)",
                         out_dir / "scaling_width.png"))
    return paths


PANELS = (("step time", "ms (median)"), ("peak memory during a step", "MiB"),
          ("forward pass alone: peak above weights and tangents", "MiB"))


def _finish(plt, fig, axes, xlabel, path):
    """Log-log panels titled from PANELS, the legend on the first; save to `path` and close."""
    for ax, (title, ylabel) in zip(axes, PANELS):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    parser = arguments(__doc__)
    parser.add_argument("--repeat", type=int, default=None, help="timed repetitions (default 9)")
    parser.add_argument("--threads", "--blas-threads", dest="threads", type=int, default=None,
                        help="OpenBLAS and Numba threads for this run (default: leave them)")
    args = parser.parse_args(argv)
    repeat = args.repeat or (2 if args.quick else 9)
    load_before = machine.loadavg()
    with machine.threads(args.threads) as threads:
        result = run(args.quick, repeat, warmup=1 if args.quick else 2)
        result["machine"] = machine.record()
    out_dir = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    result.update(repeat=repeat, quick=args.quick, blas_threads=threads["blas"], threads=threads,
                  loadavg_before=load_before, loadavg_after=machine.loadavg(),
                  mib_per_layer=slopes(result["depth"], "peak_MiB"),
                  forward_mib_per_layer=slopes(result["depth"], "forward_MiB"),
                  ms_per_layer=slopes(result["depth"], "ms"))
    plots = plot(result, out_dir)
    cols = ["rule", "hidden", "width", "batch", "params", "ms", "cpu_ms", "peak_MiB", "grads_MiB",
            "tangents_MiB", "forward_MiB"]
    per_layer = markdown_table(
        [{"rule, batch": k, "peak MiB per layer": v,
          "forward MiB per layer": result["forward_mib_per_layer"][k],
          "ms per layer": result["ms_per_layer"][k]} for k, v in result["mib_per_layer"].items()],
        ["rule, batch", "peak MiB per layer", "forward MiB per layer", "ms per layer"])
    table = (("**Smoke run (--quick): these numbers mean nothing.**\n\n" if args.quick else "")
             + f"Depth (hidden layers of 256):\n\n{markdown_table(result['depth'], cols)}\n\n"
             f"Growth per added hidden layer (least squares):\n\n{per_layer}\n\n"
             f"Width (batch 64):\n\n{markdown_table(result['width'], cols)}\n\n"
             f"ms: wall-clock median; cpu_ms: process CPU-time median; peak_MiB: tracemalloc peak "
             f"during one whole step above its start, which includes grads_MiB (the gradients "
             f"the step writes, the same for every rule) and, for fg, tangents_MiB (v: one number "
             f"per parameter, held for the whole step); forward_MiB: peak of the forward pass "
             f"alone (for bp the taped forward, whose nodes keep the activations), above the "
             f"weights and fg's tangents. BLAS threads: {result['blas_threads']}; load average "
             f"before/after: {load_before} / {result['loadavg_after']}. Plots: "
             + ", ".join(p.name for p in plots) + ".")
    write(out_dir, "scaling", result, table, "Step time and peak memory against depth and width")
    return result


if __name__ == "__main__":
    script(main)
