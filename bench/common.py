"""Shared benchmark plumbing: timing by medians, and the machine record and JSON + markdown
output of tinyad/benchmarks.py (installed with the package, so ``tinyad bench`` has them too).

Every result file records where it was measured (CPU, cores, thread settings, library versions)
because a ratio means nothing without its machine.
"""
import argparse
import statistics
import time
from pathlib import Path

from tinyad import benchmarks
from tinyad.benchmarks import machine, markdown_table  # noqa: F401  (part of this namespace)

RESULTS = Path(__file__).resolve().parent / "results"


def arguments(doc, quick="a seconds-long smoke run", blas_threads=False):
    """A script's command line with the options every benchmark has: ``--quick`` and ``--out``
    (a Path, default bench/results), and ``--blas-threads`` if asked for (``parse`` sets it).
    The description is the first line of `doc`."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--out", type=Path, default=RESULTS,
                   help="results folder (default bench/results)")
    if blas_threads:
        p.add_argument("--blas-threads", type=int, default=None,
                       help="OpenBLAS threads for this run (default: leave as is)")
    return p


def parse(parser, argv=None):
    """The parsed arguments, with OpenBLAS's thread count set when --blas-threads was given."""
    args = parser.parse_args(argv)
    if getattr(args, "blas_threads", None):
        benchmarks.set_blas_threads(args.blas_threads)
    return args


def median_time(fn, repeat=30, warmup=3, number=1):
    """Median wall-clock seconds of one call of `fn` (each sample averages `number` calls)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def write(name, payload, table, title, out_dir=RESULTS):
    """Write <name>.json (payload + machine) and <name>.md (title, table, machine); print it."""
    benchmarks.write(out_dir, name, payload, table, title)
