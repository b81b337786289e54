"""Resize square images by bilinear interpolation, as separable matrix products.

For an image X (H, W) and a new size (h, w), with R_h (h, H) and R_w (w, W) the 1-D linear
interpolation matrices, the resized image is R_h X R_wᵀ. Row i of R_n (n outputs from N inputs)
samples the input at the centre-aligned position s = (i + 0.5) N / n - 0.5 (clipped to
[0, N - 1]), weight 1 - f on floor(s) and f on floor(s) + 1, f = s - floor(s): PyTorch's
``interpolate(mode="bilinear", align_corners=False)`` without antialiasing.
"""
import math

import numpy as np


def interpolation_matrix(n_out, n_in):
    """R (n_out, n_in): each row's two weights sum to 1."""
    s = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    low = np.floor(s).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = s - low
    r = np.zeros((n_out, n_in))
    np.add.at(r, (np.arange(n_out), low), 1 - frac)
    np.add.at(r, (np.arange(n_out), high), frac)
    return r


def resize(x, size):
    """Flattened square images x (N, H·H) -> (N, size·size), in x's dtype."""
    x = np.asarray(x)
    side = math.isqrt(x.shape[1]) if x.ndim == 2 else 0
    if x.ndim != 2 or side * side != x.shape[1] or int(size) < 1:
        raise ValueError(f"resize: expects flattened square images (N, H*H) and a size >= 1, "
                         f"got shape {x.shape} and size {size}")
    r = interpolation_matrix(int(size), side)
    images = x.reshape(len(x), side, side)
    out = np.einsum("ij,njk,lk->nil", r, images, r, optimize=True)
    return out.reshape(len(x), -1).astype(x.dtype)
