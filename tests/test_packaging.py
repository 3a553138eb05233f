"""Packaging: one list of dependencies, the smalldl command, and a lint the code passes."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from dashboard.launcher import app_command, main, streamlit_flags

REPO = Path(__file__).resolve().parent.parent


def _requirements() -> list[str]:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_requirements_txt_lists_what_pyproject_declares() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert sorted(_requirements()) == sorted(project["dependencies"])
    assert project["scripts"]["smalldl"] == "dashboard.launcher:main"


def test_the_app_command_carries_the_server_settings() -> None:
    flags = streamlit_flags()
    assert "--server.address=localhost" in flags
    assert "--browser.gatherUsageStats=false" in flags
    command = app_command(["--server.port", "8600"])
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("dashboard/app.py")
    assert command[-2:] == ["--server.port", "8600"]
    # .streamlit/config.toml (read by a plain `streamlit run`) is that same file
    assert (REPO / ".streamlit/config.toml").resolve() == (REPO / "dashboard/streamlit.toml")


def test_smalldl_passes_other_commands_to_the_core_cli(capsys) -> None:
    assert main(["sources"]) == 0
    assert "digits" in capsys.readouterr().out
    assert main(["train", "--help"]) == 0  # the status, returned like any command's
    assert "--batch-size" in capsys.readouterr().out


def test_ruff_passes() -> None:
    """requirements-dev.txt installs ruff next to this Python."""
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:]
