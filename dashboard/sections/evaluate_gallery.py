"""The Evaluate page's image galleries: prediction rows as captioned pictures."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.dataset import ImageDataset
from core.evaluation.classification import Predictions
from dashboard.images import display_width, to_display

GALLERY = 40  # images per gallery; a caption says when a selection holds more


def show_images(ds: ImageDataset, p: Predictions, rows: np.ndarray, caption) -> None:
    """The images of prediction rows (already picked), captioned by caption(row) (Markdown: a
    caption that names classes escapes them with dashboard.text.plain)."""
    if len(rows) == 0:
        st.caption("No images here.")
        return
    _, h, w = ds.shape
    st.image(to_display(ds.images[p.index[rows]]), caption=[caption(r) for r in rows],
             width=display_width(h, w))
