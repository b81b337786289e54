"""``tinyad bench``: the runtime table of "Gradients without Backpropagation", on the CPU.

Baydin, Pearlmutter, Syme, Wood and Torr (2022) time three things per model, at batch 64:

    t_f    the forward pass and the loss, recording nothing (here: under ``no_grad``)
    t_fg   a forward-gradient step: the loss and its directional derivative ∇f·v along a random
           direction v of all the weights (dual numbers), and the update direction (∇f·v) v
    t_bp   a backprop step: the loss and its full gradient by the tape (``loss.backward()``)

and report R_f = t_fg / t_f and R_b = t_bp / t_f (their PyTorch MLP: R_f = 2.46, R_b = 4.17).
Here t_fg is measured as the library's ``ForwardGradient`` runs it (drawing v included; by default
with the Numba generator of ``learning/fast_tangents.py``), with v from that generator in normal
and Rademacher form, and with v drawn in advance (t_fg*, R_f* = t_fg* / t_f), which isolates the
dual-number pass.

Models (float32, MNIST-shaped input): ``logreg`` 784 -> 10; ``mlp`` 784-1024-1024-10 with ReLU;
``cnn`` the paper's: four 3x3 convolutions of 64 channels (padding 1, ReLU), a 2x2 max-pool after
the second and the fourth, Linear 64·7·7 -> 1024, ReLU, Linear 1024 -> 10. Loss: softmax
cross-entropy. Data: the first 64 MNIST test images when the IDX files are found (``--data``),
else the embedded default digits.

Engines, timed in the same process and interleaved: tinyad; a hand-written NumPy forward,
backward and forward-mode pass of the MLP and the logistic regression (the floor: the same
arithmetic with no engine at all); PyTorch on the CPU when it is importable (``torch.func.jvp``
for the forward gradient), never a dependency.

Timing: after warm-up, every repetition runs every case once, in a fresh random order, with the
garbage collector paused, so drift in the machine's load hits all cases alike; a case that takes
less than 2 ms is repeated within its sample. Reported times are medians over repetitions.
``--profile`` adds a cProfile of each tinyad step (where the time goes, by function) and the
time of each primitive's array computation (``primitive_times``).
"""
import contextlib
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

MODELS = ("logreg", "mlp", "cnn")
PAPER = {"mlp": {"R_f": 2.46, "R_b": 4.17}}     # Baydin et al. 2022, PyTorch, MLP
GOALS = {"R_b": 3.0, "R_f*": 3.0}               # and t_fg <= t_bp (sampling included)
DEFAULT_DATA = "/work/shared/data/mnist"
REPEAT = {"logreg": 200, "mlp": 60, "cnn": 12}
QUICK_BATCH = 8
COLUMNS = ["model", "engine", "t_f ms", "t_fg ms", "t_fg* ms", "t_bp ms", "R_f", "R_f*", "R_b",
           "t_fg/t_bp"]
SOURCES = {"fg": "library ForwardGradient (default: Numba normal)", "fgN": "Numba normal",
           "fgR": "Numba Rademacher",
           "fg*": "pre-drawn (no sampling)"}
SOURCE_COLUMNS = ["model", "tangents", "t_fg ms", "R_f", "t_fg/t_bp"]


# ---- command line -----------------------------------------------------------------------------
def add_arguments(p):
    p.add_argument("--model", default="all", choices=[*MODELS, "all"],
                   help="which model to time (default: all three)")
    p.add_argument("--batch-size", type=int, default=None, help="default 64 (8 with --quick)")
    p.add_argument("--repeat", type=int, default=None,
                   help="timed repetitions per case (default: logreg 200, mlp 60, cnn 12)")
    p.add_argument("--warmup", type=int, default=None, help="untimed calls per case first")
    p.add_argument("--engines", default=None,
                   help="comma-separated from tinyad, numpy, torch (default: all three, torch "
                        "skipped when it is not installed; with --quick: tinyad,numpy)")
    p.add_argument("--data", default=None,
                   help=f"folder with the MNIST test IDX files (default: {DEFAULT_DATA} when "
                        "present; otherwise the embedded default digits)")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="set OpenBLAS's (and torch's) thread count for this run (default: leave "
                        "it; torch is given OpenBLAS's count)")
    p.add_argument("--malloc", default="keep", choices=["keep", "default"],
                   help="keep: ask glibc's malloc to keep freed memory for reuse (see "
                        "keep_freed_memory; the default); default: leave the allocator as it is")
    p.add_argument("--profile", action="store_true",
                   help="also cProfile each tinyad step and print where the time goes")
    p.add_argument("--quick", action="store_true",
                   help="a seconds-long smoke run: batch 8, 3 repetitions")
    p.add_argument("--out", default=None,
                   help="folder for paper_ratios.json and .md (default: print only)")
    p.add_argument("--seed", type=int, default=0)


def run(args):
    result = measure_from_args(args)
    table, title = report(result)
    if args.out:
        write(args.out, "paper_ratios", result, table, title)
    else:
        print(f"\n{title}\n{table}")
    return 0


def report(result):
    """(markdown tables and verdicts, title) for a ``measure`` result."""
    threads = result["blas"]["threads"]
    load = result["loadavg_before"], result["loadavg_after"]
    blas = (f"{threads} BLAS thread{'s' if threads != 1 else ''}" if threads
            else "BLAS threads unknown")
    title = f"Runtime ratios to a forward pass (batch {result['batch']}, float32, CPU, {blas})"
    text = ("**Smoke run (--quick): batch 8, 3 repetitions; these numbers mean nothing.**\n\n"
            if result["quick"] else "")
    for label, key in (("Wall-clock", "rows"), ("Process CPU-time", "rows_cpu")):
        rows = result[key]
        sources = [src for r in rows for src in r.get("tangent_sources", {}).values()]
        text += (f"{label} medians (ms) and ratios:\n\n{markdown_table(rows, COLUMNS)}\n\n")
        if sources:
            text += (f"tinyad's forward-gradient step by tangent source ({label.lower()}):\n\n"
                     f"{markdown_table(sources, SOURCE_COLUMNS)}\n\n")
    text += (
        "t_f: forward + loss under no_grad. t_fg: the library's ForwardGradient step (weight "
        "perturbation), drawing v with its default generator, Numba's normal (torch: randn; "
        "numpy floor: NumPy's float32 normal). t_fg*: the same dual-number pass and update "
        "with v drawn in advance. t_bp: the Backprop rule (tape). R_f = t_fg/t_f, R_f* = t_fg*/t_f, "
        "R_b = t_bp/t_f. Numba tangents: tinyad.learning.fast_tangents, v scaled in place "
        "into the gradient. Paper (PyTorch, MLP): R_f = 2.46, R_b = 4.17.\n"
        f"Data: {result['data']}. Memory: {result.get('malloc', 'not recorded')}. "
        f"Load average (1, 5, 15 min) before/after: {load[0]} / {load[1]}.\n\n"
        f"{verdict_text(result)}")
    return text, title


def measure_from_args(args):
    """Parse the CLI options (shared with bench/bench_paper.py) and run ``measure``."""
    for name in ("batch_size", "repeat", "warmup", "blas_threads"):
        value = getattr(args, name, None)
        least = 0 if name == "warmup" else 1
        if value is not None and value < least:
            _fail(f"--{name.replace('_', '-')} must be >= {least}, got {value}")
    models = MODELS if args.model == "all" else (args.model,)
    spec = args.engines or ("tinyad,numpy" if args.quick else "tinyad,numpy,torch")
    engines = [e.strip() for e in spec.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ("tinyad", "numpy", "torch")]
    if unknown or "tinyad" not in engines:
        _fail(f"--engines must include tinyad and name only tinyad, numpy, torch; got "
              f"{spec!r}")
    if args.blas_threads:
        set_blas_threads(args.blas_threads)
    kept = keep_freed_memory() if args.malloc == "keep" else None
    malloc = (f"glibc malloc keeps freed memory ({kept})" if kept
              else "the allocator's defaults" + (" (not glibc)" if args.malloc == "keep" else ""))
    return measure(models, engines=engines, batch=args.batch_size, repeat=args.repeat,
                   warmup=args.warmup, data=args.data, quick=args.quick,
                   profile=args.profile, seed=args.seed, malloc=malloc,
                   device=getattr(args, "device", "cpu"))


def _fail(message):
    sys.stderr.write(f"tinyad bench: error: {message}\n")
    raise SystemExit(2)


# ---- measuring ----------------------------------------------------------------------------------
def measure(models=MODELS, engines=("tinyad", "numpy", "torch"), batch=None, repeat=None,
            warmup=None, data=None, quick=False, profile=False, seed=0, malloc=None,
            device="cpu"):
    """Time every case of every model; returns a JSON-ready dict with ``rows`` (one per model and
    engine), the raw per-repetition samples, the goals' verdicts and the run's settings.
    ``device``: where tinyad's model and data live (the NumPy and torch engines run on the CPU)."""
    batch = batch or (QUICK_BATCH if quick else 64)
    warmup = (1 if quick else 3) if warmup is None else warmup
    x, y, source = load_batch(batch, data)
    torch = _torch() if "torch" in engines else None
    threads = blas_threads()
    if torch is not None and threads:
        torch.set_num_threads(threads)           # the same thread count as NumPy's BLAS
    load_before = _loadavg()
    rows, rows_cpu, raw, profiles = [], [], {}, {}
    for name in models:
        reps = 3 if quick else (repeat or REPEAT[name])
        cases, info = build_cases(name, x, y, engines, torch, seed, device)
        wall, cpu = interleaved(cases, reps, warmup, seed=seed)
        raw[name] = {"wall_s": wall, "cpu_s": cpu, "info": info, "repeat": reps}
        rows += summarise(name, wall)
        rows_cpu += summarise(name, cpu)
        print(_progress(rows, name, "wall"), flush=True)
        print(_progress(rows_cpu, name, "cpu "), flush=True)
        if profile:
            profiles[name] = profile_cases({k: v for k, v in cases.items()
                                            if k.startswith("tinyad")})
    result = {
        "batch": batch, "dtype": "float32", "data": source, "models": list(models),
        "device": device,
        "engines": engines, "warmup": warmup, "quick": quick, "rows": rows,
        "rows_cpu": rows_cpu, "verdicts": verdicts(rows), "verdicts_cpu": verdicts(rows_cpu),
        "paper": PAPER, "goals": {**GOALS, "t_fg/t_bp": 1.0},
        "blas": {"threads": threads, "config": blas_config()},
        "malloc": malloc or "the allocator's defaults",
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "torch_version": torch.__version__ if torch is not None else None,
        "loadavg_before": load_before, "loadavg_after": _loadavg(), "raw": raw,
    }
    if profiles:
        result["profiles"] = profiles
    return result


def interleaved(cases, repeat, warmup=3, min_sample=2e-3, seed=0):
    """({case: [wall-clock seconds per call, one per repetition]}, the same in process CPU
    seconds): every repetition runs every case once, in a fresh random order, with the garbage
    collector paused (it runs between repetitions)."""
    number = {}
    for name, fn in cases.items():
        for _ in range(warmup):
            fn()
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        number[name] = max(1, math.ceil(min_sample / max(once, 1e-7)))
    wall = {name: [] for name in cases}
    cpu = {name: [] for name in cases}
    order = list(cases)
    shuffle = random.Random(seed).shuffle
    enabled = gc.isenabled()
    try:
        for _ in range(repeat):
            shuffle(order)
            gc.collect(1)                        # the young generations: fast, and enough
            gc.disable()
            for name in order:
                fn, k = cases[name], number[name]
                start, start_cpu = time.perf_counter(), time.process_time()
                for _ in range(k):
                    fn()
                wall[name].append((time.perf_counter() - start) / k)
                cpu[name].append((time.process_time() - start_cpu) / k)
            gc.enable()
    finally:
        if enabled:
            gc.enable()
    return wall, cpu


def summarise(model, samples):
    """One row per engine: median times (ms), the ratios, and the paired ratios (the median over
    repetitions of t_case / t_f measured in the same repetition) in the JSON."""
    rows = []
    engines = list(dict.fromkeys(k.split(":")[0] for k in samples))
    for engine in engines:
        s = {k.split(":")[1]: v for k, v in samples.items() if k.split(":")[0] == engine}
        med = {k: statistics.median(v) for k, v in s.items()}
        row = {"model": model, "engine": engine}
        for case, col in (("f", "t_f ms"), ("fg", "t_fg ms"), ("fg*", "t_fg* ms"),
                          ("bp", "t_bp ms")):
            if case in med:
                row[col] = 1e3 * med[case]
        if "f" in med:
            for case, col in (("fg", "R_f"), ("fg*", "R_f*"), ("bp", "R_b")):
                if case in med:
                    row[col] = med[case] / med["f"]
                    row[col + " paired"] = statistics.median(
                        a / b for a, b in zip(s[case], s["f"]))
        if "fg" in med and "bp" in med:
            row["t_fg/t_bp"] = med["fg"] / med["bp"]
        if "fgN" in med or "fgR" in med:
            row["tangent_sources"] = {
                case: {"model": model, "tangents": label, "t_fg ms": 1e3 * med[case],
                       "R_f": med[case] / med["f"], "t_fg/t_bp": med[case] / med["bp"]}
                for case, label in SOURCES.items() if case in med}
        for case, v in s.items():
            q = np.percentile(v, [25, 75])
            row.setdefault("iqr_ms", {})[case] = [1e3 * q[0], 1e3 * q[1]]
            row.setdefault("min_ms", {})[case] = 1e3 * min(v)
        rows.append(row)
    return rows


def verdicts(rows):
    """The three goals, checked on tinyad's rows."""
    out = {}
    for r in rows:
        if r["engine"] != "tinyad":
            continue
        v = {"R_b <= 3": r.get("R_b", math.inf) <= GOALS["R_b"],
             "R_f* <= 3": r.get("R_f*", math.inf) <= GOALS["R_f*"],
             "t_fg <= t_bp": r.get("t_fg/t_bp", math.inf) <= 1.0}
        for source in r.get("tangent_sources", {}).values():
            if source["tangents"] in (SOURCES["fgN"], SOURCES["fgR"]):
                v[f"t_fg <= t_bp with {source['tangents']} tangents"] = source["t_fg/t_bp"] <= 1.0
        out[r["model"]] = v
    return out


def verdict_text(result):
    lines = ["Goals (tinyad): R_b <= 3, R_f* <= 3 (tangents pre-drawn), a forward-gradient "
             "step with sampling no slower than a backprop step (t_fg <= t_bp)."]
    for clock, key in (("wall", "verdicts"), ("cpu", "verdicts_cpu")):
        for model, v in result[key].items():
            lines.append(f"- {clock} {model}: " + ", ".join(
                f"{k}: {'met' if ok else 'MISSED'}" for k, ok in v.items()))
    return "\n".join(lines)


def _progress(rows, model, clock):
    done = [r for r in rows if r["model"] == model]
    return "  ".join(f"[{clock} {model}/{r['engine']}] t_f {r.get('t_f ms', float('nan')):.3g} ms "
                     f"R_f {r.get('R_f', float('nan')):.2f} R_f* {r.get('R_f*', float('nan')):.2f}"
                     f" R_b {r.get('R_b', float('nan')):.2f}" for r in done)


def profile_cases(cases, calls=5, top=12):
    """{case: the `top` functions by own time over `calls` calls, then each primitive's share,
    as text lines}."""
    import cProfile
    import io
    import pstats
    out = {}
    for name, fn in cases.items():
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(calls):
            fn()
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
        lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()][-(top + 1):]
        with primitive_times() as times:
            for _ in range(calls):
                fn()
        lines += [f"{'primitive':<14} {'ms/step':>9} {'calls/step':>10}"] + [
            f"{prim:<14} {1e3 * secs / calls:9.3f} {count / calls:10.0f}"
            for prim, (secs, count) in sorted(times.items(), key=lambda kv: -kv[1][0])[:top]]
        out[name] = lines
        print(f"\n--- profile {name} ({calls} calls, by own time; then by primitive) ---")
        print("\n".join(lines))
    return out


@contextlib.contextmanager
def primitive_times():
    """Time every primitive's array computation while active: yields {name: [seconds, calls]}.
    Each table entry's ``impl`` is wrapped on entry and restored on exit."""
    from .primitive import PRIMITIVES
    times, saved = {}, {name: prim.impl for name, prim in PRIMITIVES.items()}

    def timed(name, impl):
        def run(*args, **params):
            start = time.perf_counter()
            try:
                return impl(*args, **params)
            finally:
                entry = times.setdefault(name, [0.0, 0])
                entry[0] += time.perf_counter() - start
                entry[1] += 1
        return run

    for name, prim in PRIMITIVES.items():
        prim.impl = timed(name, prim.impl)
    try:
        yield times
    finally:
        for name, prim in PRIMITIVES.items():
            prim.impl = saved[name]


# ---- the models and data -----------------------------------------------------------------------
def load_batch(batch, data=None):
    """(x float32 (batch, 784), y int64 (batch,), where they came from): the first `batch` MNIST
    test images, or the embedded default digits when no MNIST files are found."""
    from .data import load_default, load_mnist
    root = data or os.environ.get("TINYAD_DATA") or DEFAULT_DATA
    try:
        x, y = load_mnist(root=root, train=False, download=False)
        source = f"MNIST test set (first {batch} images; searched {root} first)"
    except (OSError, ValueError):
        if data:
            _fail(f"--data {data}: no MNIST test files (t10k-*-ubyte[.gz]) found there")
        x, y = load_default(train=False)
        source = f"embedded default digits (first {batch}); no MNIST files found"
    if batch > len(x):
        x, y = np.resize(x, (batch, x.shape[1])), np.resize(y, batch)
    return np.ascontiguousarray(x[:batch], np.float32), y[:batch].astype(np.int64), source


def build_model(name, nn=None):
    """The model `name` (logreg, mlp or cnn) from `nn`: tinyad.nn (the default, with PyTorch's
    default initialisation) or torch.nn, whose layers have the same names and arguments and whose
    parameters come in the same order."""
    if nn is None:
        from . import nn
    if name == "logreg":
        return nn.Sequential(nn.Linear(784, 10))
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                             nn.Linear(1024, 10))
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Linear(1024, 10))
    raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODELS)}")


def model_input(name, x):
    return x.reshape(len(x), 1, 28, 28) if name == "cnn" else x


def build_cases(name, x, y, engines, torch=None, seed=0, device="cpu"):
    """{'engine:case': a zero-argument step} for model `name`, all engines; and a description."""
    from . import nn
    nn.init.seed(seed)
    model = build_model(name)
    xin = model_input(name, x)
    cases = tinyad_cases(model.to(device), xin, y, seed)
    info = {"parameters": int(sum(p.size for p in model.parameters()))}
    weights = [p.numpy() for p in model.parameters()]
    if "numpy" in engines and name in ("logreg", "mlp"):
        cases.update(numpy_cases(weights, x, y, seed))
    if torch is not None:
        cases.update(torch_cases(torch, name, weights, xin, y, seed))
    return cases, info


def tinyad_cases(model, x, y, seed=0):
    """tinyad's steps: f (no tape), fg (the library's ForwardGradient rule, drawing v), fg*
    (the same pass with v drawn in advance), fgN and fgR (v from the Numba generator, normal and
    Rademacher, when it loads; CPU only), bp (the library's Backprop rule: the tape). The data
    go where the model is; every step ends by reading its loss back (on a GPU, a sync)."""
    from . import no_grad, tensor
    from .learning import Backprop, ForwardGradient
    from .learning import tangents as tangent_draw
    from .nn import functional as F
    params = list(model.parameters())
    device = params[0].device
    xt, y = tensor(x, device=device), tensor(y, device=device)
    fg_rule, bp_rule = ForwardGradient(seed=seed), Backprop()
    rng = np.random.default_rng(seed)
    if device != "cpu":
        rng = tangent_draw.device_generator(rng)
    predrawn = tangent_draw.draw([p.shape for p in params], "normal", rng, params[0].data)

    def f():
        with no_grad():
            return F.cross_entropy(model(xt), y).item()

    def fg():
        model.zero_grad()
        return fg_rule.backward(model, F.cross_entropy, xt, y)

    def fg_pre():
        model.zero_grad()
        return forward_gradient_step(model, F.cross_entropy, xt, y, predrawn)

    def bp():
        model.zero_grad()
        return bp_rule.backward(model, F.cross_entropy, xt, y)

    cases = {"tinyad:f": f, "tinyad:fg": fg, "tinyad:fg*": fg_pre, "tinyad:bp": bp}
    fast = _fast_draw() if device == "cpu" else None
    if fast is not None:
        shapes = [p.shape for p in params]
        stream = np.random.default_rng(seed + 1)

        def numba_step(distribution):
            def step():
                model.zero_grad()
                vs = fast(shapes, distribution, stream, params[0].data)
                return forward_gradient_step(model, F.cross_entropy, xt, y, vs, in_place=True)
            return step
        cases["tinyad:fgN"] = numba_step("normal")
        cases["tinyad:fgR"] = numba_step("rademacher")
    return cases


def forward_gradient_step(model, loss_fn, x, y, vs, in_place=False):
    """``ForwardGradient(perturb='weights')``'s step with given tangents `vs` (raw arrays, one
    per parameter): one dual-number pass, then ``p.grad += (∇f·v) v``. Returns the loss.
    ``in_place``: scale the tangents in place into the gradients (they are not needed again),
    saving an allocation and a pass over memory."""
    from . import nn, no_grad
    from .dual import dual, dual_level, unpack
    from .learning.network import accumulate
    from .tensor import Tensor
    named = list(model.named_parameters())
    with no_grad(), dual_level() as level:
        duals = {n: dual(p.detach(), Tensor(v)) for (n, p), v in zip(named, vs)}
        loss, d = unpack(loss_fn(nn.functional_call(model, duals, x), y), level)
    scale = float(d.item())
    for (_, p), v in zip(named, vs):
        if in_place and p.grad is None and v.dtype == p.dtype:
            v *= scale
            p.grad = Tensor(v)
        else:
            accumulate(p, scale * v)
    return float(loss.item())


def _fast_draw():
    """``tangents.draw`` with the Numba generator, or None when Numba is not available."""
    from .learning import fast_tangents, tangents
    if not fast_tangents.available():
        return None
    return lambda *a: tangents.draw(*a, draw_flat=fast_tangents.draw_flat)


# ---- the NumPy floor ----------------------------------------------------------------------------
def numpy_cases(weights, x, y, seed=0):
    """A hand-written NumPy MLP (Linear layers, ReLU between them, softmax cross-entropy): the
    same arithmetic as the engines' steps with no engine at all."""
    layers = list(zip(weights[0::2], weights[1::2]))
    n = len(x)
    rows = np.arange(n)
    rng = np.random.default_rng(seed)
    sizes = [w.size for w in weights]

    def loss_and_error(z):
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[rows, y]).mean()
        p[rows, y] -= 1
        return loss, p / n                                   # dL/dz

    def f():
        h = x
        for i, (w, b) in enumerate(layers):
            h = h @ w.T + b
            if i < len(layers) - 1:
                h = np.maximum(h, 0)
        z = h - h.max(axis=1, keepdims=True)
        return float((np.log(np.exp(z).sum(axis=1)) - z[rows, y]).mean())

    def bp():
        hs, h = [], x
        for i, (w, b) in enumerate(layers):
            hs.append(h)
            h = h @ w.T + b
            if i < len(layers) - 1:
                h = np.maximum(h, 0)
        loss, e = loss_and_error(h)
        grads = []
        for i in reversed(range(len(layers))):
            grads.append((e.T @ hs[i], e.sum(axis=0)))
            if i:
                e = (e @ layers[i][0]) * (hs[i] > 0)
        return loss, grads

    def fg_with(vs):
        h, t = x, None
        for i, (w, b) in enumerate(layers):
            vw, vb = vs[2 * i], vs[2 * i + 1]
            a = h @ w.T + b
            ta = h @ vw.T + vb if t is None else t @ w.T + h @ vw.T + vb
            if i < len(layers) - 1:
                live = a > 0
                h, t = a * live, ta * live
            else:
                h, t = a, ta
        loss, e = loss_and_error(h)
        d = float((e * t).sum())                              # ∇f·v
        return loss, [d * v for v in vs]

    def split(flat):
        out, start = [], 0
        for w, size in zip(weights, sizes):
            out.append(flat[start:start + size].reshape(w.shape))
            start += size
        return out

    predrawn = split(rng.standard_normal(sum(sizes), dtype=np.float32))
    return {"numpy:f": f, "numpy:bp": bp, "numpy:fg*": lambda: fg_with(predrawn),
            "numpy:fg": lambda: fg_with(split(rng.standard_normal(sum(sizes),
                                                                  dtype=np.float32)))}


# ---- PyTorch, when installed --------------------------------------------------------------------
def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_cases(torch, name, weights, x, y, seed=0):
    """The same steps in PyTorch (CPU, same weights and batch): f under ``no_grad``, bp by
    ``loss.backward()``, fg by ``torch.func.jvp`` (forward-mode AD) with ``randn`` tangents."""
    from torch.func import functional_call, jvp
    F = torch.nn.functional
    model = build_model(name, torch.nn)
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    params = dict(model.named_parameters())
    names = list(params)
    primals = tuple(p.detach() for p in params.values())
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)

    def f():
        with torch.no_grad():
            return F.cross_entropy(model(xt), yt).item()

    def bp():
        for p in params.values():
            p.grad = None
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        return loss.item()

    def loss_of(*ps):
        return F.cross_entropy(functional_call(model, dict(zip(names, ps)), (xt,)), yt)

    def fg_with(vs):
        loss, d = jvp(loss_of, primals, vs)
        scale = d.item()
        for p, v in zip(params.values(), vs):
            p.grad = scale * v
        return loss.item()

    predrawn = tuple(torch.randn(p.shape, generator=gen) for p in primals)
    return {"torch:f": f, "torch:bp": bp, "torch:fg*": lambda: fg_with(predrawn),
            "torch:fg": lambda: fg_with(tuple(torch.randn(p.shape, generator=gen)
                                              for p in primals))}


# ---- BLAS threads and the record of the machine -------------------------------------------------
def _openblas():
    """NumPy's OpenBLAS as a ctypes library and its symbol prefix, or (None, None)."""
    import ctypes
    try:
        paths = {line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line}
    except OSError:
        return None, None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                               ("openblas", "64_"), ("openblas", "")):
            if hasattr(lib, f"{prefix}_get_num_threads{suffix}"):
                return lib, (prefix, suffix)
    return None, None


def blas_threads():
    """OpenBLAS's current thread count (None when it cannot be asked)."""
    lib, names = _openblas()
    if lib is None:
        return None
    return int(getattr(lib, f"{names[0]}_get_num_threads{names[1]}")())


def set_blas_threads(n):
    """Set OpenBLAS's thread count for this process (used only on request, by ``--blas-threads``)."""
    import ctypes
    lib, names = _openblas()
    if lib is None:
        _fail("--blas-threads: could not find NumPy's OpenBLAS in this process")
    prefix, suffix = names
    getattr(lib, f"{prefix}_set_num_threads{suffix}")(ctypes.c_int(int(n)))


MALLOPT = {"M_TRIM_THRESHOLD": (-1, 1 << 30), "M_TOP_PAD": (-2, 256 << 20),
           "M_MMAP_THRESHOLD": (-3, 32 << 20)}   # mallopt's parameter numbers (malloc.h), bytes


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory in the process: trim the heap only above 1 GiB,
    grow it 256 MiB at a time, and serve blocks up to 32 MiB (mallopt's largest) from it.

    Why: every step of the CNN allocates and frees arrays of 12-115 MB. By default glibc hands
    such memory back to the kernel, and the next step page-faults it in again, zero-filled; how
    often depends on what ran before, so backprop-step samples of the same code scattered from
    362 to 723 ms (median 431), and with this setting did not (266-308 ms; bench/README.md).
    It applies to every engine in the run alike (the same as MALLOC_TRIM_THRESHOLD_ and friends
    in the environment).
    Returns {setting: bytes} as applied, or None where the C library is not glibc."""
    import ctypes
    if platform.libc_ver()[0] != "glibc":
        return None
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return None
    return {name: value for name, (param, value) in MALLOPT.items()
            if mallopt(ctypes.c_int(param), ctypes.c_int(value)) == 1}


def blas_config():
    import ctypes
    lib, names = _openblas()
    if lib is None:
        return None
    fn = getattr(lib, f"{names[0]}_get_config{names[1]}", None)
    if fn is None:
        return None
    fn.restype = ctypes.c_char_p
    return fn().decode()


def _loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine():
    """Where the numbers were measured: CPU, cores, thread settings, library versions."""
    env_vars = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TINYAD_KERNELS")
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"python": sys.version.split()[0], "platform": platform.platform(), "processor": cpu,
            "cpu_count": os.cpu_count(), "numpy": np.__version__,
            "env": {k: os.environ[k] for k in env_vars if k in os.environ},
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    for name in ("numba", "tinyad", "torch", "jax", "cupy"):
        module = sys.modules.get(name)
        if module is not None:
            info[name] = getattr(module, "__version__", "?")
    return info


def markdown_table(rows, columns):
    """A markdown table of dict rows, numbers to 4 significant digits."""
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write(out_dir, name, payload, table, title):
    """<out_dir>/<name>.json (payload + machine) and <name>.md; prints the table."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = dict(payload, machine=machine())
    (out_dir / f"{name}.json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    m = payload["machine"]
    (out_dir / f"{name}.md").write_text(
        f"# {title}\n\n{table}\n\nMachine: {m['processor']}, {m['cpu_count']} cores, Python "
        f"{m['python']}, NumPy {m['numpy']}, thread/BLAS settings {m['env']}, {m['date']}.\n")
    print(f"\n{title}\n{table}\n-> {out_dir / name}.json, .md")
