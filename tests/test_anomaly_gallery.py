"""The Anomaly gallery's pictures: reconstructed in core with the scores, cached with them and
equal to core's reconstructions; the page only reads them (it never loads the model)."""
from __future__ import annotations

import numpy as np

from core import inference
from core.anomaly.decisions import reconstructions
from core.anomaly.scores import compute_scores
from core.data.dataset import load_dataset
from core.runs.store import open_store
from core.training.config import run_config
from tests.apptest_helpers import open_page

RUN = "digits-anomaly-ae"


def test_the_scores_carry_the_gallery_pictures_and_the_page_only_reads(settings) -> None:
    run = open_store(settings).get(RUN)
    a = compute_scores(run, settings)
    assert not a.from_cache and a.recon.dtype == a.err.dtype == np.uint8
    assert len(a.recon) == len(a.err) == len(a.index)
    ds = load_dataset(run_config(run).dataset, settings)
    some = np.arange(0, len(a.index), 37)
    recon, err = reconstructions(run, ds.images[a.index[some]])  # the model, run here
    assert np.array_equal(a.recon[some], recon) and np.array_equal(a.err[some], err)
    again = compute_scores(run, settings)
    assert again.from_cache and np.array_equal(again.recon, a.recon)

    inference._load_model_cached.cache_clear()
    at = open_page("anomaly", run=RUN)
    assert not at.exception, at.exception
    assert len(at.get("image")) == 3  # most anomalous, closest, wrong: one picture each
    at.session_state["anomaly_threshold"] = float(np.quantile(a.scores["mse"][a.part("test")], 0.5))
    at.run()  # a committed threshold: new galleries
    assert not at.exception and len(at.get("image")) == 3
    assert inference._load_model_cached.cache_info().currsize == 0  # no model in the script thread
