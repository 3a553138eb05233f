"""Issue 22: a reload on any page keeps the dataset. Data -> choose an image folder -> Evaluate
-> reload -> the address bar still names the folder, and Data shows it again (it used to return
to digits: only the Data and Train pages wrote the dataset into the URL)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import data_writers as dw
from tests.e2e import journey as j
from tests.e2e import server as srv

pytestmark = pytest.mark.browser
FOLDER_IN_URL = re.compile(r"[?&]dataset=folder")


def test_a_reload_on_evaluate_keeps_the_chosen_dataset(page, journey_app):
    folder = journey_app.data_root / "reload-pets"
    dw.write_image_folder(folder, classes=("cat", "dog", "fox"), n_per_class=6, corrupt=False,
                          stray_text=False)
    page.goto(journey_app.url + "/data")
    j.settle(page)
    srv.choose(page, "Source", "Image folder")
    j.settle(page)
    j.type_into(page, "Folder", str(folder))
    expect(j.metric(page, "classes")).to_have_text("3", timeout=120_000)
    expect(page).to_have_url(FOLDER_IN_URL)

    j.go(page, "Evaluate")
    expect(page).to_have_url(FOLDER_IN_URL, timeout=120_000)  # Evaluate mirrors the dataset too
    j.settle(page)
    j.no_exception(page)

    page.reload()
    expect(page.locator(j.MAIN).get_by_role("heading", level=1)).to_contain_text(
        "Evaluate", timeout=120_000)
    j.settle(page)
    expect(page).to_have_url(FOLDER_IN_URL)
    j.no_exception(page)

    j.go(page, "Data")
    expect(j.metric(page, "classes")).to_have_text("3", timeout=120_000)
    expect(page.locator(j.SIDEBAR).get_by_role("combobox", name="Source")).to_have_value(
        "Image folder")
    expect(page.locator(j.SIDEBAR).get_by_role("textbox", name="Folder", exact=True)).to_have_value(
        str(folder.resolve()))
    j.no_exception(page)
