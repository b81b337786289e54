"""The pool of big result arrays (tinyad.kernels.buffers): memory reused only once nothing refers
to it, small arrays untouched, bounded, and safe from several threads."""
import threading

import numpy as np
import pytest

from tinyad.kernels import buffers

BIG = (512, 1024)                                   # 2 MB of float32


@pytest.fixture(autouse=True)
def empty_pool(monkeypatch):
    monkeypatch.setattr(buffers, "_pool", [])


def test_memory_comes_back_only_when_every_view_is_gone():
    a = buffers.empty(BIG, np.float32)
    a.fill(1)
    view = a.T[::2]
    del a
    b = buffers.empty(BIG, np.float32)              # `view` still holds the first buffer
    assert not np.shares_memory(b, view) and buffers.held()[0] == 2
    assert np.all(view == 1)
    address = view.__array_interface__["data"][0]
    del view
    c = buffers.empty((1024, 512), np.float32)      # same size, other shape: the freed buffer
    assert c.__array_interface__["data"][0] == address and buffers.held()[0] == 2
    d = buffers.empty((256, 1024), np.float64)      # same bytes, other dtype
    assert d.dtype == np.float64 and d.shape == (256, 1024)


def test_small_arrays_and_other_sizes_are_plain():
    small = buffers.empty((10, 10), np.float32)
    assert small.base is None and buffers.held() == (0, 0)
    a, b = buffers.empty(BIG, np.float32), buffers.empty((1024, 1024), np.float32)
    assert not np.shares_memory(a, b) and buffers.held() == (2, 6 << 20)


def test_the_pool_is_bounded(monkeypatch):
    monkeypatch.setattr(buffers, "SLOTS", 3)
    kept = [buffers.empty(BIG, np.float32) for _ in range(5)]
    assert buffers.held()[0] == 3
    monkeypatch.setattr(buffers, "MAX_BYTES", 4 << 20)
    buffers.empty(BIG, np.float32)
    assert buffers.held()[1] <= 4 << 20
    assert all(k.shape == BIG for k in kept)        # arrays that left the pool stay valid


def test_threads_never_share_a_buffer():
    seen, errors = [], []

    def work(k):
        for _ in range(200):
            a = buffers.empty(BIG, np.float32)
            a.fill(k)
            seen.append(a.__array_interface__["data"][0])
            if not np.all(a == k):
                errors.append(k)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(seen)) <= 8
