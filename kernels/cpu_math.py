"""The CPU target's elementary operations: what activations.py and xent.py are compiled with.

Numba's ``np.exp`` and ``np.tanh`` call scalar libm functions, and a call stops LLVM from
vectorizing the loop around it (1M float32 tanh: 12 ms against NumPy's SIMD 0.2 ms). ``exp`` and
``tanh`` below use only +, *, /, selects and bit operations, so a kernel's loop runs in SIMD
lanes. Both are inlined into every kernel; constants are made in the argument's type, so float32
stays float32.

    exp(u)      within 2 ulp (tests)
    tanh(u)     within 4 ulp
    row_sum(v)  sum(v) in float64, reassociated into SIMD lanes
"""
import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .jit import inline

LOG2E = 1.4426950408889634
LN2_HI = 0.693359375                          # ln 2 = LN2_HI + LN2_LO; LN2_HI has 9 bits, so
LN2_LO = -2.12194440054690582768e-4           # n * LN2_HI is exact for |n| < 2^15 in float32


@intrinsic
def scale_by_pow2(typingctx, m, n):
    """``m * 2**n`` for a float m and an integer n, as two multiplications by powers of two built
    from their bits ((k + bias) << mantissa bits: no table, no libm, so it vectorizes). n is
    clamped to [-160, 254] (float32) or [-1100, 2046] (float64), beyond which m * 2**n has
    underflowed to 0 or overflowed to inf; each half, n // 2 and n - n // 2, is then a normal
    number and the product rounds once."""
    if not isinstance(m, types.Float) or not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        width = m.bitwidth
        ity = ir.IntType(width)
        mantissa, bias, lowest, highest = ((23, 127, -160, 254) if width == 32
                                           else (52, 1023, -1100, 2046))
        k = args[1]
        k = builder.trunc(k, ity) if k.type.width > width else builder.sext(k, ity)
        k = builder.select(builder.icmp_signed("<", k, ity(lowest)), ity(lowest), k)
        k = builder.select(builder.icmp_signed(">", k, ity(highest)), ity(highest), k)
        half = builder.ashr(k, ity(1))
        ftype = context.get_value_type(m)
        result = args[0]
        for part in (half, builder.sub(k, half)):
            bits = builder.shl(builder.add(part, ity(bias)), ity(mantissa))
            result = builder.fmul(result, builder.bitcast(bits, ftype))
        return result
    return m(m, n), codegen


@inline
def exp(u):
    """e^u (below -745.2, and -inf, give 0; above 710, and inf, give inf). Write u = n ln2 + r
    with n = round(u / ln2), so |r| <= ln2 / 2 and e^u = 2^n e^r; Cephes' Pade form gives
    e^r = 1 + 2p / (q - p), p = r P(r^2), q = Q(r^2). NaN gives NaN."""
    T = type(u)
    x = T(-745) if u < -745 else (T(710) if u > 710 else u)    # float64's last, both ends
    n = np.floor(x * T(LOG2E) + T(0.5))
    r = (x - n * T(LN2_HI)) - n * T(LN2_LO)
    r2 = r * r
    p = r * ((T(1.26177193074810590878e-4) * r2 + T(3.02994407707441961300e-2)) * r2 + T(1))
    q = ((T(3.00198505138664455042e-6) * r2 + T(2.52448340349684104192e-3)) * r2
         + T(2.27265548208155028766e-1)) * r2 + T(2)
    k = int(n) if n == n else 0
    e = scale_by_pow2(T(1) + T(2) * p / (q - p), k) if n == n else x
    return T(0) if u < T(-745.2) else e


@inline
def tanh(u):
    """tanh by halving and doubling: t(y) for |y| <= 0.625, then tanh(2y) = 2t / (1 + t^2).

    Five doublings undo x = 32 y. Small y uses Cephes' rational fit y + y^3 P(y^2) / Q(y^2);
    a doubling's relative condition number is (1 - t^2) / (1 + t^2) <= 1, so the error it inherits
    never grows: each step adds only its own rounding (measured worst case: 3.4 ulp).
    |x| is capped at 20 (tanh(20) rounds to 1 even in float64); NaN passes the cap unchanged.
    """
    T = type(u)
    x = T(20) if u > 20 else (T(-20) if u < -20 else u)
    y = x * T(0.03125)
    z = y * y
    p = (T(-0.964399179425052238628) * z - T(99.2877231001918586564)) * z \
        - T(1614.68768441708447952)
    q = ((z + T(112.811678491632931402)) * z + T(2235.48839060100448583)) * z \
        + T(4844.06305325125486048)
    t = y + y * z * p / q
    for _ in range(5):
        t = T(2) * t / (T(1) + t * t)
    return t


@numba.njit(fastmath={"reassoc"})
def row_sum(row):
    """``sum(row)`` in float64, reassociated into SIMD lanes (called, not inlined, to keep the
    fast-math flag on these adds alone)."""
    s = 0.0
    for v in row:
        s += v
    return s
