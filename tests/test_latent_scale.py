"""No page falls over at Kuzushiji-49 size: the Data, Evaluate and Latent pages through AppTest on
270,912 generated 28x28 images in 49 skewed classes (the real .npz format), with a run whose
numbers the test recomputes with scikit-learn."""
from __future__ import annotations

import json

import pytest
from sklearn.metrics import balanced_accuracy_score

from core.data.dataset import load_dataset
from core.evaluation.classification import predict
from core.runs.store import open_store
from core.training.config import TrainConfig
from core.training.runner import train_run
from tests.apptest_helpers import metric, open_page
from tests.bench.scale_ladder_data import K49_CLASSES, K49_TEST, K49_TRAIN, write_k49_sized
from tests.data_writers import write_k49

N = K49_TRAIN + K49_TEST


@pytest.fixture(scope="module")
def k49_run(tmp_path_factory):
    """(settings env, run id, spec): an MLP trained for one epoch on a small 49-class set, whose
    files are then replaced by K49-size ones under the same spec (so the run is evaluated and
    mapped on 270,912 images without an hour of training)."""
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("k49")
    mp.setenv("DASH_WORKSPACE", str(base / "workspace"))
    mp.setenv("DASH_DATA_ROOTS", str(base / "data"))
    mp.setenv("DASH_AUTO_PROJECTIONS", "0")
    from core.settings import Settings

    settings = Settings.from_env()
    root = base / "data" / "k49"
    write_k49(root, n_train=2_000, n_test=500)
    spec = f"k49?root={root}"
    config = TrainConfig(dataset=spec, model="mlp", model_params={"hidden": [32]}, epochs=1,
                         schedule="none", lr=1e-2)
    run = open_store(settings).create(config)
    assert train_run(run, config)[0] == "done"
    write_k49_sized(root, compressed=False)  # the same format; compressing took ~40 s here
    yield settings, run.id, spec
    mp.undo()


def test_evaluate_page_at_k49_size(k49_run) -> None:
    settings, run_id, _ = k49_run
    at = open_page("evaluate", timeout=600, run=run_id)
    p = predict(open_store(settings).get(run_id), "test", settings)
    assert len(p.y_true) == K49_TEST and p.proba.shape[1] == K49_CLASSES
    assert metric(at, "balanced accuracy") == f"{balanced_accuracy_score(p.y_true, p.y_pred):.4f}"
    assert at.dataframe[0].value.shape[0] == K49_CLASSES
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    legends = [c["layout"].get("legend", {}).get("title", {}).get("text") for c in charts]
    curves = [c for c, title in zip(charts, legends) if title in ("ROC AUC", "average precision")]
    assert len(curves) == 2, legends  # ROC and PR, thinned: a few thousand points, not 10 MB of JSON
    assert all(len(json.dumps(c)) < 2_000_000 for c in curves)
    at.multiselect(key="roc_classes").set_value(["あ", "ぎ"]).run()  # a class change
    assert not at.exception


def test_latent_page_at_k49_size_draws_a_stated_sample(k49_run) -> None:
    _, run_id, _ = k49_run
    at = open_page("latent", timeout=600, run=run_id)
    assert any(f"Showing a random sample of 100,000 of {N:,} images" in c.value for c in at.caption)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    traces = [t for t in spec["data"] if "customdata" in t]
    assert {t["type"] for t in traces} == {"scattergl"} and len(traces) == K49_CLASSES


def test_data_page_at_k49_size(k49_run) -> None:
    settings, _, spec = k49_run
    at = open_page("data", timeout=600, dataset=spec)  # the link a user would open
    ds = load_dataset(spec, settings)
    counts = {m.label: m.value for m in at.metric}
    assert counts["classes"] == str(K49_CLASSES)
    assert sum(int(v.replace(",", "")) for k, v in counts.items() if k.endswith(" images")) == N
    assert len(ds.images) == N
