"""Convolution speed: the paper's CNN (batch 64, float32) and its three convolution shapes, tinyad
against PyTorch eager (when installed) and against tinyad's previous convolution (the whole
window matrix by the im2col primitive, then a matmul), with the allocator left alone and then
told to keep freed memory.

    steps    f: forward pass and loss under no_grad;  bp: forward, loss and backward
    layers   for (64,1,28,28), (64,64,28,28), (64,64,14,14) -> 64 channels, 3x3, padding 1:
             fwd (conv2d), bwd (input and weight gradients of a given output gradient)

Engines: ``tinyad`` (conv2d primitives, blocks of windows), ``im2col`` (the previous path, same
weights), ``torch`` (NCHW, as the model is written; torch.autograd.grad for a layer's backward).
One BLAS thread and one torch thread, pinned and recorded. Every repetition runs every case once,
in a fresh random order (``tinyad.commands.timing.interleaved``); tables give medians (ms) and the
median over repetitions of each ratio to tinyad measured in the same repetition (``x tinyad``),
which holds up under a shared machine's load better than a ratio of medians. Phase ``default``
runs first with glibc's defaults; phase ``keep`` after ``keep_freed_memory()`` (a
process-wide setting that cannot be undone, so it comes second).

    python bench/bench_conv.py [--quick] [--repeat N] [--no-keep] [--out DIR]
"""
import statistics

import numpy as np

from tinyad.commands.bench_cases import build_model, load_batch
from tinyad.commands.machine import (blas_config, blas_threads, keep_freed_memory, loadavg,
                                    set_blas_threads)
from tinyad.commands.reference_engines import torch_cases, torch_or_none
from tinyad.commands.results import markdown_table, write
from tinyad.commands.timing import interleaved

from common import arguments

LAYERS = {"conv1 (64,1,28,28)": (1, 28), "conv2 (64,64,28,28)": (64, 28),
          "conv3 (64,64,14,14)": (64, 14)}


def im2col_conv2d(x, weight, bias, stride, padding):
    """tinyad's previous F.conv2d: the whole window matrix, then one matmul (the baseline)."""
    from tinyad import ops
    from tinyad.nn import functional as F
    o, (kh, kw) = weight.shape[0], weight.shape[2:]
    cols = ops.im2col(x, (kh, kw), stride, padding)
    n, oh = x.shape[0], (x.shape[2] + 2 * padding[0] - kh) // stride[0] + 1
    out = F.linear(cols, ops.reshape(ops.transpose(weight, 0, 2, 3, 1), o, -1), bias)
    return ops.transpose(ops.reshape(out, n, oh, -1, o), 0, 3, 1, 2)


def step_cases(batch, torch):
    import tinyad as ad
    from tinyad import nn
    from tinyad.nn import functional as F
    x, y, _ = load_batch(batch)
    x = x.reshape(batch, 1, 28, 28)
    nn.init.seed(0)
    model = build_model("cnn")
    old = build_model("cnn")
    old.load_state_dict(model.state_dict())
    for layer in old.modules():
        if isinstance(layer, nn.Conv2d):
            layer.forward = (lambda m: lambda t: im2col_conv2d(t, m.weight, m.bias, m.stride,
                                                                m.padding))(layer)
    xt = ad.tensor(x)
    cases = {}
    for engine, net in (("tinyad", model), ("im2col", old)):
        def f(net=net):
            with ad.no_grad():
                return F.cross_entropy(net(xt), y).item()

        def bp(net=net):
            net.zero_grad()
            loss = F.cross_entropy(net(xt), y)
            loss.backward()
            return loss.item()
        cases[f"{engine}:f"], cases[f"{engine}:bp"] = f, bp
    if torch is not None:
        weights = [p.numpy() for p in model.parameters()]
        for name, fn in torch_cases(torch, build_model("cnn", torch.nn), weights, x, y).items():
            if name in ("torch:f", "torch:bp"):
                cases[name] = fn
    return cases


def layer_cases(batch, torch):
    from tinyad import ops as cp
    import tinyad as ad
    rng = np.random.default_rng(0)
    cases = {}
    for layer, (c, size) in LAYERS.items():
        x = rng.standard_normal((batch, c, size, size), dtype=np.float32)
        w = rng.standard_normal((64, c, 3, 3), dtype=np.float32)
        g = rng.standard_normal((batch, 64, size, size), dtype=np.float32)
        xt, wt, gt = ad.tensor(x), ad.tensor(w), ad.tensor(g)
        cases[f"tinyad:{layer} fwd"] = lambda xt=xt, wt=wt: cp.conv2d(xt, wt, None, 1, 1)
        cases[f"tinyad:{layer} bwd"] = lambda xt=xt, wt=wt, gt=gt: (
            cp.conv2d_transpose(gt, wt, xt.shape, 1, 1), cp.conv2d_weight(xt, gt, (3, 3), 1, 1))
        cases[f"im2col:{layer} fwd"] = lambda xt=xt, wt=wt: im2col_conv2d(xt, wt, None, (1, 1),
                                                                           (1, 1))
        if torch is not None:
            tx, tw, tg = (torch.from_numpy(a) for a in (x, w, g))
            tx.requires_grad_(True)
            tw.requires_grad_(True)
            conv = torch.nn.functional.conv2d

            def fwd(tx=tx, tw=tw):
                with torch.no_grad():
                    return conv(tx, tw, padding=1)

            def bwd(tx=tx, tw=tw, tg=tg):
                return torch.autograd.grad(conv(tx, tw, padding=1), (tx, tw), tg)
            cases[f"torch:{layer} fwd"], cases[f"torch:{layer} bwd"] = fwd, bwd
    return cases


def summarise(wall, phase):
    """Rows: case, engine, median ms, and the paired ratio to tinyad's same case."""
    rows = []
    for name, samples in wall.items():
        engine, case = name.split(":", 1)
        base = wall[f"tinyad:{case}"]
        rows.append({"phase": phase, "case": case, "engine": engine,
                     "ms": 1e3 * statistics.median(samples),
                     "x tinyad": statistics.median(s / b for s, b in zip(samples, base))})
    return sorted(rows, key=lambda r: (r["case"], r["engine"]))


def main(argv=None):
    parser = arguments(__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-keep", action="store_true", help="skip the kept-memory phase")
    args = parser.parse_args(argv)
    batch, repeat = (8, 3) if args.quick else (64, args.repeat)
    torch = torch_or_none()
    set_blas_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    load = [loadavg()]
    rows, kept = [], None
    for phase in ("default",) if args.no_keep else ("default", "keep"):
        if phase == "keep":
            kept = keep_freed_memory()
        for cases in (step_cases(batch, torch), layer_cases(batch, torch)):
            wall, _ = interleaved(cases, repeat, warmup=2, min_sample=0)
            rows += summarise(wall, phase)
        load.append(loadavg())
        print(markdown_table([r for r in rows if r["phase"] == phase],
                             ["phase", "case", "engine", "ms", "x tinyad"]), flush=True)
    settings = {"blas_threads": blas_threads(), "blas": blas_config(),
                "torch_threads": torch.get_num_threads() if torch is not None else None,
                "torch": getattr(torch, "__version__", None), "malloc_keep": kept,
                "batch": batch, "repeat": repeat, "loadavg": load}
    table = (("**Smoke run (--quick): these numbers mean nothing.**\n\n" if args.quick else "")
             + markdown_table(rows, ["phase", "case", "engine", "ms", "x tinyad"])
             + f"\n\nMedian wall-clock ms; `x tinyad`: median over repetitions of the case's time "
             f"over tinyad's in the same repetition. Settings: {settings}.")
    write(args.out, "conv", {"rows": rows, "settings": settings, "quick": args.quick}, table,
          "Convolution: the paper's CNN and its layers, tinyad against PyTorch and im2col")
    return rows


if __name__ == "__main__":
    main()
