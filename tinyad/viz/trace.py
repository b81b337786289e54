"""The forward trace: forward mode, one primitive at a time.

``ad.jvp`` pushes dual numbers ``primal + tangent·ε`` through f: each primitive computes its
output's primal from the input primals, and its output's tangent from the input tangents with its
JVP rule. ``forward_trace`` shows that stream. For the length of one ``ad.jvp`` call it enters an
observer in its thread's modes (tinyad/modes.py; ``apply`` calls it after every application)
and keeps the applications whose output is a dual number at that jvp's level. The work underneath (the
primal computation and the JVP rules, at lower levels) is made of primitive applications too;
the trace leaves it out.
"""
from .. import modes
from ..transforms import jvp
from .table import abbrev, show
from .tape import constant_label, parameter_names


def forward_trace(f, primals, tangents, verbose=True):
    """Run ``ad.jvp(f, primals, tangents)``; print and return one row (a dict) per primitive
    applied at its level, in the order they ran:
        step      the row's number; later rows call its output 'v<step>'
        op, inputs, input_shapes, shape     as in the tape view (inputs are f's parameter
                  names, 'v<step>', or 'const ...' for values that carry no tangent)
        primal    the output's value (a NumPy array)
        tangent   the output's tangent: how fast it moves along the input tangents
    The last row is f's output when f ends with a primitive: its primal and tangent are jvp's.
    """
    primals = tuple(primals) if isinstance(primals, (tuple, list)) else (primals,)
    tangents = tuple(tangents) if isinstance(tangents, (tuple, list)) else (tangents,)
    names = parameter_names(f, len(primals))
    rows, labels, kept, level = [], {}, [], []   # kept: outputs stay alive, so ids stay unique

    def traced(*duals):
        level.append(duals[0]._level)
        labels.update((id(d), name) for d, name in zip(duals, names))
        kept.extend(duals)
        return f(*duals)

    def observe(prim, args, params, out):
        if not level or out._level != level[0]:
            return
        labels[id(out)] = f"v{len(rows)}"
        kept.append(out)
        rows.append({"step": len(rows), "op": prim.name,
                     "inputs": [labels.get(id(a)) or constant_label(a) for a in args],
                     "input_shapes": [a.shape for a in args], "shape": out.shape,
                     "primal": out.primal.numpy(), "tangent": out.tangent.numpy()})

    with modes.entered("observers", observe):
        jvp(traced, primals, tangents)
    if verbose:
        show(f"forward trace: {len(rows)} primitives, each pushing (primal, tangent) forward", rows,
             {"v": lambda r: r["step"], "op": lambda r: r["op"],
              "inputs": lambda r: ", ".join(r["inputs"]),
              "shapes": lambda r: f"{', '.join(map(str, r['input_shapes']))} -> {r['shape']}",
              "primal": lambda r: abbrev(r["primal"]), "tangent": lambda r: abbrev(r["tangent"])})
    return rows
