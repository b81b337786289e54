"""Does the engine gain from the fused kernels? Its activations, and a whole training step, with
the kernel switch on "numpy" (plain NumPy expressions), "numba" (every activation fused) and
"auto" (the default: fused where this benchmark found a gain, tinyad.primitives.FUSED).

Cases, float32: the eager forward ``f(x)``; a taped forward and backward ``f(x).backward(g)``;
a JVP ``ad.jvp(f, (x,), (t,))`` under no_grad; and one Adam step of a ReLU MLP 784-1024-1024-10
at batch 64. Medians over interleaved repetitions (both settings alternate, so load drift hits
both alike).

    python bench/bench_engine_kernels.py [--quick] [--out DIR]
"""
import statistics
import time

import numpy as np

import tinyad as ad
from tinyad import kernels, nn, optim
from tinyad.commands.results import markdown_table, write
from tinyad.nn import functional as F

from common import arguments

SETTINGS = ("numpy", "numba", "auto")


def activation_cases(name, shape):
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
    return {"forward": lambda: f(xt), "forward+backward": backward, "jvp": jvp}


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


def interleaved(fns, repeat, warmup=3):
    """Median seconds of each function in `fns` (name -> (setting, fn)), run round-robin."""
    for setting, fn in fns.values():
        with kernels.using(setting):
            for _ in range(warmup):
                fn()
    samples = {k: [] for k in fns}
    for _ in range(repeat):
        for key, (setting, fn) in fns.items():
            with kernels.using(setting):
                start = time.perf_counter()
                fn()
                samples[key].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in samples.items()}


def _row(op, shape, case, t):
    return {"op": op, "shape": shape, "case": case,
            **{f"{s}_us": t[s] * 1e6 for s in SETTINGS},
            "numba_speedup": t["numpy"] / t["numba"], "auto_speedup": t["numpy"] / t["auto"]}


def main(argv=None):
    parser = arguments(__doc__)
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 200
    shapes = [(64, 1024)] if args.quick else [(64, 1024), (256, 1024)]
    rows = []
    for name in ("relu", "gelu", "tanh", "sigmoid"):
        for shape in shapes:
            for case, fn in activation_cases(name, shape).items():
                t = interleaved({s: (s, fn) for s in SETTINGS}, repeat)
                rows.append(_row(name, "x".join(map(str, shape)), case, t))
    step = mlp_step_case()
    t = interleaved({s: (s, step) for s in SETTINGS}, 5 if args.quick else 60)
    rows.append(_row("MLP 784-1024-1024-10 ReLU, Adam step", "64x784", "step", t))
    table = markdown_table(rows, ["op", "shape", "case", "numpy_us", "numba_us", "auto_us",
                                  "numba_speedup", "auto_speedup"])
    write(args.out, "engine_kernels", {"repeat": repeat, "rows": rows}, table,
          "The engine's activations with the kernel switch on 'numpy', 'numba' and 'auto' "
          "(microseconds, float32; speedup = numpy time / that setting's time)")
    return rows


if __name__ == "__main__":
    main()
