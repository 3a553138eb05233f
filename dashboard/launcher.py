"""The `smalldl` command: `smalldl app` opens the dashboard, anything else is `python -m core`.

    smalldl app [--server.port 8502]      the dashboard (Streamlit), with the project's server
                                          settings (dashboard/streamlit.toml) passed as flags
    smalldl train --model conv_ae ...     the same as `python -m core train ...`
"""
from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER_CONFIG = HERE / "streamlit.toml"


def streamlit_flags(config_path: Path = SERVER_CONFIG) -> list[str]:
    """The settings file as `--section.option=value` flags: the same settings wherever the app
    is started from (Streamlit itself only reads ./.streamlit/config.toml)."""
    config = tomllib.loads(config_path.read_text())
    flags = []
    for section, options in config.items():
        for name, value in options.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            flags.append(f"--{section}.{name}={text}")
    return flags


def app_command(extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(HERE / "app.py"),
            *streamlit_flags(), *extra]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["app"]:
        command = app_command(argv[1:])
        os.execv(command[0], command)
    from core.cli import main as core_main

    return core_main(argv, prog="smalldl")


if __name__ == "__main__":
    sys.exit(main())
