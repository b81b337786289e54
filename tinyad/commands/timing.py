"""Timing that survives a busy machine: interleaved repetitions, medians, and where time goes.

``interleaved(cases, repeat)`` runs every case once per repetition, in a fresh random order, with
the garbage collector paused, so drift in the machine's load (other processes on a shared 2-core
machine) hits all cases alike; a case shorter than `min_sample` is repeated within its sample. It
returns wall-clock and process-CPU seconds per call, one sample per repetition: report medians.
``profile_cases`` and ``primitive_times`` say where a step's time goes (by function, by primitive).
"""
import contextlib
import cProfile
import gc
import io
import math
import pstats
import random
import time

from tinyad import PRIMITIVES


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


def profile_cases(cases, calls=5, top=12):
    """{case: the `top` functions by own time over `calls` calls, then each primitive's share,
    as text lines}."""
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
