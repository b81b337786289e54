"""tinyad's GPU path on a real device: the checks pytest does not make and the GPU numbers, one
process per stage (bench/gpu_check.sh runs them under one deadline).

    python bench/gpu_check.py env            versions; CuPy + NVRTC (a tinyad kernel compiled
                                             and run), Numba CUDA + NVVM (a launch on CuPy memory)
    python bench/gpu_check.py smoke          kernels at odd and large sizes, non-contiguous, on a
                                             non-blocking stream; transforms staying on the
                                             device; the memory pool steady over training steps
    python bench/gpu_check.py bench [kernels] [mlp]
                                             Numba CUDA matmul vs cuBLAS (GFLOP/s), activations
                                             vs a device copy (GB/s); the 784-1024-1024-10 MLP
                                             step per learning rule, GPU vs CPU, batch 64 and
                                             1024 (R_f, R_b, FG/BP)
    python bench/gpu_check.py pytest NAME strict|info ARGS...
                                             pytest ARGS, its counts recorded (strict: a failure
                                             or a skip fails the check)
    python bench/gpu_check.py summary        the results as a table, and summary.md

Each stage appends one JSON line per check or measurement to $OUT/gpu_check.jsonl and prints
one line each. FAKE_CUPY=<folder> puts a fake cupy first on the path (tests/fake_cupy): a dry
run without a GPU, where the Numba CUDA parts are skipped; QUICK=1 shrinks the benchmarks to
seconds (the device only, a small MLP: the numbers then mean nothing) and the device checks
to their smallest sizes.
"""
import json
import os
import platform
import statistics
import sys
import traceback
from pathlib import Path

if os.environ.get("FAKE_CUPY"):
    sys.path.insert(0, os.environ["FAKE_CUPY"])

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("OUT") or "/tmp/gpu_check_out")
LOG = OUT / "gpu_check.jsonl"
FAKE = bool(os.environ.get("FAKE_CUPY"))
QUICK = bool(os.environ.get("QUICK"))
FAILED = []


def record(stage, name, ok, detail="", **numbers):
    OUT.mkdir(parents=True, exist_ok=True)
    line = {"stage": stage, "name": name, "status": "PASS" if ok else "FAIL",
            "detail": str(detail)[:400], **numbers}
    with open(LOG, "a") as f:
        f.write(json.dumps(line) + "\n")
    if not ok:
        FAILED.append(name)
    print(f"{line['status']:5s} {name:52s} {str(detail)[:160]}", flush=True)


def check(stage, name, fn):
    """Run `fn`: None passes, a string fails saying why, an exception fails with its place."""
    try:
        why = fn()
        record(stage, name, why is None, why or "")
    except Exception as e:  # noqa: BLE001
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}"
                            for f in reversed(traceback.extract_tb(e.__traceback__)[-3:]))
        record(stage, name, False, f"{type(e).__name__}: {e} [{where}]")


def sync():
    import cupy
    cupy.cuda.get_current_stream().synchronize()


def close(got, want, rtol, atol):
    """None, or how `got` misses `want` (both host arrays)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return f"shapes {got.shape} vs {want.shape}"
    excess = np.max(np.abs(got - want) - rtol * np.abs(want), initial=0.0)
    same_finite = np.array_equal(np.isfinite(got), np.isfinite(want))
    return None if excess <= atol and same_finite else f"max excess error {excess:.3g}"


# ============================================================================================ env
def stage_env():
    info = {"python": sys.version.split()[0], "platform": platform.platform(),
            "cpus": os.cpu_count(), "numpy": np.__version__, "fake_cupy": FAKE}
    for module in ("numba", "numba_cuda", "cupy", "cuda.bindings", "hypothesis", "pytest"):
        try:
            info[module] = getattr(__import__(module, fromlist=["_"]), "__version__", "?")
        except Exception as e:  # noqa: BLE001
            info[module] = f"missing ({type(e).__name__})"
    print(json.dumps(info, indent=1))
    record("env", "env/versions", True, json.dumps(info), **info)

    def cupy_and_nvrtc():
        import cupy

        import tinyad.kernels as K
        props = cupy.cuda.runtime.getDeviceProperties(0)
        x = cupy.linspace(-2, 2, 11, dtype=cupy.float32)
        y, _ = K.act_forward("gelu", x)                   # tinyad's ElementwiseKernel: NVRTC
        record("env", "env/device", True, props["name"], device=_name(props["name"]),
               runtime=cupy.cuda.runtime.runtimeGetVersion(),
               driver=cupy.cuda.runtime.driverGetVersion())
        return close(cupy.asnumpy(y), K.act_forward("gelu", cupy.asnumpy(x))[0], 1e-6, 1e-6)

    def numba_cuda_on_cupy_memory():
        if FAKE:
            return None
        import cupy
        from numba import cuda

        from tinyad.kernels import cuda as kc
        x = cupy.linspace(-2, 2, 1001, dtype=cupy.float32)    # NVVM compile, launch on CuPy's
        y, _ = kc.act_forward("relu", x)                      # memory and stream
        return close(cupy.asnumpy(y), np.maximum(cupy.asnumpy(x), 0), 0, 0) or (
            None if cuda.is_available() else "numba.cuda.is_available() is False")

    check("env", "env/cupy_device_and_nvrtc", cupy_and_nvrtc)
    check("env", "env/numba_cuda_nvvm_launch_on_cupy_memory", numba_cuda_on_cupy_memory)


def _name(name):
    return name.decode() if isinstance(name, bytes) else name


# ========================================================================================== smoke
def stage_smoke():
    import cupy

    import tinyad as ad
    import tinyad.kernels as K
    from tinyad import learning, nn, optim
    from tinyad.kernels import reference as ref
    from tinyad.nn import functional as F
    rng = np.random.default_rng(7)

    def data(shape, dtype, scale=3.0):
        return (rng.standard_normal(shape) * scale).astype(dtype)

    def cupy_activations():
        for dtype, tol in ((np.float32, (1e-5, 1e-5)), (np.float64, (1e-12, 1e-13))):
            for shape in [(0, 5), (1,), (33, 65)] + ([] if QUICK else [(257, 1031)]):
                x, t, b = data(shape, dtype), data(shape, dtype), data(shape[-1:], dtype)
                gx = cupy.asarray(x)
                for name in K.ACTIVATIONS:
                    for got, want in [(K.act_forward(name, gx), ref.act_forward(name, x)),
                                      (K.act_jvp(name, gx, t), ref.act_jvp(name, x, t)),
                                      (K.bias_act(name, gx, b), ref.bias_act(name, x, b)),
                                      (K.act_forward(name, cupy.asarray(x.T).T),
                                       ref.act_forward(name, x))]:
                        for g, w in zip(got, want):
                            why = close(cupy.asnumpy(g), w, *tol)
                            if why:
                                return f"{name} {np.dtype(dtype).name} {shape}: {why}"

    def softmax_xent():
        for dtype, tol in ((np.float32, (1e-5, 1e-6)), (np.float64, (1e-12, 1e-14))):
            sizes = [(1, 1), (7, 10), (5, 1025)]
            for n, c in sizes + ([] if QUICK else [(64, 1000), (3, 1024), (4097, 10), (2, 5000)]):
                z, y = data((n, c), dtype, 5.0), rng.integers(0, c, n)
                for labels in (cupy.asarray(y), y.astype(np.int32), cupy.asarray(y[::-1])[::-1]):
                    loss, g = K.softmax_xent(cupy.asarray(z), labels)
                    want_loss, want_g = ref.softmax_xent(z.astype(np.float64), y)
                    why = close(cupy.asnumpy(loss), want_loss, *tol) or \
                        close(cupy.asnumpy(g), want_g, *tol)
                    if why:
                        return f"({n}, {c}) {np.dtype(dtype).name}: {why}"

    def numba_matmul():
        from tinyad.kernels import cuda as kc
        for m, k, n in [(1, 1, 1), (17, 40, 33), (1000, 777, 1023), (2048, 64, 3)]:
            a, b = data((m, k), np.float32), data((k, n), np.float32)
            want = a.astype(np.float64) @ b.astype(np.float64)
            for ga in (cupy.asarray(a), cupy.asarray(a.T).T):                 # C and F order
                got = cupy.asnumpy(kc.matmul(ga, cupy.asarray(b)))
                rel = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30)
                if not rel < 1e-5:
                    return f"({m}, {k}, {n}): relative error {rel:.3g}"

    def numba_on_a_nonblocking_stream():
        """Producer and consumer on one non-blocking CuPy stream: a launch that did not follow
        CuPy's current stream would read x before it is written."""
        from tinyad.kernels import cuda as kc
        bad = 0
        with cupy.cuda.Stream(non_blocking=True) as s:
            for _ in range(5):
                x = cupy.random.standard_normal(1 << 25, dtype=cupy.float32) * 2 + 1
                y, _ = kc.act_forward("relu", x)
                bad += int((y != cupy.maximum(x, 0)).sum())
            s.synchronize()
        return f"{bad} wrong elements" if bad else None

    def transforms_stay_on_the_device():
        x = ad.tensor([0.5, 1.0, 2.0], device="cuda")

        def f(v):
            return (v.sin() * v).sum()
        outs = [ad.hessian(f)(x), ad.grad(f)(x), ad.hvp(f, (x,), (ad.ones_like(x),))[1],
                ad.jacrev(lambda v: v * v)(x), ad.jacfwd(lambda v: v * v)(x)]
        off = [o.device for o in outs if o.device != "cuda"]
        return f"outputs on {off}" if off else None

    def memory_pool_steady():
        nn.init.seed(0)
        model = nn.MLP([784, 256, 10]).to("cuda")
        opt = optim.Adam(model.parameters())
        x = ad.tensor(data((64, 784), np.float32), device="cuda")
        y = ad.tensor(rng.integers(0, 10, 64), device="cuda")
        pool = cupy.get_default_memory_pool()

        def step():
            opt.zero_grad()
            learning.Backprop().backward(model, F.cross_entropy, x, y)
            opt.step()
        for _ in range(5):
            step()
        sync()
        before = pool.used_bytes()
        for _ in range(50):
            step()
        sync()
        grew = pool.used_bytes() - before
        return f"pool grew by {grew / 1e6:.2f} MB over 50 steps" if grew > 0 else None

    checks = {"kernels/cupy_activations_odd_shapes_and_orders": cupy_activations,
              "kernels/cupy_softmax_xent_up_to_5000_classes": softmax_xent,
              "api/transforms_stay_on_the_device": transforms_stay_on_the_device,
              "api/memory_pool_steady_over_steps": memory_pool_steady}
    if not FAKE:
        checks.update({"kernels/numba_matmul_odd_sizes_and_orders": numba_matmul,
                       "kernels/numba_on_a_nonblocking_cupy_stream": numba_on_a_nonblocking_stream})
    for name, fn in checks.items():
        check("smoke", name, fn)


# ========================================================================================== bench
def bench_kernels():
    """bench/bench_kernels.py's GPU part: the tiled Numba CUDA matmul against cuBLAS at 1024 to
    8192 (float32), the activations' forward+derivative against a device-to-device copy."""
    if FAKE:
        print("bench/kernels skipped: Numba CUDA needs a GPU")
        return None
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_kernels as bk
    res, device = bk.bench_gpu(quick=QUICK)
    res["machine"] = {**bk.machine(), "device": device}
    (OUT / "kernels_gpu.json").write_text(json.dumps(res, indent=1) + "\n")
    (OUT / "kernels_gpu.md").write_text(bk.gpu_markdown(res))
    for r in res["matmul"]:
        record("bench", f"matmul/{r['n']}", True, f"cuBLAS {r['cublas_gflops']:.0f} GFLOP/s, "
               f"Numba {r['numba_gflops']:.0f} ({r['percent_of_cublas']:.1f}%)", **r)
    for r in res["activations"]:
        record("bench", f"activation/{r['activation']}/{r['impl']}", True,
               f"{r['gb_per_s']:.0f} GB/s (copy {r['copy_gb_per_s']:.0f})", **r)


def bench_mlp():
    """One step per learning rule (no optimizer, as the paper's table: f, fg, fg*, bp...) and a
    Backprop+Adam step, MLP 784-1024-1024-10, float32, on the GPU and on the CPU, interleaved.
    f, fg, fg* and bp are ``tinyad bench``'s cases (tinyad.commands.bench_cases): fg draws its
    tangents on the device, fg* is the same ForwardGradient handed tangents drawn in advance
    (``update_direction(..., tangents=predrawn)``). Every step reads its loss back, and every GPU
    case ends with a stream synchronize."""
    import tinyad as ad
    from tinyad import learning, nn, optim
    from tinyad.commands import bench_cases as B
    from tinyad.commands.timing import interleaved
    from tinyad.nn import functional as F
    rows = []
    for batch in ((8,) if QUICK else (64, 1024)):
        x, y, source = B.load_batch(batch)
        for device in ("cuda",) if QUICK else ("cuda", "cpu"):
            nn.init.seed(0)
            model = (nn.MLP([784, 32, 10]) if QUICK else B.build_model("mlp")).to(device)
            library = {k.split(":")[1]: v for k, v in B.tinyad_cases(model, x, y).items()}
            xt, yt = ad.tensor(x, device=device), ad.tensor(y, device=device)
            done = sync if device == "cuda" else (lambda: None)
            rules = {"manual": learning.ManualBackprop(),
                     "fg-activity": learning.ForwardGradient(perturb="activities", seed=0),
                     "dfa": learning.DFA(seed=0), "fa": learning.FeedbackAlignment(seed=0)}
            opt = optim.Adam(model.parameters(), lr=1e-4)

            def synced(case):
                def run():
                    case()
                    done()
                return run

            def step(rule):
                def run():
                    model.zero_grad()
                    rule.update_direction(model, F.cross_entropy, xt, yt)
                return run

            def bp_adam():
                opt.zero_grad()
                learning.Backprop().update_direction(model, F.cross_entropy, xt, yt)
                opt.step()

            cases = {k: synced(c) for k, c in {**library, **{k: step(r) for k, r in rules.items()},
                                               "bp+adam": bp_adam}.items()}
            reps = 1 if QUICK else (30 if device == "cuda" else (15 if batch <= 64 else 6))
            wall, _ = interleaved(cases, reps, warmup=1 if QUICK else 3)
            ms = {k: statistics.median(v) * 1e3 for k, v in wall.items()}
            row = {"batch": batch, "device": device, "ms": ms, "R_f": ms["fg"] / ms["f"],
                   "R_f*": ms["fg*"] / ms["f"], "R_b": ms["bp"] / ms["f"],
                   "fg/bp": ms["fg"] / ms["bp"], "fg*/bp": ms["fg*"] / ms["bp"]}
            rows.append(row)
            record("bench", f"mlp/{device}/batch{batch}", True,
                   " ".join(f"{k}={v:.2f}ms" for k, v in ms.items())
                   + f" | R_f={row['R_f']:.2f} R_b={row['R_b']:.2f} fg/bp={row['fg/bp']:.2f}",
                   **{k: v for k, v in row.items() if k != "ms"}, ms=ms)
    (OUT / "mlp_steps.json").write_text(json.dumps(
        {"source": source, "rows": rows, "cpu_count": os.cpu_count(), "quick": QUICK}, indent=1))


# ========================================================================================= pytest
def stage_pytest(name, mode, args):
    """Run ``pytest args`` (junit into $OUT/<name>.xml) and record its counts. ``strict``: any
    failure or skip fails the check (on the fake CuPy, skips that need a real GPU are allowed);
    ``info``: the counts are recorded as information (the whole suite with device tensors, whose
    CPU-minded tests may fail for reasons that are not bugs)."""
    import subprocess
    import xml.etree.ElementTree as ET
    junit = OUT / f"{name}.xml"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs",
           f"--junitxml={junit}", *args]
    try:
        rc = subprocess.run(cmd, cwd=ROOT).returncode
    except KeyboardInterrupt:
        rc = "timed out"
    if not junit.exists():
        return record("pytest", f"pytest/{name}", False, f"no junit file (rc={rc})")
    suites = ET.parse(junit).getroot()
    counts = {k: sum(int(s.get(k, 0)) for s in suites.iter("testsuite"))
              for k in ("tests", "failures", "errors", "skipped")}
    skips = [m.get("message", "") for m in suites.iter("skipped")]
    bad_skips = [m for m in skips if not (FAKE and "real GPU" in m)]
    ok = rc == 0 and not bad_skips if mode == "strict" else True
    detail = (f"rc={rc} " + " ".join(f"{k}={v}" for k, v in counts.items())
              + (f"; skipped: {'; '.join(bad_skips)[:200]}" if bad_skips else ""))
    record("pytest", f"pytest/{name}", ok, detail, **counts)


# ======================================================================================== summary
def stage_summary():
    """Every result as a table (stdout and $OUT/summary.md), the failures first, then the goals."""
    lines = [json.loads(s) for s in open(LOG)] if LOG.exists() else []
    failed = [r for r in lines if r["status"] == "FAIL"]
    passed = len(lines) - len(failed)
    md = [f"# tinyad GPU check{' (dry run on the fake CuPy)' if FAKE else ''}", "",
          f"{passed} passed, {len(failed)} failed.", ""]
    md += [f"- FAIL `{r['name']}`: {r['detail']}" for r in failed]
    device = next((r.get("device") for r in lines if r["name"] == "env/device"), "?")
    md += ["", f"Device: {device}.", "", "| check | result |", "|---|---|"]
    md += [f"| {r['name']} | {r['detail'][:200]} |" for r in lines
           if r["stage"] == "bench" and r["status"] == "PASS"
           and not r["name"].startswith("bench/")]
    md += ["", "## Goals", ""] + [f"- {goal}: {verdict}" for goal, verdict in _goals(lines)]
    text = "\n".join(md) + "\n"
    (OUT / "summary.md").write_text(text)
    print(text)


def _goals(lines):
    by = {r["name"]: r for r in lines if r["status"] == "PASS"}
    matmul = by.get("matmul/4096")
    yield "numba matmul >= 50% of cuBLAS at 4096", (
        f"{matmul['percent_of_cublas']:.1f}%" if matmul else "not measured")
    acts = [r for n, r in by.items() if n.startswith("activation/") and n.endswith("/numba_cuda")]
    worst = min((100 * r["gb_per_s"] / r["copy_gb_per_s"] for r in acts), default=None)
    yield "activations >= 70% of copy", f"{worst:.0f}% (worst)" if worst else "not measured"
    mlp = [r for n, r in by.items() if n.startswith("mlp/cuda/")]
    yield "fg step <= bp step on the GPU", ", ".join(
        f"batch {r['batch']}: fg/bp = {r['fg/bp']:.2f}" for r in mlp) or "not measured"


if __name__ == "__main__":
    what, parts = sys.argv[1], sys.argv[2:]
    try:
        if what == "env":
            stage_env()
        elif what == "smoke":
            stage_smoke()
        elif what == "bench":
            for part in parts or ["kernels", "mlp"]:
                check("bench", f"bench/{part}", {"kernels": bench_kernels, "mlp": bench_mlp}[part])
        elif what == "pytest":
            stage_pytest(parts[0], parts[1], parts[2:])
        elif what == "summary":
            stage_summary()
        else:
            sys.exit(f"unknown stage {what!r}: env, smoke, bench, pytest or summary")
    except KeyboardInterrupt:                   # the stage's time limit (timeout --signal=INT)
        print(f"interrupted by the stage's time limit during {what} {' '.join(parts)}")
        sys.exit(130)
    sys.exit(1 if FAILED else 0)
