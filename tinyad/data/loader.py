"""DataLoader: cut a data set into mini-batches, in a fresh shuffled order every epoch.

    loader = DataLoader(x, y, batch_size=128, shuffle=True, seed=0)
    for epoch in range(10):
        for xb, yb in loader:      # each ``iter(loader)`` is one epoch
            ...

Batches are plain arrays (the training code wraps them in tensors) on the device of the data:
NumPy arrays on the CPU, CuPy arrays on the GPU, where the data set is then cut on the device
with no copy from the host per batch (the shuffled order is copied over once per epoch).
``device="cuda"`` moves host data to the GPU once, at construction. With ``shuffle=True``
each epoch draws a new permutation from one ``numpy.random.default_rng(seed)`` stream, so the
sequence of epochs is the same on every run with the same seed. ``state_dict()`` captures that
stream and the epoch counter; loading it into a fresh loader makes the next epoch come out in
exactly the order the original loader would have produced, which is what a checkpoint needs for a
bit-identical resume.
"""
import copy

import importlib

import numpy as np


class DataLoader:
    """Iterate over ``(x[i:j], y[i:j])`` mini-batches of ``batch_size`` samples.

    ``shuffle``: visit the samples in a new random order each epoch (seeded by ``seed``).
    ``drop_last``: skip the final batch when it would be smaller than ``batch_size``.
    ``device``: "cpu" or "cuda" to move the data there once; by default x's device (y follows).
    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, x, y, batch_size, shuffle=False, seed=None, drop_last=False, device=None):
        x = _on(x, device)
        y = _on(y, _device(x))
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            raise ValueError(f"x and y need the same number of samples (first dimension), got "
                             f"x.shape={x.shape} and y.shape={y.shape}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.rng = np.random.default_rng(seed)
        self.epoch = 0  # number of epochs started so far

    def __len__(self):
        full, rest = divmod(len(self.x), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        # the order is drawn now, not at the first ``next``, so state_dict() after iter() is exact
        order = self.rng.permutation(len(self.x)) if self.shuffle else None
        if order is not None:
            order = _on(order, _device(self.x))
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order):
        for b in range(len(self)):
            part = slice(b * self.batch_size, (b + 1) * self.batch_size)
            if order is None:
                yield self.x[part], self.y[part]
            else:
                yield self.x[order[part]], self.y[order[part]]

    def state_dict(self):
        """The shuffling state: ``{"epoch": int, "rng": <bit generator state, a dict>}``.

        Save it between epochs; plain Python ints and strings only."""
        return {"epoch": self.epoch, "rng": copy.deepcopy(self.rng.bit_generator.state)}

    def load_state_dict(self, state):
        """Restore a ``state_dict()`` so the next ``iter()`` gives the same order as it did."""
        self.epoch = int(state["epoch"])
        self.rng.bit_generator.state = copy.deepcopy(state["rng"])


def _device(a):
    """"cuda" for a CuPy array, else "cpu" (the data package imports nothing from tinyad)."""
    return "cuda" if type(a).__module__.startswith("cupy") else "cpu"


def _on(a, device=None):
    """`a` (an array of either device, a list) as an array on `device` (default: where it is)."""
    if (device or _device(a)) == "cuda":
        return importlib.import_module("cupy").asarray(a)
    return a.get() if _device(a) == "cuda" else np.asarray(a)
