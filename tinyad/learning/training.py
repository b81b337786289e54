"""Training with any learning rule: the loop, the test accuracy, and the memory of one step.

    run = fit(rule, model, opt, DataLoader(x, y, 64, shuffle=True, seed=0), epochs=3,
              evaluate=lambda m: {"test_acc": accuracy(m, x_test, y_test)})

runs, per mini-batch, ``opt.zero_grad(); rule.update_direction(model, loss_fn, x, y); opt.step()``
and after each epoch ``schedule.step()`` and ``evaluate(model)``. It returns the per-step losses,
the training seconds up to each step (the steps alone: evaluation is not counted) and one record
per epoch. ``tinyad compare`` is this loop run once per rule.
"""
import time
import tracemalloc

import numpy as np

from .. import no_grad, tensor
from ..nn import functional as F


def fit(rule, model, optimizer, loader, epochs, loss_fn=F.cross_entropy, schedule=None,
        evaluate=None, on_epoch=None):
    """Train `model` with `rule` and `optimizer` for `epochs` passes over `loader` (NumPy
    mini-batches (x, y)). ``evaluate(model) -> dict`` is merged into each epoch's record;
    ``on_epoch(record)`` sees each record as it is made (for progress lines).

    Returns ``{"losses": [per step], "seconds": [training seconds up to each step],
    "history": [{"epoch", "train_loss" (mean over the epoch), "ms_per_step", ...}]}``."""
    losses, clock, history = [], [], []
    seconds = 0.0
    for epoch in range(1, epochs + 1):
        first = len(losses)
        for xb, yb in loader:
            start = time.perf_counter()
            optimizer.zero_grad()
            loss = rule.update_direction(model, loss_fn, tensor(xb), yb)
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
    """The fraction of rows of `x` whose largest logit is at their label in `y` (no tape)."""
    correct = 0
    with no_grad():
        for i in range(0, len(x), batch):
            logits = model(tensor(x[i:i + batch])).numpy()
            correct += int((logits.argmax(1) == y[i:i + batch]).sum())
    return correct / len(x)


def step_memory(rule, model, x, y, loss_fn=F.cross_entropy, steps=3):
    """MiB allocated at the peak of one step of `rule` (tracemalloc, which sees NumPy's
    buffers), measured on the last of `steps` steps, each from ``.grad = None``. The parameters'
    ``.grad`` are left as that step wrote them."""
    tracemalloc.start()
    try:
        for _ in range(steps):
            for p in model.parameters():
                p.grad = None
            tracemalloc.reset_peak()
            rule.update_direction(model, loss_fn, tensor(x), y)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
