"""Optimizers, learning-rate schedules and gradient clipping, with PyTorch's formulas:

    opt = optim.Adam(model.parameters(), lr=1e-3)
    for xb, yb in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()

SGD (sgd.py), Adam and AdamW (adam.py: amsgrad, maximize), RMSprop (rmsprop.py), Adagrad
(adagrad.py); schedules in schedule.py, clipping in clip.py. Updates run on the raw arrays (no
tape), keep each parameter's dtype, and are all-or-nothing (optimizer.py).
"""
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .schedule import (CosineAnnealingLR, ExponentialLR, LinearLR, LRScheduler, SequentialLR,
                       StepLR)
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LRScheduler",
           "ExponentialLR", "StepLR", "CosineAnnealingLR", "LinearLR", "SequentialLR",
           "clip_grad_norm_"]
