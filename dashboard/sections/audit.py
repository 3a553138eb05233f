"""Audit page sections: start/follow/cancel the background audit, the summary with the leak
count on top, one gallery picture per issue type."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import streamlit as st

from core.audit.report import AuditOptions, finished_report, job_file, start_background
from core.data.dataset import ImageDataset
from core.runs import jobs
from dashboard import state
from dashboard.images import gallery_png, to_display
from dashboard.text import plain

GALLERY = 40  # pictures per gallery


def options_ui() -> AuditOptions:
    cols = st.columns(3)
    folds = cols[0].number_input("Folds", 2, 10, 3, key="audit_folds",
                                 help="K: the config is trained K times, each on K-1 folds, and "
                                      "predicts the fold it did not see")
    epochs = cols[1].number_input("Epochs per fold", 1, 100, 3, key="audit_epochs")
    minutes = cols[2].number_input("Refuse beyond (minutes)", 1, 600, 30, key="audit_minutes")
    return AuditOptions(folds=int(folds), epochs=int(epochs), max_minutes=float(minutes))


def _options_now(drawn: AuditOptions) -> AuditOptions:
    """The options as the widgets hold them when a click is handled: a value typed just before
    the click may not have reached the run that drew the button (its args would be stale)."""
    now = st.session_state
    return replace(drawn, folds=int(now.get("audit_folds", drawn.folds)),
                   epochs=int(now.get("audit_epochs", drawn.epochs)),
                   max_minutes=float(now.get("audit_minutes", drawn.max_minutes)))


def _start(cfg, target: str, drawn: AuditOptions) -> None:
    start_background(cfg, target, _options_now(drawn))


def _progress(target: str, options: AuditOptions) -> None:
    status = jobs.job_status(job_file(state.settings(), target, options)) or {}
    if status.get("state") != jobs.JOB_RUNNING:
        st.rerun(scope="app")
    elapsed = time.time() - status.get("started", time.time())
    st.progress(float(status.get("fraction", 0.0)),
                text=f"{status.get('stage', 'starting')} · {elapsed:.0f} s")


_ticking = st.fragment(run_every=1)(_progress)


def _cancel(target: str, options: AuditOptions) -> None:
    jobs.cancel_job(job_file(state.settings(), target, options))


def render_job(target: str, options: AuditOptions) -> dict | None:
    """The finished report, or the start button / progress and cancel / the failure; None then."""
    cfg = state.settings()
    report = finished_report(cfg, target, options)
    if report is not None:
        return report
    status = jobs.job_status(job_file(cfg, target, options)) or {}
    if status.get("state") == jobs.JOB_RUNNING:
        _ticking(target, options)
        st.button("Cancel the audit", key="audit_cancel", on_click=_cancel, args=(target, options))
        return None
    if status.get("state") == jobs.JOB_FAILED:
        st.error(plain(status.get("error") or "the audit failed"))
    elif status.get("state") == jobs.JOB_CANCELLED:
        st.info("The audit was cancelled.")
    st.button("Start the audit", key="audit_start", type="primary",
              on_click=_start, args=(cfg, target, options),
              help="Runs `python -m core audit` in its own process; cached per dataset and config.")
    return None


def render_summary(report: dict) -> None:
    cols = st.columns(4)
    cols[0].metric("Train/test leaks", report["leaks"],
                   help="test images with a copy or near copy among the training or validation images")
    cols[1].metric("Label issues", report["n_label_issues"], help="flagged by cleanlab")
    cols[2].metric("Duplicate pairs", len(report["duplicates"]))
    cols[3].metric("Images audited", f"{report['audited']:,}")
    s = report["seconds"]
    st.caption(f"{report['folds']} folds x {report['epochs']} epochs; cross-fitting "
               f"{s['cross_fitting']:.1f} s, scoring {s['scoring']:.2f} s, duplicates "
               f"{s['duplicates']:.1f} s" + (" (from the cache)" if report.get("from_cache") else ""))


def _gallery(ds: ImageDataset, rows: list[int], captions: list[str]) -> None:
    if not rows:
        st.info("Nothing found.")
        return
    st.image(gallery_png(to_display(ds.images[np.asarray(rows)]), captions, label_lines=2))


def render_label_issues(ds: ImageDataset, report: dict) -> None:
    issues = report["label_issues"][:GALLERY]
    st.caption("Most likely wrong first (cleanlab's label-quality score, lowest first): "
               "given label -> the label the cross-fitted models suggest.")
    _gallery(ds, [r["index"] for r in issues],
             [f"#{r['index']} {r['given']}->{r['suggested']}\n{r['score']:.3f}" for r in issues])


def render_duplicates(ds: ImageDataset, report: dict) -> None:
    pairs = report["duplicates"][:GALLERY // 2]
    st.caption("Leaks (a test image and a training or validation image) first; each pair side by side.")
    rows, captions = [], []
    for d in pairs:
        rows += [d["a"], d["b"]]
        tag = "LEAK " if d["leak"] else ""
        captions += [f"{tag}#{d['a']} {d['split_a']}", f"#{d['b']} {d['split_b']}\n"
                     + ("exact" if d["exact"] else f"diff {d['pixel_diff']:.3f}")]
    _gallery(ds, rows, captions)


def render_outliers(ds: ImageDataset, report: dict) -> None:
    out = report["outliers"][:GALLERY]
    st.caption("Largest mean distance to the nearest training codes first.")
    _gallery(ds, [o["index"] for o in out], [f"#{o['index']} {o['label']}\n{o['score']:.3f}"
                                             for o in out])
