"""Journey 4: a threshold tuned by hand on Anomaly survives a visit to Runs (same threshold, score
and normal classes), and a switch to another run and back."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e import journey as j
from tests.e2e import server as srv

pytestmark = pytest.mark.browser
PANEL = ".tp"  # the threshold panel (a v2 component; Playwright's CSS reaches into it)


def _panel(page) -> dict:
    """The panel's committed threshold, its four cells and its TPR, as the page shows them."""
    return page.locator(PANEL).evaluate("""(root) => ({threshold: root.dataset.threshold,
        tpr: root.querySelector('[data-rate=tpr]').textContent,
        ...Object.fromEntries(['tn', 'fp', 'fn', 'tp'].map(
            (c) => [c, root.querySelector(`[data-cell=${c}] b`).textContent]))})""")


def _view(page) -> dict:
    """What must survive: the threshold, the score, the normal classes and the rates it gives."""
    j.settle(page)
    return {**_panel(page), "score": page.get_by_role("combobox", name="Score").input_value(),
            "normal": sorted(j.multiselect_values(page, "anomaly_normal"))}


def _wait_anomaly(page) -> None:
    expect(page.locator("[data-cell=tp] b")).to_have_text(re.compile(r"\d"), timeout=180_000)
    page.wait_for_selector(f"{j.MAIN} {srv.IMAGES}", state="visible", timeout=120_000)
    j.settle(page)


def _wait_url_follows_panel(page, before: str, timeout_s: float = 60) -> None:
    """The burst of keys is committed once: the URL's threshold becomes the panel's."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = re.search(r"[?&]threshold=([^&]+)", page.url)
        shown = _panel(page)["threshold"]
        if found and shown != before and float(found.group(1)) == float(shown):
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the URL {page.url} never took the panel's threshold {shown}")


def test_a_tuned_threshold_survives_pages_and_run_switches(page, journey_app):
    page.goto(journey_app.url + "/anomaly?run=digits-anomaly-ae")
    _wait_anomaly(page)
    srv.choose(page, "Score", "l1")
    _wait_anomaly(page)
    default = _view(page)
    track = page.locator(".tp-track")
    track.focus()
    for _ in range(15):  # lower: more false alarms, so the clicked cell below has images
        track.press("ArrowLeft")
    _wait_url_follows_panel(page, default["threshold"])
    expect(page).to_have_url(re.compile(r"score=l1"))
    tuned = _view(page)
    assert tuned["threshold"] != default["threshold"] and tuned["score"] == "l1"
    assert tuned["normal"] == [str(d) for d in range(9)]  # the run's own: 9 is the anomaly
    assert float(re.search(r"threshold=([^&]+)", page.url).group(1)) == pytest.approx(
        float(tuned["threshold"]), rel=1e-6)
    # A click on the false-alarm cell shows those images, as many as the cell counts.
    page.locator("[data-cell=fp]").click()
    title = page.get_by_text(re.compile(r"^Selected cell: false alarms \(FP\), [\d,]+ images"))
    expect(title).to_be_visible(timeout=60_000)
    fp = int(tuned["fp"].replace(",", ""))
    assert fp > 0
    assert int(re.search(r"\(FP\), ([\d,]+) images", title.inner_text()).group(1)) == fp
    j.no_exception(page)

    j.go(page, "Runs")
    j.no_exception(page)
    j.go(page, "Anomaly")
    _wait_anomaly(page)
    assert _view(page) == tuned
    expect(title).to_be_visible()  # the clicked cell is the run's too

    srv.choose(page, "Autoencoder run", "Digits VAE (digits-vae) · digits · vae · shipped")
    j.settle(page)
    expect(page.get_by_text("choose which classes are normal")).to_be_visible(timeout=120_000)
    j.no_exception(page)
    srv.choose(page, "Autoencoder run",
               "Digits anomaly AE (9 is the anomaly) (digits-anomaly-ae) · digits · conv_ae · shipped")
    _wait_anomaly(page)
    assert _view(page) == tuned
    j.no_exception(page)
    j.shot(page, "journey_anomaly_threshold.png")

