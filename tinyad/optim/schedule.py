"""Learning-rate schedules: call ``scheduler.step()`` once per epoch, after the optimizer's steps.

    ExponentialLR(opt, gamma)             lr_e = lr_0 · gamma^e
    StepLR(opt, step_size, gamma)         lr_e = lr_0 · gamma^(e // step_size)

As in PyTorch the new rate is computed from the current one (``lr · gamma`` when it changes) and
written into every param group of the optimizer; ``get_last_lr()`` lists the rates now in force.
"""


class LRScheduler:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.last_epoch = 0
        self._last_lr = list(self.base_lrs)

    def factor(self):
        """What this epoch multiplies the rate by."""
        raise NotImplementedError

    def step(self):
        self.last_epoch += 1
        f = self.factor()
        for group in self.optimizer.param_groups:
            if f != 1:
                group["lr"] = group["lr"] * f
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self):
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        vars(self).update(state_dict)


class ExponentialLR(LRScheduler):
    def __init__(self, optimizer, gamma):
        self.gamma = gamma
        super().__init__(optimizer)

    def factor(self):
        return self.gamma


class StepLR(LRScheduler):
    def __init__(self, optimizer, step_size, gamma=0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def factor(self):
        return self.gamma if self.last_epoch % self.step_size == 0 else 1
