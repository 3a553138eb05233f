"""The Latent page's shared state and its map: projection, selection, class centres, mixture
clusters (they colour the map) and the CSV download. Other sections: latent_sections.py.

Everything is computed in core (core.latent.features, core.latent.geometry, core.latent.generation); this module
draws it. Centres are mean TRAINING codes; disputable images and cluster scores are on test.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import streamlit as st

from core.data.dataset import ImageDataset
from core.errors import UserError
from core.latent.features import Features, extract
from core.latent.projection import cached_projection, job_status, projection, start_background
from core.latent.clusters import Clusters, mixture_clusters
from core.latent.generation import centre_images
from core.latent.geometry import class_centres, distances
from core.models import Kind
from core.runs.results import checkpoint_key
from core.runs.store import Run
from dashboard.state import settings
from dashboard.figures import bic_figure, confusion_figure, latent_scatter_figure
from dashboard.images import display_width, to_display

KINDS = tuple(Kind)
TITLES = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
GALLERY = 60  # images per grid; a caption says how many there were
COLOURS = {"class": "true class", "predicted": "predicted class",
           "distance": "distance to own class centre", "cluster": "mixture cluster"}
NO_CLASSIFIER = "not a classifier"


def lines(*parts) -> str:
    """A multi-line image caption (captions are markdown: two spaces before a newline break it)."""
    return "  \n".join(str(p) for p in parts)


@dataclass
class Space:
    """A run's codes with what every section needs: labels, splits and TRAINING class centres."""

    run: Run
    ds: ImageDataset
    features: Features
    key: str  # identifies (run, checkpoint, dataset) for the Streamlit caches

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self.ds.labels)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.ds.classes]

    @property
    def classifier(self) -> bool:
        return self.features.proba is not None

    @property
    def predicted(self) -> np.ndarray | None:
        return None if self.features.proba is None else self.features.proba.argmax(1)

    @property
    def train(self) -> np.ndarray:
        return self.ds.indices("train")

    @property
    def test(self) -> np.ndarray:
        return self.ds.indices("test")

    @cached_property
    def centres(self) -> np.ndarray:
        """(K, D) mean training code per class (NaN rows for classes without training images)."""
        return class_centres(self.features.codes[self.train], self.labels[self.train],
                             len(self.classes))

    @cached_property
    def own_distance(self) -> np.ndarray:
        """Each image's distance to its own class centre: an anomaly-like score."""
        d = distances(self.features.codes.astype(np.float64), np.nan_to_num(self.centres))
        return d[np.arange(len(self.labels)), self.labels]


@dataclass
class Projection:
    method: str
    rows: np.ndarray  # dataset rows drawn (all, or a stated sample)
    xy: np.ndarray


def _stop_on(exc: UserError) -> None:
    st.error(str(exc))
    st.stop()


@st.cache_resource(max_entries=4, show_spinner=False)
def _features(key: str, _run: Run, _ds: ImageDataset) -> Features:
    return extract(_run, settings(), _ds)  # cached on disk too; this keeps it in memory


def space_ui(run: Run, ds: ImageDataset) -> Space:
    key = f"{settings().workspace}|{run.id}|{checkpoint_key(run)}|{run.config().dataset}"
    try:
        with st.spinner("Computing the codes of every image (once per run; cached)…"):
            features = _features(key, run, ds)
    except UserError as exc:
        _stop_on(exc)
    if len(features.codes) != len(ds.images):
        st.error("The cached codes do not match the dataset; delete the run's cache and reload.")
        st.stop()
    return Space(run, ds, features, key)


# -- projection ---------------------------------------------------------------------------
@st.fragment(run_every=1)
def _job_line(run: Run, method: str, params: dict) -> None:
    """Ticks every second while the background projection runs; reruns the page when it ends."""
    status = job_status(run, settings(), method, params) or {}
    if status.get("state") == "running":
        st.caption(f":material/hourglass_top: computing {TITLES[method]}… "
                   f"{time.time() - status.get('started', time.time()):.0f} s")
        return
    st.rerun(scope="app")


def projection_ui(space: Space) -> Projection:
    """Method radio; PCA at once, UMAP/t-SNE from the cache or computed in the background."""
    cols = st.columns([2, 1, 3], vertical_alignment="bottom")
    method = cols[0].radio("Projection", list(TITLES), format_func=TITLES.get, horizontal=True,
                           key="latent_method")
    params: dict = {}
    if method == "umap":
        params = {"n_neighbors": int(cols[1].number_input("Neighbours", 2, 200, 15,
                                                          key="latent_neighbours"))}
    elif method == "tsne":
        params = {"perplexity": float(cols[1].number_input("Perplexity", 2.0, 100.0, 30.0, step=5.0,
                                                           key="latent_perplexity"))}
    run, cfg = space.run, settings()
    try:
        with st.spinner("PCA…"):
            rows, xy, _ = projection(run, cfg, "pca", {}, space.features)
        pca = Projection("pca", rows, xy)
        if method == "pca":
            return pca
        found = cached_projection(run, cfg, method, params, space.features)
    except UserError as exc:
        _stop_on(exc)
    if found is not None:
        return Projection(method, *found)
    title = TITLES[method]
    status = job_status(run, cfg, method, params) or {}
    with cols[2]:
        if status.get("state") == "running":
            _job_line(run, method, params)
        else:
            if status.get("state") == "failed":
                st.error(f"{title} failed: {status.get('error')}")
            st.button(f"Compute {title} in the background", key="latent_compute",
                      on_click=start_background, args=(run, cfg, method, params),
                      help="Runs `python -m core embed` in its own process and caches the result; "
                           "the page stays usable meanwhile.")
    st.caption(f"Showing PCA until {title} is computed; it is cached, so it is instant next time.")
    return pca


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


def _clusters_on(space: Space) -> bool:
    return st.session_state.get("latent_clusters_run") == space.key


def _default_k(space: Space) -> int:
    return min(max(len(space.classes), 2), 60)  # one component per class to start with


def _cluster_k(space: Space) -> int | None:
    """The Clusters section's choice: None (by BIC) or the number of components."""
    if st.session_state.get("latent_bic"):
        return None
    return int(st.session_state.get("latent_k", _default_k(space)))


def colour_values(space: Space, rows: np.ndarray, colour: str):
    """(values per drawn point, legend title, continuous?, category order)."""
    if colour == "predicted" and space.classifier:
        return np.asarray(space.classes, dtype=object)[space.predicted[rows]], COLOURS[colour], \
            False, space.classes
    if colour == "distance":
        return space.own_distance[rows], "distance to own centre", True, None
    if colour == "cluster" and _clusters_on(space):
        try:
            names = cluster_names_of(space, rows, _cluster_k(space))
            return names, "cluster · named as", False, sorted(set(names.tolist()), key=_natural)
        except UserError as exc:
            st.warning(f"Coloured by class instead: {exc}")
    return np.asarray(space.classes, dtype=object)[space.labels[rows]], "class", False, space.classes


def _natural(name: str):
    head = name.split(" ·")[0].split()[-1]
    return (int(head) if head.isdigit() else 0, name)


@st.fragment
def map_ui(space: Space, proj: Projection) -> None:
    """Colour choice, the scatter (box/lasso selectable), centre images beside it, and the
    selected images below. A fragment: a selection reruns only this part of the page."""
    ds, rows, xy = space.ds, proj.rows, proj.xy
    options = ["class"] + (["predicted"] if space.classifier else []) + ["distance"] + \
        (["cluster"] if _clusters_on(space) else [])
    if st.session_state.get("latent_colour") not in options:
        st.session_state["latent_colour"] = "class"
    cols = st.columns([3, 1])
    colour = cols[0].radio("Colour by", options, format_func=COLOURS.get, horizontal=True,
                           key="latent_colour")
    if not _clusters_on(space):
        cols[0].caption("Fit clusters below to colour by mixture cluster.")
    if len(rows) < space.features.n:
        st.caption(f"Showing a random sample of {len(rows):,} of {space.features.n:,} images "
                   "(seeded, the same each time); the CSV below lists the same sample.")
    values, title, continuous, order = colour_values(space, rows, colour)
    labels = space.labels[rows]
    names = np.asarray(space.classes, dtype=object)
    hover = [f"#{r} · class {names[c]}" for r, c in zip(rows, labels)]
    if space.classifier:
        hover = [f"{h} · predicted {names[p]}" for h, p in zip(hover, space.predicted[rows])]
    centres = {space.classes[c]: tuple(xy[labels == c].mean(0).tolist())
               for c in range(len(space.classes)) if (labels == c).any()}
    fig = latent_scatter_figure(xy, rows, values, title, continuous=continuous, order=order,
                                hover=hover, centres=centres, axis_title=TITLES[proj.method])
    left, right = st.columns([4, 1])
    with left:
        event = st.plotly_chart(fig, on_select="rerun", selection_mode=("box", "lasso", "points"),
                                key="latent_map")
        st.caption("Drag a box (or pick lasso in the chart's toolbar) to see those images below. "
                   "Black crosses mark each class centre: the mean map position of the class's "
                   "points; the codes' own centres (mean training code) are pictured on the right.")
    with right:
        what = ("nearest training image to each centre" if space.classifier else
                "each centre decoded by the model")
        st.markdown(f"**Class centres**  \n{what}")
        images = _centre_images(space.key, space)
        present = ~np.isnan(space.centres).any(1)
        _, h, w = ds.shape
        st.image(to_display(images[present], 40), caption=list(np.asarray(space.classes)[present]),
                 width=min(display_width(h, w, 40), 64))
    chosen = selected_rows(event.selection if event else None, limit=len(ds.images))
    with st.container(key="latent_selected"):
        if not len(chosen):
            st.caption("No points selected yet.")
            return
        shown = chosen[:GALLERY]
        more = f"; showing the first {GALLERY}" if len(chosen) > GALLERY else ""
        st.markdown(f"**{len(chosen):,} images selected**{more}")
        _, h, w = ds.shape
        caps = [lines(f"#{r}", names[space.labels[r]] + (f"→{names[space.predicted[r]]}"
                                                          if space.classifier else ""))
                for r in shown]
        st.image(to_display(ds.images[shown]), caption=caps, width=display_width(h, w))


# -- clusters -------------------------------------------------------------------------------
@st.cache_data(max_entries=16, show_spinner=False)
def _mixture(key: str, k: int | None, _space: Space) -> Clusters:
    """mixture_clusters fitted and named on training codes, scored on the test split."""
    s = _space
    return mixture_clusters(s.features.codes[s.train], s.labels[s.train], s.features.codes[s.test],
                            s.labels[s.test], s.classes, n_components=k)


def clusters_of(space: Space, k: int | None) -> Clusters:
    """Train-vs-test clusters (the scores shown)."""
    return _mixture(space.key, k, space)


def cluster_names_of(space: Space, rows: np.ndarray, k: int | None) -> np.ndarray:
    """'cluster 3 · 5' for each of rows: the same mixture (same training codes, same number of
    components, same seed) asked about the drawn rows rather than the test split."""
    fitted = clusters_of(space, k)
    return np.asarray([f"cluster {c} · {fitted.names[c]}"
                       for c in fitted.components(space.features.codes[rows])], dtype=object)


def _fit_clusters(key: str) -> None:
    st.session_state["latent_clusters_run"] = key


def clusters_ui(space: Space) -> Clusters | None:
    cols = st.columns([1, 1.2, 1, 2.8], vertical_alignment="bottom")
    by_bic = cols[1].checkbox("Choose by BIC", key="latent_bic",
                              help="Fits every number of components from 2 to 12 and keeps the one "
                                   "with the lowest BIC on the training codes (slower).")
    cols[0].number_input("Components", 2, 60, _default_k(space), key="latent_k", disabled=by_bic)
    cols[2].button("Fit clusters", key="latent_fit", on_click=_fit_clusters, args=(space.key,),
                   type="primary" if not _clusters_on(space) else "secondary")
    st.caption("A Gaussian mixture on the training codes (reduced to at most 16 dimensions by PCA); "
               "each cluster is named by the majority class of the TRAINING codes in it, never by "
               "test labels, then scored on the test split.")
    if not _clusters_on(space):
        return None
    if not len(space.test):
        st.info("This dataset has no test split to score the clusters on.")
        return None
    try:
        with st.spinner("Fitting the mixture" + (" for each number of components…" if by_bic
                                                 else "…")):
            c = clusters_of(space, _cluster_k(space))
    except UserError as exc:
        st.error(str(exc))
        return None
    macro = c.report["macro avg"]
    for col, (label, value) in zip(st.columns(4), [
            ("accuracy", c.report["accuracy"]), ("macro precision", macro["precision"]),
            ("macro recall", macro["recall"]), ("macro F1", macro["f1-score"])]):
        col.metric(label, f"{value:.4f}")
    left, right = st.columns([1, 2])
    with left:
        train_sizes = np.bincount(c.train_components, minlength=c.n_components)
        test_sizes = np.bincount(c.test_components, minlength=c.n_components)
        st.dataframe(pd.DataFrame({"cluster": range(c.n_components), "named as": c.names,
                                   "train images": train_sizes, "test images": test_sizes}),
                     hide_index=True)
        if by_bic:
            st.markdown(f"**BIC per number of components** (chose {c.n_components})")
            st.plotly_chart(bic_figure(c.bic, c.n_components), key="latent_bic_chart")
    with right:
        fig = confusion_figure(c.confusion, space.classes, normalized=False)
        fig.update_layout(xaxis_title="cluster, named as class", yaxis_title="true class (test)")
        st.plotly_chart(fig, key="latent_cluster_confusion")
    return c


# -- download ---------------------------------------------------------------------------------
def projection_frame(space: Space, proj: Projection, clusters: bool = False,
                     k: int | None = None) -> pd.DataFrame:
    """One row per drawn point: id (dataset row), split, x, y, class, predicted, cluster, distance."""
    rows, names = proj.rows, np.asarray(space.classes, dtype=object)
    split = np.full(space.features.n, "", dtype=object)
    for s in ("train", "val", "test"):
        split[space.ds.indices(s)] = s
    frame = pd.DataFrame({"id": rows, "split": split[rows], "x": proj.xy[:, 0], "y": proj.xy[:, 1],
                          "class": names[space.labels[rows]]})
    if space.classifier:
        frame["predicted"] = names[space.predicted[rows]]
    if clusters:
        try:
            frame["cluster"] = cluster_names_of(space, rows, k)
        except UserError:
            pass  # the Clusters section says why
    frame["distance_to_centre"] = space.own_distance[rows]
    return frame


def download_ui(space: Space, proj: Projection) -> None:
    clusters, k = _clusters_on(space), _cluster_k(space)  # read now: the callable runs outside the script

    def data() -> bytes:  # built on click, so a page view never waits for it
        return projection_frame(space, proj, clusters, k).to_csv(index=False).encode()

    st.download_button(f"Projection ({TITLES[proj.method]}) as CSV", data,
                       f"{space.run.id}-{proj.method}.csv", "text/csv", key="latent_csv",
                       on_click="ignore")
    st.caption("id is the image's row in the dataset; distance_to_centre is the distance of its code "
               "to its own class centre (mean training code); cluster appears once clusters are fit.")
