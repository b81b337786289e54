"""Run many trials (methods × learning rates × seeds): here, in local processes, or on Ray.

Every finished trial is written at once to ``<folder>/trials/<method>_lr<lr>_seed<seed>.json``
(a temporary file, then a rename: a killed run never leaves half a file), with the spec it ran.
A run into the same folder first reads what is there and runs only the trials whose file is
missing or was made from a different spec: a killed sweep resumes where it stopped.

    local processes   ``workers > 1``: a spawn-started process pool, each trial with the spec's
                      BLAS/Numba threads (``compare`` checks workers × threads <= cores, so the
                      processes do not oversubscribe the machine)
    Ray               ``ray="local"`` starts Ray in this process, ``"auto"`` joins the cluster
                      this machine belongs to, anything else is a cluster address; each trial
                      asks Ray for `threads` CPUs; results come back here and are written here,
                      so the folder fills the same way wherever the trials ran (the workers need
                      tinyad and the data set where they run). ``pip install 'tinyad[cluster]'``.
"""
import json
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .trial import run_trial


class Store:
    """The trials folder: one JSON file per trial, keyed by method, learning rate and seed."""

    def __init__(self, folder):
        self.folder = Path(folder) / "trials"
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, spec):
        return self.folder / f"{spec['method']}_lr{spec['lr']:g}_seed{spec['seed']}.json"

    def get(self, spec):
        """The stored result of `spec`, or None (missing, unreadable, or from another spec)."""
        try:
            result = json.loads(self.path(spec).read_text())
        except (OSError, ValueError):
            return None
        return result if result.get("spec") == spec else None

    def put(self, result):
        path = self.path(result["spec"])
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(result, f, default=float)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


def run_all(specs, folder, workers=1, ray=None, log=print):
    """The result of every spec (in order), running only those the folder does not hold."""
    store = Store(folder)
    todo = [s for s in specs if store.get(s) is None]
    log(f"{len(specs) - len(todo)} of {len(specs)} runs already in {store.folder}; running "
        f"{len(todo)}" + (f" on Ray ({ray})" if ray else f" in {workers} process(es)"
                          if workers > 1 else ""), flush=True)
    if ray:
        _on_ray(todo, ray, store, log)
    elif workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for job in as_completed([pool.submit(run_trial, s) for s in todo]):
                store.put(job.result())
    else:
        for spec in todo:
            store.put(run_trial(spec, log))
    return [store.get(s) for s in specs]


def ray_module():
    """The ``ray`` package, or ImportError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ImportError("--ray needs Ray: pip install 'tinyad[cluster]'") from None
    return ray


def _on_ray(todo, address, store, log):
    ray = ray_module()
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, log_to_driver=False,
                 include_dashboard=False)
    threads = max([s["threads"] for s in todo], default=1)
    remote = ray.remote(num_cpus=threads)(run_trial)
    pending = [remote.remote(spec, _quiet) for spec in todo]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        result = ray.get(done[0])
        store.put(result)
        s = result["spec"]
        log(f"[{s['method']:>11} lr {s['lr']:<7g} seed {s['seed']}] done on Ray: test acc "
            f"{result['test_acc']:6.2%}", flush=True)


def _quiet(*args, **kwargs):
    """A trial's progress lines on a Ray worker: dropped (the driver reports each result)."""
