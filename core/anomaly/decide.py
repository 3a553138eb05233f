"""A threshold decided on a run's scores: the strategy fitted on validation, the record that
saves it (with the counts behind it), and its rates with 95% intervals on val and test. What
`python -m core threshold`, `ship` and the decision report share."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.anomaly.decisions import saved_threshold_path
from core.anomaly.record import Author, ThresholdRecord, save_record
from core.anomaly.scores import AnomalyScores, compute_scores
from core.anomaly.strategies import MinCost, make_strategy
from core.errors import UserError
from core.evaluation.intervals import rate_intervals, too_few
from core.evaluation.sweep import ThresholdSweep
from core.runs.store import Run
from core.settings import Settings


@dataclass
class Decision:
    run: Run
    a: AnomalyScores
    record: ThresholdRecord
    warnings: list[str]

    def report(self, split: str) -> dict:
        """Counts, rates and their 95% intervals on a split at the record's threshold."""
        rows = self.a.part(split)
        values, flags = self.a.scores[self.record.score][rows], self.a.is_anomaly[rows]
        m = ThresholdSweep(values, flags).metrics(self.record.value)
        m["intervals"] = rate_intervals(m["tp"], m["fp"], m["tn"], m["fn"])
        if self.record.costs:
            m["cost"] = self.record.costs["false_alarm"] * m["fp"] + self.record.costs["miss"] * m["fn"]
        return m


def decide(run: Run, settings: Settings, score: str, strategy_text: str,
           normal: tuple[str, ...] | None = None, by: Author = Author.CLI,
           a: AnomalyScores | None = None) -> Decision:
    """Fit the strategy on the run's validation scores; the record says what, where and why."""
    a = a or compute_scores(run, settings, normal)
    if score not in a.scores:
        raise UserError(f"unknown score {score!r}; this run has: {', '.join(a.scores)}")
    val = a.part("val")
    values, flags = a.scores[score][val], a.is_anomaly[val]
    strategy = make_strategy(strategy_text).fit(values, flags)
    warnings = list(strategy.warnings_)
    if strategy.threshold_ is None:
        raise UserError(f"strategy {strategy_text} could not be fitted on the validation split: "
                        + " ".join(warnings))
    few = too_few(int(flags.sum()), int((~flags).sum()))
    if few:
        warnings.append(few)
    params = strategy.params()
    costs = ({"false_alarm": strategy.false_alarm, "miss": strategy.miss}
             if isinstance(strategy, MinCost) else None)
    record = ThresholdRecord.now(run.id, score, strategy.threshold_, a.view.normal_classes,
                                 strategy_text, strategy.threshold_, params=params, costs=costs,
                                 budget=params.get("per_thousand"), by=by)
    return Decision(run, a, record.with_counts(values, flags), warnings)


def save_decision(decision: Decision, settings: Settings, path=None) -> ThresholdRecord:
    """Save the record where the pages and predict look for it (or at path)."""
    target = path or saved_threshold_path(decision.run, settings, decision.record.score)
    save_record(decision.record, target)
    return decision.record


def finite_summary(m: dict) -> dict:
    """A report for JSON: NaN as None, intervals as lists."""
    def clean(v):
        if isinstance(v, float) and not np.isfinite(v):
            return None
        if isinstance(v, tuple):
            return [clean(x) for x in v]
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        return v
    return clean(m)
