"""Sections of the Evaluate page; each takes cached predictions and draws one thing."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.data.dataset import ImageDataset
from core.evaluation.classification import (Predictions, cell_members, confident_mistakes,
                             confusion, per_class_frame, roc_pr_curves)
from core.evaluation.sweep import ThresholdSweep
from dashboard.figures import confusion_figure, curves_figure
from dashboard.images import display_width, to_display
from dashboard.widgets.threshold_panel import render_threshold_panel

GALLERY = 40  # images per gallery; the caption says when there are more


def headline_ui(metrics: dict) -> None:
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


def per_class_ui(metrics: dict) -> None:
    st.dataframe(per_class_frame(metrics), column_config={
        k: st.column_config.NumberColumn(format="%.4f") for k in ("precision", "recall", "f1",
                                                                  "roc_auc")})


def show_images(ds: ImageDataset, p: Predictions, rows: np.ndarray, caption) -> None:
    if len(rows) == 0:
        st.caption("No images here.")
        return
    if len(rows) > GALLERY:
        st.caption(f"Showing the {GALLERY} most confident of {len(rows):,} images.")
    rows = rows[:GALLERY]
    _, h, w = ds.shape
    st.image(to_display(ds.images[p.index[rows]]), caption=[caption(r) for r in rows],
             width=display_width(h, w))


def confusion_ui(ds: ImageDataset, p: Predictions) -> None:
    """Matrix plus a cell picker; the picker's fragment reruns alone when a cell is chosen."""

    @st.fragment
    def panel() -> None:
        names = list(p.classes)
        matrix = confusion(p)
        if "cell_true" not in st.session_state:  # start on the biggest confusion
            off = matrix - np.diag(np.diag(matrix))
            t, q = np.unravel_index(off.argmax(), off.shape) if off.any() else (0, 0)
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


def roc_ui(p: Predictions) -> None:
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


def binary_ui(p: Predictions) -> None:
    """Two classes: a probability threshold on class 1, with the shared threshold panel."""
    positive, negative = p.classes[1], p.classes[0]
    sweep = ThresholdSweep(p.proba[:, 1], p.y_true == 1)
    render_threshold_panel(sweep, "binary_threshold", default=0.5,
                       score_label=f"P({positive})", positive=positive, negative=negative,
                       bounds=(0.0, 1.0))


def mistakes_ui(ds: ImageDataset, p: Predictions) -> None:
    rows = confident_mistakes(p)
    st.markdown(f"**{len(rows):,}** misclassified images, most confident mistakes first.")
    show_images(ds, p, rows, lambda r: f"{p.classes[p.y_true[r]]}→{p.classes[p.y_pred[r]]} "
                                       f"{p.confidence[r]:.2f}")


def metrics_csv(metrics: dict) -> bytes:
    head = pd.DataFrame([{k: v for k, v in metrics.items() if k != "per_class"}])
    return (head.to_csv(index=False) + "\n" + per_class_frame(metrics).to_csv()).encode()
