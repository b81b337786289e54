"""Gradient clipping by the global norm, as PyTorch's ``clip_grad_norm_``:

    total = (sum over every gradient entry of |g|^p)^(1/p)         (p = 2: the L2 norm of all grads
                                                                    as one vector; p = inf: max |g|)
    if total > max_norm:  g = g · max_norm / (total + 1e-6)        for every gradient

The direction of the update is kept; only its length is capped. As in PyTorch the factor is
min(1, max_norm / (total + 1e-6)), applied to every gradient without asking whether it is below
1: the norm is never read back to the host, so on a GPU clipping costs no host sync.
"""
import math

import numpy as np

from ..backend import xp_of
from ..tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Rescale the ``.grad`` of `parameters` in place (a Tensor or an iterable of them) so their
    global norm is at most `max_norm`; returns the norm before clipping, a 0-d Tensor on the
    gradients' device (computed in float64, returned in their dtype)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    params = [p for p in params if p.grad is not None]
    if not params:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    xp = xp_of(params[0].grad.data)
    grads = [xp.abs(p.grad.data.astype(np.float64)) for p in params]
    order = float(norm_type)
    if math.isinf(order):
        total = xp.stack([g.max() if g.size else xp.zeros(()) for g in grads]).max()
    else:
        total = xp.stack([(g ** order).sum() for g in grads]).sum() ** (1 / order)
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for p in params:
        g = p.grad.data
        p.grad = Tensor(g * coef.astype(g.dtype))
    return Tensor(total.astype(params[0].grad.dtype))
