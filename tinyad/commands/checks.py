"""What every command checks before it starts working, and how it says no.

A command that finds a problem raises ``UsageError(reason)``; ``tinyad.cli`` prints
``tinyad <command>: error: <reason>`` as one line on stderr and exits with code 2, as argparse does
for a malformed option. Everything a run needs is checked before its first step: the arguments
(the argparse types below), the data, matplotlib when plots are asked for, that the output
folder can be written (``writable_folder``) and that the device answers (``require_device``), so
no run fails after an hour of work.
"""
import argparse
import math
import tempfile
from pathlib import Path

from .. import backend
from ..errors import DeviceError


class UsageError(Exception):
    """Bad arguments or bad input: the reason, one line (newlines are folded into spaces)."""

    def __init__(self, reason):
        super().__init__(" ".join(str(reason).split()))


def _positive(kind):
    """An argparse type: a finite `kind` (int or float) > 0."""
    noun = "an integer" if kind is int else "a number"

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


positive_int = _positive(int)          # sizes, counts: 1, 2, ...
positive_float = _positive(float)      # learning rates: finite and > 0


def at_least(args, least):
    """UsageError for the first option in `least` ({argparse dest: smallest value}) whose value,
    when given, is below it: ``--train-size must be >= 1, got -5``."""
    for dest, smallest in least.items():
        value = getattr(args, dest)
        if value is not None and value < smallest:
            raise UsageError(f"--{dest.replace('_', '-')} must be >= {smallest}, got {value}")


def finite_positive(text):
    """`text` as a float that is finite and > 0, else None."""
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError:
        return None


def writable_folder(path, option="--out"):
    """Create folder `path` (with its parents) and make sure a file can be written in it; a
    UsageError naming `option` and the system's reason otherwise. Returns it as a Path."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as e:
        raise UsageError(f"{option} {path}: cannot write there ({e.strerror or e})") from None
    return path


def require_plots(hint="or pass --no-plots"):
    """matplotlib's pyplot (headless), or a UsageError saying how to get it."""
    from .plotting import pyplot
    try:
        return pyplot()
    except ImportError as e:
        raise UsageError(f"{e} ({hint})") from None


def add_device_argument(p):
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="where tinyad's model and data live: cpu (NumPy) or cuda (CuPy, a GPU)")


def require_device(device):
    """`device` ('cpu' or 'cuda') once it answers: for 'cuda', CuPy imports, finds a CUDA device
    and computes on it (a kernel compiled and run, a value read back); else a UsageError naming
    what is missing."""
    if device == "cpu":
        return device
    try:
        cp = backend.cupy()
    except DeviceError as e:
        raise UsageError(f"--device cuda: {e} ({e.__cause__})") from None
    try:
        count = cp.cuda.runtime.getDeviceCount()
        if count:
            float((cp.arange(3, dtype=cp.float32) * 2).sum())
    except Exception as e:  # noqa: BLE001  (CUDARuntimeError, a compiler error: no device answers)
        raise UsageError(f"--device cuda: no CUDA device answers ({type(e).__name__}: {e})") \
            from None
    if count < 1:
        raise UsageError("--device cuda: CuPy finds no CUDA device")
    return device
