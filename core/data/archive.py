"""Unpack an uploaded .zip safely: everything is checked before anything is written."""
from __future__ import annotations

import hashlib
import re
import secrets
import stat
import zipfile
from pathlib import Path, PurePosixPath

from core.errors import UnsafeArchive
from core.runs.atomic import atomic_dir
from core.settings import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES

_JUNK = ("__MACOSX/", ".DS_Store")


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    if "\\" in name or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchive(f"refused: entry {name!r} uses a Windows path")
    path = PurePosixPath(name)
    if path.is_absolute():
        raise UnsafeArchive(f"refused: entry {name!r} has an absolute path")
    if ".." in path.parts:
        raise UnsafeArchive(f"refused: entry {name!r} points outside the archive (..)")
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):
        raise UnsafeArchive(f"refused: entry {name!r} is a symbolic link")


def check_zip(zf: zipfile.ZipFile, max_bytes: int = MAX_UPLOAD_BYTES,
              max_files: int = MAX_UPLOAD_FILES) -> list[zipfile.ZipInfo]:
    """Validate every entry and the declared unpacked size; return the entries to extract."""
    members = zf.infolist()
    if len(members) > max_files:
        raise UnsafeArchive(f"refused: {len(members)} entries, more than the limit of {max_files}")
    total = 0
    for info in members:
        _check_member(info)
        total += info.file_size
        if total > max_bytes:
            raise UnsafeArchive(f"refused: unpacks to more than {max_bytes / 2**20:.0f} MiB")
    return [m for m in members if not m.is_dir() and not any(j in m.filename for j in _JUNK)]


def _unwrap_single_folder(folder: Path) -> None:
    """mydata/cats, mydata/dogs -> cats, dogs: the upload then reads as an image folder."""
    top = list(folder.iterdir())
    if len(top) != 1 or not top[0].is_dir():
        return
    inner = top[0].rename(folder / f".unwrap-{secrets.token_hex(4)}")
    for entry in inner.iterdir():
        entry.rename(folder / entry.name)
    inner.rmdir()


def extract_zip(source: str | Path | bytes, dest_parent: Path, name: str = "upload",
                max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """Unpack into dest_parent/<name>-<hash>/ and return that folder.

    The archive is unpacked into a temporary folder next to the destination and renamed into
    place, so a refused or failing archive leaves nothing behind. A single top-level folder
    (mydata/cats, mydata/dogs) is unwrapped so the result reads as an image folder.
    """
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:12]
    safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem)[:40] or "upload"
    dest = dest_parent / f"{safe_name}-{digest}"
    if dest.exists():
        return dest  # same bytes already unpacked
    import io

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"not a zip file: {exc}") from None
    with zf:
        members = check_zip(zf, max_bytes=max_bytes)
        if not members:
            raise UnsafeArchive("the zip holds no files")
        try:
            with atomic_dir(dest) as tmp:
                written = 0
                for info in members:
                    target = tmp.joinpath(*PurePosixPath(info.filename).parts)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(target, "wb") as dst:
                        # Count real bytes too: the declared sizes were checked, but trust neither.
                        while chunk := src.read(1 << 20):
                            written += len(chunk)
                            if written > max_bytes:
                                raise UnsafeArchive(f"refused: unpacks to more than "
                                                    f"{max_bytes / 2**20:.0f} MiB")
                            dst.write(chunk)
                _unwrap_single_folder(tmp)
        except zipfile.BadZipFile as exc:
            raise UnsafeArchive(f"the zip is damaged: {exc}") from None
    return dest
