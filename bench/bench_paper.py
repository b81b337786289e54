"""The runtime table of "Gradients without Backpropagation" (Baydin et al. 2022) on the CPU.

For logistic regression (784 -> 10), the MLP 784-1024-1024-10 and the paper's CNN, at batch 64
in float32: t_f (forward + loss, no tape), t_fg (a forward-gradient step: dual numbers along a
random direction of all the weights, sampling included; and t_fg* with the direction drawn in
advance) and t_bp (a backprop step), as R_f = t_fg / t_f and R_b = t_bp / t_f. The same run times
a hand-written NumPy MLP (the floor) and PyTorch on the CPU when it is installed. All cases are
interleaved, repetition by repetition, in one process; medians of wall-clock and of process CPU
time. The measuring code is ``tinyad.commands.bench`` (``tinyad bench``); this script runs it
and writes paper_ratios.{json,md} to --out (default runs/bench).

    python bench/bench_paper.py [--model logreg|mlp|cnn|all] [--threads 1] [--tag T] [--quick]
"""
import argparse

from tinyad.commands import bench
from tinyad.commands.checks import writable_folder
from tinyad.commands.results import write

from common import DEFAULT_OUT, script


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.add_arguments(parser)
    parser.add_argument("--tag", default="",
                        help="suffix of the result files: paper_ratios_<tag>.{json,md}")
    args = parser.parse_args(argv)
    out = writable_folder(args.out or DEFAULT_OUT)
    result = bench.measure_from_args(args)
    table, title = bench.report(result)
    write(out, f"paper_ratios_{args.tag}" if args.tag else "paper_ratios", result, table, title)
    return result


if __name__ == "__main__":
    script(main)
