"""Optimizer: the bookkeeping every update rule shares, and the all-or-nothing step.

A subclass defines one pure function on raw arrays,

    update(p, g, state, group) -> (new p, new state)

for one parameter's values p, its gradient g (same shape and dtype; negated first when the group
says ``maximize``, as in PyTorch), its state (a dict: momentum, moment estimates, step count) and
its group's hyper-parameters. ``step()`` calls it for every
parameter that has a gradient, checks every result (shape, finiteness), and only then writes all
of them: a step that fails leaves every parameter and all optimizer state as they were.

Parameters come as an iterable of tensors, of ``(name, tensor)`` pairs (``model.named_parameters()``,
so errors can name them), or of dicts ``{"params": [...], "lr": ...}`` (param groups, PyTorch's
per-group hyper-parameters; ``param_groups[k]["params"]`` holds the tensors, as in PyTorch).
``state`` is keyed by the parameter's position (0, 1, ... across groups).
"""
import numpy as np

from .. import backend
from ..errors import DeviceError, ShapeError
from ..nn.module import zero_grad
from ..tape import enable_grad
from ..tensor import Tensor


# PyTorch options that change the update: a state dict that switches one on for an optimizer
# without it (amsgrad for SGD) is refused (its other flags, foreach, fused, capturable...,
# change nothing)
FOREIGN_OPTIONS = ("amsgrad", "maximize", "decoupled_weight_decay", "centered", "nesterov")


def non_negative(owner, **values):
    """Raise naming `owner` and the first of `values` that is not >= 0 (NaN is not)."""
    for name, v in values.items():
        if not v >= 0:
            raise ValueError(f"{owner}: {name} must be >= 0, got {v}")


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups, self.names = [], []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors (e.g. "
                            "model.parameters()), got one Tensor; wrap it in a list")
        entries = list(params)
        if not entries:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = entries if isinstance(entries[0], dict) else [{"params": entries}]
        for group in groups:
            self._add_group(dict(group))
        self.state = {}

    def _add_group(self, group):
        tensors = []
        for entry in list(group["params"]):
            name, p = entry if isinstance(entry, tuple) else (None, entry)
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise TypeError(f"{type(self).__name__} can only optimize leaf tensors, got "
                                f"{type(p).__name__}" + (" (computed, not a leaf)"
                                                         if isinstance(p, Tensor) else ""))
            if any(p is q for q in self.params + tensors):
                raise ValueError(f"{type(self).__name__}: a parameter appears twice")
            self.names.append(name or f"parameter {len(self.names)}")
            tensors.append(p)
        self.param_groups.append({**self.defaults, **group, "params": tensors})

    @property
    def params(self):
        """Every parameter, in order across groups: ``params[i]`` has state ``state[i]``."""
        return [p for group in self.param_groups for p in group["params"]]

    def _indexed(self):
        """(index, parameter, its group) for every parameter."""
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                yield i, p, group
                i += 1

    # ---- the update --------------------------------------------------------------------
    def update(self, p, g, state, group):
        raise NotImplementedError

    def step(self, closure=None):
        """One update of every parameter with a gradient (``.grad is None``: skipped).
        ``closure``, if given, recomputes and returns the loss first (as in PyTorch)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        pending = []
        for i, p, group in self._indexed():
            if p.grad is None:
                continue
            g = self._checked_grad(i, p)
            if group.get("maximize"):
                g = -g                                 # ascend: PyTorch negates first
            new_p, new_state = self.update(p.data, g, dict(self.state.get(i, {})), group)
            pending.append((i, p, new_p.astype(p.dtype, copy=False), new_state))
        self._check_finite(pending)
        for i, p, new_p, new_state in pending:        # commit: nothing below can fail
            p._assign(new_p)
            self.state[i] = new_state
        return loss

    def _where(self, i):
        return f"{type(self).__name__}.step: {self.names[i]!r} (shape {self.params[i].shape})"

    def _checked_grad(self, i, p):
        g = p.grad.data
        if g.shape != p.shape:
            raise ShapeError(f"{self._where(i)} has a gradient of shape {g.shape}; nothing was "
                             "changed")
        if backend.device_of(g) != p.device:
            raise DeviceError(f"{self._where(i)} is on {p.device} but its gradient is on "
                              f"{backend.device_of(g)}; nothing was changed")
        return g.astype(p.dtype, copy=False)

    def _check_finite(self, pending):
        """Every new value and state array finite? Decided on each device and read back once
        per device (one host sync per step, not one per array); only a failing step looks for
        the parameter to blame."""
        flags = {}
        for _, _, new_p, new_state in pending:
            xp = backend.xp_of(new_p)
            flags.setdefault(xp, []).extend(xp.isfinite(a).all() for a in _arrays(new_p, new_state))
        if all(bool(xp.stack(f).all()) for xp, f in flags.items()):
            return
        for i, p, new_p, new_state in pending:
            xp = backend.xp_of(new_p)
            if not all(bool(xp.isfinite(a).all()) for a in _arrays(new_p, new_state)):
                bad = int((~xp.isfinite(p.grad.data)).sum())
                raise FloatingPointError(f"{self._where(i)}: the update is not finite (the "
                                         f"gradient has {bad} non-finite entries); nothing was "
                                         "changed")

    def zero_grad(self, set_to_none=True):
        """Forget accumulated gradients: ``.grad = None`` (or zeros with ``set_to_none=False``)."""
        zero_grad(self.params, set_to_none)

    # ---- checkpoints -------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {name: NumPy array or number}}, "param_groups": [{hyper-parameters,
        "params": [indices]}]}``: copies, on the CPU, as in PyTorch."""
        state = {i: {k: (np.array(backend.to_device(v, "cpu"), copy=True) if hasattr(v, "shape")
                         else v) for k, v in s.items()} for i, s in self.state.items()}
        indices = iter(range(len(self.names)))
        groups = [{**g, "params": [next(indices) for _ in g["params"]]} for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and per-parameter state, checked before anything is written
        (group sizes, each state array's shape against its parameter's, and options this
        optimizer does not have). A 0-d array is a number (PyTorch's Adam keeps ``step`` as a
        0-d tensor); arrays are cast to the parameter's dtype. So a PyTorch state dict, its
        tensors converted to arrays, loads; an option it switches on that this optimizer does
        not have (``amsgrad=True`` for SGD: FOREIGN_OPTIONS) is an error, never silently ignored."""
        groups = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in self.param_groups]
        if [len(g["params"]) for g in groups] != sizes:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state dict has groups of "
                             f"{[len(g['params']) for g in groups]} parameters, this optimizer "
                             f"{sizes}")
        params, state = self.params, {}
        for i, s in state_dict["state"].items():
            i = int(i)
            if not 0 <= i < len(params):
                raise KeyError(f"{type(self).__name__}.load_state_dict: state for parameter {i}, "
                               f"but there are {len(params)}")
            state[i] = {k: self._state_value(i, params[i], k, v) for k, v in s.items()}
        for saved in groups:
            unknown = {k: saved[k] for k in FOREIGN_OPTIONS
                       if saved.get(k) and k not in self.defaults}
            if unknown:
                raise ValueError(f"{type(self).__name__}.load_state_dict: the state dict sets "
                                 f"{unknown}, which {type(self).__name__} does not implement; "
                                 "nothing was changed")
        for group, saved in zip(self.param_groups, groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = state

    def _state_value(self, i, p, key, value):
        if not hasattr(value, "shape"):
            return value
        if value.ndim == 0:
            return value.item()
        if value.shape != p.shape:
            raise ShapeError(f"{type(self).__name__}.load_state_dict: state '{key}' of "
                             f"{self.names[i]!r} has shape {value.shape}, the parameter {p.shape}")
        return backend.copy_to(value, p.device, p.dtype)


def _arrays(new_p, new_state):
    """A parameter's new value and its new state arrays (step counts are not arrays)."""
    return [new_p] + [v for v in new_state.values() if hasattr(v, "shape")]
