"""Forward gradients with K tangents: JVPs vmapped over the K directions against K passes.

``ad.learning.ForwardGradient(tangents=K)`` averages K estimates (∇f·v_k) v_k. With
``batched=False`` it runs K dual-number passes; with ``batched=True`` one pass vmapped over the
K directions: the loss and the primal activations once, the K tangents as one batch, so the
primal part of the work and K - 1 passes of Python overhead go away. The default
(``batched=None``) carries as many tangents per pass as keep them within 2^24 numbers: on the
large MLP all 64 at once (476 MB of tangents) are slower than 64 passes. All draw the same
directions (tests/test_learning.py checks that they give the same estimate).

Models: the MLP of ``tinyad compare`` (784-256-256-10) and the paper's (784-1024-1024-10), ReLU,
batch 64, float32, softmax cross-entropy; weight perturbation on both, activity perturbation on
the first. One step = zero_grad + rule.backward (drawing the tangents included). Medians of
interleaved repetitions (process CPU time); the machine was shared, so read the ratios.

    python bench/bench_fg_tangents.py [--blas-threads 1] [--quick] [--out DIR]
"""
import statistics

import numpy as np

import tinyad as ad
from tinyad import learning, nn
from tinyad.nn import functional as F

from tinyad.commands.machine import blas_threads, loadavg
from tinyad.commands.results import markdown_table, write
from tinyad.commands.timing import interleaved

from common import arguments, parse

MODELS = {"mlp 784-256-256-10": [784, 256, 256, 10], "mlp 784-1024-1024-10": [784, 1024, 1024, 10]}
PERTURB = {"mlp 784-256-256-10": ("weights", "activities"), "mlp 784-1024-1024-10": ("weights",)}
HOWS = {"K passes": False, "one vmapped pass": True, "default": None}


def cases(ks, models, batch=64):
    x = ad.tensor(np.random.default_rng(0).random((batch, 784), dtype=np.float32))
    y = np.random.default_rng(1).integers(0, 10, batch)
    found = {}
    for name in models:
        nn.init.seed(0)
        model = nn.MLP(MODELS[name])
        for perturb in PERTURB[name]:
            for k in ks:
                for how, batched in HOWS.items():
                    rule = learning.ForwardGradient(k, perturb=perturb, seed=0, batched=batched)

                    def step(rule=rule, model=model):
                        model.zero_grad()
                        rule.backward(model, F.cross_entropy, x, y)
                    found[(name, perturb, k, how)] = step
    return found


def measure(ks, models, repeat):
    steps = cases(ks, models)
    wall, cpu = interleaved(steps, repeat, warmup=1)
    rows = []
    for (name, perturb, k, how), samples in cpu.items():
        loop = statistics.median(cpu[(name, perturb, k, "K passes")])
        ms = 1e3 * statistics.median(samples)
        rows.append({"model": name, "perturb": perturb, "K": k, "how": how, "ms per step": ms,
                     "ms per tangent": ms / k, "wall ms": 1e3 * statistics.median(wall[
                         (name, perturb, k, how)]),
                     "speed-up": loop / statistics.median(samples)})
    return rows


def main(argv=None):
    args = parse(arguments(__doc__, blas_threads=True), argv)
    load = loadavg()
    ks, models = ((2,), list(MODELS)[:1]) if args.quick else ((1, 4, 16, 64), list(MODELS))
    rows = measure(ks, models, 2 if args.quick else 7)
    table = (("**Smoke run (--quick): these numbers mean nothing.**\n\n" if args.quick else "")
             + markdown_table(rows, ["model", "perturb", "K", "how", "ms per step",
                                     "ms per tangent", "speed-up"])
             + "\n\nOne training step's direction (median process CPU time, float32, batch 64); "
             "speed-up = time of K passes / time. K = 1 runs the same single pass every way, so "
             "its spread shows the noise. default = batched=None: on the large MLP 9 tangents "
             "per pass, on the small one 62. "
             f"Load average before/after: {load} / {loadavg()}.")
    write(args.out, "fg_tangents", {"rows": rows, "quick": args.quick,
                                    "blas_threads": blas_threads()},
          table, "Forward gradients with K tangents: one vmapped pass against K passes")
    return rows


if __name__ == "__main__":
    main()
