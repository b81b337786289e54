"""functional_call: run a module with some of its parameters replaced, for one call.

    out = functional_call(model, {"layers.0.weight": w}, x)      # model(x), with w as that weight

like ``torch.func.functional_call``. The replacements can be any tensors: float64 copies for a
gradient check, or dual numbers, which turns ``model(x)`` into a forward-mode pass with respect to
the weights. The module's own parameters are put back afterwards, also when the call raises.
"""
from ..ops import lift


def functional_call(module, params, args, kwargs=None):
    """``module(*args, **kwargs)`` with ``params`` ({dotted name: Tensor}) in place of the
    parameters of those names. `args` is one argument or a tuple of them (as in PyTorch)."""
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError(f"functional_call: kwargs must be a dict, got {type(kwargs).__name__} "
                        "(pass several positional arguments as one tuple: (x, y))")
    args = args if isinstance(args, tuple) else (args,)
    owners = _owners(module)
    unknown = [n for n in params if n not in owners]
    if unknown:
        raise KeyError(f"functional_call: {type(module).__name__} has no parameter named "
                       f"{unknown}; its parameters are {list(owners)}")
    saved = []
    try:
        for name, value in params.items():
            owner, attr = owners[name]
            saved.append((owner, attr, owner._parameters[attr]))
            owner._parameters[attr] = lift(value)
        return module(*args, **(kwargs or {}))
    finally:
        for owner, attr, original in reversed(saved):
            owner._parameters[attr] = original


def _owners(module):
    """{dotted name: (the module that holds it, its attribute name)} for every parameter."""
    owners = {}
    for path, m in module.named_modules():
        for attr in m._parameters:
            owners.setdefault(f"{path}.{attr}" if path else attr, (m, attr))
    return owners
