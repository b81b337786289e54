"""``tinyad compare``: one architecture, several learning rules, several seeds, honest selection.

Each (method, learning rate, seed) is one trial (trial.py): the seed fixes the initial weights
(shared by every method), the data order and the rule's own draws. Training data are split into
a training and a validation part (``--val-size``); the validation accuracy after each epoch picks
the early-stopping epoch and, with ``--lr-grid``, each method's learning rate; the test split is
read once per trial, at the end. Trials run here, in ``--workers`` local processes or on Ray
(``--ray``), each written to ``<out>/trials/`` as it finishes, so a killed run resumes with what
is missing (workers.py). The tables give mean ± sd over the seeds (summary.py) and the plots
bands of ± one sd (compare_plots.py). Everything is checked before the first step (arguments,
data, optional packages, the output folder); a problem is one line and exit code 2.

Device: ``--device cuda`` trains on the GPU (CuPy): each trial's model goes there and its
training set moves there once (``DataLoader(device=)``); accuracy, alignment and the step's memory
(CuPy's pool, not the host's) are measured there. Checked before anything trains: CuPy must
import and a CUDA device must answer.

Threads: ``--threads`` (default 1) sets OpenBLAS's and Numba's thread counts for each trial and
puts them back after it; ``--workers N`` needs N × threads <= cores. One thread does not
collapse under load: on a busy 2-core machine, two BLAS threads spin-waiting for each other made
a run 5x slower.

Learning-rate defaults: by optimizer (``trial.OPTIMIZERS``: Adam and RMSprop 1e-3, momentum SGD
1e-2, SGD 5e-2) for every rule, forward gradients decaying theirs by x0.9 per epoch to average
their noise out late in training; ``--lr fg=1e-4`` overrides one method's, ``--lr-grid`` lets the
validation split choose. The rates used are in every results file.
"""
import os

from ..data import DatasetNotFoundError, load_splits
from . import machine
from .checks import (UsageError, add_device_argument, at_least, finite_positive, require_device,
                     require_plots, writable_folder)
from .compare_plots import plot_compare
from .results import markdown_table, write
from .summary import COLUMNS, GRID_COLUMNS, LEGEND, grid_rows, pick, summarise, table_row
from .trial import CLASSES, METHODS, OPTIMIZERS, splits
from .workers import ray_module, run_all

DEFAULT_METHODS = "bp,fg,fg-activity,dfa,fa"
MODELS = {"mlp": "256,256", "cnn": "", "linear": "40", "local": "256,256"}   # default --hidden
COUNTS = {"epochs": 1, "batch_size": 1, "tangents": 1, "align_draws": 1, "train_size": 1,
          "test_size": 1, "val_size": 1, "threads": 1, "seed": 0, "seeds": 1, "workers": 1,
          "resize": 1, "warmup_steps": 0}


def add_arguments(p):
    p.add_argument("--dataset", default="default",
                   help="'default' (embedded, no download), 'mnist', 'fashion-mnist', or a folder "
                        "of IDX files (a folder with one split is cut into train and test)")
    p.add_argument("--methods", default=DEFAULT_METHODS,
                   help=f"comma-separated, from {', '.join(METHODS)} (default {DEFAULT_METHODS})")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--model", default="mlp", choices=list(MODELS),
                   help="mlp; cnn (3x3 conv + pool per --channels, then --hidden); linear (no "
                        "activation: a deep linear network); local (Ren et al.'s local losses: "
                        "a LocalNet, each block trained on its own loss)")
    p.add_argument("--hidden", default=None, help="hidden widths, comma-separated (default "
                   + "; ".join(f"{k} '{v}'" for k, v in MODELS.items()) + ")")
    p.add_argument("--channels", default="8,16", help="cnn: channels of the conv layers")
    p.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid"])
    p.add_argument("--no-bias", action="store_true", help="layers without biases")
    p.add_argument("--resize", type=int, default=None, help="resize images to N x N pixels")
    p.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS))
    p.add_argument("--lr", default="", help="learning rates by method, e.g. 'fg=5e-5,bp=3e-3' "
                                            "(default: the optimizer's)")
    p.add_argument("--lr-grid", default="", help="learning rates to try for every method, e.g. "
                   "'1e-4,1e-3,1e-2': each method keeps the one with the best validation accuracy")
    p.add_argument("--tangents", type=int, default=1, help="forward-gradient directions per step")
    p.add_argument("--train-size", type=int, default=None,
                   help="first N training examples (a one-split folder: first N for training), "
                        "the validation split included")
    p.add_argument("--val-size", type=int, default=None,
                   help="the last N of the training examples, held out for selection (default "
                        "a tenth)")
    p.add_argument("--test-size", type=int, default=None, help="last N test examples")
    p.add_argument("--align-draws", type=int, default=100,
                   help="forward-gradient draws averaged for the mean alignment")
    p.add_argument("--target-loss", type=float, default=0.5,
                   help="report the steps and seconds until the training loss reaches this")
    p.add_argument("--warmup-steps", type=int, default=5,
                   help="steps left out of ms/step (their extra time is reported on its own)")
    p.add_argument("--seed", type=int, default=0, help="the first seed")
    p.add_argument("--seeds", type=int, default=1, help="seeds per method: seed, seed+1, ...")
    p.add_argument("--threads", type=int, default=1,
                   help="OpenBLAS and Numba threads in each trial, restored after it (default "
                        "1: more threads spin-wait on a busy machine)")
    p.add_argument("--workers", type=int, default=1, help="trials run in parallel processes")
    p.add_argument("--ray", default=None, metavar="local|auto|ADDRESS",
                   help="run the trials on Ray: 'local' starts it here, 'auto' joins this "
                        "machine's cluster, or a cluster address (pip install 'tinyad[cluster]')")
    add_device_argument(p)
    p.add_argument("--out", default="runs/compare",
                   help="folder for results.json, results.md, plots and trials/ (a rerun into "
                        "the same folder runs only the missing trials)")
    p.add_argument("--no-plots", action="store_true")


def run(args):
    plan = check(args)
    require_device(args.device)
    plt = None if args.no_plots else require_plots()
    if args.ray:
        try:
            ray_module()
        except ImportError as e:
            raise UsageError(str(e)) from None
    out = writable_folder(args.out)
    print(f"data: {args.dataset}: {plan['sizes']}; model {describe(plan['model'])}; "
          f"{args.optimizer}, batch {args.batch_size}, {args.epochs} epochs, seeds "
          f"{plan['seeds']}, on {args.device}, {args.threads} thread(s) x {args.workers} worker(s)",
          flush=True)
    results = run_all(plan["specs"], out, args.workers, args.ray)
    with machine.threads(args.threads) as threads:        # the setting each trial ran with
        record = machine.record(args.device)
    chosen, grid = pick(results)
    summary = {m: summarise([r for r in results if r["spec"]["method"] == m
                             and r["spec"]["lr"] == chosen[m]]) for m in plan["methods"]}
    payload = {"command": command_line(args), "config": {k: v for k, v in vars(args).items()
                                                         if k != "func"},
               "model": plan["model"], "data": plan["sizes"], "device": args.device, "lrs": chosen,
               "lr_decay": {m: METHODS[m][1] for m in plan["methods"]},
               "summary": summary, "threads": threads, "machine": record,
               "trials": [str(p.relative_to(out)) for p in sorted((out / "trials").glob("*.json"))]}
    text = (f"`{command_line(args)}`\n\n{describe(plan['model'])}, {args.optimizer}, batch "
            f"{args.batch_size}, {args.epochs} epochs, {plan['sizes']}, seeds {plan['seeds']}, "
            f"on {args.device}, {args.threads} thread(s) per trial.\n\n"
            + markdown_table([table_row(m, chosen[m], summary[m]) for m in plan["methods"]],
                             COLUMNS) + f"\n\n{LEGEND}")
    if args.lr_grid:
        payload["grid"] = {m: {f"{lr:g}": s for lr, s in by_lr.items()}
                           for m, by_lr in grid.items()}
        text += ("\n\nLearning rates tried (the pick: best mean validation accuracy):\n\n"
                 + markdown_table(list(grid_rows(chosen, grid)), GRID_COLUMNS))
    write(out, "results", payload, text, "tinyad compare")
    if plt is not None:
        picked = {m: [r for r in results if r["spec"]["method"] == m
                      and r["spec"]["lr"] == chosen[m]] for m in plan["methods"]}
        for path in plot_compare(plt, picked, out):
            print(f"wrote {path}")
    return 0


def describe(model):
    kind = model["kind"]
    text = {"mlp": f"MLP {model['hidden']} {model['activation']}",
            "linear": f"linear network {model['hidden']} (no activation)",
            "cnn": f"CNN conv {model['channels']} + dense {model['hidden']} "
                   f"{model['activation']}",
            "local": f"LocalNet {model['hidden']} (local losses"
                     + (", LayerNorm)" if model["norm"] else ")")}[kind]
    return text + ("" if model["bias"] else ", no bias")


def command_line(args):
    """The command line that reproduces this run."""
    words = ["tinyad compare"]
    for key, value in vars(args).items():
        if key in ("command", "func") or value in (None, False, ""):
            continue
        words.append(f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}"))
    return " ".join(words)


# ---- checks, all made before the first step ---------------------------------------------------
def check(args):
    """Every argument and the data, checked; the trials to run (``plan["specs"]``)."""
    at_least(args, COUNTS)
    methods = parse_methods(args.methods)
    lrs = parse_lrs(args.lr, methods, OPTIMIZERS[args.optimizer][1])
    grid = parse_numbers(args.lr_grid, "--lr-grid") if args.lr_grid else None
    if grid and args.lr:
        raise UsageError("--lr and --lr-grid exclude each other: the grid sets every rate")
    cores = os.cpu_count() or 1
    if args.workers * args.threads > cores:
        raise UsageError(f"--workers {args.workers} x --threads {args.threads} = "
                         f"{args.workers * args.threads} threads, more than the {cores} cores")
    model = {"kind": args.model, "bias": not args.no_bias, "activation": args.activation,
             "hidden": parse_widths(MODELS[args.model] if args.hidden is None else args.hidden,
                                    "--hidden"),
             "channels": parse_widths(args.channels, "--channels") if args.model == "cnn" else [],
             "norm": args.model == "local"}
    if args.model == "local" and not model["hidden"]:
        raise UsageError("--model local needs at least one block width in --hidden")
    if args.model == "cnn" and not model["channels"]:
        raise UsageError("--model cnn needs at least one conv layer in --channels")
    train_n = load_check(args)
    seeds = list(range(args.seed, args.seed + args.seeds))
    base = {"dataset": args.dataset, "train_size": args.train_size, "val_size": train_n["val"],
            "test_size": args.test_size, "resize": args.resize, "model": model,
            "optimizer": args.optimizer, "epochs": args.epochs, "batch_size": args.batch_size,
            "tangents": args.tangents, "align_draws": args.align_draws,
            "target_loss": args.target_loss, "warmup_steps": args.warmup_steps,
            "threads": args.threads, "device": args.device}
    specs = [dict(base, method=m, lr=lr, seed=s) for m in methods
             for lr in (grid or [lrs[m]]) for s in seeds]
    return {"methods": methods, "model": model, "seeds": seeds, "specs": specs,
            "sizes": train_n}


def load_check(args):
    """Load the splits once (the trials of this process reuse them), with the labels checked to
    be class numbers 0..9; the split sizes. Any problem is a one-line UsageError."""
    dataset = args.dataset
    try:
        (x, _), _ = load_splits(dataset, args.train_size, args.test_size)
        val = args.val_size or max(1, len(x) // 10)
        train, valid, test = splits(dataset, args.train_size, val, args.test_size, args.resize,
                                    args.model == "cnn")
    except DatasetNotFoundError as e:
        raise UsageError(f"--dataset {dataset}: {str(e).splitlines()[0]} Set $TINYAD_DATA to a "
                         "folder holding the files, or pass that folder as --dataset") from None
    except (ValueError, OSError) as e:
        raise UsageError(str(e) if str(e).startswith("--") else f"--dataset {dataset}: {e}") \
            from None
    for split, (_, y) in (("training", train), ("test", test)):
        if len(y) == 0:
            raise UsageError(f"--dataset {dataset}: the {split} split is empty")
        if not ((y.dtype.kind in "iu") and y.min() >= 0 and y.max() < CLASSES):
            raise UsageError(f"--dataset {dataset}: {split} labels must be class numbers 0.."
                             f"{CLASSES - 1}; found values from {y.min()} to {y.max()}")
    return {"train": len(train[1]), "val": len(valid[1]), "test": len(test[1])}


def parse_methods(text):
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UsageError(f"unknown method(s) {unknown or text!r}; choose from "
                         f"{', '.join(METHODS)}")
    return methods


def parse_lrs(text, methods, default):
    """{method: learning rate}: `default`, overridden by `text` ('fg=1e-4,bp=3e-3')."""
    lrs = {m: default for m in methods}
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


def parse_numbers(text, option):
    values = [finite_positive(v) for v in text.split(",") if v.strip()]
    if not values or None in values:
        raise UsageError(f"{option} expects comma-separated numbers > 0, got {text!r}")
    return sorted(set(values))


def parse_widths(text, option):
    try:
        widths = [int(h) for h in text.split(",") if h.strip()]
    except ValueError:
        raise UsageError(f"{option} expects comma-separated widths, got {text!r}") from None
    if any(h < 1 for h in widths):
        raise UsageError(f"{option} widths must be >= 1, got {text!r}")
    return widths
