"""Memory and time of one training step of a deep MLP: backprop, checkpointed backprop, forward
gradients.

The model: x (batch, 1024) -> L hidden layers relu(h W + b) of width 1024 -> 10 logits, softmax
cross-entropy, float32, random data; L = 2, 4, 8, 16, batch 64 and 1024. Each method computes an
update direction for every parameter:

    backprop         loss.backward(): the tape keeps what each VJP rule reads (node.py): per
                     layer the matmul's input h and the relu's output, which is the next h
    checkpoint √L    ad.checkpoint on segments of √L layers: the tape keeps the segments' inputs;
                     each segment runs again, recording, when the backward pass reaches it
    checkpoint 1     the same with one layer per segment
    forward gradient one dual-number pass (ad.jvp under no_grad, nothing taped) with a random
                     normal tangent v for every parameter, then g = (∇f·v) v: no backward pass,
                     but the tangents are as large as the parameters
    PyTorch backprop the same model and step in PyTorch eager (CPU), when torch is installed

Memory, two ways, each the smallest of two steps:
- heap peak: tracemalloc's high-water mark during the step above what was allocated before it
  (NumPy reports its buffers to tracemalloc; PyTorch does not, so it has none);
- RSS peak: the resident set's high-water mark during the step above the resident set before it
  (Linux: /proc/self/clear_refs resets the mark, /proc/self/status reads it; freed memory is
  handed back to the kernel first, malloc_trim), the number comparable with PyTorch's.
Both include the gradients the step writes (4 bytes per parameter, the same for all methods) and,
for forward gradients, the tangents. "Kept after forward" is what is still allocated (heap) when
the forward pass ends, waiting for the backward pass. Time: medians of repetitions interleaved
across methods (machine load hits them alike), wall clock and process CPU time (the ratio to
backprop uses CPU time, which other processes inflate less), without tracemalloc. The
checkpointed gradients and PyTorch's are checked against backprop's (max relative difference).
Rerun after any change to what the tape keeps:

    python bench/bench_memory.py [--blas-threads 1] [--quick] [--out DIR]
"""
import ctypes
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

from common import arguments, optional_torch

torch = None                    # PyTorch, for its row, when installed (not in a --quick run)

METHODS = ("backprop", "checkpoint √L", "checkpoint 1", "forward gradient")
TORCH = "PyTorch backprop"


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
    """The gradients, handed over: .grad is None again after the step, so that a measurement
    starts with no gradient allocated (each step of every method allocates its own)."""
    leaves = [p for layer in params for p in layer]
    for p in leaves:
        p.requires_grad = True
    loss(params, x, y, per_segment).backward()
    grads = [p.grad for p in leaves]
    for p in leaves:
        p.grad = None
    return grads


def forward_gradient_step(params, x, y, rng):
    """g = (∇f·v) v for one v ~ N(0, I) over all parameters: one JVP, nothing on the tape."""
    plain = [tuple(p.detach() for p in layer) for layer in params]
    vs = ad.tree.map(lambda p: ad.tensor(rng.standard_normal(p.shape, np.float32)), plain)
    with ad.no_grad():
        _, slope = ad.jvp(lambda ps: loss(ps, x, y), (plain,), (vs,))
    return [v * slope for layer in vs for v in layer]


def torch_step(params, x, y):
    """The same backprop step in PyTorch eager: a closure over copies of params, x, y."""
    leaves = [torch.tensor(p.numpy(), requires_grad=True) for layer in params for p in layer]
    tx, ty = torch.tensor(x.numpy()), torch.tensor(y)

    def step():                        # the gradients handed over, as backprop_step's
        h = tx
        for w, b in zip(leaves[:-2:2], leaves[1:-2:2]):
            h = torch.relu(h @ w + b)
        torch.nn.functional.cross_entropy(h @ leaves[-2] + leaves[-1], ty).backward()
        grads = [p.grad for p in leaves]
        for p in leaves:
            p.grad = None
        return grads
    return step


def per_segment(method, params):
    """Hidden layers per checkpointed segment (None: no checkpointing)."""
    if method == "checkpoint √L":
        return max(1, round(math.sqrt(len(params) - 1)))
    return 1 if method == "checkpoint 1" else None


def steps(params, x, y):
    rng = np.random.default_rng(1)
    cases = {m: (lambda m=m: backprop_step(params, x, y, per_segment(m, params)))
             if m != "forward gradient" else (lambda: forward_gradient_step(params, x, y, rng))
             for m in METHODS}
    if torch is not None:
        cases[TORCH] = torch_step(params, x, y)
    return cases


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


def heap_peak(step):
    """The peak of memory allocated (tracemalloc) during a step above its start."""
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        grads = step()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
        del grads


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def rss_peak(step):
    """The resident set's high-water mark during a step above the resident set before it (freed
    memory returned to the kernel first); None where Linux's /proc cannot reset the mark."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                                 # resets VmHWM to the current RSS
        start = _status("VmRSS")
    except (OSError, AttributeError):
        return None
    grads = step()
    peak = _status("VmHWM") - start
    del grads
    return peak


def smallest(measure, step, tries=2):
    values = [measure(step) for _ in range(tries)]
    return None if None in values else min(values)


def max_relative_difference(grads, reference):
    """Over every parameter: the largest difference from the reference gradient, relative to
    that gradient's largest entry (tinyad's or PyTorch's tensors)."""
    return max(float(np.abs(g.numpy() - r.numpy()).max() / (np.abs(r.numpy()).max() + 1e-30))
               for g, r in zip(grads, reference))


def mib(n):
    return None if n is None else n / 2**20


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
        check = max_relative_difference(step(), reference) if name != "backprop" \
            and name != "forward gradient" else None
        heap = None if name == TORCH else smallest(heap_peak, step)
        kept = None if name == TORCH else kept_bytes(params, x, y, name)
        rows.append({"method": name, "hidden": depth, "width": width, "batch": batch,
                     "params": n_params, "ms": 1e3 * statistics.median(wall[name]),
                     "cpu_ms": 1e3 * statistics.median(cpu[name]),
                     "peak_MiB": mib(heap), "rss_peak_MiB": mib(smallest(rss_peak, step)),
                     "grads_MiB": 4 * n_params / 2**20, "kept_MiB": mib(kept),
                     "activation_MiB": 4 * batch * width / 2**20, "max_rel_diff_vs_bp": check})
        r = rows[-1]
        print(f"L={depth} batch={batch} {name}: {r['cpu_ms']:.1f} ms CPU, heap peak "
              f"{_fmt(r['peak_MiB'])} MiB, RSS peak {_fmt(r['rss_peak_MiB'])} MiB", flush=True)
    return rows


def _fmt(v, spec=".1f"):
    return "" if v is None else format(v, spec)


COLUMNS = ["hidden layers", "batch", "method", "ms (CPU)", "CPU time / bp", "heap peak MiB",
           "RSS peak MiB", "RSS peak / PyTorch's", "kept after forward MiB", "grad vs bp"]


def table(rows):
    lines = []
    for r in rows:
        same = [b for b in rows if b["hidden"] == r["hidden"] and b["batch"] == r["batch"]]
        bp = next(b for b in same if b["method"] == "backprop")
        pt = next((b for b in same if b["method"] == TORCH), None)
        versus = r["rss_peak_MiB"] / pt["rss_peak_MiB"] \
            if pt and pt["rss_peak_MiB"] and r["rss_peak_MiB"] is not None else None
        diff = "" if r["max_rel_diff_vs_bp"] is None else f"{r['max_rel_diff_vs_bp']:.0e}"
        lines.append(dict(zip(COLUMNS, [
            r["hidden"], r["batch"], r["method"], f"{r['cpu_ms']:.1f}",
            f"{r['cpu_ms'] / bp['cpu_ms']:.2f}", _fmt(r["peak_MiB"]), _fmt(r["rss_peak_MiB"]),
            _fmt(versus, ".2f"), _fmt(r["kept_MiB"]), diff])))
    return markdown_table(lines, COLUMNS)


def main(argv=None):
    parser = arguments(__doc__)
    parser.add_argument("--repeat", type=int, default=None, help="timed repetitions (default 3)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="OpenBLAS threads for this run (default: leave as is)")
    args = parser.parse_args(argv)
    global torch
    torch = optional_torch(not args.quick)
    if args.blas_threads:
        set_blas_threads(args.blas_threads)
        if torch is not None:
            torch.set_num_threads(args.blas_threads)
    width, batches, depths = (64, (16,), (2, 4)) if args.quick else (1024, (64, 1024), (2, 4, 8, 16))
    repeat = args.repeat or (2 if args.quick else 3)
    load_before = loadavg()
    rows = [r for batch in batches for depth in depths
            for r in measure(depth, width, batch, repeat, warmup=1)]
    result = {"rows": rows, "repeat": repeat, "quick": args.quick,
              "blas_threads": blas_threads(), "loadavg_before": load_before,
              "loadavg_after": loadavg(),
              "torch": None if torch is None else torch.__version__,
              "torch_threads": None if torch is None else torch.get_num_threads()}
    title = (f"One training step of a deep MLP (width {width}, float32): backprop, checkpointed "
             "backprop, forward gradients" + (", PyTorch" if torch is not None else ""))
    write(args.out, "memory", result, table(rows), title)


if __name__ == "__main__":
    main()
