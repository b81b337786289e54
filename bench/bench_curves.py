"""Training curves: ``tinyad compare`` (backprop, forward gradients, DFA, FA on one MLP with Adam)
on MNIST and on Fashion-MNIST, kept with their plots.

    mnist     the first 8,000 training images, the last 2,000 test images, found by the library's
              data search (--mnist FOLDER instead: a folder of MNIST IDX files; with the test
              set alone, as for the committed curves, its first 8,000 train, its last 2,000 test)
    fashion   the full Fashion-MNIST (60,000 train / 10,000 test, /usr/share/datasets/fashion-mnist)

Each run is ``tinyad compare`` with the default methods and learning rates, writing
results.json, loss_vs_steps.png, loss_vs_seconds.png and alignment.png to <out>/curves_mnist
and <out>/curves_fashion; a results.json over 2 MB has its per-step arrays thinned (every k-th
step, k recorded). curves.{json,md} collect the final tables.

    python bench/bench_curves.py [--mnist DIR] [--fashion-epochs 3] [--threads 1] [--quick]
"""
import json
import time
from pathlib import Path

from tinyad import cli
from tinyad.commands.compare import weight_alignment
from tinyad.commands.machine import loadavg
from tinyad.commands.results import markdown_table, write

from common import arguments, script

MAX_BYTES = 2_000_000
COLUMNS = ["dataset", "method", "lr", "train_loss", "test_acc", "ms_per_step", "steps_per_s",
           "peak_mib", "align", "align_mean"]


def compare(argv, out):
    start = time.perf_counter()
    code = cli.main(["compare", *argv, "--out", str(out)])
    if code:
        raise SystemExit(f"tinyad compare {' '.join(argv)} failed with exit code {code}")
    seconds = time.perf_counter() - start
    thinned = thin(out / "results.json")
    return json.loads((out / "results.json").read_text()), seconds, thinned


def thin(path, max_bytes=MAX_BYTES):
    """Keep every k-th per-step loss and clock value (k = 2, 4, 8...) until the file is under
    `max_bytes`; returns k (1: left as written)."""
    if path.stat().st_size <= max_bytes:
        return 1
    payload = json.loads(path.read_text())
    k = 1
    while True:
        k *= 2
        thinned = {**payload, "thinned_every": k, "results": {
            m: {key: (v[::k] if key in ("losses", "seconds") else v) for key, v in r.items()}
            for m, r in payload["results"].items()}}
        text = json.dumps(thinned, indent=1) + "\n"
        if len(text) <= max_bytes:
            path.write_text(text)
            return k


def main(argv=None):
    parser = arguments(__doc__, quick="a seconds-long smoke run on the embedded digits")
    parser.add_argument("--mnist", default="mnist",
                        help="a folder of MNIST IDX files (default: the library's data search)")
    parser.add_argument("--fashion-epochs", type=int, default=3)
    parser.add_argument("--threads", "--blas-threads", dest="threads", type=int, default=1,
                        help="tinyad compare's --threads (default 1)")
    args = parser.parse_args(argv)
    out_dir = args.out
    threads = ["--threads", str(args.threads)]
    if args.quick:
        runs = {"default (smoke)": (["--dataset", "default", "--train-size", "512",
                                     "--test-size", "256", "--epochs", "1", "--align-draws", "2",
                                     *threads], out_dir / "curves_smoke")}
    else:
        runs = {"mnist": (["--dataset", args.mnist, "--train-size", "8000", "--test-size",
                           "2000", *threads], out_dir / "curves_mnist"),
                "fashion-mnist": (["--dataset", "fashion-mnist", "--epochs",
                                   str(args.fashion_epochs), *threads],
                                  out_dir / "curves_fashion")}
    rows, runs_info = [], {}
    load = loadavg()
    for dataset, (cmd, out) in runs.items():
        payload, seconds, thinned = compare(cmd, out)
        shown = out.resolve()
        try:
            shown = shown.relative_to(Path(__file__).resolve().parents[1])
        except ValueError:
            pass
        runs_info[dataset] = {"command": "tinyad compare " + " ".join(cmd) + f" --out {shown}",
                              "seconds": seconds, "thinned_every": thinned,
                              "config": payload["config"], "sizes": payload["sizes"]}
        for method, r in payload["results"].items():
            rows.append({"dataset": dataset, "method": method, "lr": r["lr"],
                         "train_loss": r["train_loss"], "test_acc": r["test_acc"],
                         "ms_per_step": r["ms_per_step"], "steps_per_s": r["steps_per_s"],
                         "peak_mib": r["peak_mib"], "align": weight_alignment(r["alignment"]),
                         "align_mean": weight_alignment(r.get("alignment_mean") or {})})
    table = (("**Smoke run (--quick): these numbers mean nothing.**\n\n" if args.quick else "")
             + markdown_table(rows, COLUMNS)
             + "\n\nFinal epoch: train loss (mean over the epoch), test accuracy, time per "
             "training step, peak MiB during a step (tracemalloc), align: mean cosine between "
             "the rule's weight update and the true gradient after training (one draw; "
             "align_mean: mean of many forward-gradient draws). Commands:\n\n"
             + "\n".join(f"- {d}: `{i['command']}` ({i['seconds']:.0f} s)"
                         for d, i in runs_info.items())
             + f"\n\nThreads (BLAS, Numba): {args.threads}. Load average before/after: "
             f"{load} / {loadavg()}.")
    write(out_dir, "curves", {"rows": rows, "runs": runs_info, "quick": args.quick,
                              "threads": args.threads}, table,
          "Training curves: tinyad compare on MNIST and Fashion-MNIST")
    return rows


if __name__ == "__main__":
    script(main)
