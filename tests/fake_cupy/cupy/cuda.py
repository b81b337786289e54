"""``cupy.cuda`` on the fake: one device, and streams and events that keep CuPy's interface.

The fake runs every kernel at once on the host, so there is nothing to order; what matters is
that code waiting for the device says so: ``synchronize()`` on a stream, an event or the device
is a host sync and is counted (fake.py).
"""
import time
import types

from . import fake


class CUDARuntimeError(RuntimeError):
    pass


def _device_properties(device=0):
    return {"name": b"fake CuPy device (NumPy)", "totalGlobalMem": 16 << 30,
            "multiProcessorCount": 1, "major": 9, "minor": 0, "clockRate": 0}


def _synchronize():
    fake.record("sync")


runtime = types.SimpleNamespace(
    CUDARuntimeError=CUDARuntimeError, getDeviceCount=lambda: 1, getDevice=lambda: 0,
    getDeviceProperties=_device_properties, runtimeGetVersion=lambda: 13000,
    driverGetVersion=lambda: 13000, deviceSynchronize=_synchronize, is_hip=False)


def is_available():
    return True


class MemoryPointer:
    def __init__(self, ptr):
        self.ptr, self.device_id = ptr, 0


class Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)

    compute_capability = property(lambda self: "90")

    def synchronize(self):
        _synchronize()

    def use(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    """A CUDA stream; ``with stream:`` makes it the current one."""
    _current = []

    def __init__(self, null=False, non_blocking=False, ptr=None):
        self.ptr = 0 if null else (ptr or id(self))
        self.non_blocking = non_blocking

    def synchronize(self):
        _synchronize()

    done = property(lambda self: True)

    def use(self):
        Stream._current[-1:] = [self]
        return self

    def __enter__(self):
        Stream._current.append(self)
        return self

    def __exit__(self, *exc):
        Stream._current.pop()
        return False


Stream.null = Stream(null=True)


def get_current_stream(device_id=None):
    return Stream._current[-1] if Stream._current else Stream.null


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self._time = None

    def record(self, stream=None):
        self._time = time.perf_counter()

    def synchronize(self):
        _synchronize()

    done = property(lambda self: True)


def get_elapsed_time(start_event, end_event):
    """Milliseconds between two recorded events."""
    return (end_event._time - start_event._time) * 1e3
