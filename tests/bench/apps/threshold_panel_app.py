"""The threshold panel alone on n synthetic scores (?n=, 10 to 1,000,000), for tests/bench; with
costs (the expected-cost curve) and intervals on unless ?costs=off."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from core.evaluation.sweep import ThresholdSweep  # noqa: E402
from dashboard.widgets.threshold_panel import threshold_panel_ui  # noqa: E402


@st.cache_resource
def _sweep(n: int) -> ThresholdSweep:
    rng = np.random.default_rng(0)
    is_anomaly = rng.random(n) < 0.1
    return ThresholdSweep(rng.normal(size=n) + 2.0 * is_anomaly, is_anomaly)


try:
    n = min(max(int(st.query_params.get("n", "10000")), 10), 1_000_000)
except ValueError:
    n = 10_000
st.set_page_config(layout="wide")
sweep = _sweep(n)
threshold_panel_ui(sweep, "bench_threshold", default=float(np.median(sweep.sorted_scores_)),
                   score_label="score", positive="anomaly", negative="normal",
                   costs=None if st.query_params.get("costs") == "off" else (1.0, 10.0))
