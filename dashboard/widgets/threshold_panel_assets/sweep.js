// The threshold panel's arithmetic, free of the DOM so a test can run it on its own in Chromium:
// decode the sweep table Python sends (core.evaluation.sweep.SweepTable), answer any threshold
// with one binary search, and find the thresholds where a count changes. An image is called
// positive when its score >= the threshold, as in core and scikit-learn.

function decodeBase64(text, ArrayType) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return new ArrayType(bytes.buffer);  // little-endian, as numpy wrote it
}

function decodeTable(t) {
  return {
    thresholds: decodeBase64(t.thresholds, Float64Array),
    below: decodeBase64(t.below, Int32Array),
    positivesBelow: decodeBase64(t.positives_below, Int32Array),
    nPos: t.n_pos, nNeg: t.n_neg, exact: t.exact,
  };
}

// First row whose threshold is >= t (thresholds.length when t is above every score).
function rowAt(table, t) {
  const a = table.thresholds;
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < t) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function countsAtRow(table, k) {
  const inside = k < table.thresholds.length;
  const below = inside ? table.below[k] : table.nPos + table.nNeg;
  const fn = inside ? table.positivesBelow[k] : table.nPos;
  const tn = below - fn;
  return {tp: table.nPos - fn, fp: table.nNeg - tn, tn, fn};
}

function countsAt(table, t) { return countsAtRow(table, rowAt(table, t)); }

// The same definitions as core.evaluation.sweep.Counts.metrics (scikit-learn's zero_division=0).
function metricsOf(c) {
  const {tp, fp, tn, fn} = c;
  const tpr = tp + fn ? tp / (tp + fn) : NaN;
  const tnr = tn + fp ? tn / (tn + fp) : NaN;
  const total = tp + fp + tn + fn;
  return {
    tpr, tnr, fpr: 1 - tnr, recall: tpr,
    precision: tp + fp ? tp / (tp + fp) : 0,
    f1: tp + fp + fn ? 2 * tp / (2 * tp + fp + fn) : 0,
    accuracy: total ? (tp + tn) / total : NaN,
    balancedAccuracy: (tpr + tnr) / 2,
  };
}

// Share of negative (normal) scores below t, in percent; of all scores when there are none.
function percentileOf(table, c) {
  const n = table.nNeg || table.nPos + table.nNeg;
  return 100 * (table.nNeg ? c.tn : c.tn + c.fn) / n;
}

// The threshold a position stands for: any value in an exact table; the nearest row otherwise
// (values beyond the first or last row keep their own counts, so they stay as they are).
function snap(table, t) {
  const a = table.thresholds;
  if (table.exact || !a.length || t <= a[0] || t > a[a.length - 1]) return t;
  const k = rowAt(table, t);
  return t - a[k - 1] < a[k] - t ? a[k - 1] : a[k];
}

// The next threshold (direction +1 up, -1 down) where a count changes, within [lo, hi];
// t itself when there is none.
function stepThreshold(table, t, direction, lo, hi) {
  const a = table.thresholds;
  const k = rowAt(table, t);
  if (direction > 0) {
    if (k + 1 < a.length) return Math.min(a[k + 1], hi);
    return k < a.length && hi > a[a.length - 1] ? hi : t;  // past the last score: all negative
  }
  if (k === 0) return t;
  return Math.max(a[k - 1], lo);
}

// Move by `share` of the negative scores (of all scores when there are none): up, the lowest
// row with at least that many more below it; down, the highest with at least that many fewer.
function pageThreshold(table, t, direction, share, lo, hi) {
  const a = table.thresholds, K = a.length;
  const negBelow = (k) => k < K ? (table.nNeg ? table.below[k] - table.positivesBelow[k]
                                               : table.below[k])
                                : (table.nNeg || table.nPos);
  const k0 = rowAt(table, t);
  const step = Math.max(1, Math.ceil(share * (table.nNeg || table.nPos)));
  let k;
  if (direction > 0) {
    const want = negBelow(k0) + step;
    let l = k0 + 1, h = K;  // first k > k0 with negBelow(k) >= want, else K
    while (l < h) { const m = (l + h) >>> 1; if (negBelow(m) < want) l = m + 1; else h = m; }
    k = l;
    if (k >= K) return hi > a[K - 1] ? hi : Math.min(a[K - 1], hi);
    return Math.min(a[k], hi);
  }
  if (k0 === 0) return t;
  const want = negBelow(k0) - step;
  let l = 0, h = k0 - 1;  // last k < k0 with negBelow(k) <= want, else 0
  while (l < h) { const m = (l + h + 1) >>> 1; if (negBelow(m) <= want) l = m; else h = m - 1; }
  k = l;
  return Math.max(a[k], lo);
}

// 95% intervals from the counts alone, the same as core.evaluation.intervals: Wilson score
// intervals for TPR, TNR and precision (scipy's binomtest(k, n).proportion_ci("wilson")), and for
// F1 the delta method on the counts (var = 4 TP E (TP + E) / (2 TP + E)^4, E = FP + FN), clipped.
const Z95 = 1.959963984540054;

function wilson(k, n) {
  if (!(n > 0)) return [NaN, NaN];
  const p = k / n, z2 = Z95 * Z95, denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = Z95 / denom * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function f1Interval(tp, fp, fn) {
  const e = fp + fn;
  if (2 * tp + e === 0) return [NaN, NaN];
  const f1 = 2 * tp / (2 * tp + e);
  const se = Math.sqrt(4 * tp * e * (tp + e)) / Math.pow(2 * tp + e, 2);
  return [Math.max(0, f1 - Z95 * se), Math.min(1, f1 + Z95 * se)];
}

function intervalsOf(c) {
  return {tpr: wilson(c.tp, c.tp + c.fn), tnr: wilson(c.tn, c.tn + c.fp),
          precision: wilson(c.tp, c.tp + c.fp), f1: f1Interval(c.tp, c.fp, c.fn)};
}

// Expected cost per 1,000 images at these counts: costs = [per false alarm, per miss].
function costOf(c, costs) {
  const n = c.tp + c.fp + c.tn + c.fn;
  return n ? 1000 * (costs[0] * c.fp + costs[1] * c.fn) / n : NaN;
}

// The cost at every row of the table (and above every score): {thresholds, costs, best}, best
// the row of the lowest cost (the highest such row on ties: the fewest alarms).
function costCurve(table, costs) {
  const K = table.thresholds.length, out = new Float64Array(K + 1);
  let best = 0;
  for (let k = 0; k <= K; k++) {
    out[k] = costOf(countsAtRow(table, k), costs);
    if (out[k] <= out[best]) best = k;
  }
  return {costs: out, best};
}
