"""Journey 4: a threshold tuned by hand on Anomaly survives a visit to Runs (same threshold, score
and normal classes), and a switch to another run and back."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import journey as j
from tests.e2e import server as srv

pytestmark = pytest.mark.browser
SLIDER = "Threshold on"


def _threshold(page):
    return page.locator(j.MAIN).get_by_role("slider", name=re.compile(f"^{SLIDER}"))


def _view(page) -> dict:
    """What must survive: the threshold, the score, the normal classes and the rate it gives."""
    j.settle(page)
    normal = j.multiselect_values(page, "anomaly_normal")
    return {"threshold": _threshold(page).input_value(),
            "score": page.get_by_role("combobox", name="Score").input_value(),
            "normal": sorted(normal),
            "tpr": j.metric(page, "TPR (recall)").inner_text()}


def _matrix_text(page) -> str:
    """The threshold panel's matrix cells as the heatmap holds them ("TN<br>310", ...)."""
    return " ".join(page.evaluate(
        "() => document.querySelector('.st-key-anomaly_threshold_matrix .js-plotly-plot')"
        "._fullData[0].text.flat()"))


def _wait_anomaly(page) -> None:
    expect(j.metric(page, "TPR (recall)")).to_be_visible(timeout=180_000)
    page.wait_for_selector(f"{j.MAIN} {srv.IMAGES}", state="visible", timeout=120_000)
    j.settle(page)


def test_a_tuned_threshold_survives_pages_and_run_switches(page, journey_app):
    page.goto(journey_app.url + "/anomaly?run=digits-anomaly-ae")
    _wait_anomaly(page)
    srv.choose(page, "Score", "l1")
    _wait_anomaly(page)
    default = _view(page)
    slider = _threshold(page)
    slider.focus()
    for _ in range(60):
        slider.press("ArrowRight")
    j.settle(page)
    expect(page).to_have_url(re.compile(r"score=l1"))
    tuned = _view(page)
    assert tuned["threshold"] != default["threshold"] and tuned["score"] == "l1"
    assert tuned["normal"] == [str(d) for d in range(9)]  # the run's own: 9 is the anomaly
    assert float(re.search(r"threshold=([^&]+)", page.url).group(1)) == pytest.approx(
        float(tuned["threshold"]), rel=1e-6)
    # A click on the false-alarm cell shows those images, as many as the cell counts.
    j.click_cell(page, "anomaly_threshold_matrix", 0, 1, 2)
    title = page.get_by_text(re.compile(r"^Selected cell: false alarms \(FP\), [\d,]+ images"))
    expect(title).to_be_visible(timeout=60_000)
    fp = int(re.search(r"FP<br>([\d,]+)", _matrix_text(page)).group(1).replace(",", ""))
    assert int(re.search(r"\(FP\), ([\d,]+) images", title.inner_text()).group(1)) == fp
    j.no_exception(page)

    j.go(page, "Runs")
    j.no_exception(page)
    j.go(page, "Anomaly")
    _wait_anomaly(page)
    assert _view(page) == tuned
    expect(title).to_be_visible()  # the clicked cell is the run's too

    srv.choose(page, "Autoencoder run", "Digits VAE · vae · shipped")
    j.settle(page)
    expect(page.get_by_text("choose which classes are normal")).to_be_visible(timeout=120_000)
    j.no_exception(page)
    srv.choose(page, "Autoencoder run", "Digits anomaly AE (9 is the anomaly) · conv_ae · shipped")
    _wait_anomaly(page)
    assert _view(page) == tuned
    j.no_exception(page)
    j.shot(page, "journey_anomaly_threshold.png")

