"""The decision report: one self-contained HTML file (inline SVG and PNG, no script, nothing
fetched) that says what threshold was chosen and why: the histogram with the threshold, the
confusion matrix on val and test with 95% intervals, costs or budget, the strategy and the split it
was fitted on, the counts, the model's and dataset's specs, and the test images it gets wrong.
Written by `python -m core threshold RUN --report FILE` and downloaded from the Anomaly page."""
from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path

import numpy as np

from core.anomaly.decide import Decision
from core.data.dataset import ImageDataset, load_dataset
from core.io.atomic import write_text
from core.settings import Settings
from core.training.config import run_config

BINS = 40
GALLERY = 8  # false positives and false negatives shown, each
STYLE = """body{font:15px/1.4 sans-serif;color:#1f2430;max-width:1000px;margin:24px auto;padding:0 16px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #c8cbd2;padding:4px 8px;text-align:left}
.g{display:flex;flex-wrap:wrap;gap:8px}.g figure{margin:0;text-align:center;font-size:13px}
.g img{width:64px;height:64px;image-rendering:pixelated;border:1px solid #c8cbd2}
.warn{background:#fff4d6;padding:6px 10px;border-left:4px solid #e0a100}"""


def _fmt(v) -> str:
    return "n/a" if v is None or (isinstance(v, float) and v != v) else f"{v:.3f}"


def _ci(interval) -> str:
    lo, hi = interval
    return "" if lo != lo else f" [{lo:.2f}, {hi:.2f}]"


def histogram_svg(values: np.ndarray, flags: np.ndarray, threshold: float, label: str) -> str:
    """Normal and anomalous test scores in BINS bars, the threshold as a dashed line."""
    w, h, left, bottom = 720, 240, 50, 30
    lo = float(min(values.min(), threshold))
    hi = float(max(values.max(), threshold))
    hi = hi if hi > lo else lo + 1
    edges = np.linspace(lo, hi, BINS + 1)
    neg, _ = np.histogram(values[~flags], edges)
    pos, _ = np.histogram(values[flags], edges)
    peak = max(1, int(neg.max(initial=0)), int(pos.max(initial=0)))
    x = lambda v: left + (v - lo) / (hi - lo) * (w - left - 10)  # noqa: E731
    y = lambda n: h - bottom - n / peak * (h - bottom - 20)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="histogram of test scores with the threshold">']
    for counts, colour in ((neg, "#4c78a8"), (pos, "#e4572e")):
        for i, n in enumerate(counts):
            if n:
                width = max(1, x(edges[i + 1]) - x(edges[i]) - 1)
                parts.append(f'<rect x="{x(edges[i]):.1f}" y="{y(n):.1f}" width="{width:.1f}" '
                             f'height="{h - bottom - y(n):.1f}" fill="{colour}" opacity="0.65"/>')
    tx = x(threshold)
    parts += [f'<line x1="{left}" x2="{w - 10}" y1="{h - bottom}" y2="{h - bottom}" stroke="#1f2430"/>',
              f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="14" y2="{h - bottom}" stroke="#1f2430" '
              'stroke-width="2.5" stroke-dasharray="6 4"/>',
              f'<text x="{left}" y="{h - 8}" font-size="13">{escape(f"{lo:.4g}")}</text>',
              f'<text x="{w - 10}" y="{h - 8}" font-size="13" text-anchor="end">{escape(f"{hi:.4g}")}</text>',
              f'<text x="{w / 2}" y="{h - 8}" font-size="13" text-anchor="middle">{escape(label)}</text>',
              f'<text x="{tx + 4:.1f}" y="12" font-size="13">threshold {escape(f"{threshold:.6g}")}</text>',
              f'<text x="{w - 10}" y="28" font-size="13" text-anchor="end"><tspan fill="#3f6a99">'
              f'■ normal ({int((~flags).sum())})</tspan> <tspan fill="#c2410c">■ anomaly '
              f'({int(flags.sum())})</tspan></text>', "</svg>"]
    return "".join(parts)


def _png(image: np.ndarray) -> str:
    from PIL import Image

    array = image[0] if image.shape[0] == 1 else np.transpose(image, (1, 2, 0))
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _matrix(m: dict, split: str, costs: dict | None) -> str:
    ci = m["intervals"]
    rows = (f"<tr><th>{escape(split)}</th><th>called normal</th><th>called anomaly</th></tr>"
            f"<tr><th>truly normal</th><td>TN {m['tn']}</td><td>FP {m['fp']}</td></tr>"
            f"<tr><th>truly anomaly</th><td>FN {m['fn']}</td><td>TP {m['tp']}</td></tr>")
    rates = (f"TPR {_fmt(m['tpr'])}{_ci(ci['tpr'])} · TNR {_fmt(m['tnr'])}{_ci(ci['tnr'])} · "
             f"precision {_fmt(m['precision'])}{_ci(ci['precision'])} · F1 {_fmt(m['f1'])}{_ci(ci['f1'])}")
    cost = ""
    if costs:
        total = costs["false_alarm"] * m["fp"] + costs["miss"] * m["fn"]
        n = m["tp"] + m["fp"] + m["tn"] + m["fn"]
        cost = f"<p>Cost: {total:g} ({1000 * total / n:.4g} per 1,000 images)</p>"
    return f"<table>{rows}</table><p>{rates}</p>{cost}"


def _gallery(decision: Decision, ds: ImageDataset) -> str:
    a, r = decision.a, decision.record
    rows = a.part("test")
    values, flags = a.scores[r.score][rows], a.is_anomaly[rows]
    called = values >= r.value
    out = []
    for title, mask, order in (("False alarms (normal, called anomaly)", called & ~flags, -1),
                               ("Misses (anomaly, called normal)", ~called & flags, 1)):
        picked = rows[mask][np.argsort(order * values[mask], kind="stable")][:GALLERY]
        figures = "".join(
            f'<figure><img alt="" src="{_png(ds.images[int(a.index[row])])}"><figcaption>'
            f'{escape(str(ds.classes[int(a.labels[row])]))} · {a.scores[r.score][row]:.4g}</figcaption></figure>'
            for row in picked)
        out.append(f"<h3>{escape(title)}: {int(mask.sum())}</h3><div class=\"g\">{figures or 'none'}</div>")
    return "".join(out)


def report_html(decision: Decision, settings: Settings, ds: ImageDataset | None = None) -> str:
    run, a, r = decision.run, decision.a, decision.record
    config = run_config(run)
    ds = ds or load_dataset(config.dataset, settings)
    val, test = decision.report("val"), decision.report("test")
    rows = a.part("test")
    spec = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                   for k, v in config.to_dict().items())
    split_rows = "".join(
        f"<tr><td>{s}</td><td>{len(a.part(s)):,}</td><td>{int(a.is_anomaly[a.part(s)].sum()):,}</td></tr>"
        for s in ("val", "test"))
    how = ("set by hand, tuned on the test split" if r.strategy == "manual"
           else f"strategy {r.strategy}, fitted on the {r.split} split")
    costs = (f"<p>Costs: {r.costs['false_alarm']:g} per false alarm, {r.costs['miss']:g} per miss.</p>"
             if r.costs else "")
    budget = f"<p>Budget: at most {r.budget:g} alarms per 1,000 images.</p>" if r.budget is not None else ""
    warnings = "".join(f'<p class="warn">{escape(w)}</p>' for w in decision.warnings)
    trained = ("Trained on the normal classes only." if a.trained_on_normal_only
               else "The run saw the anomaly classes in training.")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Threshold decision: {escape(run.name())}</title><style>{STYLE}</style></head><body>
<h1>Threshold decision: {escape(run.name())}</h1>
<p><b>{escape(r.score)} &ge; {r.value:.6g}</b> is called an anomaly ({escape(how)}).
Saved {escape(r.saved)} by {escape(str(r.by))}; record format {r.format_version}.</p>
{costs}{budget}{warnings}
<h2>Test scores and the threshold</h2>{histogram_svg(a.scores[r.score][rows], a.is_anomaly[rows], r.value, r.score)}
<h2>Confusion matrices</h2>
<p>95% intervals: Wilson score intervals for TPR, TNR and precision; F1 by the delta method on the counts.</p>
<h3>Validation (where strategies are fitted)</h3>{_matrix(val, "val", r.costs)}
<h3>Test (where it is reported)</h3>{_matrix(test, "test", r.costs)}
<h2>Splits and counts</h2><table><tr><th>split</th><th>images</th><th>anomalies</th></tr>{split_rows}</table>
<p>Normal classes: {escape(", ".join(a.view.normal_classes))}. Anomalies: {escape(", ".join(a.view.anomaly_classes))}.
{trained}</p>
<h2>Model and dataset</h2><p>Run {escape(run.id)}; dataset {escape(config.dataset)}
({len(ds.classes)} classes, {len(ds.labels):,} images).</p><table>{spec}</table>
<h2>Errors on the test split at this threshold</h2>{_gallery(decision, ds)}
</body></html>"""


def write_report(decision: Decision, settings: Settings, path: Path) -> Path:
    """Write the report (atomically); a path that cannot be written is one line."""
    from core.errors import UserError

    html = report_html(decision, settings)
    try:
        write_text(Path(path), html)
    except OSError as exc:
        raise UserError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    return Path(path)
