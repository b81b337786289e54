"""Per-operation overhead: a chain of small ops (10x10) in tinyad against plain NumPy.

The chain is y = tanh(y * a + b) repeated; with tiny arrays the arithmetic is negligible, so the
time per op is the engine's bookkeeping: eager (no tape), with the tape (requires_grad), with the
tape plus the backward pass, and with dual numbers (forward mode); PyTorch eager's tape plus
backward pass beside them when torch is installed (not in a --quick run).

``--against TREE`` compares this checkout's engine with another source tree's (main's, say:
``git archive main | tar -x -C /tmp/main``) in one run: each round runs the cases once in a
subprocess on each tree's tinyad, back to back in alternating order, and the table gives each
tree's median over the rounds and the median of the ratios within a round (this tree's time over
the other's), so machine load hits both alike; numpy's row, the same code on both, shows the
noise left:

    python bench/bench_overhead.py [--quick] [--links N] [--against TREE [--rounds R]]
"""
import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

import tinyad as ad
from tinyad.commands.results import markdown_table, write

from common import arguments, median_time, optional_torch

OPS_PER_LINK = 3      # mul, add, tanh
HERE = Path(__file__).resolve().parent


def numpy_chain(y, a, b, links):
    for _ in range(links):
        y = np.tanh(y * a + b)
    return y


def tinyad_chain(y, a, b, links):
    for _ in range(links):
        y = (y * a + b).tanh()
    return y


def measure(links, repeat, with_torch=False):
    rng = np.random.default_rng(0)
    y0, a0, b0 = (rng.standard_normal((10, 10)).astype(np.float32) for _ in range(3))
    y, a, b = ad.tensor(y0), ad.tensor(a0), ad.tensor(b0)
    tracked = ad.tensor(y0, requires_grad=True)

    def with_backward():
        tinyad_chain(tracked, a, b, links).sum().backward()

    def with_duals():
        ad.jvp(lambda y: tinyad_chain(y, a, b, links), (y,), (ad.tensor(a0),))

    cases = {
        "numpy": lambda: numpy_chain(y0, a0, b0, links),
        "tinyad eager": lambda: tinyad_chain(y, a, b, links),
        "tinyad with tape": lambda: tinyad_chain(tracked, a, b, links),
        "tinyad tape + backward": with_backward,
        "tinyad dual numbers (jvp)": with_duals,
    }
    torch = optional_torch(with_torch)
    if torch is not None:
        ty, ta, tb = (torch.tensor(v) for v in (y0, a0, b0))
        ty.requires_grad_()

        def torch_backward():
            tinyad_chain(ty, ta, tb, links).sum().backward()
        cases["PyTorch tape + backward"] = torch_backward
    ops = links * OPS_PER_LINK
    rows = []
    base = None
    for name, fn in cases.items():
        t = median_time(fn, repeat=repeat)
        base = base or t
        rows.append({"case": name, "us_per_op": t / ops * 1e6, "x_numpy": t / base})
    return rows


# A subprocess on one tree's tinyad (its own kernels/, not the installed ones): prints the rows.
_ON_TREE = """
import json, sys
sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in getattr(f, '__module__', '')]
tree, bench, links, repeat, with_torch = sys.argv[1:]
sys.path[:0] = [tree, bench]
import bench_overhead
print(json.dumps(bench_overhead.measure(int(links), int(repeat), with_torch == "1")))
"""


def against(other, links, repeat, rounds, with_torch):
    """Rows per case: the median µs per op on this tree and on `other` over `rounds` rounds, each
    running both trees' subprocesses back to back (in alternating order), and the median over
    rounds of the ratio within a round (load shared by both runs of a round cancels there)."""
    trees = {"this": HERE.parent, "other": Path(other).resolve()}
    samples = []                          # per round: {tree: {case: µs per op}}
    for k in range(rounds):
        got = {}
        for name in (("this", "other") if k % 2 else ("other", "this")):
            out = subprocess.run([sys.executable, "-c", _ON_TREE, str(trees[name]), str(HERE),
                                  str(links), str(repeat), str(int(with_torch))], check=True,
                                 capture_output=True, text=True).stdout
            got[name] = {row["case"]: row["us_per_op"] for row in json.loads(out.splitlines()[-1])}
        samples.append(got)
    rows = []
    for case in samples[0]["this"]:
        mine = [s["this"][case] for s in samples]
        theirs = [s["other"][case] for s in samples]
        rows.append({"case": case, "us_per_op_this": statistics.median(mine),
                     "us_per_op_other": statistics.median(theirs),
                     "this_over_other": statistics.median(m / t for m, t in zip(mine, theirs))})
    return rows


def main(argv=None):
    parser = arguments(__doc__)
    parser.add_argument("--links", type=int, default=None,
                        help="links of 3 ops in the chain (default 200; 20 with --quick)")
    parser.add_argument("--against", default=None, help="another source tree to compare with")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (--against)")
    args = parser.parse_args(argv)
    links, repeat = (20, 5) if args.quick else (200, 30)
    links = args.links or links
    title = f"Per-op overhead, chain of {links * OPS_PER_LINK} ops on 10x10 float32"
    if args.against:
        rows = against(args.against, links, repeat, 1 if args.quick else args.rounds,
                       not args.quick)
        table = markdown_table(rows, ["case", "us_per_op_this", "us_per_op_other",
                                      "this_over_other"])
        write(args.out, "overhead_against", {"links": links, "ops": links * OPS_PER_LINK,
                                             "against": str(args.against), "rows": rows},
              table, title + f": this tree against {args.against}")
        return rows
    rows = measure(links, repeat, not args.quick)
    table = markdown_table(rows, ["case", "us_per_op", "x_numpy"])
    write(args.out, "overhead", {"links": links, "ops": links * OPS_PER_LINK, "rows": rows},
          table, title)
    return rows


if __name__ == "__main__":
    main()
