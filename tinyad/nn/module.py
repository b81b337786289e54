"""Module and Parameter: a model is a tree of modules, each owning some parameters.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, in order, as in PyTorch::

    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(ad.zeros(3, 2))     # registered as 'weight'
            self.inner = nn.Linear(2, 2)                   # its parameters: 'inner.weight', ...

        def forward(self, x):
            return self.inner(x) @ self.weight.T

``named_parameters()`` walks the tree depth first and names each parameter by its path
(``layers.0.weight``). Buffers are state that is not trained (BatchNorm's running statistics):
``self.register_buffer("running_mean", ad.zeros(C))`` registers one, ``named_buffers()`` walks
them, and later assignments to that name replace it. ``state_dict()`` is both walks, parameters
then buffers, as ``{name: NumPy copy}``; ``to(device)`` moves both.

Parameters live in ``_parameters``, buffers in ``_buffers`` and sub-modules in ``_modules``, never
in the instance ``__dict__``: attribute reads fall through to ``__getattr__``, which looks there.
That is what lets ``functional_call`` swap a parameter for another tensor for one call.
"""
from collections import namedtuple

import numpy as np

from .. import backend
from ..errors import DtypeError, ShapeError
from ..tensor import Tensor

LoadResult = namedtuple("LoadResult", ["missing_keys", "unexpected_keys"])
TABLES = ("_parameters", "_buffers", "_modules")      # where __getattr__ looks, in this order


def zero_grad(params, set_to_none=True):
    """``p.grad = None`` for every tensor in `params` that has a gradient, or zeros of its shape,
    dtype and device with ``set_to_none=False``. ``Module.zero_grad`` and
    ``Optimizer.zero_grad`` are this, over their parameters."""
    for p in params:
        if p.grad is not None:
            p.grad = None if set_to_none else Tensor(p._xp.zeros_like(p.grad.data))


class Parameter(Tensor):
    """A tensor that is a model's weight: it requires a gradient and registers on assignment.

    ``Parameter(data)`` takes a Tensor or an array (kept in its dtype, float32 or float64)."""
    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            data = data.data
        Tensor.__init__(self, data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)


class Module:
    """Base class of every layer and model. Subclasses call ``super().__init__()`` first, assign
    their parameters and sub-modules as attributes, and define ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- registration -------------------------------------------------------------------
    def __setattr__(self, name, value):
        if isinstance(value, (Parameter, Module)) and "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before "
                                 f"Module.__init__() is called: call super().__init__() first")
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif isinstance(value, Tensor) and name in self.__dict__.get("_parameters", {}):
            raise TypeError(f"cannot assign a plain Tensor to parameter '{name}' of "
                            f"{type(self).__name__}: wrap it in nn.Parameter (or assign None)")
        elif name in self.__dict__.get("_buffers", {}):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign a {type(value).__name__} to buffer '{name}' of "
                                f"{type(self).__name__}: a buffer is a Tensor (or None)")
            self._buffers[name] = value
        else:
            self._forget(name)
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails: parameters and sub-modules live here
        for table in TABLES:
            entries = self.__dict__.get(table, {})
            if name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if any(name in self.__dict__.get(table, {}) for table in TABLES):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def _forget(self, name):
        for table in TABLES:
            self.__dict__.get(table, {}).pop(name, None)
        self.__dict__.get("_non_persistent", set()).discard(name)
        self.__dict__.pop(name, None)

    def register_parameter(self, name, param):
        """``self.<name> = param`` for a name chosen at run time."""
        setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Register `tensor` (a Tensor, or None for "not kept") as buffer `name`: state that is
        not trained but belongs to the model (BatchNorm's running statistics). It is in
        ``state_dict()`` unless ``persistent=False``, moves with ``to(device)``, and reads as
        ``self.<name>``; assigning to that name later replaces the buffer."""
        if "_buffers" not in self.__dict__:
            raise AttributeError(f"cannot register buffer '{name}' before Module.__init__() is "
                                 "called: call super().__init__() first")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: the name must be a non-empty string without '.', "
                           f"got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: buffer '{name}' must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        if isinstance(tensor, Parameter):
            raise TypeError(f"register_buffer: '{name}' is a Parameter; assign it as an "
                            "attribute to register it as a parameter")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """``self.<name> = module`` for a name chosen at run time (Sequential uses "0", "1"...)."""
        setattr(self, name, module)

    # ---- walking the tree ---------------------------------------------------------------
    def named_children(self):
        yield from self._modules.items()

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix="", memo=None):
        """``(path, module)`` for this module (path ``prefix``) and every descendant, depth first;
        a module that appears twice in the tree is listed once, under its first path."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        """``(dotted name, Parameter)`` pairs, own parameters first, then each child's in
        registration order; a parameter shared by two modules is listed once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for path, module in modules:
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{path}.{name}" if path else name), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, persistent_only=False):
        """``(dotted name, Tensor)`` for every buffer that is not None, walked as
        ``named_parameters`` walks (``bn.running_mean``); with ``persistent_only`` the ones
        ``state_dict`` holds."""
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for path, module in modules:
            for name, b in module._buffers.items():
                if b is not None and not (persistent_only and name in module._non_persistent):
                    yield (f"{path}.{name}" if path else name), b

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _state(self):
        """{name: Tensor} of what ``state_dict`` holds: parameters, then persistent buffers."""
        return {**dict(self.named_parameters()), **dict(self.named_buffers(persistent_only=True))}

    # ---- training state -----------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Forget accumulated gradients: ``.grad = None`` (or zeros with ``set_to_none=False``)."""
        zero_grad(self.parameters(), set_to_none)

    def train(self, mode=True):
        """Set ``training`` on this module and every descendant; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def to(self, device=None, dtype=None):
        """Move (and/or cast) every parameter, its gradient and every buffer in place; returns
        self.

        The Parameter objects stay the same, so an optimizer built before ``to`` still holds them.
        ``device`` is 'cpu' or 'cuda' (CuPy arrays); ``dtype`` float32 or float64, which casts
        the floating-point tensors only (a step counter stays int64, as in PyTorch)."""
        if dtype is not None:
            dtype = backend.check_dtype(dtype, "Module.to")
            if dtype.kind != "f":
                raise DtypeError(f"Module.to: dtype must be a float dtype, got {dtype}")
        tensors = [t for p in self.parameters() for t in (p, p.grad)] + list(self.buffers())
        for t in tensors:
            if t is None:
                continue
            data = t.to(device).data if device is not None else t.data
            if dtype is not None and data.dtype.kind == "f":
                data = data.astype(dtype, copy=False)
            if data is not t._data:
                t._assign(data)
        return self

    # ---- checkpoints --------------------------------------------------------------------
    def state_dict(self):
        """``{dotted name: NumPy array}`` for every parameter, then every persistent buffer:
        copies, on the CPU, safe to keep while training goes on."""
        return {name: np.array(t.numpy(), copy=True) for name, t in self._state().items()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from `state_dict` into the parameters and buffers (same objects, same
        device), cast to each one's dtype as PyTorch does (float64 values into a float32 model).

        Every entry is checked before anything is written: a shape that differs from the
        parameter's, or values that are not numbers (strings, objects, complex), raise naming it,
        and with ``strict`` so does a missing or unexpected name.
        Returns ``(missing_keys, unexpected_keys)``."""
        params = self._state()
        missing = [n for n in params if n not in state_dict]
        unexpected = [n for n in state_dict if n not in params]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        arrays = {}
        for name, p in params.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            value = value.data if isinstance(value, Tensor) else value
            value = backend.asarray(value, backend.device_of(value))     # a list: NumPy
            kind = "parameter" if isinstance(p, Parameter) else "buffer"
            if value.shape != p.shape:
                raise ShapeError(f"load_state_dict: {kind} '{name}' has shape {p.shape}, the "
                                 f"state dict gives shape {value.shape}")
            if value.dtype.kind not in "biuf":
                raise DtypeError(f"load_state_dict: {kind} '{name}' has dtype {p.dtype}, the "
                                 f"state dict gives dtype {value.dtype}, which is not a number")
            arrays[name] = value.astype(p.dtype)            # a copy, cast as PyTorch's copy_
        for name, value in arrays.items():
            params[name]._assign(backend.asarray(value, params[name].device))   # moved, if need be
        return LoadResult(missing, unexpected)

    # ---- printing -----------------------------------------------------------------------
    def extra_repr(self):
        """The text inside ``Name(...)`` in the repr; layers override it."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"
