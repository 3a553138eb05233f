"""A dataset spec: everything needed to rebuild a dataset exactly, as text or JSON.

Text form is URL-query-like so it fits in a CLI argument and a page URL:
    digits
    mnist?root=data/mnist
    cifar100?root=data/cifar&classes=clock,crocodile
    folder?root=data/cracks&size=32&mode=L&steps=blur:1,adaptive_threshold
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields, replace
from urllib.parse import parse_qsl, quote

from core.errors import DatasetError, UserError

_LIST_FIELDS = ("classes", "steps")
MAX_SPEC_CHARS = 8192
DECISIONS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.csv")


@dataclass(frozen=True)
class DatasetSpec:
    source: str = "digits"
    root: str | None = None  # folder or files location, for sources read from disk
    classes: tuple[str, ...] = ()  # class subset, in this order; empty = all classes
    size: int | None = None  # image folders: square side to resize to (None = keep)
    mode: str | None = None  # image folders: "L" (grayscale) or "RGB"
    steps: tuple[str, ...] = ()  # preprocessing steps, e.g. ("grayscale", "resize:32")
    val_fraction: float = 0.1
    test_fraction: float = 0.2  # only used when the source has no test split of its own
    seed: int = 0
    labels: str | None = None  # a decisions file in <workspace>/decisions (core.data.labels)

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0 or not 0.0 <= self.test_fraction < 1.0:
            raise DatasetError("val_fraction and test_fraction must be in [0, 1)")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise DatasetError("val_fraction + test_fraction leaves too little to train on")
        if self.mode not in (None, "L", "RGB"):
            raise DatasetError(f"mode must be L or RGB, not {self.mode!r}")
        if self.size is not None and not 4 <= self.size <= 512:
            raise DatasetError(f"size must be between 4 and 512 pixels, not {self.size}")
        if not 0 <= self.seed < 2 ** 32:
            raise DatasetError(f"seed must be between 0 and 2**32 - 1, not {self.seed}")
        if self.labels is not None and not DECISIONS_NAME.fullmatch(self.labels):
            raise DatasetError(f"labels names a decisions file in the workspace, like fixes.csv "
                               f"(letters, digits, . _ -), not {self.labels[:80]!r}")
        twice = sorted({c for c in self.classes if self.classes.count(c) > 1})
        if twice:  # a phantom class with no images would skew macro metrics without a word
            raise DatasetError("classes names " + ", ".join(repr(c[:40]) for c in twice[:5])
                               + " more than once; name each class once")
        if any(not c for c in self.classes):
            raise DatasetError("classes has an empty name (two commas in a row, or a trailing comma)")

    # -- text ------------------------------------------------------------------
    def to_text(self) -> str:
        parts = []
        for f in fields(self):
            if f.name == "source":
                continue
            value = getattr(self, f.name)
            if value == f.default or value == ():
                continue
            if f.name in _LIST_FIELDS:
                value = ",".join(quote(v, safe=":.-_ ") for v in value)
            else:
                value = quote(str(value), safe="/:.-_ ~")
            parts.append(f"{f.name}={value}")
        return self.source + ("?" + "&".join(parts) if parts else "")

    @classmethod
    def from_text(cls, text: str) -> "DatasetSpec":
        """The query-like text form, or the JSON form (it starts with "{")."""
        text = text.strip()
        if len(text) > MAX_SPEC_CHARS:
            raise DatasetError(f"a dataset spec is at most {MAX_SPEC_CHARS} characters")
        if text.startswith("{"):
            return cls.from_json(text)
        source, _, query = text.partition("?")
        if not source:
            raise DatasetError("a dataset spec starts with a source name, e.g. 'digits'")
        values: dict[str, str] = {}
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
        except ValueError:
            raise DatasetError(f"malformed dataset spec {text[:200]!r}: options are written "
                               "name=value and joined with &, e.g. mnist?root=data&size=28") from None
        for key, value in pairs:
            values[key] = value
        return cls.from_dict({"source": source, **values})

    # -- JSON ------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        for name in _LIST_FIELDS:
            d[name] = list(d[name])
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "DatasetSpec":
        from core.io.files import loads

        try:
            data = loads(text, "dataset spec")
        except UserError as exc:
            raise DatasetError(str(exc)) from None
        if not isinstance(data, dict) or "source" not in data:
            raise DatasetError('a JSON dataset spec is an object with a "source", '
                               'e.g. {"source": "mnist", "root": "data"}')
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, d: dict) -> "DatasetSpec":
        known = {f.name: f for f in fields(cls)}
        unknown = set(d) - set(known)
        if unknown:
            raise DatasetError(f"unknown dataset option(s): {', '.join(sorted(unknown))}")
        kwargs: dict = {}
        try:
            for key, value in d.items():
                kwargs[key] = _coerce(key, value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise DatasetError(f"bad dataset option: {exc}") from None
        return cls(**kwargs)

    def with_(self, **changes) -> "DatasetSpec":
        return replace(self, **changes)

    def source_key(self) -> dict:
        """The part of the spec that decides the loaded arrays (before steps and splits)."""
        return {"source": self.source, "root": self.root, "size": self.size, "mode": self.mode}


def _coerce(key: str, value):
    if key in _LIST_FIELDS:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")] if value.strip() else []
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        if key in ("root", "size", "mode", "labels"):
            return None
        raise ValueError(f"{key} needs a value")
    if key in ("size", "seed"):
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{key} must be a whole number, not {value!r}")
        return int(value)
    if key in ("val_fraction", "test_fraction"):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text, not {value!r}")
    return value
