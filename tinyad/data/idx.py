"""IDX: the small binary format MNIST and Fashion-MNIST are distributed in.

An IDX file is a header followed by the raw array, all numbers big-endian:

    bytes 0-1   0x00 0x00              (the magic number starts with two zero bytes)
    byte  2     type code              (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                        0x0D float32, 0x0E float64)
    byte  3     ndim                   (number of dimensions)
    then ndim   uint32 sizes           (e.g. 10000, 28, 28 for the MNIST test images)
    then        prod(sizes) items      (row-major, C order)

Files are often gzip-compressed (``.gz``); ``read_idx`` recognises gzip by its first two bytes
(0x1f 0x8b), not by the file name. The payload must have exactly the size the header announces:
a truncated download or trailing garbage is reported, never silently reshaped.
"""
import gzip as _gzip
from pathlib import Path

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"

TYPE_CODES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path):
    """Read an IDX file (gzip-compressed or raw) into a native-endian NumPy array.

    Raises ``ValueError`` naming the file for a bad magic number, an unknown type code, a corrupt
    gzip stream, or a payload whose byte count differs from the one the header announces.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == GZIP_MAGIC:
        try:
            data = _gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in TYPE_CODES:
        found = " ".join(f"0x{b:02X}" for b in data[:4]) or "nothing (empty file)"
        known = ", ".join(f"0x{code:02X}" for code in TYPE_CODES)
        raise ValueError(f"{path}: not an IDX file: the magic number must be 0x00 0x00 <type code> "
                         f"<ndim> with a type code among {known}, found {found}")
    dtype, ndim = TYPE_CODES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header: {ndim} dimensions need {header} header "
                         f"bytes, the file has {len(data)}")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header
    if actual != expected:
        problem = "truncated file" if actual < expected else "trailing bytes after the array"
        raise ValueError(f"{path}: {problem}: shape {shape} of {dtype.name} needs {expected} bytes "
                         f"of data after the header, found {actual}")
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable, native-endian copy


def write_idx(path, array, gzip=False):
    """Write ``array`` as an IDX file (gzip-compressed when ``gzip=True``); returns the path.

    The dtype must be one IDX can hold: uint8, int8, int16, int32, float32 or float64 (cast an
    int64 array with ``.astype(np.int32)`` first).
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in TYPE_CODES.items()}
    if array.dtype.newbyteorder("=") not in codes:
        names = ", ".join(d.name for d in codes)
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use one of {names}")
    if array.ndim > 255 or any(n >= 2**32 for n in array.shape):
        raise ValueError(f"IDX cannot store shape {array.shape} (at most 255 dimensions < 2**32)")
    code = codes[array.dtype.newbyteorder("=")]
    data = (bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
            + np.ascontiguousarray(array, TYPE_CODES[code]).tobytes())
    path = Path(path)
    path.write_bytes(_gzip.compress(data) if gzip else data)
    return path
