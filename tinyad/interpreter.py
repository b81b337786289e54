"""The interpreter: ``Primitive`` and ``apply``, the one place where every operation runs.

A primitive states four things side by side (the table: the package tinyad/primitives/):

    impl(*arrays, **params) -> array                     the computation, on raw arrays
    jvp[i](t_i, out, *args, **params) -> Tensor          forward mode: out's tangent due to input i
    vjp[i](g,   out, *args, **params) -> Tensor          reverse mode: input i's cotangent
    batch(prim, values, batched, **params) -> Tensor     vmap: the output for a whole batch

Rules are written with tinyad's own operations, so they are themselves differentiable: that is
how grad-of-grad, forward-over-reverse and vmap-of-grad work. A *linear* primitive (add, sum,
reshape...) is its own JVP: the output tangent is the primitive applied to the input tangents. A
batching rule gets the inputs with the batch axis first where ``batched[i]`` (the others are
shared by every example) and returns the output with the batch axis first. What the VJP rules
read is declared too (``saves``: inputs, output; node.py), so the tape keeps nothing else.

``apply`` is an interpreter with two layers:

1. If an argument is at a transform's level (a dual number, dual.py, or a batch, batching.py),
   interpret the highest level first: for a dual level, apply the primitive to the primals and
   sum the JVP rules of the inputs that carry a tangent (or, where nothing below that level is
   tracked, run the primitive's value-and-tangent kernel); for a batch level, run the batching
   rule on the batches (``_apply_batched``). Lower levels are values like any other there.
2. Otherwise run ``impl`` on the raw arrays: the fast path, no bookkeeping.

Either way, if gradients are being recorded and an input requires one, the application is written
to the tape (a ``Node`` on the output) for reverse mode; then a primitive with a ``forward``
computes its value together with a residual for its VJP (a fused kernel's derivative). Whether the
tape records, and who else observes, is read from the modes of the calling thread or asyncio task
(modes.py).

Broadcasting and dtype promotion need one step in each mode, and the two steps are adjoint:
``fit_tangent`` broadcasts an input's tangent to the output's shape and casts it to the output's
dtype; ``fit_cotangent`` sums an output-shaped cotangent down to the input's shape and casts it
back (from the input's shape and dtype alone: the tape may not have kept its values). They reach
``broadcast_to``, ``sum``, ``reshape`` and ``astype`` through the table, so this module never
imports the op layer built on top of it.
"""
from . import backend
from .batching import Batched, check_open
from .dual import Dual
from .errors import BatchingError, DeviceError, IndexingError, ShapeError, shapes
from .modes import current
from .node import ALL, Node, Saves
from .tensor import Tensor, zeros_like

PRIMITIVES = {}   # name -> Primitive: the table that tests enumerate
LINEAR = "linear"


class Primitive:
    __slots__ = ("name", "impl", "jvp", "vjp", "batch", "shape_rule", "saves", "forward",
                 "value_and_tangent")

    def __init__(self, name, impl, jvp, vjp, shape_rule="the input shapes must fit the operation",
                 batch=None, register=True, saves=ALL, forward=None, value_and_tangent=None):
        """`jvp` is a tuple of per-input rules or LINEAR; `vjp` a tuple of per-input rules, or
        one function ``(i, g, out, *args, **params)`` for primitives with any number of inputs;
        `batch` the batching rule (primitives/batching.py has the common ones). `shape_rule`
        says, in an error message, which rule on shapes a failing call broke. `saves` declares
        what the VJP rules read (node.Saves; default: every input and the output). Optional:
        ``forward(*arrays, **params) -> (value, residual)``, the computation when the tape
        records it, whose residual (an array, or None) the VJP rules receive as the keyword
        ``residual`` when the backward pass is not itself recorded; and
        ``value_and_tangent(x, t, **params) -> (value, tangent)`` (or None to decline) for one
        input in forward mode when nothing below the level is tracked. A primitive made for one
        call (custom rules, checkpoint) passes ``register=False`` to stay out of the table."""
        self.name, self.impl, self.jvp, self.vjp, self.batch = name, impl, jvp, vjp, batch
        self.shape_rule, self.saves = shape_rule, Saves(saves)
        self.forward, self.value_and_tangent = forward, value_and_tangent
        rules = self.saves.rules
        if rules and type(rules[0]) is not frozenset and type(vjp) is tuple \
                and len(rules) != len(vjp):
            raise ValueError(f"{name}: saves={saves!r} has {len(rules)} entries for "
                             f"{len(vjp)} VJP rules")
        if register:
            PRIMITIVES[name] = self

    def cotangents(self, g, out, args, params, parents):
        """[(parents[i], input i's share of the output cotangent `g`)] for each input whose
        parent is not None: its VJP rule applied (one per input, or one rule taking i for
        primitives with any number of inputs), fitted to input i's shape and dtype
        (``fit_cotangent``)."""
        rules, shares = self.vjp, []
        per_input = type(rules) is tuple
        for i, parent in enumerate(parents):
            if parent is not None:
                share = rules[i](g, out, *args, **params) if per_input \
                    else rules(i, g, out, *args, **params)
                shares.append((parent, fit_cotangent(share, args[i])))
        return shares

    def __call__(self, *args, **params):
        return apply(self, *args, **params)

    def __repr__(self):
        return f"<primitive {self.name}>"


def apply(prim, *args, **params):
    """Run primitive `prim` on Tensors `args`; returns a Tensor (a Dual or a Batched if the
    highest level among the inputs is a dual or a batch level)."""
    top, tracked = -1, False
    for a in args:                     # a plain loop: this runs for every operation
        if a._level > top:
            top, lead = a._level, a
        if a._requires_grad:
            tracked = True
    modes = current()                  # recording, observers: this thread's (modes.py)
    taped, residual = tracked and modes.recording, None
    if top >= 0:
        interpret = _apply_batched if type(lead) is Batched else _apply_dual
        out = interpret(prim, top, args, params)
    elif taped and prim.forward is not None:
        value, residual = _compute(prim, prim.forward, args, params)
        out = Tensor(value)
    else:
        out = Tensor(_compute(prim, prim.impl, args, params))
    if taped:                          # written to the tape: a node on the output
        out._node, out._requires_grad = Node(prim, args, params, out, residual), True
    if modes.observers:                # empty, the usual case: one test
        for entry in modes.observers:
            entry.value(prim, args, params, out)
    return out


def _compute(prim, fn, args, params):
    """fn (the primitive's impl or forward) on the arrays; NumPy's errors named in our terms."""
    if len(args) == 1:
        datas = (args[0]._data,)
    else:
        datas = [a._data for a in args]
        _check_devices(prim, datas)
    try:
        return fn(*datas, **params)
    except (ValueError, IndexError) as e:       # NumPy's, raised by the computation
        error = IndexingError if isinstance(e, IndexError) else ShapeError
        raise error(f"{prim.name}: input shapes {shapes(*datas)} {_params(params)}"
                    f"break the rule '{prim.shape_rule}' ({e})") from None


def _params(params):
    shown = {k: _short(v) for k, v in params.items() if k in ("shape", "axis", "axes", "index")}
    return "".join(f"with {k}={v} " for k, v in shown.items())


def _short(v):
    """A parameter for a message: an index array by its shape, a tuple item by item."""
    if isinstance(v, tuple):
        return "(" + ", ".join(map(_short, v)) + ("," if len(v) == 1 else "") + ")"
    return f"<array of shape {tuple(v.shape)}>" if hasattr(v, "shape") else repr(v)


def _check_devices(prim, datas):
    first = type(datas[0])
    for d in datas:
        if type(d) is not first:
            break
    else:
        return                         # one array type: one device
    devices = [backend.device_of(d) for d in datas]
    if len(set(devices)) > 1:
        raise DeviceError(f"{prim.name}: inputs on different devices {devices} with shapes "
                          f"{shapes(*datas)}; move them with .to('cuda') or .to('cpu')")


def _apply_dual(prim, level, args, params):
    """Forward mode at dual level `level`: lower-level values are constants here."""
    primals = [a.primal if a._level == level else a for a in args]
    tangents = [a.tangent if a._level == level else None for a in args]
    if prim.value_and_tangent is not None and _untracked(primals + tangents):
        pair = prim.value_and_tangent(primals[0]._data, tangents[0]._data, **params)
        if pair is not None:                   # one kernel call: f(x) and f'(x) t
            return Dual(Tensor(pair[0]), Tensor(pair[1]), level)
    out = apply(prim, *primals, **params)
    if prim.jvp == LINEAR:
        tangents = [t if t is not None else zeros_like(p) for t, p in zip(tangents, primals)]
        tan = apply(prim, *tangents, **params)
    else:
        tan = None
        for rule, t in zip(prim.jvp, tangents):
            if t is not None:
                term = rule(t, out, *primals, **params)
                tan = term if tan is None else tan + term
    return Dual(out, fit_tangent(tan, out), level)


def _untracked(values):
    """Plain values, none of them being recorded: a kernel may compute with their arrays."""
    recording = current().recording
    return all(v is not None and v._level < 0 and not (recording and v._requires_grad)
               for v in values)


def _apply_batched(prim, level, args, params):
    """vmap at batch level `level`: the batching rule, on the batches' values (batch axis first)
    and the inputs shared by every example."""
    check_open(level)
    if prim.batch is None:
        raise BatchingError(f"{prim.name}: no batching rule, so it cannot run inside vmap; give "
                            "the primitive one (batch=, see tinyad/primitives/batching.py)")
    batched = [a._level == level for a in args]
    values = [a.value if b else a for a, b in zip(args, batched)]
    out = prim.batch(prim, values, batched, **params)
    size = values[batched.index(True)].shape[0]
    if out.ndim == 0 or out.shape[0] != size or out._level >= level:
        raise BatchingError(f"{prim.name}: its batching rule returned shape {out.shape} at level "
                            f"{out._level} for a batch of {size} at level {level}: the batch axis "
                            "must come first, and the level must be gone (a function that uses "
                            "a batched tensor without receiving it as an argument keeps it)")
    return Batched(out, level)


# --- the adjoint pair: a tangent fitted to an output, a cotangent fitted to an input ----------
def fit_tangent(tangent, out):
    """Bring a tangent to the output's shape and dtype: ``x + b`` with b broadcast over x moves
    with x's tangent on every broadcast copy. (Shapes are one example's inside vmap.)"""
    shape = out.shape
    if tangent.shape != shape:
        tangent = apply(PRIMITIVES["broadcast_to"], tangent, shape=shape)
    if tangent._data.dtype != out._data.dtype:
        tangent = apply(PRIMITIVES["astype"], tangent, dtype=out._data.dtype)
    return tangent


def fit_cotangent(cotangent, x):
    """``fit_tangent``'s adjoint: sum a cotangent down to x's shape, in x's dtype. d/dx of
    out = x + b with x (3, 1), b (3, 4) is the row sums of the cotangent. (x may be a saved
    input or its stand-in, node.StandIn: only its shape and dtype are read; shapes are one
    example's inside vmap.)"""
    shape = x.shape
    if cotangent.shape != shape:
        cotangent = unbroadcast(cotangent, shape)
    if cotangent._data.dtype != x.dtype:
        cotangent = apply(PRIMITIVES["astype"], cotangent, dtype=x.dtype)
    return cotangent


def unbroadcast(g, shape):
    """Sum `g` down to `shape`: the adjoint of broadcasting `shape` to g's shape. Leading axes
    that broadcasting added are summed away; kept axes of size 1 are summed with keepdims."""
    extra = g.ndim - len(shape)
    lead = tuple(range(extra))
    ones = tuple(extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    if not ones:                                  # a bias gradient: one reduction, no reshape
        return apply(PRIMITIVES["sum"], g, axis=lead, keepdims=False) if lead else g
    summed = apply(PRIMITIVES["sum"], g, axis=lead + ones, keepdims=True)
    return summed if summed.shape == shape else apply(PRIMITIVES["reshape"], summed, shape=shape)
