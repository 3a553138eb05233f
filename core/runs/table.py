"""One row per run for the Runs page and `python -m core runs`: plain values, no UI."""
from __future__ import annotations

import io
import time
import zipfile

from core.runs.store import Run, RunState


def run_row(run: Run) -> dict:
    """Plain values for one run. A damaged folder still gets a row (status "broken", the reason
    under "problem") so it can be seen and deleted."""
    status = run.status()
    problem = status.get("error") if status["state"] == RunState.BROKEN else None
    dataset = model = None
    if problem is None:
        config = run.config_dict()  # as written: the store does not judge settings
        dataset, model = config.get("dataset"), config.get("model")
    progress = status.get("progress") or {}
    started, finished = status.get("started"), status.get("finished")
    seconds = (finished or status.get("heartbeat") or 0) - started if started else None
    return {
        "id": run.id,
        "name": run.name(),
        "status": status["state"],
        "problem": problem,
        "warnings": "; ".join(status.get("warnings") or []) or None,
        "resumable": run.resumable(),
        "shipped": run.read_only,
        "dataset": dataset,
        "model": model,
        "parameters": status.get("n_parameters"),
        "monitor": status.get("monitor"),
        "best": status.get("best_metric"),
        "epochs": progress.get("epoch"),
        "seconds": round(seconds, 1) if seconds is not None else None,
        "started": _local_time(started),
    }


def _local_time(seconds: float | None) -> str | None:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds)) if seconds else None
    except (OverflowError, ValueError, OSError):  # a timestamp no clock can show
        return None


def export_zip(run: Run) -> bytes:
    """config.json, status.json, metrics.jsonl and the best checkpoint, for download."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("config.json", "status.json", "metrics.jsonl", "best.pt", "meta.json"):
            path = run.path / name
            if path.exists():
                zf.write(path, f"{run.id}/{name}")
    return buf.getvalue()
