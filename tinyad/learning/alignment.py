"""How well does a rule's update direction point along the true gradient?

    cos(g_rule, ∇L) = <g_rule, ∇L> / (|g_rule| |∇L|)          per parameter tensor

1 is the gradient's direction, 0 is orthogonal, below 0 goes uphill. A forward gradient's single
draw is noisy (cosine about 1/sqrt(n) for n parameters), but it is unbiased: the mean over many
draws approaches the gradient, which ``draws=`` shows.
"""
import numpy as np

from .backprop import Backprop


def alignment(rule, model, loss_fn, x, y, draws=1, reference=None):
    """{parameter name: cosine between the rule's direction (mean of `draws`) and the gradient}
    (the direction of `reference`, default ``Backprop()``: ``LocalLosses(Backprop())`` for a
    network trained on local losses). The parameters' ``.grad`` are left as they were."""
    named = list(model.named_parameters())
    saved = [p.grad for _, p in named]
    try:
        true = direction(reference or Backprop(), model, loss_fn, x, y)
        mean = sum(direction(rule, model, loss_fn, x, y) for _ in range(draws)) / draws
    finally:
        for (_, p), g in zip(named, saved):
            p.grad = g
    return {name: cosine(a, b) for (name, _), a, b in zip(named, mean, true)}


def direction(rule, model, loss_fn, x, y):
    """The rule's update direction as one object array of per-parameter NumPy arrays."""
    params = [p for _, p in model.named_parameters()]
    for p in params:
        p.grad = None
    rule.update_direction(model, loss_fn, x, y)
    out = np.empty(len(params), dtype=object)
    out[:] = [p.grad.numpy().astype(np.float64) if p.grad is not None
              else np.zeros(p.shape) for p in params]
    return out


def cosine(a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(np.sum(a * b) / (na * nb)) if na > 0 and nb > 0 else 0.0
