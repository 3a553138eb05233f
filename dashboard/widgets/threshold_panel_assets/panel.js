// The threshold panel: a histogram with the threshold line, a slider on the same axis, the
// confusion matrix, six rates and the operating point on ROC and PR, all answered here for every
// pointer or key position (sweep.js) and painted in the same frame. Python hears one value per
// release or keyboard commit (the "commit" trigger). Text from Python goes in as textContent only.

const SVG = "http://www.w3.org/2000/svg";
const PAD = {left: 56, right: 14, top: 28, bottom: 40};  // histogram plot area; legend above it
const CURVE_PAD = {left: 44, right: 10, top: 24, bottom: 34};
const CURVE_POINTS = 1200;  // vertices drawn per curve at most
const KEY_COMMIT_MS = 400;  // a burst of key presses is committed once, this long after the last
const PAGE_SHARE = 0.05;  // PageUp/PageDown move by this share of the negative scores
const payloads = new Map();  // payload id -> decoded payload, for this page's lifetime
const MAX_PAYLOADS = 8;
const panels = new WeakMap();  // parentElement -> Panel

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

class Panel {
  constructor(parent) {
    const q = (s) => parent.querySelector(s);
    this.root = q(".tp");
    this.hist = q(".tp-hist");
    this.track = q(".tp-track");
    this.thumb = q(".tp-thumb");
    this.input = q(".tp-input");
    this.error = q(".tp-error");
    this.percentile = q(".tp-percentile");
    this.cells = Object.fromEntries([...parent.querySelectorAll("[data-cell]")]
      .map((td) => [td.dataset.cell, td.querySelector("b")]));
    this.rates = Object.fromEntries([...parent.querySelectorAll("[data-rate]")]
      .map((dd) => [dd.dataset.rate, dd]));
    this.curveSvgs = {roc: q(".tp-roc"), pr: q(".tp-pr")};
    this.parent = parent;
    this.t = NaN;
    this.serverValue = undefined;  // what Python holds, as far as this panel knows
    this.lastDataValue = undefined;
    this.dragging = false;
    this.keyTimer = null;
    this.listen();
    this.resize = new ResizeObserver(() => this.redraw());
    this.resize.observe(this.root);
  }

  update(data, setTrigger) {
    this.setTrigger = setTrigger;
    if (!data) return;
    let p = payloads.get(data.id);
    if (!p && data.payload) {
      p = decodePayload(data.payload);
      payloads.set(data.id, p);
      while (payloads.size > MAX_PAYLOADS) payloads.delete(payloads.keys().next().value);
    }
    if (!p) {  // Python believes this page has it (a cache this page no longer holds): ask again
      if (this.requested !== data.id) { this.requested = data.id; setTrigger("missing", data.id); }
      return;
    }
    for (const [cls, text] of [[".tp-score", data.labels.score],
                               [".tp-positive", data.labels.positive]])
      this.parent.querySelector(cls).textContent = text;
    this.parent.querySelectorAll(".tp-pos-name").forEach((n) => n.textContent = data.labels.positive);
    this.parent.querySelectorAll(".tp-neg-name").forEach((n) => n.textContent = data.labels.negative);
    this.labels = data.labels;
    const fresh = p !== this.p || data.bounds[0] !== this.lo || data.bounds[1] !== this.hi;
    this.p = p;
    [this.lo, this.hi] = data.bounds;
    this.track.setAttribute("aria-valuemin", String(this.lo));
    this.track.setAttribute("aria-valuemax", String(this.hi));
    const moved = data.value !== this.lastDataValue && data.value !== this.serverValue;
    this.lastDataValue = data.value;
    if (fresh || (moved && !this.dragging)) {
      this.serverValue = data.value;
      this.t = snap(p.table, data.value);
    }
    if (fresh) this.redraw(); else this.show(this.t);
  }

  // ---------------------------------------------------------------- static drawing (per size)
  redraw() {
    if (!this.p) return;
    this.width = this.hist.clientWidth;
    if (this.width > 0) this.drawHistogram();
    for (const name of ["roc", "pr"]) this.drawCurve(name);
    this.show(this.t);
  }

  x(t) {
    const w = this.width - PAD.left - PAD.right;
    return PAD.left + (this.hi > this.lo ? (t - this.lo) / (this.hi - this.lo) : 0.5) * w;
  }

  drawHistogram() {
    const svg = this.hist, h = svg.clientHeight, {edges, negatives, positives} = this.p.hist;
    svg.replaceChildren();
    const bottom = h - PAD.bottom, top = PAD.top;
    const peak = Math.max(1, ...negatives, ...positives);
    const y = (n) => bottom - (n / peak) * (bottom - top);
    this.shade = el("rect", {class: "tp-shade", y: top, height: bottom - top}, svg);
    for (const [counts, cls] of [[negatives, "tp-bar-neg"], [positives, "tp-bar-pos"]]) {
      counts.forEach((n, i) => {
        if (!n) return;
        const x0 = this.x(edges[i]), x1 = this.x(edges[i + 1]);
        el("rect", {class: cls, x: x0 + 0.5, width: Math.max(1, x1 - x0 - 1), y: y(n),
                    height: bottom - y(n)}, svg);
      });
    }
    el("line", {class: "tp-axis", x1: PAD.left, x2: this.width - PAD.right, y1: bottom, y2: bottom}, svg);
    el("line", {class: "tp-axis", x1: PAD.left, x2: PAD.left, y1: top, y2: bottom}, svg);
    const xTicks = niceTicks(this.lo, this.hi, Math.max(3, Math.floor(this.width / 75)));
    for (const v of xTicks) {
      el("line", {class: "tp-tick", x1: this.x(v), x2: this.x(v), y1: bottom, y2: bottom + 5}, svg);
      el("text", {class: "tp-tick-label", x: this.x(v), y: bottom + 20, "text-anchor": "middle"},
         svg, formatNumber(v));
    }
    for (const v of niceTicks(0, peak, 3).filter((v) => Number.isInteger(v))) {
      el("text", {class: "tp-tick-label", x: PAD.left - 6, y: y(v) + 5, "text-anchor": "end"},
         svg, v.toLocaleString("en-US"));
    }
    el("text", {class: "tp-axis-title", x: PAD.left + (this.width - PAD.left - PAD.right) / 2,
                y: h - 3, "text-anchor": "middle"}, svg, this.labels.score);
    const legend = el("text", {class: "tp-legend", x: this.width - PAD.right, y: top - 10,
                               "text-anchor": "end"}, svg);
    el("tspan", {class: "tp-legend-neg"}, legend, `■ ${this.labels.negative} (${this.p.table.nNeg.toLocaleString("en-US")})  `);
    el("tspan", {class: "tp-legend-pos"}, legend, `■ ${this.labels.positive} (${this.p.table.nPos.toLocaleString("en-US")})`);
    this.line = el("line", {class: "tp-line", y1: top, y2: bottom}, svg);
  }

  drawCurve(name) {
    const svg = this.curveSvgs[name], w = svg.clientWidth, h = svg.clientHeight;
    svg.replaceChildren();
    this[name + "Marker"] = null;
    if (!(w > 0 && h > 0)) return;
    const {left, right, top, bottom} = CURVE_PAD;
    const X = (v) => left + v * (w - left - right), Y = (v) => h - bottom - v * (h - top - bottom);
    const auc = this.p.auc;
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
    const points = this.p[name];
    if (!points.length) {
      el("text", {class: "tp-tick-label", x: X(0.5), y: Y(0.5), "text-anchor": "middle"}, svg,
         "needs both kinds of image");
      return;
    }
    if (name === "roc") el("line", {class: "tp-chance", x1: X(0), y1: Y(0), x2: X(1), y2: Y(1)}, svg);
    const d = points.map(([a, b], i) => `${i ? "L" : "M"}${X(a).toFixed(1)},${Y(b).toFixed(1)}`).join("");
    el("path", {class: "tp-curve", d}, svg);
    this[name + "Marker"] = el("circle", {class: "tp-marker", r: 7}, svg);
    this[name + "Scale"] = [X, Y];
  }

  // ---------------------------------------------------------------- every position
  show(t) {
    if (!this.p || !Number.isFinite(t)) return;
    this.t = t;
    const c = countsAt(this.p.table, t), m = metricsOf(c);
    for (const k of ["tn", "fp", "fn", "tp"]) this.cells[k].textContent = c[k].toLocaleString("en-US");
    for (const [k, dd] of Object.entries(this.rates)) dd.textContent = formatRate(m[k]);
    const pct = percentileOf(this.p.table, c);
    const among = this.p.table.nNeg ? this.labels.negative : "all";
    this.percentile.textContent = `Percentile among the ${among} scores: ${pct.toFixed(1)} `
      + `(that share of ${among} images scores below ${formatNumber(t, 6)}).`;
    if (this.width > 0) {
      const x = Math.min(Math.max(this.x(t), PAD.left), this.width - PAD.right);
      this.line.setAttribute("x1", x);
      this.line.setAttribute("x2", x);
      this.shade.setAttribute("x", x);
      this.shade.setAttribute("width", Math.max(0, this.width - PAD.right - x));
      this.thumb.style.transform = `translateX(${x}px)`;
    }
    for (const [name, a, b] of [["roc", m.fpr, m.tpr], ["pr", m.recall, m.precision]]) {
      const marker = this[name + "Marker"];
      if (!marker) continue;
      const ok = Number.isFinite(a) && Number.isFinite(b);
      marker.style.display = ok ? "" : "none";
      if (ok) {
        const [X, Y] = this[name + "Scale"];
        marker.setAttribute("cx", X(a));
        marker.setAttribute("cy", Y(b));
      }
    }
    this.track.setAttribute("aria-valuenow", String(t));
    this.track.setAttribute("aria-valuetext", formatNumber(t, 6));
    this.root.dataset.threshold = String(t);
    if ((this.parent.activeElement ?? document.activeElement) !== this.input) this.input.value = formatNumber(t, 6);
  }

  // ---------------------------------------------------------------- input
  commit() {
    clearTimeout(this.keyTimer);
    this.keyTimer = null;
    if (!Number.isFinite(this.t) || this.t === this.serverValue) return;
    this.serverValue = this.t;
    this.setTrigger("commit", this.t);
  }

  valueAt(clientX) {
    const w = this.width - PAD.left - PAD.right;
    const f = Math.min(1, Math.max(0, (clientX - this.dragLeft - PAD.left) / w));
    return snap(this.p.table, this.lo + f * (this.hi - this.lo));
  }

  listen() {
    const start = (e) => {
      if (!this.p || e.button > 0) return;
      e.preventDefault();
      this.dragging = true;
      this.dragLeft = this.track.getBoundingClientRect().left;  // once: no layout per move
      e.currentTarget.setPointerCapture(e.pointerId);
      this.track.focus({preventScroll: true});
      this.error.textContent = "";
      this.show(this.valueAt(e.clientX));
    };
    const move = (e) => { if (this.dragging) this.show(this.valueAt(e.clientX)); };
    const end = () => { if (this.dragging) { this.dragging = false; this.commit(); } };
    for (const target of [this.track, this.hist]) {
      target.addEventListener("pointerdown", start);
      target.addEventListener("pointermove", move);
      target.addEventListener("pointerup", end);
      target.addEventListener("pointercancel", end);
    }
    this.track.addEventListener("keydown", (e) => this.key(e));
    this.track.addEventListener("blur", () => { if (this.keyTimer) this.commit(); });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); this.typed(); }
      if (e.key === "Escape") { this.error.textContent = ""; this.input.value = formatNumber(this.t, 6); }
    });
  }

  key(e) {
    if (!this.p) return;
    const table = this.p.table, {lo, hi} = this;
    const moves = {
      ArrowRight: () => stepThreshold(table, this.t, 1, lo, hi),
      ArrowUp: () => stepThreshold(table, this.t, 1, lo, hi),
      ArrowLeft: () => stepThreshold(table, this.t, -1, lo, hi),
      ArrowDown: () => stepThreshold(table, this.t, -1, lo, hi),
      PageUp: () => pageThreshold(table, this.t, 1, PAGE_SHARE, lo, hi),
      PageDown: () => pageThreshold(table, this.t, -1, PAGE_SHARE, lo, hi),
      Home: () => lo,
      End: () => hi,
    };
    if (e.key === "Enter") { e.preventDefault(); this.commit(); return; }
    if (!(e.key in moves)) return;
    e.preventDefault();
    this.error.textContent = "";
    this.show(moves[e.key]());
    clearTimeout(this.keyTimer);
    this.keyTimer = setTimeout(() => this.commit(), KEY_COMMIT_MS);
  }

  typed() {
    const text = this.input.value.trim();
    const value = text === "" ? NaN : Number(text);
    if (!Number.isFinite(value)) {
      this.error.textContent = `"${text}" is not a number; the threshold stays ${formatNumber(this.t, 6)}.`;
      return;
    }
    if (value < this.lo || value > this.hi) {
      this.error.textContent = `${text} is outside the slider's range, ${formatNumber(this.lo, 6)}`
        + ` to ${formatNumber(this.hi, 6)}; the threshold stays ${formatNumber(this.t, 6)}.`;
      return;
    }
    const snapped = snap(this.p.table, value);
    this.error.textContent = snapped === value ? "" : `${text} is between the `
      + `${this.p.table.thresholds.length.toLocaleString("en-US")} tabulated thresholds; the `
      + `nearest, ${formatNumber(snapped, 6)}, is used.`;
    this.show(snapped);
    this.commit();
  }

  destroy() {
    this.resize.disconnect();
    clearTimeout(this.keyTimer);
  }
}

export default function (component) {
  const {data, parentElement, setTriggerValue} = component;
  let panel = panels.get(parentElement);
  if (!panel) {
    panel = new Panel(parentElement);
    panels.set(parentElement, panel);
  }
  panel.update(data, setTriggerValue);
  return () => { panel.destroy(); panels.delete(parentElement); };
}
