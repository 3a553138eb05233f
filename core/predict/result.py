"""What predict found, per image: the score and the decision at a threshold (autoencoders), or
the predicted class and probabilities (classifiers), and why any file was left out. The CSV,
the JSON summary and the gallery's orderings come from here."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
import pandas as pd

from core.console import faithful
from core.errors import UserError
from core.models import Kind
from core.predict.conformal import bh_flags, check_fdr, conformal_p_values
from core.predict.thresholds import ThresholdChoice

ANOMALY, NORMAL = "anomaly", "normal"


class SortOrder(StrEnum):
    HIGHEST = "highest score first"  # autoencoders: most anomalous; classifiers: most confident
    LOWEST = "lowest score first"
    NAME = "file name"


@dataclass
class PredictResult:
    names: list[str]  # every input image, in input order, including those left out
    kind: Kind
    classes: tuple[str, ...]
    threshold: ThresholdChoice
    values: np.ndarray  # autoencoders: (N,) scores; classifiers: (N, K) probabilities; NaN if left out
    errors: dict[int, str]  # row -> why it was left out
    source: str = ""  # the run or bundle, for messages
    where: str = ""  # the input, as given
    labels: list[str] | None = None  # true classes, when a dataset spec was the input
    calibration: np.ndarray | None = None  # normal validation scores, for p-values
    fdr: float | None = None  # flag by Benjamini-Hochberg at this level instead of the threshold
    warnings: list[str] = field(default_factory=list)  # e.g. images that decode to one flat value

    @property
    def scored(self) -> np.ndarray:
        """Rows that were read and scored."""
        ok = np.ones(len(self.names), dtype=bool)
        ok[list(self.errors)] = False
        return np.flatnonzero(ok)

    def with_threshold(self, threshold: ThresholdChoice) -> PredictResult:
        """The same scores decided at another threshold (nothing is recomputed)."""
        return replace(self, threshold=threshold)

    def with_fdr(self, q: float | None) -> PredictResult:
        """The same scores flagged by Benjamini-Hochberg at level q (None: at the threshold)."""
        if q is None:
            return replace(self, fdr=None)
        q = check_fdr(q)
        if self.calibration is None:
            raise UserError("--fdr needs the normal validation scores (the run's normal classes, "
                            "or a bundle that carries them); this detector has none")
        bh_flags(self.p_values()[self.scored], q)  # refuses a batch of one, here
        return replace(self, fdr=float(q))

    def p_values(self) -> np.ndarray | None:
        """Per row: the conformal p-value of its score against the normal validation scores."""
        if self.calibration is None or not self.kind.has_decoder:
            return None
        return conformal_p_values(self.calibration, self.values)

    def require_some(self) -> None:
        if not len(self.scored):
            first = next(iter(self.errors.values()), "")
            raise UserError(f"no image in {self.where or 'the input'} could be used "
                            f"({len(self.errors):,} file(s) left out; the first: {first})")

    # -- per image ---------------------------------------------------------------------------
    def ranking_values(self) -> np.ndarray:
        """The number the gallery sorts by: the score, or the predicted class's probability."""
        if self.kind.has_decoder:
            return self.values
        return self.values.max(1)

    def decisions(self) -> np.ndarray:
        """Per row: anomaly/normal, or the predicted class name; "" where the row was left out."""
        out = np.full(len(self.names), "", dtype=object)
        rows = self.scored
        t = self.threshold.value
        if self.kind.has_decoder and self.fdr is not None:
            out[rows] = np.where(bh_flags(self.p_values()[rows], self.fdr), ANOMALY, NORMAL)
        elif self.kind.has_decoder:
            out[rows] = np.where(self.values[rows] >= t, ANOMALY, NORMAL)
        else:
            p = self.values[rows]
            if t is None:
                ids = p.argmax(1)
            else:  # two classes: the positive one at or above the threshold, else the other
                pos = self.classes.index(self.threshold.positive or self.classes[1])
                ids = np.where(p[:, pos] >= t, pos, 1 - pos)
            out[rows] = np.asarray(self.classes, dtype=object)[ids]
        return out

    def flagged(self) -> int:
        return int((self.decisions() == ANOMALY).sum())

    def counts(self) -> dict[str, int]:
        """Images per decision (anomaly/normal, or per predicted class), scored rows only."""
        values, counts = np.unique(self.decisions()[self.scored].astype(str), return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts)}

    def order(self, how: SortOrder) -> np.ndarray:
        """The scored rows in the gallery's order (ties keep the input order)."""
        rows = self.scored
        if how == SortOrder.NAME:
            return rows[np.argsort(np.asarray(self.names, dtype=object)[rows], kind="stable")]
        key = self.ranking_values()[rows]
        return rows[np.argsort(-key if how == SortOrder.HIGHEST else key, kind="stable")]

    # -- exports -----------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """One row per input image (the CSV): file, [class], score or probabilities, threshold,
        decision, and the reason for an image left out."""
        # file names as encodable text (console.faithful): one that was not UTF-8 keeps its odd
        # bytes as \xff escapes, since a table of strings must be valid UTF-8
        table = {"file": [faithful(n) for n in self.names]}
        if self.labels is not None:
            table["class"] = [faithful(str(c)) for c in self.labels]
        decisions = self.decisions()
        if self.kind.has_decoder:
            table[self.threshold.score] = self.values
            table["threshold"] = self.threshold.value
            p = self.p_values()
            table["p_value"] = p if p is not None else np.nan
            table["decision"] = decisions
        else:
            table["predicted"] = [faithful(str(d)) for d in decisions]
            table["confidence"] = self.values.max(1)
            for i, name in enumerate(self.classes):
                table[f"p({faithful(name)})"] = self.values[:, i]
            if self.threshold.value is not None:
                table["threshold"] = self.threshold.value
        table["error"] = [self.errors.get(i, "") for i in range(len(self.names))]
        return pd.DataFrame(table)

    def summary(self) -> dict:
        """Counts, the threshold with its provenance, and the files left out (for --json)."""
        n = len(self.scored)
        out = {"source": self.source, "input": self.where, "kind": str(self.kind),
               "images": len(self.names), "scored": n, "threshold": self.threshold.to_json(),
               "counts": self.counts(),
               "left_out": [{"file": self.names[r], "reason": why} for r, why in self.errors.items()],
               "warnings": list(self.warnings)}
        if self.kind.has_decoder:
            out["flagged"] = self.flagged()
            out["share_flagged"] = self.flagged() / n if n else None
            out["fdr"] = self.fdr
            if self.fdr is not None:
                out["expected_false_alarms_at_most"] = self.fdr * self.flagged()
        return out
