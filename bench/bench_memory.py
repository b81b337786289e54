"""Memory and time of one training step of a deep MLP: backprop, checkpointed backprop, forward
gradients.

The model: x (batch, 1024) -> L hidden layers relu(h W + b) of width 1024 -> 10 logits, softmax
cross-entropy, float32, random data; L = 8 and 16, batch 1024. Each method computes an update
direction for every parameter:

    backprop         loss.backward(): the tape keeps every layer's intermediates (the input of
                     each matmul, the pre-activation, the activation) until the backward pass
    checkpoint √L    ad.checkpoint on segments of √L layers: the tape keeps the segments' inputs;
                     each segment runs again, recording, when the backward pass reaches it
    checkpoint 1     the same with one layer per segment
    forward gradient one dual-number pass (ad.jvp under no_grad, nothing taped) with a random
                     normal tangent v for every parameter, then g = (∇f·v) v: no backward pass,
                     but the tangents are as large as the parameters

Memory: tracemalloc's peak during the step above what was allocated before it (NumPy reports its
buffers to tracemalloc), the smallest of two steps; it includes the gradients the step writes
(the same for all methods) and, for forward gradients, the tangents. "Kept after forward" is what
is still allocated when the forward pass ends, waiting for the backward pass: the tape's saved
values (for forward gradients: the tangents, since nothing is taped). Time: medians of repetitions
interleaved across methods (machine load hits them alike), wall clock and process CPU time
(the ratio to backprop uses CPU time, which other processes do not inflate), without
tracemalloc. The checkpointed gradients are checked against backprop's (max relative
difference). Rerun after any change to what the tape keeps:

    python bench/bench_memory.py [--blas-threads 1] [--quick] [--out DIR]
"""
import gc
import math
import statistics
import tracemalloc

import numpy as np

import tinyad as ad
from tinyad.commands.machine import blas_threads, loadavg, set_blas_threads
from tinyad.commands.results import markdown_table, write
from tinyad.commands.timing import interleaved
from tinyad.nn import functional as F

from common import arguments

METHODS = ("backprop", "checkpoint √L", "checkpoint 1", "forward gradient")


def make_params(depth, width, seed=0):
    """[(W, b)] * depth hidden layers of `width`, then the (W, b) of the 10 logits (He init)."""
    rng = np.random.default_rng(seed)
    sizes = [width] * (depth + 1) + [10]
    return [(ad.tensor((rng.standard_normal((m, n)) * np.sqrt(2 / m)).astype(np.float32)),
             ad.tensor(np.zeros(n, np.float32))) for m, n in zip(sizes[:-1], sizes[1:])]


def segment(h, layers):
    for w, b in layers:
        h = ad.relu(h @ w + b)
    return h


def loss(params, x, y, per_segment=None):
    """The cross-entropy; with `per_segment` = k, the hidden layers run in checkpointed segments
    of k."""
    hidden, (w, b) = params[:-1], params[-1]
    if per_segment is None:
        h = segment(x, hidden)
    else:
        h = x
        for i in range(0, len(hidden), per_segment):
            h = ad.checkpoint(segment)(h, hidden[i:i + per_segment])
    return F.cross_entropy(h @ w + b, y)


def backprop_step(params, x, y, per_segment=None):
    leaves = [p for layer in params for p in layer]
    for p in leaves:
        p.requires_grad, p.grad = True, None
    loss(params, x, y, per_segment).backward()
    return [p.grad for p in leaves]


def forward_gradient_step(params, x, y, rng):
    """g = (∇f·v) v for one v ~ N(0, I) over all parameters: one JVP, nothing on the tape."""
    plain = [tuple(p.detach() for p in layer) for layer in params]
    vs = ad.tree.map(lambda p: ad.tensor(rng.standard_normal(p.shape, np.float32)), plain)
    with ad.no_grad():
        _, slope = ad.jvp(lambda ps: loss(ps, x, y), (plain,), (vs,))
    return [v * slope for layer in vs for v in layer]


def per_segment(method, params):
    """Hidden layers per checkpointed segment (None: no checkpointing)."""
    if method == "checkpoint √L":
        return max(1, round(math.sqrt(len(params) - 1)))
    return 1 if method == "checkpoint 1" else None


def steps(params, x, y):
    rng = np.random.default_rng(1)
    return {m: (lambda m=m: backprop_step(params, x, y, per_segment(m, params)))
            if m != "forward gradient" else (lambda: forward_gradient_step(params, x, y, rng))
            for m in METHODS}


def kept_bytes(params, x, y, method):
    """Memory still allocated when the forward pass ends: what waits for the backward pass (the
    tape's saved values; for forward gradients, the tangents drawn before the pass)."""
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        if method == "forward gradient":
            kept = ad.tree.map(lambda p: ad.tensor(np.zeros(p.shape, np.float32)), params)
        else:
            for layer in params:
                for p in layer:
                    p.requires_grad = True
            kept = loss(params, x, y, per_segment(method, params))
        held = tracemalloc.get_traced_memory()[0] - start
        del kept
        return held
    finally:
        tracemalloc.stop()


def peak_bytes(step, tries=2):
    """The smallest peak, over `tries` steps, of memory allocated during a step above its start."""
    peaks = []
    for _ in range(tries):
        gc.collect()
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            grads = step()
            peaks.append(tracemalloc.get_traced_memory()[1] - start)
        finally:
            tracemalloc.stop()
        del grads
    return min(peaks)


def max_relative_difference(grads, reference):
    return max(float(np.abs(g.numpy() - r.numpy()).max() / (np.abs(r.numpy()).max() + 1e-30))
               for g, r in zip(grads, reference))


def measure(depth, width, batch, repeat, warmup):
    params = make_params(depth, width)
    rng = np.random.default_rng(2)
    x = ad.tensor(rng.standard_normal((batch, width), np.float32))
    y = rng.integers(0, 10, batch)
    cases = steps(params, x, y)
    reference = cases["backprop"]()
    wall, cpu = interleaved(cases, repeat, warmup)
    n_params = sum(p.size for layer in params for p in layer)
    rows = []
    for name, step in cases.items():
        check = max_relative_difference(step(), reference) if "checkpoint" in name else None
        rows.append({"method": name, "hidden": depth, "width": width, "batch": batch,
                     "params": n_params, "ms": 1e3 * statistics.median(wall[name]),
                     "cpu_ms": 1e3 * statistics.median(cpu[name]),
                     "peak_MiB": peak_bytes(step) / 2**20, "grads_MiB": 4 * n_params / 2**20,
                     "kept_MiB": kept_bytes(params, x, y, name) / 2**20,
                     "activation_MiB": 4 * batch * width / 2**20, "max_rel_diff_vs_bp": check})
        print(f"L={depth} {name}: {rows[-1]['ms']:.1f} ms, peak {rows[-1]['peak_MiB']:.1f} MiB,"
              f" kept {rows[-1]['kept_MiB']:.1f} MiB", flush=True)
    return rows


COLUMNS = ["hidden layers", "method", "ms (wall)", "ms (CPU)", "CPU time / bp", "peak MiB",
           "peak / bp", "kept after forward MiB", "grad vs bp"]


def table(rows):
    lines = []
    for r in rows:
        bp = next(b for b in rows if b["hidden"] == r["hidden"] and b["method"] == "backprop")
        diff = "" if r["max_rel_diff_vs_bp"] is None else f"{r['max_rel_diff_vs_bp']:.0e}"
        lines.append(dict(zip(COLUMNS, [
            r["hidden"], r["method"], f"{r['ms']:.1f}", f"{r['cpu_ms']:.1f}",
            f"{r['cpu_ms'] / bp['cpu_ms']:.2f}", f"{r['peak_MiB']:.1f}",
            f"{r['peak_MiB'] / bp['peak_MiB']:.2f}", f"{r['kept_MiB']:.1f}", diff])))
    return markdown_table(lines, COLUMNS)


def main(argv=None):
    parser = arguments(__doc__)
    parser.add_argument("--repeat", type=int, default=None, help="timed repetitions (default 5)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="OpenBLAS threads for this run (default: leave as is)")
    args = parser.parse_args(argv)
    if args.blas_threads:
        set_blas_threads(args.blas_threads)
    width, batch, depths = (64, 64, (2, 4)) if args.quick else (1024, 1024, (8, 16))
    repeat = args.repeat or (2 if args.quick else 5)
    load_before = loadavg()
    rows = [r for depth in depths for r in measure(depth, width, batch, repeat,
                                                   warmup=1 if args.quick else 2)]
    result = {"rows": rows, "repeat": repeat, "quick": args.quick,
              "blas_threads": blas_threads(), "loadavg_before": load_before,
              "loadavg_after": loadavg()}
    title = (f"One training step of a deep MLP (width {width}, batch {batch}, float32): "
             "backprop, checkpointed backprop, forward gradients")
    write(args.out, "memory", result, table(rows), title)


if __name__ == "__main__":
    main()
