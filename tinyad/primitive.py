"""Primitives and ``apply``: the one place where every operation runs.

A primitive states three things side by side (see primitives.py for the table):

    impl(*arrays, **params) -> array                     the computation, on raw arrays
    jvp[i](t_i, out, *args, **params) -> Tensor          forward mode: out's tangent due to input i
    vjp[i](g,   out, *args, **params) -> Tensor          reverse mode: input i's cotangent

Rules are written with tinyad's own operations, so they are themselves differentiable: that is
how grad-of-grad and forward-over-reverse work. A *linear* primitive (add, sum, reshape...) is its
own JVP: the output tangent is the primitive applied to the input tangents.

``apply`` is an interpreter with two layers:

1. If an argument is a dual number (dual.py), split off the highest dual level, apply the primitive
   to the primals, and sum the JVP rules of the inputs that carry a tangent.
2. Otherwise run ``impl`` on the raw arrays: the fast path, no bookkeeping.

Either way, if gradients are being recorded and an input requires one, the application is written
to the tape (a ``Node`` on the output) for reverse mode.
"""
from . import backend, tape
from .errors import DeviceError, ShapeError, shapes
from .tensor import Tensor

PRIMITIVES = {}   # name -> Primitive: the table that tests enumerate
LINEAR = "linear"
OBSERVERS = []    # callbacks ``fn(prim, args, params, out)`` run after each application; empty
                  # (the usual case) costs one ``if``. ad.viz.forward_trace uses it.


class Primitive:
    __slots__ = ("name", "impl", "jvp", "vjp", "rule")

    def __init__(self, name, impl, jvp, vjp, rule="the input shapes must fit the operation",
                 register=True):
        """`jvp` is a tuple of per-input rules or LINEAR; `vjp` a tuple of per-input rules, or
        one function ``(i, g, out, *args, **params)`` for primitives with any number of inputs.
        `rule` says, in an error message, which shape rule a failing call broke. A primitive made
        for one call (custom rules, checkpoint) passes ``register=False`` to stay out of the table."""
        self.name, self.impl, self.jvp, self.vjp, self.rule = name, impl, jvp, vjp, rule
        if register:
            PRIMITIVES[name] = self

    def cotangent(self, i, g, out, args, params):
        """Input i's share of the output cotangent `g`: its VJP rule applied (one per input, or
        one rule taking i for primitives with any number of inputs)."""
        rules = self.vjp
        if type(rules) is tuple:
            return rules[i](g, out, *args, **params)
        return rules(i, g, out, *args, **params)

    def __call__(self, *args, **params):
        return apply(self, *args, **params)

    def __repr__(self):
        return f"<primitive {self.name}>"


def apply(prim, *args, **params):
    """Run primitive `prim` on Tensors `args`; returns a Tensor (a Dual if an input is one)."""
    top, tracked = -1, False
    for a in args:                     # a plain loop: this runs for every operation
        if a._level > top:
            top = a._level
        if a._requires_grad:
            tracked = True
    if top >= 0:
        out = _apply_dual(prim, top, args, params)
    else:
        out = Tensor(_compute(prim, args, params))
    if tracked and tape.recording():
        out._requires_grad = True
        out._node = tape.Node(prim, args, params)
    if OBSERVERS:
        for observe in OBSERVERS:
            observe(prim, args, params, out)
    return out


def _compute(prim, args, params):
    if len(args) == 1:
        datas = (args[0]._data,)
    else:
        datas = [a._data for a in args]
        _check_devices(prim, datas)
    try:
        return prim.impl(*datas, **params)
    except ValueError as e:
        raise ShapeError(f"{prim.name}: input shapes {shapes(*datas)} {_params(params)}"
                         f"break the rule '{prim.rule}' ({e})") from None


def _params(params):
    shown = {k: v for k, v in params.items() if k in ("shape", "axis", "axes")}
    return "".join(f"with {k}={v} " for k, v in shown.items())


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
    out = apply(prim, *primals, **params)
    if prim.jvp == LINEAR:
        tangents = [t if t is not None else _zeros_like(p) for t, p in zip(tangents, primals)]
        tan = apply(prim, *tangents, **params)
    else:
        tan = None
        for rule, t in zip(prim.jvp, tangents):
            if t is not None:
                term = rule(t, out, *primals, **params)
                tan = term if tan is None else tan + term
    return dual.Dual(out, dual.fit_tangent(tan, out), level)


def _zeros_like(x):
    return Tensor(x._xp.zeros_like(x._data))


from . import dual  # noqa: E402  (dual.py imports tensor.py, which imports this module)
