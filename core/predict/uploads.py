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


def save_uploads(files: list[tuple[str, bytes]], uploads_dir: Path,
                 max_bytes: int = MAX_UPLOAD_BYTES, max_files: int = MAX_UPLOAD_FILES) -> Path:
    """The folder holding these (name, content) uploads; written whole or not at all."""
    if not files:
        raise UserError("no files were uploaded")
    if len(files) > max_files:
        raise UserError(f"{len(files):,} files, more than the limit of {max_files:,}")
    if sum(len(data) for _, data in files) > max_bytes:
        raise UserError(f"the uploads add up to more than {max_bytes / 2**20:.0f} MiB")
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode("utf-8", "replace") + b"\0" + hashlib.sha256(data).digest())
    dest = Path(uploads_dir) / f"predict-{digest.hexdigest()[:16]}"
    if dest.is_dir():
        return dest
    with atomic_dir(dest) as tmp:
        for name, data in files:
            clean = clean_name(name)
            if clean.lower().endswith(".zip"):
                unpacked = extract_zip(data, tmp, clean, max_bytes=max_bytes)
                unpacked.rename(_unique(tmp, Path(clean).stem))
            else:
                _unique(tmp, clean).write_bytes(data)
    return dest
