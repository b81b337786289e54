"""Gradient clipping by the global norm, as PyTorch's ``clip_grad_norm_``:

    total = (sum over every gradient entry of |g|^p)^(1/p)         (p = 2: the L2 norm of all grads
                                                                    as one vector; p = inf: max |g|)
    if total > max_norm:  g = g · max_norm / (total + 1e-6)        for every gradient

The direction of the update is kept; only its length is capped.
"""
import math

import numpy as np

from ..tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Rescale the ``.grad`` of `parameters` in place (a Tensor or an iterable of them) so their
    global norm is at most `max_norm`; returns the norm before clipping, a 0-d Tensor."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    params = [p for p in params if p.grad is not None]
    if not params:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    grads = [np.abs(p.grad.numpy().astype(np.float64)) for p in params]
    order = float(norm_type)
    if math.isinf(order):
        total = max(float(g.max(initial=0.0)) for g in grads)
    else:
        total = sum(float((g ** order).sum()) for g in grads) ** (1 / order)
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in params:
            g = p.grad.data
            p.grad = Tensor((g * coef).astype(g.dtype, copy=False))
    return Tensor(np.asarray(total, dtype=params[0].grad.dtype))
