"""One run of ``tinyad compare``: one learning rule, one learning rate, one seed.

``run_trial(spec)`` takes a JSON-ready dict (what ``compare`` builds from its arguments: the
method, seed, learning rate, optimizer, model, data and budgets) and returns a JSON-ready dict of
everything measured. It depends on nothing but the spec, so any process or machine can run it
(``workers.py``), and the seed fixes all three random things: the initial weights (the same for
every method of a seed), the order of the mini-batches, and the rule's own draws (tangents,
feedback matrices).

Selection is honest: each epoch ends with the accuracy on the validation split (carved from the
training data) and the per-layer alignment on a fixed training batch; the weights of the epoch
with the best validation accuracy are kept, and the test split is read once, after training, for
both the final weights and those kept ones.
"""
import copy
import functools
import math

import numpy as np

from .. import nn, optim, tensor
from ..data import DataLoader, load_splits, resize
from ..learning import (DFA, Backprop, FeedbackAlignment, ForwardGradient, LocalLosses,
                        LocalNet, ManualBackprop, alignment)
from ..learning.training import accuracy, fit, step_memory
from ..nn import functional as F
from . import machine

METHODS = {      # name: (the rule from (seed, tangents per step), learning-rate decay per epoch)
    "bp": (lambda seed, k: Backprop(), 1.0),
    "manual": (lambda seed, k: ManualBackprop(), 1.0),
    "dfa": (lambda seed, k: DFA(seed=seed), 1.0),
    "fa": (lambda seed, k: FeedbackAlignment(seed=seed), 1.0),
    "fg": (lambda seed, k: ForwardGradient(tangents=k, seed=seed), 0.9),
    "fg-readout": (lambda seed, k: ForwardGradient(tangents=k, seed=seed, exact_readout=True),
                   0.9),
    "fg-rademacher": (lambda seed, k: ForwardGradient(tangents=k, distribution="rademacher",
                                                      seed=seed), 0.9),
    "fg-activity": (lambda seed, k: ForwardGradient(tangents=k, perturb="activities", seed=seed),
                    0.9),
}
OPTIMIZERS = {   # name: (make(params, lr), default learning rate)
    "sgd": (lambda params, lr: optim.SGD(params, lr=lr), 0.05),
    "momentum": (lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9), 0.01),
    "adam": (lambda params, lr: optim.Adam(params, lr=lr), 1e-3),
    "rmsprop": (lambda params, lr: optim.RMSprop(params, lr=lr), 1e-3),
}
CLASSES = 10
PROBE = 256               # training examples the alignment is measured on, every epoch
SMOOTH = 20               # steps in the running mean that decides "reached the target loss"


@functools.lru_cache(maxsize=4)
def splits(dataset, train_size, val_size, test_size, resize_to, image):
    """(train, val, test) as (x, y) arrays: `train_size` first training examples, the last
    `val_size` of them carved off as the validation split, the last `test_size` test examples;
    images resized to `resize_to` pixels a side, shaped (N, 1, side, side) when `image`."""
    (x, y), test = load_splits(dataset, train_size, test_size)
    if not 1 <= val_size < len(x):
        raise ValueError(f"--val-size {val_size}: the training split has {len(x)} examples; "
                         "the validation split needs at least 1 and must leave at least 1")
    parts = [(x[:-val_size], y[:-val_size]), (x[-val_size:], y[-val_size:]), test]
    out = []
    for xs, ys in parts:
        xs = resize(xs, resize_to) if resize_to else xs
        if image:
            side = math.isqrt(xs.shape[1])
            xs = xs.reshape(len(xs), 1, side, side)
        out.append((np.ascontiguousarray(xs), ys))
    return tuple(out)


def build_model(model, features):
    """The network a spec's ``model`` dict names, for inputs of `features` values."""
    kind, hidden, bias = model["kind"], model["hidden"], model["bias"]
    if kind == "mlp":
        return nn.MLP([features, *hidden, CLASSES], model["activation"], bias=bias)
    if kind == "linear":
        return nn.MLP([features, *hidden, CLASSES], "identity", bias=bias)
    if kind == "local":
        return LocalNet([features, *hidden], CLASSES, norm=model["norm"], bias=bias)
    side = math.isqrt(features)
    act = nn.mlp.ACTIVATIONS[model["activation"]]
    layers, channels = [], 1
    for c in model["channels"]:
        layers += [nn.Conv2d(channels, c, 3, padding=1, bias=bias), act(), nn.MaxPool2d(2)]
        channels, side = c, side // 2
    layers.append(nn.Flatten())
    for n_in, n_out in zip([channels * side * side, *hidden], hidden):
        layers += [nn.Linear(n_in, n_out, bias=bias), act()]
    layers.append(nn.Linear(hidden[-1] if hidden else channels * side * side, CLASSES, bias=bias))
    return nn.Sequential(*layers)


def make_rule(spec):
    rule = METHODS[spec["method"]][0](spec["seed"], spec["tangents"])
    return LocalLosses(rule) if spec["model"]["kind"] == "local" else rule


def weight_layers(model):
    """Names of the weight matrices and kernels in forward order (the last one is the
    readout; a LayerNorm's gain, a vector, is not one)."""
    return [name for name, p in model.named_parameters() if name.endswith("weight")
            and p.ndim >= 2]


def run_trial(spec, log=print):
    """Train one (method, learning rate, seed) as `spec` says; everything measured (see the
    module docstring), JSON-ready. A run whose update turns non-finite stops there: its result
    says ``"diverged"`` and holds the epochs before, the best validation accuracy among them
    (0 if none), and no test accuracy."""
    with machine.threads(spec["threads"]):
        return _run(spec, log)


def _run(spec, log):
    train, val, test = splits(spec["dataset"], spec["train_size"], spec["val_size"],
                              spec["test_size"], spec["resize"], spec["model"]["kind"] == "cnn")
    nn.init.seed(spec["seed"])
    device = spec.get("device") or "cpu"
    model = build_model(spec["model"], int(np.prod(train[0].shape[1:]))).to(device)
    rule = make_rule(spec)
    opt = OPTIMIZERS[spec["optimizer"]][0](model.parameters(), spec["lr"])
    loader = DataLoader(*train, batch_size=spec["batch_size"], shuffle=True, seed=spec["seed"],
                        device=device)
    probe = tensor(train[0][:PROBE], device=device), train[1][:PROBE]
    # the true gradient: of the network's loss, or on local losses of each block's own loss
    exact = LocalLosses(Backprop()) if isinstance(rule, LocalLosses) else None
    tag = f"[{spec['method']:>11} lr {spec['lr']:<7g} seed {spec['seed']}]"
    best = {"val_acc": -1.0}

    def evaluate(m):
        record = {"val_acc": accuracy(m, *val),
                  "alignment": alignment(rule, m, F.cross_entropy, *probe, reference=exact)}
        if record["val_acc"] > best["val_acc"]:
            best.update(val_acc=record["val_acc"], state=m.state_dict())
        return record

    def progress(r):
        log(f"{tag} epoch {r['epoch']}/{spec['epochs']}  train loss {r['train_loss']:.4f}  "
            f"val acc {r['val_acc']:6.2%}", flush=True)
    done = []
    try:
        run = fit(rule, model, opt, loader, spec["epochs"], evaluate=evaluate,
                  on_epoch=lambda r: (done.append(r), progress(r)),
                  schedule=optim.ExponentialLR(opt, gamma=METHODS[spec["method"]][1]))
    except FloatingPointError as e:          # the optimizer refused a non-finite update
        log(f"{tag} diverged in epoch {len(done) + 1}: {e}", flush=True)
        return {"spec": spec, "diverged": str(e), "history": done, "layers":
                weight_layers(model), "best_val_acc": max([r["val_acc"] for r in done],
                                                          default=0.0)}
    history = run["history"]
    result = {"spec": spec, "history": history, "losses": run["losses"],
              "seconds": run["seconds"], "test_acc": accuracy(model, *test),
              "final_val_acc": history[-1]["val_acc"], "train_loss": history[-1]["train_loss"],
              "best_epoch": 1 + int(np.argmax([r["val_acc"] for r in history])),
              "best_val_acc": best["val_acc"], "layers": weight_layers(model),
              **timing(run["seconds"], spec["warmup_steps"]),
              **time_to(run["losses"], run["seconds"], spec["target_loss"])}
    final = copy.deepcopy(model.state_dict())
    model.load_state_dict(best["state"])
    result["test_acc_best"] = accuracy(model, *test)        # the early-stopping pick
    model.load_state_dict(final)
    xb, yb = train[0][:spec["batch_size"]], train[1][:spec["batch_size"]]
    result["peak_mib"] = step_memory(rule, model, xb, yb)
    if isinstance(getattr(rule, "rule", rule), ForwardGradient):
        result["alignment_mean"] = alignment(rule, model, F.cross_entropy, *probe,
                                             draws=spec["align_draws"], reference=exact)
    log(f"{tag} test acc {result['test_acc']:6.2%} (best-val epoch {result['best_epoch']}: "
        f"{result['test_acc_best']:6.2%}), {result['ms_per_step']:.2f} ms/step", flush=True)
    return result


def timing(clock, warmup):
    """ms per step over the steps after the first `warmup` (at least one step is left), and the
    warm-up itself: its total, and what it took beyond that many ordinary steps (first-use
    costs: Numba's compilation, caches, the allocator)."""
    w = max(0, min(warmup, len(clock) - 1))
    before = clock[w - 1] if w else 0.0
    per_step = (clock[-1] - before) / (len(clock) - w)
    return {"ms_per_step": 1e3 * per_step, "steps_per_s": 1 / per_step,
            "warmup_steps": w, "warmup_ms": 1e3 * before,
            "compile_ms": max(0.0, 1e3 * (before - w * per_step))}


def time_to(losses, clock, target):
    """The first step (1-based) and training second at which the running mean of the loss over
    SMOOTH steps is at or below `target`; None for both when it never is."""
    if target is None or len(losses) < SMOOTH:
        return {"steps_to_target": None, "seconds_to_target": None}
    running = np.convolve(losses, np.ones(SMOOTH) / SMOOTH, mode="valid")
    hit = np.flatnonzero(running <= target)
    if not len(hit):
        return {"steps_to_target": None, "seconds_to_target": None}
    step = int(hit[0]) + SMOOTH
    return {"steps_to_target": step, "seconds_to_target": clock[step - 1]}
