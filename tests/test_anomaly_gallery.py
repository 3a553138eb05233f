"""The Anomaly gallery's pictures: the test view reconstructed once (in chunks, with a progress
bar) and equal to core's reconstructions; one labelled PNG per gallery."""
from __future__ import annotations

import numpy as np

from core.anomaly.decisions import reconstructions
from core.anomaly.scores import compute_scores
from core.data.dataset import load_dataset
from core.runs.results import checkpoint_key
from core.runs.store import open_store
from core.training.config import run_config
from dashboard.sections import anomaly_gallery
from tests.apptest_helpers import open_page

RUN = "digits-anomaly-ae"


def test_test_view_is_reconstructed_once_and_matches_core(settings, monkeypatch) -> None:
    monkeypatch.setattr(anomaly_gallery, "CHUNK", 100)  # several chunks: the progress bar path
    anomaly_gallery._reconstructed.clear()
    at = open_page("anomaly", run=RUN)
    assert not at.exception, at.exception
    assert len(at.get("image")) == 3  # most anomalous, closest, wrong: one picture each

    run = open_store(settings).get(RUN)
    a = compute_scores(run, settings)
    kept = anomaly_gallery._reconstructed(run.id, checkpoint_key(run))
    view = a.index[a.part("test")]
    assert set(view.tolist()) <= kept.keys()  # the whole view, not only the rows shown

    ds = load_dataset(run_config(run).dataset, settings)
    some = view[::37]
    recon, err = reconstructions(run, ds.images[some])
    for i, r, e in zip(some, recon, err):
        assert np.array_equal(kept[int(i)][0], r) and np.array_equal(kept[int(i)][1], e)

    before = dict(kept)
    at.session_state["anomaly_threshold"] = float(np.quantile(a.scores["mse"][a.part("test")], 0.5))
    at.run()  # a committed threshold: new galleries, no new reconstruction
    assert not at.exception and kept.keys() == before.keys()
