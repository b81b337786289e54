"""``ad.save`` and ``ad.load``: checkpoints as .npz files, written atomically, read without pickle.

A checkpoint is a tree of dicts, lists and tuples whose leaves are arrays (NumPy or CuPy arrays,
NumPy scalars, Tensors) or plain values (int, float, bool, str, None)::

    ad.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    ckpt = ad.load("ckpt.npz")          # the same tree; Tensors come back as NumPy arrays

In the file, each array is one .npz entry named by its path (``model/layers.0.weight``), and the
tree itself, with those names in place of the arrays, is one JSON string (the entry ``__tree__``).
JSON keeps Python ints of any size (a random generator's 128-bit state), so nothing needs pickle,
and ``load`` reads with ``allow_pickle=False``: opening a checkpoint never runs code.

Atomic write: the file is written under a temporary name in the same folder,
``.<name>.<pid>.<random>.tmp``, flushed to disk (``fsync``) and only then renamed over `path`
(``os.replace``, atomic on POSIX and Windows). An error mid-write leaves the old checkpoint intact
and removes the temporary file; a process killed mid-write cannot, so each save first removes the
temporary files of `path` left by processes that no longer run (the pid in the name says whose).
The file gets the permissions ``open`` would give it (0666 less the umask), not mkstemp's 0600.

``load`` says what is wrong with a file that is not a checkpoint (``CheckpointError``, naming it):
a single ``.npy`` array, a truncated or corrupt zip, an ``.npz`` without the tree, an entry that
would need pickle.
"""
import json
import os
import re
import secrets
import zipfile
from pathlib import Path

import numpy as np

from .backend import device_of, to_device
from .tensor import Tensor

TREE = "__tree__"
NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"


class CheckpointError(ValueError):
    """The file is not a checkpoint ``ad.save`` wrote (or no longer a whole one)."""


def save(obj, path):
    """Write the checkpoint tree `obj` to `path` (exactly that name), atomically."""
    arrays = {}
    tree = _encode(obj, (), arrays)
    arrays[TREE] = np.array(json.dumps(tree))
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    _remove_orphans(path)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}"
                               ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    _fsync_folder(folder)


def load(path):
    """Read a checkpoint written by ``save``: the same tree, arrays as NumPy arrays. A file that
    is not one raises CheckpointError saying what it is."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(NPY_MAGIC):
        raise CheckpointError(f"load: {path} is a single NumPy array (.npy), not a checkpoint "
                              "(a .npz archive of arrays and their tree); read it with numpy.load")
    if not zipfile.is_zipfile(path):
        what = ("a truncated or corrupt zip file" if head.startswith(ZIP_MAGIC) else
                f"not a zip file (it starts with {head!r})" if head else "empty")
        raise CheckpointError(f"load: {path} is not a checkpoint: a checkpoint is a .npz (zip) "
                              f"archive, and this file is {what}")
    try:
        with np.load(path, allow_pickle=False) as data:
            if TREE not in data.files:
                raise CheckpointError(f"load: {path} is an .npz file but not a tinyad checkpoint "
                                      f"(no '{TREE}' entry); read it with numpy.load")
            return _decode(json.loads(data[TREE].item()), data)
    except (zipfile.BadZipFile, EOFError, json.JSONDecodeError, KeyError) as e:
        raise CheckpointError(f"load: {path} is a damaged checkpoint ({type(e).__name__}: "
                              f"{e})") from None
    except ValueError as e:
        if isinstance(e, CheckpointError):
            raise
        if "pickle" in str(e):
            raise CheckpointError(f"load: {path} holds an object array, which only pickle can "
                                  "read; a checkpoint never does, and loading never runs pickle"
                                  ) from None
        raise CheckpointError(f"load: {path} is a damaged checkpoint ({e})") from None


def _write_npz(f, arrays):
    """What ``np.savez`` writes (a zip of .npy files), without its keyword-name clashes."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        for name, array in arrays.items():
            with z.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)


def _encode(obj, path, arrays):
    """The JSON tree for `obj`, with its arrays moved into `arrays` under their path names.

    Containers are tagged so they come back as they went in: {"dict": [[key, value], ...]} keeps
    int keys as ints, {"list": [...]} and {"tuple": [...]}; {"array": name} and {"scalar": name}
    stand for an array and a NumPy scalar (a 0-d entry)."""
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: keys must be str or int, got {k!r} at {_name(path)}")
        return {"dict": [[k, _encode(v, path + (k,), arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, path + (i,), arrays) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Tensor):
        obj = obj.numpy()
    elif device_of(obj) == "cuda":                   # a raw CuPy array: stored from the host
        obj = to_device(obj, "cpu")
    if isinstance(obj, (np.ndarray, np.generic)):
        if obj.dtype.hasobject:
            raise TypeError(f"save: object arrays need pickle and are not saved ({_name(path)})")
        name = _name(path)
        if name in arrays or name == TREE:
            raise ValueError(f"save: two entries would both be stored as {name!r}")
        arrays[name] = obj
        return {"array" if isinstance(obj, np.ndarray) else "scalar": name}
    raise TypeError(f"save: cannot store a {type(obj).__name__} at {_name(path)}: use dicts, "
                    "lists, arrays, numbers and strings (e.g. model.state_dict())")


def _decode(node, data):
    if not isinstance(node, dict):
        return node
    (kind, value), = node.items()
    if kind == "dict":
        return {k: _decode(v, data) for k, v in value}
    if kind in ("list", "tuple"):
        items = [_decode(v, data) for v in value]
        return items if kind == "list" else tuple(items)
    return data[value] if kind == "array" else data[value][()]


def _name(path):
    return "/".join(str(k) for k in path) or "<root>"


def _remove_orphans(path):
    """Delete the temporary files of `path` whose writing process no longer runs (killed mid-
    save). POSIX only: elsewhere a pid cannot be checked safely, and nothing is removed."""
    if os.name != "posix":
        return
    target = Path(path)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[0-9a-f]+\.tmp")
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        match = pattern.fullmatch(leftover.name)
        if match and not _running(int(match.group(1))):
            leftover.unlink(missing_ok=True)


def _running(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)                   # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                       # someone else's process
    return True


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); folders cannot be opened on Windows."""
    if os.name == "posix":
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
