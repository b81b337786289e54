"""``tinyad bench``: the runtime table of "Gradients without Backpropagation", on the CPU or a GPU.

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

The models, the data and tinyad's steps: ``bench_cases.py``. Engines, timed in the same process
and interleaved: tinyad; a hand-written NumPy floor and PyTorch when it is importable
(``reference_engines.py``).

Timing (``timing.interleaved``): after warm-up, every repetition runs every case once, in a fresh
random order, with the garbage collector paused, so drift in the machine's load hits all cases
alike; a case that takes less than 2 ms is repeated within its sample. Reported times are medians
over repetitions.
``--device cuda`` puts tinyad's model and batch on the GPU (CuPy): fg then draws v there with the
rule's CuPy generator, the Numba tangent cases (CPU-only) are left out, and every step still
ends by reading its loss back (a sync), so each time is the step's whole work. The NumPy and
torch engines stay on the CPU.
``--profile`` adds a cProfile of each tinyad step (where the time goes, by function) and the
time of each primitive's array computation (``primitive_times``).
"""
import math
import statistics

import numpy as np

from . import machine
from .bench_cases import MODELS, build_cases, load_batch
from .checks import UsageError, add_device_argument, at_least, require_device, writable_folder
from .reference_engines import torch_or_none
from .results import markdown_table, write
from .timing import interleaved, profile_cases

PAPER = {"mlp": {"R_f": 2.46, "R_b": 4.17}}     # Baydin et al. 2022, PyTorch, MLP
GOALS = {"R_b": 3.0, "R_f*": 3.0}               # and t_fg <= t_bp (sampling included)
REPEAT = {"logreg": 200, "mlp": 60, "cnn": 12}
QUICK_BATCH = 8
COLUMNS = ["model", "engine", "t_f ms", "t_fg ms", "t_fg* ms", "t_bp ms", "R_f", "R_f*", "R_b",
           "t_fg/t_bp"]
SOURCES = {"fg": "library ForwardGradient (default: Numba normal)", "fgN": "Numba normal",
           "fgR": "Numba Rademacher",
           "fg*": "pre-drawn (no sampling)"}
SOURCE_COLUMNS = ["model", "tangents", "t_fg ms", "R_f", "t_fg/t_bp"]


def add_arguments(p):
    p.add_argument("--model", default="all", choices=[*MODELS, "all"],
                   help="which model to time (default: all three)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="default 64 (8 with --quick)")
    p.add_argument("--repeat", type=int, default=None,
                   help="timed repetitions per case (default: logreg 200, mlp 60, cnn 12)")
    p.add_argument("--warmup", type=int, default=None,
                   help="untimed calls per case first")
    p.add_argument("--engines", default=None,
                   help="comma-separated from tinyad, numpy, torch (default: all three, torch "
                        "skipped when it is not installed; with --quick: tinyad,numpy)")
    p.add_argument("--data", default=None,
                   help="folder with the MNIST test IDX files (default: the library's data "
                        "search: $TINYAD_DATA, the cache, system folders; else the embedded "
                        "default digits)")
    p.add_argument("--threads", "--blas-threads", dest="threads", type=int,
                   default=None,
                   help="OpenBLAS and Numba threads for this run, restored after it (default: "
                        "leave them; torch is given OpenBLAS's count)")
    p.add_argument("--malloc", default="keep", choices=["keep", "default"],
                   help="keep: ask glibc's malloc to keep freed memory for reuse (see "
                        "machine.keep_freed_memory; the default); default: leave the allocator")
    add_device_argument(p)
    p.add_argument("--profile", action="store_true",
                   help="also cProfile each tinyad step and print where the time goes")
    p.add_argument("--quick", action="store_true",
                   help="a seconds-long smoke run: batch 8, 3 repetitions")
    p.add_argument("--out", default=None,
                   help="folder for paper_ratios.json and .md (default: print only)")
    p.add_argument("--seed", type=int, default=0)


def run(args):
    out = writable_folder(args.out) if args.out else None
    result = measure_from_args(args)
    table, title = report(result)
    if out:
        write(out, "paper_ratios", result, table, title)
    else:
        print(f"\n{title}\n{table}")
    return 0


def measure_from_args(args):
    """Check the options (shared with bench/bench_paper.py), then ``measure`` with the thread
    count and allocator they ask for; the thread counts are restored afterwards."""
    at_least(args, {"batch_size": 1, "repeat": 1, "warmup": 0, "threads": 1, "seed": 0})
    models = MODELS if args.model == "all" else (args.model,)
    spec = args.engines or ("tinyad,numpy" if args.quick else "tinyad,numpy,torch")
    engines = [e.strip() for e in spec.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ("tinyad", "numpy", "torch")]
    if unknown or "tinyad" not in engines:
        raise UsageError(f"--engines must include tinyad and name only tinyad, numpy, torch; "
                         f"got {spec!r}")
    device = require_device(args.device)
    batch = args.batch_size or (QUICK_BATCH if args.quick else 64)
    x, y, source = load_batch(batch, args.data)
    kept = machine.keep_freed_memory() if args.malloc == "keep" else None
    malloc = (f"glibc malloc keeps freed memory ({kept})" if kept
              else "the allocator's defaults" + (" (not glibc)" if args.malloc == "keep" else ""))
    with machine.threads(args.threads) as threads:
        result = measure(models, (x, y, source), engines=engines, repeat=args.repeat,
                         warmup=args.warmup, quick=args.quick, profile=args.profile,
                         seed=args.seed, malloc=malloc, device=device)
        result.update(threads=threads, machine=machine.record(device))
    return result


def report(result):
    """(markdown tables and verdicts, title) for a ``measure`` result."""
    threads = result["blas"]["threads"]
    load = result["loadavg_before"], result["loadavg_after"]
    blas = (f"{threads} BLAS thread{'s' if threads != 1 else ''}" if threads
            else "BLAS threads unknown")
    device = result["device"]
    where = "CPU" if device == "cpu" else f"tinyad on {device}, NumPy and torch on the CPU"
    title = f"Runtime ratios to a forward pass (batch {result['batch']}, float32, {where}, {blas})"
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
        "perturbation), drawing v with its default generator, Numba's normal (on a GPU: "
        "CuPy's; torch: randn; numpy floor: NumPy's float32 normal). t_fg*: the same "
        "dual-number pass and update with v drawn in advance. t_bp: the Backprop rule (tape). "
        "R_f = t_fg/t_f, R_f* = t_fg*/t_f, R_b = t_bp/t_f. Numba tangents: "
        "tinyad.learning.fast_tangents, v scaled in place into the gradient. Paper (PyTorch, "
        "MLP): R_f = 2.46, R_b = 4.17.\n"
        f"Data: {result['data']}. Memory: {result.get('malloc', 'not recorded')}. "
        f"Load average (1, 5, 15 min) before/after: {load[0]} / {load[1]}.\n\n"
        f"{verdict_text(result)}")
    return text, title


def measure(models, data, engines=("tinyad", "numpy", "torch"), repeat=None, warmup=None,
            quick=False, profile=False, seed=0, malloc=None, device="cpu"):
    """Time every case of every model on `data` = (x, y, where it came from); returns a
    JSON-ready dict with ``rows`` (one per model and engine), the raw per-repetition samples, the
    goals' verdicts and the run's settings. `device`: where tinyad's model and data live."""
    x, y, source = data
    warmup = (1 if quick else 3) if warmup is None else warmup
    torch = torch_or_none() if "torch" in engines else None
    threads = machine.blas_threads()
    if torch is not None and threads:
        torch.set_num_threads(threads)           # the same thread count as NumPy's BLAS
    load_before = machine.loadavg()
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
        "batch": len(x), "dtype": "float32", "data": source, "models": list(models),
        "device": device,
        "engines": engines, "warmup": warmup, "quick": quick, "rows": rows,
        "rows_cpu": rows_cpu, "verdicts": verdicts(rows), "verdicts_cpu": verdicts(rows_cpu),
        "paper": PAPER, "goals": {**GOALS, "t_fg/t_bp": 1.0},
        "blas": {"threads": threads, "config": machine.blas_config()},
        "malloc": malloc or "the allocator's defaults",
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "torch_version": torch.__version__ if torch is not None else None,
        "loadavg_before": load_before, "loadavg_after": machine.loadavg(), "raw": raw,
    }
    if profiles:
        result["profiles"] = profiles
    return result


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
