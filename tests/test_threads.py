"""What interprets an operation (recording, dual levels, observers) is per thread and per asyncio
task, as PyTorch's grad mode is thread-local; blocks left in crossed order leak nothing. Real
threads, switching as often as the interpreter allows."""
import asyncio
import sys
import threading

import numpy as np
import pytest

import tinyad as ad
from tinyad import modes, nn, optim
from tinyad.nn import functional as F


@pytest.fixture
def switch_often():
    """Make the interpreter switch threads every microsecond, so threads interleave mid-step."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(*targets):
    """Run each target in its own thread; re-raise the first exception one of them raised."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as e:          # noqa: BLE001  (handed to the test's thread)
            errors.append(e)
    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


def training_run(seed, steps=25):
    """An MLP trained with SGD on fixed data; returns every step's gradients (NumPy arrays)."""
    nn.init.seed(seed)
    model = nn.MLP([6, 16, 16, 3], dtype=np.float64)
    rng = np.random.default_rng(seed)
    x, y = ad.tensor(rng.standard_normal((32, 6))), rng.integers(0, 3, 32)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def run():
        history = []
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            history.append([p.grad.numpy().copy() for p in model.parameters()])
            opt.step()
        return history
    return run


def test_two_threads_training_and_a_third_in_no_grad_match_one_thread(switch_often):
    reference = {seed: training_run(seed)() for seed in (1, 2)}
    runs = {seed: training_run(seed) for seed in (1, 2)}      # models built in this thread
    results, stop = {}, threading.Event()
    nn.init.seed(3)
    frozen = nn.MLP([6, 16, 3], dtype=np.float64)
    frozen_x = ad.tensor(np.ones((4, 6)))

    def train(seed):
        results[seed] = runs[seed]()

    def infer():
        while not stop.is_set():
            with ad.no_grad():
                out = frozen(frozen_x)
            assert not out.requires_grad

    def trainers():
        try:
            run_threads(lambda: train(1), lambda: train(2))
        finally:
            stop.set()
    run_threads(trainers, infer)
    for seed in (1, 2):
        assert len(results[seed]) == len(reference[seed])
        for got, want in zip(results[seed], reference[seed]):
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


def test_one_threads_no_grad_is_not_another_threads(switch_often):
    inside, done = threading.Event(), threading.Event()

    def hold_no_grad():
        with ad.no_grad():
            inside.set()
            assert done.wait(30)
            assert not ad.is_grad_enabled()

    def record():
        assert inside.wait(30)
        x = ad.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
        done.set()
    run_threads(hold_no_grad, record)
    assert ad.is_grad_enabled()


def test_no_grad_blocks_left_in_crossed_order_leak_nothing():
    a, b = ad.no_grad(), ad.no_grad()
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    assert not ad.is_grad_enabled()                # b is still open
    b.__exit__(None, None, None)
    assert ad.is_grad_enabled()
    x = ad.tensor([1.0], requires_grad=True)
    assert (x * 2).requires_grad

    off, on = ad.no_grad(), ad.enable_grad()
    off.__enter__()
    on.__enter__()
    off.__exit__(None, None, None)
    assert ad.is_grad_enabled()                    # enable_grad is still open
    on.__exit__(None, None, None)
    assert ad.is_grad_enabled()


def test_no_grad_blocks_crossing_between_threads_leak_nothing():
    """Thread 1 enters, thread 2 enters, thread 1 leaves, thread 2 leaves: with one recording
    flag for the process, the last exit restored thread 1's "off" for everybody."""
    steps = [threading.Event() for _ in range(3)]

    def first():
        with ad.no_grad():
            steps[0].set()
            assert steps[1].wait(30)
        steps[2].set()
        assert ad.is_grad_enabled()

    def second():
        assert steps[0].wait(30)
        with ad.no_grad():
            steps[1].set()
            assert steps[2].wait(30)
        assert ad.is_grad_enabled()
    run_threads(first, second)
    assert ad.is_grad_enabled()


def test_a_block_left_in_another_thread_is_an_error():
    block = ad.no_grad()
    run_threads(block.__enter__)
    with pytest.raises(RuntimeError, match="left in a thread or asyncio task other than"):
        block.__exit__(None, None, None)
    assert ad.is_grad_enabled()


def test_no_grad_in_one_asyncio_task_is_not_seen_by_another():
    async def main():
        entered, checked = asyncio.Event(), asyncio.Event()

        async def quiet():
            with ad.no_grad():
                entered.set()
                await checked.wait()                # the other task runs meanwhile
                assert not ad.is_grad_enabled()

        async def loud():
            await entered.wait()
            assert ad.is_grad_enabled()
            assert (ad.tensor([1.0], requires_grad=True) * 2).requires_grad
            checked.set()
        await asyncio.gather(quiet(), loud())
    asyncio.run(main())
    assert ad.is_grad_enabled()


def test_dual_levels_are_per_thread():
    """ad.dual tags with its own thread's innermost level: with one list of open levels for the
    process it took another thread's, and a jvp there lost its tangent."""
    x, v = ad.tensor([2.0], dtype="float64"), ad.tensor([1.0], dtype="float64")
    first_open, second_open, first_done = (threading.Event() for _ in range(3))

    def first():
        with ad.dual_level() as level:
            first_open.set()
            assert second_open.wait(30)            # the other thread's level is newer
            assert ad.dual(x, v)._level == level
            _, t = ad.jvp(lambda x: x * x, (x,), (v,))
            assert t.item() == 4.0
        first_done.set()

    def second():
        assert first_open.wait(30)
        assert ad.dual(x, v)._level == 0           # no level open in this thread
        with ad.dual_level() as level:
            second_open.set()
            assert first_done.wait(30)
            assert ad.dual(x, v)._level == level
    run_threads(first, second)
    assert modes.current().dual_levels == ()


def test_an_observer_sees_its_own_thread_only():
    seen, inside, done = [], threading.Event(), threading.Event()

    def observe(prim, args, params, out):
        seen.append(prim.name)

    def watch():
        with modes.entered("observers", observe):
            inside.set()
            assert done.wait(30)

    def work():
        assert inside.wait(30)
        ad.tensor([1.0]).exp()
        done.set()
    run_threads(watch, work)
    assert seen == []
    with modes.entered("observers", observe):
        ad.tensor([1.0]).exp()
    assert seen == ["exp"]
