"""Kernels against NumPy, alone and inside the engine: per activation, forward+backward, each CPU
backend (Numba CPU; "auto", the table in tinyad/kernels/backends.py) against the NumPy backend.

Cases, float32, at 64x1024 and 256x1024:
    kernel   ``act_forward`` then the backward product ``g * f'(x)``, on raw arrays
    engine   ``f(x).backward(g)`` through the tape, and ``ad.jvp(f, (x,), (t,))``
and one Adam step of a ReLU MLP 784-1024-1024-10 at batch 64. Every setting runs in turn inside
each repetition (interleaved), medians reported; the machine is shared, so compare the ratios
within one run, not absolute times across runs. Numba and BLAS threads are pinned (``--threads``,
default 1) and recorded with the load.

    python bench/bench_engine_kernels.py [--quick] [--threads N] [--out DIR]
"""
import os
import statistics
import time

import numba
import numpy as np

import tinyad as ad
from tinyad import kernels, nn, optim
from tinyad.commands.machine import set_blas_threads
from tinyad.commands.results import markdown_table, write
from tinyad.nn import functional as F

from common import arguments

SETTINGS = ("numpy", "numba", "auto")


def kernel_case(name, shape):
    rng = np.random.default_rng(0)
    x, g = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))

    def forward_backward():
        y, d = kernels.act_forward(name, x)
        return y, g * d
    return forward_backward


def engine_cases(name, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    g = ad.tensor(rng.standard_normal(shape).astype(np.float32))
    f = getattr(ad, name)
    xt = ad.tensor(x)
    leaf = ad.tensor(x, requires_grad=True)

    def backward():
        leaf.grad = None
        f(leaf).backward(g)

    def jvp():
        with ad.no_grad():
            ad.jvp(f, (xt,), (g,))
    return {"engine forward+backward": backward, "engine jvp": jvp}


def mlp_step_case(batch=64):
    rng = np.random.default_rng(0)
    nn.init.seed(0)
    model = nn.MLP([784, 1024, 1024, 10])
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = ad.tensor(rng.standard_normal((batch, 784)).astype(np.float32))
    y = rng.integers(0, 10, batch)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def interleaved(fn, repeat, warmup=3):
    """Median seconds of `fn` under each kernel setting, the settings taking turns."""
    for setting in SETTINGS:
        with kernels.using(setting):
            for _ in range(warmup):
                fn()
    samples = {s: [] for s in SETTINGS}
    for _ in range(repeat):
        for setting in SETTINGS:
            with kernels.using(setting):
                start = time.perf_counter()
                fn()
                samples[setting].append(time.perf_counter() - start)
    return {s: statistics.median(v) for s, v in samples.items()}


def _row(op, shape, case, t):
    return {"op": op, "shape": shape, "case": case,
            **{f"{s}_us": t[s] * 1e6 for s in SETTINGS},
            "numba_speedup": t["numpy"] / t["numba"], "auto_speedup": t["numpy"] / t["auto"]}


def main(argv=None):
    parser = arguments(__doc__)
    parser.add_argument("--threads", type=int, default=1,
                        help="Numba and BLAS threads (default 1: a shared machine)")
    args = parser.parse_args(argv)
    numba.set_num_threads(args.threads)
    set_blas_threads(args.threads)
    repeat = 5 if args.quick else 100
    shapes = [(64, 1024)] if args.quick else [(64, 1024), (256, 1024)]
    load_before = os.getloadavg()[0]
    rows = []
    for name in kernels.ACTIVATIONS:
        for shape in shapes:
            label = "x".join(map(str, shape))
            rows.append(_row(name, label, "kernel forward+backward",
                             interleaved(kernel_case(name, shape), repeat)))
            for case, fn in engine_cases(name, shape).items():
                rows.append(_row(name, label, case, interleaved(fn, repeat)))
    step = interleaved(mlp_step_case(), 5 if args.quick else 40)
    rows.append(_row("MLP 784-1024-1024-10 ReLU, Adam step", "64x784", "engine step", step))
    table = markdown_table(rows, ["op", "shape", "case", "numpy_us", "numba_us", "auto_us",
                                  "numba_speedup", "auto_speedup"])
    payload = {"repeat": repeat, "threads": args.threads, "auto": {
        f"{device}/{dtype}": row for (device, dtype), row in kernels.AUTO.items()},
        "loadavg_before": load_before, "loadavg_after": os.getloadavg()[0], "rows": rows}
    write(args.out, "engine_kernels", payload, table,
          f"Kernels alone and inside the engine with the switch on 'numpy', 'numba' and 'auto' "
          f"(microseconds, float32, {args.threads} Numba/BLAS thread(s), load average "
          f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}; speedup = numpy time / that "
          f"setting's time, within this one run: the machine is shared)")
    return rows


if __name__ == "__main__":
    main()
