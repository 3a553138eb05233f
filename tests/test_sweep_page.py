"""The Sweep page through AppTest: define with a live count, start, watch to the end, compare."""
from __future__ import annotations

import json

from core.runs.store import open_store
from core.sweeps import results
from core.sweeps.study import list_sweeps
from core.sweeps.worker import worker_running
from tests.apptest_helpers import open_page
from tests.polling import wait_for


def _caption(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_define_count_start_watch_and_open_the_best(settings) -> None:
    at = open_page("sweep")
    assert "**4 trials**" in _caption(at)  # the default axes: 2 models x 2 learning rates
    at.text_area(key="sweep_axes").set_value("lr=0.01,0.003,0.001\nparam.hidden=[16],[32]").run()
    assert "**6 trials**" in _caption(at) and not at.error
    at.number_input(key="sweep_repeats").set_value(2).run()
    assert "**12 trials**" in _caption(at)
    at.text_area(key="sweep_axes").set_value("colour=red,blue").run()
    assert len(at.error) == 1 and at.error[0].value.startswith("An axis on unknown option 'colour'")
    at.text_area(key="sweep_axes").set_value("lr=0.01,-2").run()
    assert "learning rate must be in (0, 10" in at.error[0].value
    at.text_area(key="sweep_axes").set_value("lr=0.01,0.001\nparam.hidden=[16],[32]").run()
    at.number_input(key="sweep_repeats").set_value(1).run()
    at.number_input(key="sweep_epochs").set_value(1).run()
    next(b for b in at.button if b.key == "sweep_start").click().run()
    assert not at.exception and not at.error, at.error
    (sweep,) = list_sweeps(settings.workspace)
    wait_for(lambda: not worker_running(settings, sweep.id), timeout=300, every=0.5)
    rows = results.trials(settings.workspace, sweep)
    assert [r["state"] for r in rows] == ["complete"] * 4
    at.run()
    assert not at.exception and at.selectbox(key="sweep_selected").value == sweep.id
    assert at.query_params["sweep"] == sweep.id
    table = at.dataframe[0].value
    assert list(table.columns) == ["trial", "state", "val_acc", "lr", "param.hidden", "run", "why"]
    assert sorted(table["val_acc"]) == sorted(r["value"] for r in rows)
    (brush,) = [e for e in at.get("bidi_component") if e.proto.component_name == "parcoords_brush"]
    parcoords = json.loads(brush.proto.json)["figure"]
    assert parcoords["data"][0]["type"] == "parcoords"
    labels = [d["label"] for d in parcoords["data"][0]["dimensions"]]
    assert labels == ["lr", "param.hidden", "val_acc"]
    best = results.best(rows, maximize=True)
    at.text_input(key=f"sweep_promote_{best['run']}").set_value("best of the sweep")
    next(b for b in at.button if b.key == f"sweep_promote_go_{best['run']}").click().run()
    assert open_store(settings).get(best["run"]).name() == "best of the sweep"
    next(b for b in at.button if b.key == f"open_evaluate_{best['run']}").click().run()
    assert not at.exception
    assert at.selectbox(key="run_picker").value == best["run"]
    # the Runs page keeps one sweep's runs and shows what two of them differ in
    at = open_page("runs")
    at.selectbox(key="runs_sweep").set_value(sweep.id).run()
    assert not at.exception
    assert set(at.dataframe[0].value["id"]) == {r["run"] for r in rows}
    at.text_input(key="runs_query").set_value("lr<0.005 param.hidden=[32]").run()
    assert list(at.dataframe[0].value["id"]) == [rows[3]["run"]]  # lr 0.001, hidden [32]
    cut = sorted(r["value"] for r in rows)[2]
    at.text_input(key="runs_query").set_value(f"best>={cut!r}").run()
    assert set(at.dataframe[0].value["id"]) == {r["run"] for r in rows if r["value"] >= cut}
    at.text_input(key="runs_query").set_value("lr<").run()
    assert at.error[0].value.startswith("Cannot read")
    at.text_input(key="runs_query").set_value("model=nothing").run()
    assert any(i.value == "No run matches the filter." for i in at.info)
    at.text_input(key="runs_query").set_value("").run()
    first, second = rows[0]["run"], rows[2]["run"]  # lr 0.01 and 0.001, the same hidden size
    at.multiselect(key="runs_selected").set_value([first, second]).run()
    diff = at.dataframe[-1].value  # the config diff, below the table
    assert list(diff["field"]) == ["lr", "name", "sweep"]
    assert list(diff.iloc[0, 1:]) == ["0.01", "0.001"]
