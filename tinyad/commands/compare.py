"""``tinyad compare``: one architecture, one initialisation, one data order, several learning rules.

Each rule trains a copy of the same MLP with Adam (``tinyad.learning.training.fit``); only the way
the update direction is obtained differs. Prints a line per epoch per rule and a final table
(train loss, test accuracy, time per step, steps per second, peak memory, gradient alignment), and
writes ``results.json``, ``results.md`` and plots to ``--out``. Everything is checked before the
first step (arguments, data, matplotlib, the output folder, the device); a problem is one line
and exit code 2.

Device: ``--device cuda`` trains on the GPU (CuPy): each rule's model goes there and the training
set moves there once (``DataLoader(device=)``); accuracy, alignment and the step's memory (CuPy's
pool, not the host's) are measured there. Checked before anything trains: CuPy must import and a
CUDA device must answer.

Threads: ``--threads`` (default 1) sets OpenBLAS's and Numba's thread counts for the run and puts
them back after it. One thread does not collapse under load: on a busy 2-core machine, two BLAS
threads spin-waiting for each other made a run 5x slower, while at batch 64 a second thread buys
little on a quiet one.

Learning-rate defaults (Adam): 1e-3 for every rule, with forward gradients decaying it by x0.9
per epoch to average their noise out late in training. Sweeps on the MNIST test-set split (8,000 /
2,000, 10 epochs) for weight-perturbed forward gradients: 1e-4: 12.9%, 3e-4: 17.5%, 1e-3: 41.6%,
3e-3: 65.7% test accuracy, but 3e-3 diverges on longer runs (Fashion-MNIST, 5 epochs: the loss
turns upward after about 700 steps), 1e-3 does not. Adam divides each step by a running RMS of
the (noisy) directions, so a step stays bounded however noisy the estimate is.
"""
import numpy as np

from .. import nn, optim, tensor
from ..data import DataLoader, DatasetNotFoundError, load_splits
from ..learning import DFA, Backprop, FeedbackAlignment, ForwardGradient, ManualBackprop, alignment
from ..learning.training import accuracy, fit, step_memory
from ..nn import functional as F
from . import machine
from .checks import (UsageError, add_device_argument, at_least, finite_positive, require_device,
                     require_plots, writable_folder)
from .compare_plots import plot_compare
from .results import markdown_table, write

METHODS = {      # name: (the rule from (seed, tangents per step), learning rate, decay per epoch)
    "bp": (lambda seed, k: Backprop(), 1e-3, 1.0),
    "manual": (lambda seed, k: ManualBackprop(), 1e-3, 1.0),
    "dfa": (lambda seed, k: DFA(seed=seed), 1e-3, 1.0),
    "fa": (lambda seed, k: FeedbackAlignment(seed=seed), 1e-3, 1.0),
    "fg": (lambda seed, k: ForwardGradient(tangents=k, seed=seed), 1e-3, 0.9),
    "fg-rademacher": (lambda seed, k: ForwardGradient(tangents=k, distribution="rademacher",
                                                      seed=seed), 1e-3, 0.9),
    "fg-activity": (lambda seed, k: ForwardGradient(tangents=k, perturb="activities", seed=seed),
                    1e-3, 0.9),
}
DEFAULT_METHODS = "bp,fg,fg-activity,dfa,fa"
CLASSES = 10                    # MNIST-shaped data: labels 0..9
COUNTS = {"epochs": 1, "batch_size": 1, "tangents": 1, "align_draws": 1, "train_size": 1,
          "test_size": 1, "threads": 1, "seed": 0}


def add_arguments(p):
    p.add_argument("--dataset", default="default",
                   help="'default' (embedded, no download), 'mnist', 'fashion-mnist', or a folder "
                        "of IDX files (a folder with one split is cut into train and test)")
    p.add_argument("--methods", default=DEFAULT_METHODS,
                   help=f"comma-separated, from {', '.join(METHODS)} (default {DEFAULT_METHODS})")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", default="256,256", help="hidden widths, comma-separated")
    p.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid"])
    p.add_argument("--lr", default="", help="learning rates by method, e.g. 'fg=5e-5,bp=3e-3' "
                                            "(default 1e-3 each)")
    p.add_argument("--tangents", type=int, default=1, help="forward-gradient directions per step")
    p.add_argument("--train-size", type=int, default=None,
                   help="first N training examples (a one-split folder: first N for training)")
    p.add_argument("--test-size", type=int, default=None, help="last N test examples")
    p.add_argument("--align-draws", type=int, default=100,
                   help="forward-gradient draws averaged for the mean alignment")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="OpenBLAS and Numba threads during the run, restored after it (default "
                        "1: more threads spin-wait on a busy machine)")
    add_device_argument(p)
    p.add_argument("--out", default="runs/compare", help="folder for results.json and plots")
    p.add_argument("--no-plots", action="store_true")


def run(args):
    at_least(args, COUNTS)
    methods = parse_methods(args.methods)
    lrs = parse_lrs(args.lr, methods)
    hidden = parse_hidden(args.hidden)
    require_device(args.device)
    plt = None if args.no_plots else require_plots()
    train, test = load_data(args.dataset, args.train_size, args.test_size)
    out = writable_folder(args.out)
    sizes = [train[0].shape[1], *hidden, CLASSES]
    print(f"data: {args.dataset}: {len(train[0])} train, {len(test[0])} test; model MLP {sizes} "
          f"({args.activation}), Adam, batch {args.batch_size}, {args.epochs} epochs, "
          f"on {args.device}, {args.threads} thread(s)", flush=True)
    nn.init.seed(args.seed)
    initial = nn.MLP(sizes, activation=args.activation).state_dict()
    with machine.threads(args.threads) as threads:
        results = {name: train_method(name, lrs[name], initial, sizes, train, test, args)
                   for name in methods}
        payload = {"config": {k: v for k, v in vars(args).items() if k != "func"},
                   "sizes": sizes, "device": args.device, "threads": threads,
                   "machine": machine.record(args.device), "results": results}
    table = markdown_table(table_rows(results), COLUMNS)
    text = (f"`{command_line(args)}`\n\nMLP {sizes}, {args.activation}, Adam, batch "
            f"{args.batch_size}, {args.epochs} epochs, {len(train[0])} train / {len(test[0])} "
            f"test examples, on {args.device}, {args.threads} thread(s).\n\n{table}\n\n{LEGEND}")
    write(out, "results", payload, text, "tinyad compare")
    if plt is not None:
        for path in plot_compare(plt, results, out):
            print(f"wrote {path}")
    return 0


def train_method(name, lr, initial, sizes, train, test, args):
    """Train method `name` from the `initial` weights; its results (JSON-ready)."""
    make, _, decay = METHODS[name]
    rule = make(args.seed, args.tangents)
    model = nn.MLP(sizes, activation=args.activation).to(args.device)
    model.load_state_dict(initial)
    opt = optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(*train, batch_size=args.batch_size, shuffle=True, seed=args.seed,
                        device=args.device)
    print(f"[{name:>11}] training: lr {lr:g}, {len(loader)} steps per epoch", flush=True)

    def progress(r):
        print(f"[{name:>11}] epoch {r['epoch']}/{args.epochs}  train loss {r['train_loss']:.4f}  "
              f"test acc {r['test_acc']:6.2%}  {r['ms_per_step']:.2f} ms/step", flush=True)
    run = fit(rule, model, opt, loader, args.epochs, schedule=optim.ExponentialLR(opt, gamma=decay),
              evaluate=lambda m: {"test_acc": accuracy(m, *test)}, on_epoch=progress)
    last, steps, seconds = run["history"][-1], len(run["losses"]), run["seconds"][-1]
    xb, yb = tensor(train[0][:256], device=args.device), train[1][:256]
    result = {"lr": lr, "lr_decay": decay, "train_loss": last["train_loss"],
              "test_acc": last["test_acc"], "ms_per_step": 1e3 * seconds / steps,
              "steps_per_s": steps / seconds, "peak_mib": step_memory(rule, model, xb, yb),
              "alignment": alignment(rule, model, F.cross_entropy, xb, yb), **run}
    if isinstance(rule, ForwardGradient):
        result["alignment_mean"] = alignment(rule, model, F.cross_entropy, xb, yb,
                                             draws=args.align_draws)
    return result


COLUMNS = ["method", "train loss", "test acc", "ms/step", "steps/s", "peak MiB", "align",
           "align(mean)"]
LEGEND = ("align: mean cosine between the rule's weight update and the true gradient after "
          "training (one draw); align(mean): of the mean of many forward-gradient draws")


def weight_alignment(align):
    """Mean cosine over the weight matrices (biases left out)."""
    values = [v for k, v in align.items() if k.endswith("weight")]
    return float(np.mean(values)) if values else float("nan")


def table_rows(results):
    for name, r in results.items():
        mean = r.get("alignment_mean")
        yield dict(zip(COLUMNS, (
            name, f"{r['train_loss']:.4f}", f"{r['test_acc']:.2%}", f"{r['ms_per_step']:.2f}",
            f"{r['steps_per_s']:.1f}", f"{r['peak_mib']:.2f}",
            f"{weight_alignment(r['alignment']):.3f}",
            f"{weight_alignment(mean):.3f}" if mean else "-")))


def command_line(args):
    """The command line that reproduces this run."""
    words = ["tinyad compare"]
    for key, value in vars(args).items():
        if key in ("command", "func") or value in (None, False, ""):
            continue
        words.append(f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}"))
    return " ".join(words)


# ---- checks, all made before the first step ---------------------------------------------------
def parse_methods(text):
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UsageError(f"unknown method(s) {unknown or text!r}; choose from "
                         f"{', '.join(METHODS)}")
    return methods


def parse_lrs(text, methods):
    """{method: learning rate}: the defaults, overridden by `text` ('fg=1e-4,bp=3e-3')."""
    lrs = {m: METHODS[m][1] for m in methods}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, equals, value = (part.strip() for part in item.partition("="))
        if not equals or not name:
            raise UsageError(f"--lr expects name=value pairs like 'fg=1e-4', got {item!r}")
        if name not in METHODS:
            raise UsageError(f"--lr {item!r}: unknown method {name!r}; choose from "
                             f"{', '.join(METHODS)}")
        if name not in methods:
            raise UsageError(f"--lr {item!r}: {name} is not among --methods {','.join(methods)}")
        lrs[name] = finite_positive(value)
        if lrs[name] is None:
            raise UsageError(f"--lr {item!r}: a learning rate must be a finite number > 0")
    return lrs


def parse_hidden(text):
    try:
        hidden = [int(h) for h in text.split(",") if h.strip()]
    except ValueError:
        raise UsageError(f"--hidden expects comma-separated widths, got {text!r}") from None
    if any(h < 1 for h in hidden):
        raise UsageError(f"--hidden widths must be >= 1, got {text!r}")
    return hidden


def load_data(dataset, train_size, test_size):
    """The train and test splits (``tinyad.data.load_splits``), with labels checked to be
    class numbers 0..9; any problem is a one-line UsageError."""
    try:
        train, test = load_splits(dataset, train_size, test_size)
    except DatasetNotFoundError as e:
        raise UsageError(f"--dataset {dataset}: {str(e).splitlines()[0]} Set $TINYAD_DATA to a "
                         "folder holding the files, or pass that folder as --dataset") from None
    except (ValueError, OSError) as e:
        raise UsageError(f"--dataset {dataset}: {e}") from None
    for split, (_, y) in (("training", train), ("test", test)):
        if len(y) == 0:
            raise UsageError(f"--dataset {dataset}: the {split} split is empty")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= CLASSES:
            raise UsageError(f"--dataset {dataset}: {split} labels must be class numbers 0.."
                             f"{CLASSES - 1}; found values from {y.min()} to {y.max()}")
    return train, test
