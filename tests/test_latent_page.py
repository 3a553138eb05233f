"""The Latent page through AppTest on the shipped VAE and classifier, and its pure helpers.

AppTest cannot send plotly selection events, so the selection -> rows mapping is a pure function
tested here on a realistic payload; tests/e2e/test_latent_browser.py drags a real box.
"""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.testing.v1 import AppTest

from core.data.dataset import load_dataset
from core.latent.clusters import mixture_clusters
from core.latent.features import extract
from core.latent.generation import decode_between
from core.latent.geometry import class_centres, disputable
from core.latent.projection import cancel_background, job_status
from core.runs import jobs
from core.runs.store import open_store
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from dashboard.figures import latent_scatter_figure
from dashboard.images import gallery_png, strip_png, to_display
from dashboard.sections.latent_map import selected_rows
from dashboard.sections.latent_space import GALLERY
from tests.apptest_helpers import metric, open_page
from tests.polling import wait_for

N_DIGITS = 1797


@pytest.fixture(autouse=True)
def no_background_projections(monkeypatch) -> None:
    """Opening the page starts UMAP and t-SNE processes; only the test about them wants them."""
    monkeypatch.setenv("DASH_AUTO_PROJECTIONS", "0")


def decoded(value) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array {"dtype", "bdata"} (plotly >= 6)."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)


def map_traces(at: AppTest) -> list[dict]:
    """The map's traces that carry dataset rows (the centre markers carry none)."""
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [t for t in spec["data"] if "customdata" in t]


def shows_gallery(at: AppTest, ds, rows: np.ndarray, labels: list[tuple]) -> bool:
    """Whether the page shows, as one picture, exactly these rows' images labelled with these
    lines (Streamlit names a media file by its content, so the PNG's name identifies it)."""
    png = gallery_png(to_display(ds.images[rows]), ["\n".join(parts) for parts in labels],
                      label_lines=max(len(parts) for parts in labels))
    name = _calculate_file_id(png, "image/png")
    return any(name in im.url for el in at.get("image") for im in el.proto.imgs)


@pytest.fixture
def vae(settings):
    run = open_store(settings).get("digits-vae")
    ds = load_dataset(run_config(run).dataset, settings)
    return run, ds, extract(run, settings, ds)


def test_vae_page_draws_every_image_once(settings) -> None:
    at = open_page("latent", run="digits-vae")
    traces = map_traces(at)
    assert {t["type"] for t in traces} == {"scattergl"}
    assert len(traces) == 10  # one trace per class
    assert sum(len(decoded(t["x"])) for t in traces) == N_DIGITS
    ids = np.concatenate([decoded(t["customdata"]) for t in traces])
    assert sorted(ids.tolist()) == list(range(N_DIGITS))  # each point carries its dataset row
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["dragmode"] == "select"
    assert any("VAE mean code (16 dimensions) of all 1,797 images" in c.value for c in at.caption)
    assert len(at.get("image")[0].value) == 1  # the class centres: one picture (images.centres_png)
    at.radio(key="latent_colour").set_value("distance").run()
    assert not at.exception
    (trace,) = map_traces(at)  # one trace with a colour scale
    assert len(decoded(trace["x"])) == N_DIGITS


def test_disputable_grid_follows_the_rule(settings, vae) -> None:
    run, ds, features = vae
    tr, te = ds.indices("train"), ds.indices("test")
    centres = class_centres(features.codes[tr], ds.labels[tr], len(ds.classes))
    at = open_page("latent", run="digits-vae")
    for mode, tol in (("ratio", 0.2), ("difference", 0.3)):
        at.radio(key="latent_rule").set_value(mode).run()
        at.slider(key=f"latent_tol_{mode}").set_value(tol).run()
        assert not at.exception
        d = disputable(features.codes[te], ds.labels[te], centres, tol, mode)
        expected = te[d.rows]
        assert any(m.value.startswith(f"**{len(expected)}** disputable test images")
                   for m in at.markdown)
        names, shown = ds.classes, d.rows[:GALLERY]  # the most disputable first
        assert len(shown) > 1
        assert shows_gallery(at, ds, te[shown], [
            (f"#{te[i]}", f"{names[ds.labels[te[i]]]}: {d.own[i]:.2f}",
             f"{names[d.other_class[i]]}: {d.other[i]:.2f}") for i in shown])
    # the other two notions need a classifier
    assert sum("needs a classifier" in i.value for i in at.info) == 2
    # bad input: one class is not a comparison
    at.multiselect(key="latent_dispute_classes").set_value(["3"]).run()
    assert not at.exception
    assert any("at least two classes" in e.value for e in at.error)


def test_clusters_match_mixture_clusters_and_colour_the_map(settings, vae) -> None:
    run, ds, features = vae
    tr, te = ds.indices("train"), ds.indices("test")
    at = open_page("latent", run="digits-vae")
    assert "mixture cluster" not in at.radio(key="latent_colour").options
    at.number_input(key="latent_k").set_value(10)
    at.button(key="latent_fit").click().run()
    assert not at.exception
    c = mixture_clusters(features.codes[tr], ds.labels[tr], features.codes[te], ds.labels[te],
                         ds.classes, n_components=10)
    macro = c.report["macro avg"]
    assert metric(at, "accuracy") == f"{c.report['accuracy']:.4f}"
    assert metric(at, "macro precision") == f"{macro['precision']:.4f}"
    assert metric(at, "macro recall") == f"{macro['recall']:.4f}"
    assert metric(at, "macro F1") == f"{macro['f1-score']:.4f}"
    table = next(d.value for d in at.dataframe if "named as" in d.value.columns)
    assert table["named as"].tolist() == c.names
    assert any("majority class of the TRAINING codes" in cap.value for cap in at.caption)
    # the map can now be coloured by cluster: every image still drawn once
    assert "mixture cluster" in at.radio(key="latent_colour").options
    at.radio(key="latent_colour").set_value("cluster").run()
    assert not at.exception
    traces = map_traces(at)
    assert all(t["name"].startswith("cluster ") for t in traces)
    assert sum(len(decoded(t["x"])) for t in traces) == N_DIGITS


def test_clusters_chosen_by_bic_show_the_bic_chart(settings) -> None:
    store = open_store(settings)
    run = store.get("digits-classifier")
    ds = load_dataset(run_config(run).dataset, settings)
    f = extract(run, settings, ds)
    tr, te = ds.indices("train"), ds.indices("test")
    at = open_page("latent", run="digits-classifier")
    at.checkbox(key="latent_bic").check()
    at.button(key="latent_fit").click().run()
    assert not at.exception
    c = mixture_clusters(f.codes[tr], ds.labels[tr], f.codes[te], ds.labels[te], ds.classes)
    assert metric(at, "macro F1") == f"{c.report['macro avg']['f1-score']:.4f}"
    assert any(f"chose {c.n_components}" in m.value for m in at.markdown)
    bic = json.loads(at.get("plotly_chart")[1].proto.spec)  # map, then the BIC chart
    assert decoded(bic["data"][0]["x"]).tolist() == sorted(c.bic)


def test_generation_between_3_and_8_shows_the_classifier_probabilities(settings, vae) -> None:
    run, ds, features = vae
    tr = ds.indices("train")
    at = open_page("latent", run="digits-vae")
    at.selectbox(key="latent_gen_a").set_value("3")
    at.selectbox(key="latent_gen_b").set_value("8")
    at.slider(key="latent_gen_steps").set_value(9).run()
    assert not at.exception
    assert at.selectbox(key="latent_gen_clf").value == "digits-classifier"
    clf = open_store(settings).get("digits-classifier")
    strip = decode_between(run, features.codes[tr], ds.labels[tr], 10, 3, 8, 9, clf)
    table = next(d.value for d in at.dataframe if "P(3)" in d.value.columns)
    np.testing.assert_allclose(table["P(3)"], strip.proba[:, 3], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(table["P(8)"], strip.proba[:, 8], rtol=1e-5, atol=1e-6)
    assert np.flatnonzero(table["most ambiguous"]).tolist() == sorted(strip.ambiguous.tolist())
    strip_images = next(el for el in at.get("image") if el.captions and el.captions[0].startswith("t 0.00"))
    assert len(strip_images.value) == 9
    assert strip_images.captions[4].split("  \n")[1:] == [f"3: {strip.proba[4, 3]:.2f}",
                                                         f"8: {strip.proba[4, 8]:.2f}"]
    ambiguous = at.get("image")[[i for i, el in enumerate(at.get("image")) if el is strip_images][0] + 1]
    assert len(ambiguous.value) == len(strip.ambiguous) == 3
    # bad input: the same class twice
    at.selectbox(key="latent_gen_b").set_value("3").run()
    assert not at.exception
    assert any("two different classes" in e.value for e in at.error)


def test_classifier_run_compares_margins_and_mistakes_but_cannot_generate(settings) -> None:
    at = open_page("latent", run="digits-classifier")
    assert any("needs a decoder" in i.value for i in at.info)
    assert "predicted class" in at.radio(key="latent_colour").options
    assert any(c.value.startswith("Codes: the penultimate layer") for c in at.caption)
    run = open_store(settings).get("digits-classifier")
    ds = load_dataset(run_config(run).dataset, settings)
    f = extract(run, settings, ds)
    te = ds.indices("test")
    wrong = te[f.proba[te].argmax(1) != ds.labels[te]]
    assert any(m.value.startswith(f"**{len(wrong)}** misclassified test images") for m in at.markdown)
    at.radio(key="latent_colour").set_value("predicted").run()
    assert not at.exception
    assert sum(len(decoded(t["x"])) for t in map_traces(at)) == N_DIGITS


def test_umap_and_tsne_start_when_the_page_opens_report_progress_and_cancel(settings,
                                                                           monkeypatch) -> None:
    # a small two-class run of its own keeps t-SNE (and this test) quick
    monkeypatch.setenv("DASH_AUTO_PROJECTIONS", "1")
    store = open_store(settings)
    config = TrainConfig(dataset="digits?classes=3,8", model="mlp", model_params={"hidden": [16]},
                         loss="bce", epochs=2, schedule="none", lr=1e-2)
    run = store.create(config)
    assert train_run(run, config)[0] == "done"
    n = len(load_dataset(config.dataset, settings).images)
    umap_params, tsne_params = {"n_neighbors": 15}, {"perplexity": 30.0}
    at = open_page("latent", run=run.id)
    # both started on their own; the map shows PCA meanwhile, with a progress bar per job
    umap_job, tsne_job = job_status(run, settings, "umap", umap_params), \
        job_status(run, settings, "tsne", tsne_params)
    assert umap_job["state"] == tsne_job["state"] == "running"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "PCA 1"
    assert len(at.get("progress")) == 2
    assert at.button(key="latent_cancel_umap") and at.button(key="latent_cancel_tsne")
    # Cancel stops UMAP's process; the page says so and offers to compute it again
    at.button(key="latent_cancel_umap").click().run()
    assert not at.exception
    assert job_status(run, settings, "umap", umap_params)["state"] == "cancelled"
    assert not jobs.pid_alive(umap_job["pid"])
    at.radio(key="latent_method").set_value("umap").run()
    assert any("UMAP was cancelled" in i.value for i in at.info)
    assert at.button(key="latent_compute").label == "Compute UMAP in the background"
    # a value typed just before the click is the one computed (the button's args are the drawn run's)
    at.number_input(key="latent_neighbours").set_value(20)
    at.button(key="latent_compute").click().run()
    assert (job_status(run, settings, "umap", {"n_neighbors": 20}) or {}).get("state") in ("running", "done")
    assert job_status(run, settings, "umap", umap_params)["state"] == "cancelled"  # not restarted
    cancel_background(run, settings, "umap", {"n_neighbors": 20})
    at.number_input(key="latent_neighbours").set_value(15).run()
    # t-SNE reports a growing fraction until it is done, then the map draws it
    at.radio(key="latent_method").set_value("tsne").run()
    assert any("Showing PCA until t-SNE is computed" in c.value for c in at.caption)
    fractions = []

    def finished():
        status = job_status(run, settings, "tsne", tsne_params)
        fractions.append(status.get("fraction", 0.0))
        return status["state"] != "running" and status

    status = wait_for(finished, timeout=240, every=0.2)
    assert status["state"] == "done" and status["fraction"] == 1.0
    assert fractions == sorted(fractions) and any(0 < f < 1 for f in fractions)
    at.run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "t-SNE 1"
    assert sum(len(decoded(t["x"])) for t in map_traces(at)) == n
    assert len(at.get("progress")) == 0  # nothing left running
    # a cancelled job is not restarted by opening the page again
    at.radio(key="latent_method").set_value("pca").run()
    assert job_status(run, settings, "umap", umap_params)["state"] == "cancelled"


def test_no_runs_gives_guidance(settings, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DASH_WEIGHTS", str(tmp_path / "no-weights"))
    at = open_page("latent")
    assert "No run with a checkpoint" in at.info[0].value


# -- pure helpers ------------------------------------------------------------------------------
def test_selection_maps_to_rows_through_customdata_whatever_the_trace() -> None:
    # what st.plotly_chart returns for a box over three traces (class 0, class 5, the centres)
    selection = {
        "points": [
            {"curve_number": 0, "point_number": 3, "point_index": 3, "x": 0.1, "y": 0.2,
             "customdata": 1201, "legendgroup": ""},
            {"curve_number": 5, "point_number": 3, "point_index": 3, "x": 0.1, "y": 0.3,
             "customdata": 17},
            {"curve_number": 5, "point_number": 0, "point_index": 0, "x": 0.2, "y": 0.3,
             "customdata": [42]},
            {"curve_number": 10, "point_number": 2, "point_index": 2, "x": 0.0, "y": 0.0},  # centre
            {"curve_number": 0, "point_number": 3, "point_index": 3, "customdata": 1201},  # again
        ],
        "point_indices": [3, 3, 0, 2, 3], "box": [{"x": [0, 1], "y": [0, 1]}], "lasso": [],
    }
    assert selected_rows(selection).tolist() == [1201, 17, 42]
    assert selected_rows(selection, limit=1000).tolist() == [17, 42]
    assert selected_rows(None).tolist() == []
    assert selected_rows({"points": [], "point_indices": [], "box": [], "lasso": []}).tolist() == []


def test_scatter_figure_carries_rows_on_every_trace() -> None:
    xy = np.random.default_rng(0).normal(size=(50, 2))
    ids = np.arange(50) * 7
    colour = np.array(list("abcde") * 10, dtype=object)
    fig = latent_scatter_figure(xy, ids, colour, "class", order=list("edcba"),
                                centres={"a": (0.0, 0.0)})
    data = [t for t in fig.data if t.customdata is not None]
    assert [t.name for t in data] == list("edcba")
    assert sorted(np.concatenate([t.customdata for t in data]).tolist()) == ids.tolist()
    for t in data:  # positions travel with their rows
        rows = np.asarray(t.customdata) // 7
        np.testing.assert_allclose(t.x, xy[rows, 0], rtol=1e-6)
    assert fig.layout.dragmode == "select"
    assert fig.data[-1].customdata is None and fig.data[-1].text == ("a",)


def test_strip_png_is_one_row_of_upscaled_images() -> None:
    from io import BytesIO

    from PIL import Image

    images = np.zeros((3, 1, 8, 8), dtype=np.uint8)
    im = Image.open(BytesIO(strip_png(images)))
    assert im.size == (3 * 72 + 2 * 4, 72)
