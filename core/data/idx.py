"""IDX files (the MNIST family's format), read from the file or straight from its .gz.

IDX: two zero bytes, a type code, the number of dimensions, then each dimension as a big-endian
uint32, then the values. So the header alone says how many bytes must follow: that many are
read and no more (a .gz that inflates past it is refused), and nothing is ever written beside
the user's files, so a damaged .gz cannot leave a broken file behind.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from core.data import checks
from core.errors import DatasetError

DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _header(f, where: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(dims, dtype, header bytes) read from the start of an open IDX stream."""
    magic = f.read(4)
    if len(magic) < 4 or magic[:2] != b"\x00\x00" or magic[2] not in DTYPES \
            or not 1 <= magic[3] <= 4:
        raise DatasetError(f"{where} is not an IDX file (bad magic number {magic[:4].hex()})")
    dims_bytes = f.read(4 * magic[3])
    if len(dims_bytes) < 4 * magic[3]:
        raise DatasetError(f"{where} is truncated inside its header")
    dims = struct.unpack(f">{magic[3]}I", dims_bytes)
    dtype = np.dtype(DTYPES[magic[2]])
    checks.declared_bytes(dims, dtype.itemsize, where)
    return dims, dtype, 4 + len(dims_bytes)


def problem(path: Path) -> str | None:
    """Why the (uncompressed) IDX file at path cannot be used: its size disagrees with its
    header, or it is no IDX file. None when it looks whole."""
    try:
        with open(path, "rb") as f:
            dims, dtype, header = _header(f, str(path))
        actual = path.stat().st_size
    except DatasetError as exc:
        return str(exc)
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}"
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if actual != expected:
        return f"{path} holds {actual:,} bytes but its header declares {expected:,}"
    return None


def read(path: Path) -> np.ndarray:
    """The array in an IDX file or an IDX .gz: exactly the bytes its header declares."""
    where = str(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            dims, dtype, _ = _header(f, where)
            data = bytearray(int(np.prod(dims, dtype=np.int64)) * dtype.itemsize)
            view, got = memoryview(data), 0
            while got < len(data):
                n = f.readinto(view[got:])
                if not n:
                    raise DatasetError(f"{where} is truncated: it ends {len(data) - got:,} bytes "
                                       "before the size its header declares")
                got += n
            if f.read(1):
                raise DatasetError(f"{where} holds more data than its header declares; "
                                   "refusing it")
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f"{where} cannot be read: {exc}") from None
    return np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("="), copy=False) \
        .reshape(dims)
