"""Shared fixtures: a private workspace and data root per test, so tests never share caches."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from core.settings import Settings


def pytest_configure(config):
    _one_numba_cache(config)
    _share_the_cores()


def _one_numba_cache(config) -> None:
    """One numba cache for the whole session (workers, app servers and jobs inherit it): umap's
    and pynndescent's functions take 20-30 s of a core to compile, and each test's workspace
    would otherwise compile them again (core.latent.warmup.numba_dir follows NUMBA_CACHE_DIR).
    Fresh per session, so every session still compiles them once, as a new user's first UMAP
    does; removed at the end."""
    if os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("NUMBA_CACHE_DIR"):
        return
    folder = tempfile.mkdtemp(prefix="dash-tests-numba-")
    os.environ["NUMBA_CACHE_DIR"] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def _share_the_cores() -> None:
    """Under N parallel workers (./run.sh test) each worker, and every job and app server it
    starts, takes its share of the cores, as jobs in one workspace do (core.runs.threads): each
    test has a workspace of its own, so without this every training process of every worker
    would believe it had all the cores, and two workers' OpenMP threads would spin against each
    other's."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if workers <= 1 or "DASH_JOB_CORES" in os.environ:
        return
    from core.runs.threads import THREAD_ENV, machine_cores

    share = max(1, machine_cores() // workers)
    os.environ["DASH_JOB_CORES"] = str(share)
    for name in THREAD_ENV:
        os.environ.setdefault(name, str(share))
    import torch

    torch.set_num_threads(share)


@pytest.fixture(autouse=True)
def _keep_main_module():
    """AppTest runs a page as the process's __main__ and leaves it there; a process pool started
    later in the same test process (folder decoding under a forkserver) would re-run that page
    script in each worker (an AppTest.from_function script fails there: no __args). Each test
    gets back the __main__ it started with."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def _no_background_projections(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Latent page opened by a test does not start UMAP and t-SNE in the background: nobody
    waits for them, and they went on computing (a minute of a core each) long after the test
    that opened the page had ended. tests/test_latent_page.py turns them on where it tests them;
    the browser tests' app servers (started before any test's patch) keep the product default."""
    monkeypatch.setenv("DASH_AUTO_PROJECTIONS", "0")


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def settings(tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for core calls; the same values in the environment for pages and subprocesses."""
    workspace = tmp_path / "workspace"
    monkeypatch.setenv("DASH_WORKSPACE", str(workspace))
    monkeypatch.setenv("DASH_DATA_ROOTS", str(data_root))
    return Settings.from_env()


def pytest_xdist_make_scheduler(config, log):
    """Under `pytest -n N --dist loadgroup` (./run.sh test): the browser tests run one after
    another on one worker (one app server, one Chromium), and every other test goes to whichever
    worker is free, so a file of slow tests (sweeps, CLI runs) is shared out instead of ending
    alone. A scheduler of our own: xdist 3.8's loadgroup reads `xdist_group` marks into node ids
    in a way pytest 9 ignores, so every browser test ran on both workers at once (two Chromiums
    and app servers competing for two cores)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "browser" if nodeid.startswith("tests/e2e/") else nodeid

    return BrowserTestsTogether(config, log)


TINY_RUN = dict(dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=1,
                batch_size=64, lr=1e-2, schedule="none", log_every=5)


@pytest.fixture(scope="session")
def finished_run_folder(tmp_path_factory) -> Path:
    """One finished run folder (best.pt, last.pt, metrics) of TINY_RUN, trained once per test
    process; tests copy it into their own workspace before touching it."""
    from core.runs.store import RunStore
    from core.training.config import TrainConfig, run_config
    from core.training.runner import train_run

    store = RunStore(tmp_path_factory.mktemp("trained") / "runs")
    run = store.create(TrainConfig(**TINY_RUN))
    state, _ = train_run(run, run_config(run))
    assert state == "done"
    return run.path

