"""An exported bundle, read back: a folder (or a .zip of one) with manifest.json, the model file(s)
and arrays.npz. Everything is checked before it is used: the manifest's format version and fields,
and each file's sha256. Nothing is unpickled: the manifest is JSON, the arrays are loaded with
allow_pickle=False, the model is TorchScript or ONNX (core/predict/model_files.py)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from core.anomaly.record import Lookup, ThresholdRecord
from core.anomaly.scores import SCORES, Scorer
from core.errors import UserError
from core.io.files import load_json_file, open_regular
from core.models import Kind
from core.predict.detector import Detector, class_probabilities_of
from core.predict.model_files import ModelFormat, methods, read_model
from core.predict.recipe import Recipe

FORMAT = "smalldl-bundle"
FORMAT_VERSION = 1  # bump when a reader of the previous version would misread a bundle
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
MAX_MANIFEST_BYTES = 1 << 20
MAX_FILE_BYTES = 1 << 30


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path, MAX_FILE_BYTES) as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def is_bundle(path: Path) -> bool:
    """A bundle folder, or a .zip (its manifest is checked when it is loaded)."""
    return (path.is_dir() and (path / MANIFEST).is_file()) or (path.is_file()
                                                                and path.suffix.lower() == ".zip")


def read_manifest(folder: Path) -> dict:
    """The manifest, checked: format and version first (a newer bundle says so), then each
    field's type, then every listed file's size and sha256."""
    path = folder / MANIFEST
    if not path.exists():
        raise UserError(f"{folder} is not a bundle: it has no {MANIFEST}")
    m = load_json_file(path, MAX_MANIFEST_BYTES)  # a regular file, size- and depth-limited
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise UserError(f"{folder} is not a {FORMAT} (its manifest says format "
                        f"{m.get('format') if isinstance(m, dict) else None!r})")
    version = m.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UserError(f"the bundle's format_version must be a positive integer, not {version!r}")
    if version > FORMAT_VERSION:
        raise UserError(f"this bundle is format version {version}, from a newer smalldl; this "
                        f"one reads up to version {FORMAT_VERSION}: upgrade it to use the bundle")
    expected = {"name": str, "kind": str, "model_format": str, "classes": list, "dataset": str,
                "preprocessing": dict, "normal_classes": list, "scores": list, "score": (str, type(None)),
                "thresholds": dict, "loss_params": dict, "model_files": dict, "files": dict}
    for key, kind in expected.items():
        if not isinstance(m.get(key), kind):
            raise UserError(f"the bundle's manifest is damaged: {key!r} is missing or of the wrong type")
    if m["kind"] not in set(Kind) or m["model_format"] not in set(ModelFormat):
        raise UserError(f"the bundle's kind {m['kind']!r} or model format {m['model_format']!r} "
                        "is not one this version knows")
    for key in ("classes", "normal_classes", "scores"):
        if not all(isinstance(v, str) for v in m[key]):
            raise UserError(f"the bundle's manifest is damaged: {key} must be names")
    wanted = set(methods(Kind(m["kind"])))
    if not wanted <= set(m["model_files"]) or not all(isinstance(f, str)
                                                      for f in m["model_files"].values()):
        raise UserError(f"the bundle's model_files must name a file for {', '.join(sorted(wanted))}")
    _check_files(folder, m["files"], {*m["model_files"].values(), ARRAYS})
    return m


def _check_files(folder: Path, files: dict, required: set[str]) -> None:
    missing = required - set(files)
    if missing:
        raise UserError(f"the bundle's manifest lists no checksum for {', '.join(sorted(missing))}")
    for name, digest in files.items():
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise UserError(f"the bundle lists a file outside its folder: {name!r}")
        path = folder / name
        if not path.is_file():
            raise UserError(f"the bundle is incomplete: {name} is missing")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"{name} is larger than {MAX_FILE_BYTES >> 30} GiB; refused")
        if sha256(path) != digest:
            raise UserError(f"{name} does not match its sha256 in the manifest: the bundle was "
                            "changed or damaged; export it again")


class BundleDetector(Detector):
    """An exported run: its model, recipe, latent scores' state, thresholds and reference scores."""

    def __init__(self, folder: Path, device: str = "cpu"):
        m = read_manifest(folder)
        self.manifest, self.device = m, device
        self.name, self.kind = m["name"], Kind(m["kind"])
        self.classes, self.normal_classes = tuple(m["classes"]), tuple(m["normal_classes"])
        self.recipe = Recipe.from_json(m["preprocessing"])
        self.model = read_model(folder, ModelFormat(m["model_format"]), m["model_files"], device,
                                self.recipe.in_shape)
        try:
            with open_regular(folder / ARRAYS, MAX_FILE_BYTES) as f, \
                    np.load(f, allow_pickle=False) as z:
                self.arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise UserError(f"{ARRAYS} cannot be read without pickle: {exc}") from None
        self._names = tuple(n for n in m["scores"] if n in SCORES)
        if self.kind.has_decoder:
            self.scorer = Scorer.for_model(self.model, self.kind, m["loss_params"], device)
            self.scorer.scores = [self._fitted(type(s)) for s in self.scorer.scores
                                  if s.name in self._names]
        self._probe()

    def _probe(self) -> None:
        """One blank image through the model and every score: a bundle whose parts do not fit
        together is refused here, with a message, rather than failing on the user's images."""
        blank = np.zeros((1, *self.recipe.in_shape), dtype=np.uint8)
        try:
            if self.kind.has_decoder:
                self.scorer.score(blank)
            else:
                assert self.probabilities(blank).shape == (1, len(self.classes))
        except Exception as exc:
            raise UserError(f"the bundle's model and fitted scores do not fit its preprocessing "
                            f"({type(exc).__name__}: {exc}); export it again") from None

    def _fitted(self, cls):
        """The score as fitted when exported (a score with nothing fitted has an empty state)."""
        prefix = f"latent.{cls.name}."
        state = {k[len(prefix):]: v for k, v in self.arrays.items() if k.startswith(prefix)}
        try:
            return cls.from_state(state)
        except KeyError:
            raise UserError(f"the bundle offers score {cls.name} but holds no fitted state for "
                            "it") from None

    def score_names(self) -> tuple[str, ...]:
        return self._names if self.kind.has_decoder else ()

    def scores(self, images: np.ndarray, score: str) -> np.ndarray:
        self.check_score(score)
        return self.scorer.score(images, names=(score,))[score]

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        return class_probabilities_of(self.model, images, self.device)

    def threshold_lookup(self, score: str) -> Lookup:
        """The bundle's record for this score (the same JSON a run saves); a damaged one, or
        one for other normal classes, is refused in one line."""
        record = self.manifest["thresholds"].get(score)
        if record is None:
            return Lookup(None)
        saved = ThresholdRecord.from_json(record)
        if saved is None:
            raise UserError(f"the bundle's saved threshold for {score} is damaged")
        problem = saved.mismatch(score, self.normal_classes)
        if problem is not None:
            raise UserError(f"the bundle's saved threshold for {score} cannot be used: {problem}")
        return Lookup(saved)

    def default_score(self) -> str:
        return self.manifest["score"] or super().default_score()

    def reference_scores(self, score: str, split: str) -> tuple[np.ndarray, np.ndarray]:
        self.check_score(score)
        values, flags = self.arrays.get(f"{split}.{score}"), self.arrays.get(f"{split}.is_anomaly")
        if values is None or flags is None:
            raise UserError(f"the bundle holds no {split} scores for {score}")
        if values.ndim != 1 or values.shape != flags.shape or values.dtype.kind != "f":
            raise UserError(f"the bundle's {split} scores for {score} are damaged")
        return values.astype(np.float64), flags.astype(bool)


def open_bundle(path: Path, workdir: Path, device: str = "cpu") -> BundleDetector:
    """A bundle folder, or a .zip of one unpacked (checked, bounded) into workdir."""
    if path.is_file():
        from core.data.archive import extract_zip

        if path.stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"{path.name} is larger than {MAX_FILE_BYTES >> 30} GiB; refused")
        path = extract_zip(path, workdir, path.name)
    return BundleDetector(path, device)
