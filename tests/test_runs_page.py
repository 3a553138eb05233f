"""The Runs page through AppTest, and run names wherever a run id is accepted (the CLI)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.errors import UserError
from core.runs.store import open_store
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from tests.apptest_helpers import open_page
from tests.polling import wait_for


@pytest.fixture
def run(settings):
    config = TrainConfig(dataset="digits?classes=1,7", model="mlp", model_params={"hidden": [8]},
                         epochs=1, schedule="none", name="ones and sevens")
    run = open_store(settings).create(config)
    assert train_run(run, config)[0] == "done"
    return run


def test_the_table_shows_ids_and_a_rename_keeps_the_comparison(settings, run) -> None:
    at = open_page("runs")
    table = at.dataframe[0].value
    assert run.id in set(table["id"]) and "digits-classifier" in set(table["id"])
    at.multiselect(key="runs_selected").set_value([run.id, "digits-classifier"]).run()
    at.text_input(key=f"name_{run.id}").set_value("renamed run").run()
    assert not at.exception, at.exception
    assert open_store(settings).get(run.id).name() == "renamed run"
    assert at.multiselect(key="runs_selected").value == [run.id, "digits-classifier"]
    assert "renamed run" in at.get("plotly_chart")[0].proto.spec
    assert at.query_params["runs"] == f"{run.id},digits-classifier"


def test_a_broken_run_is_listed_with_its_reason_and_deleted(settings) -> None:
    folder = settings.runs_dir / "20000101-000000-abcdef"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('"a string"')
    (folder / "status.json").write_text("[]")
    at = open_page("runs", runs=folder.name)
    row = at.dataframe[0].value.set_index("id").loc[folder.name]
    assert row["status"] == "broken" and "config.json" in row["problem"]
    assert any("cannot be read" in e.value for e in at.error)
    at.checkbox(key=f"confirm_{folder.name}").check().run()
    at.button(key=f"del_{folder.name}").click().run()
    assert not at.exception, at.exception
    assert not folder.exists()


def test_the_cli_takes_a_unique_run_name(settings, run) -> None:
    by_name = subprocess.run([sys.executable, "-m", "core", "evaluate", "ones and sevens",
                              "--json"], capture_output=True, text=True, timeout=300)
    by_id = subprocess.run([sys.executable, "-m", "core", "evaluate", run.id, "--json"],
                           capture_output=True, text=True, timeout=300)
    assert by_name.returncode == 0, by_name.stderr
    assert json.loads(by_name.stdout) == json.loads(by_id.stdout)
    twin = open_store(settings).create(run_config(run))  # a second run with the same name
    with pytest.raises(UserError, match=f"2 runs are named 'ones and sevens'.*{twin.id}"):
        open_store(settings).get("ones and sevens")
    assert open_store(settings).get(twin.id).id == twin.id


def test_resume_from_the_page_and_not_while_another_process_trains_it(settings) -> None:
    from core.runs.lock import RunLock

    config = TrainConfig(dataset="digits?classes=1,7", model="mlp", model_params={"hidden": [8]},
                         epochs=3, schedule="none", name="stopped early")
    run = open_store(settings).create(config)
    state, _ = train_run(run, config, echo=lambda r: r["epoch"] == 1 and run.request_stop())
    assert state == "stopped" and run.resumable()
    at = open_page("runs", runs=run.id)
    resume = at.button(key=f"resume_{run.id}")
    with RunLock(run.path):  # another tab's resume is training it now: this click starts nothing
        resume.click().run()
        assert not at.exception, at.exception
        assert not [b for b in at.button if b.key == f"resume_{run.id}"]  # and the button is gone
    assert run.status()["state"] == "stopped"  # nothing was started twice
    at.run()  # the lock is free again: Resume is back, and resumes
    at.button(key=f"resume_{run.id}").click().run()
    assert not at.exception, at.exception
    assert run.status()["state"] in ("queued", "running", "done")
    wait_for(lambda: run.status()["state"] == "done", timeout=120)
    assert [m["epoch"] for m in run.metrics() if m["type"] == "epoch"][-1] == 3
