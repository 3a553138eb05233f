// The threshold panel: a histogram with the threshold line, a slider on the same axis, the
// confusion matrix, six rates and the operating point on ROC and PR, all answered here for every
// pointer or key position (sweep.js) and painted in the same frame. Python hears one value per
// release or keyboard commit (the "commit" trigger), and the cell a click (or Enter) picks in the
// matrix (the "cell" trigger). Text from Python goes in as textContent only.

const KEY_COMMIT_MS = 400;  // a burst of key presses is committed once, this long after the last
const PAGE_SHARE = 0.05;  // PageUp/PageDown move by this share of the negative scores
const payloads = new Map();  // payload id -> decoded payload, for this page's lifetime
const MAX_PAYLOADS = 8;
const panels = new WeakMap();  // parentElement -> Panel

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
    this.cellTds = [...parent.querySelectorAll("[data-cell]")];
    this.rates = Object.fromEntries([...parent.querySelectorAll("[data-rate]")]
      .map((dd) => [dd.dataset.rate, dd]));
    this.curveSvgs = {roc: q(".tp-roc"), pr: q(".tp-pr")};
    this.costSvg = q(".tp-cost");
    this.costNow = q(".tp-cost-now");
    this.cis = Object.fromEntries([...parent.querySelectorAll("[data-ci]")]
      .map((dd) => [dd.dataset.ci, dd]));
    this.costs = null;  // [per false alarm, per miss], from Python
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
    this.root.classList.toggle("tp-present", !!data.present);  // projector sizes (panel.css)
    for (const td of this.cellTds)
      td.classList.toggle("tp-picked", td.dataset.cell.toUpperCase() === data.picked);
    const costs = Array.isArray(data.costs) && data.costs.length === 2
      && data.costs.every((v) => Number.isFinite(v) && v >= 0) && (data.costs[0] || data.costs[1])
      ? data.costs : null;
    const fresh = p !== this.p || data.bounds[0] !== this.lo || data.bounds[1] !== this.hi
      || String(costs) !== String(this.costs);
    this.costs = costs;
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
    if (this.width > 0) {
      Object.assign(this, drawHistogram(this.hist, this.width, this.p, this.lo, this.hi, this.labels));
      this.x = scoreScale(this.lo, this.hi, this.width);
    }
    this.curves = {roc: drawCurve(this.curveSvgs.roc, "roc", this.p),
                   pr: drawCurve(this.curveSvgs.pr, "pr", this.p)};
    this.costSvg.classList.toggle("tp-on", !!this.costs);
    this.costCurve = this.costs ? costCurve(this.p.table, this.costs) : null;
    this.costDrawn = this.costs && this.width > 0
      ? drawCostCurve(this.costSvg, this.width, this.p, this.lo, this.hi, this.costCurve) : null;
    if (!this.costs) { this.costSvg.replaceChildren(); this.costNow.textContent = ""; }
    this.show(this.t);
  }

  // ---------------------------------------------------------------- every position
  show(t) {
    if (!this.p || !Number.isFinite(t)) return;
    this.t = t;
    const c = countsAt(this.p.table, t), m = metricsOf(c);
    for (const k of ["tn", "fp", "fn", "tp"]) this.cells[k].textContent = c[k].toLocaleString("en-US");
    for (const [k, dd] of Object.entries(this.rates)) dd.textContent = formatRate(m[k]);
    const ci = intervalsOf(c);
    for (const [k, dd] of Object.entries(this.cis))
      dd.textContent = Number.isFinite(ci[k][0]) ? `[${ci[k][0].toFixed(2)}, ${ci[k][1].toFixed(2)}]` : "";
    if (this.costs) {
      const cost = costOf(c, this.costs);
      this.costNow.textContent = `Expected cost here: ${formatNumber(cost)} per 1,000 images `
        + `(false alarm ${formatNumber(this.costs[0])}, miss ${formatNumber(this.costs[1])}).`;
      if (this.costDrawn) {
        const x = Math.min(Math.max(this.costDrawn.x(t), PAD.left), this.width - PAD.right);
        this.costDrawn.marker.setAttribute("cx", x);
        this.costDrawn.marker.setAttribute("cy", this.costDrawn.y(cost));
      }
    }
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
      const curve = this.curves && this.curves[name];
      if (!curve) continue;
      const ok = Number.isFinite(a) && Number.isFinite(b);
      curve.marker.style.display = ok ? "" : "none";
      if (ok) {
        curve.marker.setAttribute("cx", curve.X(a));
        curve.marker.setAttribute("cy", curve.Y(b));
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
    for (const td of this.cellTds) {  // a cell is a button: its images show below the panel
      const pick = () => this.setTrigger && this.setTrigger("cell", td.dataset.cell.toUpperCase());
      td.addEventListener("click", pick);
      td.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); } });
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
