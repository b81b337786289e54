"""Adam and AdamW, exactly as PyTorch's ``torch.optim.Adam`` / ``AdamW``. At step t (from 1):

    g = -grad if maximize else grad
    g = g + lambda·p                         (Adam's weight decay: an L2 term in the gradient)
    p = p·(1 - lr·lambda)                    (AdamW's instead: decoupled from the gradient)
    m = beta1·m + (1 - beta1)·g              first-moment estimate   (m_0 = 0)
    v = beta2·v + (1 - beta2)·g²             second-moment estimate  (v_0 = 0)
    v_max = max(v_max, v)                    amsgrad only: the largest v so far, used for v below
    m̂ = m / (1 - beta1^t),   v̂ = v / (1 - beta2^t)                  bias corrections
    p = p - lr·m̂ / (sqrt(v̂) + eps)

The last line is computed as PyTorch does, ``p - (lr / (1 - beta1^t))·m / (sqrt(v) / sqrt(1 -
beta2^t) + eps)``, which is the same number; amsgrad keeps the maximum of the uncorrected v (state
``max_exp_avg_sq``), as PyTorch's code does. AdamW is Adam with ``decoupled_weight_decay=True``
(PyTorch's flag of that name), and a default weight decay of 0.01.
"""
import math

from .. import backend
from .optimizer import Optimizer, non_negative


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        name = type(self).__name__
        non_negative(name, lr=lr, eps=eps, weight_decay=weight_decay)
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def update(self, p, g, state, group):
        lr, (beta1, beta2), eps, wd = (group["lr"], group["betas"], group["eps"],
                                       group["weight_decay"])
        xp = backend.xp_of(p)
        t = state.get("step", 0) + 1
        if wd and group["decoupled_weight_decay"]:
            p = p * (1 - lr * wd)
        elif wd:
            g = g + wd * p
        m = beta1 * state["exp_avg"] + (1 - beta1) * g if t > 1 else (1 - beta1) * g
        v = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g if t > 1 else (1 - beta2) * g * g
        new_state = {"step": t, "exp_avg": m, "exp_avg_sq": v}
        if group["amsgrad"]:
            previous = state.get("max_exp_avg_sq")
            v = new_state["max_exp_avg_sq"] = v if previous is None else xp.maximum(previous, v)
        denom = xp.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
        return p - (lr / (1 - beta1 ** t)) * m / denom, new_state


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): p shrinks by lr·lambda each step,
    whatever the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
