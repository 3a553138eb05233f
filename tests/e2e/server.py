"""Start the Streamlit app and headless Chromium; shared by the e2e tests and tests/bench.

Nothing here needs pytest: the benchmarks import it as a plain module.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboard" / "app.py"
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PLOT = '.js-plotly-plot, [data-testid="stPlotlyChart"]'
IMAGES = '[data-testid="stImage"] img, [data-testid="stImageContainer"] img'
EXCEPTION = '[data-testid="stException"]'
METRIC = '[data-testid="stMetric"]'


def free_port() -> int:
    """A loopback port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    """A running `streamlit run` subprocess in its own process group, logging to a file."""

    proc: subprocess.Popen
    url: str
    log_path: Path
    _log: object = field(repr=False, default=None)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the whole process group; kill it if it does not exit in time."""
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log is not None:
            self._log.close()


def start_app(workspace: Path, log_path: Path, script: Path = APP, port: int | None = None,
              env: dict[str, str] | None = None) -> AppServer:
    """Launch `streamlit run script` on 127.0.0.1 (no waiting; see wait_healthy)."""
    port = port or free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "wb")
    full_env = {**os.environ, "DASH_WORKSPACE": str(workspace),
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env or {})}
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.headless", "true", "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    return AppServer(proc=proc, url=f"http://127.0.0.1:{port}", log_path=log_path, _log=log)


def wait_healthy(server: AppServer, timeout: float = 60.0) -> None:
    """Poll /_stcore/health until it answers "ok"; raise with the log if the server dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.proc.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(server.url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{server.url} not healthy after {timeout:.0f} s:\n{server.log_text()}")


def chromium_path() -> Path | None:
    return CHROMIUM if CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK) else None


def launch_browser(playwright):
    """Headless Debian Chromium with the flags this machine needs."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_data_page(page, min_images: int = 10, timeout_ms: int = 60_000) -> None:
    """Wait until the Data page shows metrics and a visible chart, no element is stale (left
    from a previous run) and every sample image, at least min_images, has loaded."""
    page.wait_for_selector(METRIC, state="visible", timeout=timeout_ms)
    page.wait_for_selector(PLOT, state="visible", timeout=timeout_ms)
    page.wait_for_function(
        """([sel, n]) => {
            if (document.querySelector('[data-stale="true"]')) return false;
            const imgs = Array.from(document.querySelectorAll(sel));
            return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0)
                && imgs.filter(i => i.offsetParent !== null).length >= n;
        }""",
        arg=[IMAGES, min_images], timeout=timeout_ms)


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def peak_rss_mib(pid: int) -> float:
    """Sum of VmHWM (peak resident set) over a process and its descendants, in MiB."""
    total_kib, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
        todo += _children(p)
    return total_kib / 1024


def full_page_screenshot(page, path: Path) -> Path:
    """Screenshot the whole app: Streamlit scrolls inside stMain, so grow the viewport first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    try:
        page.wait_for_timeout(200)  # let the layout settle at the new size
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    return path


def choose(page, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox; retried, as a click during a rerun can be lost."""
    for _ in range(5):
        page.get_by_role("combobox", name=label).click()
        choice = page.get_by_role("option", name=option, exact=True)
        try:
            choice.wait_for(state="visible", timeout=5_000)
        except Exception:
            page.keyboard.press("Escape")
            continue
        choice.click()
        return
    raise AssertionError(f"could not choose {option!r} in {label!r}")


def served_picture(page, base_url: str, selector: str):
    """The pixels (numpy array) of the picture the browser shows at selector, fetched from the
    server as the browser did."""
    import io

    import numpy as np
    from PIL import Image

    src = page.locator(selector).get_attribute("src")
    body = page.request.get(src if src.startswith("http") else base_url + src).body()
    return np.asarray(Image.open(io.BytesIO(body)))
