"""Journey 2: an image folder opened in two browser sessions at once, then after a reload. The
second session finds the dataset already loaded (a cached load once drew a progress bar that
Streamlit could not replay: CacheReplayClosureError), and the reload reopens the same dataset
from the address bar."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from core.data.dataset import load_dataset
from core.data.spec import DatasetSpec
from core.settings import Settings
from tests import data_writers as dw
from tests.e2e import journey as j
from tests.e2e import server as srv

pytestmark = pytest.mark.browser


def _open_folder(page, base_url: str, folder: str) -> None:
    page.goto(base_url + "/data")
    j.settle(page)
    srv.choose(page, "Source", "Image folder")
    j.settle(page)
    j.type_into(page, "Folder", folder)
    expect(j.metric(page, "classes")).to_have_text("3", timeout=120_000)
    srv.wait_data_page(page, min_images=3 * 8)


def _expect_core_counts(page, journey_app, name: str) -> None:
    """The tab's split counts are what core computes for the dataset spec in its address bar,
    and that spec has the default splits (nothing in this journey changes them)."""
    spec = DatasetSpec.from_text(parse_qs(urlparse(page.url).query)["dataset"][0])
    assert (spec.val_fraction, spec.test_fraction, spec.seed) == (0.1, 0.2, 0), f"{name}: {spec}"
    ds = load_dataset(spec, Settings(journey_app.workspace, (journey_app.data_root,)))
    for split in ("train", "val", "test"):
        expect(j.metric(page, f"{split} images"), f"{name} tab, {spec.to_text()}").to_have_text(
            f"{len(ds.indices(split)):,}")


def test_a_folder_opens_in_two_tabs_and_after_a_reload(browser, journey_app):
    folder = journey_app.data_root / "shapes"
    # Enough files for the loader to report progress (every 200): the old cached loader drew
    # that progress, which a second session could not replay.
    dw.write_image_folder(folder, classes=("circle", "square", "triangle"), n_per_class=80,
                          corrupt=False, stray_text=False)
    first = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    second = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    try:
        _open_folder(first, journey_app.url, str(folder))
        j.no_exception(first)
        _open_folder(second, journey_app.url, str(folder) + "/")  # the same folder, typed again
        j.no_exception(second)
        _expect_core_counts(first, journey_app, "first")
        _expect_core_counts(second, journey_app, "second")

        first.reload()
        expect(first).to_have_url(re.compile(r"dataset=folder"))
        expect(j.metric(first, "classes")).to_have_text("3", timeout=120_000)
        srv.wait_data_page(first, min_images=3 * 8)
        box = first.locator(j.SIDEBAR).get_by_role("textbox", name="Folder", exact=True)
        expect(box).to_have_value(str(folder.resolve()))
        _expect_core_counts(first, journey_app, "reloaded first")
        expect(first.locator(j.SIDEBAR).get_by_role("combobox", name="Source")).to_have_value(
            "Image folder")
        j.no_exception(first)
        j.no_exception(second)
        j.shot(first, "journey_folder_after_reload.png")
    finally:
        first.context.close()
        second.context.close()
