"""The kernel registry: every kernel's inputs drawn once, its reference once, run on any backend.

Like primitive_specs.py for the engine. ``cases(dtype)`` draws each entry point's inputs (odd
shapes, empty ones, strided views, values far in the tails); ``expected(case)`` is the NumPy
backend in float64 on the same inputs (the definitions of activations.py and xent.py, which
tests/test_kernels.py holds to independent formulas); ``check(backend, case, device)`` runs one
backend on the case and compares. tests/test_kernels.py runs NumPy and Numba CPU,
tests/cudasim/ the Numba CUDA kernels under the simulator (small shapes), and the gpu-marked
tests CuPy and Numba CUDA on a device.
"""
from dataclasses import dataclass, field

import numpy as np

from tinyad.kernels import ACTIVATIONS, NUMPY
from tinyad.kernels.reference import window_grid

TAILS = [-100.0, -20.0, -8.0, 8.0, 20.0, 100.0]        # where 1 + tanh and s (1 - s) cancel
BULK = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


@dataclass
class Case:
    """Entry point `kernel` called as ``kernel(*params, *arrays, *extra)``; `layout` says how
    each array of 2 or more axes is viewed ("c", "T" transposed, "step" every other column), so
    a device applies the same view to its own copy; `tails` cases are compared relatively."""
    kernel: str
    params: tuple
    arrays: tuple
    layout: str = "c"
    tails: bool = False
    extra: tuple = field(default=())       # trailing non-array arguments (col2im's geometry)

    @property
    def id(self):
        shape = "x".join(map(str, self.arrays[0].shape)) or "scalar"
        return "-".join([self.kernel, *map(str, self.params), shape, self.layout,
                         self.arrays[0].dtype.name] + (["tails"] if self.tails else []))


def view(a, layout):
    return a.T if layout == "T" else (a[..., ::2] if layout == "step" else a)


def _normal(rng, shape, dtype, scale=3.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def cases(dtype, small=False):
    """Every kernel's cases in `dtype`; ``small`` keeps shapes simulator-sized (<= 64)."""
    rng = np.random.default_rng(0)
    out = []
    shapes = [(), (1,), (7,), (3, 5), (17, 33), (2, 1, 9), (0, 4)] if not small else [(7,), (5, 9)]
    for name in ACTIVATIONS:
        for shape in shapes:
            x, t = _normal(rng, shape, dtype), _normal(rng, shape, dtype, 1.0)
            out += [Case("act_forward", (name,), (x,)), Case("act_jvp", (name,), (x, t))]
        tails = np.array(TAILS, dtype)
        out += [Case("act_forward", (name,), (tails,), tails=True),
                Case("act_jvp", (name,), (tails, np.ones_like(tails)), tails=True)]
        wide = _normal(rng, (9, 14), dtype)                  # seen as (14, 9) or (9, 7)
        out += [Case("act_forward", (name,), (wide,), "T"),
                Case("act_jvp", (name,), (wide, _normal(rng, (9, 14), dtype)), "step")]
        for shape in ([(1, 1), (13, 1), (17, 33), (3, 4, 5)] if not small else [(5, 9)]):
            out.append(Case("bias_act", (name,), (_normal(rng, shape, dtype),
                                                  _normal(rng, shape[-1:], dtype))))
        out.append(Case("bias_act", (name,), (wide, _normal(rng, (7,), dtype)), "step"))
    for n, c in [(1, 1), (1, 7), (7, 1), (13, 10)] + ([(64, 129)] if not small else [(33, 17)]):
        out.append(Case("softmax_xent", (), (_normal(rng, (n, c), dtype, 5.0),
                                             rng.integers(0, c, n))))
    huge = _normal(rng, (6, 5), dtype, 1.0) * dtype(1e4)     # exp would overflow unshifted
    out.append(Case("softmax_xent", (), (huge, rng.integers(0, 5, 6)), tails=True))
    for m, k, n in [(1, 1, 1), (4, 4, 4), (37, 19, 23), (5, 0, 2)] if not small else [(17, 9, 5)]:
        out.append(Case("matmul", (), (_normal(rng, (m, k), dtype), _normal(rng, (k, n), dtype))))
    out.append(Case("matmul", (), (_normal(rng, (9, 14), dtype), _normal(rng, (5, 9), dtype)), "T"))
    for shape, kernel, stride, padding, dilation in [
            ((2, 3, 5, 6), (3, 3), (1, 1), (1, 1), (1, 1)),
            ((1, 2, 7, 5), (2, 3), (2, 1), (0, 1), (1, 1)),
            ((2, 2, 7, 6), (2, 3), (1, 2), ((0, 2), (1, 0)), (3, 2))]:      # dilated, one-sided
        oh, ow = window_grid(shape, kernel, stride, padding, dilation)
        cols = _normal(rng, (shape[0] * oh * ow, kernel[0] * kernel[1] * shape[1]), dtype)
        out.append(Case("col2im", (), (cols,), extra=(shape, kernel, stride, padding, dilation)))
    return out


def _views(case, arrays):
    """The arrays as the case lays them out: each of 2 or more axes through ``view``."""
    return tuple(view(a, case.layout) if a.ndim >= 2 else a for a in arrays)


def call(backend, case, arrays):
    return getattr(backend, case.kernel)(*case.params, *_views(case, arrays), *case.extra)


def expected(case):
    """The NumPy backend in float64 on the case's inputs (labels stay integers)."""
    wide = tuple(a.astype(np.float64) if a.dtype.kind == "f" else a for a in case.arrays)
    out = call(NUMPY, case, wide)
    return out if isinstance(out, tuple) else (out,)


def check(backend, case, to_device=lambda a: a, to_host=np.asarray):
    """Run `backend` on `case` (arrays moved by `to_device`, results back by `to_host`) and
    compare each output with ``expected(case)`` in the case's dtype and shape."""
    got = call(backend, case, tuple(map(to_device, case.arrays)))
    got = got if isinstance(got, tuple) else (got,)
    dtype = case.arrays[0].dtype.type
    tol = dict(rtol=BULK[dtype]["rtol"], atol=4 * np.finfo(dtype).tiny) if case.tails \
        else BULK[dtype]
    for g, w in zip(got, expected(case)):
        g = to_host(g)
        assert g.dtype == np.dtype(dtype) and g.shape == w.shape, (case.id, g.dtype, g.shape)
        np.testing.assert_allclose(g, w, equal_nan=True, err_msg=case.id, **tol)
