"""Automatic thresholds: standalone objects fitted on validation scores, then applied to test.

Each has fit(scores, is_anomaly) -> self, a learned threshold_, warnings_ (why the validation data
cannot support it, when that happens) and a one-line explanation for the page. A subclass with a
`name` registers itself; `make_strategy("name" or "name=value")` builds one, and the pages offer
every registered strategy (its `default` text) as a button. `fit_all` fits
them all at once; `compare_strategies` reports each on val and on test. Add one: CONTRIBUTING.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import UserError
from core.evaluation.sweep import ThresholdSweep

STRATEGY_CLASSES: dict[str, type[AutoThreshold]] = {}


class AutoThreshold:
    name = ""
    title = ""  # button label
    explanation = ""
    needs_anomalies = False  # True: labelled anomalies in validation are required
    default = ""  # how the pages offer it, e.g. "tnr=0.95"; defaults to the name
    offered = True  # shown as a button on the pages (else accepted as text only)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            STRATEGY_CLASSES[cls.name] = cls

    @classmethod
    def from_value(cls, value: float | None) -> AutoThreshold:
        """The strategy for 'name=value' text; strategies without a parameter refuse a value."""
        if value is not None:
            raise UserError(f"strategy {cls.name} takes no value")
        return cls()

    def fit(self, scores, is_anomaly) -> AutoThreshold:
        scores = np.asarray(scores, dtype=float)
        is_anomaly = np.asarray(is_anomaly, dtype=bool)
        if not np.isfinite(scores).all():
            raise UserError(f"{int((~np.isfinite(scores)).sum())} validation score(s) are NaN or "
                            "infinite; no threshold can be fitted on them")
        self.warnings_: list[str] = []
        self.threshold_: float | None = None
        if not (~is_anomaly).any():
            self.warnings_.append("The validation split has no normal images.")
            return self
        if self.needs_anomalies and not is_anomaly.any():
            self.warnings_.append(f"{self.name} needs anomalies in the validation split and there "
                                  "are none; use a percentile or target-false-alarm threshold.")
            return self
        self.threshold_ = float(self._fit(scores, is_anomaly))
        return self

    def _fit(self, scores: np.ndarray, is_anomaly: np.ndarray) -> float:
        raise NotImplementedError

    def params(self) -> dict:
        """The strategy's parameters, for the threshold record."""
        return {}

    def _in_the_gap(self, scores: np.ndarray, is_anomaly: np.ndarray, t: float) -> float:
        """A threshold that sits on a validation score (the lowest one called anomalous), moved to
        the middle of the gap below it: the same validation counts, and room on both sides for
        new images. Says so when validation is separable (every anomaly above every normal)."""
        below = scores[scores < t]
        if not len(below):
            return t
        gap_low = float(below.max())
        if is_anomaly.any() and scores[is_anomaly].min() > scores[~is_anomaly].max():
            self.warnings_.append(
                f"The validation split is separable: every anomaly scores above every normal "
                f"image (gap {gap_low:.6g} to {t:.6g}); the threshold sits in the middle of the "
                "gap, and the test split says how well that holds.")
        return gap_low + (t - gap_low) / 2


class MeanValidationError(AutoThreshold):
    name = "mean"
    title = "mean normal"
    explanation = ("The mean score of the normal validation images, a common baseline: about "
                   "half the normal images end up above it.")

    def _fit(self, scores, is_anomaly):
        return scores[~is_anomaly].mean()


class MaxF1(AutoThreshold):
    name = "f1"
    title = "max F1"
    explanation = "The threshold with the best F1 on validation (anomaly = positive)."
    needs_anomalies = True

    def _fit(self, scores, is_anomaly):
        curves = ThresholdSweep(scores, is_anomaly).curves()
        return self._in_the_gap(scores, is_anomaly, curves["thresholds"][int(np.argmax(curves["f1"]))])


class YoudenJ(AutoThreshold):
    name = "youden"
    title = "Youden's J"
    explanation = "Maximises TPR - FPR (Youden's J): the ROC point farthest above chance."
    needs_anomalies = True

    def _fit(self, scores, is_anomaly):
        curves = ThresholdSweep(scores, is_anomaly).curves()
        return self._in_the_gap(scores, is_anomaly,
                                curves["thresholds"][int(np.argmax(curves["tpr"] - curves["fpr"]))])


class TargetFalseAlarms(AutoThreshold):
    """The lowest threshold whose false-positive rate on normal validation images is <= max_fpr."""

    name = "tnr"
    title = "TNR 95%"
    default = "tnr=0.95"
    needs_anomalies = False

    @classmethod
    def from_value(cls, value):
        return cls(value if value is not None else 0.95)

    def __init__(self, tnr: float = 0.95):
        if not 0 < tnr < 1:
            raise UserError("the target TNR must be between 0 and 1, e.g. 0.95")
        self.tnr = tnr
        self.explanation = (f"At most {100 * (1 - tnr):.3g}% false alarms: the lowest threshold "
                            f"that keeps {100 * tnr:.3g}% of normal validation images below it.")

    def params(self) -> dict:
        return {"tnr": self.tnr}

    def _fit(self, scores, is_anomaly):
        normal = np.sort(scores[~is_anomaly])
        allowed = int(np.floor((1 - self.tnr) * len(normal)))  # normals that may score >= t
        # Scores >= t are called anomalous: t just above the (n - allowed)-th smallest normal score.
        cut = normal[len(normal) - allowed - 1]
        return np.nextafter(cut, np.inf)


class NormalPercentile(AutoThreshold):
    name = "percentile"
    title = "99th percentile"
    default = "percentile=99"
    needs_anomalies = False

    @classmethod
    def from_value(cls, value):
        return cls(value if value is not None else 99.0)

    def __init__(self, percentile: float = 99.0):
        if not 0 < percentile < 100:
            raise UserError("the percentile must be between 0 and 100, e.g. 99")
        self.percentile = percentile
        self.explanation = (f"The {percentile:g}th percentile of the normal validation scores; "
                            "needs no anomaly labels.")

    def params(self) -> dict:
        return {"percentile": self.percentile}

    def _fit(self, scores, is_anomaly):
        return np.percentile(scores[~is_anomaly], self.percentile)


class MixtureSplit(AutoThreshold):
    name = "gmm"
    title = "mixture split"
    explanation = ("Fits two Gaussians to all validation scores (no labels) and puts the threshold "
                   "where the high-score component becomes the more likely one.")

    def _fit(self, scores, is_anomaly):
        from sklearn.mixture import GaussianMixture

        if np.ptp(scores) == 0:
            self.warnings_.append("All validation scores are equal; the mixture cannot split them.")
            return scores[0]
        gmm = GaussianMixture(2, random_state=0).fit(scores.reshape(-1, 1))
        low, high = np.argsort(gmm.means_.ravel())
        grid = np.linspace(gmm.means_[low, 0], gmm.means_[high, 0], 2001)
        posterior = gmm.predict_proba(grid.reshape(-1, 1))[:, high]
        crossing = np.flatnonzero(posterior >= 0.5)
        if min(gmm.weights_) < 0.02:
            self.warnings_.append("One mixture component holds under 2% of the scores; the split "
                                  "is unreliable.")
        return grid[crossing[0]] if len(crossing) else grid[-1]


MAX_COST = 1e9  # a cost beyond this is a typo, not a price


def parse_costs(text: str) -> tuple[float, float]:
    """'FALSE_ALARM:MISS' costs: finite, not negative, not both zero, not absurd."""
    parts = str(text).split(":")
    try:
        costs = tuple(float(p) for p in parts)
    except ValueError:
        costs = ()
    if len(costs) != 2:
        raise UserError(f"costs are 'FALSE_ALARM:MISS', e.g. cost=1:10, not {text!r}")
    check_costs(*costs)
    return costs


def check_costs(false_alarm: float, miss: float) -> None:
    for name, c in (("false alarm", false_alarm), ("miss", miss)):
        if not np.isfinite(c) or c < 0 or c > MAX_COST:
            raise UserError(f"the cost of a {name} must be a number from 0 to {MAX_COST:g}, not {c:g}")
    if false_alarm == 0 and miss == 0:
        raise UserError("the costs of a false alarm and of a miss cannot both be 0")


class MinCost(AutoThreshold):
    """The threshold with the lowest total cost on validation: false alarms x their cost plus
    misses x theirs (ties: the highest such threshold, the fewest alarms)."""

    name = "cost"
    title = "min cost"
    default = "cost=1:10"
    needs_anomalies = True

    @classmethod
    def from_text(cls, text: str) -> MinCost:
        return cls(*parse_costs(text or "1:10"))

    def __init__(self, false_alarm: float = 1.0, miss: float = 10.0):
        check_costs(false_alarm, miss)
        self.false_alarm, self.miss = float(false_alarm), float(miss)
        self.explanation = (f"The lowest cost on validation, a false alarm costing {false_alarm:g} "
                            f"and a miss {miss:g}.")

    def params(self) -> dict:
        return {"false_alarm": self.false_alarm, "miss": self.miss}

    def _fit(self, scores, is_anomaly):
        table = ThresholdSweep(scores, is_anomaly).table()
        fn = np.append(table.positives_below, table.n_pos)  # the last row: above every score
        tn = np.append(table.below, table.n_pos + table.n_neg) - fn
        cost = self.false_alarm * (table.n_neg - tn) + self.miss * fn
        k = int(np.flatnonzero(cost == cost.min())[-1])
        if k == len(table.thresholds):  # calling nothing is cheapest: just above every score
            return np.nextafter(table.thresholds[-1], np.inf)
        return self._in_the_gap(scores, is_anomaly, table.thresholds[k])


class AlarmBudget(AutoThreshold):
    """The lowest threshold that raises at most K alarms per 1,000 validation images."""

    name = "budget"
    title = "alarm budget"
    default = "budget=50"

    @classmethod
    def from_value(cls, value):
        return cls(value if value is not None else 50.0)

    def __init__(self, per_thousand: float = 50.0):
        if not np.isfinite(per_thousand) or not 0 < per_thousand < 1000:
            raise UserError("the alarm budget is alarms per 1,000 images: more than 0 and less "
                            f"than 1,000, not {per_thousand:g}")
        self.per_thousand = float(per_thousand)
        self.explanation = (f"At most {per_thousand:g} alarms per 1,000 images (anomalies and "
                            "false alarms together) on validation.")

    def params(self) -> dict:
        return {"per_thousand": self.per_thousand}

    def _fit(self, scores, is_anomaly):
        allowed = int(np.floor(self.per_thousand / 1000 * len(scores)))
        if allowed < 1:
            self.warnings_.append(f"{self.per_thousand:g} per 1,000 of {len(scores):,} validation "
                                  "images allows no alarm at all; the threshold is above every score.")
        ranked = np.sort(scores)
        if allowed < 1:
            return np.nextafter(ranked[-1], np.inf)
        # Scores >= t are alarms: t just above the (n - allowed)-th smallest score, so ties stay out.
        return np.nextafter(ranked[len(ranked) - allowed - 1], np.inf)


class TargetFalseAlarmRate(TargetFalseAlarms):
    """The same rule as 'tnr', stated as the false-alarm rate: fpr=0.05 is tnr=0.95."""

    name = "fpr"
    title = "FPR 5%"
    default = "fpr=0.05"
    offered = False  # the pages offer it as tnr

    @classmethod
    def from_value(cls, value):
        return TargetFalseAlarms(1 - (value if value is not None else 0.05))


def make_strategy(text: str) -> AutoThreshold:
    """A strategy from text: a registered name, optionally =value (tnr=0.95, percentile=99)."""
    name, _, value = str(text).strip().partition("=")
    if name in STRATEGY_CLASSES and hasattr(STRATEGY_CLASSES[name], "from_text"):
        return STRATEGY_CLASSES[name].from_text(value)
    try:
        number = float(value) if value else None
    except ValueError:
        raise UserError(f"bad strategy {text!r}: {value!r} is not a number") from None
    if number is not None and not np.isfinite(number):
        raise UserError(f"bad strategy {text!r}: the value must be a finite number")
    if name not in STRATEGY_CLASSES:
        raise UserError(f"unknown strategy {text!r}; use one of: {', '.join(strategy_texts())}")
    return STRATEGY_CLASSES[name].from_value(number)


def offered_strategies() -> tuple[str, ...]:
    """The strategies the pages offer, as make_strategy text, in definition order."""
    return tuple(cls.default or name for name, cls in STRATEGY_CLASSES.items() if cls.offered)


def strategy_texts() -> tuple[str, ...]:
    """Every registered strategy as make_strategy text, offered on the pages or not: the CLI's
    help and error messages list these."""
    return tuple(cls.default or name for name, cls in STRATEGY_CLASSES.items())


def title(text: str) -> str:
    """Button label of a strategy text."""
    cls = STRATEGY_CLASSES.get(str(text).partition("=")[0])
    return cls.title if cls and cls.title else str(text)


STRATEGIES = offered_strategies()  # the built-in ones; call offered_strategies() for later additions


@dataclass(frozen=True)
class FittedThreshold:
    """One strategy fitted on validation: its threshold (None when it could not be fitted), the
    reasons it could not (or should not be trusted), and what it does, in a line."""

    name: str
    threshold: float | None
    warnings: tuple[str, ...]
    explanation: str


def fit_all(val_scores, val_is_anomaly, names: tuple[str, ...] | None = None) -> dict[str, FittedThreshold]:
    """Every automatic threshold fitted on the validation scores, by name. A strategy that cannot
    fit (NaN scores, no anomalies to tune on, a failed fit) gives threshold None and says why."""
    val_scores = np.asarray(val_scores, dtype=float)
    names = offered_strategies() if names is None else names
    bad = int((~np.isfinite(val_scores)).sum())
    out = {}
    for name in names:
        strategy = make_strategy(name)
        if bad:  # scikit-learn's mixture would raise a ValueError on them
            out[name] = FittedThreshold(name, None, (
                f"{bad} validation score(s) are NaN or infinite; nothing can be tuned on them.",),
                strategy.explanation)
            continue
        try:
            strategy.fit(val_scores, val_is_anomaly)
            threshold, warnings = strategy.threshold_, list(strategy.warnings_)
        except UserError as exc:
            threshold, warnings = None, [str(exc)]
        if threshold is not None and not np.isfinite(threshold):
            threshold, warnings = None, warnings + ["The validation scores are not finite."]
        out[name] = FittedThreshold(name, threshold, tuple(warnings), strategy.explanation)
    return out


def _rates(sweep: ThresholdSweep | None, threshold: float | None) -> list:
    """F1, TPR and TNR at the threshold; None where undefined (no sweep, no threshold, NaN)."""
    if sweep is None or threshold is None:
        return [None] * 3
    m = sweep.metrics(threshold)
    return [None if v != v else v for v in (m["f1"], m["tpr"], m["tnr"])]


COMPARISON_COLUMNS = ["strategy", "threshold", "val F1", "val TPR", "val TNR", "test F1",
                      "test TPR", "test TNR", "note"]


def compare_strategies(fitted: dict[str, FittedThreshold], val_scores, val_is_anomaly,
                       test_sweep: ThresholdSweep | None) -> pd.DataFrame:
    """One row per fitted strategy: its threshold, F1/TPR/TNR on validation (where it was tuned)
    and on the test sweep (where it is reported), and its warnings as a note. Rates that are
    undefined (no anomalies, a strategy that could not fit) are None."""
    try:
        val_sweep = ThresholdSweep(val_scores, val_is_anomaly)
    except UserError:
        val_sweep = None
    rows = [[name, f.threshold, *_rates(val_sweep, f.threshold), *_rates(test_sweep, f.threshold),
             " ".join(f.warnings)] for name, f in fitted.items()]
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
