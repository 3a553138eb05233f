"""The Evaluate page's confusion matrix: click a cell to see its images; with "Several cells" on,
each click adds a cell (or drops a selected one). Plotly's own shift-click cannot do it: the
figure is redrawn after each click (the chosen cells are outlined), which clears plotly's
selection, so a shift-click arrived as a single point and replaced the cell.

The selected cells belong to the run in the session model, so they survive a page change and
come back when the run is chosen again. The two selectboxes pick one cell from the keyboard.
"""
from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import streamlit as st

from core.data.dataset import ImageDataset
from core.data.sampling import stratified
from core.evaluation.classification import Predictions, cell_members, confusion, largest_confusion
from core.runs.store import Run
from dashboard import presentation, state, url
from dashboard.figures import confusion_figure
from dashboard.presentation import chart
from dashboard.sections.evaluate_gallery import GALLERY, show_images
from dashboard.text import noun, plain

CHART = "confusion_chart"
SEVERAL = "evaluate.several_cells"  # model name: a click adds a cell instead of replacing them


def _cells_name(run: Run) -> str:
    return state.keyed("evaluate.cells", run.id)


def _cells_from_url(n: int) -> list[tuple[int, int]] | None:
    """`cell=3-5,2-7` (true-predicted class numbers) from the link the session opened with."""
    text = url.take("cell") or ""
    try:
        cells = [tuple(int(v) for v in part.split("-")) for part in text.split(",") if part]
    except ValueError:
        return None
    cells = [c for c in cells if len(c) == 2 and 0 <= c[0] < n and 0 <= c[1] < n]
    return cells or None


def selected_cells(run: Run, p: Predictions, matrix: np.ndarray) -> list[tuple[int, int]]:
    """The run's chosen cells; the link's, else the biggest confusion, the first time."""
    name = _cells_name(run)
    if not state.has(name):
        state.put(name, _cells_from_url(len(p.classes)) or [largest_confusion(matrix)])
    return [tuple(c) for c in state.get(name)]


def merged_cells(current: list[tuple[int, int]], clicked: list[tuple[int, int]],
                 several: bool) -> list[tuple[int, int]]:
    """The cells after a click: the clicked ones; with `several`, the current ones plus each
    clicked one not among them, less a single clicked one that was (never none)."""
    clicked = list(dict.fromkeys(clicked))
    if not clicked:  # a click beside the cells clears plotly's selection; keep the cells shown
        return list(current)
    if not several:
        return clicked
    if len(clicked) == 1 and clicked[0] in current:
        return [c for c in current if c != clicked[0]] or list(current)
    return list(current) + [c for c in clicked if c not in current]


def _pick_from_chart(name: str) -> None:
    points = (st.session_state.get(CHART) or {}).get("selection", {}).get("points", [])
    cells = [tuple(int(v) for v in pt["customdata"]) for pt in points if "customdata" in pt]
    current = [tuple(c) for c in state.get(name, [])]
    state.put(name, merged_cells(current, cells, bool(state.get(SEVERAL, False))))


def _pick_from_boxes(name: str, names: list[str]) -> None:
    cell = (names.index(st.session_state["cell_true"]), names.index(st.session_state["cell_pred"]))
    state.put(name, [cell])


def _describe(p: Predictions, cells: list[tuple[int, int]], counts: list[int]) -> str:
    if len(cells) == 1:
        t, q = cells[0]
        return (f"**{counts[0]:,}** {noun(counts[0], 'image')} of **{plain(p.classes[t])}** predicted as "
                f"**{plain(p.classes[q])}**")
    listed = "; ".join(f"{plain(p.classes[t])} as {plain(p.classes[q])}: {c:,}"
                       for (t, q), c in zip(cells, counts))
    return f"**{sum(counts):,}** {noun(sum(counts), 'image')} in {len(cells)} selected cells ({listed})"


def render_confusion(ds: ImageDataset, p: Predictions, run: Run) -> None:
    """Matrix plus the chosen cells' images, in a fragment: a click reruns only this part."""

    @st.fragment
    def panel() -> None:
        names = list(p.classes)
        matrix = confusion(p)
        name = _cells_name(run)
        cells = selected_cells(run, p, matrix)
        url.show(cell=",".join(f"{t}-{q}" for t, q in cells))
        # Presentation mode: the matrix left, the pickers and its images right, on one screen.
        matrix_box, side = st.columns(2) if presentation.on() else (nullcontext(), nullcontext())
        with side:
            cols = st.columns([1, 1, 1])
        with cols[0]:
            normalized = state.bound(st.toggle, "cm_normalized", "evaluate.normalized",
                                     "Normalise by row", default=False)
            state.bound(st.toggle, "cm_several", SEVERAL, "Several cells", default=False,
                        help="On: each click on the matrix adds a cell (a click on a selected "
                             "cell drops it). Off: a click shows that cell only.")
        st.session_state["cell_true"], st.session_state["cell_pred"] = (names[cells[0][0]],
                                                                         names[cells[0][1]])
        cols[1].selectbox("True class", names, key="cell_true", on_change=_pick_from_boxes,
                          args=(name, names))
        cols[2].selectbox("Predicted as", names, key="cell_pred", on_change=_pick_from_boxes,
                          args=(name, names))
        shown = confusion(p, normalize=True) if normalized else matrix
        with matrix_box:
            chart(confusion_figure(shown, names, normalized, cells), key=CHART,
                  on_select=lambda: _pick_from_chart(name), selection_mode="points")
            st.caption("Click a cell to see its images; turn on Several cells to add a cell with each "
                       "click (click a selected cell again to drop it).")
        with side:
            members = [cell_members(p, t, q) for t, q in cells]
            st.markdown(_describe(p, cells, [len(m) for m in members]))
            rows = np.concatenate(members)
            groups = np.concatenate([np.full(len(m), i) for i, m in enumerate(members)])
            picked = stratified(rows, groups, GALLERY)
            if len(rows) > len(picked):
                st.caption(f"Showing {len(picked)} of {len(rows):,} images"
                           + (": an equal share of each selected cell, the most confident first."
                              if len(cells) > 1 else ", the most confident first."))
            with st.container(key="cell_gallery"):
                show_images(ds, p, picked, lambda r: f"#{p.index[r]} · {p.confidence[r]:.2f}")

    panel()
