"""Issue 22: the Anomaly CSV of a folder dataset names each image's file (it had row indices
only), through the class subset, the train/test layout and the workspace cache."""
from __future__ import annotations

import numpy as np

from core.anomaly.decisions import decisions_frame
from core.anomaly.scores import AnomalyScores
from core.data.dataset import load_dataset
from core.data.sources.folder import read_image
from core.data.spec import DatasetSpec
from core.data.splits import SPLITS, AnomalySplit
from tests import data_writers as dw


def test_the_decisions_csv_names_each_images_file(settings, data_root) -> None:
    root = data_root / "parts"
    dw.write_image_folder(root, classes=("good", "other", "scratch"), n_per_class=6,
                          with_train_test=True, corrupt=True, stray_text=True)
    spec = DatasetSpec(source="folder", root=str(root.resolve()), size=16, mode="L",
                       classes=("good", "scratch"), val_fraction=0.25)
    for attempt in range(2):  # the load, then the same from the workspace cache
        ds = load_dataset(spec, settings)
        assert ds.from_cache == (attempt == 1)
        assert ds.files is not None and len(ds.files) == len(ds.images)
        for row in range(len(ds.images)):  # each name is the file the row was decoded from
            assert np.array_equal(read_image(root / ds.files[row], "L", 16), ds.images[row])
        assert all(f.split("/")[1] == ds.classes[c] for f, c in zip(ds.files, ds.labels))

    rows = np.flatnonzero(np.isin(ds.split, [SPLITS.index("val"), SPLITS.index("test")]))
    is_anomaly = ds.labels[rows] == 1
    a = AnomalyScores(rows, np.asarray(SPLITS)[ds.split[rows]], ds.labels[rows], is_anomaly,
                      {"mse": np.linspace(0, 1, len(rows))}, AnomalySplit(("good",), ("scratch",)),
                      True)
    frame = decisions_frame(a, "mse", 0.5, ds.classes, ds.files)
    assert list(frame.columns[:3]) == ["index", "file", "split"]
    assert frame["file"].tolist() == [ds.files[i] for i in frame["index"]]
    assert all(name.startswith(("train/", "test/")) for name in frame["file"])
    assert "file" not in decisions_frame(a, "mse", 0.5, ds.classes).columns  # digits: no files


def test_built_in_sets_have_no_files(settings) -> None:
    assert load_dataset("digits", settings).files is None
