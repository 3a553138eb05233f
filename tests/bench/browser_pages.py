"""Browser latency of two interactive pages: user action -> updated content visible in Chromium,
each against the floor (page_timing: a trivial app's round trip, measured in the same run).

evaluate_cell     Evaluate, a classifier run with 10,000 test images: a cell chosen in the
                  confusion section (a fragment rerun) until its caption and its images are
                  shown; a class removed from / added to "Classes on the curves" (a full-page
                  rerun) until the ROC legend follows. Baseline: the "Normalise by row" toggle
                  (a fragment rerun whose images stay the same) until the matrix is redrawn.
latent_selection  Latent, an mlp_ae on a 60,000 + 10,000 IDX set (the map shows a 10,000-point
                  sample): a box dragged over the scatter, from mouse up until "N images
                  selected" and its grid images are shown. Baseline: a double click that clears
                  the selection (the same fragment rerun, no images) until "No points selected".

The Anomaly threshold's round trips are in threshold_panel.py. Every repeat: a fresh tmp
DASH_WORKSPACE (runs trained once per benchmark and copied in), a fresh server and browser
context; one Chromium for the whole benchmark. Samples of all repeats are pooled. Times are taken
in the page (page_timing): from the event's timeStamp (pointerdown of a click, pointerup ending a
drag, the second pointerup of a double click) to the requestAnimationFrame poll that first sees
the updated content. Per-sample times go to stderr.
"""
from __future__ import annotations

import random
import re
import time
from pathlib import Path

from tests.bench.common import Figure, env_vars, tmp_dir, write_mnist_60k
from tests.bench.page_timing import IMAGES_DONE, LOAD_TIMEOUT_MS, NOT_STALE, floor_round_trips
from tests.bench.page_timing import app_page as _app_page
from tests.bench.page_timing import measure as _measure
from tests.bench.page_timing import say as _say
from tests.bench.page_timing import settle as _settle
from tests.data_writers import write_mnist_idx
from tests.e2e import server as srv

CELL_SAMPLES = 9  # per repeat and kind; <= 9 so no diagonal cell's images repeat (no cache hits)
ROC_SAMPLES = 5  # remove + add pairs per repeat
TOGGLE_SAMPLES = 8
BOXES = 12
PICTURES = 1  # a confusion cell's up to 40 images (dashboard.sections.evaluate.GALLERY) in one PNG

# ------------------------------------------------------------------------------ app and runs


def _train(tmp: Path, root: Path, model: str, params: dict) -> Path:
    """Train a quick run into tmp/trained; returns its folder (copied into each repeat)."""
    from core.runs.store import RunStore
    from core.settings import Settings
    from core.training.config import TrainConfig
    from core.training.runner import train_run

    ws = tmp / "trained"
    settings = Settings(workspace=ws, data_roots=(root,))
    config = TrainConfig(dataset=f"mnist?root={root}", model=model, model_params=params,
                         epochs=1, batch_size=256, schedule="none", device="cpu")
    with env_vars(DASH_WORKSPACE=str(ws), DASH_DATA_ROOTS=str(root)):
        run = RunStore(settings.runs_dir).create(config)
        state, _ = train_run(run, config)
    if state != "done":
        raise RuntimeError(f"training {model} ended {state}")
    return run.path


# ------------------------------------------------------------------------------ evaluate_cell
# The confusion section's caption "**N** images of **A** predicted as **B**", its images (the
# element containers after it) and the stage count for an expected (A, B).
CELL_JS = f"""([want, expected]) => {{
    const md = Array.from(document.querySelectorAll('[data-testid="stMarkdown"]'))
        .find(e => /^[\\d,]+ images of .+ predicted as /.test(e.innerText.trim()));
    if (!md || !{NOT_STALE}) return 0;
    const text = md.innerText.trim();
    if (!text.endsWith(`images of ${{want[0]}} predicted as ${{want[1]}}`)) return 0;
    const n = Number(text.match(/^([\\d,]+)/)[1].replace(/,/g, ''));
    const imgs = [];
    for (let s = md.closest('[data-testid="stElementContainer"]').nextElementSibling; s;
         s = s.nextElementSibling) {{
        if (s.querySelector('[data-testid="stHeading"]')) break;
        imgs.push(...s.querySelectorAll('img'));
    }}
    if (imgs.length !== Math.min(n, expected)) return 1;  // expected: pictures per cell
    return (n === 0 || ({IMAGES_DONE})(imgs)) ? 2 : 1;
}}"""

LEGEND_JS = f"""([name, present]) => {{
    if (!{NOT_STALE}) return 0;
    const texts = Array.from(document.querySelectorAll('.st-key-roc_chart .legendtext'))
        .map(t => t.textContent);
    if (!texts.length) return 0;
    return texts.some(t => t.startsWith(name + ' (')) === present ? 1 : 0;
}}"""

MATRIX_TEXT_JS = """(sel) => Array.from(document.querySelectorAll(`${sel} svg text`))
    .map(t => t.textContent).join('|')"""

CHANGED_JS = f"""([sel, before]) => {{
    if (!{NOT_STALE}) return 0;
    const now = ({MATRIX_TEXT_JS})(sel);
    return now && now !== before ? 1 : 0;
}}"""


def _open(page, label: str) -> None:
    """Open the dropdown of the selectbox/multiselect labelled `label` (a click that lands while
    the page still changes may be swallowed: try again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    combo = page.locator(f'[role="combobox"][aria-label="{label}"]')
    for attempt in range(5):
        combo.click()
        try:
            page.locator('[role="option"]').first.wait_for(state="visible", timeout=2_000)
            return
        except PlaywrightTimeout:
            if attempt == 4:
                raise
            page.keyboard.press("Escape")
            _settle(page)


def _choose(page, label: str, option: str):
    """The action of picking `option` in the selectbox/multiselect labelled `label`: open it
    (untimed), return a callable that clicks the option (timed)."""
    _open(page, label)
    target = page.locator('[role="option"]').filter(
        has_text=re.compile(f"^\\s*{re.escape(option)}\\s*$"))
    target.wait_for(state="visible")
    return lambda: target.click()


def _close_dropdown(page) -> None:
    if page.locator('[role="option"]').count():
        page.keyboard.press("Escape")


def _evaluate_repeat(browser, tmp: Path, run_dir: Path, root: Path, figs: dict) -> None:
    bench = "evaluate_cell"
    with _app_page(browser, tmp, f"/evaluate?run={run_dir.name}", run_dir, root) as (page, _, t):
        page.wait_for_function(
            """() => document.querySelectorAll('.st-key-roc_chart .legendtext').length > 0
                      && Array.from(document.querySelectorAll('[data-testid="stDownloadButton"]'))
                              .some(e => e.innerText.includes('Metrics (CSV)'))
                      && Array.from(document.querySelectorAll('[data-testid="stMarkdown"]'))
                              .some(e => /images of .+ predicted as /.test(e.innerText))""",
            timeout=LOAD_TIMEOUT_MS)
        _settle(page)
        _say(bench, f"page with predictions shown after {time.perf_counter() - t:.1f} s")
        _open(page, "True class")
        names = [n.strip() for n in page.locator('[role="option"]').all_inner_texts()]
        page.keyboard.press("Escape")
        _settle(page)

        # Cells: start on a diagonal cell (c0, c0), then True class -> c1 gives an off-diagonal
        # cell (empty: the classifier is nearly perfect on the generated set) and Predicted
        # as -> c1 the diagonal cell with its 40 images, and so on round the classes.
        true_name = page.locator('[role="combobox"][aria-label="True class"]').input_value()
        if page.locator('[role="combobox"][aria-label="Predicted as"]').input_value() != true_name:
            _choose(page, "Predicted as", true_name)()  # the page opens on the worst confusion
            page.wait_for_function(CELL_JS, arg=[[true_name, true_name], PICTURES])
            _settle(page)
        for k in range(1, min(CELL_SAMPLES, len(names) - 1) + 1):
            cls = names[(names.index(true_name) + k) % len(names)]
            previous = names[(names.index(cls) - 1) % len(names)]
            for label, fig_key, want in (("True class", "empty", [cls, previous]),
                                         ("Predicted as", "diag", [cls, cls])):
                act = _choose(page, label, cls)
                times = _measure(page, "pointerdown", act, CELL_JS, [want, PICTURES], n_stages=2)
                figs[fig_key].values.append(times[1])
                _say(bench, f"{label} -> {cls}: text {1000 * times[0]:.0f} ms, "
                            f"images {1000 * times[1]:.0f} ms")
                _settle(page)

        # ROC classes: remove one (its chip's x), then add it back (the dropdown option).
        roc = page.locator(".st-key-roc_classes")
        for k in range(ROC_SAMPLES):
            cls = names[k % len(names)]
            button = roc.get_by_role("button", name=f"Remove {cls}", exact=True)
            times = _measure(page, "pointerdown", lambda button=button: button.click(), LEGEND_JS, [cls, False])
            figs["roc"].values.append(times[0])
            _say(bench, f"ROC remove {cls}: legend {1000 * times[0]:.0f} ms")
            _settle(page)
            act = _choose(page, "Classes on the curves", cls)
            times = _measure(page, "pointerdown", act, LEGEND_JS, [cls, True])
            figs["roc"].values.append(times[0])
            _say(bench, f"ROC add {cls}: legend {1000 * times[0]:.0f} ms")
            _close_dropdown(page)
            _settle(page)

        # Baseline: the "Normalise by row" toggle, until the matrix text changes.
        toggle = page.locator(".st-key-cm_normalized label").first
        for _ in range(TOGGLE_SAMPLES):
            before = page.evaluate(MATRIX_TEXT_JS, ".st-key-confusion_chart")
            times = _measure(page, "pointerdown", lambda: toggle.click(), CHANGED_JS,
                             [".st-key-confusion_chart", before])
            figs["base"].values.append(times[0])
            _say(bench, f"normalise toggle: matrix {1000 * times[0]:.0f} ms")
            _settle(page)
        if page.locator(srv.EXCEPTION).count():
            raise RuntimeError("the Evaluate page shows an exception")


def evaluate_cell(repeats: int) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    b = "evaluate_cell"
    base = Figure(b, "baseline: 'Normalise by row' toggle -> matrix redrawn")
    floor = Figure(b, "floor: trivial app, slider key -> text")
    figs = {
        "diag": Figure(b, "'Predicted as' -> cell + its 40 images shown", goal=0.3,
                       baseline=floor.name, ratio_goal=1.5),
        "empty": Figure(b, "'True class' -> off-diagonal cell shown", goal=0.3, baseline=base.name),
        "roc": Figure(b, "ROC classes -/+ one -> legend (full rerun)", goal=0.3,
                      baseline=base.name),
        "base": base,
        "floor": floor,
    }
    with sync_playwright() as p, tmp_dir("evaluate") as tmp:
        root = write_mnist_60k(tmp / "data")
        run_dir = _train(tmp, root, "mlp", {"hidden": [32]})
        browser = srv.launch_browser(p)
        try:
            for i in range(repeats):
                floor.values += floor_round_trips(browser, tmp / f"f{i}", b)
                _evaluate_repeat(browser, tmp / f"r{i}", run_dir, root, figs)
        finally:
            browser.close()
    return list(figs.values())


# ------------------------------------------------------------------------------ latent_selection
MAP = ".st-key-latent_map"
SELECTED = ".st-key-latent_selected"
MAP_POINTS = 10_000

MAP_READY_JS = """(sel) => { const g = document.querySelector(`${sel} .js-plotly-plot`);
    return g && g._fullData && g._fullData.some(t => t.type === 'scattergl')
        && document.querySelector(`${sel} .nsewdrag`); }"""

# Page coordinates of every scattergl point (x, y) in the map.
POINTS_JS = """(sel) => { const g = document.querySelector(`${sel} .js-plotly-plot`);
    const r = g.getBoundingClientRect(), xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
    const out = [];
    for (const t of g._fullData) {
        if (t.type !== 'scattergl') continue;
        for (let i = 0; i < t.x.length; i++)
            out.push([r.left + xa._offset + xa.d2p(t.x[i]), r.top + ya._offset + ya.d2p(t.y[i])]);
    }
    return out; }"""

# 1: "N images selected" shown, nothing stale; 2: the gallery (one picture of up to 60) loaded.
SELECTED_JS = f"""(sel) => {{
    const box = document.querySelector(sel);
    if (!box || !{NOT_STALE}) return 0;
    const m = box.innerText.match(/([\\d,]+) images selected/);
    if (!m) return 0;
    const n = Number(m[1].replace(/,/g, ''));
    const imgs = Array.from(box.querySelectorAll('img'));
    return n > 0 && imgs.length === 1 && ({IMAGES_DONE})(imgs) ? 2 : 1;
}}"""

CLEARED_JS = f"""(sel) => {{
    const box = document.querySelector(sel);
    return box && {NOT_STALE} && box.innerText.includes('No points selected') ? 1 : 0;
}}"""


def _drag(page, x0: float, y0: float, x1: float, y1: float):
    def act() -> None:
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(x1, y1, steps=8)
        page.mouse.up()
    return act


def _latent_repeat(browser, tmp: Path, run_dir: Path, root: Path, figs: dict,
                   rng: random.Random) -> None:
    bench = "latent_selection"
    with _app_page(browser, tmp, f"/latent?run={run_dir.name}", run_dir, root) as (page, _, t):
        page.wait_for_function(MAP_READY_JS, arg=MAP, timeout=LOAD_TIMEOUT_MS)
        _settle(page)
        n = page.evaluate(f"() => ({POINTS_JS})('{MAP}').length")
        assert n == MAP_POINTS, f"the map drew {n} points, not {MAP_POINTS:,}"
        _say(bench, f"map of {n:,} points shown after {time.perf_counter() - t:.1f} s")
        page.locator(f"{MAP} .js-plotly-plot").scroll_into_view_if_needed()
        _settle(page)
        area = page.locator(f"{MAP} .nsewdrag").first.bounding_box()
        points = [(x, y) for x, y in page.evaluate(POINTS_JS, MAP)
                  if area["x"] + 10 < x < area["x"] + area["width"] - 10
                  and area["y"] + 10 < y < area["y"] + area["height"] - 10]
        for _ in range(BOXES):
            # A box of random size around a random point (the clusters are dense, so it catches
            # from a few to about a thousand points), clipped to the plot area.
            cx, cy = rng.choice(points)
            half_w, half_h = rng.uniform(4, 30), rng.uniform(4, 30)
            x0 = max(area["x"] + 2, cx - half_w)
            x1 = min(area["x"] + area["width"] - 2, cx + half_w)
            y0 = max(area["y"] + 2, cy - half_h)
            y1 = min(area["y"] + area["height"] - 2, cy + half_h)
            times = _measure(page, "pointerup", _drag(page, x0, y0, x1, y1), SELECTED_JS,
                             SELECTED, n_stages=2)
            figs["select"].values.append(times[1])
            caption = page.locator(SELECTED).get_by_text(re.compile("images selected")).inner_text()
            _say(bench, f"box {x1 - x0:.0f}x{y1 - y0:.0f} px: caption {1000 * times[0]:.0f} ms, "
                        f"grid {1000 * times[1]:.0f} ms ({caption})")
            _settle(page)
            cx, cy = area["x"] + 5, area["y"] + 5  # a corner: double-click clears the selection
            # plotly counts the clicks itself (no native dblclick): time from the 2nd mouse up
            times = _measure(page, "pointerup", lambda cx=cx, cy=cy: page.mouse.dblclick(cx, cy), CLEARED_JS,
                             SELECTED, nth=2)
            figs["base"].values.append(times[0])
            _say(bench, f"double click clears: {1000 * times[0]:.0f} ms")
            _settle(page)
        if page.locator(srv.EXCEPTION).count():
            raise RuntimeError("the Latent page shows an exception")


def latent_selection(repeats: int) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    b = "latent_selection"
    base = Figure(b, "baseline: double click clears -> 'No points selected'")
    floor = Figure(b, "floor: trivial app, slider key -> text")
    figs = {
        "select": Figure(b, "box on 10k-point map -> caption + grid loaded", goal=0.5,
                         baseline=floor.name, ratio_goal=1.5),
        "base": base,
        "floor": floor,
    }
    rng = random.Random(0)
    with sync_playwright() as p, tmp_dir("latent") as tmp:
        # 10,000 images: every one is a point (the map samples only past 100,000)
        root = tmp / "data"
        write_mnist_idx(root, n_train=MAP_POINTS - 2_000, n_test=2_000)
        run_dir = _train(tmp, root, "mlp_ae", {"hidden": [64], "code_dim": 16})
        browser = srv.launch_browser(p)
        try:
            for i in range(repeats):
                floor.values += floor_round_trips(browser, tmp / f"f{i}", b)
                _latent_repeat(browser, tmp / f"r{i}", run_dir, root, figs, rng)
        finally:
            browser.close()
    return list(figs.values())
