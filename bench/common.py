"""Shared benchmark plumbing: timing by medians, the machine record, JSON + markdown output.

Every result file records where it was measured (CPU, cores, thread settings, library versions)
because a ratio means nothing without its machine.
"""
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TINYAD_KERNELS")


def median_time(fn, repeat=30, warmup=3, number=1):
    """Median wall-clock seconds of one call of `fn` (each sample averages `number` calls)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def machine():
    """What the numbers were measured on."""
    import numpy
    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "numpy": numpy.__version__,
        "env": {k: os.environ[k] for k in THREAD_VARS if k in os.environ},
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    for name in ("numba", "tinyad", "torch", "jax", "cupy"):
        module = sys.modules.get(name)
        if module is not None:
            info[name] = getattr(module, "__version__", "?")
    return info


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def markdown_table(rows, columns):
    """A markdown table of dict rows, numbers to 4 significant digits."""
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write(name, payload, table, title, out_dir=RESULTS):
    """Write <name>.json (payload + machine) and <name>.md (title, table, machine); print the table."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = dict(payload, machine=machine())
    (out_dir / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    m = payload["machine"]
    footer = (f"\n\nMachine: {m['processor']}, {m['cpu_count']} cores, Python {m['python']}, "
              f"NumPy {m['numpy']}, thread/BLAS settings {m['env']}, {m['date']}.\n")
    (out_dir / f"{name}.md").write_text(f"# {title}\n\n{table}{footer}")
    print(f"\n{title}\n{table}\n-> {out_dir / name}.json, .md")
