"""The incremental metrics.jsonl reader the live pages poll: only new bytes are read, a partial
last line waits for its end, a rewritten file starts over, junk is skipped."""
from __future__ import annotations

import json
from pathlib import Path

from core.runs import metrics
from core.runs.metrics import MetricsReader, RecordType, read_records
from core.runs.store import RunStore
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run


def line(step: int, loss: float = 1.0) -> bytes:
    return (json.dumps({"type": "step", "step": step, "train_loss": loss, "epoch": step / 100})
            + "\n").encode()


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def test_each_poll_returns_only_what_was_appended(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    reader = MetricsReader(path)
    assert reader.poll() == ([], False)  # no file yet
    append(path, line(1) + line(2))
    new, reset = reader.poll()
    assert [r["step"] for r in new] == [1, 2] and not reset
    assert reader.poll() == ([], False)
    append(path, line(3))
    assert [r["step"] for r in reader.poll()[0]] == [3]
    assert [r["step"] for r in reader.records] == [1, 2, 3]


def test_bytes_already_read_are_not_read_again(tmp_path: Path) -> None:
    """Overwrite the first line in place (same file, same size): a reader that re-parsed the
    whole file would now see junk there; the incremental one keeps what it read."""
    path = tmp_path / "metrics.jsonl"
    append(path, line(1) + line(2))
    reader = MetricsReader(path)
    reader.poll()
    first = line(1)
    with open(path, "r+b") as f:
        f.write(b"x" * (len(first) - 1))
    append(path, line(3))
    assert [r["step"] for r in reader.poll()[0]] == [3]
    assert [r["step"] for r in reader.records] == [1, 2, 3]
    assert [r["step"] for r in read_records(path)] == [2, 3]  # a full read does see the junk


def test_a_partial_last_line_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    whole = line(7, 0.25)
    append(path, line(6) + whole[:10])
    reader = MetricsReader(path)
    assert [r["step"] for r in reader.poll()[0]] == [6]
    append(path, whole[10:-1])
    assert reader.poll() == ([], False)
    append(path, b"\n")
    (record,) = reader.poll()[0]
    assert record == {"type": RecordType.STEP, "step": 7, "train_loss": 0.25, "epoch": 0.07}


def test_a_rewritten_or_shortened_file_is_read_from_the_start(tmp_path: Path) -> None:
    run = RunStore(tmp_path / "runs").create(TrainConfig())
    run.append_metrics([{"type": "step", "step": s, "train_loss": 1.0} for s in (10, 20, 30)])
    reader = run.metrics_reader()
    reader.poll()
    run.truncate_metrics(after_step=20)  # what a resumed run does: a new file, atomically
    new, reset = reader.poll()
    assert reset and [r["step"] for r in new] == [10, 20] == [r["step"] for r in reader.records]
    (run.path / "metrics.jsonl").write_bytes(line(5))  # same file, shorter
    new, reset = reader.poll()
    assert reset and [r["step"] for r in reader.records] == [5]
    (run.path / "metrics.jsonl").unlink()
    assert reader.poll() == ([], True) and reader.records == []


def test_an_overlong_line_is_skipped_even_when_it_arrives_in_pieces(tmp_path: Path,
                                                                   monkeypatch) -> None:
    monkeypatch.setattr(metrics, "MAX_LINE_BYTES", 100)
    path = tmp_path / "metrics.jsonl"
    reader = MetricsReader(path)
    append(path, line(1) + b'{"type": "step", "step": 2, "pad": "' + b"y" * 150)
    assert [r["step"] for r in reader.poll()[0]] == [1]
    append(path, b"z" * 150 + b'"}\n' + line(3))
    assert [r["step"] for r in reader.poll()[0]] == [3]


def test_a_huge_file_is_read_from_near_its_end(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(metrics, "MAX_READ_BYTES", 1000)
    path = tmp_path / "metrics.jsonl"
    append(path, b"".join(line(s) for s in range(1, 201)))
    steps = [r["step"] for r in read_records(path)]
    assert steps == list(range(steps[0], 201)) and 190 > len(steps) > 5


def test_the_reader_follows_a_real_training_run(tmp_path: Path) -> None:
    run = RunStore(tmp_path / "runs").create(TrainConfig(
        dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=2, log_every=3))
    reader = run.metrics_reader()
    polled = []
    state, _ = train_run(run, run_config(run), echo=lambda record: polled.extend(reader.poll()[0]))
    polled.extend(reader.poll()[0])
    assert state == "done" and polled == run.metrics() == reader.records
    assert [r["epoch"] for r in polled if r["type"] == RecordType.EPOCH] == [1, 2]
