"""Synthetic data: 2-D teaching sets and an MNIST-shaped default that needs no download.

The 2-D sets (``make_moons``, ``make_circles``, ``make_spirals``, ``make_xor``) are the classic
pictures for showing what a linear model cannot do and a small MLP can. Each returns
``(x float32 (n, 2), y int64 (n,))`` with balanced classes in shuffled order, and is deterministic
for a given ``seed`` (default 0, so examples draw the same picture every time).

``load_default`` returns procedurally drawn handwriting-like digits in MNIST's layout
(28x28 grey-scale, flattened to 784, values in [0, 1], labels 0-9). No real MNIST image is used or
shipped: every image is drawn here, at call time, from the stroke templates in ``_DIGITS``:

1. pick one of the class's templates (a "1" with or without a flag, a "7" with or without a bar...)
   made of lines, elliptic arcs and quadratic Bezier curves in a box about 0.6 wide and 1 high;
2. resample the strokes into 128 points evenly spaced along their length;
3. bend the points with a random smooth warp (a few sine waves), then a random affine map
   (rotation, slant, scale, aspect ratio, shift) into pixel coordinates;
4. draw every point as a Gaussian blob of random width (the pen thickness) - a sum of Gaussians
   along a curve is an anti-aliased stroke - scale the ink by a random gain and clip to [0, 1];
5. add a little pixel noise.

All randomness comes from ``numpy.random.default_rng`` with fixed seeds (10,000 training images,
seed 0; 2,000 test images, seed 1), so the set is the same on every run and, up to the last bits
of float rounding, on every machine. Drawing all 12,000 takes about a second on one core.

It is learnable but not trivial, like MNIST with more position and shape variation. Measured on
the test split: nearest class mean 64%, softmax regression (Adam, 60 epochs) 85% (93% on the
training images), a 784-256-256-10 ReLU MLP with backprop (Adam, 10 epochs) about 97%.
"""
import functools

import numpy as np

# ---------------------------------------------------------------- 2-D teaching sets


def _balanced_labels(n, classes):
    """``n`` labels, as equal per class as possible (the first ``n % classes`` get one more)."""
    return np.sort(np.arange(n) % classes)


def _finish(x, y, noise, rng):
    """Add Gaussian noise, shuffle, and return the ``(float32, int64)`` pair."""
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(len(y))
    return x[order].astype(np.float32), y[order].astype(np.int64)


def make_moons(n=200, noise=0.1, seed=0):
    """Two interleaving half circles: class 0 the upper arch, class 1 the lower, shifted one."""
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n, 2)
    t = np.pi * rng.random(n)
    x = np.where(y[:, None] == 0,
                 np.stack([np.cos(t), np.sin(t)], 1),
                 np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))
    return _finish(x, y, noise, rng)


def make_circles(n=200, noise=0.05, factor=0.5, seed=0):
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (< 1)."""
    if not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n, 2)
    t = 2 * np.pi * rng.random(n)
    radius = np.where(y == 0, 1.0, factor)[:, None]
    return _finish(radius * np.stack([np.cos(t), np.sin(t)], 1), y, noise, rng)


def make_spirals(n=300, classes=3, noise=0.2, seed=0):
    """``classes`` interleaved spiral arms (the CS231n picture); ``noise`` jitters the angle."""
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n, classes)
    r = rng.random(n)                              # distance from the centre, 0..1
    angle = 4.0 * r + 2 * np.pi * y / classes + noise * rng.standard_normal(n)
    return _finish(r[:, None] * np.stack([np.sin(angle), np.cos(angle)], 1), y, 0.0, rng)


def make_xor(n=200, noise=0.1, seed=0):
    """Points in the four quadrants of [-1, 1]^2; label 1 where the coordinates differ in sign."""
    rng = np.random.default_rng(seed)
    quadrant = np.arange(n) % 4
    signs = np.stack([np.where(quadrant % 2, 1.0, -1.0), np.where(quadrant // 2, 1.0, -1.0)], 1)
    x = signs * rng.uniform(0.05, 1.0, (n, 2))
    y = (signs[:, 0] != signs[:, 1]).astype(np.int64)
    return _finish(x, y, noise, rng)


# ---------------------------------------------------------------- procedural digits


def _line(*points):
    """A polyline through ``points`` (x to the right, y downwards, the digit box is 1 high)."""
    return np.array(points, dtype=float)


def _arc(cx, cy, rx, ry, start, stop):
    """An elliptic arc; angles in degrees, 0 pointing right, increasing clockwise on screen."""
    t = np.radians(np.linspace(start, stop, 48))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _curve(p0, p1, p2):
    """A quadratic Bezier curve from ``p0`` to ``p2``, pulled towards ``p1``."""
    t = np.linspace(0.0, 1.0, 32)[:, None]
    return (1 - t) ** 2 * np.array(p0) + 2 * t * (1 - t) * np.array(p1) + t ** 2 * np.array(p2)


# _DIGITS[d] lists the ways of writing digit d; each way is a list of strokes.
_DIGITS = [
    [[_arc(0, 0, .27, .48, 0, 360)],
     [_arc(0, 0, .23, .47, 250, 640)]],
    [[_line((0, -.5), (0, .5))],
     [_line((-.17, -.3), (0, -.5), (0, .5))],
     [_line((-.17, -.3), (0, -.5), (0, .5)), _line((-.17, .5), (.17, .5))]],
    [[_arc(0, -.22, .26, .27, 190, 380), _line((.245, -.13), (-.28, .5), (.3, .5))],
     [_arc(0, -.22, .26, .27, 190, 380), _curve((.245, -.13), (.05, .25), (-.28, .5)),
      _line((-.28, .5), (.3, .48))]],
    [[_arc(0, -.25, .25, .24, 200, 450), _arc(0, .24, .28, .26, 270, 520)],
     [_line((-.25, -.5), (.25, -.5), (-.04, -.04)), _arc(0, .24, .28, .28, 260, 520)]],
    [[_line((.12, .5), (.12, -.5), (-.3, .18), (.3, .18))],
     [_line((-.2, -.5), (-.26, .15), (.3, .15)), _line((.14, -.3), (.14, .5))]],
    [[_line((.24, -.5), (-.18, -.5), (-.235, 0)), _arc(-.02, .2, .27, .29, 215, 515)],
     [_line((-.18, -.5), (-.235, 0)), _arc(-.02, .2, .27, .29, 215, 515),
      _line((-.18, -.5), (.24, -.5))]],
    [[_curve((.2, -.5), (-.3, -.35), (-.26, .22)), _arc(0, .22, .26, .27, 180, 540)],
     [_line((.15, -.5), (-.24, .15)), _arc(0, .22, .25, .27, 0, 360)]],
    [[_line((-.28, -.5), (.28, -.5), (-.05, .5))],
     [_line((-.28, -.5), (.28, -.5), (-.05, .5)), _line((-.12, .02), (.2, .02))],
     [_line((-.28, -.42), (-.28, -.5), (.28, -.5)), _curve((.28, -.5), (0, 0), (-.02, .5))]],
    [[_arc(0, -.26, .21, .23, 0, 360), _arc(0, .23, .27, .27, 0, 360)],
     [_arc(0, -.27, .24, .22, 0, 360), _arc(0, .21, .25, .29, 0, 360)]],
    [[_arc(0, -.22, .25, .27, 0, 360), _line((.25, -.22), (.22, .5))],
     [_arc(0, -.22, .25, .27, 0, 360), _curve((.25, -.22), (.3, .4), (-.15, .5))]],
]

_POINTS = 128  # points per template; about two per pixel of stroke, so the blobs merge smoothly
_SIZE = 28     # image side in pixels, as in MNIST; digits are about 20 pixels high


def _resample(strokes):
    """Spread ``_POINTS`` points evenly along ``strokes``: returns them (P, 2) and, per point, the
    length of stroke it stands for (P,), so that long and short templates draw equally dark."""
    lengths = np.array([np.linalg.norm(np.diff(s, axis=0), axis=1).sum() for s in strokes])
    counts = np.maximum(2, np.round(_POINTS * lengths / lengths.sum()).astype(int))
    counts[np.argmax(counts)] += _POINTS - counts.sum()
    points, weights = [], []
    for stroke, length, k in zip(strokes, lengths, counts):
        along = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(stroke, axis=0), axis=1))])
        at = (np.arange(k) + 0.5) * length / k
        points.append(np.stack([np.interp(at, along, stroke[:, 0]),
                                np.interp(at, along, stroke[:, 1])], 1))
        weights.append(np.full(k, length / k))
    return np.concatenate(points), np.concatenate(weights)


@functools.cache
def _templates():
    """All templates resampled: points (T, P, 2), weights (T, P), digit of each template (T,)."""
    resampled = [_resample(way) for ways in _DIGITS for way in ways]
    digit = np.array([d for d, ways in enumerate(_DIGITS) for _ in ways])
    return (np.stack([p for p, _ in resampled]), np.stack([w for _, w in resampled]), digit)


def _splat(points, ink, pen):
    """Draw each point as a Gaussian blob of width ``pen``: points (b, P, 2) in pixels (x, y),
    ink per point (b, P), pen (b,) -> images (b, 28, 28). A 2-D Gaussian is a product of two
    1-D ones, so the sum over points is one batched matrix product of row and column profiles."""
    grid = np.arange(_SIZE, dtype=np.float32)
    points, width = points.astype(np.float32), pen.astype(np.float32)[:, None, None]
    cols = np.exp(-0.5 * ((grid - points[..., :1]) / width) ** 2)              # (b, P, 28)
    rows = np.exp(-0.5 * ((grid - points[..., 1:]) / width) ** 2)
    rows *= ink[..., None].astype(np.float32)
    return rows.transpose(0, 2, 1) @ cols          # image[r, c] = sum_p rows[p, r] * cols[p, c]


def make_digits(n=1000, seed=0, noise=0.05):
    """Draw ``n`` procedural digit images: ``(x float32 (n, 784) in [0, 1], y int64 (n,))``.

    Labels are balanced (``n // 10`` or one more per digit) in random order; ``noise`` is the
    standard deviation of the pixel noise. See the module docstring for how an image is drawn.
    """
    points, weights, digit = _templates()
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 10)
    first = np.searchsorted(digit, y)                    # templates are grouped by digit
    ways = np.bincount(digit)[y]
    template = first + (rng.random(n) * ways).astype(int)
    # per image: a smooth warp (2 sine waves per axis), an affine map, pen width and ink gain
    # (gain > 1 saturates the middle of a stroke to 1, as in scanned ink)
    amp = rng.normal(0.0, 0.035, (n, 2, 2))
    freq = rng.uniform(-2.0, 2.0, (n, 2, 2, 2))
    phase = rng.uniform(0.0, 2 * np.pi, (n, 2, 2))
    angle = np.radians(rng.uniform(-20, 20, n))
    slant = rng.uniform(-0.2, 0.35, n)                   # > 0 leans to the right
    height = 20 * rng.uniform(0.75, 1.05, n)
    width = height * rng.uniform(0.8, 1.2, n)
    shift = rng.uniform(-2.5, 2.5, (n, 2))
    pen = rng.uniform(0.7, 1.4, n)
    gain = rng.uniform(1.3, 2.0, n)
    cos, sin = np.cos(angle), np.sin(angle)
    affine = np.stack([np.stack([cos * width, (-cos * slant - sin) * height], 1),
                       np.stack([sin * width, (-sin * slant + cos) * height], 1)], 1)
    centre = (_SIZE - 1) / 2 + shift
    # blobs ``d = weight * height`` pixels apart, each scaled by d / (sqrt(2 pi) pen), add up to a
    # stroke whose cross-section peaks at ``gain``
    ink = weights[template] * (gain * height / (np.sqrt(2 * np.pi) * pen))[:, None]
    images = np.empty((n, _SIZE, _SIZE), np.float32)
    for lo in range(0, n, 500):                          # chunks keep the temporaries small
        part = slice(lo, lo + 500)
        p = points[template[part]]                                              # (b, P, 2)
        waves = np.sin(2 * np.pi * np.einsum("bpc,bawc->bpaw", p, freq[part]) + phase[part, None])
        p = p + np.einsum("bpaw,baw->bpa", waves, amp[part])                    # smooth warp
        p = np.einsum("bij,bpj->bpi", affine[part], p) + centre[part, None]     # into pixels
        images[part] = _splat(p, ink[part], pen[part])
    images += noise * rng.standard_normal(images.shape, dtype=np.float32)
    np.clip(images, 0.0, 1.0, out=images)
    return images.reshape(n, _SIZE * _SIZE), y.astype(np.int64)


@functools.cache
def _default(train):
    return make_digits(10_000, seed=0) if train else make_digits(2_000, seed=1)


def load_default(train=True):
    """The embedded MNIST-shaped default set: ``(x float32 (N, 784) in [0, 1], y int64 (N,))``.

    10,000 training images (``train=True``) or 2,000 test images of procedurally drawn digits
    (see the module docstring); no download, no real MNIST data. Drawn once per process and cached;
    each call returns fresh copies, so changing them in place is safe.
    """
    x, y = _default(bool(train))
    return x.copy(), y.copy()
