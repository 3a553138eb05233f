"""Files dropped on the Predict page, kept as one folder predict reads: images under cleaned
names, each .zip unpacked (checked, bounded) into a subfolder named after it. The folder is
named by the content's hash, so dropping the same files again reuses it."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from core.data.archive import extract_zip
from core.errors import UserError
from core.io.atomic import atomic_dir
from core.settings import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES


def clean_name(name: str) -> str:
    """A file name safe on disk and not hidden: the base name, odd characters replaced."""
    base = re.sub(r"[^\w.\- ]+", "_", Path(str(name).replace("\\", "/")).name).lstrip(". ")
    return base[:120] or "upload"


def _unique(folder: Path, name: str) -> Path:
    path, stem, suffix, n = folder / name, Path(name).stem, Path(name).suffix, 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


def _size(data) -> int:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data)
    size = getattr(data, "size", None)  # Streamlit's UploadedFile
    if isinstance(size, int):
        return size
    return data.seek(0, 2)


def _chunks(data, size: int = 1 << 20):
    """The content in pieces: an uploaded file is read where it is, never copied whole again."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    data.seek(0)
    while chunk := data.read(size):
        yield chunk


def save_uploads(files: list[tuple[str, object]], uploads_dir: Path,
                 max_bytes: int = MAX_UPLOAD_BYTES, max_files: int = MAX_UPLOAD_FILES) -> Path:
    """The folder holding these (name, content) uploads; written whole or not at all. A content
    is bytes or a binary file object (Streamlit's UploadedFile): sizes are checked before
    anything is read, and files are streamed to disk, not copied in memory."""
    if not files:
        raise UserError("no files were uploaded")
    if len(files) > max_files:
        raise UserError(f"{len(files):,} files, more than the limit of {max_files:,}")
    total = sum(_size(data) for _, data in files)
    if total > max_bytes:
        raise UserError(f"the uploads add up to more than {max_bytes / 2**20:.0f} MiB "
                        f"({total / 2**20:,.1f} MiB); use a folder inside the data roots instead")
    digest = hashlib.sha256()
    for name, data in files:
        one = hashlib.sha256()
        for chunk in _chunks(data):
            one.update(chunk)
        digest.update(name.encode("utf-8", "replace") + b"\0" + one.digest())
    dest = Path(uploads_dir) / f"predict-{digest.hexdigest()[:16]}"
    if dest.is_dir():
        return dest
    with atomic_dir(dest) as tmp:
        for name, data in files:
            clean = clean_name(name)
            target = _unique(tmp, clean)
            with open(target, "wb") as out:
                for chunk in _chunks(data):
                    out.write(chunk)
            if clean.lower().endswith(".zip"):
                spooled = target.rename(tmp / f".{target.name}.zip")
                unpacked = extract_zip(spooled, tmp, clean, max_bytes=max_bytes)
                spooled.unlink()
                unpacked.rename(_unique(tmp, Path(clean).stem))
    return dest
