"""The Predict page in a real browser: drop a zip of new images, see the gallery (file names as
plain text), download the decisions CSV and find core's numbers in it."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import expect

from core.data.dataset import load_dataset
from core.predict.apply import predict_images
from core.predict.detector import RunDetector
from core.predict.inputs import open_input
from core.predict.result import SortOrder
from core.predict.thresholds import resolve_threshold
from core.runs.store import open_store
from core.settings import Settings
from tests.e2e import server as srv

pytestmark = pytest.mark.browser
MAIN = '[data-testid="stMain"]'
RUN = "digits-anomaly-ae"


def _zip(path, settings) -> None:
    """20 digits, one name with Markdown characters in it, and one broken file."""
    ds = load_dataset("digits", settings)
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(0, 1797, 90):
            buffer = io.BytesIO()
            Image.fromarray(ds.images[i, 0]).save(buffer, format="PNG")
            name = f"*cam*_{i}.png" if i == 0 else f"{i}.png"
            zf.writestr(f"frames/{name}", buffer.getvalue())
        zf.writestr("frames/broken.png", b"\x89PNG broken")


def _metric(page, label: str):
    return page.locator(srv.METRIC, has_text=label).locator('[data-testid="stMetricValue"]')


def test_drop_a_zip_see_the_gallery_download_the_csv(page, app_server, tmp_path):
    settings = Settings(workspace=tmp_path / "workspace", data_roots=(tmp_path,))
    archive = tmp_path / "frames.zip"
    _zip(archive, settings)
    page.goto(app_server + f"/predict?run={RUN}")
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.wait_for(state="attached", timeout=90_000)
    uploader.set_input_files(str(archive))
    expect(_metric(page, "Images scored")).to_have_text("20", timeout=90_000)
    expect(_metric(page, "Left out")).to_have_text("1")
    srv.wait_data_page(page, min_images=12)
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)

    # What core predicts for the same files, with the page's default (max F1 on validation).
    folder = tmp_path / "frames"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path)
    detector = RunDetector(open_store(settings).get(RUN), settings)
    images = open_input(str(folder), settings, tmp_path, detector.recipe)
    expected = predict_images(detector, images, resolve_threshold(detector, "mse", "f1"))
    expect(_metric(page, "Flagged as anomalies")).to_have_text(f"{expected.flagged():,}")

    captions = page.locator(f'{MAIN} [data-testid="stImageCaption"]')
    top = [expected.names[r] for r in expected.order(SortOrder.HIGHEST)[:12]]
    assert [c.split(" · ")[0] for c in captions.all_inner_texts()] == [f"frames/{n}" for n in top]
    page.locator(MAIN).get_by_text("file name", exact=True).click()  # the gallery's order
    expect(captions.first).to_contain_text("frames/*cam*_0.png · ")  # plain text, not Markdown
    srv.wait_data_page(page, min_images=12)

    with page.expect_download() as download:
        page.get_by_role("button", name="Decisions (CSV)").click()
    csv = pd.read_csv(download.value.path(), keep_default_na=False)
    assert list(csv["file"]) == [f"frames/{n}" for n in expected.names]
    scored = csv[csv["error"] == ""]
    np.testing.assert_allclose(scored["mse"].astype(float), expected.values[expected.scored],
                               atol=1e-7)
    assert list(scored["decision"]) == list(expected.decisions()[expected.scored])
    assert csv.loc[csv["file"] == "frames/broken.png", "error"].item().startswith("cannot decode")
    shot = srv.full_page_screenshot(page, srv.ARTIFACTS / "predict_page.png")
    print(f"screenshot: {shot}")
