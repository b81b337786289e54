"""The tape view: the nodes that reverse mode recorded, as a table.

Every primitive applied to a tensor that requires a gradient leaves a ``Node`` on its output
(see tinyad/tape.py): the primitive, the inputs its VJP rules will read, its parameters, and a
Wengert number that only grows. ``tape(f, *args)`` runs f and lists those nodes in the order they
were *recorded* (increasing Wengert number, so every node comes after the nodes that made its
inputs). ``backward()`` visits exactly these rows, from the bottom up.

Nothing here hooks into the engine: the view is the tape's own walk over the tensors' ``_node``
links (``tinyad.tape.walk``), the one backward() runs.
"""
import inspect

import numpy as np

from ..errors import GradError
from ..tape import enable_grad, walk as tape_walk
from ..tensor import Tensor, tensor
from .table import abbrev, show


def tape(f, *args, names=None, verbose=True):
    """Print and return the tape behind a tensor: ``tape(y)``, or ``tape(f, *args)``, which runs
    f on fresh copies of `args` that require a gradient, named after f's parameters.

    One row (a dict) per node, in recorded order:
        index         the node's Wengert number
        op            the primitive's name
        inputs        labels: '#index' for a recorded result, a name for a leaf, 'const ...'
        input_shapes  the inputs' shapes; shape: the output's shape
        saved         what the VJP rules will read: the inputs' values (abbreviated), the params
    `names` maps labels to leaf tensors, e.g. ``names={"w": w}``.
    """
    if isinstance(f, Tensor):
        root, names = f, dict(names or {})
    else:
        root, names = _run(f, args, names)
    ops, leaves = walk(root)
    labels = leaf_labels(leaves, names)
    labels.update((id(t), f"#{t._node.index}") for t in ops)
    rows = [_row(t, labels) for t in ops]
    if verbose:
        show(f"tape: {len(rows)} nodes in recorded order (backward visits them bottom-up)", rows, {
            "#": lambda r: r["index"],
            "op": lambda r: r["op"],
            "inputs": lambda r: ", ".join(r["inputs"]),
            "shapes": lambda r: f"{', '.join(map(str, r['input_shapes']))} -> {r['shape']}",
            "saved for backward": lambda r: r["saved"]})
    return rows


def walk(root):
    """The recorded tensors reachable from `root`, oldest node first, and the leaves reached:
    the tape's own walk (tinyad/tape.py), read in recorded order."""
    try:
        recorded, leaves = tape_walk([root])
    except GradError as e:
        raise ValueError(f"tape view: {e}; or look at the tape before backward()") from None
    return recorded[::-1], leaves


def leaf_labels(leaves, names):
    """Label each leaf by id: its name in `names`, else 'leafK' if it requires a gradient, else
    'const' and its value (or shape)."""
    by_id = {id(x): name for name, x in names.items()}
    labels, unnamed = {}, 0
    for x in leaves:
        if id(x) in by_id:
            labels[id(x)] = by_id[id(x)]
        elif x.requires_grad:
            labels[id(x)] = f"leaf{unnamed}"
            unnamed += 1
        else:
            labels[id(x)] = constant_label(x)
    return labels


def constant_label(x):
    """'const 2' for a single number, 'const (3, 2)' for an array."""
    return "const " + (abbrev(x.numpy()) if x.size == 1 else str(x.shape))


def _run(f, args, names):
    """Call f on leaf copies of args that require a gradient; name them after f's parameters."""
    xs = [_leaf(a) for a in args]
    own = dict(zip(parameter_names(f, len(xs)), xs))
    with enable_grad():
        out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"tape view: f must return a Tensor, got {type(out).__name__}")
    return out, {**own, **(names or {})}


def parameter_names(f, count):
    """Names for f's first `count` positional arguments: its parameters', else 'argK'."""
    params = [p.name for p in inspect.signature(f).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [params[i] if i < len(params) else f"arg{i}" for i in range(count)]


def _leaf(a):
    x = a if isinstance(a, Tensor) else tensor(a)
    return x.detach().requires_grad_() if x.dtype.kind == "f" else x


def _row(t, labels):
    node = t._node
    inputs = [labels[id(x)] for x in node.inputs]
    saved = []
    for label, x in zip(inputs, node.inputs):
        item = label if label.startswith("const ") and x.size == 1 else \
            f"{label}={abbrev(x.numpy())}"
        if item not in saved:
            saved.append(item)
    saved += [f"{k}={abbrev(v) if isinstance(v, np.ndarray) else v}"
              for k, v in node.params.items()]
    return {"index": node.index, "op": node.prim.name, "inputs": inputs,
            "input_shapes": [x.shape for x in node.inputs], "shape": t.shape,
            "saved": ", ".join(saved)}
