"""Journey 3: a zip uploaded on Data trains on Train, while DASH_DATA_ROOTS lists only a folder
outside the workspace: the app's own upload folder is always allowed (it was refused on Train)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import data_writers as dw
from tests.e2e import journey as j
from tests.e2e import server as srv

pytestmark = pytest.mark.browser


def test_an_uploaded_zip_trains_on_the_train_page(page, journey_app, tmp_path):
    assert journey_app.workspace not in journey_app.data_root.parents  # roots exclude it
    page.goto(journey_app.url + "/data")
    j.settle(page)
    srv.choose(page, "Source", "Image folder")
    j.settle(page)
    page.locator(j.SIDEBAR).get_by_text("an uploaded .zip").click()
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.set_input_files(str(dw.write_good_zip(tmp_path / "pets.zip", n_per_class=10)))
    expect(j.metric(page, "classes")).to_have_text("2", timeout=120_000)
    j.no_exception(page)

    j.go(page, "Train")
    caption = page.locator(j.MAIN).get_by_text(re.compile(r"^Dataset "))
    expect(caption).to_contain_text("folder?root=", timeout=120_000)
    expect(caption).to_contain_text(str(journey_app.workspace / "data" / "uploads"))
    expect(page.get_by_text("outside the allowed data folders")).to_have_count(0)
    expect(page.locator(j.SIDEBAR).get_by_text("pets.zip")).to_be_visible()  # what it uses
    srv.choose(page, "Model", "Classifier · MLP (custom)")
    j.settle(page)
    epochs = page.locator(j.MAIN).get_by_role("spinbutton", name="Epochs")
    epochs.fill("2")
    epochs.press("Enter")
    j.settle(page)
    page.locator(j.MAIN).get_by_role("button", name="Train", exact=True).click()
    # The run's own process loads the upload too (it checks the path against the same roots).
    expect(page.get_by_text(re.compile(r"^Finished\."))).to_be_visible(timeout=180_000)
    expect(page.get_by_text("Failed:")).to_have_count(0)
    j.no_exception(page)
    j.shot(page, "journey_zip_train.png")
