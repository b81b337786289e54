"""Optimizers, learning-rate schedules and gradient clipping, with PyTorch's formulas:

    opt = optim.Adam(model.parameters(), lr=1e-3)
    for xb, yb in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()

Updates run on the raw arrays (no tape), keep each parameter's dtype, and are all-or-nothing.
"""
from .adam import Adam, AdamW
from .clip import clip_grad_norm_
from .optimizer import Optimizer
from .schedule import ExponentialLR, LRScheduler, StepLR
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "LRScheduler", "ExponentialLR", "StepLR",
           "clip_grad_norm_"]
