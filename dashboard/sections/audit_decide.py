"""Audit page: decide per image (keep / relabel / exclude) or in bulk, write the decisions file,
train a sibling run on it and compare."""
from __future__ import annotations

import streamlit as st

from core.audit.compare import HEADLINE, compare_runs, sibling_config
from core.data import labels as decided
from core.data.spec import DECISIONS_NAME
from core.errors import UserError
from core.runs.jobs import launch_training
from core.runs.store import RunState, open_store
from core.training.config import TrainConfig, run_config
from dashboard import state
from dashboard.text import plain

EDITED = 40  # label issues offered in the table
ACTIONS = [str(a) for a in decided.Action]


def _path(name: str):
    return decided.decisions_dir(state.settings().workspace) / name


def decisions_name_ui(key: str = "audit_file") -> str | None:
    name = st.text_input("Decisions file (in the workspace)", "fixes.csv", key=key,
                         help="A dataset spec names it as labels=NAME; the original data is never changed")
    if not DECISIONS_NAME.fullmatch(name.strip()):
        st.error("A decisions file name looks like fixes.csv (letters, digits, . _ -).")
        return None
    return name.strip()


def _existing(name: str) -> list[decided.Decision]:
    if not _path(name).exists():
        return []
    try:
        return decided.read(_path(name))[0]
    except UserError as exc:
        st.error(plain(exc))
        return []


def save_decisions(name: str, new: list[decided.Decision]) -> str:
    """Merge new into the decisions file name (an atomic write; an unreadable file is left as
    it is); the line to show, starting "error:" when nothing was written."""
    try:
        old = decided.read(_path(name))[0] if _path(name).exists() else []
        decided.save(_path(name), decided.merge(old, new))
        return f"{len(new)} decision(s) written to {name}"
    except (UserError, OSError) as exc:
        return f"error: {name} was not changed: {exc}"


def _save(name: str, new: list[decided.Decision]) -> None:
    st.session_state["audit_saved"] = save_decisions(name, new)


def render_decide(report: dict, name: str) -> None:
    issues = report["label_issues"][:EDITED]
    existing = _existing(name)
    current = {d.index: d for d in existing if d.index is not None}
    current.update({r["index"]: d for d in existing if d.file and d.index is None
                    for r in issues if r.get("file") == d.file})  # rows a person named by file
    file_of = {r["index"]: r.get("file") or "" for r in issues}
    rows = [{"index": r["index"], "given": r["given"], "suggested": r["suggested"],
             "score": round(r["score"], 4),
             "action": str(current[r["index"]].action) if r["index"] in current else "keep",
             "label": current[r["index"]].label if r["index"] in current else r["suggested"]}
            for r in issues]
    edited = st.data_editor(rows, key="audit_editor", hide_index=True, disabled=["index", "given",
                                                                                 "suggested", "score"],
                            column_config={"action": st.column_config.SelectboxColumn(options=ACTIONS),
                                           "label": st.column_config.SelectboxColumn(options=report["classes"])})
    cols = st.columns(2)
    if cols[0].button("Save these decisions", key="audit_save"):
        today = decided.today()
        _save(name, [decided.Decision(int(r["index"]), decided.Action(r["action"]),
                                      r["label"] if r["action"] == "relabel" else "",
                                      "audit: label issue", today, file_of.get(r["index"], ""))
                     for r in edited])
    leaks = [d for d in report["duplicates"] if d["leak"]]
    if cols[1].button(f"Exclude all {len(leaks)} duplicates of test images", key="audit_bulk",
                      disabled=not leaks):
        today = decided.today()
        side = [("a", "file_a") if d["split_a"] != "test" else ("b", "file_b") for d in leaks]
        _save(name, [decided.Decision(d[i], decided.Action.EXCLUDE, "", "audit: copy of a test image", today,
                                      d.get(f) or "") for d, (i, f) in zip(leaks, side)])
    saved = st.session_state.pop("audit_saved", None)
    if saved:
        (st.error if saved.startswith("error") else st.success)(plain(saved))
    if current:
        counts = {a: sum(d.action == a for d in current.values()) for a in decided.Action}
        st.caption(f"{plain(name)}: " + ", ".join(f"{n} {a}" for a, n in counts.items()))


def _sibling(store, config: TrainConfig, name: str):
    """The newest run of this config on the fixed spec (found again after a reload), or None."""
    wanted = sibling_config(config, name).to_dict()
    for run in store.list():
        try:
            if not run.read_only and run_config(run).to_dict() == wanted:
                return run
        except UserError:
            continue
    return None


def _follow(sibling) -> None:
    if sibling.status().get("state") not in (RunState.QUEUED, RunState.RUNNING):
        st.rerun(scope="app")
    progress = sibling.status().get("progress") or {}
    st.progress(float(progress.get("fraction") or 0.0),
                text=f"sibling run {plain(sibling.name())}: epoch {progress.get('epoch', 0)}")


_following = st.fragment(run_every=1)(_follow)


def render_retrain(config: TrainConfig, run_id: str, name: str) -> None:
    store, cfg = open_store(state.settings()), state.settings()
    if st.button("Train again with these fixes", key="audit_retrain", disabled=not _path(name).exists()):
        try:
            launch_training(store.create(sibling_config(config, name)), cfg)
        except UserError as exc:
            st.error(plain(exc))
    sibling = _sibling(store, config, name)
    if sibling is None:
        return
    status = sibling.status()
    if status.get("state") in (RunState.QUEUED, RunState.RUNNING):
        _following(sibling)
        return
    if status.get("state") != RunState.DONE:
        st.warning(f"Sibling run {plain(sibling.name())}: {plain(status.get('state', '?'))} "
                   f"{plain(status.get('error') or '')}")
        return
    try:
        result = compare_runs(store.get(run_id), sibling, cfg)
    except UserError as exc:
        st.error(plain(exc))
        return
    st.caption(f"{plain(sibling.name())} against the original on the test split")
    st.table({"metric": [*HEADLINE, "test images"],
              "original": [f"{result['original'][k]:.4f}" for k in HEADLINE]
              + [f"{result['original']['n']:,}"],
              "with fixes": [f"{result['sibling'][k]:.4f}" for k in HEADLINE]
              + [f"{result['sibling']['n']:,}"]})
    st.caption(f"{result['n_changed']} test image(s) changed prediction")
    if result["changed"]:
        st.dataframe(result["changed"], key="audit_changed", hide_index=True)
