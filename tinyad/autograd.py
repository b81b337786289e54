"""PyTorch's autograd vocabulary on tinyad's tape, for code ported from PyTorch.

    ad.autograd.grad(outputs, inputs, grad_outputs=None, retain_graph=None,
                     create_graph=False, allow_unused=False)

is ``torch.autograd.grad``: the sums of d<grad_outputs[k], outputs[k]>/d input, one per input, as
a tuple, leaving every ``.grad`` alone. A single tensor works where a sequence is expected; a
grad_output may be None for a single-element output (a seed of one). ``retain_graph`` defaults to
``create_graph``; with ``create_graph=True`` the results are on the tape, to be differentiated
again. An input the outputs do not depend on is an error, or None with ``allow_unused=True``.

The rest lives on Tensor (tensor.py): ``.is_leaf``, ``.retain_grad()`` (a computed tensor's
``.grad`` filled by ``backward()``), and ``.grad`` of a computed tensor that did not ask for it,
None with a warning, as in PyTorch. JAX's functional transforms (``ad.grad``, ``ad.vjp``) are
the other way to say the same (transforms.py).
"""
from . import tape
from .errors import GradError
from .tensor import Tensor


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """``torch.autograd.grad``: see the module docstring."""
    outputs, inputs = _tensors(outputs, "outputs"), _tensors(inputs, "inputs")
    seeds = [None] * len(outputs) if grad_outputs is None else _sequence(grad_outputs)
    if len(seeds) != len(outputs):
        raise GradError(f"autograd.grad: {len(seeds)} grad_outputs for {len(outputs)} outputs")
    for k, o in enumerate(outputs):
        if not o.requires_grad:
            raise GradError(f"autograd.grad: output {k} (shape {o.shape}) does not require a "
                            "gradient: no input had requires_grad=True, or it was made under "
                            "no_grad")
    for k, x in enumerate(inputs):
        if not x.requires_grad:
            raise GradError(f"autograd.grad: input {k} (shape {x.shape}) does not require a "
                            "gradient, so no output can depend on it through the tape")
    retain_graph = create_graph if retain_graph is None else retain_graph
    found = tape.reached(outputs, inputs, seeds, retain_graph, create_graph, "autograd.grad")
    for k, g in enumerate(found):
        if g is None and not allow_unused:
            raise GradError(f"autograd.grad: input {k} (shape {inputs[k].shape}) was not used to "
                            "compute the outputs; pass allow_unused=True to get None for it")
    return tuple(g if g is None or create_graph else g.detach() for g in found)


def _sequence(x):
    return [x] if isinstance(x, Tensor) or x is None else list(x)


def _tensors(x, what):
    xs = _sequence(x)
    if not xs or not all(isinstance(t, Tensor) for t in xs):
        raise TypeError(f"autograd.grad: {what} must be a Tensor or a non-empty sequence of "
                        f"Tensors, got {type(x).__name__}")
    return xs
