"""Any Optuna storage URL holds a sweep's study: two `sweep work` processes share an RDB
(SQLite here; PostgreSQL takes the same URL form) or a Redis journal and run every grid point
once. The Redis case runs where a redis-server binary and the `redis` client package exist."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess

import pytest

from core.runs.store import RunStore
from tests.polling import wait_for
from tests.test_sweeps import _create, _status, _work


def _two_workers_run_each_point_once(settings, storage: str) -> None:
    sweep_id = _create("--grid", "lr=0.001,0.003,0.01", "--epochs", "1", "--storage", storage)
    workers = [_work(sweep_id, "--parallel", "1") for _ in range(2)]
    try:
        for proc in workers:
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
    trials = _status(sweep_id)["trials"]
    points = [json.dumps(t["params"], sort_keys=True) for t in trials if t["state"] == "complete"]
    assert len(points) == 3 and len(set(points)) == 3  # every point once, none twice
    assert len(RunStore(settings.runs_dir).list()) == 3  # nothing trained twice
    assert not (settings.workspace / "sweeps" / sweep_id / "journal.log").exists()  # all in the URL's storage


def test_two_workers_share_a_sqlite_study(settings, tmp_path) -> None:
    _two_workers_run_each_point_once(settings, f"sqlite:///{tmp_path / 'study.db'}")


def test_two_workers_share_a_redis_journal(settings, tmp_path) -> None:
    pytest.importorskip("redis", reason="the redis client package is not installed")
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server binary on PATH")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_for(up, timeout=30, every=0.1)
        _two_workers_run_each_point_once(settings, f"redis://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
