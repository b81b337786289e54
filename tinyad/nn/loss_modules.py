"""The losses as modules, PyTorch's ``nn.CrossEntropyLoss`` and kin: each holds its options and
calls its function in losses.py (the formulas and reductions are documented there).

    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    loss = loss_fn(model(x), y)

Class weights and ``pos_weight`` are buffers, so ``loss_fn.to("cuda")`` moves them.
"""
from .. import ops
from . import losses
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        losses._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else ops.lift(weight))


class CrossEntropyLoss(_WeightedLoss):
    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return losses.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                                    self.label_smoothing)


class NLLLoss(_WeightedLoss):
    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return losses.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_WeightedLoss):
    def forward(self, input, target):
        return losses.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else ops.lift(pos_weight))

    def forward(self, input, target):
        return losses.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                       self.pos_weight)


class L1Loss(_Loss):
    def forward(self, input, target):
        return losses.l1_loss(input, target, self.reduction)


class MSELoss(_Loss):
    def forward(self, input, target):
        return losses.mse_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return losses.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return losses.huber_loss(input, target, self.reduction, self.delta)
