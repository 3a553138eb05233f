"""Latent page: the 2-D map of the codes, coloured and box/lasso selectable, with the class
centres' pictures beside it, the selected images below (excluded or relabelled in one batch),
and the map's CSV. The selection's rows live in the session model (SELECTED), written when the
chart's selection changes."""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from core.errors import UserError
from core.latent.generation import centre_images
from core.latent.geometry import class_centres
from core.latent.neighbours import neighbours_of
from core.latent.projection import projection_frame
from core.latent.selection import class_counts, stratified_sample
from dashboard import state
from dashboard.figures import latent_scatter_figure
from dashboard.images import centres_png, to_display
from dashboard.sections.latent_clusters import cluster_k, cluster_names_of, clusters_on
from dashboard.sections.latent_decide import render_bulk_decision
from dashboard.sections.latent_projection import TITLES, Projection
from dashboard.sections.latent_space import GALLERY, Space, show_gallery
from dashboard.text import count
from dashboard.widgets.click_select import click_select_ui

NEIGHBOURS = 8  # shown for a clicked point
MAP_KEY = "latent_map"  # the chart's widget key
SELECTED = "latent.selected"  # session model: rows selected on the map, per run (state.keyed)
MAP_RUN = "latent.map_run"  # session model: the run the map showed last
COLOURS = {"class": "true class", "predicted": "predicted class",
           "distance": "distance to own class centre", "cluster": "mixture cluster"}


# -- the map, centres and selection --------------------------------------------------------
def selected_rows(selection, limit: int | None = None) -> np.ndarray:
    """Dataset rows of the selected points, read from each point's customdata (so it does not
    matter which trace a point is on); points without a row (the centre markers) are skipped."""
    try:
        points = selection["points"] if selection else []
    except (KeyError, TypeError):
        points = []
    rows = []
    for point in points or []:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        if isinstance(data, (int, float)) and not isinstance(data, bool) and data >= 0 \
                and (limit is None or data < limit):
            rows.append(int(data))
    return np.asarray(list(dict.fromkeys(rows)), dtype=int)  # unique, in selection order


@st.cache_data(max_entries=8, show_spinner=False)
def _centre_images(key: str, _space: Space) -> np.ndarray:
    """(K, C, H, W) uint8 picture of each class centre (see core.latent.generation)."""
    s = _space
    return centre_images(s.run, s.features.codes[s.train], s.ds.images[s.train], s.centres)


def _natural(name: str):
    head = name.split(" ·")[0].split()[-1]
    return (int(head) if head.isdigit() else 0, name)


def colour_values(space: Space, rows: np.ndarray, colour: str):
    """(values per drawn point, legend title, continuous?, category order)."""
    if colour == "predicted" and space.classifier:
        return np.asarray(space.classes, dtype=object)[space.predicted[rows]], COLOURS[colour], \
            False, space.classes
    if colour == "distance":
        return space.own_distance[rows], "distance to own centre", True, None
    if colour == "cluster" and clusters_on(space):
        try:
            names = cluster_names_of(space, rows, cluster_k(space))
            return names, "cluster · named as", False, sorted(set(names.tolist()), key=_natural)
        except UserError as exc:
            st.warning(f"Coloured by class instead: {exc}")
    return np.asarray(space.classes, dtype=object)[space.labels[rows]], "class", False, space.classes


@st.cache_resource(max_entries=6, show_spinner=False)
def _map_figure(key: str, xy_digest: str, colour: str, clusters_k, _space: Space, _proj: Projection,
                _values, _title: str, _continuous: bool, _order):
    """The map's figure, built once per (run, projection, colour): a selection reruns the map's
    fragment, and the same figure serialises to the same bytes, which Streamlit sends to the
    browser as a reference to the copy it already has instead of the whole figure again."""
    space, rows, xy = _space, _proj.rows, _proj.xy
    labels = space.labels[rows]
    names = np.asarray(space.classes, dtype=object)
    hover = [f"#{r} · class {names[c]}" for r, c in zip(rows.tolist(), labels.tolist())]
    if space.classifier:
        hover = [f"{h} · predicted {names[p]}" for h, p in zip(hover, space.predicted[rows].tolist())]
    means = class_centres(xy, labels, len(space.classes))  # mean map position per class
    centres = {name: tuple(m.tolist()) for name, m in zip(space.classes, means)
               if not np.isnan(m).any()}
    return latent_scatter_figure(xy, rows, _values, _title, continuous=_continuous, order=_order,
                                 hover=hover, centres=centres, axis_title=TITLES[_proj.method])


def _render_neighbours(space: Space, row: int, k: int = NEIGHBOURS) -> None:
    """One clicked image: its k nearest neighbours in code space (not on the map: the map's 2-D
    distances distort them) and its nearest image of another class."""
    names = np.asarray(space.classes, dtype=object)
    near = neighbours_of(space.features.codes, space.labels, row, k)
    rows = [row, *near.rows.tolist()] + ([near.other_row] if near.other_row is not None else [])
    parts = [(f"#{row} clicked", names[space.labels[row]], "")]
    parts += [(f"#{r}", names[space.labels[r]], f"d {d:.3g}") for r, d in zip(near.rows, near.distances)]
    if near.other_row is not None:
        parts.append((f"#{near.other_row}", names[space.labels[near.other_row]],
                      f"other · d {near.other_distance:.3g}"))
    same = int((space.labels[near.rows] == space.labels[row]).sum())
    st.markdown(f"**Nearest neighbours in code space**: {same} of the {len(near.rows)} nearest "
                "share its class; the last picture is the nearest image of another class.")
    show_gallery(space.ds, np.asarray(rows), parts)
    st.text(f"Nearest to #{row}: " + ", ".join(f"#{r}" for r in near.rows.tolist())
            + (f"; of another class: #{near.other_row}" if near.other_row is not None else ""))


def _render_selection(space: Space, chosen: np.ndarray) -> None:
    """The selected images: all of them up to GALLERY, else a sample stratified by class."""
    names = np.asarray(space.classes, dtype=object)
    if not len(chosen):
        st.caption("No points selected yet.")
        return
    if len(chosen) == 1:
        _render_neighbours(space, int(chosen[0]))
    shown = stratified_sample(chosen, space.labels, GALLERY)
    st.markdown(f"**{count(len(chosen), 'image')} selected**" + (
        f"; showing {len(shown)} drawn at random from each class in proportion to its share "
        "(at least one per class)" if len(shown) < len(chosen) else ""))
    counts = class_counts(chosen, space.labels, len(names))
    present = np.argsort(-counts, kind="stable")[:int((counts > 0).sum())]
    st.text("Selected per class: " + " · ".join(f"{names[c]}: {counts[c]:,}" for c in present[:20])
            + (f", and {len(present) - 20} more classes" if len(present) > 20 else ""))
    show_gallery(space.ds, shown, [(f"#{r}", names[space.labels[r]] + (
        f"→{names[space.predicted[r]]}" if space.classifier else "")) for r in shown])


@st.fragment
def render_map(space: Space, proj: Projection) -> None:
    """Colour choice, the scatter (box/lasso selectable), centre images beside it, and the
    selected images below. A fragment: a selection reruns only this part of the page."""
    ds, rows, xy = space.ds, proj.rows, proj.xy
    options = ["class"] + (["predicted"] if space.classifier else []) + ["distance"] + \
        (["cluster"] if clusters_on(space) else [])
    if st.session_state.get("latent_colour") not in options:
        st.session_state["latent_colour"] = "class"
    cols = st.columns([3, 1])
    colour = cols[0].radio("Colour by", options, format_func=COLOURS.get, horizontal=True,
                           key="latent_colour")
    if not clusters_on(space):
        cols[0].caption("Fit clusters below to colour by mixture cluster.")
    if len(rows) < space.features.n:
        st.caption(f"Showing a random sample of {len(rows):,} of {space.features.n:,} images "
                   "(seeded, the same each time); the CSV below lists the same sample.")
    values, title, continuous, order = colour_values(space, rows, colour)
    digest = hashlib.sha1(xy.tobytes() + rows.tobytes()).hexdigest()
    fig = _map_figure(space.key, digest, colour, cluster_k(space) if colour == "cluster" else None,
                      space, proj, values, title, continuous, order)
    selected = state.keyed(SELECTED, space.run.id)
    # a map drawn afresh (first view, back from another page, another run) shows no selection
    if MAP_KEY not in st.session_state or state.get(MAP_RUN) != space.run.id:
        state.put(selected, [])
        state.put(MAP_RUN, space.run.id)

    def remember() -> None:  # the selection changed: keep its rows in the session model
        event = st.session_state.get(MAP_KEY)
        state.put(selected, selected_rows(event.selection if event else None, limit=len(ds.images)).tolist())

    left, right = st.columns([4, 1])
    with left:
        st.plotly_chart(fig, on_select=remember, selection_mode=("box", "lasso", "points"), key=MAP_KEY)
        click_select_ui(MAP_KEY)  # a click selects one point in box and lasso modes too
        st.caption("Drag a box (or pick lasso in the chart's toolbar) to see those images below; "
                   "one point alone (a click on it, or a small box round it) "
                   "shows its nearest neighbours in code space. "
                   "Black crosses mark each class centre: the mean map position of the class's "
                   "points; the codes' own centres (mean training code) are pictured on the right.")
    with right:
        what = ("nearest training image to each centre" if space.classifier else
                "each centre decoded by the model")
        st.markdown(f"**Class centres**  \n{what}")
        images = _centre_images(space.key, space)
        present = space.has_centre
        st.image(centres_png(to_display(images[present], 40),
                             [str(c) for c in np.asarray(space.classes)[present]]), width="content")
    # in dataset order: the same points give the same gallery, however they were selected
    chosen = np.unique(np.asarray(state.get(selected, []), dtype=int))
    chosen = chosen[(chosen >= 0) & (chosen < len(ds.images))]
    with st.container(key="latent_selected"):
        _render_selection(space, chosen)
    render_bulk_decision(space, chosen)


# -- download ---------------------------------------------------------------------------------
def render_download(space: Space, proj: Projection) -> None:
    """The drawn points as CSV (core.latent.projection.projection_frame), built when clicked."""
    clusters, k = clusters_on(space), cluster_k(space)  # read now: the callable runs outside the script

    def data() -> bytes:  # built on click, so a page view never waits for it
        names = None
        if clusters:
            try:
                names = cluster_names_of(space, proj.rows, k)
            except UserError:
                pass  # the Clusters section says why
        return projection_frame(space, proj.rows, proj.xy, names).to_csv(index=False).encode()

    st.download_button(f"Projection ({TITLES[proj.method]}) as CSV", data,
                       f"{space.run.id}-{proj.method}.csv", "text/csv", key="latent_csv",
                       on_click="ignore")
    st.caption("id is the image's row in the dataset; distance_to_centre is the distance of its code "
               "to its own class centre (mean training code); cluster appears once clusters are fit.")
