// The threshold panel's static drawings, rebuilt only when the payload or the size changes: the
// histogram on the slider's axis and the ROC and PR curves, in SVG. Text goes in as textContent.

const SVG = "http://www.w3.org/2000/svg";
const PAD = {left: 56, right: 14, top: 28, bottom: 40};  // histogram plot area; legend above it
const CURVE_PAD = {left: 44, right: 10, top: 24, bottom: 34};
const CURVE_POINTS = 1200;  // vertices drawn per curve at most

function el(tag, attrs, parent, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function niceTicks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function formatNumber(v, digits = 4) {
  if (!Number.isFinite(v)) return "n/a";
  return String(Number(v.toPrecision(digits)));
}

function formatRate(v) { return Number.isFinite(v) ? v.toFixed(3) : "n/a"; }

function decodePayload(raw) {
  const table = decodeTable(raw.table);
  const K = table.thresholds.length, step = Math.max(1, Math.ceil((K + 1) / CURVE_POINTS));
  const roc = [], pr = [];
  if (table.nPos && table.nNeg) {
    for (let k = 0; k <= K; k = k === K ? K + 1 : Math.min(K, k + step)) {
      const c = countsAtRow(table, k);
      roc.push([c.fp / table.nNeg, c.tp / table.nPos]);
      if (c.tp + c.fp) pr.push([c.tp / table.nPos, c.tp / (c.tp + c.fp)]);
    }
  }
  if (pr.length) pr.push([0, 1]);  // scikit-learn's last point: recall 0, precision 1
  return {table, hist: raw.histogram, auc: raw.auc, roc, pr};
}

// Scale from a score to an x pixel of the histogram (and of the slider under it).
function scoreScale(lo, hi, width) {
  const w = width - PAD.left - PAD.right;
  return (t) => PAD.left + (hi > lo ? (t - lo) / (hi - lo) : 0.5) * w;
}

// Bars of both kinds, axes, ticks and legend; returns the moving parts (shade, line).
function drawHistogram(svg, width, p, lo, hi, labels) {
  const h = svg.clientHeight, {edges, negatives, positives} = p.hist, x = scoreScale(lo, hi, width);
  svg.replaceChildren();
  const bottom = h - PAD.bottom, top = PAD.top;
  const peak = Math.max(1, ...negatives, ...positives);
  const y = (n) => bottom - (n / peak) * (bottom - top);
  const shade = el("rect", {class: "tp-shade", y: top, height: bottom - top}, svg);
  for (const [counts, cls] of [[negatives, "tp-bar-neg"], [positives, "tp-bar-pos"]]) {
    counts.forEach((n, i) => {
      if (!n) return;
      const x0 = x(edges[i]), x1 = x(edges[i + 1]);
      el("rect", {class: cls, x: x0 + 0.5, width: Math.max(1, x1 - x0 - 1), y: y(n),
                  height: bottom - y(n)}, svg);
    });
  }
  el("line", {class: "tp-axis", x1: PAD.left, x2: width - PAD.right, y1: bottom, y2: bottom}, svg);
  el("line", {class: "tp-axis", x1: PAD.left, x2: PAD.left, y1: top, y2: bottom}, svg);
  for (const v of niceTicks(lo, hi, Math.max(3, Math.floor(width / 75)))) {
    el("line", {class: "tp-tick", x1: x(v), x2: x(v), y1: bottom, y2: bottom + 5}, svg);
    el("text", {class: "tp-tick-label", x: x(v), y: bottom + 20, "text-anchor": "middle"},
       svg, formatNumber(v));
  }
  for (const v of niceTicks(0, peak, 3).filter((v) => Number.isInteger(v))) {
    el("text", {class: "tp-tick-label", x: PAD.left - 6, y: y(v) + 5, "text-anchor": "end"},
       svg, v.toLocaleString("en-US"));
  }
  el("text", {class: "tp-axis-title", x: PAD.left + (width - PAD.left - PAD.right) / 2, y: h - 3,
              "text-anchor": "middle"}, svg, labels.score);
  const legend = el("text", {class: "tp-legend", x: width - PAD.right, y: top - 10,
                             "text-anchor": "end"}, svg);
  const count = (n) => n.toLocaleString("en-US");
  el("tspan", {class: "tp-legend-neg"}, legend, `■ ${labels.negative} (${count(p.table.nNeg)})  `);
  el("tspan", {class: "tp-legend-pos"}, legend, `■ ${labels.positive} (${count(p.table.nPos)})`);
  return {shade, line: el("line", {class: "tp-line", y1: top, y2: bottom}, svg)};
}

// One curve ("roc" or "pr") with its frame and ticks; returns {marker, X, Y}, or null when
// there is no room or no curve (only one kind of image).
function drawCurve(svg, name, p) {
  const w = svg.clientWidth, h = svg.clientHeight;
  svg.replaceChildren();
  if (!(w > 0 && h > 0)) return null;
  const {left, right, top, bottom} = CURVE_PAD;
  const X = (v) => left + v * (w - left - right), Y = (v) => h - bottom - v * (h - top - bottom);
  const auc = p.auc;
  const title = name === "roc"
    ? `ROC${auc ? ` · AUC ${auc.roc_auc.toFixed(3)}` : ""}`
    : `precision-recall${auc ? ` · AP ${auc.average_precision.toFixed(3)}` : ""}`;
  el("text", {class: "tp-curve-title", x: left, y: 16}, svg, title);
  el("rect", {class: "tp-frame", x: left, y: top, width: w - left - right, height: h - top - bottom}, svg);
  for (const v of [0, 0.5, 1]) {
    el("text", {class: "tp-tick-label", x: X(v), y: h - bottom + 18, "text-anchor": "middle"}, svg, String(v));
    el("text", {class: "tp-tick-label", x: left - 5, y: Y(v) + 5, "text-anchor": "end"}, svg, String(v));
  }
  el("text", {class: "tp-curve-axis", x: left + (w - left - right) / 2, y: h - 2, "text-anchor": "middle"},
     svg, name === "roc" ? "false positive rate" : "recall (TPR)");
  const points = p[name];
  if (!points.length) {
    el("text", {class: "tp-tick-label", x: X(0.5), y: Y(0.5), "text-anchor": "middle"}, svg,
       "needs both kinds of image");
    return null;
  }
  if (name === "roc") el("line", {class: "tp-chance", x1: X(0), y1: Y(0), x2: X(1), y2: Y(1)}, svg);
  const d = points.map(([a, b], i) => `${i ? "L" : "M"}${X(a).toFixed(1)},${Y(b).toFixed(1)}`).join("");
  el("path", {class: "tp-curve", d}, svg);
  return {marker: el("circle", {class: "tp-marker", r: 7}, svg), X, Y};
}

// The expected cost per 1,000 images against the threshold, on the histogram's x axis, with its
// minimum marked; returns the moving parts (marker), or null when there is no room.
function drawCostCurve(svg, width, p, lo, hi, curve) {
  const h = svg.clientHeight, x = scoreScale(lo, hi, width);
  svg.replaceChildren();
  if (!(width > 0 && h > 0)) return null;
  const top = 18, bottom = h - 6, a = p.table.thresholds, K = a.length, cost = curve.costs;
  let peak = 0;
  for (let k = 0; k <= K; k++) if (cost[k] > peak) peak = cost[k];
  peak = peak || 1;
  const y = (v) => bottom - (v / peak) * (bottom - top);
  const at = (k) => (k < K ? a[k] : hi);
  const step = Math.max(1, Math.ceil((K + 1) / CURVE_POINTS));
  let d = "";
  for (let k = 0; k <= K; k = k === K ? K + 1 : Math.min(K, k + step)) {
    const t = Math.min(Math.max(at(k), lo), hi);
    d += `${d ? "L" : "M"}${x(t).toFixed(1)},${y(cost[k]).toFixed(1)}`;
  }
  el("line", {class: "tp-axis", x1: PAD.left, x2: width - PAD.right, y1: bottom, y2: bottom}, svg);
  el("path", {class: "tp-cost-curve", d}, svg);
  const tb = Math.min(Math.max(at(curve.best), lo), hi);
  el("circle", {class: "tp-cost-min", r: 5, cx: x(tb), cy: y(cost[curve.best])}, svg);
  el("text", {class: "tp-tick-label", x: PAD.left, y: 13}, svg,
     `expected cost per 1,000 images · lowest ${formatNumber(cost[curve.best])} at ${formatNumber(tb, 6)}`);
  const marker = el("circle", {class: "tp-marker", r: 6}, svg);
  return {marker, x, y};
}
