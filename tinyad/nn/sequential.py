"""Sequential: modules applied one after the other, ``x -> m_0(x) -> m_1(...) -> ...``.

The children are registered as "0", "1", ..., so parameter names read ``0.weight``, ``2.bias``.
It is indexable (``seq[0]``, ``seq[-1]``, ``seq[1:]`` gives a Sequential), has a length and
iterates over its modules.
"""
from .module import Module


class Sequential(Module):
    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not a Module")
            self.add_module(str(i), m)

    def forward(self, x):
        for m in self:
            x = m(x)
        return x

    def __getitem__(self, index):
        """One module, or for a slice a Sequential of those modules under their names here."""
        if isinstance(index, slice):
            part = Sequential()
            for name, m in list(self._modules.items())[index]:
                part.add_module(name, m)
            return part
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())
