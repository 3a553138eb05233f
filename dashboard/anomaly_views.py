"""Sections of the Anomaly page: the inputs, automatic thresholds, and everything that follows
the threshold slider (histogram, curves, gallery, save and export), drawn inside its fragment."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import streamlit as st

from core.anomaly.decisions import reconstructions, view_rows
from core.anomaly.scores import AnomalyScores, compute_scores, score_names
from core.anomaly.strategies import STRATEGIES, make_strategy
from core.data.dataset import ImageDataset
from core.errors import UserError
from core.runs.results import cache_dir, checkpoint_key
from core.runs.store import Run, read_json, write_json
from core.evaluation.sweep import ThresholdSweep
from dashboard.state import settings
from dashboard.figures import curves_figure, score_histogram_figure
from dashboard.images import display_width, to_display
from dashboard.widgets.threshold_panel import render_threshold_panel

SLIDER = "anomaly_threshold"  # the threshold panel's slider key
CONTEXT = "anomaly_context"  # (run, score, normal classes) the slider value belongs to
STRATEGY = "anomaly_strategy"  # (name, threshold) of the last automatic or default threshold
CLICKED = "anomaly_clicked"  # the automatic threshold button clicked last
VIEWS = {"as is": "as is", "balanced": "balanced", "imbalanced": "imbalanced (3% anomalies)"}
LABELS = {"mean": "mean normal", "f1": "max F1", "youden": "Youden's J", "tnr=0.95": "TNR 95%",
          "percentile=99": "99th percentile", "gmm": "mixture split"}
GALLERY = 8
PER_ROW = 4  # gallery pictures per row, one column each


def _first_load() -> bool:
    """True until the page has shown a threshold in this session: only then does the URL win."""
    return CONTEXT not in st.session_state


def score_ui(kind: str) -> str:
    names = score_names(kind)
    wanted = st.query_params.get("score")
    if st.session_state.get("anomaly_score") not in names:
        st.session_state["anomaly_score"] = (wanted if _first_load() and wanted in names
                                             else "mse")
    score = st.selectbox("Score", list(names), key="anomaly_score")
    st.caption(names[score][0].upper() + names[score][1:] + "; higher means more anomalous.")
    st.query_params["score"] = score
    return score


def view_ui() -> str:
    wanted = st.query_params.get("view")
    if "anomaly_view" not in st.session_state:
        st.session_state["anomaly_view"] = wanted if wanted in VIEWS else "as is"
    view = st.radio("Test set", list(VIEWS), key="anomaly_view", horizontal=True,
                    format_func=VIEWS.get)
    st.caption("Balanced: as many normal test images as anomalies. Imbalanced: every normal image "
               "and anomalies subsampled to 3% (rare, as in production). Fixed seed.")
    if view == "as is":
        st.query_params.pop("view", None)
    else:
        st.query_params["view"] = view
    return view


def normal_classes_ui(run: Run, ds: ImageDataset) -> tuple[str, ...]:
    """The normal classes (the run's by default); stops the page until at least one is chosen."""
    own = tuple(run.config().normal_classes)
    key = f"anomaly_normal_{run.id}"
    if key not in st.session_state:
        wanted = [c for c in st.query_params.get("normal", "").split(",") if c in ds.classes]
        st.session_state[key] = wanted if _first_load() and wanted else [
            c for c in own if c in ds.classes]
    normal = tuple(st.multiselect("Normal classes (the rest are anomalies)", list(ds.classes),
                                  key=key))
    if normal and normal != own:
        st.query_params["normal"] = ",".join(normal)
    else:
        st.query_params.pop("normal", None)
    if not normal:
        st.info(f"{run.name()} was trained on every class: choose which classes are normal; the "
                "others become the anomalies." if not own else
                "Choose at least one normal class.")
        st.stop()
    return normal


def compute_scores_ui(run: Run, ds: ImageDataset, normal: tuple[str, ...]) -> AnomalyScores:
    try:
        with st.spinner("Scoring validation and test images (once per run and normal classes; "
                        "cached with the run)…"):
            scores = compute_scores(run, settings(), normal, ds)
    except UserError as exc:
        st.error(str(exc))
        st.stop()
    if not scores.trained_on_normal_only:
        seen = ", ".join(c for c in scores.view.anomaly_classes)
        st.warning(f"{run.name()} saw the anomaly classes ({seen}) in training: it learned to "
                   "reconstruct them too, so these scores understate how anomalous they look. "
                   "Train on the normal classes only for an honest detector.")
    return scores


@dataclass
class Analysis:
    """One run, score and test view: the rows and sweeps every section draws from."""

    run: Run
    ds: ImageDataset
    a: AnomalyScores
    score: str
    val: np.ndarray  # rows of a: every validation image
    test: np.ndarray  # rows of a: the test images in the chosen view
    sweep: ThresholdSweep  # on the test rows
    strategies: dict  # name -> {"threshold", "warnings", "explanation"}
    bounds: tuple[float, float]

    @property
    def values(self) -> np.ndarray:
        return self.a.scores[self.score]

    def class_name(self, row: int) -> str:
        return str(self.ds.classes[int(self.a.labels[row])])


def _test_rows(a: AnomalyScores, view: str) -> np.ndarray:
    test = a.part("test")
    flags = a.is_anomaly[test]
    if view != "as is" and not (flags.any() and (~flags).any()):
        st.info(f"The {view} view needs both normal and anomalous test images; showing the test "
                "split as is.")
        return test
    return test[view_rows(flags, view, seed=0)]


@st.cache_data(max_entries=32, show_spinner=False)
def fit_strategies(val_scores: np.ndarray, val_is_anomaly: np.ndarray) -> dict:
    """Every automatic threshold fitted on validation; a strategy that cannot fit gives None."""
    out = {}
    bad = int((~np.isfinite(val_scores)).sum())
    for name in STRATEGIES:
        strategy = make_strategy(name)
        if bad:  # scikit-learn's mixture would raise a ValueError on them
            out[name] = {"threshold": None, "explanation": strategy.explanation, "warnings": [
                f"{bad} validation score(s) are NaN or infinite; nothing can be tuned on them."]}
            continue
        try:
            strategy.fit(val_scores, val_is_anomaly)
            threshold, warnings = strategy.threshold_, list(strategy.warnings_)
        except UserError as exc:
            threshold, warnings = None, [str(exc)]
        if threshold is not None and not np.isfinite(threshold):
            threshold, warnings = None, warnings + ["The validation scores are not finite."]
        out[name] = {"threshold": threshold, "warnings": warnings,
                     "explanation": strategy.explanation}
    return out


def analysis_ui(run: Run, ds: ImageDataset, a: AnomalyScores, score: str, view: str) -> Analysis:
    """Rows and sweeps for the page; a sweep the scores cannot support stops it with the reason."""
    test = _test_rows(a, view)
    val = a.part("val")
    values = a.scores[score]
    try:
        sweep = ThresholdSweep(values[test], a.is_anomaly[test])
    except UserError as exc:
        st.error(f"Cannot threshold the {score} scores: {exc}")
        st.stop()
    strategies = fit_strategies(values[val], a.is_anomaly[val])
    fitted = [s["threshold"] for s in strategies.values() if s["threshold"] is not None]
    finite = values[np.isfinite(values)]
    lo, hi = float(finite.min()), float(max([finite.max(), *fitted]))
    return Analysis(run, ds, a, score, val, test, sweep, strategies, (lo, hi))


def saved_path(an: Analysis):
    return cache_dir(an.run, settings()) / f"threshold-{an.score}.json"


def _default_threshold(an: Analysis) -> tuple[float, str]:
    """(threshold, where from): the URL on first load, else a saved one, else max F1 on val."""
    url = st.query_params.get("threshold")
    if _first_load() and url is not None and st.query_params.get("score") == an.score:
        try:
            value = float(url)
            if np.isfinite(value):
                return value, "manual"
        except ValueError:
            pass
    saved = read_json(saved_path(an))
    if (saved and saved.get("score") == an.score
            and isinstance(saved.get("threshold"), (int, float))
            and tuple(saved.get("normal_classes", ())) == an.a.view.normal_classes):
        return float(saved["threshold"]), str(saved.get("strategy", "manual"))
    for name in ("f1", "percentile=99"):
        if an.strategies[name]["threshold"] is not None:
            return an.strategies[name]["threshold"], name
    return float(np.median(an.values[an.test])), "manual"


def prepare_threshold(an: Analysis) -> None:
    """Reset the slider to the default when the run, score or normal classes change."""
    context = (an.run.id, an.score, an.a.view.normal_classes)
    if st.session_state.get(CONTEXT) != context or SLIDER not in st.session_state:
        value, source = _default_threshold(an)
        value = float(np.clip(value, *an.bounds))
        st.session_state[SLIDER] = value
        st.session_state[STRATEGY] = (source, value)
        st.session_state[CONTEXT] = context
        st.session_state.pop(CLICKED, None)


def _apply(an: Analysis, name: str) -> None:
    """Button callback: runs before the script, so it may still set the slider's value."""
    st.session_state[CLICKED] = name
    threshold = an.strategies[name]["threshold"]
    if threshold is not None:
        value = float(np.clip(threshold, *an.bounds))
        st.session_state[SLIDER] = value
        st.session_state[STRATEGY] = (name, value)


def _rates(sweep: ThresholdSweep | None, threshold: float | None) -> list:
    if sweep is None or threshold is None:
        return [None] * 3
    m = sweep.metrics(threshold)
    return [None if v != v else v for v in (m["f1"], m["tpr"], m["tnr"])]


def auto_thresholds_ui(an: Analysis) -> None:
    """One button per strategy (fitted on validation), and how each one does on val and test."""
    cols = st.columns(len(STRATEGIES))
    for col, name in zip(cols, STRATEGIES):
        info = an.strategies[name]
        col.button(LABELS.get(name, name), key=f"auto_{name}", on_click=_apply, args=(an, name),
                   help=info["explanation"], width="stretch")
        col.caption(info["explanation"])
    clicked = st.session_state.get(CLICKED)
    if clicked in an.strategies:
        info = an.strategies[clicked]
        for warning in info["warnings"]:
            st.warning(f"{LABELS.get(clicked, clicked)}: {warning}")
        if info["threshold"] is None:
            st.warning(f"{LABELS.get(clicked, clicked)} could not be fitted; the threshold is "
                       "unchanged.")
    val_flags = an.a.is_anomaly[an.val]
    try:
        val_sweep = ThresholdSweep(an.values[an.val], val_flags)
    except UserError:
        val_sweep = None
    rows = []
    for name, info in an.strategies.items():
        t = info["threshold"]
        rows.append([LABELS.get(name, name), t, *_rates(val_sweep, t), *_rates(an.sweep, t),
                     " ".join(info["warnings"])])
    table = pd.DataFrame(rows, columns=["strategy", "threshold", "val F1", "val TPR", "val TNR",
                                        "test F1", "test TPR", "test TNR", "note"])
    if not table["note"].any():
        table = table.drop(columns="note")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "threshold": st.column_config.NumberColumn(format="%.4g"),
        **{c: st.column_config.NumberColumn(format="%.3f") for c in table.columns[2:8]}})
    st.caption(f"Each threshold is tuned on the validation split ({len(an.val):,} images, "
               f"{int(val_flags.sum()):,} anomalies) and reported on the test split "
               f"({len(an.test):,} images in the current view, {an.sweep.n_pos_:,} anomalies): "
               "nothing here is tuned on test.")


@st.cache_data(max_entries=64, show_spinner=False)
def _reconstruct(run_id: str, checkpoint: str, index: tuple[int, ...], _run: Run,
                 _images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return reconstructions(_run, _images)


def _as_rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def _heat(err: np.ndarray) -> np.ndarray:
    """A grayscale error map (0..255) as black -> red -> yellow -> white."""
    e = err.astype(np.float32) / 255.0
    rgb = np.stack([np.clip(3 * e, 0, 1), np.clip(3 * e - 1, 0, 1), np.clip(3 * e - 2, 0, 1)], -1)
    return (rgb * 255).round().astype(np.uint8)


def _opaque(img: np.ndarray) -> np.ndarray:
    return np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)


def triptychs(images: np.ndarray, recon: np.ndarray, err: np.ndarray,
              gap: int = 4) -> list[np.ndarray]:
    """original | reconstruction | error map, side by side, one RGBA picture per image, with
    transparent gaps (so they read as three pictures on any theme)."""
    out = []
    for o, r, e in zip(to_display(images), to_display(recon), to_display(err)):
        parts = [_opaque(_as_rgb(o)), _opaque(_as_rgb(r)), _opaque(_heat(e if e.ndim == 2
                                                                         else e[..., 0]))]
        space = np.zeros((o.shape[0], gap, 4), np.uint8)
        out.append(np.concatenate([parts[0], space, parts[1], space, parts[2]], axis=1))
    return out


def _gallery(an: Analysis, title: str, rows: np.ndarray, threshold: float,
             pictures: dict[int, np.ndarray]) -> None:
    st.markdown(f"**{title}**")
    if len(rows) == 0:
        st.caption("No images here.")
        return
    _, h, w = an.ds.shape
    values = an.values

    def caption(r: int) -> str:
        called = values[r] >= threshold
        tag = ("FN" if not called else "TP") if an.a.is_anomaly[r] else ("FP" if called else "TN")
        return f"{an.class_name(r)} · {values[r]:.4g} · {tag}"

    for first in range(0, len(rows), PER_ROW):
        for col, r in zip(st.columns(PER_ROW), rows[first:first + PER_ROW]):
            col.image(pictures[int(r)], caption=caption(r), width=3 * display_width(h, w) + 8)


def gallery_ui(an: Analysis, threshold: float) -> None:
    """Most anomalous, closest to the threshold, and wrong: one model call for all of them."""
    rows, values = an.test, an.values[an.test]
    called, truth = values >= threshold, an.a.is_anomaly[rows]
    margin = np.abs(values - threshold)
    fp = rows[called & ~truth][np.argsort(-margin[called & ~truth], kind="stable")]
    fn = rows[~called & truth][np.argsort(-margin[~called & truth], kind="stable")]
    n_fp = min(len(fp), max(GALLERY // 2, GALLERY - len(fn)))
    groups = [("Most anomalous", rows[np.argsort(-values, kind="stable")[:GALLERY]]),
              ("Closest to the threshold", rows[np.argsort(margin, kind="stable")[:GALLERY]]),
              (f"Wrong at this threshold ({len(fp):,} false alarms, {len(fn):,} missed; the most "
               "confident of each)", np.concatenate([fp[:n_fp], fn[:GALLERY - n_fp]]).astype(int))]
    shown = np.unique(np.concatenate([g for _, g in groups]))
    index = an.a.index[shown]
    images = an.ds.images[index]
    recon, err = _reconstruct(an.run.id, checkpoint_key(an.run), tuple(int(i) for i in index),
                              an.run, images)
    pictures = dict(zip(shown.tolist(), triptychs(images, recon, err)))
    st.caption("Each picture: original | reconstruction | error map (per pixel, scaled to the "
               "image's largest error). Caption: class · score · TP/FP/TN/FN at this threshold.")
    for title, group in groups:
        _gallery(an, title, group, threshold, pictures)


def decisions_csv(an: Analysis, threshold: float) -> bytes:
    """Every val and test image: its score and the decision at the threshold."""
    rows = np.concatenate([an.val, an.a.part("test")])
    values = an.values[rows]
    frame = pd.DataFrame({"index": an.a.index[rows], "split": an.a.split[rows],
                          "class": [an.class_name(r) for r in rows],
                          "is_anomaly": an.a.is_anomaly[rows], an.score: values,
                          "decision": np.where(values >= threshold, "anomaly", "normal")})
    return frame.to_csv(index=False).encode()


def save_threshold(an: Analysis, threshold: float) -> dict:
    name, value = st.session_state.get(STRATEGY, ("manual", None))
    record = {"run": an.run.id, "score": an.score, "threshold": float(threshold),
              "normal_classes": list(an.a.view.normal_classes),
              "strategy": name if value is not None and np.isclose(value, threshold, rtol=0,
                                                                   atol=1e-12) else "manual",
              "saved": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_json(saved_path(an), record)
    return record


def _follow(an: Analysis, curves: dict | None, curves_error: str | None):
    """The panel's on_change: everything that follows the slider, inside its fragment."""

    def draw(threshold: float, m: dict) -> None:
        st.query_params["threshold"] = repr(float(threshold))
        test = an.test
        flags = an.a.is_anomaly[test]
        st.plotly_chart(score_histogram_figure(an.values[test][~flags], an.values[test][flags],
                                               threshold, an.score), key="anomaly_histogram")
        st.markdown("**ROC and precision-recall (test, current view)**")
        if curves is None:
            st.info(f"No curves: {curves_error}")
        else:
            cols = st.columns(2)
            cols[0].plotly_chart(curves_figure(
                {an.score: (curves["roc_fpr"], curves["roc_tpr"], curves["roc_auc"])},
                "false positive rate", "true positive rate", diagonal=True,
                point=(m["fpr"], m["tpr"])), key="anomaly_roc")
            cols[1].plotly_chart(curves_figure(
                {an.score: (curves["recall"], curves["precision"], curves["average_precision"])},
                "recall", "precision", diagonal=False, point=(m["tpr"], m["precision"])),
                key="anomaly_pr")
            st.caption(f"ROC AUC {curves['roc_auc']:.4f} · average precision (PR AUC) "
                       f"{curves['average_precision']:.4f}; the cross marks the current threshold.")
        st.subheader("Reconstructions")
        gallery_ui(an, threshold)
        st.subheader("Save and export")
        cols = st.columns(2)
        if cols[0].button("Save threshold with the run", key="anomaly_save",
                          help="The saved threshold is the default next time this run and score "
                               "are opened."):
            record = save_threshold(an, threshold)
            cols[0].success(f"Saved {record['threshold']:.6g} ({record['strategy']}) to "
                            f"{saved_path(an)}")
        cols[1].download_button("Scores and decisions (CSV)", decisions_csv(an, threshold),
                                f"{an.run.id}-{an.score}-decisions.csv", "text/csv",
                                key="anomaly_csv", help="Every validation and test image.")

    return draw


def threshold_ui(an: Analysis) -> None:
    """The shared threshold panel on test scores; histogram, curves and gallery follow it."""
    try:
        curves, curves_error = an.sweep.curves(), None
    except UserError as exc:
        curves, curves_error = None, str(exc)
    test = an.test
    render_threshold_panel(an.sweep, SLIDER, default=st.session_state[SLIDER], score_label=an.score,
                       positive="anomaly", negative="normal",
                       normal_scores=an.values[test][~an.a.is_anomaly[test]], bounds=an.bounds,
                       on_change=_follow(an, curves, curves_error))
