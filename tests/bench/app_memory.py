"""app_memory: peak RSS of the Streamlit server once /data shows the 60k MNIST set.

Per repeat, two fresh servers with empty workspaces: the baseline only renders /data with the
default digits; the measured one then switches the sidebar to MNIST and types the data root.
Peak RSS is VmHWM from /proc, summed over the server and any children.
"""
from __future__ import annotations

from pathlib import Path

from tests.bench.common import Figure, tmp_dir, write_mnist_60k
from tests.e2e import server as srv


def choose_mnist(page, root: Path) -> None:
    """Drive the sidebar: Source = MNIST, Folder = root, Enter; wait for the 60k set."""
    from playwright.sync_api import expect

    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]', has_text="Source").click()
    page.get_by_role("option", name="MNIST", exact=True).click()
    folder = sidebar.get_by_role("textbox", name="Folder")
    folder.fill(str(root))
    folder.press("Enter")
    expect(page.locator(srv.METRIC, has_text="train images")).to_contain_text("54,000",
                                                                            timeout=120_000)
    srv.wait_data_page(page, timeout_ms=120_000)


def _peak_rss(browser, tmp: Path, data_root: Path, mnist: bool) -> float:
    """MiB of peak RSS of a fresh server after /data rendered digits (and then MNIST)."""
    server = srv.start_app(workspace=tmp / "workspace", log_path=tmp / "streamlit.log",
                           env={"DASH_DATA_ROOTS": str(data_root)})
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        srv.wait_healthy(server, timeout=60)
        page = context.new_page()
        page.goto(server.url + "/data")
        srv.wait_data_page(page)
        if mnist:
            choose_mnist(page, data_root)
        return srv.peak_rss_mib(server.proc.pid)
    except Exception:
        print(server.log_text())
        raise
    finally:
        context.close()
        server.stop()


def app_memory(repeats: int) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    base = Figure("app_memory", "baseline: peak RSS, digits", unit="MiB")
    mnist = Figure("app_memory", "peak RSS, MNIST 60k+10k", unit="MiB", baseline=base.name)
    with sync_playwright() as p, tmp_dir("mem") as tmp:
        data_root = write_mnist_60k(tmp / "data")
        browser = srv.launch_browser(p)
        for i in range(repeats):
            base.values.append(_peak_rss(browser, tmp / f"digits{i}", data_root, mnist=False))
            mnist.values.append(_peak_rss(browser, tmp / f"mnist{i}", data_root, mnist=True))
        browser.close()
    return [mnist, base]
