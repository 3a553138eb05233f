"""Sections of the Evaluate page; each takes cached predictions and draws one thing."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from core.anomaly.decisions import lookup_threshold, saved_threshold_path
from core.anomaly.record import PROBABILITY
from core.data.dataset import ImageDataset
from core.data.sampling import stratified
from core.evaluation.classification import (
    COMPARED,
    Predictions,
    comparison_row,
    confident_mistakes,
    metrics_csv,
    per_class_frame,
    predictions_frame,
    roc_pr_curves,
)
from core.evaluation.sweep import ThresholdSweep
from core.models import Kind
from core.runs.store import Run
from dashboard import state, url
from dashboard.figures import curves_figure
from dashboard.presentation import chart
from dashboard.sections.evaluate_gallery import GALLERY, show_images
from dashboard.text import noun, plain
from dashboard.widgets.run_picker import run_label, runs_of_kind
from dashboard.widgets.threshold_binding import binary_binding
from dashboard.widgets.threshold_panel import threshold_panel_ui


def render_headline(metrics: dict) -> None:
    """Four headline numbers; balanced accuracy and macro F1 first when the classes are skewed."""
    imbalanced = metrics["imbalance_ratio"] > 1.5
    order = (["balanced_accuracy", "macro_f1", "accuracy", "weighted_f1"] if imbalanced
             else ["accuracy", "balanced_accuracy", "macro_f1", "weighted_f1"])
    labels = {"balanced_accuracy": "balanced accuracy", "macro_f1": "macro F1",
              "accuracy": "accuracy", "weighted_f1": "weighted F1"}
    for col, key in zip(st.columns(4), order):
        col.metric(labels[key], f"{metrics[key]:.4f}")
    if imbalanced:
        st.caption(f"The classes are imbalanced (largest/smallest {metrics['imbalance_ratio']:.1f}x), "
                   f"so balanced accuracy and macro F1 come first: always answering the biggest "
                   f"class would already score accuracy {metrics['majority_baseline']:.3f}.")
    else:
        st.caption(f"Always answering the biggest class would score accuracy "
                   f"{metrics['majority_baseline']:.3f}.")


def render_per_class(metrics: dict) -> None:
    st.dataframe(per_class_frame(metrics), column_config={
        k: st.column_config.NumberColumn(format="%.4f") for k in ("precision", "recall", "f1",
                                                                  "roc_auc")})


def _linked_classes(text: str | None, names: list[str]) -> list[str] | None:
    """`roc=1,7` (class numbers, so any class name fits in a link) as class names; None if unusable."""
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",")[:len(names)]]
    picked = [int(part) for part in parts if part.isascii() and part.isdigit() and len(part) < 7]
    return [names[i] for i in dict.fromkeys(picked) if i < len(names)]


def render_roc(p: Predictions, run: Run) -> None:
    """One-vs-rest ROC (with micro and macro averages) and PR curves of the chosen classes; the
    choice belongs to the run."""
    names = list(p.classes)
    name = state.keyed("evaluate.curve_classes", run.id)
    if not state.has(name) and url.linked("run") in (None, run.id):
        linked = _linked_classes(url.take("roc"), names)
        if linked is not None:
            state.put(name, linked)
    chosen = state.bound(st.multiselect, "roc_classes", name,
                         "Classes on the curves", names, default=names[:10],
                         valid=lambda v: isinstance(v, list) and all(c in names for c in v))
    url.show(roc=None if chosen == names[:10] else ",".join(str(names.index(c)) for c in chosen))
    curves = roc_pr_curves(p, [names.index(c) for c in chosen])
    averages = {k: curves[k] for k in ("micro", "macro") if k in curves}
    cols = st.columns(2)
    cols[0].markdown("**ROC, one class vs the rest**")
    chart(curves_figure(curves["roc"], "false positive rate", "true positive rate", diagonal=True,
                        extra={f"{k}-average": v for k, v in averages.items()},
                        area_title="ROC AUC"), cols[0], key="roc_chart")
    cols[1].markdown("**Precision-recall**")
    chart(curves_figure(curves["pr"], "recall", "precision", diagonal=False,
                        area_title="average precision"), cols[1], key="pr_chart")
    if not chosen:
        st.caption("Choose classes above to draw their curves.")


def positive_class_ui(p: Predictions, run: Run) -> int:
    """Two classes: which one the threshold calls (the run's own choice; the second by default)."""
    names = list(p.classes)
    positive = state.bound(st.selectbox, "binary_positive", state.keyed("evaluate.positive", run.id),
                           "Positive class (called at or above the threshold)", names,
                           default=names[1], valid=lambda v: v in names)
    url.show(positive=positive)
    return names.index(positive)


@st.fragment
def render_binary_threshold(p: Predictions, run: Run, positive: int) -> None:
    """Two classes: a probability threshold on the positive class in the shared threshold panel
    (a fragment: a commit reruns only the panel); the value belongs to the run and positive class
    and is saved with the run as the same threshold record the Anomaly page saves (what predict
    applies to new images)."""
    negative = 1 - positive
    binding = binary_binding("binary_threshold", run.id, positive)
    same_view = url.linked("run") == run.id and url.linked("positive") in (None, p.classes[positive])
    lookup = lookup_threshold(run, state.settings(), PROBABILITY, ())
    saved = lookup.record
    if saved is not None and saved.params.get("positive") != str(p.classes[positive]):
        saved = None  # saved for the other class
    binding.seed((0.0, 1.0), lambda v: same_view and 0.0 <= v <= 1.0,
                 lambda: (saved.value, saved.strategy) if saved else (0.5, "default"))
    value = float(st.session_state["binary_threshold"])
    sweep = ThresholdSweep(p.proba[:, positive], p.y_true == positive)
    threshold = threshold_panel_ui(sweep, "binary_threshold", default=value,
                                   score_label=f"P({p.classes[positive]})",
                                   positive=str(p.classes[positive]),
                                   negative=str(p.classes[negative]), bounds=(0.0, 1.0))
    binding.commit(float(threshold))
    if lookup.why_not:
        st.info(plain(f"Saved threshold not used: {lookup.why_not}"))
    if st.button("Save threshold with the run", key="binary_save",
                 help="Predict applies it to new images of this run (and an exported bundle "
                      "carries it)."):
        flags = p.y_true == positive
        record = binding.record(run.id, PROBABILITY, float(threshold), (str(p.classes[negative]),),
                                (p.proba[:, positive], flags), (p.proba[:, positive], flags))
        record = replace(record, params={**record.params, "positive": str(p.classes[positive])})
        path = saved_threshold_path(run, state.settings(), PROBABILITY)
        record.save(path)
        st.success(plain(f"Saved P({p.classes[positive]}) >= {record.value:.6g} to {path}"))


def render_mistakes(ds: ImageDataset, p: Predictions) -> None:
    """The misclassified images, an equal share per true class, the most confident first."""
    rows = confident_mistakes(p)
    picked = stratified(rows, p.y_true[rows], GALLERY)
    st.markdown(f"**{len(rows):,}** misclassified {noun(len(rows), 'image')}.")
    if len(rows) > len(picked):
        st.caption(f"Showing {len(picked)} of them: an equal share of each true class, the most "
                   "confident mistakes first.")
    show_images(ds, p, picked, lambda r: f"{p.classes[p.y_true[r]]}→"
                                       f"{p.classes[p.y_pred[r]]} {p.confidence[r]:.2f}")


def _comparison_row(other: Run, run: Run, split: str, metrics: dict) -> dict:
    try:
        return comparison_row(other, split, state.settings(), metrics if other.id == run.id
                              else None)
    except Exception as exc:  # a broken or mismatched run gets a row saying so
        return {"run": other.name(), "model": "?", "note": f"could not be evaluated: {exc}"}


def render_comparison(run: Run, split: str, metrics: dict) -> None:
    """The current run (always first) beside the runs chosen to compare with it; best value per
    column highlighted. The choice outlives run switches and pages."""
    others = {r.id: r for r in runs_of_kind(Kind.classifiers()) if r.id != run.id}
    chosen = state.bound(st.multiselect, "compare_runs", "evaluate.compared", "Compare with",
                         list(others), default=[],
                         valid=lambda v: isinstance(v, list) and all(i in others for i in v),
                         format_func=lambda i: run_label(others[i]), placeholder="other runs")
    with st.spinner("Evaluating the chosen runs…"):
        table = pd.DataFrame([_comparison_row(r, run, split, metrics)
                              for r in [run, *(others[i] for i in chosen)]])
    shown = [k for k in COMPARED if k in table]
    with st.container(key="comparison_table"):
        st.dataframe(table.style.highlight_max(subset=shown, color="#cde8c5")
                     .format({k: "{:.4f}" for k in shown}), hide_index=True)
    st.caption("The first row is the run above. Best value per column highlighted. Runs on other "
               "datasets are measured on their own test split.")


def render_downloads(run: Run, split: str, p: Predictions, metrics: dict) -> None:
    cols = st.columns(2)
    # A callable: the 10k-row CSV is built when clicked, not on every rerun.
    cols[0].download_button("Predictions (CSV)", lambda: predictions_frame(p).to_csv(index=False),
                            f"{run.id}-{split}-predictions.csv", "text/csv")
    cols[1].download_button("Metrics (CSV)", metrics_csv(metrics), f"{run.id}-{split}-metrics.csv",
                            "text/csv")
