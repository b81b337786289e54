"""Learning-rate schedules: call ``scheduler.step()`` once per epoch, after the optimizer's steps.

    ExponentialLR(opt, gamma)                 lr_e = lr_0 · gamma^e
    StepLR(opt, step_size, gamma)             lr_e = lr_0 · gamma^(e // step_size)
    CosineAnnealingLR(opt, T_max, eta_min)    lr_e = m + (lr_0 - m)·(1 + cos(pi e / T_max)) / 2,
                                              m = eta_min
    LinearLR(opt, start_factor, end_factor, total_iters)
                                              lr_e = lr_0 · (s + (f - s) · min(e, T) / T): a linear
                                              warm-up from s·lr_0 to f·lr_0 over T epochs
    SequentialLR(opt, [sched_a, sched_b], milestones=[m])
                                              sched_a until epoch m, then sched_b from its start

As in PyTorch the rates are computed from the current ones (its "chainable" forms: ``lr · gamma``
when it changes; cosine as the ratio of consecutive cosine terms), so schedules can be stacked;
building a scheduler sets epoch 0's rate (LinearLR multiplies by start_factor at once), and
``get_last_lr()`` lists the rates now in force. lr_0 is each group's ``initial_lr``, recorded in
the group by the first scheduler built on the optimizer.
"""
import bisect
import math


class LRScheduler:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def next_lr(self, lr, base_lr):
        """The rate for epoch ``last_epoch`` of a group whose rate is now `lr` (and was
        `base_lr` at the start)."""
        raise NotImplementedError

    def first_lr(self, base_lr):
        """Epoch 0's rate from the start (SequentialLR restarts a schedule with it)."""
        return base_lr

    def step(self):
        self.last_epoch += 1
        groups = self.optimizer.param_groups
        self._set([self.next_lr(g["lr"], base) for g, base in zip(groups, self.base_lrs)])

    def restart(self):
        """Back to epoch 0, at ``first_lr`` of every group."""
        self.last_epoch = 0
        self._set([self.first_lr(base) for base in self.base_lrs])

    def _set(self, lrs):
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

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

    def next_lr(self, lr, base_lr):
        return lr if self.last_epoch == 0 else lr * self.gamma


class StepLR(LRScheduler):
    def __init__(self, optimizer, step_size, gamma=0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def next_lr(self, lr, base_lr):
        changes = self.last_epoch and self.last_epoch % self.step_size == 0
        return lr * self.gamma if changes else lr


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from lr_0 down to eta_min over T_max epochs (then back up, as PyTorch's
    does if stepped further)."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def next_lr(self, lr, base_lr):
        e, T, low = self.last_epoch, self.T_max, self.eta_min
        if e == 0:
            return lr
        if (e - 1 - T) % (2 * T) == 0:                  # at the bottom the ratio below is 0/0
            return lr + (base_lr - low) * (1 - math.cos(math.pi / T)) / 2
        return (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) \
            * (lr - low) + low


class LinearLR(LRScheduler):
    """The rate times a factor going linearly from start_factor to end_factor over total_iters
    epochs, then end_factor (a warm-up with end_factor 1)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], "
                             f"got {start_factor} and {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, \
            total_iters
        super().__init__(optimizer)

    def next_lr(self, lr, base_lr):
        e, s, f, T = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
        if e == 0:
            return lr * s
        if e > T:
            return lr
        return lr * (1 + (f - s) / (T * s + (e - 1) * (f - s)))

    def first_lr(self, base_lr):
        return base_lr * self.start_factor


class SequentialLR(LRScheduler):
    """schedulers[0] until epoch milestones[0], then schedulers[1] restarted from its epoch 0,
    and so on. The schedulers must be built on this optimizer; building SequentialLR undoes
    their initial steps and takes schedulers[0]'s."""

    def __init__(self, optimizer, schedulers, milestones):
        if len(milestones) != len(schedulers) - 1 or list(milestones) != sorted(milestones):
            raise ValueError(f"SequentialLR: needs one increasing milestone between each two "
                             f"schedulers, got {len(schedulers)} schedulers and milestones "
                             f"{milestones}")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError("SequentialLR: every scheduler must drive the optimizer given")
        self.optimizer, self.schedulers, self.milestones = optimizer, list(schedulers), \
            list(milestones)
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = 0
        self.schedulers[0].restart()
        self._last_lr = self.schedulers[0].get_last_lr()

    def step(self):
        self.last_epoch += 1
        index = bisect.bisect_right(self.milestones, self.last_epoch)
        scheduler = self.schedulers[index]
        if index and self.milestones[index - 1] == self.last_epoch:
            scheduler.restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "milestones": self.milestones,
                "_last_lr": self._last_lr, "base_lrs": self.base_lrs,
                "schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state_dict):
        inner = state_dict["schedulers"]
        if len(inner) != len(self.schedulers):
            raise ValueError(f"SequentialLR.load_state_dict: {len(inner)} schedulers saved, "
                             f"{len(self.schedulers)} here")
        for scheduler, saved in zip(self.schedulers, inner):
            scheduler.load_state_dict(saved)
        vars(self).update({k: v for k, v in state_dict.items() if k != "schedulers"})
