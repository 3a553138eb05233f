"""The sidebar dataset picker shared by every page that works on a dataset, and the load.

The chosen spec is kept in dashboard.state (as text), so it survives page switches (Streamlit
forgets the state of widgets a page does not draw) and is what runs record.
"""
from __future__ import annotations

import streamlit as st

from core.data.archive import extract_zip
from core.data.dataset import ImageDataset, load_dataset
from core.data.preprocess import CRACKS_RECIPE
from core.data.sources import all_sources
from core.data.sources.base import capability
from core.data.spec import DatasetSpec
from core.errors import UserError
from core.settings import Settings
from dashboard.state import get_spec, set_spec, settings

STEP_CHOICES = ["grayscale", "rgb", "resize:16", "resize:28", "resize:32", "resize:64",
                "blur:1.0", "blur:2.0", "adaptive_threshold:11:2", "invert", "normalize"]
# Selectboxes treat None as "nothing chosen", so "keep"/"auto" stand for a spec's None.
SIZE_CHOICES = ["keep", 8, 16, 28, 32, 64, 128, 227]
MODE_CHOICES = {"auto": "as the files are", "L": "grayscale", "RGB": "RGB"}


def _seed(key: str, value) -> None:
    """Give a widget its value from the stored spec the first time it is drawn on a page."""
    if key not in st.session_state:
        st.session_state[key] = value


def _root_ui(source, spec: DatasetSpec) -> str | None:
    cfg = settings()
    if capability(source, "accepts_zip"):
        how = st.radio("Images from", ["a folder", "an uploaded .zip"], horizontal=True,
                       key="ds_folder_how")
        if how == "an uploaded .zip":
            upload = st.file_uploader("Zip of class folders", type=["zip"], key="ds_zip")
            if upload is None:
                return spec.root if spec.source == source.name else None
            try:
                with st.spinner("Unpacking…"):
                    return str(extract_zip(upload.getvalue(), cfg.uploads_dir, upload.name))
            except UserError as exc:
                st.error(str(exc))
                return None
    where = capability(source, "suggested_root")
    suggested = str((cfg.data_roots[0] / where).resolve()) if where and cfg.data_roots else ""
    key = f"ds_root_{source.name}"  # one per source: switching source does not carry a folder over
    _seed(key, spec.root if spec.source == source.name and spec.root else suggested)
    typed = st.text_input("Folder", key=key, placeholder="a folder of class subfolders",
                          help="Allowed folders: " + ", ".join(str(r) for r in cfg.data_roots))
    if not typed.strip():
        return None
    try:
        return str(cfg.check_path(typed))
    except UserError as exc:
        st.error(str(exc))
        return None


def dataset_picker_ui() -> DatasetSpec | None:
    """Draw the picker in the sidebar; return the chosen spec, or None while it is incomplete."""
    spec = get_spec()
    sources = {s.name: s for s in all_sources()}
    with st.sidebar:
        st.header("Dataset")
        _seed("ds_source", spec.source if spec.source in sources else "digits")
        name = st.selectbox("Source", list(sources), key="ds_source",
                            format_func=lambda n: sources[n].title)
        source = sources[name]
        st.caption(source.description)
        if name != spec.source:
            spec = DatasetSpec(source=name)
        root = _root_ui(source, spec) if source.needs_root else None
        if source.needs_root and root is None:
            return None
        size, mode = None, None
        if capability(source, "resizable"):
            _seed("ds_size", spec.size or "keep")
            size = st.selectbox("Resize to", SIZE_CHOICES, key="ds_size",
                                format_func=lambda s: "keep (all images must match)" if s == "keep"
                                else f"{s} x {s}")
            size = None if size == "keep" else int(size)
            _seed("ds_mode", spec.mode or "auto")
            mode = st.selectbox("Colour", list(MODE_CHOICES), key="ds_mode",
                                format_func=MODE_CHOICES.get)
            mode = None if mode == "auto" else mode
        _seed("ds_classes", ",".join(spec.classes))
        classes = st.text_input("Class subset", key="ds_classes", placeholder="all classes",
                                help="Comma-separated names, e.g. clock,crocodile")
        _seed("ds_steps", list(spec.steps))
        options = STEP_CHOICES + [s for s in st.session_state["ds_steps"] if s not in STEP_CHOICES]
        steps = st.multiselect("Preprocessing steps (in order)", options, key="ds_steps",
                               accept_new_options=True,
                               help="Type e.g. resize:48 or blur:1.5 for other values")
        st.button("Use the cracks recipe", on_click=_use_cracks_recipe,
                  help=" -> ".join(CRACKS_RECIPE))
        with st.expander("Splits"):
            _seed("ds_val", spec.val_fraction)
            val = st.slider("Validation fraction", 0.0, 0.5, key="ds_val", step=0.05)
            _seed("ds_seed", spec.seed)
            seed = st.number_input("Split seed", 0, 10_000, key="ds_seed")
    try:
        chosen = DatasetSpec(source=name, root=root, size=size, mode=mode,
                             classes=tuple(c.strip() for c in classes.split(",") if c.strip()),
                             steps=tuple(steps), val_fraction=float(val), seed=int(seed),
                             test_fraction=spec.test_fraction)
    except UserError as exc:
        st.sidebar.error(str(exc))
        return None
    set_spec(chosen)
    return chosen


def _use_cracks_recipe() -> None:
    st.session_state["ds_steps"] = list(CRACKS_RECIPE)


@st.cache_resource(max_entries=4, show_spinner=False)
def _load(spec_text: str, cfg: Settings, download: bool, _progress=None) -> ImageDataset:
    # Cached as a resource: arrays are shared read-only, never copied per rerun.
    return load_dataset(spec_text, cfg, download=download, keep_raw=True, progress=_progress)


def _load_with_progress(spec: DatasetSpec, download: bool) -> ImageDataset:
    """A progress bar while a folder is read for the first time; gone once loaded."""
    slot = st.empty()

    def report(fraction: float, text: str) -> None:
        slot.progress(min(max(fraction, 0.0), 1.0), text=text)

    with st.spinner(("Downloading and loading " if download else "Loading ") + spec.to_text()):
        ds = _load(spec.to_text(), settings(), download, _progress=report)
    slot.empty()
    return ds


def load_dataset_or_stop(spec: DatasetSpec) -> ImageDataset:
    """Load with a status line; on a user error show it and stop the page."""
    try:
        return _load_with_progress(spec, False)
    except UserError as exc:
        st.error(str(exc))
        source = {s.name: s for s in all_sources()}[spec.source]
        if capability(source, "downloadable"):
            if st.button(f"Download {source.title} into {spec.root}"):
                try:
                    _load_with_progress(spec, True)
                    st.rerun()
                except UserError as download_exc:
                    st.error(str(download_exc))
        st.stop()


def load_picked_dataset_or_stop(
        missing: str = "Choose a folder or upload a zip in the sidebar to see a dataset.") -> ImageDataset:
    """The sidebar picker plus the load: the dataset, or the page stops with guidance."""
    spec = dataset_picker_ui()
    if spec is None:
        st.info(missing)
        st.stop()
    return load_dataset_or_stop(spec)
