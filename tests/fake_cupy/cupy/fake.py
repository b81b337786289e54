"""What the fake device records: host syncs and copies between host and device.

CuPy runs asynchronously: the host queues kernels and moves on, and only waits for the device
(a *sync*) when it needs a value back (``float(x)``, ``x.item()``, ``x.get()``, a boolean mask's
result size, ``Stream.synchronize()``...). Copies cross the PCIe bus: host to device (*h2d*:
``cupy.asarray(numpy_array)``, a list or NumPy index array) and device to host (*d2h*: every value
read back, which is also a sync). Each event is counted here with the caller's file and line::

    with cupy.fake.counting() as seen:
        train_step()
    assert seen.syncs <= 2 and seen.h2d == 0, seen.report()

``kernel(name)`` registers a NumPy stand-in for a CUDA kernel (the fake cannot run CUDA C).
"""
import contextlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = (HERE, os.path.dirname(os.path.abspath(contextlib.__file__)))


class Counts:
    """Events seen: ``syncs`` (host waits), ``h2d`` and ``d2h`` (copies) with their bytes, and
    ``events``: (kind, bytes, where) for each, where = the first caller outside the fake."""

    def __init__(self):
        self.syncs = self.h2d = self.d2h = self.h2d_bytes = self.d2h_bytes = 0
        self.events = []

    def add(self, kind, nbytes, where):
        if kind != "h2d":                      # reading a value back waits for the device
            self.syncs += 1
        if kind != "sync":
            setattr(self, kind, getattr(self, kind) + 1)
            setattr(self, kind + "_bytes", getattr(self, kind + "_bytes") + nbytes)
        self.events.append((kind, nbytes, where))

    def report(self):
        """One line per event: what and where (for a failed budget)."""
        return "\n".join(f"{kind:4s} {nbytes:>10d} B  {where}"
                         for kind, nbytes, where in self.events)

    def __repr__(self):
        return (f"Counts(syncs={self.syncs}, h2d={self.h2d} ({self.h2d_bytes} B), "
                f"d2h={self.d2h} ({self.d2h_bytes} B))")


total = Counts()            # since import
_open = []                  # the Counts of every open ``counting()`` block


@contextlib.contextmanager
def counting():
    """Count the events inside the block (blocks may nest; each sees every event)."""
    seen = Counts()
    _open.append(seen)
    try:
        yield seen
    finally:
        _open.remove(seen)


def _where():
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith(SKIP)
                                 or "/numpy/" in frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def record(kind, nbytes=0):
    """Count one event: 'sync' (the host waits), 'h2d' or 'd2h' (a copy of `nbytes`; reading a
    value back also waits, so a 'd2h' is a sync too)."""
    where = _where()
    for seen in (total, *_open):
        seen.add(kind, int(nbytes), where)


# ---- kernels -----------------------------------------------------------------------------------
STANDINS = {}   # kernel name -> NumPy function (see _kernels.py for each kind's signature)


def kernel(name):
    """Register a NumPy stand-in for the CUDA kernel called `name`."""
    def register(fn):
        STANDINS[name] = fn
        return fn
    return register


def standin(name):
    """The stand-in for kernel `name` (tinyad's are loaded on first use), or a clear error."""
    if name not in STANDINS:
        from . import _tinyad_kernels  # noqa: F401  (registers tinyad's kernels)
    if name not in STANDINS:
        raise NotImplementedError(f"the fake CuPy cannot run CUDA C: no NumPy stand-in for kernel "
                                  f"{name!r} (register one with cupy.fake.kernel)")
    return STANDINS[name]
