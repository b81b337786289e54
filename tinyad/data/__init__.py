"""Data for training: IDX files, MNIST-style loaders, mini-batches and synthetic sets.

Everything here is plain NumPy and independent of the rest of tinyad:

- ``idx``: ``read_idx`` / ``write_idx``, the binary format MNIST is distributed in;
- ``datasets``: ``load_mnist``, ``load_fashion_mnist`` (local folders, then a checked download),
  ``load_idx_folder`` for any folder of IDX files, and ``load_splits`` (any of these, or the
  embedded set, as train and test splits of chosen sizes);
- ``loader``: ``DataLoader``, seeded shuffled mini-batches with a resumable state;
- ``resize``: ``resize`` square images to another size (bilinear);
- ``synthetic``: 2-D teaching sets (moons, circles, spirals, xor) and ``load_default``, procedurally
  drawn MNIST-shaped digits that need no download.
"""
from .datasets import (ChecksumError, DatasetNotFoundError, cache_dir, load_dataset,
                       load_fashion_mnist, load_idx_folder, load_mnist, load_splits, search_dirs)
from .idx import read_idx, write_idx
from .loader import DataLoader
from .resize import resize
from .synthetic import (load_default, make_circles, make_digits, make_moons, make_spirals,
                        make_xor)

__all__ = ["read_idx", "write_idx", "load_mnist", "load_fashion_mnist", "load_idx_folder",
           "load_dataset", "load_splits", "search_dirs", "cache_dir", "DatasetNotFoundError",
           "ChecksumError", "DataLoader", "resize", "make_moons", "make_circles", "make_spirals",
           "make_xor", "make_digits", "load_default"]
