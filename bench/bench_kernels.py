"""Benchmark tinyad.kernels: what the fused kernels buy over the NumPy references.

CPU: each fused Numba kernel against its NumPy reference (float32, median of many calls after
warm-up, at 64x1024, 256x256, 256x1024 and 1024x1024; col2im at the CNN's image sizes), the
Numba matmul against NumPy's BLAS in GFLOP/s (256, 512, 1024), and the kernels in context: a
2-layer MLP step under each backend. GPU, when CuPy finds a device: the Numba CUDA tiled matmul against
cuBLAS (``cupy @``) at 1024-8192 in GFLOP/s and % of cuBLAS, and the activation kernels' memory
throughput (GB/s: bytes read + written per second) against a device-to-device copy.

Writes kernels_cpu.{json,md} (and kernels_gpu.{json,md}) to --out (default runs/bench) with the
machine: CPU count, versions, OPENBLAS_* and NUMBA_NUM_THREADS, Numba's threads, and the load
average before and after, since a busy core slows parallel kernels a lot. Usage::

    python bench/bench_kernels.py [--out DIR]   # full run, about a minute on 2 cores
    python bench/bench_kernels.py --quick       # seconds: one size, few repetitions, writes nothing
"""
import importlib
import statistics

import numpy as np

import tinyad.kernels as K
from tinyad.commands.machine import loadavg
from tinyad.commands.results import write
from tinyad.commands.timing import interleaved
from tinyad.kernels import cpu_matmul, reference

from common import arguments


def median_seconds(*fns, reps, warmup=3):
    """Median seconds per call of each function, calls interleaved (``timing.interleaved``, one
    call per sample) so that a noisy moment (another process on a 2-core machine) hits all of
    them alike."""
    wall, _ = interleaved(dict(enumerate(fns)), reps, warmup, min_sample=0)
    return [statistics.median(wall[i]) for i in range(len(fns))]


def reps_for(seconds_per_call, budget, lo=5, hi=200):
    return int(min(hi, max(lo, budget / max(seconds_per_call, 1e-7))))


def cpu_cases(shape, activations=True):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape[-1]).astype(np.float32)
    labels = rng.integers(0, shape[-1], shape[0])
    for name in K.ACTIVATIONS if activations else ():
        yield "act_forward", name, (name, x)
        yield "act_jvp", name, (name, x, t)
        yield "bias_act", name, (name, x, b)
    yield "softmax_xent", "-", (x, labels)


def window_cases(shape):
    """col2im of 3x3 windows (stride 1, padding 1) of an (N, C, H, W) input: the CNN's backward."""
    n, c, h, w = shape
    cols = np.random.default_rng(0).standard_normal((n * h * w, 9 * c)).astype(np.float32)
    yield "col2im", "-", (cols, shape, (3, 3), (1, 1), (1, 1))


def bench_cpu(quick):
    shapes = [(64, 1024)] if quick else [(64, 1024), (256, 256), (256, 1024), (1024, 1024)]
    classifiers = [] if quick else [(64, 10), (256, 10), (256, 100)]    # softmax: batch x classes
    images = [(8, 16, 14, 14)] if quick else [(64, 64, 28, 28), (64, 64, 14, 14), (64, 1, 28, 28)]
    budget = 0.02 if quick else 0.25
    rows = []
    cases = ([(s, cpu_cases(s)) for s in shapes] + [(s, cpu_cases(s, False)) for s in classifiers]
             + [(s, window_cases(s)) for s in images])
    for shape, kernels in cases:
        for kernel, act, args in kernels:
            ref_fn, fused_fn = getattr(K.NUMPY, kernel), getattr(K.NUMBA_CPU, kernel)
            fused_fn(*args)                                   # compile (or load the cache)
            first, = median_seconds(lambda: ref_fn(*args), reps=3, warmup=1)
            n = reps_for(first, budget)
            t_ref, t_fused = median_seconds(lambda: ref_fn(*args), lambda: fused_fn(*args), reps=n)
            rows.append({"kernel": kernel, "activation": act, "shape": list(shape),
                         "numpy_ms": t_ref * 1e3, "numba_ms": t_fused * 1e3,
                         "speedup": t_ref / t_fused, "reps": n})
            print(f"{kernel:13s} {act:8s} {str(shape):13s} numpy {t_ref * 1e3:8.3f} ms  "
                  f"numba {t_fused * 1e3:8.3f} ms  x{t_ref / t_fused:6.2f}", flush=True)
    matmul = []
    for n in ([256] if quick else [256, 512, 1024]):
        rng = np.random.default_rng(1)
        a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
        cpu_matmul.matmul(a, b)
        reps = 3 if quick else (20 if n < 1024 else 7)
        seconds = [median_seconds(lambda f=f: f(a, b), reps=reps)[0]     # not interleaved: two
                   for f in (reference.matmul, cpu_matmul.matmul)]       # busy pools collide
        gflops = {name: 2 * n ** 3 / t / 1e9 for name, t in zip(("blas", "numba"), seconds)}
        matmul.append({"n": n, "blas_gflops": gflops["blas"], "numba_gflops": gflops["numba"],
                       "numba_vs_blas": gflops["numba"] / gflops["blas"]})
        print(f"matmul {n:5d}: BLAS {gflops['blas']:7.1f} GFLOP/s  Numba "
              f"{gflops['numba']:7.1f} GFLOP/s", flush=True)
    return {"kernels": rows, "matmul": matmul, "step": bench_step(quick), "auto": dict(K.AUTO["cpu", "float32"])}


def bench_step(quick):
    """The kernels in context: a 2-layer MLP step, where BLAS matmuls alternate with them."""
    rows = []
    for batch, width in [(64, 1024)] if quick else [(64, 1024), (256, 256)]:
        rng = np.random.default_rng(2)
        x = rng.standard_normal((batch, width)).astype(np.float32)
        w1, w2 = ((rng.standard_normal((width, width)) / width ** 0.5).astype(np.float32)
                  for _ in range(2))
        w3 = (rng.standard_normal((width, 10)) / width ** 0.5).astype(np.float32)
        b = np.zeros(width, np.float32)
        labels = rng.integers(0, 10, batch)

        def step():
            h1, d1 = K.bias_act("gelu", K.matmul(x, w1), b)
            h2, d2 = K.bias_act("relu", K.matmul(h1, w2), b)
            loss, g = K.softmax_xent(K.matmul(h2, w3), labels)
            return ((g @ w3.T) * d2 @ w2.T) * d1          # backward to the first layer

        def under(mode):
            def run():
                with K.using(mode):
                    step()
            return run

        modes = ("numpy", "numba", "auto")
        times = median_seconds(*(under(m) for m in modes), reps=10 if quick else 100)
        rows.append({"batch": batch, "width": width,
                     **{f"{m}_ms": t * 1e3 for m, t in zip(modes, times)}})
        print(f"MLP step {batch}x{width}: " + "  ".join(f"{m} {t * 1e3:.3f} ms"
                                                      for m, t in zip(modes, times)), flush=True)
    return rows


def cpu_markdown(res):
    lines = [_load(res), "", "## Fused Numba kernels vs NumPy references (median ms per call)", "",
             "| kernel | activation | shape | NumPy ms | Numba ms | speed-up | auto runs |",
             "|---|---|---|---:|---:|---:|---|"]
    for r in res["kernels"]:
        auto = res["auto"].get(r["activation"]) or res["auto"][r["kernel"]]
        lines.append(f"| {r['kernel']} | {r['activation']} | {'x'.join(map(str, r['shape']))} | "
                     f"{r['numpy_ms']:.3f} | {r['numba_ms']:.3f} | {r['speedup']:.2f}x | {auto} |")
    lines += ["", "## Matmul (GFLOP/s)", "", "| n | NumPy BLAS | Numba 4x4-tiled | Numba / BLAS |",
              "|---:|---:|---:|---:|"]
    for r in res["matmul"]:
        lines.append(f"| {r['n']} | {r['blas_gflops']:.1f} | {r['numba_gflops']:.1f} | "
                     f"{r['numba_vs_blas']:.0%} |")
    lines += ["", "## In context: a 2-layer MLP step (ms)", "",
              "Forward through bias+GELU and bias+ReLU layers and softmax cross-entropy, back to "
              "the first layer; BLAS matmuls in between.", "",
              "| batch x width | all NumPy | all Numba | auto |", "|---|---:|---:|---:|"]
    lines += [f"| {r['batch']}x{r['width']} | {r['numpy_ms']:.3f} | {r['numba_ms']:.3f} | "
              f"{r['auto_ms']:.3f} |" for r in res["step"]]
    lines += ["", "Default backend per kernel for float32 on the CPU (``tinyad.kernels.AUTO``): "
              + ", ".join(f"{k} = {v}" for k, v in res["auto"].items()), ""]
    return "\n".join(lines)


def _load(res):
    return (f"Load average before/after: {res['loadavg_before']} / {res['loadavg_after']}."
            + (f" Device: {res['device']}." if "device" in res else ""))


def gpu_available():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:                          # no CuPy, no driver, no device
        return False


def gpu_seconds(fn, reps):
    import cupy
    for _ in range(2):
        fn()
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    times = []
    for _ in range(reps):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return statistics.median(times)


def bench_gpu(quick):
    import cupy
    from tinyad.kernels import cuda as kc
    res = {"matmul": [], "activations": []}
    for n in ([1024] if quick else [1024, 2048, 4096, 8192]):
        a, b = (cupy.random.standard_normal((n, n), dtype=cupy.float32) for _ in range(2))
        reps = 3 if quick or n >= 4096 else 10
        t_cublas = gpu_seconds(lambda: a @ b, reps)
        t_numba = gpu_seconds(lambda: kc.matmul(a, b), reps)
        row = {"n": n, "cublas_gflops": 2 * n ** 3 / t_cublas / 1e9,
               "numba_gflops": 2 * n ** 3 / t_numba / 1e9}
        row["percent_of_cublas"] = 100 * row["numba_gflops"] / row["cublas_gflops"]
        res["matmul"].append(row)
        print(f"cuda matmul {n}: cuBLAS {row['cublas_gflops']:9.1f}  Numba "
              f"{row['numba_gflops']:9.1f} GFLOP/s ({row['percent_of_cublas']:.1f}%)", flush=True)
    n = 1 << (20 if quick else 26)
    x = cupy.random.standard_normal(n, dtype=cupy.float32)
    out = cupy.empty_like(x)
    copy_gbs = 2 * x.nbytes / gpu_seconds(lambda: cupy.copyto(out, x), 10) / 1e9
    for name in K.ACTIVATIONS:
        for impl, fn in [("numba_cuda", lambda: kc.act_forward(name, x)),
                         ("cupy", lambda: K.act_forward(name, x))]:
            gbs = 3 * x.nbytes / gpu_seconds(fn, 10) / 1e9          # read x, write y and f'
            res["activations"].append({"activation": name, "impl": impl, "elements": n,
                                       "gb_per_s": gbs, "copy_gb_per_s": copy_gbs})
            print(f"{impl:10s} {name:8s} {gbs:8.1f} GB/s (copy {copy_gbs:.1f})", flush=True)
    props = cupy.cuda.runtime.getDeviceProperties(0)
    return res, props["name"].decode() if isinstance(props["name"], bytes) else props["name"]


def gpu_markdown(res):
    lines = [_load(res), "", "## Numba CUDA tiled matmul vs cuBLAS (GFLOP/s)", "",
             "| n | cuBLAS | Numba CUDA | % of cuBLAS |", "|---:|---:|---:|---:|"]
    lines += [f"| {r['n']} | {r['cublas_gflops']:.0f} | {r['numba_gflops']:.0f} | "
              f"{r['percent_of_cublas']:.1f}% |" for r in res["matmul"]]
    lines += ["", "## Activation forward+derivative, memory throughput (GB/s)", "",
              "| activation | kernel | GB/s | device copy GB/s |", "|---|---|---:|---:|"]
    lines += [f"| {r['activation']} | {r['impl']} | {r['gb_per_s']:.0f} | "
              f"{r['copy_gb_per_s']:.0f} |" for r in res["activations"]]
    return "\n".join(lines + [""])


def main(argv=None):
    parser = arguments(__doc__, quick="a seconds-long smoke run that prints but writes no results")
    args = parser.parse_args(argv)
    res = {"quick": args.quick, "loadavg_before": loadavg()}
    res.update(bench_cpu(args.quick))
    res["loadavg_after"] = loadavg()
    if not args.quick:
        write(args.out, "kernels_cpu", res, cpu_markdown(res),
              "tinyad.kernels on the CPU (float32)")
    if not gpu_available():
        print("no GPU: skipped")
        return
    gpu = {"quick": args.quick, "loadavg_before": loadavg()}
    gpu_res, gpu["device"] = bench_gpu(args.quick)
    gpu.update(gpu_res)
    gpu["loadavg_after"] = loadavg()
    if not args.quick:
        write(args.out, "kernels_gpu", gpu, gpu_markdown(gpu),
              "tinyad.kernels on the GPU (float32)")


if __name__ == "__main__":
    main()
