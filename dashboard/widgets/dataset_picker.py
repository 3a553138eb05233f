"""The sidebar dataset picker shared by every page that works on a dataset.

Every option lives in the session model (dashboard.state), one value per option; the folder,
the class subset and the preprocessing steps per source (they belong to the source they were set
for: a crack recipe set on a folder does not follow to MNIST, and comes back with the folder), and
every widget is drawn on every run (also while the folder is wrong), so nothing
typed is lost when a page changes or an error is fixed. The chosen spec is what runs record.
"""
from __future__ import annotations

import streamlit as st

from core.data.archive import extract_zip
from core.data.dataset import ImageDataset
from core.data.preprocess import CRACKS_RECIPE
from core.data.sources import all_sources
from core.data.sources.base import capability
from core.data.spec import DatasetSpec
from core.errors import UserError
from dashboard import state, url
from dashboard.text import plain
from dashboard.widgets.dataset_loading import load_dataset_or_stop

STEP_CHOICES = ["grayscale", "rgb", "resize:16", "resize:28", "resize:32", "resize:64",
                "blur:1.0", "blur:2.0", "adaptive_threshold:11:2", "invert", "normalize"]
# Selectboxes treat None as "nothing chosen", so "keep"/"auto" stand for a spec's None.
SIZE_CHOICES = ["keep", 8, 16, 28, 32, 64, 128, 227]
MODE_CHOICES = {"auto": "as the files are", "L": "grayscale", "RGB": "RGB"}
HOW = ("a folder", "an uploaded .zip")
DRAFT = "dataset.draft"  # set once the options below were seeded from a spec


def _seed_draft(spec: DatasetSpec) -> None:
    """Fill the picker's options from a spec (the session's first, e.g. from a link)."""
    state.put("dataset.source", spec.source)
    if spec.root:
        state.put(state.keyed("dataset.root", spec.source), spec.root)
    state.put("dataset.size", spec.size or "keep")
    state.put("dataset.mode", spec.mode or "auto")
    state.put(state.keyed("dataset.classes", spec.source), ",".join(spec.classes))
    state.put(state.keyed("dataset.steps", spec.source), list(spec.steps))
    state.put("dataset.val", spec.val_fraction)
    state.put("dataset.seed", spec.seed)
    state.put("dataset.test_fraction", spec.test_fraction)
    state.put("dataset.labels", spec.labels or "")
    state.put(DRAFT, True)


def _unpack(upload, source_name: str) -> str | None:
    """Unpack an upload once (not on every rerun); its folder becomes the source's root."""
    done = state.keyed("dataset.unpacked", source_name)
    if state.get(done, (None,))[0] != upload.file_id:
        try:
            with st.spinner("Unpacking…"):
                folder = extract_zip(upload.getvalue(), state.settings().uploads_dir, upload.name)
        except UserError as exc:
            st.error(plain(exc))
            return None
        state.put(done, (upload.file_id, str(folder), upload.name))
    return state.get(done)[1]


def _root_ui(source) -> str | None:
    """The folder (typed, or an unpacked upload), checked against the allowed roots."""
    cfg = state.settings()
    root_name = state.keyed("dataset.root", source.name)
    how = HOW[0]
    if capability(source, "accepts_zip"):
        how = state.bound(st.radio, "ds_folder_how", state.keyed("dataset.how", source.name),
                          "Images from", HOW, default=HOW[0], horizontal=True)
    if how == HOW[0]:
        typed = _typed_root_ui(source, root_name, cfg)
    else:
        upload = st.file_uploader("Zip of class folders", type=["zip"], key="ds_zip")
        unpacked = state.get(state.keyed("dataset.unpacked", source.name))
        if upload is not None:
            if _unpack(upload, source.name) is None:
                return None
        elif unpacked:  # the uploader forgets its file on another page; the folder stays
            st.caption("Using the images unpacked from")
            st.text(unpacked[2])
        unpacked = state.get(state.keyed("dataset.unpacked", source.name))
        typed = unpacked[1] if unpacked else ""
    if not typed.strip():
        return None
    try:
        return str(cfg.check_path(typed.strip()))
    except UserError as exc:
        st.error(plain(exc))
        return None


def _typed_root_ui(source, root_name: str, cfg) -> str:
    where = capability(source, "suggested_root")
    suggested = str((cfg.data_roots[0] / where).resolve()) if where and cfg.data_roots else ""
    return state.bound(st.text_input, f"ds_root_{source.name}", root_name, "Folder",
                       default=suggested, placeholder="a folder of class subfolders",
                       help="Allowed folders: " + ", ".join(str(r) for r in cfg.allowed_roots))


def _resize_ui() -> tuple[int | None, str | None]:
    size = state.bound(st.selectbox, "ds_size", "dataset.size", "Resize to", SIZE_CHOICES,
                       default="keep", valid=lambda v: v in SIZE_CHOICES,
                       format_func=lambda s: "keep (all images must match)" if s == "keep"
                       else f"{s} x {s}")
    mode = state.bound(st.selectbox, "ds_mode", "dataset.mode", "Colour", list(MODE_CHOICES),
                       default="auto", valid=lambda v: v in MODE_CHOICES,
                       format_func=MODE_CHOICES.get)
    return (None if size == "keep" else int(size)), (None if mode == "auto" else mode)


def _steps_ui(source_name: str) -> list[str]:
    """The source's own steps (another source's never carry over)."""
    name = state.keyed("dataset.steps", source_name)
    chosen = list(state.get(name, []))
    options = STEP_CHOICES + [s for s in chosen if s not in STEP_CHOICES]
    steps = state.bound(st.multiselect, "ds_steps", name,
                        "Preprocessing steps (in order)", options, default=[],
                        accept_new_options=True,
                        help="Type e.g. resize:48 or blur:1.5 for other values")
    st.button("Use the crack-photo recipe", on_click=state.put,
              args=(name, list(CRACKS_RECIPE)),
              help="For photos of surfaces: " + " -> ".join(CRACKS_RECIPE))
    return steps


def dataset_picker_ui() -> DatasetSpec | None:
    """Draw the picker in the sidebar; return the chosen spec, or None while it is incomplete."""
    if not state.has(DRAFT):
        _seed_draft(state.get_spec())
    sources = {s.name: s for s in all_sources()}
    with st.sidebar:
        st.header("Dataset")
        name = state.bound(st.selectbox, "ds_source", "dataset.source", "Source", list(sources),
                           default="digits", valid=lambda v: v in sources,
                           format_func=lambda n: sources[n].title)
        source = sources[name]
        st.caption(source.description)
        root = _root_ui(source) if source.needs_root else None
        size, mode = _resize_ui() if capability(source, "resizable") else (None, None)
        classes = state.bound(st.text_input, "ds_classes", state.keyed("dataset.classes", name),
                              "Class subset",
                              default="", placeholder="all classes",
                              help="Comma-separated names, e.g. clock,crocodile")
        steps = _steps_ui(name)
        with st.expander("Splits"):
            val = state.bound(st.slider, "ds_val", "dataset.val", "Validation fraction", 0.0, 0.5,
                              default=0.1, step=0.05)
            seed = state.bound(st.number_input, "ds_seed", "dataset.seed", "Split seed", 0,
                               10_000, default=0)
            labels = state.bound(st.text_input, "ds_labels", "dataset.labels", "Decisions file",
                                 default="", placeholder="none, e.g. fixes.csv",
                                 help="keep / relabel / exclude per image, written on the Audit page")
    if source.needs_root and root is None:
        return None
    try:
        chosen = DatasetSpec(source=name, root=root, size=size, mode=mode,
                             classes=tuple(c.strip() for c in classes.split(",") if c.strip()),
                             steps=tuple(steps), val_fraction=float(val), seed=int(seed),
                             test_fraction=float(state.get("dataset.test_fraction", 0.2)),
                             labels=labels.strip() or None)
    except UserError as exc:
        st.sidebar.error(plain(exc))
        return None
    state.set_spec(chosen)
    url.show(dataset=chosen.to_text())
    return chosen


def load_picked_dataset_or_stop(
        missing: str = "Choose a folder or upload a zip in the sidebar to see a dataset.") -> ImageDataset:
    """The sidebar picker plus the load: the dataset, or the page stops with guidance."""
    spec = dataset_picker_ui()
    if spec is None:
        st.info(missing)
        st.stop()
    return load_dataset_or_stop(spec)
