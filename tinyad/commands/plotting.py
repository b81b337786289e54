"""matplotlib for the programs: pyplot on the headless Agg backend, and smoothed curves.

matplotlib is an extra (``pip install 'tinyad[plot]'``); nothing in the library needs it.
"""
import numpy as np


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no window); ImportError saying how to
    install matplotlib when it is missing."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'tinyad[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def smooth(values, width=25):
    """A running mean over `width` points (at most a tenth of them), so that noisy per-step
    losses read as curves; ``len(values) - width + 1`` points come back."""
    values = np.asarray(values, dtype=float)
    width = max(1, min(width, len(values) // 10 or 1))
    return np.convolve(values, np.ones(width) / width, mode="valid")
