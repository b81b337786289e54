"""Adam and AdamW, exactly as PyTorch's ``torch.optim.Adam`` / ``AdamW``. At step t (from 1):

    g = grad + lambda·p                      (Adam's weight decay: an L2 term in the gradient)
    p = p·(1 - lr·lambda)                    (AdamW's instead: decoupled from the gradient)
    m = beta1·m + (1 - beta1)·g              first-moment estimate   (m_0 = 0)
    v = beta2·v + (1 - beta2)·g²             second-moment estimate  (v_0 = 0)
    m̂ = m / (1 - beta1^t),   v̂ = v / (1 - beta2^t)                  bias corrections
    p = p - lr·m̂ / (sqrt(v̂) + eps)

The last line is computed as PyTorch does, ``p - (lr / (1 - beta1^t))·m / (sqrt(v) / sqrt(1 -
beta2^t) + eps)``, which is the same number.
"""
import math

from .. import backend
from .optimizer import Optimizer


class Adam(Optimizer):
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        name = type(self).__name__
        if not lr >= 0 or not eps >= 0 or not weight_decay >= 0:
            raise ValueError(f"{name}: lr, eps and weight_decay must be >= 0, got {lr}, {eps}, "
                             f"{weight_decay}")
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def update(self, p, g, state, group):
        lr, (beta1, beta2), eps, wd = (group["lr"], group["betas"], group["eps"],
                                       group["weight_decay"])
        xp = backend.xp_of(p)
        t = state.get("step", 0) + 1
        if wd and self.decoupled:
            p = p * (1 - lr * wd)
        elif wd:
            g = g + wd * p
        m = beta1 * state["exp_avg"] + (1 - beta1) * g if t > 1 else (1 - beta1) * g
        v = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g if t > 1 else (1 - beta2) * g * g
        denom = xp.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
        new_p = p - (lr / (1 - beta1 ** t)) * m / denom
        return new_p, {"step": t, "exp_avg": m, "exp_avg_sq": v}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): p shrinks by lr·lambda each step,
    whatever the gradient."""
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
