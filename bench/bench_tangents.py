"""Tangent sampling cost per parameter: the naive NumPy draw, the project's generator and the
Numba counter-based generator, for normal and Rademacher tangents, at 1e4 ... 1e7 parameters.

    naive         tangents.draw_flat_naive: float64 normal / rng.choice([-1, 1]), then a cast
    numpy         tangents.draw_flat_numpy: float32 ziggurat / random bytes unpacked to 8 signs each
    numba         fast_tangents.draw_flat: Philox4x32-10-keyed xoshiro128++ lanes, branch-free
                  float32 Box-Muller (kernels/cpu_random.py) / 32 signs per word; one thread,
                  a new array per call
    numba (out=)  the same, writing into a preallocated array (no allocation, no page faults)
    numba 2T      the same as numba (out=) on two threads (``threads=2``: same numbers)

Every size and distribution times all generators interleaved, repetition by repetition; the
table shows median wall-clock nanoseconds per parameter (process CPU time in the JSON, which
counts both threads of ``numba 2T``) and the speed-up of each generator over naive. A
forward-gradient step draws one number per parameter: the 784-1024-1024-10 MLP has 1,863,690
(one of the sizes; the goal for it: 2 ms on one thread, 1.07 ns a number).

    python bench/bench_tangents.py [--quick] [--out DIR]
"""
import statistics

import numpy as np

from tinyad.commands.machine import loadavg
from tinyad.commands.results import markdown_table, write
from tinyad.commands.timing import interleaved
from tinyad.learning import tangents

from common import arguments

SIZES = (10_000, 100_000, 1_863_690, 10_000_000)


def generators(n, distribution):
    rng = np.random.default_rng(0)
    gens = {"naive": lambda: tangents.draw_flat_naive(n, distribution, rng),
            "numpy": lambda: tangents.draw_flat_numpy(n, distribution, rng)}
    try:
        from tinyad.learning import fast_tangents
        if fast_tangents.available():
            out = np.empty(n, np.float32)
            gens["numba"] = lambda: fast_tangents.draw_flat(n, distribution, rng)
            gens["numba (out=)"] = lambda: fast_tangents.draw_flat(n, distribution, rng, out=out)
            gens["numba 2T"] = lambda: fast_tangents.draw_flat(n, distribution, rng, out=out,
                                                               threads=2)
    except ImportError:
        pass
    return gens


def measure(sizes, repeat):
    rows = []
    for distribution in ("normal", "rademacher"):
        for n in sizes:
            reps = max(3, repeat if n <= 2_000_000 else repeat // 3)
            wall, cpu = interleaved(generators(n, distribution), reps, warmup=2,
                                               min_sample=5e-3)
            base = statistics.median(wall["naive"])
            for name in cpu:
                t_cpu, t_wall = statistics.median(cpu[name]), statistics.median(wall[name])
                rows.append({"distribution": distribution, "n": n, "generator": name,
                             "ns_per_param": 1e9 * t_wall / n, "cpu_ns_per_param": 1e9 * t_cpu / n,
                             "speedup_vs_naive": base / t_wall, "ms": 1e3 * t_wall})
            print(f"{distribution} {n:>10,}: " + "  ".join(
                f"{r['generator']} {r['ns_per_param']:.3g}" for r in rows[-len(cpu):]), flush=True)
    return rows


def pivot(rows):
    """One line per distribution and size, one column per generator (ns per parameter)."""
    table = {}
    for r in rows:
        key = (r["distribution"], r["n"])
        line = table.setdefault(key, {"distribution": r["distribution"], "n": f"{r['n']:,}"})
        line[r["generator"]] = r["ns_per_param"]
        if r["generator"] != "naive":
            line[f"{r['generator']} speed-up"] = r["speedup_vs_naive"]
    return list(table.values())


def main(argv=None):
    parser = arguments(__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    sizes = SIZES[:2] if args.quick else SIZES
    load = loadavg()
    rows = measure(sizes, 3 if args.quick else args.repeat)
    gens = list(dict.fromkeys(r["generator"] for r in rows))
    cols = ["distribution", "n"] + gens + [f"{g} speed-up" for g in gens if g != "naive"]
    table = (("**Smoke run (--quick): these numbers mean nothing.**\n\n" if args.quick else "")
             + markdown_table(pivot(rows), cols)
             + "\n\nNanoseconds per parameter (median wall clock; float32 output); "
             "speed-up = naive time / generator time. Load average before/after: "
             f"{load} / {loadavg()}.")
    write(args.out, "tangents", {"rows": rows, "sizes": list(sizes), "quick": args.quick,
                                 "loadavg": [load, loadavg()]},
          table, "Tangent sampling cost per parameter")
    return rows


if __name__ == "__main__":
    main()
