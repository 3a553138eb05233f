"""The one atomic writer writes over what is ours only: a regular file or a new name is replaced by
rename; a device, a FIFO or the process's own stdout is written in place; a folder, or a link that
leads out of its folder, is refused in one line. Real device nodes, FIFOs and links; the CLI
writes its CSVs through the same writer."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.cli import main
from core.errors import UserError
from core.io.atomic import atomic_path, write_json, write_target, write_text
from tests.hostile import REPO, assert_one_line


def _is_char_device(path) -> bool:
    return stat.S_ISCHR(os.lstat(path).st_mode)


@pytest.fixture
def null_device(tmp_path) -> Path:
    """A node of /dev/null's device (1, 3) in the test's folder: a writer that renamed over it
    would replace this one, never the machine's /dev/null."""
    node = tmp_path / "dev" / "null"
    node.parent.mkdir()
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (or CAP_MKNOD)")
    return node


def test_a_device_stays_a_device(null_device) -> None:
    write_text(null_device, "a,b\n1,2\n")
    write_json(null_device, {"a": 1})
    assert _is_char_device(null_device) and os.listdir(null_device.parent) == ["null"]
    with pytest.raises(UserError, match="not a regular file"):
        with atomic_path(null_device):
            pass
    assert _is_char_device(null_device) and os.listdir(null_device.parent) == ["null"]


def test_this_process_streams_are_written_in_place() -> None:
    for name in ("/dev/stdout", "/dev/stderr", "/dev/fd/1", "/proc/self/fd/2"):
        assert write_target(Path(name)) == (True, Path(name))
    assert write_target(Path("/dev/null")) == (True, Path("/dev/null"))


def test_a_fifo_is_streamed_to_its_reader(tmp_path) -> None:
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    try:
        for _ in range(2000):  # the reader must hold the FIFO open before a writer may open it
            try:
                write_text(fifo, "x" * 200_000)  # more than a pipe holds: the writer must block
                break
            except UserError as exc:
                assert "no process is reading it" in str(exc)
                reader.join(0.005)
        else:
            pytest.fail("the reader never opened the FIFO")
    finally:
        reader.join(30)
    assert got == [b"x" * 200_000] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_fifo_nobody_reads_is_one_line_not_a_hang(tmp_path) -> None:
    os.mkfifo(tmp_path / "out.csv")
    with pytest.raises(UserError) as err:
        write_text(tmp_path / "out.csv", "a\n")
    assert_one_line(str(err.value), "no process is reading it")


def test_a_folder_is_one_clear_error(tmp_path) -> None:
    (tmp_path / "out.csv").mkdir()
    (tmp_path / "out.csv" / "keep").write_text("mine")
    with pytest.raises(UserError) as err:
        write_text(tmp_path / "out.csv", "a\n")
    assert_one_line(str(err.value), "is a folder")
    assert (tmp_path / "out.csv" / "keep").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="is a folder"):
        write_text(tmp_path / "empty", "a\n")
    assert (tmp_path / "empty").is_dir()


def test_links_are_followed_only_inside_their_folder(tmp_path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.csv").symlink_to(outside)
    with pytest.raises(UserError) as err:
        write_text(out / "report.csv", "a\n")
    assert_one_line(str(err.value), "outside")
    assert outside.read_text() == "not yours" and (out / "report.csv").is_symlink()
    (out / "real.csv").write_text("old")
    (out / "latest.csv").symlink_to("real.csv")
    write_text(out / "latest.csv", "new")  # inside its folder: the file it names is replaced
    assert (out / "latest.csv").is_symlink() and (out / "real.csv").read_text() == "new"
    write_text(out / "fresh.csv", "a")
    assert (out / "fresh.csv").read_text() == "a" and sorted(p.name for p in out.iterdir()) == [
        "fresh.csv", "latest.csv", "real.csv", "report.csv"]


def test_disputable_csv_to_a_folder_is_one_line(capsys, tmp_path) -> None:
    (tmp_path / "table.csv").mkdir()
    code = main(["disputable", "digits-classifier", "--csv", str(tmp_path / "table.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert_one_line(err, "error:", "is a folder")


def test_predict_csv_to_a_device_and_a_folder(tmp_path, settings, capsys, null_device) -> None:
    folder = _two_images(tmp_path)
    assert main(["predict", "digits-classifier", str(folder), "--csv", str(null_device)]) == 0
    assert "2 images" in capsys.readouterr().out and _is_char_device(null_device)
    (tmp_path / "out.csv").mkdir()
    assert main(["predict", "digits-classifier", str(folder), "--csv", str(tmp_path / "out.csv")]) == 2
    assert_one_line(capsys.readouterr().err, "error:", "is a folder")


def _two_images(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "new"
    folder.mkdir()
    Image.new("L", (8, 8), 0).save(folder / "a.png")
    Image.new("L", (8, 8), 200).save(folder / "b.png")
    return folder


def test_predict_csv_to_dev_stdout_lands_where_stdout_points(tmp_path, settings) -> None:
    """A subprocess whose stdout is a regular file: the CSV lands in that file, and so does what
    follows. /dev/fd/1 names it (a writer that renamed over it would fail inside /proc, where
    /dev/stdout would replace the machine's link); the same path as /dev/stdout, see above."""
    folder = _two_images(tmp_path)
    captured = tmp_path / "stdout.txt"
    with open(captured, "wb") as out:
        done = subprocess.run([sys.executable, "-m", "core", "predict", "digits-classifier",
                               str(folder), "--csv", "/dev/fd/1"], cwd=REPO, stdout=out,
                              stderr=subprocess.PIPE, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = captured.read_text().splitlines()
    assert lines[0].startswith("file,predicted,confidence") and len(lines) == 4
    assert lines[3].startswith("2 images")  # the summary line after the CSV, not over it


def test_names_that_cannot_be_files_are_one_line(tmp_path) -> None:
    (tmp_path / "plain").write_text("a file, not a folder")
    for bad, reason in ((tmp_path / "plain" / "out.csv", "Not a directory"), ("out\0.csv", "null byte")):
        with pytest.raises(UserError) as err:
            write_text(bad, "a\n")
        assert_one_line(str(err.value), "cannot write", reason)
    assert (tmp_path / "plain").read_text() == "a file, not a folder"
