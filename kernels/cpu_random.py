"""Normal and Rademacher numbers in bulk: a counter-based, vectorised generator (Numba, CPU).

Where each number comes from. The output is cut into chunks of CHUNK = 2·LANES·STEPS numbers.
Chunk c is made by LANES xoshiro128++ generators (Blackman and Vigna 2018, 32-bit words) side by
side, one per SIMD lane; lane l starts from 128 bits of Philox4x32-10 (Salmon, Moraes, Dror, Shaw
2011) of the counter (c, l) under the draw's key (k0, k1, k2):

    state(c, l) = Philox4x32-10(counter = (c mod 2^32, c div 2^32, l, k2), key = (k0, k1))

So a number is a function of the key and its index alone: any chunk can be made on its own, and
threads that share the chunks out write what one thread writes, bit for bit. Step t of lane l
gives the words (a, b) of pair p = LANES·t + l, whose two numbers land at
``out[c·CHUNK + 2·LANES·t + l]`` and ``out[c·CHUNK + 2·LANES·t + LANES + l]`` (whole vectors
are stored at once). Rademacher chunks use words one by one: sign j of the chunk is bit j mod 32 of
word j div 32, word w being step w div LANES of lane w mod LANES.

Normal: Box-Muller on each pair, vectorised (no branch, no table, no libm call):

    z0 = r·cos θ,  z1 = r·sin θ,   r = sqrt(-2 ln u),   θ uniform on [0, 2π)
    u  = ((a >> 1) + ½) / 2^31                   in float32: (0, 1], never 0 (1 for the top
                                                 2^-25 of words, rounded: z = 0)
    θ  = π/4 + x,  x = (b << 2) · (π/4) / 2^31   x in [-π/4, π/4), then quadrant signs from
                                                 bits 31 (z0) and 30 (z1) of b

cos θ = (cos x - sin x)/√2 and sin θ = (cos x + sin x)/√2, so z = sqrt(-ln u)·(cos x ∓ sin x)
with its sign. ln u = (k - 31) ln 2 + ln m with u·2^31 = 2^k·m, m in [√½, √2) (the exponent
split of musl's logf), and ln m = f - f²/2 + f³·P(f), f = m - 1, P a degree-6 fit (Chebyshev nodes,
least squares) accurate to 5.4e-8 on that interval; sin and cos on [-π/4, π/4] are Cephes'
polynomials (error < 3e-9). All of it is float32 arithmetic with explicit fused multiply-adds
(``llvm.fma``, exactly rounded), never fast-math: the vector loop and its scalar remainder give
the same bits. |z| <= sqrt(2·32 ln 2) = 6.66 (P(|Z| > 6.66) = 2.7e-11).

Cost per number: about 4 vector instructions, a third of them for the words (measured in
bench/results/tangents.md). The kernels release the GIL: ``fast_tangents`` runs one per thread
on disjoint ranges of chunks when asked for threads.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, uint32, uint64
from numba.core import types
from numba.extending import intrinsic

from .jit import CACHE, inline

LANES = 16                      # xoshiro generators side by side (two AVX2 vectors)
STEPS = 128                     # pairs (normal) per lane and chunk
CHUNK = 2 * LANES * STEPS       # numbers per chunk: 4096
WORDS = CHUNK // 32             # words per Rademacher chunk (32 signs each)
PHILOX_M = (0xD2511F53, 0xCD9E8D57)     # Philox4x32 multipliers and key increments
PHILOX_W = (0x9E3779B9, 0xBB67AE85)
LOG_P = (0.09272216, -0.14118425, 0.14676396, -0.16592856, 0.19985128, -0.25000922, 0.3333341)
SIN = (-1.6666654611e-1, 8.3321608736e-3, -1.9515295891e-4)
COS = (4.166664568298827e-2, -1.388731625493765e-3, 2.443315711809948e-5)


# --- three LLVM operations Numba does not spell: a fused multiply-add and float <-> bits ------
@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c rounded once (float32)."""
    def codegen(context, builder, signature, args):
        f = ir.FloatType()
        fn = builder.module.declare_intrinsic("llvm.fma", [f], ir.FunctionType(f, [f, f, f]))
        return builder.call(fn, args)
    return types.float32(types.float32, types.float32, types.float32), codegen


@intrinsic
def float_bits(typingctx, x):
    """The 32 bits of a float32, as uint32."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.uint32(types.float32), codegen


@intrinsic
def bits_float(typingctx, x):
    """The float32 whose bits are the low 32 bits of integer x."""
    def codegen(context, builder, signature, args):
        v = args[0]
        if v.type.width != 32:
            v = builder.trunc(v, ir.IntType(32))
        return builder.bitcast(v, ir.FloatType())
    return types.float32(x), codegen


# --- the bits ---------------------------------------------------------------------------------
M0, M1, W0, W1 = (uint64(v) for v in PHILOX_M + PHILOX_W)
LOW = uint64(0xFFFFFFFF)


@inline
def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of the counter (c0..c3) under the key (k0, k1), 32-bit values held in
    uint64: ten rounds of two 32x32 -> 64-bit products, their halves xored across."""
    for _ in range(10):
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = ((p1 >> uint64(32)) ^ c1 ^ k0, p1 & LOW,
                          (p0 >> uint64(32)) ^ c3 ^ k1, p0 & LOW)
        k0, k1 = (k0 + W0) & LOW, (k1 + W1) & LOW
    return c0, c1, c2, c3


@inline
def seed_lanes(state, chunk, k0, k1, k2):
    """state[:, l] = Philox4x32-10((chunk lo, chunk hi, l, k2), (k0, k1)); never all zero."""
    c = uint64(chunk)
    for lane in range(LANES):
        s0, s1, s2, s3 = philox(c & LOW, c >> uint64(32), uint64(lane), k2, k0, k1)
        state[0, lane], state[1, lane], state[2, lane] = uint32(s0), uint32(s1), uint32(s2)
        state[3, lane] = uint32(s3) | uint32((s0 | s1 | s2 | s3) == 0)


@inline
def rotl(x, k):
    return uint32(uint32(x << uint32(k)) | uint32(x >> uint32(32 - k)))


@inline
def xoshiro(s0, s1, s2, s3):
    """One xoshiro128++ step: (word, new state)."""
    word = uint32(rotl(uint32(s0 + s3), 7) + s0)
    t = uint32(s1 << uint32(9))
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    return word, s0, s1, s2, rotl(s3, 11)


# --- normal numbers from two words ------------------------------------------------------------
F = np.float32
P0, P1, P2, P3, P4, P5, P6 = (F(v) for v in LOG_P)
S1, S2, S3 = (F(v) for v in SIN)
C1, C2, C3 = (F(v) for v in COS)
LN2, ANGLE = F(math.log(2)), F(math.pi / 4 / 2 ** 31)
SIGN, ONE = uint32(0x80000000), uint32(0x3F800000)       # float32 sign bit, float32 1.0


@inline
def minus_log(a):
    """-ln u for u = ((a >> 1) + ½) / 2^31, in float32."""
    x = F(np.int32(a >> uint32(1))) + F(0.5)                    # u·2^31: rounded above 2^24
    ix = uint32(float_bits(x) - uint32(0x3F3504F3))             # split the exponent at √½
    k = np.int32(np.int32(ix) >> np.int32(23))
    m = bits_float(uint32(uint32(ix & uint32(0x007FFFFF)) + uint32(0x3F3504F3)))
    f = m - F(1)
    z = f * f
    p = fma(fma(fma(fma(fma(fma(P0, f, P1), f, P2), f, P3), f, P4), f, P5), f, P6)
    log_m = fma(z * f, p, fma(F(-0.5), z, f))
    return fma(F(np.int32(np.int32(31) - k)), LN2, -log_m)


@inline
def box_muller(a, b):
    """Two independent standard normals from two uniform 32-bit words (module docstring)."""
    rho = F(math.sqrt(minus_log(a)))                            # r / √2
    x = F(np.int32(uint32(b << uint32(2)))) * ANGLE
    x2 = x * x
    s = fma(x * x2, fma(fma(S3, x2, S2), x2, S1), x)
    c = fma(x2 * x2, fma(fma(C3, x2, C2), x2, C1), fma(F(-0.5), x2, F(1)))
    z0 = bits_float(float_bits(rho * (c - s)) ^ (b & SIGN))
    z1 = bits_float(float_bits(rho * (c + s)) ^ (uint32(b << uint32(1)) & SIGN))
    return z0, z1


# --- whole chunks -----------------------------------------------------------------------------
@inline
def normal_chunk(out, at, state):
    """Numbers of one chunk into out[at:at + CHUNK], from seeded lanes."""
    for t in range(STEPS):
        base = at + 2 * LANES * t
        for lane in range(LANES):
            s0, s1, s2, s3 = state[0, lane], state[1, lane], state[2, lane], state[3, lane]
            a, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
            b, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
            state[0, lane], state[1, lane], state[2, lane], state[3, lane] = s0, s1, s2, s3
            z0, z1 = box_muller(a, b)
            out[base + lane] = z0
            out[base + LANES + lane] = z1


@inline
def rademacher_chunk(out, at, state):
    """Signs ±1 of one chunk into out[at:at + CHUNK]: bit j of a word -> 1 - 2·bit (the bit
    moved to the sign of the float 1.0)."""
    words = np.empty(WORDS, np.uint32)
    for t in range(WORDS // LANES):
        for lane in range(LANES):
            s0, s1, s2, s3 = state[0, lane], state[1, lane], state[2, lane], state[3, lane]
            words[LANES * t + lane], s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
            state[0, lane], state[1, lane], state[2, lane], state[3, lane] = s0, s1, s2, s3
    for w in range(WORDS):
        word = words[w]
        for j in range(32):
            out[at + 32 * w + j] = bits_float(ONE | (uint32(word << uint32(31 - j)) & SIGN))


NORMAL, RADEMACHER = 0, 1


@njit(nogil=True, cache=CACHE)
def fill(out, kind, first_chunk, k0, k1, k2):
    """Chunks first_chunk, first_chunk + 1, ... of the stream of `kind` (NORMAL or RADEMACHER)
    into `out`; a last partial chunk is made whole in a scratch array and its head copied, so the
    numbers never depend on where `out` ends."""
    state = np.empty((4, LANES), np.uint32)
    full = -(-out.size // CHUNK)
    for c in range(full):
        seed_lanes(state, first_chunk + c, k0, k1, k2)
        whole = (c + 1) * CHUNK <= out.size
        target, at = (out, c * CHUNK) if whole else (np.empty(CHUNK, out.dtype), 0)
        if kind == NORMAL:
            normal_chunk(target, at, state)
        else:
            rademacher_chunk(target, at, state)
        if not whole:
            out[c * CHUNK:] = target[:out.size - c * CHUNK]
