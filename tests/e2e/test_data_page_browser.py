"""The Data page in a real browser: it renders, a class subset filters it, Home links to it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import server as srv

pytestmark = pytest.mark.browser
CLASS_HEADER = re.compile(r"^\S+ · [\d,]+ images$")  # "**3** · 183 images" as rendered text


def _open_data(page, base_url: str) -> None:
    page.goto(base_url + "/data")
    srv.wait_data_page(page)


def _metric(page, label: str):
    return page.locator(srv.METRIC, has_text=label).locator('[data-testid="stMetricValue"]')


def _class_headers(page):
    return page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"] p').filter(
        has_text=CLASS_HEADER)


def test_data_page_renders(page, app_server):
    _open_data(page, app_server)
    expect(_metric(page, "train images")).to_be_visible()
    expect(_metric(page, "classes")).to_have_text("10")
    expect(_class_headers(page)).to_have_count(10)
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    shot = srv.full_page_screenshot(page, srv.ARTIFACTS / "data_page.png")
    print(f"screenshot: {shot}")


def test_class_subset_filters_samples(page, app_server):
    _open_data(page, app_server)
    box = page.locator('[data-testid="stSidebar"]').get_by_role("textbox", name="Class subset")
    box.fill("3,5")
    box.press("Enter")
    expect(_metric(page, "classes")).to_have_text("2")
    headers = _class_headers(page)
    expect(headers).to_have_count(2)
    assert [t.split(" ·")[0] for t in headers.all_inner_texts()] == ["3", "5"]
    srv.wait_data_page(page)
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)


def test_home_links_to_data(page, app_server):
    page.goto(app_server + "/")
    link = page.locator('[data-testid="stMain"]').get_by_role("link", name="Data")
    link.click()
    expect(page).to_have_url(re.compile(r"/data/?(\?dataset=digits)?$"))  # the URL shows the dataset
    srv.wait_data_page(page)


def test_uploaded_zip_is_unpacked_and_shown(page, app_server, tmp_path):
    from tests import data_writers as dw

    _open_data(page, app_server)
    srv.choose(page, "Source", "Image folder")
    page.get_by_text("an uploaded .zip").click()
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.set_input_files(str(dw.write_zip_slip(tmp_path / "slip.zip")))
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("points outside the archive")).to_be_visible()
    uploader.set_input_files(str(dw.write_good_zip(tmp_path / "pets.zip", n_per_class=5)))
    expect(_metric(page, "classes")).to_have_text("2")
    expect(_class_headers(page)).to_have_count(2)
    assert [t.split(" ·")[0] for t in _class_headers(page).all_inner_texts()] == ["cats", "dogs"]
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)


WATCH_SLIDER_JS = """(thumb) => {  // the range input's value, at every frame it changes
    window.__shown = [thumb.value];
    const look = () => {
        const el = thumb.isConnected ? thumb : document.querySelector(
            '[data-testid="stSidebar"] [role="slider"]');
        if (el && el.value !== window.__shown.at(-1)) window.__shown.push(el.value);
        requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
}"""


def test_quick_slider_steps_never_snap_back(page, app_server):
    """Arrow steps faster than the reruns they start: the slider only ever moves the way the
    user moves it (a rerun still in flight must not push its older value back into it)."""
    _open_data(page, app_server)
    page.locator('[data-testid="stSidebar"]').get_by_text("Splits").click()
    slider = page.locator('[data-testid="stSidebar"]').get_by_role("slider",
                                                                   name="Validation fraction")
    assert float(slider.input_value()) == pytest.approx(0.1)
    slider.evaluate(WATCH_SLIDER_JS)
    for _ in range(8):  # 0.1 -> 0.5 in steps of 0.05
        slider.press("ArrowRight")
    srv.wait_data_page(page)
    expect(page).to_have_url(re.compile(r"val_fraction%3D0\.5"), timeout=60_000)
    srv.wait_data_page(page)
    shown = [float(v) for v in page.evaluate("window.__shown")]
    assert shown[-1] == pytest.approx(0.5)
    assert shown == sorted(shown), f"the slider moved back: {shown}"
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
