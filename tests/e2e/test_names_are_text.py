"""User-provided names (class folders, Kuzushiji-49 class-map characters, run names) are shown as
the text they are: a name written as a Markdown image must not make the browser fetch it, and no
page asks any host but the app's own (icons and fonts are bundled)."""
from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect

from core.runs.store import open_store
from core.settings import Settings
from core.training.config import TrainConfig
from core.training.runner import train_run
from dashboard.widgets.run_picker import run_label
from tests import data_writers as dw
from tests.e2e import journey as j
from tests.e2e import server as srv

pytestmark = pytest.mark.browser
TRAP = "![x](http://127.0.0.1:9/x.png)"  # port 9 (discard): nothing listens, nothing may ask
FOLDER_CLASSES = ("**bold**", "![y](y.png)")  # a relative image would be fetched from the app
RUN_NAME = "![r](http://127.0.0.1:9/r.png) **run**"


def _k49_with_trap_names(root) -> None:
    dw.write_k49(root, n_classes=3, n_train=30, n_test=9)
    rows = [{"index": 0, "codepoint": "U+0000", "char": TRAP},
            {"index": 1, "codepoint": "U+0000", "char": "**k49**"},
            {"index": 2, "codepoint": "U+0000", "char": "$x^2$"}]
    with open(root / "k49_classmap.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["index", "codepoint", "char"])
        writer.writeheader()
        writer.writerows(rows)


def _headers(page) -> list[str]:
    return page.locator(f"{j.MAIN} [data-testid='stMarkdownContainer'] p").filter(
        has_text=re.compile(r" · [\d,]+ images$")).all_inner_texts()


def _open(page, base_url: str, source: str, folder: str, n_classes: int) -> None:
    page.goto(base_url + "/data")
    j.settle(page)
    srv.choose(page, "Source", source)
    j.settle(page)
    j.type_into(page, "Folder", folder)
    expect(j.metric(page, "classes")).to_have_text(str(n_classes), timeout=120_000)
    srv.wait_data_page(page, min_images=n_classes * 3)


def test_names_show_as_text_and_nothing_is_fetched(page, journey_app):
    requests = j.record_requests(page)
    folder = journey_app.data_root / "names"
    dw.write_image_folder(folder, classes=FOLDER_CLASSES, n_per_class=5, corrupt=False,
                          stray_text=False)
    _open(page, journey_app.url, "Image folder", str(folder), 2)
    assert [h.split(" ·")[0] for h in _headers(page)] == sorted(FOLDER_CLASSES)
    j.no_exception(page)

    k49 = journey_app.data_root / "k49-names"
    _k49_with_trap_names(k49)
    _open(page, journey_app.url, "Kuzushiji-49", str(k49), 3)
    assert [h.split(" ·")[0] for h in _headers(page)] == ["0 " + TRAP, "1 **k49**", "2 $x^2$"]
    j.no_exception(page)

    settings = Settings(journey_app.workspace.resolve(), (journey_app.data_root,))
    config = TrainConfig(dataset=f"k49?root={k49.resolve()}", model="mlp",
                         model_params={"hidden": [8]}, epochs=1, schedule="none", name=RUN_NAME)
    run = open_store(settings).create(config)
    assert train_run(run, config)[0] == "done"
    page.goto(journey_app.url + f"/runs?runs={run.id}")
    panel = page.locator('[data-testid="stExpander"]', has_text=run.id)
    expect(panel).to_contain_text(f"{RUN_NAME} ({run.id}) · done", timeout=120_000)
    j.no_exception(page)
    page.goto(journey_app.url + f"/evaluate?run={run.id}")
    expect(j.metric(page, "accuracy")).to_be_visible(timeout=180_000)
    j.settle(page)
    expect(page.get_by_role("combobox", name="Classifier run")).to_have_value(
        run_label(run))  # name (id) · dataset · model · state, as plain text
    assert j.table_rows(page, "comparison_table")[0][0] == RUN_NAME
    assert j.multiselect_values(page, "roc_classes") == ["0 " + TRAP, "1 **k49**", "2 $x^2$"]
    j.no_exception(page)

    fetched = [u for u in requests if re.search(r"/[xyr]\.png", u)]
    assert not fetched, fetched
    assert not j.external(requests), j.external(requests)
    j.shot(page, "names_are_text.png")
