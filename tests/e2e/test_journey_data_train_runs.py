"""Journey 1: MNIST from a local folder with validation fraction 0.2 on Data -> Train shows that
dataset and 0.2 -> a run started there -> Runs shows it finished without a click."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from core.data.dataset import load_dataset
from core.data.spec import DatasetSpec
from core.settings import Settings
from tests import data_writers as dw
from tests.e2e import journey as j
from tests.e2e import server as srv

pytestmark = pytest.mark.browser
EPOCHS = 60  # usually still running when Runs opens (epochs save checkpoints: >= ~0.2 s each)


def test_mnist_spec_follows_from_data_to_train_to_runs(page, journey_app):
    root = journey_app.data_root / "mnist"
    dw.write_mnist_idx(root, n_train=40, n_test=10)
    page.goto(journey_app.url + "/data")
    j.settle(page)
    srv.choose(page, "Source", "MNIST")
    j.settle(page)
    j.type_into(page, "Folder", str(root))
    expect(j.metric(page, "classes")).to_have_text("10", timeout=120_000)
    page.locator(j.SIDEBAR).get_by_text("Splits").click()
    j.step_slider(page, "Validation fraction", 0.2)
    spec = DatasetSpec(source="mnist", root=str(root.resolve()), val_fraction=0.2)
    ds = load_dataset(spec, Settings(journey_app.workspace, (journey_app.data_root,)))
    n_train, n_val = len(ds.indices("train")), len(ds.indices("val"))
    expect(j.metric(page, "val images")).to_have_text(str(n_val))
    expect(page).to_have_url(re.compile(r"dataset=mnist"))
    j.no_exception(page)

    j.go(page, "Train")
    caption = page.locator(j.MAIN).get_by_text(re.compile(r"^Dataset "))
    expect(caption).to_contain_text(spec.to_text(), timeout=120_000)
    expect(caption).to_contain_text(f"{n_train} training and {n_val} validation images")
    expect(caption).to_contain_text("validation fraction 0.2")
    page.locator(j.SIDEBAR).get_by_text("Splits").click()
    assert j.slider_value(page, "Validation fraction") == pytest.approx(0.2)
    srv.choose(page, "Model", "Classifier · MLP (custom)")
    j.settle(page)
    epochs = page.locator(j.MAIN).get_by_role("spinbutton", name="Epochs")
    epochs.fill(str(EPOCHS))
    epochs.press("Enter")
    j.settle(page)
    train = page.locator(j.MAIN).get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled()
    train.click()
    progress = page.locator('[data-testid="stProgress"]').first
    expect(progress).to_be_visible(timeout=120_000)
    run_id = re.search(r"(\d{8}-\d{6}-[0-9a-f]{6})", progress.inner_text()).group(1)
    config = (journey_app.workspace / "runs" / run_id / "config.json").read_text()
    assert f'"dataset": "{spec.to_text()}"' in config
    j.no_exception(page)

    j.go(page, "Runs")
    # The newest run is among the two compared by default; its panel title carries the state.
    # Opened while the run trains, the page redraws itself until it is done (a quiet machine
    # may finish the run before the page opens: then it shows it done at once).
    panel = page.locator('[data-testid="stExpander"]', has_text=run_id)
    expect(panel).to_contain_text(re.compile(rf"{run_id} · (queued|running|done)"), timeout=60_000)
    expect(panel).to_contain_text(f"{run_id} · done", timeout=300_000)
    status = json.loads((journey_app.workspace / "runs" / run_id / "status.json").read_text())
    assert status["progress"]["epoch"] == EPOCHS  # named by its id
    j.no_exception(page)
    j.shot(page, "journey_data_train_runs.png")
