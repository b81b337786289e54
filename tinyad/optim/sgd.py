"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay, exactly as
PyTorch's ``torch.optim.SGD`` (mu the momentum, tau the dampening, lambda the weight decay):

    g = grad + lambda·p
    b = g                          on the first step
    b = mu·b + (1 - tau)·g         afterwards               (the momentum buffer)
    g = g + mu·b  (nesterov)   or   g = b
    p = p - lr·g

With momentum 0 it is plain ``p = p - lr·(grad + lambda·p)``; ``maximize=True`` ascends (grad
negated first).
"""
from .optimizer import Optimizer, non_negative


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        non_negative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def update(self, p, g, state, group):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd:
            g = g + wd * p
        if mu:
            b = state.get("momentum_buffer")
            b = g.copy() if b is None else mu * b + (1 - group["dampening"]) * g
            state["momentum_buffer"] = b
            g = g + mu * b if group["nesterov"] else b
        return p - lr * g, state
