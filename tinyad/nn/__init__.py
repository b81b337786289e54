"""Neural networks: modules with registered parameters and buffers, layers, initialisers, losses.

    model = nn.MLP([784, 128, 10])                 # or nn.Sequential(nn.Linear(...), nn.ReLU(), ...)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()                                # gradients land in p.grad for p in model.parameters()

- module.py: ``Module`` (registration, parameters, buffers, state_dict, train/eval, to) and
  ``Parameter``
- sequential.py, mlp.py: containers; layers.py: ``Linear``, ``Flatten``, ``Identity``,
  ``Dropout``, ``Embedding``; activations.py: ``ReLU``, ``GELU``, ``LeakyReLU``... and their
  functions; normalization.py: ``LayerNorm``, ``BatchNorm1d``, ``BatchNorm2d``, ``GroupNorm``;
  conv.py: ``Conv1d``, ``Conv2d``, ``ConvTranspose2d``; pool.py: ``MaxPool2d``, ``AvgPool2d``,
  ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d``, ``Upsample`` (window_args.py checks their
  arguments)
- losses.py: the loss functions; loss_modules.py: ``CrossEntropyLoss``, ``MSELoss``...
- functional.py: every function (``F``): activations, losses, normalization, ``linear``,
  ``dropout``, ``embedding``; the convolutions (functional_conv.py), pools (functional_pool.py)
  and ``interpolate`` (functional_interpolate.py)
- init.py: PyTorch's initialisers and the seeded generators they (and Dropout) draw from
- functional_call.py: run a module with some parameters swapped (for dual numbers, gradcheck)

``model.train()`` / ``model.eval()`` switch what Dropout and BatchNorm do, in every sub-module.
"""
from . import functional, init
from .activations import (ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax,
                          Softplus, Tanh)
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .functional_call import functional_call
from .layers import Dropout, Embedding, Flatten, Identity, Linear
from .loss_modules import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss,
                           MSELoss, NLLLoss, SmoothL1Loss)
from .mlp import MLP
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .pool import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, Upsample
from .sequential import Sequential

__all__ = ["Module", "Parameter", "Sequential", "Linear", "Flatten", "Identity", "Dropout",
           "Embedding", "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "ELU", "SiLU", "Softplus",
           "Softmax", "LogSoftmax", "LayerNorm", "BatchNorm1d", "BatchNorm2d", "GroupNorm",
           "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool2d", "Upsample", "MLP", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss",
           "functional_call", "functional", "init"]
