"""Neural networks: modules with registered parameters, layers, initialisers and losses.

    model = nn.MLP([784, 128, 10])                 # or nn.Sequential(nn.Linear(...), nn.ReLU(), ...)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()                                # gradients land in p.grad for p in model.parameters()

- module.py: ``Module`` (registration, parameters, state_dict, train/eval, to) and ``Parameter``
- sequential.py, mlp.py: containers; layers.py: ``Linear``, ``Flatten``, activations; conv.py:
  ``Conv1d``, ``Conv2d``, ``ConvTranspose2d``; pool.py: ``MaxPool2d``, ``AvgPool2d``,
  ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d``, ``Upsample`` (window_args.py checks their
  arguments)
- functional.py: activations, losses, ``linear``; the convolutions (functional_conv.py),
  pools (functional_pool.py) and ``interpolate`` (functional_interpolate.py)
- init.py: PyTorch's initialisers and the seeded generator they draw from
- functional_call.py: run a module with some parameters swapped (for dual numbers, gradcheck)
"""
from . import functional, init
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .functional_call import functional_call
from .layers import Flatten, Linear, ReLU, Sigmoid, Tanh
from .mlp import MLP
from .module import Module, Parameter
from .pool import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, Upsample
from .sequential import Sequential

__all__ = ["Module", "Parameter", "Sequential", "Linear", "Flatten", "ReLU", "Tanh", "Sigmoid",
           "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool2d", "Upsample", "MLP", "functional_call", "functional", "init"]
