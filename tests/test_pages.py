"""The app entry and the Data page, run for real through Streamlit's AppTest."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from streamlit.testing.v1 import AppTest

from tests import data_writers as dw

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
TIMEOUT = 60


def images_shown(at: AppTest) -> int:
    return sum(len(el.value) for el in at.get("image"))


def plotly_charts(at: AppTest) -> list:
    return at.get("plotly_chart")


@pytest.fixture
def data_page(settings) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("../pages/data.py").run()
    assert not at.exception, at.exception
    return at


def test_home_lists_the_pages(settings) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Deep learning on small images"
    assert "digits" in at.markdown[0].value
    assert any("Class balance" in c.value or "class" in c.value for c in at.caption)


def test_data_page_on_digits_shows_summary_chart_and_images(data_page: AppTest) -> None:
    at = data_page
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["train images"] == "1,295" and metrics["test images"] == "359"
    assert metrics["image size"] == "8 x 8 x 1" and metrics["classes"] == "10"
    (chart,) = plotly_charts(at)
    assert '"type":"bar"' in chart.proto.spec.replace(" ", "")
    assert images_shown(at) == 10 * 8  # 8 per class by default
    assert any("train 1.0x" in m.value for m in at.markdown)
    # pixel statistics of all 1,797 digits on the 0..255 scale, computed here from sklearn's copy
    x = np.rint(load_digits().images * (255 / 16))  # the source scales 0..16 counts to 0..255
    (table,) = [m.value for m in at.markdown if m.value.startswith("| channel |")]
    row = table.splitlines()[2].strip("| ").split(" | ")
    assert row[0] == "gray"
    assert [float(v) for v in row[1:]] == pytest.approx([x.mean(), x.std(), 0, 255], abs=0.006)


def test_widgets_change_what_is_shown(data_page: AppTest) -> None:
    at = data_page
    at.slider(key="sample_n").set_value(3).run()
    assert images_shown(at) == 10 * 3
    at.multiselect(key="sample_classes").set_value(["3", "5"]).run()
    assert images_shown(at) == 2 * 3
    headers = [m.value for m in at.markdown if " · " in m.value]
    assert headers[0].startswith("**3** · 183 images") and headers[1].startswith("**5** · 182")
    before = [el.captions for el in at.get("image")]
    next(b for b in at.button if b.label == "Reshuffle").click().run()
    assert [el.captions for el in at.get("image")] != before  # captions are image ids
    at.radio(key="sample_view").set_value("75 random").run()
    assert images_shown(at) == 75
    assert set(at.get("image")[0].captions) == {"3", "5"}  # the class filter still applies
    assert not at.exception


def test_class_subset_and_steps_from_the_sidebar(data_page: AppTest) -> None:
    at = data_page
    at.text_input(key="ds_classes").set_value("1,7").run()
    assert {m.label: m.value for m in at.metric}["classes"] == "2"
    at.multiselect(key="ds_steps").set_value(["resize:16", "invert"]).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["image size"] == "16 x 16 x 1"
    stage_headers = [m.value for m in at.markdown if m.value.startswith("**original**")
                     or m.value.startswith("**resize:16**") or m.value.startswith("**invert**")]
    assert len(stage_headers) == 3


def test_bad_input_gets_a_message_not_a_traceback(data_page: AppTest, data_root: Path) -> None:
    at = data_page
    at.text_input(key="ds_classes").set_value("3").run()
    assert not at.exception and "one class only" in at.error[0].value
    at.text_input(key="ds_classes").set_value("").run()
    at.selectbox(key="ds_source").set_value("mnist").run()
    at.text_input(key="ds_root_mnist").set_value("/etc").run()
    assert not at.exception and "outside the allowed data folders" in at.error[0].value
    at.text_input(key="ds_root_mnist").set_value(str(data_root)).run()
    assert "train-images-idx3-ubyte" in at.error[0].value
    assert any("Download MNIST" in b.label for b in at.button)


def test_image_folder_with_broken_files_lists_them(data_page: AppTest, data_root: Path) -> None:
    dw.write_image_folder(data_root / "cracks", n_per_class=5)
    at = data_page
    at.selectbox(key="ds_source").set_value("folder").run()
    at.text_input(key="ds_root_folder").set_value(str(data_root / "cracks")).run()
    assert not at.exception
    assert "2 files were skipped" in at.warning[0].value
    assert {m.label: m.value for m in at.metric}["classes"] == "2"


def test_steps_that_blank_images_are_warned_about_on_the_data_page(settings) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["dataset"] = "digits?steps=adaptive_threshold:11:-255"
    at.run()
    at.switch_page("../pages/data.py").run()
    assert not at.exception, at.exception
    shown = [w.value for w in at.warning]
    assert any("entirely black (0) of 1,797 images" in w for w in shown), shown
