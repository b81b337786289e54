"""RMSprop, exactly as PyTorch's ``torch.optim.RMSprop`` (alpha the smoothing constant, mu the
momentum, lambda the weight decay; every state starts at 0):

    g = grad + lambda·p
    v = alpha·v + (1 - alpha)·g²                  square average        (state "square_avg")
    a = alpha·a + (1 - alpha)·g                   centered only         (state "grad_avg")
    d = sqrt(v - a²) + eps   if centered   else   sqrt(v) + eps
    b = mu·b + g / d,   p = p - lr·b              with momentum         (state "momentum_buffer")
    p = p - lr·g / d                              without

eps is added after the square root (TensorFlow adds it inside); centered divides by an estimate
of the gradient's standard deviation instead of its root mean square.
"""
from .. import backend
from .optimizer import Optimizer, non_negative


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        non_negative("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                     momentum=momentum)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def update(self, p, g, state, group):
        lr, alpha, eps, wd, mu = (group["lr"], group["alpha"], group["eps"],
                                  group["weight_decay"], group["momentum"])
        xp = backend.xp_of(p)
        if wd:
            g = g + wd * p
        zeros = xp.zeros_like(p)
        v = alpha * state.get("square_avg", zeros) + (1 - alpha) * g * g
        new_state = {"step": state.get("step", 0) + 1, "square_avg": v}
        if group["centered"]:
            a = new_state["grad_avg"] = alpha * state.get("grad_avg", zeros) + (1 - alpha) * g
            d = xp.sqrt(v - a * a) + eps
        else:
            d = xp.sqrt(v) + eps
        if mu > 0:
            step = new_state["momentum_buffer"] = mu * state.get("momentum_buffer", zeros) + g / d
        else:
            step = g / d
        return p - lr * step, new_state
