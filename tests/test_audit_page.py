"""The Audit page in AppTest: start the audit in the background, see the leak count and the
galleries, save decisions, train a sibling run on them and see the comparison."""
from __future__ import annotations

import numpy as np
from streamlit.runtime.memory_media_file_storage import _calculate_file_id

from core.audit.report import AuditOptions, finished_report, job_file
from core.data import labels as decided
from core.data.dataset import load_dataset
from core.runs import jobs
from core.runs.store import RunState, open_store
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from dashboard.images import gallery_png, to_display
from dashboard.sections.audit import GALLERY
from tests.apptest_helpers import metric, open_page
from tests.polling import wait_for


def test_audit_page_find_decide_retrain_compare(settings) -> None:
    store = open_store(settings)
    config = TrainConfig(model="mlp", epochs=2, threads=1, model_params={"hidden": [16]})
    run = store.create(config)
    train_run(run, config)
    at = open_page("audit", run=run.id)
    at.number_input(key="audit_folds").set_value(2).run()
    # a value typed just before the click, not yet drawn by a run: the audit starts with it (the
    # button's args are those of the run that drew it, with 3 epochs)
    at.number_input(key="audit_epochs").set_value(1)
    at.button(key="audit_start").click().run()
    options = AuditOptions(folds=2, epochs=1, max_minutes=30.0)
    path = job_file(settings, run.id, options)
    assert jobs.job_status(path) is not None, "the audit started with options other than those shown"
    status = wait_for(lambda: (s := jobs.job_status(path)) and s["state"] != jobs.JOB_RUNNING and s,
                      timeout=300, every=0.5)
    assert status["state"] == jobs.JOB_DONE, status
    at.run()
    assert not at.exception, at.exception
    assert metric(at, "Train/test leaks") == "0"  # scikit-learn's digits hold no copies
    assert int(metric(at, "Images audited").replace(",", "")) > 1000
    # the label-issue gallery is one picture: the one built from the report, most likely first
    report = finished_report(settings, run.id, options)
    issues = report["label_issues"][:GALLERY]
    images = load_dataset("digits", settings).images[[r["index"] for r in issues]]
    png = gallery_png(to_display(images), [f"#{r['index']} {r['given']}->{r['suggested']}\n"
                                           f"{r['score']:.3f}" for r in issues], label_lines=2)
    assert _calculate_file_id(png, "image/png") in at.get("image")[0].proto.imgs[0].url
    at.button(key="audit_save").click().run()
    assert not at.exception, at.exception
    saved = decided.read(decided.decisions_dir(settings.workspace) / "fixes.csv")[0]
    assert len(saved) == 40 and all(d.action == decided.Action.KEEP for d in saved)
    at.button(key="audit_retrain").click().run()
    sibling = next(r for r in store.list() if r.id != run.id and not r.read_only)
    assert run_config(sibling).dataset == "digits?labels=fixes.csv"
    wait_for(lambda: sibling.status()["state"] not in (RunState.QUEUED, RunState.RUNNING),
             timeout=300, every=0.5)
    assert sibling.status()["state"] == RunState.DONE
    at.run()
    assert not at.exception, at.exception
    assert any("changed prediction" in c.value for c in at.caption)
    assert len(at.table) == 1
    table = at.table[0].value  # one type per column (a mixed column made pyarrow fail to draw it)
    n_test = f"{int((load_dataset('digits', settings).split == 2).sum()):,}"
    assert table["original"].iloc[-1] == n_test and table["with fixes"].iloc[-1] == n_test
    assert all(isinstance(v, str) for v in [*table["original"], *table["with fixes"]])


def test_data_page_shows_the_decisions_applied(settings) -> None:
    decided.save(decided.decisions_dir(settings.workspace) / "fixes.csv",
                 [decided.Decision(0, decided.Action.EXCLUDE), decided.Decision(1, decided.Action.RELABEL, "7")])
    ds = load_dataset("digits?labels=fixes.csv", settings)
    before = load_dataset("digits", settings)
    at = open_page("data", dataset="digits?labels=fixes.csv")
    assert any("1 relabelled, 1 excluded" in m.value for m in at.markdown)
    table = at.table[0].value
    train = before.split == 0
    assert table["train before"].tolist() == np.bincount(before.labels[train], minlength=10).tolist()
    assert table["train after"].tolist() == np.bincount(ds.labels[ds.split == 0], minlength=10).tolist()
