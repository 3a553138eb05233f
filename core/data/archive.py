"""Unpack an uploaded .zip safely: everything is checked before anything is written."""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from core.errors import UnsafeArchive
from core.io.atomic import atomic_dir
from core.settings import MAX_NAME_BYTES, MAX_PATH_CHARS, MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES

_JUNK = ("__MACOSX/", ".DS_Store")
SUPPORTED_COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
                         zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_ROOM_FOR_DEST = 512  # bytes of an entry's path budget kept for the folder it is unpacked into


def _check_member(info: zipfile.ZipInfo) -> PurePosixPath:
    """The entry's relative path inside the archive, or UnsafeArchive saying why not."""
    name = info.filename
    shown = repr(name if len(name) <= 80 else name[:77] + "...")
    if "\\" in name or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchive(f"refused: entry {shown} uses a Windows path")
    if "\x00" in name:
        raise UnsafeArchive(f"refused: entry {shown} has a NUL byte in its name")
    path = PurePosixPath(name)
    if path.is_absolute():
        raise UnsafeArchive(f"refused: entry {shown} has an absolute path")
    if ".." in path.parts:
        raise UnsafeArchive(f"refused: entry {shown} points outside the archive (..)")
    if not path.parts and not info.is_dir():  # "." or "./": only a folder may say "here"
        raise UnsafeArchive(f"refused: entry {shown} is a file without a name")
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):
        raise UnsafeArchive(f"refused: entry {shown} is a symbolic link")
    if info.flag_bits & 0x1:
        raise UnsafeArchive(f"refused: entry {shown} is encrypted; unpack it with its password "
                            "and zip it again without one")
    if info.compress_type not in SUPPORTED_COMPRESSION:
        raise UnsafeArchive(f"refused: entry {shown} uses compression method "
                            f"{info.compress_type}; supported: "
                            f"{', '.join(SUPPORTED_COMPRESSION.values())}")
    if any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in path.parts):
        raise UnsafeArchive(f"refused: entry {shown} has a name longer than {MAX_NAME_BYTES} bytes")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_PATH_CHARS - _ROOM_FOR_DEST:
        raise UnsafeArchive(f"refused: entry {shown} has a path longer than "
                            f"{MAX_PATH_CHARS - _ROOM_FOR_DEST} bytes")
    return path


def _check_tree(paths: list[tuple[PurePosixPath, bool]]) -> None:
    """Refuse a name used for both a file and a folder, or two files with one name."""
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    for path, is_dir in paths:
        if not path.parts:
            continue
        folders.update(path.parents)
        if is_dir:
            folders.add(path)
        elif path in files:
            raise UnsafeArchive(f"refused: two entries are named {str(path)[:80]!r}")
        else:
            files.add(path)
    clash = files & folders
    if clash:
        name = str(sorted(clash)[0])[:80]
        raise UnsafeArchive(f"refused: {name!r} is both a file and a folder in the zip")


def check_zip(zf: zipfile.ZipFile, max_bytes: int = MAX_UPLOAD_BYTES,
              max_files: int = MAX_UPLOAD_FILES) -> list[zipfile.ZipInfo]:
    """Validate every entry and the declared unpacked size; return the entries to extract."""
    members = zf.infolist()
    if len(members) > max_files:
        raise UnsafeArchive(f"refused: {len(members)} entries, more than the limit of {max_files}")
    total = 0
    paths = []
    for info in members:
        paths.append((_check_member(info), info.is_dir()))
        total += info.file_size
        if total > max_bytes:
            raise UnsafeArchive(f"refused: unpacks to more than {max_bytes / 2**20:.0f} MiB")
    _check_tree(paths)
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
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
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
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise UnsafeArchive(f"the zip is damaged: {exc}") from None
        except OSError as exc:  # e.g. a path the file system refuses, or a full disk
            raise UnsafeArchive(f"could not unpack the zip: {exc.strerror or exc}") from None
    return dest
