"""Learning rules: several ways to get an update direction, one interface (rule.py).

    loss = rule.update_direction(model, loss_fn, x, y)   # accumulates a direction into each p.grad

so ``opt.zero_grad(); rule.update_direction(...); opt.step()`` trains with any of them
(``rule.backward`` is the same method under its first name).

    Backprop             the tape (exact gradient)
    ManualBackprop       a hand-written backward network with transposed weights (exact)
    ForwardGradient      one forward-mode pass along a random direction (unbiased estimate)
    FeedbackAlignment    backprop's chain with fixed random feedback weights
    DFA                  the output error sent straight to each layer by fixed random matrices
    LocalLosses          any of them block by block on a LocalNet, each block with its own loss

``training`` runs the loop itself: ``fit`` (epochs of mini-batches with any rule and optimizer),
``accuracy`` and ``step_memory``.
"""
from . import training
from .alignment import alignment, cosine, direction
from .backprop import Backprop, ManualBackprop
from .feedback import DFA, FeedbackAlignment
from .forward_gradient import ForwardGradient
from .local import LocalLosses, LocalNet
from .rule import LearningRule
