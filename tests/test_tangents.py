"""The tangent generator (tinyad.learning.fast_tangents over tinyad.kernels.cpu_random): the bits
against the published algorithms and a NumPy model of the whole pipeline, the distribution
(moments, a chi-square and a Kolmogorov-Smirnov test, tails, the angle and radius of each pair),
independence across neighbours, lanes, chunks, slices and keys, and reproducibility across
threads, sizes and dtypes. Every test draws from a fixed seed: the thresholds are set so that a
correct generator passes them for almost every seed (about 4 standard errors)."""
import math

import numpy as np
import pytest

ft = pytest.importorskip("tinyad.learning.fast_tangents")
if not ft.available():
    pytest.skip("numba is not installed", allow_module_level=True)
from tinyad.kernels import cpu_random as cr  # noqa: E402

MASK = 0xFFFFFFFF


# --- a NumPy model of the generator: exact words, float64 Box-Muller ---------------------------
def philox_reference(c, k):
    """Philox4x32-10 as Salmon et al. define it, on Python ints (vectors of counters allowed)."""
    c = [np.asarray(v, dtype=np.uint64) for v in c]
    k0, k1 = (np.uint64(v) for v in k)
    for _ in range(10):
        p0, p1 = np.uint64(cr.PHILOX_M[0]) * c[0], np.uint64(cr.PHILOX_M[1]) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & np.uint64(MASK),
             (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & np.uint64(MASK)]
        k0 = (k0 + np.uint64(cr.PHILOX_W[0])) & np.uint64(MASK)
        k1 = (k1 + np.uint64(cr.PHILOX_W[1])) & np.uint64(MASK)
    return [v.astype(np.uint32) for v in c]


def xoshiro_reference(s):
    """xoshiro128++ (Blackman and Vigna) on uint32 arrays: (word, state)."""
    def rotl(x, k):
        return (x << np.uint32(k)) | (x >> np.uint32(32 - k))
    s0, s1, s2, s3 = s
    word = rotl(s0 + s3, 7) + s0
    t = s1 << np.uint32(9)
    s2 = s2 ^ s0
    s3 = s3 ^ s1
    s1 = s1 ^ s2
    s0 = s0 ^ s3
    s2 = s2 ^ t
    return word, [s0, s1, s2, rotl(s3, 11)]


def chunk_words(chunk, key):
    """Words (STEPS·2, LANES) of one normal chunk, as the module docstring lays them out."""
    lanes = np.arange(cr.LANES)
    state = philox_reference((chunk & MASK, chunk >> 32, lanes, key[2]), key[:2])
    rows = []
    for _ in range(2 * cr.STEPS):
        word, state = xoshiro_reference(state)
        rows.append(word)
    return np.array(rows)


def uniform_of(a):
    """u = ((a >> 1) + 1/2) / 2^31, rounded to float32 as the kernel rounds it."""
    a = np.asarray(a, dtype=np.uint64)
    return ((a >> np.uint64(1)).astype(np.float32) + np.float32(0.5)).astype(np.float64) / 2 ** 31


def normals_reference(words):
    """Box-Muller in float64 from the words of one chunk, in output order."""
    a, b = words[0::2].astype(np.uint64), words[1::2].astype(np.uint64)
    u = uniform_of(a)
    turn = ((b << np.uint64(2)) & np.uint64(MASK)).astype(np.uint32).view(np.int32)
    x = turn * (math.pi / 4 / 2 ** 31)
    r = np.sqrt(-2 * np.log(u))
    z0 = r * np.cos(x + math.pi / 4) * np.where(b >> np.uint64(31) & np.uint64(1), -1, 1)
    z1 = r * np.sin(x + math.pi / 4) * np.where(b >> np.uint64(30) & np.uint64(1), -1, 1)
    return np.concatenate([z0, z1], axis=1).ravel()          # per step: LANES z0, then LANES z1


def key_of(seed):
    """The key draw_flat takes from np.random.default_rng(seed)."""
    return [int(k) for k in np.random.default_rng(seed).integers(0, 2 ** 32, 3, dtype=np.uint64)]


def test_philox_matches_random123_known_answers():
    cases = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
             ((MASK,) * 4, (MASK, MASK), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
             ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
              (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]
    for counter, key, expected in cases:
        got = cr.philox(*(np.uint64(v) for v in counter + key))
        assert tuple(int(v) for v in got) == expected
        assert tuple(int(v) for v in philox_reference(counter, key)) == expected


def test_kernel_matches_the_numpy_model():
    """Chunks 0 and 1 of seed 5: the same words, so the normals agree to the float32 rounding of
    the polynomials (2e-6 relative to the radius), and the signs and quadrants exactly."""
    n = 2 * cr.CHUNK
    got = ft.draw_flat(n, "normal", np.random.default_rng(5)).astype(np.float64)
    key = key_of(5)
    want = np.concatenate([normals_reference(chunk_words(c, key)) for c in range(2)])
    worst = np.max(np.abs(got - want) / (1 + np.abs(want)))
    assert worst < 2e-6, worst
    assert np.array_equal(np.sign(got), np.sign(want))


def test_rademacher_signs_are_the_bits_of_the_words():
    got = ft.draw_flat(cr.CHUNK, "rademacher", np.random.default_rng(6))
    words = chunk_words(0, key_of(6))[:cr.WORDS // cr.LANES].ravel()      # word w: step w // LANES
    bits = (words[:, None] >> np.arange(32, dtype=np.uint32)) & 1
    assert np.array_equal(got, 1 - 2 * bits.ravel().astype(np.float32))


def test_extreme_words_give_finite_normals_in_range():
    """u is never 0 and the radius is bounded: a = 0 gives the largest, a = 2^32 - 1 the
    smallest (u rounds to 1: 0); every quadrant and both ends of the angle range agree."""
    for a in (0, 1, 2, 0x7FFFFFFF, 0x80000000, MASK):
        for b in (0, 1, 0x3FFFFFFF, 0x40000000, 0x80000000, 0xC0000000, MASK):
            z0, z1 = cr.box_muller(np.uint32(a), np.uint32(b))
            radius = math.sqrt(-2 * math.log(uniform_of(a)))
            assert math.isclose(math.hypot(z0, z1), radius, rel_tol=2e-6, abs_tol=1e-7)
    assert math.isclose(math.hypot(*cr.box_muller(np.uint32(0), np.uint32(0))),
                        math.sqrt(64 * math.log(2)), rel_tol=1e-6)


# --- the distribution ------------------------------------------------------------------------
def normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(np.asarray(x, dtype=np.float64) / math.sqrt(2)))


@pytest.fixture(scope="module")
def sample():
    return ft.draw_flat(4_000_003, "normal", np.random.default_rng(11)).astype(np.float64)


def test_moments(sample):
    n = sample.size
    for k, exact in ((1, 0.0), (2, 1.0), (3, 0.0), (4, 3.0), (6, 15.0)):
        spread = math.sqrt(np.prod(np.arange(1, 2 * k, 2)) - exact ** 2)   # sd of z^k
        assert abs(np.mean(sample ** k) - exact) < 4.5 * spread / math.sqrt(n), k


def test_chi_square_and_kolmogorov_smirnov(sample):
    edges = np.concatenate([[-np.inf], np.linspace(-4, 4, 161), [np.inf]])
    counts = np.histogram(sample, edges)[0]
    expected = np.diff(normal_cdf(edges)) * sample.size
    chi2 = np.sum((counts - expected) ** 2 / expected)
    dof = len(counts) - 1
    assert chi2 < dof + 4.5 * math.sqrt(2 * dof)
    head = np.sort(sample[:200_000])
    cdf = normal_cdf(head)
    ks = max(np.max(np.arange(1, head.size + 1) / head.size - cdf),
             np.max(cdf - np.arange(head.size) / head.size))
    assert ks * math.sqrt(head.size) < 1.95                     # Kolmogorov's 0.1% point


def test_tails(sample):
    for t in (2.0, 3.0, 4.0):
        p = 2 * (1 - normal_cdf(t))
        hits = np.mean(np.abs(sample) > t)
        assert abs(hits - p) < 4.5 * math.sqrt(p / sample.size), t
    assert np.abs(sample).max() < math.sqrt(64 * math.log(2))


def test_pairs_have_uniform_angle_and_exponential_radius():
    z = ft.draw_flat(64 * cr.CHUNK, "normal", np.random.default_rng(12)).astype(np.float64)
    steps = z.reshape(-1, 2, cr.LANES)                               # (step, z0|z1, lane)
    z0, z1 = steps[:, 0].ravel(), steps[:, 1].ravel()
    angle = np.arctan2(z1, z0)
    counts = np.histogram(angle, np.linspace(-np.pi, np.pi, 257))[0]
    chi2 = np.sum((counts - z0.size / 256) ** 2 / (z0.size / 256))
    assert chi2 < 255 + 4.5 * math.sqrt(2 * 255)
    uniform = np.exp(-(z0 ** 2 + z1 ** 2) / 2)                       # P(R² > r²) = e^{-r²/2}
    counts = np.histogram(uniform, np.linspace(0, 1, 101))[0]
    chi2 = np.sum((counts - z0.size / 100) ** 2 / (z0.size / 100))
    assert chi2 < 99 + 4.5 * math.sqrt(2 * 99)


def test_independence_across_neighbours_lanes_chunks_slices_and_keys(sample):
    """Correlations at lags 1 (neighbour lanes), LANES (z0 with z1 of a pair), 2·LANES (the next
    step of the same lane), CHUNK (the same place in the next chunk), between two halves of the
    array (two layers' slices) and between two draws; and of squares (dependence in size)."""
    n = sample.size
    bound = 4.5 / math.sqrt(n // 2)
    for lag in (1, cr.LANES, 2 * cr.LANES, cr.CHUNK, n // 2):
        a, b = sample[:n - lag], sample[lag:]
        assert abs(np.corrcoef(a, b)[0, 1]) < bound, lag
        assert abs(np.corrcoef(a ** 2, b ** 2)[0, 1]) < bound, lag
    rng = np.random.default_rng(13)
    first, second = (ft.draw_flat(1_000_000, "normal", rng) for _ in range(2))
    assert abs(np.corrcoef(first, second)[0, 1]) < 4.5 / 1000


def test_rademacher_is_balanced_and_independent():
    r = ft.draw_flat(2_000_001, "rademacher", np.random.default_rng(14))
    assert set(np.unique(r)) == {-1.0, 1.0}
    assert abs(r.mean()) < 4.5 / math.sqrt(r.size)
    for lag in (1, 31, 32, 33, cr.CHUNK):
        assert abs(np.mean(r[:-lag] * r[lag:])) < 4.5 / math.sqrt(r.size), lag


# --- reproducibility -------------------------------------------------------------------------
@pytest.mark.parametrize("distribution", ["normal", "rademacher"])
def test_same_numbers_for_any_thread_count_size_and_output(distribution, monkeypatch):
    monkeypatch.setattr(ft, "MIN_CHUNKS", 1)                          # threads even for 6 chunks
    n = 5 * cr.CHUNK + 123
    one = ft.draw_flat(n, distribution, np.random.default_rng(21))
    for threads in (2, 3, 4, 7):
        assert np.array_equal(ft.draw_flat(n, distribution, np.random.default_rng(21),
                                           threads=threads), one), threads
    assert ft._state["pool_size"] >= 6                                # 7 asked, 6 chunks
    out = np.full(n, np.nan, np.float32)
    assert ft.draw_flat(n, distribution, np.random.default_rng(21), out=out) is out
    assert np.array_equal(out, one)
    for m in (1, 15, 17, cr.CHUNK - 1, cr.CHUNK + 1):                 # a number does not depend
        assert np.array_equal(ft.draw_flat(m, distribution, np.random.default_rng(21)),
                              one[:m]), m                              # on where the array ends
    wide = ft.draw_flat(n, distribution, np.random.default_rng(21), dtype=np.float64)
    assert wide.dtype == np.float64 and np.array_equal(wide, one.astype(np.float64))
    ft.set_threads(2)
    try:
        assert np.array_equal(ft.draw_flat(n, distribution, np.random.default_rng(21)), one)
    finally:
        ft.set_threads(1)


def test_each_draw_moves_the_generator_on():
    rng = np.random.default_rng(0)
    a, b = ft.draw_flat(100, "normal", rng), ft.draw_flat(100, "normal", rng)
    assert not np.array_equal(a, b)
    assert ft.draw_flat(0, "normal", rng).shape == (0,)


def test_bad_arguments_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="distribution"):
        ft.draw_flat(3, "uniform", rng)
    with pytest.raises(ValueError, match="out must be"):
        ft.draw_flat(3, "normal", rng, out=np.empty(4, np.float32))
    with pytest.raises(ValueError, match="out must be"):
        ft.draw_flat(3, "normal", rng, out=np.empty(6, np.float32)[::2])
    with pytest.raises(ValueError, match="out must be"):
        ft.draw_flat(3, "normal", rng, out=np.empty(3, np.int32))
    with pytest.raises(ValueError, match="thread"):
        ft.set_threads(0)


def test_a_new_tangent_reuses_the_memory_of_one_dropped(monkeypatch):
    """Large draws come from tinyad.kernels.buffers: a step's tangent takes the memory the
    previous step's gave back (no fresh pages to fault in), never one still in use."""
    from tinyad.kernels import buffers
    monkeypatch.setattr(buffers, "_pool", [])
    rng = np.random.default_rng(0)
    first = ft.draw_flat(1 << 20, "normal", rng)
    address = first.__array_interface__["data"][0]
    second = ft.draw_flat(1 << 20, "normal", rng)
    assert second.__array_interface__["data"][0] != address
    del first
    third = ft.draw_flat(1 << 20, "normal", rng)
    assert third.__array_interface__["data"][0] == address
    assert not np.shares_memory(second, third)
