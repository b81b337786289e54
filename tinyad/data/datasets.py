"""MNIST and Fashion-MNIST: find the IDX files on disk, or download them with a checksum check.

Both data sets are four IDX files (see ``idx.py``), gzip-compressed or not::

    train-images-idx3-ubyte  train-labels-idx1-ubyte    60,000 training images and labels
    t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte     10,000 test images and labels

``load_mnist`` / ``load_fashion_mnist`` look for the pair a split needs in these folders, in order
(``search_dirs`` returns the list):

1. ``root`` and ``root/<name>``, when ``root`` is given;
2. ``$TINYAD_DATA`` and ``$TINYAD_DATA/<name>``;
3. the user cache, ``$XDG_CACHE_HOME/tinyad/<name>`` (default ``~/.cache/tinyad/<name>``);
4. the system folder ``/usr/share/datasets/<name>`` (``apt-get install dataset-fashion-mnist``).

``<name>`` is ``mnist`` or ``fashion-mnist``. When no folder has the pair and ``download=True``, the
files are fetched from the first mirror that answers (``MIRRORS``, or the ``mirrors`` argument, or
``$TINYAD_MIRROR``: base URLs separated by commas) into ``root`` or the cache, checked against the
md5 sums in ``CHECKSUMS``, and only then renamed into place, so a broken download never leaves a
file that looks complete.
"""
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from .idx import read_idx

FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

# md5 of the published ``.gz`` files (what a download receives)
CHECKSUMS = {
    "mnist": {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
              "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
              "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
              "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
    "fashion-mnist": {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                      "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
                      "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
                      "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
}

SYSTEM_DIR = Path("/usr/share/datasets")


class DatasetNotFoundError(FileNotFoundError):
    """The IDX files are in none of the folders searched and could not be downloaded."""


class ChecksumError(ValueError):
    """A downloaded file does not have the expected md5 sum (it was deleted)."""


def cache_dir(name):
    """The user cache folder for data set ``name``: ``$XDG_CACHE_HOME/tinyad/<name>``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinyad" / name


def search_dirs(name, root=None):
    """The folders searched for data set ``name``, first to last (see the module docstring)."""
    dirs = []
    for base in (root, os.environ.get("TINYAD_DATA")):
        if base:
            dirs += [Path(base).expanduser(), Path(base).expanduser() / name]
    return dirs + [cache_dir(name), SYSTEM_DIR / name]


def _find(folder, stem):
    """The file ``stem`` or ``stem.gz`` in ``folder``, or None."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _find_pair(folder, train):
    """(images path, labels path) of one split in ``folder``, or None unless both are there."""
    pair = tuple(_find(Path(folder), stem) for stem in FILES[train])
    return pair if None not in pair else None


def _read_pair(images_path, labels_path):
    """Read an image/label IDX pair as (float32 (N, H*W), int64 (N,)); uint8 pixels (the MNIST
    case) are scaled into [0, 1], other pixel types are converted as they are."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{images_path} holds shape {images.shape} and {labels_path} holds "
                         f"{labels.shape}; expected (N, rows, cols) images and N labels")
    x = images.reshape(len(images), -1).astype(np.float32)
    if images.dtype == np.uint8:
        x /= 255.0
    return x, labels.astype(np.int64)


def _progress(name, done, total):
    """Redraw a one-line text progress bar on stderr."""
    if total:
        filled = 30 * done // total
        bar = f"[{'#' * filled}{'.' * (30 - filled)}] {100 * done // total:3d}%"
    else:
        bar = "[size unknown]"
    sys.stderr.write(f"\r{name} {bar} {done / 1e6:.1f} MB")
    sys.stderr.flush()


def _fetch(url, dest, md5):
    """Download ``url`` to ``dest`` atomically: into a temporary file beside it, checked against
    ``md5``, then renamed. On any failure the temporary file is removed."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total, done = int(response.headers.get("Content-Length") or 0), 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                _progress(dest.name, done, total)
        sys.stderr.write("\n")
        if digest.hexdigest() != md5:
            raise ChecksumError(f"{url}: md5 {digest.hexdigest()} does not match the expected "
                                f"{md5}; the download was deleted (corrupt or wrong file)")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _download(name, train, dest, mirrors):
    """Fetch the split's missing files into ``dest``, trying the mirrors in order; returns the
    failed attempts as "url: reason" lines. A checksum mismatch raises at once."""
    dest.mkdir(parents=True, exist_ok=True)
    failures = []
    for stem in FILES[train]:
        if _find(dest, stem):
            continue
        for base in mirrors:
            url = base.rstrip("/") + f"/{stem}.gz"
            try:
                _fetch(url, dest / f"{stem}.gz", CHECKSUMS[name][f"{stem}.gz"])
                break
            except (OSError, http.client.HTTPException) as exc:  # offline, 404, timeout, cut short
                failures.append(f"{url}: {exc}")
        else:  # no mirror had this file: the pair cannot be completed
            break
    return failures


def _mirrors(name, mirrors):
    """The base URLs to try: the ``mirrors`` argument, else $TINYAD_MIRROR, else ``MIRRORS``."""
    if mirrors is None and os.environ.get("TINYAD_MIRROR"):
        mirrors = os.environ["TINYAD_MIRROR"].split(",")
    return [m.strip() for m in (MIRRORS[name] if mirrors is None else mirrors) if m.strip()]


def load_dataset(name, root=None, train=True, download=True, mirrors=None):
    """Load split ``train`` of ``name`` ("mnist" or "fashion-mnist") as (float32 (N, 784) in
    [0, 1], int64 (N,)); see the module docstring for where the files are looked for."""
    if name not in CHECKSUMS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(CHECKSUMS)}")
    dirs = search_dirs(name, root)
    for folder in dirs:
        if pair := _find_pair(folder, train):
            return _read_pair(*pair)
    failures = []
    if download:
        dest = Path(root).expanduser() if root else cache_dir(name)
        failures = _download(name, train, dest, _mirrors(name, mirrors))
        if pair := _find_pair(dest, train):
            return _read_pair(*pair)
    stems = " and ".join(f"{stem}[.gz]" for stem in FILES[train])
    lines = [f"{name} ({'train' if train else 'test'} split): {stems} not found.",
             "Folders searched:", *(f"  {d}" for d in dirs)]
    if download:
        lines += ["Download failed:", *(f"  {f}" for f in failures or ["no mirror to try"])]
    else:
        lines += ["Download not allowed (download=False)."]
    lines += ["Provide the files in one of these ways:",
              "  - pass root='/path/to/folder' holding the IDX files (gzip-compressed or not)",
              "  - set TINYAD_DATA=/path/to/folder (files there or in a subfolder named "
              f"'{name}')",
              f"  - copy them into {cache_dir(name)}",
              "  - when online, call again with download=True (mirrors: MIRRORS, the mirrors= "
              "argument or $TINYAD_MIRROR)",
              "  - Fashion-MNIST on Debian/Ubuntu: apt-get install dataset-fashion-mnist"]
    raise DatasetNotFoundError("\n".join(lines))


def load_mnist(root=None, train=True, download=True, mirrors=None):
    """MNIST handwritten digits: (images float32 (N, 784) in [0, 1], labels int64 (N,)).

    N is 60,000 for ``train=True``, 10,000 for the test split. ``root`` may be a folder holding the
    IDX files (all four, or just the pair for the split asked for).
    """
    return load_dataset("mnist", root, train, download, mirrors)


def load_fashion_mnist(root=None, train=True, download=True, mirrors=None):
    """Fashion-MNIST (Zalando's clothing images, 10 classes, MNIST's layout and sizes): same
    arguments and return value as ``load_mnist``."""
    return load_dataset("fashion-mnist", root, train, download, mirrors)


def load_idx_folder(path):
    """Every split present in a folder of IDX files: ``{"train": (x, y), "test": (x, y)}`` with
    the keys whose image and label files are both there (as in ``load_mnist``)."""
    path = Path(path).expanduser()
    found = {split: _find_pair(path, train) for split, train in (("train", True), ("test", False))}
    if not any(found.values()):
        names = ", ".join(f"{stem}[.gz]" for stems in FILES.values() for stem in stems)
        raise DatasetNotFoundError(f"{path}: no IDX image/label pair found; expected {names}")
    return {split: _read_pair(*pair) for split, pair in found.items() if pair}


NAMES = ("default", "mnist", "fashion-mnist")


def load_splits(source="default", train_size=None, test_size=None, download=True):
    """A data set as ``((x_train, y_train), (x_test, y_test))``, arrays as ``load_mnist`` gives.

    `source` is "default" (the embedded digits, ``load_default``), "mnist" or "fashion-mnist"
    (searched as ``load_dataset`` does, downloaded when allowed), or a folder of IDX files; a
    folder that holds one split is cut in two, the first examples to train and the last to test
    (`test_size` of them, default a fifth). `train_size` keeps the first N training examples,
    `test_size` the last N test examples. Raises DatasetNotFoundError for a source that is none
    of these, and ValueError for a size the data cannot give or train and test images that differ
    in size."""
    for option, size in (("train_size", train_size), ("test_size", test_size)):
        if size is not None and (isinstance(size, bool) or not isinstance(size, (int, np.integer))
                                 or size < 1):
            raise ValueError(f"load_splits: {option} must be a positive integer, got {size!r}")
    if source == "default":
        from .synthetic import load_default
        train, test = load_default(train=True), load_default(train=False)
    elif source in CHECKSUMS:
        train, test = (load_dataset(source, train=split, download=download)
                       for split in (True, False))
    elif Path(source).expanduser().is_dir():
        splits = load_idx_folder(source)
        train, test = splits.get("train"), splits.get("test")
        if train is None or test is None:
            return _cut(source, train or test, train_size, test_size)
    else:
        import difflib
        close = difflib.get_close_matches(str(source), NAMES, n=1)
        raise DatasetNotFoundError(
            f"{source!r} is neither a data set ({', '.join(NAMES)}) nor a folder"
            + (f"; did you mean {close[0]!r}?" if close else ""))
    if train[0].shape[1:] != test[0].shape[1:]:
        raise ValueError(f"{source}: training images have {train[0].shape[1:]} values each, test "
                         f"images {test[0].shape[1:]}")
    return _take(source, "training", train, train_size), _take(source, "test", test, test_size)


def _take(source, split, pair, size):
    """The first `size` examples of the training split, or the last `size` of the test split."""
    if size is None:
        return pair
    if size > len(pair[0]):
        raise ValueError(f"{source}: {size} {split} examples asked for, the data has "
                         f"{len(pair[0])}")
    part = slice(None, size) if split == "training" else slice(len(pair[0]) - size, None)
    return pair[0][part], pair[1][part]


def _cut(source, pair, train_size, test_size):
    """A folder's single split cut in two: the first examples train, the last test."""
    n = len(pair[0])
    n_test = test_size or n // 5
    n_train = train_size or n - n_test
    if n_train + n_test > n or n_train < 1 or n_test < 1:
        raise ValueError(f"{source}: holds one split of {n} examples, which cannot give "
                         f"{n_train} to train and {n_test} to test (--train-size, --test-size)")
    return (pair[0][:n_train], pair[1][:n_train]), (pair[0][n - n_test:], pair[1][n - n_test:])
