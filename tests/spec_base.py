"""The registry's building blocks: ``Spec`` (how to draw a primitive's inputs, call it and compute
it in NumPy) and the helpers that draw shapes and values (tests/primitive_specs.py)."""
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@dataclass
class Spec:
    draw: Callable
    call: Callable
    ref: Callable
    second_order: bool = True
    atol32: float = 0.0          # absolute slack in float32 (a cancellation-prone formula)
    mapped_ints: bool = False    # vmap may map its integer arrays too (labels, not indices)


def shape(data, min_dims=0, max_dims=3, min_side=1):
    return data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                      max_side=3))


def values(data, shp, dtype, low=-2.0, high=2.0, away_from=None):
    """Uniform values in [low, high]; `away_from` keeps them off a kink (|x - a| >= 0.1)."""
    seed = data.draw(st.integers(0, 2**31 - 1))
    x = np.random.default_rng(seed).uniform(low, high, size=shp)
    if away_from is not None:
        x = np.where(np.abs(x - away_from) < 0.1, away_from + 0.1 + np.abs(x), x)
    return x.astype(dtype)
