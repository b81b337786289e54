"""MAML on sinusoid regression (Finn, Abbeel and Levine, 2017), second- and first-order.

    python examples/maml_sinusoid.py                 # full run: 4 variants, 5-20 minutes on 2 cores
    python examples/maml_sinusoid.py --quick --out /tmp/maml

Plots and maml.json go to runs/maml (``--out``); the committed run is bench/results/maml, which
only ``--out bench/results/maml`` replaces.

A *task* is a sine wave y = A sin(x - φ), A ~ U[0.1, 5], φ ~ U[0, π], seen through K = 10 points
x ~ U[-5, 5] (the support set); K more points of the same wave (the query set) judge it. MAML
learns an initialisation θ of a 1-40-40-1 ReLU network from which *one* gradient step on a task's
support set fits that task:

    θ'_task = θ - α ∇θ L_support(θ)                          inner step, α = 0.01
    meta-loss(θ) = mean over tasks of L_query(θ'_task)       minimised over θ by Adam

The meta-gradient differentiates through the inner step: ∇θ L_query(θ') (I - α ∇²θ L_support(θ)).
*Second-order* MAML keeps the Hessian term: the inner gradient is taken with its graph recorded
(``ad.grad`` nested in an outer backward), so reverse mode runs through a backward pass.
*First-order* MAML treats the inner gradient as a constant (computed on detached parameters) and
drops it: cheaper, and in the paper about as good.

Baselines, as in Finn et al.'s comparison: *pretrained*, the same network trained on the same
task stream by ordinary regression (the mean query loss of the unadapted network over all tasks,
no inner step), then fine-tuned at meta-test by the same SGD steps; and *oracle*, a 3-40-40-1
network told each task's amplitude and phase as two extra inputs (a bound no adaptation can
beat), trained the same way and not adapted at meta-test.

Every task of a meta-batch is handled at once: the parameters are broadcast to a leading task axis
and the per-task losses summed, so the gradient with respect to task t's copy is ∇L_t alone.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import tinyad as ad
from tinyad.commands.plotting import pyplot
from tinyad.ops import broadcast_to

SIZES = (1, 40, 40, 1)
PLOT_TASKS = 4


# --- tasks ----------------------------------------------------------------------------------------
def sample_tasks(rng, count, k_support, k_query, dtype="float32"):
    """`count` sine tasks: support and query inputs/targets of shape (count, K, 1), and the
    amplitudes and phases (count, 1, 1) for plotting the true curves."""
    amp = rng.uniform(0.1, 5.0, (count, 1, 1))
    phase = rng.uniform(0.0, np.pi, (count, 1, 1))
    xs = rng.uniform(-5.0, 5.0, (count, k_support, 1))
    xq = rng.uniform(-5.0, 5.0, (count, k_query, 1))
    def t(a):
        return ad.tensor(a, dtype=dtype)
    return {"xs": t(xs), "ys": t(amp * np.sin(xs - phase)), "xq": t(xq),
            "yq": t(amp * np.sin(xq - phase)), "amp": amp, "phase": phase}


# --- the network, as a function of a list of parameters -------------------------------------------
def init_params(seed, sizes=SIZES, dtype="float32"):
    """[W1, b1, W2, b2, ...], W (in, out) and b (1, out), uniform in ±1/sqrt(in) as PyTorch's."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        params += [ad.tensor(rng.uniform(-bound, bound, shape), dtype=dtype, requires_grad=True)
                   for shape in ((n_in, n_out), (1, n_out))]
    return params


def mlp(params, x):
    """x (tasks, points, 1) -> (tasks, points, 1). Weights are shared (in, out) or per task
    (tasks, in, out); matmul broadcasts either way."""
    for k in range(0, len(params) - 2, 2):
        x = ad.relu(x @ params[k] + params[k + 1])
    return x @ params[-2] + params[-1]


def task_losses(params, x, y):
    """Mean squared error of each task: shape (tasks,)."""
    return ((mlp(params, x) - y) ** 2).mean(axis=(1, 2))


# --- MAML -----------------------------------------------------------------------------------------
def adapt(params, x, y, alpha, steps, first_order=False):
    """Per-task parameters after `steps` SGD steps on each task's (x, y): θ' = θ - α ∇θ L(θ).
    `params` are shared (in, out) or already per task (tasks, in, out).

    Second-order: the inner gradients stay on the tape (``ad.grad`` records its backward pass
    because the parameters are watched by an outer backward), so the meta-gradient flows through
    them. First-order: they are computed on detached parameters and enter as constants."""
    def support_loss(*theta):
        return task_losses(theta, x, y).sum()     # task t's copy gets ∇L_t alone

    theta = [broadcast_to(p, (x.shape[0],) + p.shape[-2:]) for p in params]   # one per task
    every = tuple(range(len(theta)))
    for _ in range(steps):
        grads = ad.grad(support_loss, every)(*([p.detach() for p in theta] if first_order
                                                else theta))
        theta = [p - alpha * g for p, g in zip(theta, grads)]
    return theta


def meta_loss(params, tasks, alpha, steps=1, first_order=False):
    """Mean query loss after adapting to each task's support set."""
    adapted = adapt(params, tasks["xs"], tasks["ys"], alpha, steps, first_order)
    return task_losses(adapted, tasks["xq"], tasks["yq"]).mean()


def train(params, args, first_order=False, joint=False, oracle=False):
    """Train copies of `params` with Adam: MAML (second- or first-order), or with `joint` plain
    regression on every task's points (the pretrained baseline; with `oracle` the inputs carry
    the task's amplitude and phase). The task stream depends only on args.seed, so every variant
    sees the same tasks. Returns the parameters and the loss of every iteration."""
    params = [ad.tensor(p.numpy(), requires_grad=True) for p in params]
    opt = ad.optim.Adam(params, lr=args.meta_lr)
    rng = np.random.default_rng(args.seed)
    history = []
    for _ in range(args.iterations):
        tasks = sample_tasks(rng, args.meta_batch, args.k, args.k)
        tasks = told(tasks) if oracle else tasks
        opt.zero_grad()
        if joint:
            x = ad.concatenate([tasks["xs"], tasks["xq"]], axis=1)
            y = ad.concatenate([tasks["ys"], tasks["yq"]], axis=1)
            loss = task_losses(params, x, y).mean()
        else:
            loss = meta_loss(params, tasks, args.alpha, args.inner_steps, first_order)
        loss.backward()
        opt.step()
        history.append(loss.item())
    return params, history


def told(tasks):
    """The oracle's view of `tasks`: each input x becomes (x, amplitude, phase)."""
    def extend(x):
        n, k, _ = x.shape
        known = np.concatenate([np.broadcast_to(tasks["amp"], (n, k, 1)),
                                np.broadcast_to(tasks["phase"], (n, k, 1))], axis=2)
        return ad.concatenate([x, ad.tensor(known, dtype=x.dtype)], axis=2)
    return dict(tasks, xs=extend(tasks["xs"]), xq=extend(tasks["xq"]))


# --- meta-test ------------------------------------------------------------------------------------
def evaluate(params, tasks, alpha, steps):
    """Query MSE per task after 0..steps SGD steps on the support set, shape (steps + 1, tasks),
    and the parameters after 0 (shared), 1 and `steps` steps (per task)."""
    losses, kept = [], {}
    theta = [p.detach() for p in params]
    for step in range(steps + 1):
        if step:
            theta = adapt(theta, tasks["xs"], tasks["ys"], alpha, 1)
        with ad.no_grad():
            losses.append(task_losses(theta, tasks["xq"], tasks["yq"]).numpy())
        if step in (0, 1, steps):
            kept[step] = theta
    return np.array(losses), kept


# --- report ---------------------------------------------------------------------------------------
def plot(results, tasks, alpha, out):
    plt = pyplot()
    fits = {name: res for name, res in results.items() if name != "oracle"}   # x alone: not it
    grid = np.linspace(-5, 5, 200)
    x = ad.tensor(grid[None, :, None], dtype=tasks["xs"].dtype)
    fig, axes = plt.subplots(len(fits), PLOT_TASKS, figsize=(12.8, 2.6 * len(fits)),
                             sharex=True, sharey=True, squeeze=False)
    for row, (name, res) in zip(axes, fits.items()):
        for t, ax in enumerate(row):
            truth = tasks["amp"][t, 0, 0] * np.sin(grid - tasks["phase"][t, 0, 0])
            ax.plot(grid, truth, "k", lw=2, label="true sine")
            for step, style in zip(sorted(res["kept"]), (":", "--", "-")):
                one = [p[t] if p.ndim == 3 else p for p in res["kept"][step]]
                pred = mlp(one, x).numpy().ravel()
                label = f"after {step} step" + "s" * (step != 1) if step else "meta-init θ"
                ax.plot(grid, pred, style, label=label)
            ax.plot(tasks["xs"].numpy()[t, :, 0], tasks["ys"].numpy()[t, :, 0], "o", ms=4,
                    color="C3", label="K support points")
            ax.set_title(f"{name}, task {t}", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "maml_fits.png", dpi=110)
    plt.close(fig)

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, res in results.items():
        mean, se = res["mean"], res["se"]
        left.errorbar(range(len(mean)), mean, yerr=se, marker="o", capsize=3, label=name)
        window = max(1, len(res["history"]) // 50)
        smooth = np.convolve(res["history"], np.ones(window) / window, mode="valid")
        right.plot(np.arange(len(smooth)) + window, smooth, label=name)
    left.set(xlabel=f"adaptation steps (SGD, lr {alpha})", ylabel="meta-test query MSE",
             yscale="log", title="Meta-test loss after adaptation")
    right.set(xlabel="meta-iteration", ylabel="meta-training query loss", yscale="log",
              title=f"Meta-training (moving average of {window})")
    left.legend()
    right.legend()
    fig.tight_layout()
    fig.savefig(out / "maml_adaptation.png", dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (CI): few iterations")
    parser.add_argument("--out", type=Path, default=Path("runs/maml"),
                        help="folder for the plots and maml.json (default runs/maml)")
    parser.add_argument("--iterations", type=int, help="meta-iterations (default 20000, quick 500)")
    parser.add_argument("--meta-batch", type=int, default=25, help="tasks per meta-iteration")
    parser.add_argument("--inner-steps", type=int, default=1, help="SGD steps inside the meta-loss")
    parser.add_argument("--alpha", type=float, default=0.01, help="inner learning rate")
    parser.add_argument("--meta-lr", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--k", type=int, default=10, help="support (and query) points per task")
    parser.add_argument("--test-tasks", type=int, help="meta-test tasks (default 600, quick 100)")
    parser.add_argument("--test-steps", type=int, default=10, help="adaptation steps at test")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.iterations = args.iterations or (500 if args.quick else 20000)
    args.test_tasks = args.test_tasks or (100 if args.quick else 600)
    args.out.mkdir(parents=True, exist_ok=True)

    init = init_params(args.seed)
    test = sample_tasks(np.random.default_rng(args.seed + 1), args.test_tasks, args.k, 100)
    variants = {"second-order": dict(first_order=False), "first-order": dict(first_order=True),
                "pretrained": dict(joint=True), "oracle": dict(joint=True, oracle=True)}
    print(f"MAML, sinusoids: net {'-'.join(map(str, SIZES))} ReLU, K = {args.k}, meta-batch "
          f"{args.meta_batch}, {args.iterations} meta-iterations, inner lr {args.alpha} x "
          f"{args.inner_steps} step(s), Adam lr {args.meta_lr}")
    results = {}
    for name, how in variants.items():
        start = time.perf_counter()
        oracle = how.get("oracle", False)
        params, history = train(init_params(args.seed, (3,) + SIZES[1:]) if oracle else init,
                                args, **how)
        seconds = time.perf_counter() - start
        losses, kept = evaluate(params, told(test) if oracle else test, args.alpha,
                                0 if oracle else args.test_steps)
        if oracle:                  # not adapted: the same loss after any number of steps
            losses = np.repeat(losses, args.test_steps + 1, axis=0)
            kept = {step: kept[0] for step in (0, 1, args.test_steps)}
        results[name] = {"train_seconds": seconds, "history": history, "kept": kept,
                         "mean": losses.mean(axis=1),
                         "se": losses.std(axis=1) / np.sqrt(losses.shape[1])}
        print(f"  {name}: trained in {seconds:.1f} s "
              f"({1e3 * seconds / args.iterations:.1f} ms per iteration)")

    steps = [0, 1, args.test_steps]
    print(f"\nmeta-test: {args.test_tasks} fresh tasks, {args.k} support points, 100 query points; "
          "query MSE (± standard error)")
    heads = ["unadapted"] + [f"{s} step" + "s" * (s != 1) for s in steps[1:]]
    print(f"  {'variant':<14}" + "".join(f"{h:>18}" for h in heads))
    for name, res in results.items():
        print(f"  {name:<14}" + "".join(f"{res['mean'][s]:>10.3f} ± {res['se'][s]:<5.3f}"
                                         for s in steps))
    plot(results, test, args.alpha, args.out)
    summary = {"command": "python examples/maml_sinusoid.py " + " ".join(
                   argv if argv is not None else sys.argv[1:]),
               "settings": {k: (str(v) if isinstance(v, Path) else v)
                            for k, v in vars(args).items()},
               "variants": {name: {"train_seconds": round(res["train_seconds"], 2),
                                   "final_train_loss_avg100": float(np.mean(res["history"][-100:])),
                                   "test_mse_by_steps": [float(v) for v in res["mean"]],
                                   "test_se_by_steps": [float(v) for v in res["se"]]}
                            for name, res in results.items()}}
    (args.out / "maml.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwrote {args.out / 'maml_fits.png'}, {args.out / 'maml_adaptation.png'}, "
          f"{args.out / 'maml.json'}")


if __name__ == "__main__":
    main()
