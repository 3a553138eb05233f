"""Run folders with junk in them (an unreadable or non-object config.json, a metrics line that is
not an object, a pid that is not a number) are listed on the Runs page, the broken ones with the
reason, each can be deleted there, and Train and Evaluate still work beside them."""
from __future__ import annotations

import json
import shutil
import socket

import pytest
from playwright.sync_api import expect

from core.settings import REPO_ROOT
from tests.e2e import journey as j

pytestmark = pytest.mark.browser
# Old ids: listed after every real run, so other journeys' default choices are unaffected.
BROKEN = {"19990101-000000-aaaaaa": "config.json",
          "19990101-000000-bbbbbb": "config.json",
          "19990101-000000-dddddd": "pid"}  # a pid that names no process: status.json is junk
ODD = ("19990101-000000-cccccc",)  # junk metrics lines are skipped; the run itself is fine


def _write_run_folders(runs_dir) -> None:
    good_config = (REPO_ROOT / "weights" / "digits-classifier" / "config.json").read_text()
    folders = {
        "19990101-000000-aaaaaa": {"config.json": "{not json", "status.json": '{"state": "done"}'},
        "19990101-000000-bbbbbb": {"config.json": "[1, 2]", "status.json": '{"state": "done"}'},
        "19990101-000000-cccccc": {"config.json": good_config, "status.json": '{"state": "done"}',
                                   "metrics.jsonl": '5\n{"epoch": 1, "val_loss": 0.5}\n"x"\n'},
        "19990101-000000-dddddd": {"config.json": good_config, "status.json": json.dumps(
            {"state": "running", "pid": "abc", "host": socket.gethostname()})},
    }
    for run_id, files in folders.items():
        (runs_dir / run_id).mkdir(parents=True)
        for name, text in files.items():
            (runs_dir / run_id / name).write_text(text)


def test_broken_run_folders_are_listed_and_deletable(page, journey_app):
    runs_dir = journey_app.workspace / "runs"
    _write_run_folders(runs_dir)
    ids = [*BROKEN, *ODD]
    try:
        page.goto(journey_app.url + "/runs?runs=" + ",".join(ids))
        rows = {r[1]: r for r in j.table_rows(page, "runs_table")}
        for run_id, reason in BROKEN.items():
            assert rows[run_id][2] == "broken" and reason in rows[run_id][3], rows[run_id]
        assert all(rows[run_id][2] != "broken" for run_id in ODD)
        for run_id in BROKEN:
            panel = page.locator('[data-testid="stExpander"]', has_text=run_id)
            expect(panel).to_contain_text(f"{run_id} · broken")
            expect(panel).to_contain_text("This run folder cannot be read")
        j.no_exception(page)
        for title in ("Train", "Evaluate", "Anomaly"):
            j.go(page, title)
            j.settle(page)
            j.no_exception(page)

        j.go(page, "Runs")
        for run_id in ids:
            j.open_expander(page, run_id)
            page.locator(f".st-key-confirm_{run_id}").get_by_text("Really delete").click()
            delete = page.locator(f".st-key-del_{run_id} button")
            expect(delete).to_be_enabled()
            delete.click()
            expect(page.locator('[data-testid="stExpander"]', has_text=run_id)).to_have_count(
                0, timeout=60_000)
            j.settle(page)
        assert not any((runs_dir / run_id).exists() for run_id in ids)
        j.no_exception(page)
        j.shot(page, "broken_runs_deleted.png")
    finally:
        for run_id in ids:
            shutil.rmtree(runs_dir / run_id, ignore_errors=True)
