"""What every Latent page section shares: the run's `Space` (its codes, centres and distances,
computed in core.latent.geometry.LatentSpace) and how a grid of images is labelled."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.data.dataset import ImageDataset
from core.errors import UserError
from core.latent.features import Features, extract
from core.latent.geometry import LatentSpace
from core.runs.results import checkpoint_key
from core.runs.store import Run
from core.training.config import run_config
from dashboard.images import gallery_png, to_display
from dashboard.state import settings
from dashboard.text import plain

GALLERY = 60  # images per grid; a caption says how many there were


@dataclass
class Space(LatentSpace):
    """A run's LatentSpace, with the run and a key for the Streamlit caches."""

    run: Run
    key: str  # identifies (workspace, run, checkpoint, dataset)


def lines(*parts) -> str:
    """A multi-line st.image caption (captions are markdown: two spaces before a newline break it)."""
    return "  \n".join(str(p) for p in parts)


def show_gallery(ds: ImageDataset, rows: np.ndarray, labels: list[tuple]) -> None:
    """Images of dataset rows as one picture, each labelled by its tuple of parts, one line per
    part drawn as pixels (a class name is never Markdown): one encode and one request, where
    an st.image list costs one of each per image."""
    st.image(gallery_png(to_display(ds.images[rows]), ["\n".join(map(str, parts)) for parts in labels],
                         label_lines=max(len(parts) for parts in labels)), width="content")


@st.cache_resource(max_entries=4, show_spinner=False)
def _features(key: str, _run: Run, _ds: ImageDataset) -> Features:
    return extract(_run, settings(), _ds)  # cached on disk too; this keeps it in memory


def load_space_or_stop(run: Run, ds: ImageDataset) -> Space:
    """The codes of every image (computed once per run, then cached); a user error, or codes
    that do not match the dataset, stop the page with the reason."""
    key = f"{settings().workspace}|{run.id}|{checkpoint_key(run)}|{run_config(run).dataset}"
    try:
        with st.spinner("Computing the codes of every image (once per run; cached)…"):
            features = _features(key, run, ds)
    except UserError as exc:
        st.error(plain(exc))
        st.stop()
    if len(features.codes) != len(ds.images):
        st.error("The cached codes do not match the dataset; delete the run's cache and reload.")
        st.stop()
    return Space(ds, features, run, key)


def show_grid(ds: ImageDataset, rows: np.ndarray, label, what: str) -> None:
    """Up to GALLERY images of dataset rows, each labelled by label(i, row) (a tuple of lines)
    for the i-th shown."""
    if len(rows) == 0:
        st.caption(f"No {what}.")
        return
    more = f"; showing the first {GALLERY}" if len(rows) > GALLERY else ""
    st.markdown(f"**{len(rows):,}** {what}{more}")
    rows = rows[:GALLERY]
    show_gallery(ds, rows, [label(i, r) for i, r in enumerate(rows)])
