"""Big result arrays that keep their memory: a small pool, so a training step does not page in
the same megabytes every time.

Why. glibc's malloc serves a large block from the top of its heap (or from a fresh mapping above
its mmap threshold) and, when a ``free`` leaves more than its trim threshold unused at the top,
hands that memory back to the kernel; the next step faults it in again, one zero-filled 4 KB page
at a time. In the paper's CNN (batch 64) that cost 26 ms of system time a backprop step on top of
about 340 ms of arithmetic, even after the convolutions stopped building their 115 MB window
matrices (which had cost 275 ms: bench/results/conv.md). ``mallopt`` can tell glibc to keep the
memory, but that is the user's process-wide setting, not the library's to change. Instead the
kernels that produce the step's largest arrays (convolution outputs and input gradients, pooling
results and gradients) take their memory from here: ``empty(shape, dtype)`` is ``np.empty`` for
arrays under MIN_BYTES and otherwise a view of a pooled byte buffer, reused once nothing refers
to it any more (its reference count says so: every view of a view keeps the buffer as its
``base``). The pool holds at most SLOTS buffers and MAX_BYTES; beyond that the least recently
handed out leaves it (its memory is then freed as usual when its last view goes).
"""
import sys
import threading

import numpy as np

MIN_BYTES = 1 << 20
MAX_BYTES = 512 << 20
SLOTS = 64
_lock = threading.Lock()
_pool = []           # flat uint8 buffers, least recently handed out first


def _unused(i):
    """Nothing but the pool refers to _pool[i] (getrefcount counts its own argument too)."""
    return sys.getrefcount(_pool[i]) == 2


def empty(shape, dtype):
    """An uninitialised array of `shape` and `dtype`, from the pool when it is large."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    with _lock:
        free = next((i for i in range(len(_pool)) if _pool[i].nbytes == nbytes and _unused(i)),
                    None)
        _pool.append(np.empty(nbytes, np.uint8) if free is None else _pool.pop(free))
        out = _pool[-1].view(dtype).reshape(shape)
        while len(_pool) > SLOTS or sum(b.nbytes for b in _pool) > MAX_BYTES:
            _pool.pop(0)
        return out


def held():
    """(buffers in the pool, bytes they hold)."""
    with _lock:
        return len(_pool), sum(b.nbytes for b in _pool)
