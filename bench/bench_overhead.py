"""Per-operation overhead: a chain of small ops (10x10) in tinyad against plain NumPy.

The chain is y = tanh(y * a + b) repeated; with tiny arrays the arithmetic is negligible, so the
time per op is the engine's bookkeeping: eager (no tape), with the tape (requires_grad), with the
tape plus the backward pass, and with dual numbers (forward mode).

    python bench/bench_overhead.py [--quick]
"""

import numpy as np

import tinyad as ad
from tinyad.commands.results import markdown_table, write

from common import arguments, median_time

OPS_PER_LINK = 3      # mul, add, tanh


def numpy_chain(y, a, b, links):
    for _ in range(links):
        y = np.tanh(y * a + b)
    return y


def tinyad_chain(y, a, b, links):
    for _ in range(links):
        y = (y * a + b).tanh()
    return y


def measure(links, repeat):
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
    ops = links * OPS_PER_LINK
    rows = []
    base = None
    for name, fn in cases.items():
        t = median_time(fn, repeat=repeat)
        base = base or t
        rows.append({"case": name, "us_per_op": t / ops * 1e6, "x_numpy": t / base})
    return rows


def main(argv=None):
    parser = arguments(__doc__)
    args = parser.parse_args(argv)
    links, repeat = (20, 5) if args.quick else (200, 30)
    rows = measure(links, repeat)
    table = markdown_table(rows, ["case", "us_per_op", "x_numpy"])
    write(args.out, "overhead", {"links": links, "ops": links * OPS_PER_LINK, "rows": rows},
          table, f"Per-op overhead, chain of {links * OPS_PER_LINK} ops on 10x10 float32")
    return rows


if __name__ == "__main__":
    main()
