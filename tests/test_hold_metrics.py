"""Resume never drops history: metrics.jsonl is cut after the checkpoint's step by streaming it
through a fixed buffer, not by re-writing what a bounded reader happened to read. The bounds are
made small here so that a file of a few KB or MB stands for one of hundreds of MB."""
from __future__ import annotations

import json
import tracemalloc

import core.runs.metrics as metrics
from core.runs.store import open_store
from core.training import checkpoint
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run

TINY = dict(dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=4,
            batch_size=64, lr=1e-2, schedule="none", log_every=1, threads=1)


def test_keep_until_streams_and_keeps_every_earlier_line(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(metrics, "COPY_CHUNK", 64 * 1024)
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"type": "step", "step": i, "epoch": i / 1000, "train_loss": 1 / (i + 1),
                         "note": "x" * 40}).encode() for i in range(30_000)]
    junk = b"not json at all"
    overlong = json.dumps({"type": "step", "step": 1, "pad": "y" * (metrics.MAX_LINE_BYTES + 10)}).encode()
    nested = b'{"type": "step", "x": {"step": 1}, "step": 25000}'  # a later record, however it is spelled
    escaped = b'{"type": "epoch", "\\u0073tep": 7, "epoch": 1}'  # "step" spelled with an escape: kept
    body = lines[:100] + [junk, overlong, nested, escaped] + lines[100:]
    path.write_bytes(b"\n".join(body) + b"\n" + b'{"type": "step", "st')  # a killed write at the end
    assert path.stat().st_size > 4_000_000
    tracemalloc.start()
    metrics.keep_until(path, after_step=20_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000, peak  # a few chunks, not the 4 MB file
    expected = lines[:100] + [junk, escaped] + lines[100:20_001]
    assert path.read_bytes() == b"\n".join(expected) + b"\n"


def test_a_whole_last_record_without_newline_is_kept_and_ended(tmp_path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"type": "step", "step": 1}\n{"type": "epoch", "step": 2, "epoch": 1}')
    metrics.keep_until(path, after_step=5)
    assert path.read_bytes() == b'{"type": "step", "step": 1}\n{"type": "epoch", "step": 2, "epoch": 1}\n'


def test_resuming_a_run_larger_than_the_read_bound_keeps_every_epoch(settings, monkeypatch) -> None:
    run = open_store(settings).create(TrainConfig(**TINY))
    state, _ = train_run(run, run_config(run), echo=lambda r: r["epoch"] == 2 and run.request_stop())
    assert state == "stopped" and checkpoint.load(run.checkpoint("last"))["epoch"] == 2
    (run.path / "stop").unlink()
    before = (run.path / "metrics.jsonl").read_bytes().splitlines()
    step = checkpoint.load(run.checkpoint("last"))["step"]
    # readers see only the newest 2 KB of the file: less than one epoch of step records
    monkeypatch.setattr(metrics, "MAX_READ_BYTES", 2048)
    assert len(before) * 100 > 2 * 2048
    state, _ = train_run(run, run_config(run), resume=True)
    assert state == "done"
    after = (run.path / "metrics.jsonl").read_bytes().splitlines()
    kept = [line for line in before if json.loads(line)["step"] <= step]
    assert after[:len(kept)] == kept  # every line up to the checkpoint, byte for byte
    monkeypatch.setattr(metrics, "MAX_READ_BYTES", 1 << 30)
    epochs = [m["epoch"] for m in run.metrics() if m["type"] == "epoch"]
    assert epochs == [1, 2, 3, 4]
    steps = [m["step"] for m in run.metrics() if m["type"] == "step"]
    assert steps == sorted(set(steps))
