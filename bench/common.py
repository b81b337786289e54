"""What the bench/ scripts share: their command line, timing by medians, and a clean exit.

The machine record, the results writer and the interleaved timing are tinyad's own
(``tinyad.commands.machine``, ``.results``, ``.timing``: the modules ``tinyad bench`` uses), so
every result file records where it was measured (CPU, cores, thread settings, library versions),
because a ratio means nothing without its machine.

Results go to ``runs/bench`` unless ``--out`` says otherwise: the committed results in
bench/results are replaced only when asked (``--out bench/results``).
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

from tinyad.commands.checks import UsageError
from tinyad.commands.machine import set_blas_threads

DEFAULT_OUT = Path("runs/bench")


def arguments(doc, quick="a seconds-long smoke run", blas_threads=False):
    """A script's command line with the options every benchmark has: ``--quick`` and ``--out``
    (a Path, default runs/bench), and ``--blas-threads`` if asked for (``parse`` sets it). The
    description is the first line of `doc`."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"results folder (default {DEFAULT_OUT}; --out bench/results replaces "
                        "the committed results)")
    if blas_threads:
        p.add_argument("--blas-threads", type=int, default=None,
                       help="OpenBLAS threads for this run (default: leave as is)")
    return p


def parse(parser, argv=None):
    """The parsed arguments, with OpenBLAS's thread count set when --blas-threads was given."""
    args = parser.parse_args(argv)
    if getattr(args, "blas_threads", None):
        set_blas_threads(args.blas_threads)
    return args


def optional_torch(wanted=True):
    """PyTorch for a comparison row, or None: not wanted (a --quick run, where importing it would
    take longer than the run) or not installed. Never a dependency."""
    if not wanted:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


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


def script(main):
    """Run a script's ``main()``; a UsageError (bad arguments or data) is one line on stderr and
    exit code 2, as in the ``tinyad`` command."""
    try:
        main()
    except UsageError as e:
        sys.stderr.write(f"{Path(sys.argv[0]).name}: error: {e}\n")
        raise SystemExit(2) from None
