"""Shared checks of the hostile-input tests: one clear line, bounded memory, nothing left over."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAX_PEAK_MIB = 1536  # "below 1.5 GB" for the bomb cases


def assert_one_line(message: str, *must_contain: str) -> None:
    """A message a user can act on: one line, naming what it must name."""
    assert message and "\n" not in message.strip(), f"not one line: {message!r}"
    assert "Traceback" not in message, message
    for part in must_contain:
        assert part in message, f"{part!r} missing from {message!r}"


def tree(folder: Path) -> set[str]:
    """Every path under folder, relative, for 'nothing else was written' checks."""
    return {str(p.relative_to(folder)) for p in Path(folder).rglob("*")}


def load_in_subprocess(spec: str, workspace: Path, data_root: Path,
                       timeout: float = 300) -> dict:
    """load_dataset(spec) in a fresh Python: {"error": message or None, "peak_mib": peak RSS,
    "n": images loaded}. The peak is the child's own high-water mark (VmHWM), taken after the
    load: ru_maxrss would not do, Linux carries the parent's peak across exec (a pytest process
    at 1.5 GB made every child report 1.5 GB)."""
    code = textwrap.dedent(f"""
        import json
        from core.data.dataset import load_dataset
        from core.errors import UserError
        out = {{"error": None, "n": 0}}
        try:
            ds = load_dataset({spec!r})
            out["n"] = int(len(ds.labels))
        except UserError as exc:
            out["error"] = str(exc)
        with open("/proc/self/status") as status:
            hwm = next(line for line in status if line.startswith("VmHWM:"))
        out["peak_mib"] = int(hwm.split()[1]) / 1024  # kB
        print(json.dumps(out))
    """)
    env = {**os.environ, "DASH_WORKSPACE": str(workspace), "DASH_DATA_ROOTS": str(data_root)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
