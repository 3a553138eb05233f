"""Presentation mode: the toggle in the URL, projector sizes in every figure, key views first."""
from __future__ import annotations

import numpy as np

from dashboard.figures import (
    PRESENT_FONT,
    compare_runs_figure,
    confusion_figure,
    curves_figure,
    presentable,
    smallest_font,
    training_curves_figure,
)
from tests.apptest_helpers import open_page, panel_data

RECORDS = [{"step": s, "train_loss": 1.0 / (s + 1)} for s in range(1, 30)] + [
    {"epoch": e, "step": 10 * e, "train_loss": 0.5 / e, "val_loss": 0.6 / e, "val_acc": 0.5 + e / 10,
     "train_acc": 0.5 + e / 12} for e in (1, 2, 3)]


def test_presentable_figures_have_no_text_under_18_px() -> None:
    curves = {f"class {i}": ([0, 0.5, 1], [0, 0.8, 1], 0.9) for i in range(10)}
    figures = [training_curves_figure(RECORDS), confusion_figure(np.eye(10) * 5, list("abcdefghij"), False),
               curves_figure(curves, "fpr", "tpr", diagonal=True, area_title="ROC AUC"),
               compare_runs_figure({"a": RECORDS, "b": RECORDS}, "val_loss")]
    assert smallest_font(figures[0]) < PRESENT_FONT  # as drawn outside presentation mode
    for fig in figures:
        height = fig.layout.height
        fig = presentable(fig)
        assert smallest_font(fig) >= PRESENT_FONT
        assert fig.layout.height >= height
    roc = figures[2]
    assert roc.layout.legend.orientation == "h"  # under the plot: it no longer takes its width
    assert roc.layout.height > 420  # and the plot keeps its height above it


def test_toggle_in_url_and_anomaly_key_view_first(settings) -> None:
    at = open_page("anomaly", run="digits-anomaly-ae", present="1")
    assert at.toggle(key="present_toggle").value is True
    assert list(at.query_params["present"]) in (["1"], list("1"))
    assert panel_data(at, "anomaly_threshold")["present"] is True
    # The panel comes before the strategy buttons: they sit below it.
    assert at.subheader[0].value == "Reconstructions", [s.value for s in at.subheader]
    assert "Automatic thresholds" in [s.value for s in at.subheader]
    at.toggle(key="present_toggle").set_value(False).run()
    assert "present" not in at.query_params
    assert at.subheader[0].value == "Automatic thresholds"
    assert panel_data(at, "anomaly_threshold")["present"] is False


def test_evaluate_shows_the_matrix_first(settings) -> None:
    at = open_page("evaluate", run="digits-classifier", present="1")
    assert not at.exception
    headings = [s.value for s in at.subheader]
    assert "Confusion matrix" not in headings and headings[0] == "Per class", headings
    chart = at.get("plotly_chart")[0]
    assert '"displayModeBar": false' in chart.proto.config or '"displayModeBar":false' in chart.proto.config
