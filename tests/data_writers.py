"""Write tiny datasets in their real on-disk formats, for tests and benchmarks.

Pure functions (numpy, Pillow, pickle, zipfile, gzip); everything is deterministic
given ``seed``. Images are class-dependent (a bright block whose position, and for
colour images whose colour, depends on the label, plus low noise) so a model can learn them.
"""
from __future__ import annotations

import gzip
import io
import math
import pickle
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR100_NAMES = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly "
    "camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup "
    "dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower "
    "leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid "
    "otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road "
    "rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower "
    "sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale "
    "willow_tree wolf woman worm"
).split()
CIFAR100_COARSE_NAMES = (
    "aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices "
    "household_furniture insects large_carnivores large_man-made_outdoor_things "
    "large_natural_outdoor_scenes large_omnivores_and_herbivores medium_mammals "
    "non-insect_invertebrates people reptiles small_mammals trees vehicles_1 vehicles_2"
).split()
# Real fine -> coarse label mapping of CIFAR-100.
CIFAR100_FINE_TO_COARSE = [
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11, 6, 11, 5, 10, 7, 6, 13, 15, 3, 15,
    0, 11, 1, 10, 12, 14, 16, 9, 11, 5, 5, 19, 8, 8, 15, 13, 14, 17, 18, 10, 16, 4, 17, 4, 2, 0, 17, 4, 18,
    17, 10, 3, 2, 12, 12, 16, 12, 1, 9, 19, 2, 10, 0, 1, 16, 12, 9, 13, 15, 13, 16, 19, 2, 4, 6, 19, 5, 5,
    8, 19, 18, 1, 2, 15, 6, 0, 17, 8, 14, 13,
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pattern_images(labels: np.ndarray, n_classes: int, hw: tuple[int, int],
                   rng: np.random.Generator, channels: int = 0) -> np.ndarray:
    """uint8 images (N,H,W) or (N,H,W,C): noise plus a class-positioned bright block."""
    h, w = hw
    grid = max(1, math.ceil(math.sqrt(n_classes)))
    ch, cw = max(1, h // grid), max(1, w // grid)
    shape = (len(labels), h, w) + ((channels,) if channels else ())
    imgs = rng.integers(0, 40, size=shape, dtype=np.uint8)
    for i, y in enumerate(np.asarray(labels, dtype=np.int64)):
        r, c = divmod(int(y), grid)
        if channels:
            colour = [150 + (int(y) * k) % 106 for k in (37, 71, 113, 5)[:channels]]
            imgs[i, r * ch:(r + 1) * ch, c * cw:(c + 1) * cw] = colour
        else:
            imgs[i, r * ch:(r + 1) * ch, c * cw:(c + 1) * cw] = 200 + int(rng.integers(0, 56))
    return imgs


# ----------------------------------------------------------------------------- IDX (MNIST family)
def write_idx_images(path: Path, array: np.ndarray) -> Path:
    """Write (N,H,W) uint8 as an IDX3 file (magic 2051, big-endian dims); '.gz' suffix gzips."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    if a.ndim != 3:
        raise ValueError(f"expected (N,H,W), got {a.shape}")
    return _write_idx(Path(path), struct.pack(">IIII", 2051, *a.shape) + a.tobytes())


def write_idx_labels(path: Path, array: np.ndarray) -> Path:
    """Write (N,) uint8 labels as an IDX1 file (magic 2049); '.gz' suffix gzips."""
    a = np.ascontiguousarray(array, dtype=np.uint8).reshape(-1)
    return _write_idx(Path(path), struct.pack(">II", 2049, a.shape[0]) + a.tobytes())


def _write_idx(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(payload)
    return path


def write_mnist_idx(root: Path, folder: str = "MNIST", n_train: int = 30, n_test: int = 10,
                    n_classes: int = 10, size: int = 28, gzip_files: bool = False,
                    seed: int = 0) -> dict:
    """Write ``root/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` as torchvision reads them.

    Labels cycle 0..n_classes-1 (every class present when n >= n_classes).
    ``gzip_files`` additionally writes the ``.gz`` originals next to the raw files.
    """
    rng = np.random.default_rng(seed)
    raw = Path(root) / folder / "raw"
    out: dict = {"raw_dir": raw, "files": []}
    for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        labels = (np.arange(n) % n_classes).astype(np.uint8)
        images = pattern_images(labels, n_classes, (size, size), rng)
        for suffix in ([""] + ([".gz"] if gzip_files else [])):
            out["files"].append(write_idx_images(raw / f"{prefix}-images-idx3-ubyte{suffix}", images))
            out["files"].append(write_idx_labels(raw / f"{prefix}-labels-idx1-ubyte{suffix}", labels))
        out[f"{split}_images"], out[f"{split}_labels"] = images, labels
    return out


# ----------------------------------------------------------------------------- CIFAR
class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Protocol-2 pickler that stores str/bytes as Python-2 ``str`` (BINSTRING), like the real
    CIFAR files: they load as str with ``encoding="latin1"`` and as bytes with ``encoding="bytes"``."""

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def save_py2_str(self, obj: str | bytes) -> None:
        data = obj.encode("latin1") if isinstance(obj, str) else bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str


def _dump_py2(obj: dict, path: Path) -> None:
    with open(path, "wb") as f:
        _Py2Pickler(f, protocol=2).dump(obj)


def write_cifar(root: Path, kind: str = "cifar10", n_per_class: int = 3,
                classes: int | Sequence[int] | None = None, seed: int = 0) -> dict:
    """Write CIFAR python batches: ``cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}``
    or ``cifar-100-python/{train,test,meta}``. ``n_per_class`` images per class in each split;
    ``classes`` = label indices to use (int k -> first k; None -> all). Meta lists all real names.
    """
    if kind not in ("cifar10", "cifar100"):
        raise ValueError(f"kind must be cifar10 or cifar100, got {kind!r}")
    c10 = kind == "cifar10"
    names = CIFAR10_NAMES if c10 else CIFAR100_NAMES
    used = list(range(len(names))) if classes is None else (
        list(range(classes)) if isinstance(classes, int) else [int(c) for c in classes])
    rng = np.random.default_rng(seed)
    base = Path(root) / ("cifar-10-batches-py" if c10 else "cifar-100-python")
    base.mkdir(parents=True, exist_ok=True)
    out: dict = {"base_dir": base, "label_names": list(names), "classes": used, "files": []}
    for split in ("train", "test"):
        labels = np.repeat(np.array(used, dtype=np.int64), n_per_class)
        labels = labels[rng.permutation(len(labels))]
        images = pattern_images(labels, len(names), (32, 32), rng, channels=3)  # (N,32,32,3)
        data = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)  # R, G, B planes row-major
        fnames = [f"{names[y]}_s_{i:06d}.png" for i, y in enumerate(labels)]
        if c10:
            chunks = np.array_split(np.arange(len(labels)), 5) if split == "train" else [np.arange(len(labels))]
            for b, idx in enumerate(chunks):
                fname = f"data_batch_{b + 1}" if split == "train" else "test_batch"
                _dump_py2({"batch_label": f"{'training' if split == 'train' else 'testing'} batch "
                                          f"{b + 1} of {len(chunks)}",
                           "labels": [int(y) for y in labels[idx]], "data": data[idx],
                           "filenames": [fnames[i] for i in idx]}, base / fname)
                out["files"].append(base / fname)
        else:
            _dump_py2({"filenames": fnames, "batch_label": f"{'training' if split == 'train' else 'testing'}"
                                                          " batch 1 of 1",
                       "fine_labels": [int(y) for y in labels],
                       "coarse_labels": [CIFAR100_FINE_TO_COARSE[int(y)] for y in labels],
                       "data": data}, base / split)
            out["files"].append(base / split)
        out[f"{split}_images"], out[f"{split}_labels"] = images, labels
    if c10:
        meta = {"num_cases_per_batch": int(math.ceil(len(used) * n_per_class / 5)),
                "label_names": list(names), "num_vis": 3072}
        meta_path = base / "batches.meta"
    else:
        meta = {"fine_label_names": list(names), "coarse_label_names": list(CIFAR100_COARSE_NAMES)}
        meta_path = base / "meta"
    _dump_py2(meta, meta_path)
    out["files"].append(meta_path)
    return out


# ----------------------------------------------------------------------------- K49
def write_k49(root: Path, n_train: int = 60, n_test: int = 20, n_classes: int = 49,
              with_classmap: bool = True, seed: int = 0) -> dict:
    """Write ``k49-{train,test}-{imgs,labels}.npz`` (key ``arr_0``) and ``k49_classmap.csv``.

    Train labels are imbalanced: every class once, the rest mostly class 0 (needs n_train >= n_classes).
    """
    if n_train < n_classes:
        raise ValueError("n_train must be >= n_classes so every class has a train sample")
    rng = np.random.default_rng(seed)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    extra = n_train - n_classes
    n_zero = (2 * extra) // 3
    train_labels = np.concatenate([np.arange(n_classes), np.zeros(n_zero, dtype=np.int64),
                                   rng.integers(0, n_classes, extra - n_zero)])
    train_labels = train_labels[rng.permutation(n_train)].astype(np.uint8)
    test_labels = (np.arange(n_test) % n_classes).astype(np.uint8)
    out: dict = {"root": root, "n_classes": n_classes}
    for split, labels in (("train", train_labels), ("test", test_labels)):
        images = pattern_images(labels, n_classes, (28, 28), rng)
        np.savez_compressed(root / f"k49-{split}-imgs.npz", arr_0=images)
        np.savez_compressed(root / f"k49-{split}-labels.npz", arr_0=labels)
        out[f"{split}_images"], out[f"{split}_labels"] = images, labels
    chars = [chr(0x3042 + 2 * i) for i in range(n_classes)]
    out["chars"] = chars
    if with_classmap:
        lines = ["index,codepoint,char"] + [f"{i},U+{ord(c):04X},{c}" for i, c in enumerate(chars)]
        out["classmap"] = root / "k49_classmap.csv"
        out["classmap"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


# ----------------------------------------------------------------------------- image folders
def _image(label: int, n_classes: int, wh: tuple[int, int], mode: str, rng: np.random.Generator) -> Image.Image:
    w, h = wh
    arr = pattern_images(np.array([label]), n_classes, (h, w), rng, channels=3)[0]
    return Image.fromarray(arr, "RGB").convert(mode)


def _save(img: Image.Image, path: Path) -> None:
    if path.suffix.lower() in (".jpg", ".jpeg") and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    img.save(path)


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_image_folder(root: Path, classes: Sequence[str] = ("Negative", "Positive"), n_per_class: int = 4,
                       size: tuple[int, int] = (20, 16), mode: str = "RGB",
                       fmt_cycle: Sequence[str] = ("png", "jpg"), with_train_test: bool = False,
                       corrupt: bool = True, stray_text: bool = True, odd_sizes: bool = False,
                       seed: int = 0) -> dict:
    """Write ``root/<class>/img_<i>.<ext>`` (or ``root/{train,test}/<class>/...``); ``size`` is (W, H).

    ``corrupt`` adds a truncated ``broken.png`` and ``stray_text`` a ``notes.txt`` to the first class
    (of the train split). ``odd_sizes`` gives every image a different size.
    ``n_valid``/``files`` are keyed by split ("train"/"test", or "all" for a flat layout) then class.
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    splits = ["train", "test"] if with_train_test else ["all"]
    out: dict = {"root": root, "classes": list(classes), "splits": splits,
                 "n_valid": {}, "files": {}, "corrupt": [], "stray": []}
    for split in splits:
        sdir = root / split if with_train_test else root
        out["n_valid"][split], out["files"][split] = {}, {}
        for k, cls in enumerate(classes):
            cdir = sdir / cls
            cdir.mkdir(parents=True, exist_ok=True)
            paths = []
            for i in range(n_per_class):
                wh = (size[0] + i, size[1] + 2 * (i % 3)) if odd_sizes else tuple(size)
                p = cdir / f"img_{i}.{fmt_cycle[i % len(fmt_cycle)]}"
                _save(_image(k, len(classes), wh, mode, rng), p)
                paths.append(p)
            out["n_valid"][split][cls], out["files"][split][cls] = n_per_class, paths
        first = sdir / classes[0]
        if corrupt and split in ("train", "all"):
            good = png_bytes(_image(0, len(classes), (max(size[0], 16), max(size[1], 16)), "RGB", rng))
            assert good.startswith(PNG_SIGNATURE)
            (first / "broken.png").write_bytes(good[: len(good) // 2] + b"\x00garbage")
            out["corrupt"].append(first / "broken.png")
        if stray_text and split in ("train", "all"):
            (first / "notes.txt").write_text("not an image\n")
            out["stray"].append(first / "notes.txt")
    return out


# ----------------------------------------------------------------------------- zip archives
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 56


def write_good_zip(path: Path, n_per_class: int = 3, seed: int = 0) -> Path:
    """Zip ``mydata/{cats,dogs}/*.png`` with directory entries, a ``.DS_Store`` and macOS ``__MACOSX/`` junk."""
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mydata/", b"")
        zf.writestr("mydata/.DS_Store", b"\x00\x00\x00\x01Bud1" + b"\x00" * 24)
        for k, cls in enumerate(("cats", "dogs")):
            zf.writestr(f"mydata/{cls}/", b"")
            for i in range(n_per_class):
                zf.writestr(f"mydata/{cls}/{cls[:-1]}_{i}.png", png_bytes(_image(k, 2, (20, 16), "RGB", rng)))
                zf.writestr(f"__MACOSX/mydata/{cls}/._{cls[:-1]}_{i}.png", APPLEDOUBLE)
    return path


def _zip_with_entry(path: Path, info: zipfile.ZipInfo | str, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", b"harmless\n")
        zf.writestr(info, data)
    return path


def write_zip_slip(path: Path) -> Path:
    """Zip with a path-traversal entry ``../evil.txt`` (plus a harmless ``ok.txt``)."""
    return _zip_with_entry(path, "../evil.txt", b"escaped!\n")


def write_zip_absolute(path: Path) -> Path:
    """Zip with an absolute-path entry ``/tmp/evil_abs.txt`` (plus ``ok.txt``)."""
    return _zip_with_entry(path, "/tmp/evil_abs.txt", b"absolute!\n")


def write_zip_symlink(path: Path) -> Path:
    """Zip with a Unix symlink entry ``link`` -> ``/etc/passwd`` (plus ``ok.txt``)."""
    info = zipfile.ZipInfo("link")
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    return _zip_with_entry(path, info, b"/etc/passwd")


def write_zip_bomb(path: Path, declared_mb: int = 64) -> Path:
    """Zip with one deflated entry ``zeros.bin`` of ``declared_mb`` MiB of zeros, written in chunks."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf, \
            zf.open("zeros.bin", "w") as f:
        for _ in range(declared_mb):
            f.write(chunk)
    return path


# ----------------------------------------------------------------------------- hostile inputs
def write_idx_gz_bomb(path: Path, declared: tuple[int, ...] = (60_000, 28, 28),
                      payload_mib: int = 256) -> Path:
    """A gzipped IDX3 file whose header declares ``declared`` but which inflates to
    ``payload_mib`` MiB of zeros after it (a few hundred KB on disk)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(struct.pack(f">I{len(declared)}I", 0x0800 + len(declared), *declared))
        for _ in range(payload_mib):
            f.write(chunk)
    return path


def write_truncated_gz(path: Path, payload: bytes) -> Path:
    """``payload`` gzipped, then cut in half: a damaged download."""
    data = gzip.compress(payload)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(data[: len(data) // 2])
    return Path(path)


def write_npz_declaring(path: Path, shape: tuple[int, ...], dtype: str = "|u1",
                        payload: bytes = b"\x00" * 64) -> Path:
    """An .npz whose single ``arr_0.npy`` header declares ``shape`` but holds only ``payload``."""
    header = {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    text = repr(header).encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text) + pad + 1) + text + b" " * pad + b"\n"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("arr_0.npy", npy + payload)
    return path


def rewrite_cifar_batch(path: Path, **changes) -> Path:
    """Load a CIFAR batch written by ``write_cifar``, apply ``changes`` (None deletes a key),
    and write it back in the same Python-2 pickle form."""
    with open(path, "rb") as f:
        entry = pickle.load(f, encoding="latin1")
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    _dump_py2(entry, Path(path))
    return Path(path)


def write_png_of_size(path: Path, width: int, height: int, mode: str = "L") -> Path:
    """A flat ``width`` x ``height`` PNG: huge in pixels, small on disk."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, (width, height), 7).save(path, optimize=False)
    return Path(path)


def write_png_16bit(path: Path, array: np.ndarray) -> Path:
    """A 16-bit grayscale PNG of the (H, W) uint16 ``array``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(array, dtype=np.uint16)).save(path)
    return Path(path)


def write_zip_entries(path: Path, entries: Sequence[tuple[str | zipfile.ZipInfo, bytes]],
                      compression: int = zipfile.ZIP_STORED) -> Path:
    """A zip holding exactly ``entries`` (name or ZipInfo, bytes), in that order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def set_zip_flag_and_method(path: Path, flag_bits: int | None = None,
                            method: int | None = None) -> Path:
    """Rewrite every entry's general-purpose flags and/or compression method in both the local
    and the central headers, as an encrypting or exotic zip tool would have written them."""
    data = bytearray(Path(path).read_bytes())
    for signature, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            if flag_bits is not None:
                data[at + flag_at:at + flag_at + 2] = struct.pack("<H", flag_bits)
            if method is not None:
                data[at + method_at:at + method_at + 2] = struct.pack("<H", method)
            start = at + 4
    Path(path).write_bytes(bytes(data))
    return Path(path)
