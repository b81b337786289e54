"""Greedy local learning (Ren, Kornblith, Liao, Hinton 2022): a network cut into blocks, each
with its own small readout head and loss; every block learns from its own loss alone, its input
held constant, so no error signal crosses a block boundary.

    model = LocalNet([784, 256, 256], classes=10)  # block: LayerNorm, Linear, ReLU; head: Linear
    rule = LocalLosses(ForwardGradient(perturb="activities"))
    loss = rule.update_direction(model, F.cross_entropy, x, y)

For block b with input h_{b-1} (a constant) and head H_b, the local loss is

    L_b = loss_fn(H_b(block_b(h_{b-1})), y)

and the wrapped rule gives block_b's and H_b's parameters its direction for L_b (backprop: the
exact gradient of L_b; forward gradients: an estimate whose perturbation has only the block's
dimensions, which is the point: the variance grows with the number of perturbed dimensions).
The network's output is the last head's logits.

What this is of Ren et al.'s LocalMixer, and what it is not: the local losses per block with a
stop-gradient between blocks, and a LayerNorm at each block's input (``norm=True``, the
default; the hand-written rules run it as a stage of their raw-array chain, network.py); no patch
tokens, no token mixing, no channel groups with a loss each, no residual connections: each block
is one dense layer.
"""
from .. import nn, tape
from ..tensor import Tensor
from .network import raw
from .rule import LearningRule


class LocalNet(nn.Module):
    """Blocks [LayerNorm (norm=True), Linear, ReLU] of widths ``sizes`` (input first), each with
    a Linear head to `classes` logits. ``local_models()`` pairs each block with its head."""

    def __init__(self, sizes, classes=10, norm=True, bias=True):
        super().__init__()
        if len(sizes) < 2:
            raise ValueError(f"LocalNet: sizes needs an input and at least one block width, "
                             f"got {sizes}")
        blocks, heads = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers = ([nn.LayerNorm(n_in)] if norm else []) + [nn.Linear(n_in, n_out, bias),
                                                               nn.ReLU()]
            blocks.append(nn.Sequential(*layers))
            heads.append(nn.Linear(n_out, classes, bias))
        self.blocks, self.heads = nn.Sequential(*blocks), nn.Sequential(*heads)

    def local_models(self):
        """[(Sequential(block_b, head_b), block_b)]: what each local loss trains."""
        return [(nn.Sequential(block, head), block) for block, head in zip(self.blocks,
                                                                           self.heads)]

    def forward(self, x):
        x = x.reshape(x.shape[0], -1) if x.ndim > 2 else x
        return self.heads[-1](self.blocks(x))


class LocalLosses(LearningRule):
    """Any learning rule applied block by block to a ``LocalNet``: each block and its head get
    `rule`'s direction for their own local loss. Returns the last block's loss (the network's)."""

    def __init__(self, rule):
        self.rule = rule
        self.name = f"local-{rule.name}"

    def update_direction(self, model, loss_fn, x, y):
        if not isinstance(model, LocalNet):
            raise TypeError(f"LocalLosses trains a LocalNet block by block, got "
                            f"{type(model).__name__}")
        h = Tensor(raw(x))
        h = h.reshape(h.shape[0], -1) if h.ndim > 2 else h
        loss = None
        for local_model, block in model.local_models():
            loss = self.rule.update_direction(local_model, loss_fn, h, y)
            with tape.no_grad():
                h = Tensor(block(h).data)            # the next block's input: a constant
        return loss
