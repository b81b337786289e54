"""How tinyad's CPU kernels are compiled and run: Numba, cached on disk, threads where they pay.

``cache=True`` keeps the machine code between runs (a cache hit costs about 0.16 s, a compile
0.3-1.5 s per kernel and dtype), but Numba refuses to decorate a cached function when it finds
no writable place for the cache: first ``__pycache__`` beside the source, then the user's cache
folder. A read-only install meets that, so the check below runs once, the way Numba's own does,
and falls back to ``numba.config.CACHE_DIR`` (what ``NUMBA_CACHE_DIR`` sets) in the user's or the
temp folder (then every cached Numba function of the process goes there); with nowhere writable
at all, kernels are simply not cached.

Waking threads costs: Numba's default pool is OpenMP's, whose idle workers spin (busy-wait) after
each parallel region. In a training step that alternates ``x @ W`` (BLAS) with fused kernels that
measured 10x slower on 2 cores: 28 ms per step against NumPy's 2.8 (two 64x1024 layers; the same
with OPENBLAS_NUM_THREADS=1). With idle workers asleep at once (``OMP_WAIT_POLICY=PASSIVE``) the
step took 2.7 ms, so, unless the user set it, that variable is set here, before Numba starts its
pool (it has no effect once OpenMP runs; BLAS settings are left alone). A sleeping worker takes
50-100 us to wake, more than a small kernel's whole run: ``launch`` runs work under
PARALLEL_MIN elements on the calling thread alone (1M-element float32 gelu: 0.57 ms on 2
threads, 0.97 on one; 64K elements: 0.097 ms on 2, 0.064 on one).

Numba checks a cached kernel against its own source file only, but the kernels inline the
definitions of activations.py, xent.py and cpu_math.py: ``cached`` keeps, beside each kernel's
cache index, a fingerprint of every source file of this package, and empties that index when
the fingerprint changes (an edited definition would otherwise run from stale machine code).

Never plain ``fastmath=True``: its ``nnan`` flag makes NaN checks (and NaN propagation)
undefined. A kernel that wants reassociation or fused multiply-adds names just those flags.
"""
import glob
import hashlib
import os
import tempfile

import numba

IN_TREE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
FALLBACKS = (os.path.join(os.path.expanduser("~"), ".cache", "tinyad-numba"),
             os.path.join(tempfile.gettempdir(), "tinyad-numba"))


def writable(path):
    """Can a file be created in `path` (made if missing)? Numba's own test for a cache folder."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def cache_location(in_tree=IN_TREE, fallbacks=FALLBACKS):
    """Make sure Numba has somewhere to cache; False when there is nowhere at all."""
    if numba.config.CACHE_DIR or writable(in_tree):
        return True
    for path in fallbacks:
        if writable(path):
            numba.config.CACHE_DIR = path
            return True
    return False


def fingerprint(folder=os.path.dirname(os.path.abspath(__file__))):
    """A hash of every .py file of `folder`: what the kernels' machine code was compiled from."""
    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(folder, "*.py"))):
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def cached(dispatcher, sources=None):
    """`dispatcher`, its on-disk cache emptied first if it was compiled from other sources."""
    try:
        cache, index = dispatcher._cache, dispatcher._cache._cache_file._index_path
    except AttributeError:                    # not cached, or a Numba without these internals
        return dispatcher
    stamp = index + ".sources"
    sources = sources or SOURCES
    try:
        with open(stamp) as f:
            fresh = f.read() == sources
    except OSError:
        fresh = False
    if not fresh:
        cache.flush()
        try:
            with open(stamp, "w") as f:
                f.write(sources)
        except OSError:
            pass
    return dispatcher


CACHE = cache_location()
SOURCES = fingerprint()
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
PARALLEL_MIN = 1 << 17


def kernel(fn=None, **options):
    """A parallel kernel: ``prange`` loops are split across threads (NUMBA_NUM_THREADS).

    ``@kernel`` or ``@kernel(fastmath={...})``: extra options go to ``numba.njit``.
    """
    if fn is None:
        return lambda f: kernel(f, **options)
    return cached(numba.njit(parallel=True, cache=CACHE, **options)(fn))


def serial(fn):
    """A single-threaded kernel, cached: for loops whose threads would not pay, or whose caller
    has set the thread count (the benchmarks' one-thread runs)."""
    return cached(numba.njit(cache=CACHE)(fn))


def inline(fn=None, **options):
    """A helper inlined into each kernel that calls it (so it needs no cache of its own)."""
    if fn is None:
        return lambda f: inline(f, **options)
    return numba.njit(inline="always", **options)(fn)


def launch(kernel, size, *args):
    """``kernel(*args)``, on the calling thread alone when `size` (elements of work) is small."""
    threads = numba.get_num_threads()
    if size >= PARALLEL_MIN or threads == 1:
        return kernel(*args)
    numba.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(threads)
