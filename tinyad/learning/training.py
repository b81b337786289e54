"""Training with any learning rule: the loop, the test accuracy, and the memory of one step.

    run = fit(rule, model, opt, DataLoader(x, y, 64, shuffle=True, seed=0), epochs=3,
              evaluate=lambda m: {"test_acc": accuracy(m, x_test, y_test)})

runs, per mini-batch, ``opt.zero_grad(); rule.update_direction(model, loss_fn, x, y); opt.step()``
and after each epoch ``schedule.step()`` and ``evaluate(model)``. It returns the per-step losses,
the training seconds up to each step (the steps alone: evaluation is not counted) and one record
per epoch. ``tinyad compare`` is this loop run once per rule.

Devices: every batch's x is put on the device of the model's parameters (``device_of``) before
its step (the loss moves the labels where the logits are); a loader on that device already
(``DataLoader(..., device="cuda")``, which moves the data set once) makes that free, a loader on
the host copies each batch over.
"""
import time
import tracemalloc

import numpy as np

from .. import backend, no_grad, tensor
from ..nn import functional as F


def device_of(model):
    """Where `model` computes: the device of its first parameter ('cpu' when it has none)."""
    return next((p.device for p in model.parameters()), "cpu")


def fit(rule, model, optimizer, loader, epochs, loss_fn=F.cross_entropy, schedule=None,
        evaluate=None, on_epoch=None):
    """Train `model` with `rule` and `optimizer` for `epochs` passes over `loader` (mini-batches
    (x, y) of arrays; x is put on the model's device). ``evaluate(model) -> dict`` is merged into
    each epoch's record; ``on_epoch(record)`` sees each record as it is made (for progress lines).

    Returns ``{"losses": [per step], "seconds": [training seconds up to each step],
    "history": [{"epoch", "train_loss" (mean over the epoch), "ms_per_step", ...}]}``."""
    losses, clock, history = [], [], []
    seconds, device = 0.0, device_of(model)
    for epoch in range(1, epochs + 1):
        first = len(losses)
        for xb, yb in loader:
            start = time.perf_counter()
            optimizer.zero_grad()
            loss = rule.update_direction(model, loss_fn, tensor(xb, device=device), yb)
            optimizer.step()
            seconds += time.perf_counter() - start
            losses.append(loss)
            clock.append(seconds)
        if schedule is not None:
            schedule.step()
        record = {"epoch": epoch, "train_loss": float(np.mean(losses[first:])),
                  "ms_per_step": 1e3 * seconds / max(len(losses), 1)}
        record.update(evaluate(model) if evaluate else {})
        history.append(record)
        if on_epoch:
            on_epoch(record)
    return {"losses": losses, "seconds": clock, "history": history}


def accuracy(model, x, y, batch=1000):
    """The fraction of rows of `x` whose largest logit is at their label in `y` (no tape),
    computed on the model's device: one count read back per `batch` rows."""
    correct, device = 0, device_of(model)
    with no_grad():
        for i in range(0, len(x), batch):
            logits = model(tensor(x[i:i + batch], device=device)).data
            correct += int((logits.argmax(1) == backend.asarray(y[i:i + batch], device)).sum())
    return correct / len(x)


def step_memory(rule, model, x, y, loss_fn=F.cross_entropy, steps=3):
    """MiB allocated at the peak of one step of `rule` beyond what was held before it, measured
    on the last of `steps` steps, each from ``.grad = None``, on the model's device: on the CPU
    by tracemalloc (which sees NumPy's buffers); on the GPU by CuPy's memory pool (see
    ``_DeviceMemory``). The parameters' ``.grad`` are left as that step wrote them."""
    x = tensor(x, device=device_of(model))
    with (_DeviceMemory() if x.device == "cuda" else _HostMemory()) as memory:
        for _ in range(steps):
            for p in model.parameters():
                p.grad = None
            memory.reset()
            rule.update_direction(model, loss_fn, x, y)
        return memory.peak() / 2**20


class _HostMemory:
    """Bytes traced by tracemalloc at their peak since ``reset``."""

    def __enter__(self):
        tracemalloc.start()
        return self

    def __exit__(self, *exc):
        tracemalloc.stop()

    def reset(self):
        tracemalloc.reset_peak()

    def peak(self):
        return tracemalloc.get_traced_memory()[1]


class _DeviceMemory:
    """The growth of CuPy's memory pool since ``reset``, which empties it of cached blocks: an
    upper bound of the peak (blocks are rounded up, and a freed block is reused only by an
    allocation it fits). Read after a step that returned a float: its work is done."""

    def __enter__(self):
        self.pool = backend.cupy().get_default_memory_pool()
        return self

    def __exit__(self, *exc):
        pass

    def reset(self):
        self.pool.free_all_blocks()
        self.start = self.pool.total_bytes()

    def peak(self):
        return self.pool.total_bytes() - self.start
