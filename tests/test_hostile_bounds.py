"""Hangs and unbounded resources: a model too large to build, a FIFO or /dev/zero where a file is
expected, JSON nested 100,000 deep, an ONNX graph that would allocate GiBs, and finished
training processes left as zombies. Each is refused in one line, quickly, before it costs."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.errors import UserError
from core.io.files import json_depth, load_json_file, loads, open_regular
from core.models import build_model, measure_model
from core.runs.jobs import core_command, spawn
from core.runs.store import open_store
from core.training import checkpoint
from core.training.config import TrainConfig
from tests.hostile import REPO, assert_one_line
from tests.polling import wait_for

TINY = dict(dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=1,
            batch_size=64, lr=1e-2, schedule="none", log_every=5)


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1]) / 1024


# -- model size ------------------------------------------------------------------------------
HUGE = [
    ("mlp", {"hidden": [65536, 65536]}, "parameters; the limit is 64,000,000"),
    ("mlp", {"hidden": [60000000]}, "asks for 60,000,000, more than the limit of 16,777,216"),
    ("cnn", {"channels": [20000]}, "values per image"),
    ("mlp", {"hidden": [8] * 1000}, "lists 1,000 entries; the limit is 64"),
    ("conv_ae", {"channels": [4096, 4096]}, "the limit is"),
]


@pytest.mark.parametrize("model, params, problem", HUGE, ids=[str(p)[:30] for _, p, _ in HUGE])
def test_a_huge_model_is_refused_before_anything_is_built(model, params, problem) -> None:
    before, started = _rss_mib(), time.monotonic()
    for call in (measure_model, build_model):
        with pytest.raises(UserError) as caught:
            call(model, (1, 28, 28), 10, params)
        assert_one_line(str(caught.value), problem)
    assert time.monotonic() - started < 60  # shapes only (torch's first meta call imports a lot)
    assert _rss_mib() - before < 200  # nothing of the model's size was allocated


def test_every_registered_model_at_its_usual_sizes_is_within_the_bounds() -> None:
    from core.models import MODELS

    for name in MODELS:
        for shape in ((1, 28, 28), (3, 32, 32)):
            size = measure_model(name, shape, 10)
            model = build_model(name, shape, 10)
            assert size.parameters == sum(p.numel() for p in model.parameters())
            assert 0 < size.activations_per_image


@pytest.mark.parametrize("args, problem", [
    (["--param", "hidden=[60000000]"], "more than the limit of 16,777,216"),
    (["--param", "hidden=[65536, 65536]"], "the limit is 64,000,000"),
    (["--model", "cnn", "--param", "channels=[20000]"], "at batch size 64 would need about 1.7 GiB"),
    (["--model", "default_cnn", "--batch-size", "65536"], "the limit is 1.5 GiB"),
], ids=["60M", "65536x2", "channels", "batch"])
def test_the_cli_refuses_a_huge_model_in_one_line_without_a_run_folder(settings, capsys, args,
                                                                      problem) -> None:
    code = main(["train", "--model", "mlp", "--epochs", "1", *args])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("error: ")
    assert_one_line(err, problem)
    assert not settings.runs_dir.exists() or not any(settings.runs_dir.iterdir())


def test_a_checkpoint_whose_config_asks_for_a_huge_model_is_refused(tmp_path) -> None:
    config = TrainConfig(**{**TINY, "model_params": {"hidden": [65536, 65536]}})
    path = tmp_path / "best.pt"
    torch.save({"config": config.to_dict(), "model": {}, "in_shape": [1, 8, 8],
                "classes": [str(i) for i in range(10)]}, path)
    before = _rss_mib()
    with pytest.raises(UserError) as caught:
        checkpoint.model_from_checkpoint(checkpoint.load(path))
    assert_one_line(str(caught.value), "the limit is 64,000,000")
    assert _rss_mib() - before < 200


def test_the_train_page_refuses_huge_sizes_without_building_them(settings) -> None:
    from tests.apptest_helpers import open_page

    at = open_page("train")
    at.selectbox(key="train_model").set_value("mlp").run()
    before = _rss_mib()
    at.text_input(key="arch_hidden").set_value("65536, 65536").run()
    assert not at.exception
    assert next(b for b in at.button if b.label == "Train").disabled
    assert any("the limit is 64,000,000" in w.value for w in at.warning), [w.value for w in at.warning]
    assert _rss_mib() - before < 500  # the model would be 17 GB


# -- uploads ----------------------------------------------------------------------------------
def test_uploads_are_bounded_per_file_where_they_arrive() -> None:
    import tomllib

    for path in (REPO / ".streamlit" / "config.toml", REPO / "dashboard" / "streamlit.toml"):
        assert tomllib.loads(path.read_text())["server"]["maxUploadSize"] == 200  # MB, per file


class _Unreadable(io.BytesIO):
    """An upload that says how large it is; reading it would fail the test."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def read(self, *args):
        raise AssertionError("read before the total was checked")


def test_uploads_over_the_total_are_refused_before_any_is_read(tmp_path) -> None:
    from core.predict.uploads import save_uploads

    files = [(f"{i}.png", _Unreadable(900 << 20)) for i in range(3)]
    with pytest.raises(UserError) as caught:
        save_uploads(files, tmp_path / "uploads")
    assert_one_line(str(caught.value), "add up to more than 1024 MiB (2,700.0 MiB)")
    assert not (tmp_path / "uploads").exists()


def test_uploaded_files_are_streamed_to_disk(tmp_path) -> None:
    from core.predict.uploads import save_uploads

    content = os.urandom(3 << 20)
    folder = save_uploads([("a.png", io.BytesIO(content)), ("b.png", content)], tmp_path / "up")
    assert (folder / "a.png").read_bytes() == content == (folder / "b.png").read_bytes()
    assert save_uploads([("a.png", io.BytesIO(content)), ("b.png", content)], tmp_path / "up") == folder


# -- regular files only ----------------------------------------------------------------------
def _fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def _zero(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.symlink_to("/dev/zero")


def test_open_regular_refuses_fifos_devices_and_folders_at_once(tmp_path) -> None:
    _fifo(tmp_path / "fifo")
    _zero(tmp_path / "zero")
    (tmp_path / "folder").mkdir()
    (tmp_path / "ok.json").write_text('{"a": 1}')
    started = time.monotonic()
    for name, kind in (("fifo", "a FIFO"), ("zero", "a device"), ("folder", "a folder")):
        with pytest.raises(UserError) as caught:
            open_regular(tmp_path / name, 100)
        assert_one_line(str(caught.value), name, kind)
    assert time.monotonic() - started < 2
    assert load_json_file(tmp_path / "ok.json", 100) == {"a": 1}
    with pytest.raises(UserError, match="larger than 4 bytes"):
        open_regular(tmp_path / "ok.json", 4)


@pytest.fixture
def trained(finished_run_folder: Path) -> Path:
    """One finished run folder (tests/conftest.py), copied into each test's workspace."""
    return finished_run_folder


@pytest.fixture
def run(trained: Path, settings):
    shutil.copytree(trained, settings.runs_dir / trained.name)
    return open_store(settings).get(trained.name)


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=os.environ.copy())


@pytest.mark.parametrize("name, damage", [
    ("best.pt", _fifo), ("best.pt", _zero), ("config.json", _fifo),
], ids=["best-fifo", "best-dev-zero", "config-fifo"])
def test_a_fifo_or_device_in_a_run_is_one_line_not_a_hang(run, name, damage) -> None:
    damage(run.path / name)
    started = time.monotonic()
    out = _cli("evaluate", run.id, timeout=120)  # a hang here fails with TimeoutExpired
    assert time.monotonic() - started < 60
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert_one_line(out.stderr.strip(), "error: ")


def test_the_runs_page_lists_a_run_with_fifos_in_it(run, settings) -> None:
    from tests.apptest_helpers import open_page

    for name in ("status.json", "metrics.jsonl", "best.pt", "train.lock"):
        _fifo(run.path / name)
    started = time.monotonic()
    at = open_page("runs", timeout=120)
    assert not at.exception
    assert time.monotonic() - started < 100


def test_train_config_from_a_fifo_is_one_line(tmp_path) -> None:
    _fifo(tmp_path / "config.json")
    out = _cli("train", "--config", str(tmp_path / "config.json"), timeout=60)
    assert out.returncode == 2
    assert_one_line(out.stderr.strip(), "config.json cannot be read: it is a FIFO")


def test_a_dataset_cache_with_a_fifo_meta_is_reloaded(settings) -> None:
    from core.data.dataset import load_dataset

    ds = load_dataset("digits", settings)
    metas = list(settings.workspace.rglob("meta.json"))
    assert metas
    for meta in metas:
        _fifo(meta)
    again = load_dataset("digits", settings)  # would block forever on the FIFO
    assert len(again.labels) == len(ds.labels)


# -- JSON depth --------------------------------------------------------------------------------
DEEP = "[" * 100_000 + "]" * 100_000


def test_json_depth_is_linear_and_ignores_brackets_in_strings() -> None:
    assert json_depth('{"a": "[[[[", "b": [1, {"c": []}]}') == 4
    assert json_depth('["\\"]]]"]') == 1
    assert json_depth(DEEP) == 100_000
    with pytest.raises(UserError, match="nests 100,000 levels deep; the limit is 64"):
        loads(DEEP, "the manifest")


@pytest.mark.parametrize("args", [
    ["train", "--epochs", "1", "--param", f"hidden={DEEP}"],
    ["train", "--epochs", "1", "--loss-param", f"beta={DEEP}"],
    ["train", "--epochs", "1", "--dataset", '{"source": "digits", "x": ' + DEEP[99_000:-99_000] + "}"],
], ids=["param", "loss-param", "spec"])
def test_deeply_nested_values_are_one_line(settings, capsys, args) -> None:
    code = main(args)
    _, err = capsys.readouterr()
    assert code == 2
    assert_one_line(err, "levels deep; the limit is 64")


def test_deeply_nested_files_are_one_line(settings, tmp_path, capsys, run) -> None:
    (tmp_path / "config.json").write_text('{"model_params": {"x": ' + DEEP + "}}")
    assert main(["train", "--config", str(tmp_path / "config.json")]) == 2
    assert_one_line(capsys.readouterr().err, "levels deep; the limit is 64")
    (run.path / "config.json").write_text(json.dumps({"a": 1})[:-1] + ', "b": ' + DEEP + "}")
    assert main(["evaluate", run.id]) == 2
    assert_one_line(capsys.readouterr().err, "levels deep; the limit is 64")


def test_a_bundle_manifest_nested_deep_or_a_fifo_is_one_line(tmp_path) -> None:
    from core.predict.bundle import read_manifest

    (tmp_path / "manifest.json").write_text('{"format": "smalldl-bundle", "x": ' + DEEP + "}")
    with pytest.raises(UserError) as caught:
        read_manifest(tmp_path)
    assert_one_line(str(caught.value), "manifest.json nests 100,001 levels deep; the limit is 64")
    _fifo(tmp_path / "manifest.json")
    with pytest.raises(UserError) as caught:
        read_manifest(tmp_path)
    assert_one_line(str(caught.value), "manifest.json cannot be read: it is a FIFO")


# -- ONNX bundles ------------------------------------------------------------------------------
def _onnx_graph(nodes, out_shape, inputs_shape=(None, 1, 8, 8)):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    batch = ["batch" if d is None else d for d in inputs_shape]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, batch)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(), onnx


def test_an_onnx_graph_that_would_allocate_gibs_is_refused_before_it_runs() -> None:
    from onnx import helper

    from core.predict.model_files import check_onnx

    shape = helper.make_tensor("shape", 7, [2], [1 << 16, 1 << 16])  # 4 G values from nothing
    nodes = [helper.make_node("Constant", [], ["s"], value=shape),
             helper.make_node("ConstantOfShape", ["s"], ["y"])]
    data, _ = _onnx_graph(nodes, None)
    with pytest.raises(UserError) as caught:
        check_onnx(data, "forward.onnx", (1, 8, 8))
    assert_one_line(str(caught.value), "forward.onnx", "refused")
    identity, _ = _onnx_graph([helper.make_node("Relu", ["x"], ["y"])], ["batch", 1, 8, 8])
    assert check_onnx(identity, "forward.onnx", (1, 8, 8)) == ((1, 8, 8), 64)
    with pytest.raises(UserError, match=r"takes inputs of shape \[1, 8, 8\], but the manifest says \[3, 8, 8\]"):
        check_onnx(identity, "forward.onnx", (3, 8, 8))
    unknown, _ = _onnx_graph([helper.make_node("NonZero", ["x"], ["n"]),
                              helper.make_node("Cast", ["n"], ["y"], to=1)], None)
    with pytest.raises(UserError, match="not known before running it"):
        check_onnx(unknown, "forward.onnx", (1, 8, 8))


# -- zombies -----------------------------------------------------------------------------------
def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None  # reaped: gone entirely


def test_a_finished_job_is_reaped_not_left_a_zombie(settings, tmp_path) -> None:
    pid = spawn(core_command("sources"), settings, tmp_path / "log.txt")
    wait_for(lambda: _state(pid) is None, timeout=60)  # a zombie stays in /proc with state Z
