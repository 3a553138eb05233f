"""Issue 22, what the page says: Evaluate's matrix picks several cells the way its caption says
(a toggle, not a shift-click plotly forgets on redraw); counts agree in number ("1 image");
thresholds read as numbers, not float noise."""
from __future__ import annotations

import numpy as np

from core.evaluation.classification import confusion, predict
from core.runs.store import open_store
from dashboard.sections.evaluate_confusion import merged_cells
from dashboard.text import count, number
from tests.apptest_helpers import open_page


def test_a_click_replaces_and_with_several_cells_on_adds_or_drops() -> None:
    assert merged_cells([(3, 5)], [(1, 1)], several=False) == [(1, 1)]
    assert merged_cells([(3, 5)], [(1, 1)], several=True) == [(3, 5), (1, 1)]
    assert merged_cells([(3, 5), (1, 1)], [(3, 5)], several=True) == [(1, 1)]  # dropped
    assert merged_cells([(3, 5)], [(3, 5)], several=True) == [(3, 5)]  # never none
    assert merged_cells([(3, 5)], [], several=True) == [(3, 5)]  # a click beside the cells
    assert merged_cells([(3, 5)], [(3, 5), (2, 2), (2, 2)], several=True) == [(3, 5), (2, 2)]


def test_the_matrix_says_what_a_click_does_and_counts_agree(settings) -> None:
    at = open_page("evaluate", run="digits-classifier")
    captions = " ".join(c.value for c in at.caption)
    assert "shift-click" not in captions and "Several cells" in captions
    assert at.toggle(key="cm_several").value is False
    p = predict(open_store(settings).get("digits-classifier"), "test", settings)
    matrix = confusion(p)
    t, q = (int(v) for v in np.argwhere(matrix == 1)[0])  # a cell holding one image
    at.selectbox(key="cell_true").set_value(p.classes[t])
    at.selectbox(key="cell_pred").set_value(p.classes[q]).run()
    assert any(m.value.startswith(f"**1** image of **{p.classes[t]}** predicted as")
               for m in at.markdown)
    at.toggle(key="cm_several").set_value(True).run()
    assert at.toggle(key="cm_several").value is True and not at.exception


def test_counts_and_thresholds_read_as_people_write_them() -> None:
    assert (count(1, "image"), count(5, "image"), count(0, "file"), count(1234, "image")) == (
        "1 image", "5 images", "0 files", "1,234 images")
    assert number(5.551115123125783e-17, scale=0.08) == "just above 0"  # TNR 95% on near-zero MSE
    assert number(-3e-19, scale=1.0) == "just below 0"
    assert number(0.0) == "0"
    assert number(0.012345678, scale=0.08) == "0.01235"
    assert number(1e-12, scale=1e-11) == "1e-12"  # small but not noise on scores this small
    assert (number(float("nan")), number(None), number(float("inf"))) == ("n/a", "n/a", "inf")
