"""``tinyad compare``: one architecture, one initialisation, one data order, several learning rules.

Each rule trains a copy of the same MLP with Adam; only the way the update direction is obtained
differs. Prints a line per epoch per rule and a final table (train loss, test accuracy, time per
step, steps per second, peak memory, gradient alignment), and writes ``results.json`` and plots to
``--out``.

Learning-rate defaults (Adam): 1e-3 for every rule, with forward gradients decaying it by x0.9
per epoch to average their noise out late in training. Sweeps on the MNIST test-set split (8,000 /
2,000, 10 epochs) for weight-perturbed forward gradients: 1e-4: 12.9%, 3e-4: 17.5%, 1e-3: 41.6%,
3e-3: 65.7% test accuracy, but 3e-3 diverges on longer runs (Fashion-MNIST, 5 epochs: the loss
turns upward after about 700 steps), 1e-3 does not. Adam divides each step by a running RMS of
the (noisy) directions, so a step stays bounded however noisy the estimate is.
"""
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np

from .. import nn, no_grad, optim, tensor
from ..nn import functional as F
from .alignment import alignment
from .backprop import Backprop, ManualBackprop
from .feedback import DFA, FeedbackAlignment
from .forward_gradient import ForwardGradient

METHODS = {
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
    p.add_argument("--lr", default="", help="overrides, e.g. 'fg=5e-5,bp=3e-3'")
    p.add_argument("--tangents", type=int, default=1, help="forward-gradient directions per step")
    p.add_argument("--train-size", type=int, default=None,
                   help="first N training examples (a one-split folder: first N for training)")
    p.add_argument("--test-size", type=int, default=None, help="last N test examples")
    p.add_argument("--align-draws", type=int, default=100,
                   help="forward-gradient draws averaged for the mean alignment")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/compare", help="folder for results.json and plots")
    p.add_argument("--no-plots", action="store_true")


def run(args):
    methods = _parse_methods(args)
    lrs = _parse_lrs(args, methods)
    hidden = _parse_hidden(args)
    (xtr, ytr), (xte, yte) = load_dataset(args.dataset, args.train_size, args.test_size)
    sizes = [xtr.shape[1], *hidden, int(max(ytr.max(), yte.max())) + 1]
    print(f"data: {args.dataset}: {len(xtr)} train, {len(xte)} test; model MLP {sizes} "
          f"({args.activation}), Adam, batch {args.batch_size}, {args.epochs} epochs")
    nn.init.seed(args.seed)
    initial = nn.MLP(sizes, activation=args.activation).state_dict()
    results = {}
    for name in methods:
        results[name] = train_one(name, initial, sizes, (xtr, ytr), (xte, yte), lrs[name], args)
    table = print_table(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(f"# tinyad compare\n\n`{_command(args)}`\n\nMLP {sizes}, "
                                    f"{args.activation}, Adam, batch {args.batch_size}, "
                                    f"{args.epochs} epochs, {len(xtr)} train / {len(xte)} test "
                                    f"examples; {_machine()}\n\n{table}")
    payload = {"config": {k: v for k, v in vars(args).items() if k != "func"},
               "sizes": sizes, "results": results}
    (out / "results.json").write_text(json.dumps(payload, indent=1) + "\n")
    if not args.no_plots:
        from .plots import plot_compare
        for path in plot_compare(results, out):
            print(f"wrote {path}")
    print(f"wrote {out / 'results.json'} and results.md")
    return 0


def train_one(name, initial, sizes, train, test, lr, args):
    make, _, decay = METHODS[name]
    rule = make(args.seed, args.tangents)
    device = getattr(args, "device", "cpu")             # the data set moves there once
    model = nn.MLP(sizes, activation=args.activation).to(device)
    model.load_state_dict(initial)
    opt = optim.Adam(model.parameters(), lr=lr)
    schedule = optim.ExponentialLR(opt, gamma=decay)
    from ..data import DataLoader
    loader = DataLoader(*train, batch_size=args.batch_size, shuffle=True, seed=args.seed,
                        device=device)
    losses, clock, history = [], [], []
    seconds = 0.0
    for epoch in range(1, args.epochs + 1):
        epoch_losses = []
        for xb, yb in loader:
            start = time.perf_counter()
            opt.zero_grad()
            loss = rule.backward(model, F.cross_entropy, tensor(xb), yb)
            opt.step()
            seconds += time.perf_counter() - start
            losses.append(loss)
            clock.append(seconds)
            epoch_losses.append(loss)
        schedule.step()
        acc = accuracy(model, *test)
        history.append({"epoch": epoch, "train_loss": float(np.mean(epoch_losses)),
                        "test_acc": acc})
        print(f"[{name:>11}] epoch {epoch}/{args.epochs}  train loss {np.mean(epoch_losses):.4f}  "
              f"test acc {acc:6.2%}  {1e3 * seconds / len(losses):.2f} ms/step", flush=True)
    xb, yb = train[0][:256], train[1][:256]
    align = alignment(rule, model, F.cross_entropy, tensor(xb, device=device), yb)
    result = {
        "lr": lr, "lr_decay": decay, "train_loss": history[-1]["train_loss"],
        "test_acc": history[-1]["test_acc"], "ms_per_step": 1e3 * seconds / len(losses),
        "steps_per_s": len(losses) / seconds, "peak_mib": peak_memory(rule, model, xb, yb),
        "alignment": align, "history": history, "losses": losses, "seconds": clock,
    }
    if isinstance(rule, ForwardGradient):
        result["alignment_mean"] = alignment(rule, model, F.cross_entropy,
                                             tensor(xb, device=device), yb, draws=args.align_draws)
    return result


def accuracy(model, x, y, batch=1000):
    device = next(iter(model.parameters())).device
    correct = 0
    with no_grad():
        for i in range(0, len(x), batch):
            logits = model(tensor(x[i:i + batch], device=device))
            correct += int((logits.numpy().argmax(1) == y[i:i + batch]).sum())
    return correct / len(x)


def peak_memory(rule, model, x, y, steps=3):
    """Peak bytes allocated during a training step (tracemalloc sees NumPy's buffers), in MiB."""
    tracemalloc.start()
    try:
        for _ in range(steps):
            for p in model.parameters():
                p.grad = None
            tracemalloc.reset_peak()
            rule.backward(model, F.cross_entropy,
                          tensor(x, device=next(iter(model.parameters())).device), y)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def weight_alignment(align):
    """Mean cosine over the weight matrices (biases left out)."""
    values = [v for k, v in align.items() if k.endswith("weight")]
    return float(np.mean(values)) if values else float("nan")


COLUMNS = ("method", "train loss", "test acc", "ms/step", "steps/s", "peak MiB", "align",
           "align(mean)")
LEGEND = ("align: mean cosine between the rule's weight update and the true gradient after "
          "training (one draw); align(mean): of the mean of many forward-gradient draws")


def table_rows(results):
    for name, r in results.items():
        mean = r.get("alignment_mean")
        yield (name, f"{r['train_loss']:.4f}", f"{r['test_acc']:.2%}", f"{r['ms_per_step']:.2f}",
               f"{r['steps_per_s']:.1f}", f"{r['peak_mib']:.2f}",
               f"{weight_alignment(r['alignment']):.3f}",
               f"{weight_alignment(mean):.3f}" if mean else "-")


def print_table(results):
    """Print the final table; return it as markdown."""
    widths = [12, 10, 9, 8, 8, 9, 6, 11]
    line = " ".join(f"{c:>{w}}" for c, w in zip(COLUMNS, widths))
    print("\n" + line + "\n" + "-" * len(line))
    for row in table_rows(results):
        print(" ".join(f"{c:>{w}}" for c, w in zip(row, widths)))
    print(LEGEND)
    md = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    md += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    return "\n".join(md) + "\n\n" + LEGEND + "\n"


def _command(args):
    """The command line that reproduces this run."""
    words = ["tinyad compare"]
    for key, value in vars(args).items():
        if key in ("command", "func") or value in (None, False, ""):
            continue
        words.append(f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}"))
    return " ".join(words)


def _machine():
    import os
    import platform
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.machine()} with {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__}, load average {load:.2f} "
            "at the end")


def load_dataset(name, train_size=None, test_size=None):
    """((x_train, y_train), (x_test, y_test)) as float32 (N, 784) and int64 labels."""
    from .. import data
    if name == "default":
        train, test = data.load_default(train=True), data.load_default(train=False)
    elif name in ("mnist", "fashion-mnist"):
        load = data.load_mnist if name == "mnist" else data.load_fashion_mnist
        train, test = load(train=True), load(train=False)
    else:
        splits = data.load_idx_folder(name)
        train, test = splits.get("train"), splits.get("test")
        if train is None or test is None:
            train, test = _split(train or test, train_size, test_size)
    if train_size:
        train = (train[0][:train_size], train[1][:train_size])
    if test_size:
        test = (test[0][-test_size:], test[1][-test_size:])
    return train, test


def _split(pair, train_size, test_size):
    """A single split cut in two: the first part trains, the last part tests."""
    n = len(pair[0])
    n_test = test_size or n // 5
    n_train = train_size or n - n_test
    if n_train + n_test > n:
        raise SystemExit(f"tinyad compare: --train-size {n_train} + --test-size {n_test} exceed "
                         f"the {n} examples of the folder")
    return (pair[0][:n_train], pair[1][:n_train]), (pair[0][n - n_test:], pair[1][n - n_test:])


def _parse_methods(args):
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        _fail(f"unknown method(s) {unknown or args.methods!r}; choose from {', '.join(METHODS)}")
    for name in ("epochs", "batch_size", "tangents", "align_draws"):
        if getattr(args, name) < 1:
            _fail(f"--{name.replace('_', '-')} must be >= 1")
    return methods


def _parse_lrs(args, methods):
    lrs = {m: METHODS[m][1] for m in methods}
    for item in filter(None, (s.strip() for s in args.lr.split(","))):
        name, _, value = item.partition("=")
        try:
            lrs[name] = float(value)
        except ValueError:
            _fail(f"--lr expects name=value pairs like 'fg=1e-4', got {item!r}")
        if name not in METHODS or lrs[name] <= 0:
            _fail(f"--lr {item!r}: unknown method or non-positive rate")
    return lrs


def _parse_hidden(args):
    try:
        hidden = [int(h) for h in args.hidden.split(",") if h.strip()]
    except ValueError:
        _fail(f"--hidden expects comma-separated widths, got {args.hidden!r}")
    if any(h < 1 for h in hidden):
        _fail("--hidden widths must be >= 1")
    return hidden


def _fail(message):
    import sys
    sys.stderr.write(f"tinyad compare: error: {message}\n")
    raise SystemExit(2)
