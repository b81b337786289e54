"""Jacobians and Hessians by vmap against a Python loop of JVPs or VJPs.

    jacfwd   f: R^100 -> R^100, a two-layer tanh network    100 JVPs, or one JVP vmapped over
                                                            the 100 unit vectors
    jacrev   the same f                                      one VJP pulled back 100 times, or
                                                            the pullback vmapped over them
    hessian  the cross-entropy loss of an MLP 100-64-10     100 JVPs of the gradient, or
             as a function of its 100-d input                jacfwd(jacrev): both vmapped

The loop is what ``ad.jacfwd``/``ad.jacrev`` did before vmap (one pass per basis vector); the
vmapped version is what they do now. JAX (op by op, inside ``jax.disable_jit()``) and
torch.func are measured on the same functions when they are installed (their matrices checked
against the loop's, as tinyad's are; torch with as many threads as the BLAS). Float32; medians of
interleaved repetitions (process CPU time; wall clock in the JSON): ratios within one run are what
to read.

    python bench/bench_jacobians.py [--blas-threads 1] [--quick] [--out DIR]
"""
import statistics
from functools import partial
from types import SimpleNamespace

import numpy as np

import tinyad as ad
from tinyad.nn import functional as F

from tinyad.commands.machine import blas_threads, loadavg
from tinyad.commands.results import markdown_table, write
from tinyad.commands.timing import interleaved

from common import arguments, parse

N, HIDDEN, CLASSES = 100, 64, 10


def weights(seed=0):
    rng = np.random.default_rng(seed)
    w = {"a": rng.standard_normal((N, N)) / 10, "b": rng.standard_normal((N, N)) / 10,
         "w1": rng.standard_normal((N, HIDDEN)) / 10, "w2": rng.standard_normal((HIDDEN, CLASSES)),
         "x": rng.standard_normal(N)}
    return {k: v.astype(np.float32) for k, v in w.items()}


def tinyad_functions(w):
    a, b, w1, w2 = (ad.tensor(w[k]) for k in ("a", "b", "w1", "w2"))
    label = np.array([3])

    def f(x):                                        # R^100 -> R^100
        return (a @ (b @ x).tanh()).sin()

    def loss(x):                                     # R^100 -> R: an MLP's loss
        return F.cross_entropy(((x @ w1).tanh() @ w2)[None], label)
    return f, loss


def loop_jacfwd(f, x):
    """One JVP per unit vector (ad.jacfwd before vmap)."""
    eye = np.eye(x.size, dtype=x.dtype)
    return ad.stack([ad.jvp(f, (x,), (ad.tensor(e),))[1] for e in eye], axis=-1)


def loop_jacrev(f, x):
    """One VJP, pulled back once per unit vector (ad.jacrev before vmap)."""
    y, pullback = ad.vjp(f, x)
    eye = np.eye(y.size, dtype=y.dtype)
    return ad.stack([pullback(ad.tensor(e))[0] for e in eye])


def tinyad_cases(w):
    f, loss = tinyad_functions(w)
    x = ad.tensor(w["x"])
    grad = ad.grad(loss)
    return {
        ("jacfwd 100->100", "loop"): lambda: loop_jacfwd(f, x),
        ("jacfwd 100->100", "vmap"): lambda: ad.jacfwd(f)(x),
        ("jacrev 100->100", "loop"): lambda: loop_jacrev(f, x),
        ("jacrev 100->100", "vmap"): lambda: ad.jacrev(f)(x),
        ("hessian MLP loss, 100-d", "loop"): lambda: loop_jacfwd(grad, x),
        ("hessian MLP loss, 100-d", "vmap"): lambda: ad.hessian(loss)(x),
    }


def check(cases):
    """Every way gives the loop's matrix to float32 round-off (so the timings compare the same
    work)."""
    loops = {task: _array(case()) for (task, how), case in cases.items() if how == "loop"}
    for (task, how), case in cases.items():
        loop = loops[task]
        np.testing.assert_allclose(_array(case()), loop, rtol=2e-4,
                                   atol=1e-4 * np.abs(loop).max(), err_msg=f"{task}: {how}")


def _array(result):
    """A tinyad tensor, a torch tensor or a JAX array as a NumPy array."""
    return np.asarray(result.numpy() if hasattr(result, "numpy") else result)


def library_cases(w):
    """The same three tasks in JAX (op by op, inside ``jax.disable_jit()``) and torch.func, where
    they are installed."""
    cases = {}
    for how, library in (("JAX (no jit)", _jax), ("torch.func", _torch)):
        try:
            m, transforms, asarray, run = library()
        except ImportError:
            continue
        f, loss, x = library_functions(m, asarray, w)
        for task, transform, fn in (("jacfwd 100->100", transforms.jacfwd, f),
                                    ("jacrev 100->100", transforms.jacrev, f),
                                    ("hessian MLP loss, 100-d", transforms.hessian, loss)):
            cases[(task, how)] = partial(run, transform(fn), x)
    return cases


def library_functions(m, asarray, w):
    """f, the loss and x in one library's arrays (each library's functions close over its own)."""
    a, b, w1, w2, x = (asarray(w[k]) for k in ("a", "b", "w1", "w2", "x"))

    def f(x):
        return m.sin(a @ m.tanh(b @ x))

    def loss(x):
        return -m.log_softmax(m.tanh(x @ w1) @ w2)[3]
    return f, loss, x


def _jax():
    """(array namespace, transforms, asarray, run) for JAX, op by op."""
    import jax
    import jax.numpy as jnp

    def run(fn, x):
        with jax.disable_jit():
            return fn(x).block_until_ready()
    m = SimpleNamespace(sin=jnp.sin, tanh=jnp.tanh, log_softmax=jax.nn.log_softmax)
    return m, jax, jnp.asarray, run


def _torch():
    """(array namespace, transforms, asarray, run) for PyTorch's torch.func, with as many threads
    as NumPy's BLAS has here (`--blas-threads`)."""
    import torch
    from torch import func
    threads = blas_threads()
    if threads:
        torch.set_num_threads(threads)
    m = SimpleNamespace(sin=torch.sin, tanh=torch.tanh,
                        log_softmax=lambda z: torch.log_softmax(z, -1))
    return m, func, torch.from_numpy, lambda fn, x: fn(x)


def measure(repeat):
    w = weights()
    cases = {**tinyad_cases(w), **library_cases(w)}
    check(cases)
    wall, cpu = interleaved(cases, repeat, warmup=2)
    rows = []
    for task in dict.fromkeys(t for t, _ in cases):
        loop = statistics.median(cpu[(task, "loop")])
        for (t, how), samples in cpu.items():
            if t == task:
                rows.append({"task": task, "how": how, "ms": 1e3 * statistics.median(samples),
                             "wall_ms": 1e3 * statistics.median(wall[(t, how)]),
                             "speed-up over loop": loop / statistics.median(samples)})
    return rows


def main(argv=None):
    args = parse(arguments(__doc__, blas_threads=True), argv)
    load = loadavg()
    rows = measure(3 if args.quick else 21)
    missing = [name for name, ok in (("JAX", any(r["how"].startswith("JAX") for r in rows)),
                                     ("torch.func", any(r["how"] == "torch.func" for r in rows)))
               if not ok]
    versions = _versions()
    table = (("**Smoke run (--quick): these numbers mean nothing.**\n\n" if args.quick else "")
             + markdown_table(rows, ["task", "how", "ms", "speed-up over loop"])
             + "\n\nMilliseconds per Jacobian or Hessian (median process CPU time, float32); "
             "speed-up = loop time / time. "
             + (f"Not installed here, so not measured: {', '.join(missing)}. " if missing else "")
             + (f"Versions: {versions}. " if versions else "")
             + f"Load average before/after: {load} / {loadavg()}.")
    write(args.out, "jacobians", {"rows": rows, "quick": args.quick,
                                  "blas_threads": blas_threads(), "not_installed": missing,
                                  "versions": versions},
          table, "Jacobians and Hessians: vmap against a loop")
    return rows


def _versions():
    """{library: version} of the comparison libraries that are installed."""
    import importlib.metadata
    found = {}
    for name in ("jax", "jaxlib", "torch"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


if __name__ == "__main__":
    main()
