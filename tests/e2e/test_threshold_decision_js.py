"""The threshold panel's uncertainty and costs in Chromium: its Wilson intervals equal scipy's at
random counts (and its F1 interval core's), and the panel itself, mounted on a bare page from its
own assets, moves the intervals, the expected cost and the cost-curve marker with a drag, in the
same frame as the matrix."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binomtest

from core.evaluation.intervals import f1_interval, rate_intervals
from core.evaluation.sweep import ThresholdSweep
from dashboard.widgets.threshold_panel import ASSETS, sweep_payload

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def js(sweep_js):
    return sweep_js


def test_js_intervals_equal_scipy_and_core(js) -> None:
    rng = np.random.default_rng(5)
    cases = [(0, 1), (1, 1), (0, 14), (14, 14), (11, 14), (27, 36)]
    cases += [(int(k), int(n)) for n in rng.integers(1, 5000, 40) for k in [rng.integers(0, n + 1)]]
    got = js.evaluate("(cases) => cases.map(([k, n]) => wilson(k, n))", cases)
    for (k, n), (lo, hi) in zip(cases, got):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12), (k, n)
    counts = [[int(v) for v in rng.integers(0, 400, 4)] for _ in range(30)] + [[0, 0, 5, 0], [3, 0, 9, 0]]
    f1 = js.evaluate("(cs) => cs.map(([tp, fp, tn, fn]) => intervalsOf({tp, fp, tn, fn}))", counts)
    for (tp, fp, tn, fn), ci in zip(counts, f1):
        want = rate_intervals(tp, fp, tn, fn)
        for name in ("tpr", "tnr", "precision", "f1"):
            lo, hi = ci[name]
            if np.isnan(want[name][0]):
                assert lo is None or np.isnan(lo)  # NaN crosses as null
            else:
                assert (lo, hi) == pytest.approx(want[name], rel=1e-9, abs=1e-12), name
        assert ci["f1"] == pytest.approx(f1_interval(tp, fp, fn), nan_ok=True)


def _panel_page(browser, data: dict):
    """The panel's HTML, CSS and JS on a bare page, mounted as Streamlit would mount it."""
    script = "\n".join((ASSETS / n).read_text() for n in ("sweep.js", "charts.js", "panel.js"))
    script = script.replace("export default function", "window.__mountPanel = function")
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.set_content(f"<html><head><style>{(ASSETS / 'panel.css').read_text()}</style></head>"
                     f"<body><div id='host'>{(ASSETS / 'panel.html').read_text()}</div></body></html>")
    page.add_script_tag(content=script)
    page.evaluate("""(data) => { window.__triggers = [];
        window.__mountPanel({data, parentElement: document.getElementById('host'),
                             setTriggerValue: (k, v) => window.__triggers.push([k, v])}); }""", data)
    return page


READ_JS = """() => {
    const q = (s) => document.querySelector(s);
    return {t: Number(q('.tp').dataset.threshold),
            cells: ['tp', 'fp', 'tn', 'fn'].map((c) => Number(q(`[data-cell=${c}] b`).textContent.replace(/,/g, ''))),
            ci: Object.fromEntries([...document.querySelectorAll('[data-ci]')]
                                   .map((d) => [d.dataset.ci, d.textContent])),
            cost: q('.tp-cost-now').textContent,
            marker: q('.tp-cost .tp-marker').getAttribute('cx'),
            minimum: q('.tp-cost .tp-cost-min') !== null};
}"""


def test_costs_and_intervals_move_with_the_drag(browser) -> None:
    rng = np.random.default_rng(8)
    flags = rng.random(3000) < 0.1
    scores = rng.normal(size=3000) + 2.0 * flags
    sweep = ThresholdSweep(scores, flags)
    bounds = (float(scores.min()), float(scores.max()))
    data = {"id": "p1", "value": float(np.median(scores)), "bounds": list(bounds), "picked": None,
            "labels": {"score": "score", "positive": "anomaly", "negative": "normal"},
            "payload": json.loads(json.dumps(sweep_payload(sweep, bounds))), "costs": [1.0, 10.0]}
    page = _panel_page(browser, data)
    try:
        page.wait_for_function("() => document.querySelector('.tp-cost .tp-marker') !== null")
        seen = []
        box = page.locator(".tp-track").bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + 0.3 * box["width"], y)
        page.mouse.down()
        for f in (0.3, 0.45, 0.6, 0.75):
            page.mouse.move(box["x"] + f * box["width"], y)
            seen.append(page.evaluate(READ_JS))
        page.mouse.up()
        assert len({s["t"] for s in seen}) == 4 and len({s["marker"] for s in seen}) == 4
        assert len({s["cost"] for s in seen}) == 4 and all(s["minimum"] for s in seen)
        for s in seen:  # each frame: the matrix, its intervals and its cost agree with core
            c = sweep.counts(s["t"])
            assert s["cells"] == [c.tp, c.fp, c.tn, c.fn]
            want = rate_intervals(c.tp, c.fp, c.tn, c.fn)
            assert s["ci"]["tpr"] == f"[{want['tpr'][0]:.2f}, {want['tpr'][1]:.2f}]"
            assert s["ci"]["f1"] == f"[{want['f1'][0]:.2f}, {want['f1'][1]:.2f}]"
            cost = 1000 * (1.0 * c.fp + 10.0 * c.fn) / len(scores)
            assert s["cost"].startswith(f"Expected cost here: {float(f'{cost:.4g}'):g} per 1,000 images")
        assert page.evaluate("() => window.__triggers.filter(([k]) => k === 'commit').length") == 1
        page.evaluate("(data) => window.__mountPanel({data, parentElement: document.getElementById('host'),"
                      " setTriggerValue: () => {}})", {**data, "payload": None, "costs": None})
        assert page.evaluate("() => document.querySelector('.tp-cost-now').textContent") == ""
    finally:
        page.close()
