"""Journey 5: a click on a confusion-matrix cell shows that cell's images; switching to another
run makes the curves and the comparison follow it."""
from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from core.data.dataset import load_dataset
from core.evaluation.classification import cell_members, confusion, predict
from core.runs.store import open_store
from core.settings import Settings
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from dashboard.images import gallery_png, to_display
from dashboard.sections.evaluate_gallery import GALLERY
from tests.e2e import journey as j
from tests.e2e import server as srv
from tests.polling import wait_for

pytestmark = pytest.mark.browser
NAME = "Threes and eights"


def _second_run(journey_app) -> str:
    """A real two-class run in the journey app's workspace (a few epochs of a small MLP)."""
    store = open_store(Settings(journey_app.workspace.resolve(), (journey_app.data_root,)))
    config = TrainConfig(dataset="digits?classes=3,8", model="mlp", model_params={"hidden": [16]},
                         epochs=2, schedule="none", lr=1e-2, name=NAME)
    run = store.create(config)
    assert train_run(run, config)[0] == "done"
    return run.id


def _expected_gallery(ds, p, rows: np.ndarray) -> np.ndarray:
    labels = [f"#{p.index[r]} · {p.confidence[r]:.2f}" for r in rows]
    return np.asarray(Image.open(io.BytesIO(gallery_png(to_display(ds.images[p.index[rows]]), labels))))


def test_a_clicked_cell_shows_its_images_and_a_run_switch_is_followed(page, journey_app):
    run_id = _second_run(journey_app)
    shipped = Settings(journey_app.workspace, (journey_app.data_root,))
    p = predict(open_store(shipped).get("digits-classifier"), "test", shipped)
    matrix = confusion(p)
    ds = load_dataset(run_config(open_store(shipped).get("digits-classifier")).dataset, shipped)
    page.goto(journey_app.url + "/evaluate?run=digits-classifier")
    expect(j.metric(page, "accuracy")).to_be_visible(timeout=180_000)
    page.wait_for_selector(".st-key-confusion_chart .nsewdrag", timeout=60_000)
    j.settle(page)

    for t, q in ((3, 3), (8, 8)):
        j.click_cell(page, "confusion_chart", t, q, len(p.classes))
        line = page.locator(j.MAIN).get_by_text(
            re.compile(rf"^[\d,]+ images of {t} predicted as {q}$"))
        expect(line).to_be_visible(timeout=60_000)
        assert int(line.inner_text().split()[0].replace(",", "")) == matrix[t, q]
        j.settle(page)
        # the gallery is one picture: the one the cell's most confident images make
        assert np.array_equal(srv.served_picture(page, journey_app.url, ".st-key-cell_gallery img"),
                              _expected_gallery(ds, p, cell_members(p, t, q)[:GALLERY]))
        expect(page.get_by_role("combobox", name="True class")).to_have_value(str(t))
        expect(page).to_have_url(re.compile(rf"cell={t}-{q}"))
    j.no_exception(page)

    # "Several cells" on: a click adds a cell, a click on a selected one drops it (the caption
    # once promised shift-click, which plotly forgets when the figure is redrawn)
    page.locator(".st-key-cm_several").get_by_text("Several cells").click()
    j.settle(page)
    j.click_cell(page, "confusion_chart", 3, 3, len(p.classes))
    both = int(matrix[8, 8] + matrix[3, 3])
    expect(page.locator(j.MAIN).get_by_text(re.compile(rf"^{both:,} images in 2 selected cells")))\
        .to_be_visible(timeout=60_000)
    expect(page).to_have_url(re.compile(r"cell=8-8%2C3-3|cell=8-8,3-3"))
    j.settle(page)
    j.click_cell(page, "confusion_chart", 8, 8, len(p.classes))
    expect(page.locator(j.MAIN).get_by_text(re.compile(r"^[\d,]+ images of 3 predicted as 3$")))\
        .to_be_visible(timeout=60_000)
    j.settle(page)
    j.no_exception(page)

    srv.choose(page, "Classifier run", f"{NAME} ({run_id}) · digits?classes=3,8 · mlp · done")
    expect(j.metric(page, "accuracy")).to_be_visible(timeout=180_000)
    j.settle(page)
    expect(page).to_have_url(re.compile(rf"run={run_id}"))
    # the URL follows at the start of the rerun; the class choice is redrawn later in it
    wait_for(lambda: j.multiselect_values(page, "roc_classes") == ["3", "8"], timeout=60)
    page.wait_for_function(f"() => ({j.PLOT_JS})('.st-key-pr_chart')?.length === 2")
    assert [n.split(" (")[0] for n in j.trace_names(page, "pr_chart")] == ["3", "8"]
    # the grid redraws its rows a moment after the data arrives: wait for the new first row
    deadline, rows = time.monotonic() + 60, []
    while time.monotonic() < deadline:
        rows = j.table_rows(page, "comparison_table")
        if rows and rows[0][0] == NAME:
            break
        page.wait_for_timeout(250)
    assert rows[0][0] == NAME and len(rows) == 1, rows
    j.no_exception(page)
    j.shot(page, "journey_evaluate_cells.png")

