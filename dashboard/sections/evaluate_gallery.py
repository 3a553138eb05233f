"""The Evaluate page's image galleries: prediction rows as captioned pictures."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.dataset import ImageDataset
from core.evaluation.classification import Predictions
from dashboard.images import gallery_png, to_display

GALLERY = 40  # images per gallery; a caption says when a selection holds more


def show_images(ds: ImageDataset, p: Predictions, rows: np.ndarray, caption) -> None:
    """The images of prediction rows (already picked), labelled by caption(row), as one picture
    (one encode, one request); labels are drawn as pixels, so names cannot be Markdown."""
    if len(rows) == 0:
        st.caption("No images here.")
        return
    st.image(gallery_png(to_display(ds.images[p.index[rows]]), [caption(r) for r in rows]),
             width="content")
