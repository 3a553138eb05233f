"""Sections of the Evaluate page; each takes cached predictions and draws one thing."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.data.dataset import ImageDataset
from core.evaluation.classification import (
    COMPARED,
    Predictions,
    cell_members,
    comparison_row,
    confident_mistakes,
    confusion,
    largest_confusion,
    metrics_csv,
    per_class_frame,
    predictions_frame,
    roc_pr_curves,
)
from core.evaluation.sweep import ThresholdSweep
from core.models import Kind
from core.runs.store import Run
from dashboard.figures import confusion_figure, curves_figure
from dashboard.images import gallery_png, to_display
from dashboard.state import settings
from dashboard.widgets.run_picker import runs_of_kind
from dashboard.widgets.threshold_panel import threshold_panel_ui

GALLERY = 40  # images per gallery; the caption says when there are more


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


def show_images(ds: ImageDataset, p: Predictions, rows: np.ndarray, caption) -> None:
    """Up to GALLERY images of prediction rows (already ranked), labelled by caption(row), as
    one picture (one encode, one request)."""
    if len(rows) == 0:
        st.caption("No images here.")
        return
    if len(rows) > GALLERY:
        st.caption(f"Showing the {GALLERY} most confident of {len(rows):,} images.")
    rows = rows[:GALLERY]
    st.image(gallery_png(to_display(ds.images[p.index[rows]]), [caption(r) for r in rows]),
             width="content")


def render_confusion(ds: ImageDataset, p: Predictions) -> None:
    """Matrix plus a cell picker; the picker's fragment reruns alone when a cell is chosen."""

    @st.fragment
    def panel() -> None:
        names = list(p.classes)
        matrix = confusion(p)
        if "cell_true" not in st.session_state:  # start on the biggest confusion
            t, q = largest_confusion(matrix)
            st.session_state["cell_true"], st.session_state["cell_pred"] = names[t], names[q]
        cols = st.columns([1, 1, 1])
        normalized = cols[0].toggle("Normalise by row", key="cm_normalized")
        true_name = cols[1].selectbox("True class", names, key="cell_true")
        pred_name = cols[2].selectbox("Predicted as", names, key="cell_pred")
        t, q = names.index(true_name), names.index(pred_name)
        st.plotly_chart(confusion_figure(confusion(p, normalized) if normalized else matrix, names,
                                         normalized, (t, q)), key="confusion_chart")
        rows = cell_members(p, t, q)
        st.markdown(f"**{len(rows):,}** images of **{true_name}** predicted as **{pred_name}**")
        show_images(ds, p, rows, lambda r: f"#{p.index[r]} · {p.confidence[r]:.2f}")

    panel()


def render_roc(p: Predictions) -> None:
    """One-vs-rest ROC (with micro and macro averages) and PR curves of the chosen classes."""
    names = list(p.classes)
    chosen = st.multiselect("Classes on the curves", names, default=names[:10], key="roc_classes")
    curves = roc_pr_curves(p, [names.index(c) for c in chosen])
    averages = {k: curves[k] for k in ("micro", "macro") if k in curves}
    cols = st.columns(2)
    cols[0].markdown("**ROC, one class vs the rest**")
    cols[0].plotly_chart(curves_figure(curves["roc"], "false positive rate", "true positive rate",
                                       diagonal=True, extra={f"{k}-average": v for k, v in
                                                             averages.items()}), key="roc_chart")
    cols[1].markdown("**Precision-recall**")
    cols[1].plotly_chart(curves_figure(curves["pr"], "recall", "precision", diagonal=False),
                         key="pr_chart")


@st.fragment
def render_binary_threshold(p: Predictions) -> None:
    """Two classes: a threshold on the probability of the chosen positive class (the second by
    default) in the shared threshold panel; a fragment, so a commit reruns only the panel."""
    k = st.selectbox("Positive class", [1, 0], key="binary_positive",
                     format_func=lambda c: str(p.classes[c]))
    positive, negative = str(p.classes[k]), str(p.classes[1 - k])
    sweep = ThresholdSweep(p.proba[:, k], p.y_true == k)
    threshold_panel_ui(sweep, f"binary_threshold_{k}", default=0.5, score_label=f"P({positive})",
                       positive=positive, negative=negative, bounds=(0.0, 1.0))


def render_mistakes(ds: ImageDataset, p: Predictions) -> None:
    rows = confident_mistakes(p)
    st.markdown(f"**{len(rows):,}** misclassified images, most confident mistakes first.")
    show_images(ds, p, rows, lambda r: f"{p.classes[p.y_true[r]]}→{p.classes[p.y_pred[r]]} "
                                       f"{p.confidence[r]:.2f}")


def render_comparison(run: Run, split: str, metrics: dict) -> None:
    """The chosen classifier runs side by side, best value per column highlighted."""
    others = {r.id: r for r in runs_of_kind(Kind.classifiers())}
    chosen = st.multiselect("Runs", list(others), default=[run.id], key="compare_runs",
                            format_func=lambda i: others[i].name())
    if not chosen:
        return
    with st.spinner("Evaluating the chosen runs…"):
        table = pd.DataFrame([comparison_row(others[i], split, settings(),
                                             metrics if i == run.id else None) for i in chosen])
    st.dataframe(table.style.highlight_max(subset=list(COMPARED), color="#cde8c5")
                 .format({k: "{:.4f}" for k in COMPARED}), hide_index=True)
    st.caption("Best value per column highlighted. Runs on other datasets are measured on their "
               "own test split.")


def render_downloads(run: Run, split: str, p: Predictions, metrics: dict) -> None:
    cols = st.columns(2)
    # A callable: the 10k-row CSV is built when clicked, not on every rerun.
    cols[0].download_button("Predictions (CSV)", lambda: predictions_frame(p).to_csv(index=False),
                            f"{run.id}-{split}-predictions.csv", "text/csv")
    cols[1].download_button("Metrics (CSV)", metrics_csv(metrics), f"{run.id}-{split}-metrics.csv",
                            "text/csv")
