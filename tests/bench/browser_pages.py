"""Browser latency of three interactive pages: user action -> updated content visible in Chromium.

evaluate_cell     Evaluate, a classifier run with 10,000 test images: a cell chosen in the
                  confusion section (a fragment rerun) until its caption and its images are
                  shown; a class removed from / added to "Classes on the curves" (a full-page
                  rerun) until the ROC legend follows. Baseline: the "Normalise by row" toggle
                  (a fragment rerun whose images stay the same) until the matrix is redrawn.
anomaly_slider    Anomaly, shipped digits-anomaly-ae: one PageUp/PageDown on the threshold slider
                  until the TN/FP/FN/TP numbers differ and nothing is stale (the gallery images
                  loaded as a second, goal-less figure). Baseline: a page reload (warm caches)
                  until the matrix is drawn.
latent_selection  Latent, an mlp_ae on a 60,000 + 10,000 IDX set (the map shows a 10,000-point
                  sample): a box dragged over the scatter, from mouse up until "N images
                  selected" and its grid images are shown. Baseline: a double click that clears
                  the selection (the same fragment rerun, no images) until "No points selected".

Every repeat: a fresh tmp DASH_WORKSPACE (runs trained once per benchmark and copied in), a
fresh server and browser context; one Chromium for the whole benchmark. Samples of all repeats
are pooled. Times are taken in the page: from the event's timeStamp (pointerdown of a click,
keydown, pointerup ending a drag, the second pointerup of a double click) to the
requestAnimationFrame poll that first sees the updated content, so Playwright's own overhead is
not counted. Per-sample times go to stderr.
"""
from __future__ import annotations

import random
import re
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.bench.common import Figure, env_vars, tmp_dir, write_mnist_60k
from tests.e2e import server as srv

VIEWPORT = {"width": 1400, "height": 900}
LOAD_TIMEOUT_MS = 180_000
STEP_TIMEOUT_MS = 30_000
CELL_SAMPLES = 9  # per repeat and kind; <= 9 so no diagonal cell's images repeat (no cache hits)
ROC_SAMPLES = 5  # remove + add pairs per repeat
TOGGLE_SAMPLES = 8
SLIDER_SAMPLES = 24
SHIFT_PRESSES = 7  # ArrowRight between waves of PageUp/PageDown
RELOADS = 2
BOXES = 12
GALLERY = 40  # dashboard.sections.evaluate.GALLERY: images per confusion cell
PAUSE_MS = 150  # between samples: the previous rerun's tail (websocket, GC) settles

# ------------------------------------------------------------------------------ in-page timing
# The nth event of the armed type after arming: its timeStamp shares performance.now()'s clock.
ARM_JS = """([type, nth]) => {
    window.__benchT0 = null;
    window.__benchType = type;
    window.__benchLeft = nth;
    window.__benchStages = [];
    if (!window.__benchListening) {
        window.__benchListening = true;
        for (const t of ['pointerdown', 'pointerup', 'keydown'])
            window.addEventListener(t, e => {
                if (window.__benchT0 === null && e.type === window.__benchType
                        && --window.__benchLeft === 0)
                    window.__benchT0 = e.timeStamp;
            }, true);
    }
}"""

RUNNING = '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'
NOT_STALE = "!document.querySelector('[data-stale=\"true\"]')"

IMAGES_DONE = """(imgs) => imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)"""


def _wait_stages(page, stages_js: str, arg, n_stages: int, timeout_ms: int) -> list[float]:
    """Poll stages_js(arg) every animation frame; it returns how many cumulative stages hold.
    Returns, per stage, the performance.now() at which it first held."""
    wrapper = f"""(arg) => {{
        const k = ({stages_js})(arg);
        const s = window.__benchStages;
        while (s.length < k) s.push(performance.now());
        return s.length >= {n_stages} ? s.slice(0, {n_stages}) : false;
    }}"""
    return page.wait_for_function(wrapper, arg=arg, polling="raf", timeout=timeout_ms).json_value()


def _measure(page, event: str, action, stages_js: str, arg=None, n_stages: int = 1,
             timeout_ms: int = STEP_TIMEOUT_MS, nth: int = 1) -> list[float]:
    """Seconds from the nth `event` that action() causes to each stage being seen."""
    page.evaluate(ARM_JS, [event, nth])
    action()
    times = _wait_stages(page, stages_js, arg, n_stages, timeout_ms)
    t0 = page.evaluate("() => window.__benchT0")
    if t0 is None:
        raise RuntimeError(f"the action caused no {event} event")
    return [(t - t0) / 1000 for t in times]


def _settle(page, timeout_ms: int = STEP_TIMEOUT_MS) -> None:
    """Nothing stale and no script running (the status widget's running icon gone)."""
    page.wait_for_function(f"() => {NOT_STALE} && !document.querySelector({RUNNING!r})",
                           timeout=timeout_ms)
    page.wait_for_timeout(PAUSE_MS)


def _say(bench: str, text: str) -> None:
    print(f"  [{bench}] {text}", file=sys.stderr, flush=True)


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


@contextmanager
def _app_page(browser, tmp: Path, url_path: str, run_dir: Path | None = None,
              data_root: Path | None = None):
    """A fresh workspace (with a copy of run_dir), server and context, the page opened at
    url_path; yields (page, server, perf_counter() before the navigation)."""
    ws = tmp / "workspace"
    if run_dir is not None:
        shutil.copytree(run_dir, ws / "runs" / run_dir.name)
    env = {"DASH_DATA_ROOTS": str(data_root)} if data_root else {}
    server = srv.start_app(workspace=ws, log_path=tmp / "streamlit.log", env=env)
    context = browser.new_context(viewport=VIEWPORT)
    try:
        srv.wait_healthy(server, timeout=60)
        page = context.new_page()
        start = time.perf_counter()
        page.goto(server.url + url_path)
        yield page, server, start
    except Exception:
        print(server.log_text()[-5000:], file=sys.stderr)
        raise
    finally:
        context.close()
        server.stop()


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
    if (imgs.length !== Math.min(n, expected)) return 1;
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
            page.wait_for_function(CELL_JS, arg=[[true_name, true_name], GALLERY])
            _settle(page)
        for k in range(1, min(CELL_SAMPLES, len(names) - 1) + 1):
            cls = names[(names.index(true_name) + k) % len(names)]
            previous = names[(names.index(cls) - 1) % len(names)]
            for label, fig_key, want in (("True class", "empty", [cls, previous]),
                                         ("Predicted as", "diag", [cls, cls])):
                act = _choose(page, label, cls)
                times = _measure(page, "pointerdown", act, CELL_JS, [want, GALLERY], n_stages=2)
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
    figs = {
        "diag": Figure(b, "'Predicted as' -> cell + 40 images shown", goal=0.3,
                       baseline=base.name),
        "empty": Figure(b, "'True class' -> off-diagonal cell shown", goal=0.3, baseline=base.name),
        "roc": Figure(b, "ROC classes -/+ one -> legend (full rerun)", goal=0.3,
                      baseline=base.name),
        "base": base,
    }
    with sync_playwright() as p, tmp_dir("evaluate") as tmp:
        root = write_mnist_60k(tmp / "data")
        run_dir = _train(tmp, root, "mlp", {"hidden": [32]})
        browser = srv.launch_browser(p)
        try:
            for i in range(repeats):
                _evaluate_repeat(browser, tmp / f"r{i}", run_dir, root, figs)
        finally:
            browser.close()
    return list(figs.values())


# ------------------------------------------------------------------------------ anomaly_slider
MATRIX = ".st-key-anomaly_threshold_matrix"
SLIDER = '[data-testid="stSlider"] input[type="range"]'

# The heatmap's cell texts ("TP27": the <br> splits it into tspans), e.g. "TN230|FP93|FN9|TP27".
CELLS_JS = """(sel) => Array.from(document.querySelectorAll(`${sel} svg text`))
    .map(t => t.textContent).filter(t => /^(TN|FP|FN|TP)[\\d,]+$/.test(t)).join('|')"""

# 1: the numbers differ and nothing is stale; 2: also every image on the page has loaded.
SLIDER_DONE_JS = f"""([sel, before]) => {{
    if (!{NOT_STALE}) return 0;
    const now = ({CELLS_JS})(sel);
    if (!now || now === before) return 0;
    const imgs = Array.from(document.querySelectorAll('[data-testid="stMain"] img'));
    return ({IMAGES_DONE})(imgs) ? 2 : 1;
}}"""


def _anomaly_ready(page, timeout_ms: int = LOAD_TIMEOUT_MS) -> None:
    """The matrix, the slider and the gallery's loaded images are shown, nothing is stale."""
    page.wait_for_function(
        f"""() => ({CELLS_JS})({MATRIX!r}).split('|').length === 4
                  && document.querySelector({SLIDER!r})
                  && ({IMAGES_DONE})(Array.from(
                      document.querySelectorAll('[data-testid="stMain"] img')))""",
        timeout=timeout_ms)
    _settle(page)


def _anomaly_repeat(browser, tmp: Path, figs: dict) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    bench = "anomaly_slider"
    with _app_page(browser, tmp, "/anomaly?run=digits-anomaly-ae") as (page, _, t):
        _anomaly_ready(page)
        _say(bench, f"page shown after {time.perf_counter() - t:.1f} s")
        slider = page.locator(SLIDER).first
        # A triangle wave of PageUp/PageDown (a tenth of the range each) around the default
        # threshold, -2..+2 steps, so each press lands on another count; after each wave a few
        # untimed ArrowRight presses (1/1000 of the range each) shift it, so the thresholds and
        # the gallery's images are new ones rather than repeats from the browser cache.
        keys = ["PageUp", "PageUp", "PageDown", "PageDown", "PageDown", "PageDown", "PageUp",
                "PageUp"]
        taken = skipped = 0
        while taken < SLIDER_SAMPLES:
            step = taken + skipped
            if step and step % len(keys) == 0:
                slider.focus()
                for _ in range(SHIFT_PRESSES):
                    page.keyboard.press("ArrowRight")
                _settle(page)
                page.wait_for_timeout(1_000)  # the presses' reruns have all been answered
                _settle(page)
            key = keys[step % len(keys)]
            before = page.evaluate(CELLS_JS, MATRIX)
            value = slider.input_value()
            slider.focus()
            try:
                times = _measure(page, "keydown", lambda key=key: page.keyboard.press(key),
                                 SLIDER_DONE_JS, [MATRIX, before], n_stages=2, timeout_ms=8_000)
            except PlaywrightTimeout:  # the counts did not change over this step (a sparse tail)
                skipped += 1
                _say(bench, f"{key} from {value}: the matrix stayed {before}; sample skipped")
                if skipped > SLIDER_SAMPLES:
                    raise
                _settle(page)
                continue
            taken += 1
            figs["matrix"].values.append(times[0])
            figs["images"].values.append(times[1])
            _say(bench, f"{key} {value} -> {slider.input_value()}: matrix {1000 * times[0]:.0f} ms,"
                        f" gallery {1000 * times[1]:.0f} ms ({page.evaluate(CELLS_JS, MATRIX)})")
            _settle(page)
        for _ in range(RELOADS):
            start = time.perf_counter()
            page.reload()
            _anomaly_ready(page)
            figs["base"].values.append(time.perf_counter() - start)
            _say(bench, f"reload: {1000 * figs['base'].values[-1]:.0f} ms")
        if page.locator(srv.EXCEPTION).count():
            raise RuntimeError("the Anomaly page shows an exception")


def anomaly_slider(repeats: int) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    b = "anomaly_slider"
    base = Figure(b, "baseline: page reload (warm) -> matrix, gallery")
    figs = {
        "matrix": Figure(b, "PageUp/Down on slider -> matrix, none stale", goal=0.3,
                         baseline=base.name),
        "images": Figure(b, "PageUp/Down on slider -> + gallery images", baseline=base.name),
        "base": base,
    }
    with sync_playwright() as p, tmp_dir("anomaly") as tmp:
        browser = srv.launch_browser(p)
        try:
            for i in range(repeats):
                _anomaly_repeat(browser, tmp / f"r{i}", figs)
        finally:
            browser.close()
    return list(figs.values())


# ------------------------------------------------------------------------------ latent_selection
MAP = ".st-key-latent_map"
SELECTED = ".st-key-latent_selected"
LATENT_GALLERY = 60  # dashboard.sections.latent_space.GALLERY

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

# 1: "N images selected" shown, nothing stale; 2: the grid has min(N, 60) loaded images.
SELECTED_JS = f"""([sel, most]) => {{
    const box = document.querySelector(sel);
    if (!box || !{NOT_STALE}) return 0;
    const m = box.innerText.match(/([\\d,]+) images selected/);
    if (!m) return 0;
    const n = Number(m[1].replace(/,/g, ''));
    const imgs = Array.from(box.querySelectorAll('img'));
    return imgs.length === Math.min(n, most) && ({IMAGES_DONE})(imgs) ? 2 : 1;
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
        page.get_by_text(re.compile(r"random sample of 10,000 of")).wait_for()
        _say(bench, f"map shown after {time.perf_counter() - t:.1f} s")
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
                             [SELECTED, LATENT_GALLERY], n_stages=2)
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
    figs = {
        "select": Figure(b, "box on 10k-point map -> caption + grid loaded", goal=0.5,
                         baseline=base.name),
        "base": base,
    }
    rng = random.Random(0)
    with sync_playwright() as p, tmp_dir("latent") as tmp:
        root = write_mnist_60k(tmp / "data")
        run_dir = _train(tmp, root, "mlp_ae", {"hidden": [64], "code_dim": 16})
        browser = srv.launch_browser(p)
        try:
            for i in range(repeats):
                _latent_repeat(browser, tmp / f"r{i}", run_dir, root, figs, rng)
        finally:
            browser.close()
    return list(figs.values())
