"""Adagrad, exactly as PyTorch's ``torch.optim.Adagrad``. At step t (from 1), with lambda the
weight decay and eta the learning-rate decay:

    lr_t = lr / (1 + (t - 1)·eta)
    g = grad + lambda·p
    s = s + g²                           (state "sum", starting at initial_accumulator_value)
    p = p - lr_t·g / (sqrt(s) + eps)

Each coordinate's step shrinks with the squares of its past gradients.
"""
from .. import backend
from .optimizer import Optimizer, non_negative


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        non_negative("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                     initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def update(self, p, g, state, group):
        xp = backend.xp_of(p)
        t = state.get("step", 0) + 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        start = state.get("sum")
        if start is None:
            start = xp.full_like(p, group["initial_accumulator_value"])
        s = start + g * g
        lr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        return p - lr * g / (xp.sqrt(s) + group["eps"]), {"step": t, "sum": s}
