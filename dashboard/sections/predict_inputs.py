"""The Predict page's inputs: the run's detector, the score, the threshold (the one saved with the
run, a strategy fitted on its validation split, or a value), the images (dropped, or a folder
inside the data roots), and predicting them with a progress bar. The scores are kept for the
page's reruns: a new threshold only re-decides them."""
from __future__ import annotations

import re

import streamlit as st

from core.anomaly.decisions import default_threshold
from core.anomaly.strategies import fit_all, offered_strategies
from core.anomaly.strategies import title as strategy_title
from core.data.sources.folder import IMAGE_SUFFIXES
from core.errors import UserError
from core.predict.apply import predict_images
from core.predict.conformal import fdr_sentence
from core.predict.detector import PROBABILITY, RunDetector
from core.predict.inputs import NewImages, from_folder
from core.predict.result import PredictResult
from core.predict.thresholds import SAVED, ThresholdChoice, fit_strategy, resolve_threshold
from core.predict.uploads import save_uploads
from core.runs.results import checkpoint_key
from core.runs.store import Run
from dashboard.state import settings

RESULT = "predict_result"  # (what was predicted, PredictResult, NewImages) of the last prediction
FROM, FOLDER = "predict_from", "predict_folder"  # widget keys
KEPT = {FROM: "predict_kept_from", FOLDER: "predict_kept_folder"}  # their values, kept across pages
HOW = {"saved": "saved with the run", "strategy": "a strategy (fitted on validation)",
       "argmax": "the most probable class", "value": "a value"}


def plain(text: str) -> str:
    """Text shown as it is: Markdown and HTML characters in user-provided names escaped."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|:$~&=^])", r"\\\1", str(text))


@st.cache_resource(max_entries=4, show_spinner=False)
def _detector(run_id: str, checkpoint: str, workspace: str, _run: Run) -> RunDetector:
    return RunDetector(_run, settings())


def detector_or_stop(run: Run) -> RunDetector:
    try:
        return _detector(run.id, checkpoint_key(run), str(settings().workspace), run)
    except UserError as exc:
        st.error(plain(exc))
        st.stop()


def score_ui(detector: RunDetector) -> str | None:
    """The anomaly score (the one saved last by default); None for a classifier."""
    if not detector.kind.has_decoder:
        return None
    names = list(detector.score_names())
    key = f"predict_score_{detector.run.id}"
    if st.session_state.get(key) not in names:
        st.session_state[key] = detector.default_score()
    return st.selectbox("Score", names, key=key)


def threshold_ui(detector: RunDetector, score: str | None) -> ThresholdChoice:
    """The saved threshold (shown with where it came from), or a strategy, or a value; stops the
    page with the reason when the chosen one cannot be had."""
    target = score or PROBABILITY
    saved = detector.saved_threshold(target)
    if saved is not None:
        positive = saved.params.get("positive", detector.classes[1])
        st.success(plain(f"Saved threshold: {saved.describe()}" if score else
                         f"Saved threshold: P({positive}) >= {saved.value:.6g}"))
    elif detector.kind.has_decoder and not detector.normal_classes:
        st.info("This run was trained on every class and no threshold was saved for it: choose "
                "its normal classes on the Anomaly page and save a threshold there, or give a "
                "value.")
    elif detector.kind.has_decoder:
        st.info(f"No threshold saved with this run for {score}: tune one on the Anomaly page and "
                "save it, or use a strategy fitted on the validation split, or a value.")
    if detector.kind.predicts_classes and len(detector.classes) != 2:
        return resolve_threshold(detector, None, SAVED)  # the most probable class
    options = [h for h in HOW if (h != "saved" or saved is not None)
               and (h != "argmax" or detector.kind.predicts_classes)]
    if detector.kind.predicts_classes or not detector.normal_classes:
        options = [h for h in options if h != "strategy"]  # nothing to fit a strategy on
    how = st.radio("Threshold", options, key=f"predict_how_{detector.run.id}_{target}",
                   horizontal=True, format_func=HOW.get)
    try:
        if how == "strategy":
            names = list(offered_strategies())
            name = st.selectbox("Strategy", names, key="predict_strategy",
                                index=names.index("f1") if "f1" in names else 0,
                                format_func=strategy_title)
            return fit_strategy(detector, score, name)
        if how == "value":
            value = st.number_input("Threshold value", value=_start_value(detector, score, saved),
                                    format="%.6g",
                                    key=f"predict_value_{detector.run.id}_{target}")
            return resolve_threshold(detector, score, repr(float(value)))
        return resolve_threshold(detector, score, how)  # saved, or argmax (a classifier)
    except UserError as exc:
        st.error(plain(exc))
        st.stop()


def _start_value(detector: RunDetector, score: str | None, saved) -> float:
    """Where the value box starts: as the Anomaly page's slider does (saved, else max F1 on
    validation, else a percentile, else the median test score); 0.5 for a probability."""
    if score is None or not detector.normal_classes:
        return saved.value if saved else 0.5 if score is None else 0.0
    val, val_is_anomaly = detector.reference_scores(score, "val")
    test, _ = detector.reference_scores(score, "test")
    return float(default_threshold(fit_all(val, val_is_anomaly), saved, test)[0])


def images_ui() -> NewImages | None:
    """Dropped images or .zip files, or a folder typed inside the data roots; None until given."""
    for key in (FROM, FOLDER):  # a widget's state is dropped on other pages: seed it back
        if key not in st.session_state and KEPT.get(key) in st.session_state:
            st.session_state[key] = st.session_state[KEPT[key]]
    how = st.radio("Images from", ["upload", "folder"], horizontal=True, key=FROM,
                   format_func={"upload": "dropped files or a .zip",
                                "folder": "a folder inside the data roots"}.get)
    st.session_state[KEPT[FROM]] = how
    cfg = settings()
    try:
        if how == "upload":
            files = st.file_uploader("Images or .zip files", accept_multiple_files=True,
                                     type=sorted(s.lstrip(".") for s in IMAGE_SUFFIXES) + ["zip"],
                                     key="predict_upload")
            if not files:
                return None
            folder = save_uploads([(f.name, f) for f in files], cfg.uploads_dir)  # streamed
            return from_folder(folder, f"{len(files)} dropped file(s)")
        typed = st.text_input("Folder", key=FOLDER,
                              placeholder="a folder of images, any depth",
                              help="Allowed folders: " + ", ".join(map(str, cfg.data_roots)))
        st.session_state[KEPT[FOLDER]] = typed
        if not typed.strip():
            return None
        path = cfg.check_path(typed)
        if not path.is_dir():
            raise UserError(f"{typed} is not a folder")
        return from_folder(path, str(path), cfg.data_roots)
    except UserError as exc:
        st.error(plain(exc))
        return None


def predict_or_stop(run: Run, detector: RunDetector, images: NewImages,
                    choice: ThresholdChoice) -> PredictResult:
    """The images predicted once per (run, checkpoint, score, input), with a progress bar; later
    reruns re-decide the kept scores at the current threshold."""
    first = str(images.paths[0]) if images.paths else ""
    key = (run.id, checkpoint_key(run), choice.score, images.where, first, len(images))
    if st.button("Predict again", key="predict_again", help="Read the images again (a folder "
                 "whose files changed)."):
        st.session_state.pop(RESULT, None)
    kept = st.session_state.get(RESULT)
    if kept is not None and kept[0] == key:
        return _fdr_ui(kept[1].with_threshold(choice))
    bar = st.progress(0.0, text="Reading and scoring the images…")
    try:
        result = predict_images(detector, images, choice,
                                progress=lambda f, text: bar.progress(min(f, 1.0), text=text))
    except UserError as exc:
        st.error(plain(exc))
        st.stop()
    finally:
        bar.empty()
    st.session_state[RESULT] = (key, result, images)
    return _fdr_ui(result)


def _fdr_ui(result: PredictResult) -> PredictResult:
    """Optionally flag by Benjamini-Hochberg on the images' conformal p-values (against the
    normal validation scores) instead of the threshold, saying what that promises."""
    if not result.kind.has_decoder or result.calibration is None:
        return result
    if not st.toggle("Flag by false-discovery rate instead (Benjamini-Hochberg on p-values)",
                     key="predict_fdr_on", help="Each image's p-value says how unusual its score "
                     "would be for a normal image of the validation split."):
        return result
    q = st.number_input("False-discovery level Q", min_value=0.001, max_value=0.5, value=0.05,
                        step=0.01, format="%.3g", key="predict_fdr")
    try:
        result = result.with_fdr(float(q))
    except UserError as exc:
        st.error(plain(exc))
        return result
    sentence = fdr_sentence(float(q), result.flagged())
    st.caption(plain(sentence[0].upper() + sentence[1:] + "."))
    return result
