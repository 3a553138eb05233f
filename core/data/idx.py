"""IDX files (the MNIST family's format): check a file against its header, and inflate a .gz
capped by the size its header declares, through the one atomic writer.

IDX: two zero bytes, a type code, the number of dimensions, then each dimension as a big-endian
uint32, then the values. So the header alone says how many bytes the file must hold.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

from core.data import checks
from core.errors import DatasetError
from core.runs.atomic import atomic_path

ITEMSIZE = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}  # type code -> bytes per value
_CHUNK = 1 << 20


def _declared_size(header: bytes, read_more, where: str) -> tuple[int, bytes]:
    """(total bytes the file must hold, the whole header) from its first 4 bytes on."""
    if len(header) < 4 or header[:2] != b"\x00\x00" or header[2] not in ITEMSIZE \
            or not 1 <= header[3] <= 4:
        raise DatasetError(f"{where} is not an IDX file (bad magic number {header[:4].hex()})")
    dims_bytes = read_more(4 * header[3])
    if len(dims_bytes) < 4 * header[3]:
        raise DatasetError(f"{where} is truncated inside its header")
    dims = struct.unpack(f">{header[3]}I", dims_bytes)
    payload = checks.declared_bytes(dims, ITEMSIZE[header[2]], where)
    full_header = header + dims_bytes
    return len(full_header) + payload, full_header


def problem(path: Path) -> str | None:
    """Why the IDX file at path cannot be used as it is (its size disagrees with its header),
    or None when it looks whole."""
    try:
        with open(path, "rb") as f:
            expected, _ = _declared_size(f.read(4), f.read, str(path))
        actual = path.stat().st_size
    except DatasetError as exc:
        return str(exc)
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}"
    if actual != expected:
        return f"{path} holds {actual:,} bytes but its header declares {expected:,}"
    return None


def inflate(gz_path: Path, target: Path) -> None:
    """Decompress gz_path into target, writing no more than target's header declares.

    A damaged, truncated or overlong .gz raises DatasetError and leaves no file behind.
    """
    where = str(gz_path)
    try:
        with gzip.open(gz_path, "rb") as src, atomic_path(target) as tmp:
            expected, header = _declared_size(src.read(4), src.read, where)
            with open(tmp, "wb") as dst:
                dst.write(header)
                left = expected - len(header)
                while left > 0:
                    chunk = src.read(min(_CHUNK, left))
                    if not chunk:
                        raise DatasetError(f"{where} is truncated: it ends {left:,} bytes before "
                                           "the size its header declares")
                    dst.write(chunk)
                    left -= len(chunk)
                if src.read(1):
                    raise DatasetError(f"{where} holds more data than its header declares; "
                                       "refusing it")
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f"{where} cannot be unpacked: {exc}") from None
