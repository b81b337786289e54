"""MLP: Linear layers with an activation between them and none after the last.

    MLP([784, 128, 10])  ==  Sequential(Linear(784, 128), ReLU(), Linear(128, 10))

``model.layers`` is that Sequential, so parameter names read ``layers.0.weight``, ``layers.2.bias``
and the Linear layers are ``model.layers[0::2]``. The input is (N, sizes[0]); the output (N,
sizes[-1]) is raw scores (logits), ready for ``F.cross_entropy``.

``activation=None`` (or "identity") puts nothing between the Linear layers, and ``bias=False``
drops every bias: ``MLP([1024, 40, 10], activation=None, bias=False)`` is a deep linear network
x ↦ x W1ᵀ W2ᵀ (its layers are then ``model.layers[0]``, ``model.layers[1]``).
"""
import numpy as np

from .activations import ReLU, Sigmoid, Tanh
from .layers import Linear
from .module import Module
from .sequential import Sequential

ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "identity": None, None: None}


class MLP(Module):
    def __init__(self, sizes, activation="relu", dtype=np.float32, bias=True):
        super().__init__()
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs an input and an output width, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {list(ACTIVATIONS)}, got "
                             f"{activation!r}")
        self.sizes, self.activation, self.bias = list(sizes), activation, bias
        modules = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i and ACTIVATIONS[activation] is not None:
                modules.append(ACTIVATIONS[activation]())
            modules.append(Linear(n_in, n_out, bias=bias, dtype=dtype))
        self.layers = Sequential(*modules)

    def forward(self, x):
        return self.layers(x)
